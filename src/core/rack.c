/* RACK-TLP (RFC 8985): time-based loss detection and the tail loss probe,
 * with D-SACK (RFC 2883) widening the reordering window and undoing the
 * congestion response to retransmissions that proved spurious (RFC 3708's
 * D-SACK method, as Linux does). See rack.h for the contract and the hooks.
 *
 * RACK runs when SACK was negotiated (F_RACK): without SACK a cumulative
 * ACK cannot say which later segments arrived, so marking everything sent
 * before a delivered retransmission would resend what the peer holds; there
 * NewReno (recovery.c) stays in charge and only TLP is added.
 */
#include "core/stack.h"

#ifndef SF_NO_RACK /* the stubs in rack.h stand in for this file */

/* RFC 8985 §7.2: the worst-case delayed-ACK time assumed of the peer. */
#define WC_DELACK_US 200000u
/* RFC 8985 §6.2 step 4: reo_wnd_persist after a D-SACK grew the window. */
#define REO_PERSIST 16

static uint32_t now32(const sf_stack_t *st)
{
	return (uint32_t)(st->now_us - st->epoch_us);
}
/* Signed difference of two 32-bit stack times (valid within 35 minutes). */
static int32_t tdiff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

/* Our RFC 7323 timestamp value at stack time x (output.c's clock). */
static uint32_t ts_at(const sf_stack_t *st, uint32_t x)
{
	int64_t rel = (st->now_us - st->epoch_us) - (int64_t)(uint32_t)(now32(st) - x);
	return (uint32_t)(rel / 1000) + 1;
}

/* ---- the record array ---- */

static void rs_remove(sf_rack_t *r, uint8_t i, uint8_t n)
{
	for (uint8_t j = i; j + n < r->cnt; j++)
		r->seg[j] = r->seg[j + n];
	r->cnt -= n;
}

/* Opens a slot at index i (shifting the rest up); the caller ensures room. */
static void rs_open(sf_rack_t *r, uint8_t i)
{
	for (uint8_t j = r->cnt; j > i; j--)
		r->seg[j] = r->seg[j - 1];
	r->cnt++;
}

/* Merges records i and i + 1: the later send time, the union of RETX, LOST
 * and DELIVERED only when both are. The result is RS_MERGED: its parts may
 * have been delivered in any order, so it tells nothing of reordering. */
static void rs_merge(sf_rack_t *r, uint8_t i)
{
	sf_rseg_t *a = &r->seg[i], *b = &r->seg[i + 1];
	uint32_t both = a->flags & b->flags;
	a->end = b->end;
	if (tdiff(b->xmit, a->xmit) > 0)
		a->xmit = b->xmit;
	a->flags =
	        ((a->flags | b->flags) & RS_RETX) | (both & (RS_LOST | RS_DELIVERED)) | RS_MERGED;
	rs_remove(r, (uint8_t)(i + 1), 1);
}

/* Frees one slot. Two adjacent delivered records merge without losing
 * anything; otherwise the adjacent pair with the same flags sent closest
 * in time (a burst sent at one instant merges exactly); failing that the
 * two lowest. A merge can only delay a loss verdict (the later time wins). */
static void rs_make_room(sf_rack_t *r)
{
	uint8_t best = 0;
	uint32_t best_gap = UINT32_MAX;
	for (uint8_t i = 0; i + 1 < r->cnt; i++) {
		const sf_rseg_t *a = &r->seg[i], *b = &r->seg[i + 1];
		if (a->flags & b->flags & RS_DELIVERED) {
			rs_merge(r, i);
			return;
		}
		if ((a->flags & ~(uint32_t)RS_MERGED) != (b->flags & ~(uint32_t)RS_MERGED))
			continue;
		int32_t d = tdiff(b->xmit, a->xmit);
		uint32_t gap = d < 0 ? (uint32_t)-d : (uint32_t)d;
		if (gap < best_gap) {
			best_gap = gap;
			best = i;
		}
	}
	rs_merge(r, best);
}

/* Index of the undelivered record with start < seq < end, or cnt. */
static uint8_t rs_find_inside(const sf_rack_t *r, uint32_t seq)
{
	for (uint8_t i = 0; i < r->cnt; i++) {
		const sf_rseg_t *s = &r->seg[i];
		if (sf_seq_lt(s->start, seq) && sf_seq_lt(seq, s->end))
			return (s->flags & RS_DELIVERED) ? r->cnt : i;
	}
	return r->cnt;
}

/* Room for cutting the records around a and b: when either lies inside an
 * undelivered record and the array is nearly full, slots are freed first,
 * so that rs_make_room cannot undo the first cut to make room for the
 * second. */
static void rs_room_for_cuts(sf_rack_t *r, uint32_t a, uint32_t b)
{
	if (r->cnt <= SF_RACK_SEGS - 2 ||
	    (rs_find_inside(r, a) == r->cnt && rs_find_inside(r, b) == r->cnt))
		return;
	while (r->cnt > SF_RACK_SEGS - 2)
		rs_make_room(r);
}

/* Splits record i at seq (strictly inside it) when there is room. */
static bool rs_split(sf_rack_t *r, uint8_t i, uint32_t seq)
{
	if (r->cnt == SF_RACK_SEGS)
		return false;
	rs_open(r, (uint8_t)(i + 1));
	r->seg[i + 1] = r->seg[i];
	r->seg[i].end = seq;
	r->seg[i + 1].start = seq;
	return true;
}

static bool rack_on(const sf_tcb_t *t)
{
	return (t->flags & F_RACK) != 0;
}

/* SMSS for counting segments in byte ranges (536, RFC 9293 §3.7.1, before
 * one is known). */
static uint32_t smss(const sf_tcb_t *t)
{
	return t->snd_mss ? t->snd_mss : 536;
}

#define RS_BLOCK ((uint32_t)(SF_RACK_SEGS * sizeof(sf_rseg_t)))

/* The record block is held while a record is: taken for the first segment
 * in flight, put back when the last one is acknowledged. */
static bool rs_attach(sf_stack_t *st, sf_tcb_t *t)
{
	if (t->rack.seg)
		return true;
	t->rack.seg = sf_block_get(st, RS_BLOCK);
	if (t->rack.seg)
		return true;
	t->flags &= ~(uint32_t)F_RACK; /* no room in cfg.buf_budget: do without */
	return false;
}

void sf_rack_release(sf_stack_t *st, sf_tcb_t *t)
{
	if (t->rack.seg)
		sf_block_put(st, t->rack.seg, RS_BLOCK);
	t->rack.seg = NULL;
	t->rack.cnt = 0;
}

void sf_rack_on_send(sf_stack_t *st, sf_tcb_t *t, uint32_t seq, uint32_t len, uint8_t cause)
{
	sf_rack_t *r = &t->rack;
	if (cause != SF_RETX_NONE && (r->flags & RK_UNDO))
		r->undo_retrans++;
	if (!rack_on(t) || !len)
		return;
	uint32_t end = seq + len, now = now32(st);
	/* A resend inside a record cuts it in up to three: room for both cuts
	 * first. Without it a full array restamped the whole record, so the
	 * rest of a hole, never resent, looked just sent: RACK could not find
	 * it lost and the connection waited for the RTO (over a relay whose
	 * queue overflowed in slow start, once per 20 MB transfer, with 3,700
	 * segments in flight). */
	rs_room_for_cuts(r, seq, end);
	/* Bytes sent before: restamp the records they cover. */
	for (uint8_t i = 0; i < r->cnt; i++) {
		sf_rseg_t *s = &r->seg[i];
		if (sf_seq_le(s->end, seq) || sf_seq_ge(s->start, end))
			continue;
		if (sf_seq_lt(s->start, seq) && rs_split(r, i, seq))
			continue; /* the covered part is record i + 1, next round */
		s = &r->seg[i];
		if (sf_seq_gt(s->end, end))
			rs_split(r, i, end);
		s = &r->seg[i];
		s->xmit = now;
		s->flags = (s->flags | RS_RETX) & ~(uint32_t)(RS_LOST | RS_DELIVERED);
	}
	/* New bytes: one record at the top. */
	uint32_t top = r->cnt ? r->seg[r->cnt - 1].end : t->snd_una;
	if (sf_seq_lt(top, t->snd_una))
		top = t->snd_una;
	if (sf_seq_le(end, top) || !rs_attach(st, t))
		return;
	if (r->cnt == SF_RACK_SEGS)
		rs_make_room(r);
	r->seg[r->cnt++] = (sf_rseg_t){sf_seq_max(seq, top), end, now, 0};
}

/* ---- RACK (RFC 8985 §6.2) ---- */

static bool sent_after(uint32_t t1, uint32_t seq1, uint32_t t2, uint32_t seq2)
{
	return tdiff(t1, t2) > 0 || (t1 == t2 && sf_seq_gt(seq1, seq2));
}

/* Step 2, RACK_update, and step 3, reordering detection, for one record
 * newly delivered. */
static void deliver(sf_stack_t *st, sf_tcb_t *t, const sf_rseg_t *s, const sf_tcp_opts_t *opt)
{
	sf_rack_t *r = &t->rack;
	int32_t rtt = tdiff(now32(st), s->xmit);
	if (rtt < 0)
		rtt = 0;
	/* Step 3: an original delivered below RACK.fack arrived out of order.
	 * RACK.fack means something only once a segment has been delivered
	 * (RK_FACK): before that it holds 0, and comparing with it would call
	 * the first segment reordered whenever the ISS lies in the upper half
	 * of sequence space (it did, for half of all connections). */
	if ((r->flags & RK_FACK) && !(s->flags & (RS_RETX | RS_MERGED)) &&
	    sf_seq_lt(s->end, r->fack))
		r->flags |= RK_REORD;
	if (!(r->flags & RK_FACK) || sf_seq_gt(s->end, r->fack)) {
		r->fack = s->end;
		r->flags |= RK_FACK;
	}
	if (s->flags & RS_RETX) {
		/* An ACK of the original or of the retransmission? Taken for
		 * the original when its echo predates the resend, or when the
		 * RTT would be implausibly short. */
		if ((t->flags & F_TS_OK) && opt->has_ts && opt->ts_ecr &&
		    sf_seq_lt(opt->ts_ecr, ts_at(st, s->xmit)))
			return;
		if (r->min_rtt_us && (uint32_t)rtt < r->min_rtt_us)
			return;
	} else if (!r->min_rtt_us || (uint32_t)rtt < r->min_rtt_us) {
		r->min_rtt_us = rtt ? (uint32_t)rtt : 1;
	}
	r->rtt_us = (uint32_t)rtt;
	if (!(r->flags & RK_VALID) || sent_after(s->xmit, s->end, r->xmit, r->end_seq)) {
		r->xmit = s->xmit;
		r->end_seq = s->end;
		r->flags |= RK_VALID;
	}
}

/* Step 4: the reordering window. */
static uint32_t reo_wnd(const sf_tcb_t *t)
{
	const sf_rack_t *r = &t->rack;
	if (!(r->flags & RK_REORD)) {
		if (t->flags & F_IN_RECOVERY)
			return 0;
		/* Segments SACKed: a record may hold several (TSO, merges). */
		uint32_t sacked = 0, mss = smss(t);
		for (uint8_t i = 0; i < r->cnt; i++)
			if (r->seg[i].flags & RS_DELIVERED)
				sacked += (r->seg[i].end - r->seg[i].start + mss - 1) / mss;
		if (sacked >= 3) /* DupThresh */
			return 0;
	}
	uint64_t w = (uint64_t)(r->min_rtt_us / 4) * (r->reo_wnd_mult ? r->reo_wnd_mult : 1);
	if (t->srtt_us > 0 && w > (uint64_t)t->srtt_us)
		w = (uint64_t)t->srtt_us;
	return (uint32_t)w;
}

/* Step 5: marks lost what was sent before the newest delivered segment
 * and has waited RACK.rtt + reo_wnd; arms the reordering timer for the
 * rest. */
static bool detect(sf_stack_t *st, sf_tcb_t *t)
{
	sf_rack_t *r = &t->rack;
	if (!(r->flags & RK_VALID)) {
		sf_tcb_timer_clear(st, t, T_REO);
		return false;
	}
	uint32_t now = now32(st), wnd = reo_wnd(t);
	int32_t timeout = 0;
	bool lost = false;
	for (uint8_t i = 0; i < r->cnt; i++) {
		sf_rseg_t *s = &r->seg[i];
		if (s->flags & (RS_DELIVERED | RS_LOST))
			continue;
		if (!sent_after(r->xmit, r->end_seq, s->xmit, s->end))
			continue;
		int32_t remaining = tdiff(s->xmit + r->rtt_us + wnd, now);
		if (remaining <= 0) {
			s->flags |= RS_LOST;
			st->stats.rack_lost++;
			lost = true;
		} else if (remaining > timeout) {
			timeout = remaining;
		}
	}
	if (timeout)
		sf_tcb_timer_set(st, t, T_REO, st->now_us + timeout);
	else
		sf_tcb_timer_clear(st, t, T_REO);
	return lost;
}

/* True when the SACK scoreboard covers [l, r). */
static bool covered(const sf_tcb_t *t, uint32_t l, uint32_t r)
{
	for (const sf_range_t *x; sf_seq_lt(l, r) && (x = sf_ranges_find(&t->sacked, l));)
		l = x->right;
	return !sf_seq_lt(l, r);
}

/* RFC 8985 keeps its state per segment. A record can hold several: a TSO
 * super-segment sent at once, or records merged for room. When the peer
 * SACKs part of one, the record is cut at the block's edges so that part
 * counts as delivered (advancing RACK.xmit_ts, so what was sent before it
 * can be found lost); otherwise a super-segment with one segment missing
 * tells RACK nothing and only the probe or the RTO repairs it. Room for
 * both cuts is made first, so rs_make_room cannot undo the first cut. */
static void split_at_sacks(sf_tcb_t *t)
{
	sf_rack_t *r = &t->rack;
	for (uint16_t k = 0; k < t->sacked.cnt; k++) {
		const sf_range_t *x = &t->sacked.r[k];
		rs_room_for_cuts(r, x->left, x->right);
		uint8_t i = rs_find_inside(r, x->left);
		if (i < r->cnt)
			rs_split(r, i, x->left);
		i = rs_find_inside(r, x->right);
		if (i < r->cnt)
			rs_split(r, i, x->right);
	}
}

/* ---- undo (RFC 3708 §3.2 with D-SACK, as Linux's tcp_try_undo_dsack) ---- */

void sf_rack_episode_begin(sf_tcb_t *t, bool rto)
{
	sf_rack_t *r = &t->rack;
	r->prior_cwnd = t->cwnd;
	r->prior_ssthresh = t->ssthresh;
	r->undo_marker = t->snd_una;
	r->undo_retrans = 0;
	r->flags |= RK_UNDO;
	if (rto)
		r->flags |= RK_RTO;
	else
		r->flags &= ~(uint32_t)RK_RTO;
}

static void undo(sf_stack_t *st, sf_tcb_t *t)
{
	sf_rack_t *r = &t->rack;
	r->flags &= ~(uint32_t)RK_UNDO;
	if (t->cwnd < r->prior_cwnd)
		t->cwnd = r->prior_cwnd;
	if (t->ssthresh < r->prior_ssthresh)
		t->ssthresh = r->prior_ssthresh;
	t->flags &= ~(uint32_t)F_IN_RECOVERY;
	t->recover = t->snd_una;
	for (uint8_t i = 0; i < r->cnt; i++)
		r->seg[i].flags &= ~(uint32_t)RS_LOST;
	/* Not RK_REORD: the original arrived after its resend, which is not
	 * what RFC 8985 §6.2 step 3 calls reordering (an original delivered
	 * below RACK.fack). Marking it so kept a reordering window inside
	 * every later recovery and turned off the DupThresh rule (step 4) for
	 * the rest of the connection; Linux's D-SACK undo leaves reord_seen
	 * as it is too. */
	st->stats.undos++;
	st->stats.undo_cwnd_segs += t->cwnd / smss(t);
	sf_tcb_mark_dirty(st, t);
}

/* RFC 3522 (Eifel detection), RFC 4015 (its response), as Linux's undo of
 * a loss state by timestamps: the first ACK that moves SND.UNA after a
 * timeout echoes the TSval of what it acknowledges. Older than the timeout,
 * it acknowledges a segment sent before the timeout: the original got
 * there and only its ACKs were late or lost (through a lossy path, the one
 * ACK a small flight draws), so the timeout was spurious. The window from
 * before it comes back and sending goes on from SND.MAX rather than back
 * over what the peer holds. Decided by that first ACK, and only for the
 * first timeout of a series that began outside recovery (backoff 1: the
 * echo is compared with the first retransmission's time; the saved window
 * is the one before the timeout). */
bool sf_rack_eifel(sf_stack_t *st, sf_tcb_t *t, const sf_tcp_opts_t *opt)
{
	sf_rack_t *r = &t->rack;
	if (!(r->flags & RK_RTO))
		return false;
	r->flags &= ~(uint32_t)RK_RTO;
	if (t->backoff != 1 || !(r->flags & RK_UNDO) || !(t->flags & F_TS_OK) || !opt->has_ts ||
	    !opt->ts_ecr || !sf_seq_lt(opt->ts_ecr, t->ts_rto))
		return false;
	undo(st, t);
	st->stats.spurious_rtos++;
	if (sf_seq_lt(t->snd_nxt, t->snd_max))
		t->snd_nxt = t->snd_max;
	return true;
}

/* RFC 2883 §4: the first block is a D-SACK when it lies below the
 * cumulative ACK or inside the second block. */
static bool is_dsack(const sf_tcb_t *t, const sf_tcp_opts_t *o)
{
	if (!(t->flags & F_SACK_OK) || !o->sack_cnt)
		return false;
	const sf_sack_block_t *b = &o->sack[0];
	if (!sf_seq_lt(b->left, b->right))
		return false;
	if (sf_seq_le(b->right, t->snd_una))
		return true;
	return o->sack_cnt > 1 && sf_seq_ge(b->left, o->sack[1].left) &&
	       sf_seq_le(b->right, o->sack[1].right);
}

static void on_dsack(sf_stack_t *st, sf_tcb_t *t, const sf_tcp_opts_t *o)
{
	sf_rack_t *r = &t->rack;
	const sf_sack_block_t *b = &o->sack[0];
	uint32_t mss = smss(t);
	uint32_t segs = (b->right - b->left + mss - 1) / mss;
	st->stats.dsacks_rcvd++;
	st->stats.spurious_retx += segs;
	/* A D-SACK for the probe (RFC 8985 §7.4.1) tells of no reordering. */
	bool probe = (r->flags & RK_TLP_OUT) && sf_seq_le(b->right, r->tlp_end_seq) &&
	             sf_seq_gt(b->right, r->tlp_end_seq - t->snd_mss - 1u);
	/* RFC 8985 §6.2 step 4: once per round trip, widen the window; here,
	 * as in Linux (tcp_dsack_seen), only once reordering has been seen
	 * (step 3) and not for the probe's D-SACK. While no original has
	 * been delivered out of order, every late segment arrived after RACK
	 * had resent it: the window decided nothing, and a wider one (the
	 * multiplier reached 64, capped at SRTT) only delays the repair of
	 * each real loss. Through the bench's relay (2 % of segments held
	 * 2 ms, RTT 0.15 ms) that cost 44 timer waits of 0.8 ms in a 0.33 s
	 * transfer, none of which avoided a spurious retransmission. The
	 * RFC's pseudo-code grows it on any D-SACK round: a deliberate
	 * difference (docs/CONFORMANCE.md). */
	if ((r->flags & RK_REORD) && !probe &&
	    (!(r->flags & RK_DSACK_RND) || sf_seq_ge(t->snd_una, r->dsack_round))) {
		r->flags |= RK_DSACK_RND;
		r->dsack_round = t->snd_max;
		if (r->reo_wnd_mult < 64) {
			r->reo_wnd_mult = (uint8_t)((r->reo_wnd_mult ? r->reo_wnd_mult : 1) + 1);
			st->stats.reo_wnd_grown++;
		}
		r->reo_wnd_persist = REO_PERSIST;
	}
	/* RFC 8985 §7.4.1: a D-SACK for the probe means the original arrived
	 * too: no loss. */
	if (probe)
		r->flags &= ~(uint32_t)RK_TLP_OUT;
	/* RFC 3708 §3.2: the episode is undone when every retransmission of
	 * it is reported spurious. A D-SACK of data below the episode's start
	 * reports a retransmission of an earlier one (on a path that holds
	 * segments back 2 ms, most D-SACKs arrive an episode or more later):
	 * it says nothing of this episode's, and counting it undid the
	 * response to real losses (Linux's tcp_check_dsack: undo_marker). */
	if ((r->flags & RK_UNDO) && r->undo_retrans && sf_seq_gt(b->right, r->undo_marker)) {
		r->undo_retrans = segs >= r->undo_retrans ? 0 : r->undo_retrans - segs;
		if (!r->undo_retrans)
			undo(st, t);
	}
}

/* RFC 8985 §7.4: the end of a probe episode (Linux tcp_process_tlp_ack). */
static void tlp_ack(sf_stack_t *st, sf_tcb_t *t, uint32_t acked)
{
	sf_rack_t *r = &t->rack;
	if (!(r->flags & RK_TLP_OUT) || sf_seq_lt(t->snd_una, r->tlp_end_seq))
		return;
	if (!(r->flags & RK_TLP_RETX)) {
		r->flags &= ~(uint32_t)RK_TLP_OUT;
	} else if (sf_seq_gt(t->snd_una, r->tlp_end_seq)) {
		/* §7.4.2: the probe repaired a loss: respond to it once. */
		r->flags &= ~(uint32_t)RK_TLP_OUT;
		if (!(t->flags & F_IN_RECOVERY)) {
			sf_cc_ops(t->cc_algo)->on_loss(t, st->now_us);
			t->cwnd = t->ssthresh;
		}
		st->stats.tlp_recoveries++;
	} else if (!acked) {
		/* A pure duplicate ACK: original and probe both arrived. */
		r->flags &= ~(uint32_t)RK_TLP_OUT;
	}
}

bool sf_rack_on_ack(sf_stack_t *st, sf_tcb_t *t, uint32_t acked, const sf_tcp_opts_t *opt)
{
	sf_rack_t *r = &t->rack;
	if (is_dsack(t, opt))
		on_dsack(st, t, opt);
	tlp_ack(st, t, acked);
	if (!rack_on(t))
		return false;
	split_at_sacks(t);
	/* Cumulatively acknowledged records go; SACKed ones are delivered. */
	uint8_t gone = 0;
	for (uint8_t i = 0; i < r->cnt; i++) {
		sf_rseg_t *s = &r->seg[i];
		if (sf_seq_le(s->end, t->snd_una)) {
			if (!(s->flags & RS_DELIVERED))
				deliver(st, t, s, opt);
			gone++;
			continue;
		}
		if (sf_seq_lt(s->start, t->snd_una))
			s->start = t->snd_una;
		if (!(s->flags & RS_DELIVERED) && covered(t, s->start, s->end)) {
			s->flags = (s->flags | RS_DELIVERED) & ~(uint32_t)RS_LOST;
			deliver(st, t, s, opt);
		}
	}
	rs_remove(r, 0, gone);
	if (!r->cnt)
		sf_rack_release(st, t);
	return detect(st, t);
}

bool sf_rack_reo_timeout(sf_stack_t *st, sf_tcb_t *t)
{
	return rack_on(t) && detect(st, t);
}

void sf_rack_recovery_end(sf_tcb_t *t)
{
	sf_rack_t *r = &t->rack;
	if (r->reo_wnd_persist && !--r->reo_wnd_persist)
		r->reo_wnd_mult = 1;
}

void sf_rack_on_timeout(sf_stack_t *st, sf_tcb_t *t)
{
	sf_rack_t *r = &t->rack;
	r->flags &= ~(uint32_t)RK_TLP_OUT;
	for (uint8_t i = 0; i < r->cnt; i++)
		r->seg[i].flags &= ~(uint32_t)(RS_LOST | RS_DELIVERED);
	sf_tcb_timer_clear(st, t, T_REO);
	sf_tcb_timer_clear(st, t, T_TLP);
}

uint32_t sf_rack_pipe(const sf_tcb_t *t)
{
	const sf_rack_t *r = &t->rack;
	uint32_t pipe = 0;
	for (uint8_t i = 0; i < r->cnt; i++) {
		const sf_rseg_t *s = &r->seg[i];
		if (!(s->flags & (RS_DELIVERED | RS_LOST)))
			pipe += s->end - s->start;
	}
	return pipe;
}

/* Some segment is marked lost and not yet resent (the probe waits). */
static bool any_lost(const sf_tcb_t *t)
{
	for (uint8_t i = 0; i < t->rack.cnt; i++)
		if (t->rack.seg[i].flags & RS_LOST)
			return true;
	return false;
}

bool sf_rack_next_lost(const sf_tcb_t *t, uint32_t *seq, uint32_t *len)
{
	const sf_rack_t *r = &t->rack;
	for (uint8_t i = 0; i < r->cnt; i++) {
		const sf_rseg_t *s = &r->seg[i];
		if (!(s->flags & RS_LOST))
			continue;
		/* The first byte of it the peer does not hold, to the next
		 * SACKed byte or the record's end. */
		uint32_t l = s->start;
		for (const sf_range_t *x; (x = sf_ranges_find(&t->sacked, l));)
			l = x->right;
		if (!sf_seq_lt(l, s->end))
			continue;
		uint32_t e = sf_ranges_next_left(&t->sacked, l, s->end);
		*seq = l;
		*len = e - l;
		return true;
	}
	return false;
}

/* ---- TLP (RFC 8985 §7) ---- */

static bool tlp_state(const sf_tcb_t *t)
{
	return t->state == SF_ESTABLISHED || t->state == SF_CLOSE_WAIT ||
	       t->state == SF_FIN_WAIT_1 || t->state == SF_CLOSING || t->state == SF_LAST_ACK;
}

void sf_rack_schedule_tlp(sf_stack_t *st, sf_tcb_t *t)
{
	sf_rack_t *r = &t->rack;
	if (!st->cfg.rack || !tlp_state(t) || t->snd_una == t->snd_max ||
	    (t->flags & F_IN_RECOVERY) || (r->flags & RK_TLP_OUT) || t->backoff ||
	    t->snd_nxt != t->snd_max || snd_window_shut(t) || any_lost(t)) {
		sf_tcb_timer_clear(st, t, T_TLP);
		r->flags &= ~(uint32_t)RK_TLP_SCHED;
		return;
	}
	/* §7.2: (re)arm after new data is sent or an ACK moves SND.UNA. */
	if (t->deadline[T_TLP] != INT64_MAX && (r->flags & RK_TLP_SCHED) &&
	    r->tlp_una == t->snd_una && r->tlp_max == t->snd_max)
		return;
	r->flags |= RK_TLP_SCHED;
	r->tlp_una = t->snd_una;
	r->tlp_max = t->snd_max;
	uint64_t pto = t->srtt_us > 0 ? 2ull * (uint64_t)t->srtt_us : 1000000u;
	if (t->snd_max - t->snd_una <= t->snd_mss)
		pto += WC_DELACK_US;
	else
		pto += 2000;
	/* §7.2: never later than the RTO; at the RTO's time the probe goes
	 * instead of it (the timer code runs the probe first, and the probe
	 * restarts the RTO). */
	int64_t at = st->now_us + (int64_t)pto;
	if (at > t->deadline[T_RTO])
		at = t->deadline[T_RTO];
	sf_tcb_timer_set(st, t, T_TLP, at);
}

bool sf_rack_tlp_ready(const sf_tcb_t *t)
{
	return tlp_state(t) && t->snd_una != t->snd_max && !(t->flags & F_IN_RECOVERY) &&
	       !(t->rack.flags & RK_TLP_OUT) && !any_lost(t);
}

void sf_rack_tlp_timeout(sf_stack_t *st, sf_tcb_t *t)
{
	sf_rack_t *r = &t->rack;
	if (!sf_rack_tlp_ready(t))
		return;
	/* §7.3: new data when the peer's window takes it; else resend the
	 * last segment sent (the highest sequence number), its FIN included. */
	st->stats.tlp_probes++;
	if (sf_send_new_probe(st, t)) {
		r->flags = (uint8_t)((r->flags | RK_TLP_OUT) & ~(uint32_t)RK_TLP_RETX);
	} else {
		uint32_t data_end = t->snd_head + t->snd.len;
		uint32_t last = sf_seq_lt(t->snd_max, data_end) ? t->snd_max : data_end;
		uint32_t pmax = sf_seg_payload_max(st, t);
		uint32_t seq = sf_seq_gt(last, t->snd_una) && last - t->snd_una > pmax ? last - pmax
		                                                                       : t->snd_una;
		sf_retransmit_one(st, t, seq, SF_RETX_TLP);
		r->flags |= RK_TLP_OUT | RK_TLP_RETX;
	}
	r->tlp_end_seq = t->snd_max;
	sf_tcb_timer_set(st, t, T_RTO, rto_deadline(st, t)); /* §7.3: restarts from the probe */
}

#endif /* SF_NO_RACK */
