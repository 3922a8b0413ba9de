/* The acceptance gate of a synchronized connection (RFC 9293 §3.10.7.4,
 * first to fifth checks, in that order: PAWS, sequence, RST, SYN, ACK) and
 * the reply limiter: one rate limit for every segment the stack sends only
 * because of an unacceptable one (RFC 5961 §7). Linux's
 * tcp_validate_incoming() is the model.
 *
 * Replies it covers: the challenge ACKs of RFC 5961 §3-§5, the ACK owed to
 * an out-of-window segment, to an ACK of data never sent and to a PAWS
 * failure (RFC 9293 §3.10.7.4, RFC 7323 §5.3), the ACKs of a TIME-WAIT
 * record, and the RST a segment for no connection draws (RFC 9293
 * §3.10.7.1). Replies that carry protocol progress (the ACK of new data,
 * a SYN,ACK) are not limited.
 *
 * Two limits, as Linux has had since CVE-2016-5696 ("Off-Path TCP Exploits:
 * Global Rate Limit Considered Dangerous", USENIX Security 2016):
 *  - per flow: at most one reply per cfg.reply_interval_ms for a segment
 *    that carries no data (Linux's tcp_oow_rate_limited and
 *    tcp_invalid_ratelimit, 500 ms). A segment with data is the peer's
 *    retransmission, not an ACK loop, and its duplicate ACK drives the
 *    peer's recovery, so it is exempt from this limit;
 *  - global: a budget per second drawn afresh each second, uniformly from
 *    [limit/2, limit/2 + limit), so the count an off-path host can exhaust
 *    on its own connections says nothing about the replies another
 *    connection drew in the same second.
 * A host that spoofs segments at somebody else's connection can then see
 * neither directly (the reply goes to the real peer) nor through the shared
 * budget (its own connections are each limited per flow, and the budget's
 * edge moves at random). tests/tcp/test_rfc5961.c replays the off-path probe.
 */
#include "core/stack.h"

/* Stack-relative milliseconds + 1: 0 in a stamp means "never". */
static uint32_t stamp_now(const sf_stack_t *st)
{
	return (uint32_t)now_ms_rel(st) + 1;
}

bool sf_reply_allowed(sf_stack_t *st, uint32_t *stamp_ms, bool per_flow)
{
	uint32_t now = stamp_now(st);
	if (per_flow && stamp_ms && *stamp_ms && st->cfg.reply_interval_ms &&
	    now - *stamp_ms < st->cfg.reply_interval_ms) {
		st->stats.replies_limited++;
		return false;
	}
	uint32_t limit = st->cfg.reply_budget;
	if (limit) {
		if (!st->reply_epoch_set || st->now_us - st->reply_epoch_us >= 1000000) {
			st->reply_epoch_set = true;
			st->reply_epoch_us = st->now_us;
			st->reply_left = (limit + 1) / 2 + (uint32_t)(sf_random(st) % limit);
		}
		if (!st->reply_left) {
			st->stats.replies_limited++;
			return false;
		}
		st->reply_left--;
	}
	if (stamp_ms)
		*stamp_ms = now;
	return true;
}

void sf_reply_ack(sf_stack_t *st, sf_tcb_t *t, bool has_data)
{
	if (!sf_reply_allowed(st, &t->reply_stamp_ms, !has_data))
		return;
	t->flags |= F_ACK_NOW;
	sf_tcb_mark_dirty(st, t);
}

void sf_reply_rst(sf_stack_t *st, const sf_ipv4_t *ip, const sf_tcp_t *tcp)
{
	if (tcp->flags & SF_TCP_RST)
		return; /* never a RST for a RST (RFC 9293 §3.10.7.1) */
	if (!sf_reply_allowed(st, NULL, false))
		return;
	sf_send_rst_for(st, ip, tcp);
}

/* ---- the gate ---- */

typedef sf_seg_t seg_t;
#define drop     sf_seg_drop
#define trace_rx sf_seg_trace_rx

/* RFC 5961 §3.2, §4.2, §5.2: a challenge ACK, through the one reply
 * limiter (gate.c, RFC 5961 §7). */
static void challenge_ack(sf_stack_t *st, sf_tcb_t *t, const seg_t *s)
{
	drop(st, SF_DROP_TCP_CHALLENGE, t->id, s);
	uint64_t before = st->stats.replies_limited;
	sf_reply_ack(st, t, false);
	if (st->stats.replies_limited == before)
		st->stats.challenge_acks++;
}

/* A pure duplicate ACK overtaken by a newer segment fails PAWS, yet carries
 * nothing old that could harm: no data, it acknowledges exactly SND.UNA,
 * would not update the window, and its timestamp is within one RTO of
 * TS.Recent. RFC 7323 §5.3 makes PAWS a defence against old duplicates of
 * data, and Linux exempts such ACKs (tcp_disordered_ack); dropping them
 * loses the duplicate ACKs (and SACK blocks) fast retransmit counts, and
 * recovery waits for the RTO (issue 12: a 1.4 s stall against Linux). */
static bool harmless_disordered_ack(const sf_tcb_t *t, const seg_t *s)
{
	uint8_t f = s->h.flags & (SF_TCP_SYN | SF_TCP_FIN | SF_TCP_RST | SF_TCP_ACK);
	uint32_t wnd = (uint32_t)s->h.wnd << ((t->flags & F_WS_OK) ? t->snd_wscale : 0);
	return f == SF_TCP_ACK && s->len == 0 && s->h.seq == t->rcv_nxt && s->h.ack == t->snd_una &&
	       t->snd_una != t->snd_max && sf_seq_le(s->h.seq, t->snd_wl1) && wnd == t->snd_wnd &&
	       t->ts_recent - s->h.opt.ts_val <= t->rto_us / 1000 + 1;
}

/* First check: is the segment acceptable? Trims it to the window.
 * Returns false when it must be dropped (an ACK is queued as the RFC says). */
static bool check_sequence(sf_stack_t *st, sf_tcb_t *t, seg_t *s)
{
	uint32_t wnd = rcv_wnd(t);
	uint32_t seg_len = s->len + s->syn + s->fin;
	bool ok;
	if (seg_len == 0)
		ok = wnd == 0 ? s->seq == t->rcv_nxt : sf_seq_in_window(s->seq, t->rcv_nxt, wnd);
	else if (wnd == 0)
		ok = false;
	else
		ok = sf_seq_in_window(s->seq, t->rcv_nxt, wnd) ||
		     sf_seq_in_window(s->seq + seg_len - 1, t->rcv_nxt, wnd);
	if (!ok) {
		/* MUST-66: with a zero window, a segment at RCV.NXT still has its
		 * RST, ACK and URG processed; only its text is not taken. */
		if (wnd == 0 && s->seq == t->rcv_nxt) {
			/* The text was not acceptable: say so with an ACK. */
			if (s->len || s->fin) {
				t->flags |= F_ACK_NOW;
				sf_tcb_mark_dirty(st, t);
			}
			s->len = 0;
			s->fin = false;
			return true;
		}
		if (s->h.flags & SF_TCP_RST) {
			drop(st, SF_DROP_TCP_RST_IGNORED, t->id, s);
			return false;
		}
		drop(st, SF_DROP_TCP_OUT_OF_WINDOW, t->id, s);
		if (s->len && sf_seq_le(s->seq + s->syn + s->len, t->rcv_nxt))
			sf_note_dsack(t, s->seq + s->syn, s->seq + s->syn + s->len);
		sf_reply_ack(st, t, sf_seg_has_data(s));
		return false;
	}
	/* Trim what lies before RCV.NXT (a SYN there is old) ... */
	if (sf_seq_lt(s->seq, t->rcv_nxt)) {
		uint32_t cut = t->rcv_nxt - s->seq;
		if (s->syn) {
			s->syn = false;
			cut--;
			s->seq++;
		}
		if (cut > s->len)
			cut = s->len;
		sf_note_dsack(t, s->seq, s->seq + cut);
		s->data += cut;
		s->len -= cut;
		s->seq += cut;
	}
	/* ... and past the window (a FIN there is not yet ours). */
	uint32_t right = t->rcv_nxt + wnd;
	if (sf_seq_gt(s->seq + s->len, right)) {
		s->len = sf_seq_gt(right, s->seq) ? right - s->seq : 0;
		s->fin = false;
	}
	return true;
}

/* Fifth check, RST (RFC 5961 §3.2): only an exact match resets. */
static bool check_rst(sf_stack_t *st, sf_tcb_t *t, const seg_t *s)
{
	if (!(s->h.flags & SF_TCP_RST))
		return true;
	if (s->h.seq != t->rcv_nxt) {
		challenge_ack(st, t, s);
		return false;
	}
	trace_rx(st, t->id, s);
	int err = SF_ECONNRESET;
	if (t->state == SF_SYN_RECEIVED)
		err = (t->flags & F_FROM_LISTEN) ? 0 : SF_ECONNREFUSED;
	if (t->state == SF_SYN_RECEIVED && (t->flags & F_FROM_LISTEN))
		t->flags &= ~(uint32_t)F_HANDLE; /* nobody accepted it yet */
	sf_tcb_close(st, t, err, SF_CAUSE_RCV_RST);
	return false;
}

bool sf_gate_accept(sf_stack_t *st, sf_tcb_t *t, sf_seg_t *s, bool synack_ok)
{
	/* RFC 7323 §5.3 PAWS: an old timestamp marks an old duplicate. */
	if ((t->flags & F_TS_OK) && s->h.opt.has_ts && !(s->h.flags & SF_TCP_RST) &&
	    sf_seq_lt(s->h.opt.ts_val, t->ts_recent) && !harmless_disordered_ack(t, s)) {
		drop(st, SF_DROP_TCP_PAWS, t->id, s);
		sf_reply_ack(st, t, sf_seg_has_data(s));
		return false;
	}
	if (!check_sequence(st, t, s))
		return false;
	if (!check_rst(st, t, s))
		return false;
	/* RFC 5961 §4.2: a SYN in a synchronized state gets a challenge ACK. */
	if ((s->h.flags & SF_TCP_SYN) && !synack_ok) {
		challenge_ack(st, t, s);
		return false;
	}
	if (!(s->h.flags & SF_TCP_ACK)) {
		drop(st, SF_DROP_TCP_BAD_FLAGS, t->id, s);
		return false;
	}
	uint32_t ack = s->h.ack;
	if (t->state == SF_SYN_RECEIVED) {
		/* RFC 9293 §3.10.7.4 fifth check, SYN-RECEIVED: an ACK of
		 * something other than our SYN draws a reset. */
		if (!(sf_seq_gt(ack, t->snd_una) && sf_seq_le(ack, t->snd_max))) {
			drop(st, SF_DROP_TCP_BAD_ACK, t->id, s);
			sf_reply_rst(st, s->ip, &s->h);
			return false;
		}
		return true;
	}
	/* RFC 5961 §5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.NXT]. */
	if (sf_seq_gt(ack, t->snd_max) || sf_seq_lt(ack, t->snd_una - t->max_snd_wnd)) {
		drop(st, SF_DROP_TCP_BAD_ACK, t->id, s);
		sf_reply_ack(st, t, sf_seg_has_data(s));
		return false;
	}
	return true;
}
