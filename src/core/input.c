/* TCP input: segment arrival processing in the order of RFC 9293 §3.10.7.
 *
 * A parsed segment is passed explicitly from function to function (never
 * kept in globals). Each check drops what it must with a counted, traced
 * reason; nothing from the wire is asserted on. Replies are queued on the
 * connection (F_ACK_NOW, the dirty list) and leave in the next output pass,
 * so a batch of segments yields one ACK (MUST-58, MUST-59). Resets and
 * challenge ACKs follow RFC 5961; TIME-WAIT follows RFC 1337 and RFC 6191.
 */
#include <string.h>

#include "core/stack.h"

typedef sf_seg_t seg_t;

static void process_rest(sf_stack_t *st, sf_tcb_t *t, seg_t *s, bool fin_in_order);
static void take_text(sf_stack_t *st, sf_tcb_t *t, const seg_t *s);

#define drop     sf_seg_drop
#define trace_rx sf_seg_trace_rx

/* ---- option negotiation on SYN and SYN,ACK (RFC 9293 §3.7.1, RFC 7323,
 * RFC 2018): each option is used only when both sides offered it. */
static void negotiate(sf_stack_t *st, sf_tcb_t *t, const sf_tcp_opts_t *o, bool we_offered)
{
	/* MUST-15: 536 when no MSS was received; MUST-16: effective MSS is the
	 * smaller of what the peer takes and what our MTU carries. */
	uint32_t mss = o->has_mss ? o->mss : 536;
	uint32_t ours = st->cfg.mtu - 40u;
	if (mss > ours)
		mss = ours;
	if (t->user_mss && mss > t->user_mss)
		mss = t->user_mss;
	if (mss < 64)
		mss = 64;
	t->snd_mss = (uint16_t)mss;
	if (o->has_wscale && st->cfg.wscale && we_offered) {
		t->flags |= F_WS_OK;
		t->snd_wscale = o->wscale > 14 ? 14 : o->wscale; /* RFC 7323 §2.3 */
	} else {
		t->rcv_wscale = 0;
	}
	if (o->sack_perm && st->cfg.sack && we_offered) {
		t->flags |= F_SACK_OK;
		if (st->cfg.rack)
			t->flags |= F_RACK; /* RFC 8985 (rack.c) */
	}
	if (o->has_ts && st->cfg.timestamps && we_offered) {
		t->flags |= F_TS_OK;
		t->ts_recent = o->ts_val;
	}
	/* RFC 6928: an initial window of 10 segments. */
	t->cwnd = 10u * t->snd_mss;
	t->ssthresh = UINT32_MAX;
	sf_hystart_init(t);
	sf_cc_ops(t->cc_algo)->init(t, st->now_us);
}
uint8_t sf_pick_wscale(const sf_stack_t *st, uint32_t rcvbuf)
{
	if (!st->cfg.wscale)
		return 0;
	uint8_t ws = 0;
	while (ws < 14 && (rcvbuf >> ws) > 0xffff)
		ws++;
	return ws;
}

/* Sets the fields every new connection shares. */
static void init_conn(sf_stack_t *st, sf_tcb_t *t)
{
	t->rcv_mss = (uint16_t)(st->cfg.mtu - 40u);
	if (t->user_mss && t->user_mss < t->rcv_mss)
		t->rcv_mss = t->user_mss; /* SF_SO_MAXSEG lowers what we announce */
	t->rcv_wscale = sf_pick_wscale(st, t->rcvbuf);
	t->snd_mss = 536;
}

/* The send variables that start at the ISS (SYN not yet sent). */
static void set_iss(sf_tcb_t *t, uint32_t iss)
{
	t->iss = t->snd_una = t->snd_nxt = t->snd_max = iss;
	t->snd_head = iss + 1;
	t->recover = t->high_rxt = t->ecn_recover = iss;
}

/* ISS and the send variables of a new connection (active or passive). */
void sf_tcb_connect_init(sf_stack_t *st, sf_tcb_t *t)
{
	init_conn(st, t);
	set_iss(t, sf_isn(st, t->raddr, t->lport, t->rport));
}

/* ---- LISTEN (RFC 9293 §3.10.7.2) ---- */

/* A child of listener l for the SYN in s (options `o`, the SYN's own or
 * those a SYN cookie kept), in SYN-RECEIVED with ISS `iss`. NULL when no
 * block is free (the drop is traced). */
static sf_tcb_t *spawn_child(sf_stack_t *st, sf_tcb_t *l, const seg_t *s, const sf_tcp_opts_t *o,
                             uint32_t irs, const uint32_t *iss)
{
	sf_tcb_t *c = sf_tcb_alloc(st);
	if (!c) {
		drop(st, SF_DROP_TCP_NO_MEMORY, l->id, s);
		return NULL;
	}
	if (!iss)
		trace_rx(st, c->id, s); /* the SYN itself (a cookie's ACK is traced later) */
	c->raddr = s->ip->src;
	c->rport = s->h.sport;
	c->lport = s->h.dport;
	c->listener = tcb_index(st, l);
	c->sndbuf = c->snd.cap = l->sndbuf;
	c->rcvbuf = c->rcv.cap = l->rcvbuf;
	c->flags |= l->flags & (F_NODELAY | F_KEEPALIVE);
	c->flags |= F_FROM_LISTEN;
	c->ttl = l->ttl;
	c->tos = l->tos;
	c->keepidle_s = l->keepidle_s;
	c->keepintvl_s = l->keepintvl_s;
	c->keepcnt = l->keepcnt;
	c->user_mss = l->user_mss;
	c->cc_algo = l->cc_algo;
	c->user_timeout_ms = l->user_timeout_ms;
	sf_tcb_connect_init(st, c);
	if (iss)
		set_iss(c, *iss);
	c->irs = irs;
	c->rcv_nxt = irs + 1; /* SYN data, if any, is not taken: the peer resends it */
	c->rcv_adv = c->rcv_nxt;
	negotiate(st, c, o, true);
	if (!iss)
		sf_ecn_on_syn(st, c, s->ip, &s->h); /* a cookie keeps no ECN */
	c->snd_wl1 = irs;
	c->snd_wl2 = c->iss;
	c->last_rx_us = st->now_us;
	c->rtt_start_us = st->now_us; /* the SYN,ACK leaves in this batch */
	/* The child stands for the listener that took the SYN: its life
	 * begins in LISTEN, as RFC 9293 Figure 5 draws it. */
	c->state = SF_LISTEN;
	sf_tcb_set_state(st, c, SF_SYN_RECEIVED, SF_CAUSE_RCV_SYN);
	sf_tcb_hash_insert_h(st, c, s->hash);
	sf_listener_enqueue(st, l, c, false);
	st->stats.conns_passive++;
	return c;
}

static void synchronized_input(sf_stack_t *st, sf_tcb_t *t, seg_t *s);

/* RFC 4987 §3.6: the ACK of a SYN,ACK sent with a cookie (syncookie.c).
 * Returns true when it was one and has been taken. */
static bool cookie_ack(sf_stack_t *st, sf_tcb_t *l, seg_t *s)
{
	if ((s->h.flags & (SF_TCP_SYN | SF_TCP_RST | SF_TCP_ACK)) != SF_TCP_ACK ||
	    !sf_syncookie_recent(st))
		return false;
	sf_tcp_opts_t o;
	if (!sf_syncookie_check(st, s->ip, &s->h, &o)) {
		drop(st, SF_DROP_TCP_BAD_COOKIE, l->id, s);
		sf_reply_rst(st, s->ip, &s->h);
		return true;
	}
	if (l->acceptq_len >= l->backlog) {
		drop(st, SF_DROP_TCP_ACCEPT_QUEUE_FULL, l->id, s);
		return true;
	}
	uint32_t iss = s->h.ack - 1;
	sf_tcb_t *c = spawn_child(st, l, s, &o, s->h.seq - 1, &iss);
	if (!c)
		return true;
	/* The SYN,ACK went out already, with the window of a SYN. */
	c->snd_nxt = c->snd_max = iss + 1;
	c->rcv_adv = c->rcv_nxt + (c->rcvbuf > 0xffff ? 0xffff : c->rcvbuf);
	c->flags |= F_SYN_RETX; /* no handshake RTT sample: its start is unknown */
	synchronized_input(st, c, s);
	return true;
}

/* reopen: the SYN reopened a TIME-WAIT record whose SND.NXT was
 * old_snd_nxt (timewait.c). */
static void listen_input(sf_stack_t *st, sf_tcb_t *l, seg_t *s, bool reopen, uint32_t old_snd_nxt)
{
	uint8_t f = s->h.flags;
	if (f & SF_TCP_RST) {
		drop(st, SF_DROP_TCP_RST_IGNORED, l->id, s);
		return;
	}
	if (f & SF_TCP_ACK) {
		if (cookie_ack(st, l, s))
			return;
		drop(st, SF_DROP_TCP_NO_SOCKET, l->id, s);
		sf_reply_rst(st, s->ip, &s->h);
		return;
	}
	if (!(f & SF_TCP_SYN)) {
		drop(st, SF_DROP_TCP_BAD_FLAGS, l->id, s);
		return;
	}
	if (l->synq_len >= st->cfg.syn_backlog || l->synq_len >= st->max_conns / 2) {
		if (st->cfg.syncookies) {
			/* RFC 4987 §3.6: answer statelessly (syncookie.c). */
			sf_syncookie_send(st, l, s->ip, &s->h);
			return;
		}
		/* RFC 4987 §3.4: a full SYN queue gives up its oldest half-open
		 * entry rather than the new SYN, so a flood cannot lock out
		 * legitimate clients; memory stays bounded either way. */
		drop(st, SF_DROP_TCP_SYN_QUEUE_FULL, l->id, s);
		if (l->synq_head == SF_NIL)
			return;
		sf_tcb_close(st, &st->tcbs[l->synq_head], 0, SF_CAUSE_EVICTED);
	}
	if (l->acceptq_len >= l->backlog) {
		drop(st, SF_DROP_TCP_ACCEPT_QUEUE_FULL, l->id, s);
		return;
	}
	sf_tcb_t *c = spawn_child(st, l, s, &s->h.opt, s->h.seq, NULL);
	if (!c)
		return;
	if (reopen) {
		/* RFC 9293 §3.6.1: above every number of the old connection. */
		set_iss(c, sf_tw_reopen_iss(c->iss, old_snd_nxt));
		c->snd_wl2 = c->iss;
	}
	/* RFC 7323 §2.2: the window of a SYN is never scaled. */
	c->snd_wnd = s->h.wnd;
	c->max_snd_wnd = c->snd_wnd;
	sf_tcb_mark_dirty(st, c);
}

/* ---- SYN-SENT (RFC 9293 §3.10.7.3) ---- */

static void enter_established(sf_stack_t *st, sf_tcb_t *t, sf_cause_t cause);

void sf_syn_sent_input(sf_stack_t *st, sf_tcb_t *t, seg_t *s)
{
	uint8_t f = s->h.flags;
	if (f & SF_TCP_ACK) {
		/* An ACK of something we never sent. */
		if (sf_seq_le(s->h.ack, t->iss) || sf_seq_gt(s->h.ack, t->snd_max)) {
			drop(st, SF_DROP_TCP_BAD_ACK, t->id, s);
			sf_reply_rst(st, s->ip, &s->h);
			return;
		}
	}
	if (f & SF_TCP_RST) {
		/* RFC 5961 §3.2 leaves SYN-SENT as RFC 793 has it: a RST is valid
		 * when it acknowledges our SYN. */
		if (f & SF_TCP_ACK) {
			trace_rx(st, t->id, s);
			sf_tcb_close(st, t, SF_ECONNREFUSED, SF_CAUSE_RCV_RST);
		} else {
			drop(st, SF_DROP_TCP_RST_IGNORED, t->id, s);
		}
		return;
	}
	if (!(f & SF_TCP_SYN)) {
		drop(st, SF_DROP_TCP_BAD_FLAGS, t->id, s);
		return;
	}
	trace_rx(st, t->id, s);
	t->irs = s->h.seq;
	t->rcv_nxt = s->h.seq + 1;
	/* The right edge our SYN offered (its window is never scaled). */
	t->rcv_adv = t->rcv_nxt + (t->rcvbuf > 0xffff ? 0xffff : t->rcvbuf);
	t->last_rx_us = st->now_us;
	negotiate(st, t, &s->h.opt, true);
	/* RFC 9293 §3.10.7.3: text on a SYN or SYN,ACK is kept (within that
	 * window), not left for the peer to resend after a timeout. */
	s->syn = false;
	s->seq = t->rcv_nxt;
	if (s->len > rcv_wnd(t)) {
		s->len = rcv_wnd(t);
		s->fin = false;
	}
	if (f & SF_TCP_ACK)
		sf_ecn_on_synack(st, t, s->ip, &s->h);
	else
		sf_ecn_on_syn(st, t, s->ip, &s->h); /* simultaneous open */
	if (f & SF_TCP_ACK) {
		t->snd_una = s->h.ack;
		t->snd_wnd = s->h.wnd; /* unscaled on a SYN (RFC 7323 §2.2) */
		t->max_snd_wnd = t->snd_wnd;
		t->snd_wl1 = s->h.seq;
		t->snd_wl2 = s->h.ack;
		/* RFC 6298 (2.x): sample the handshake RTT unless the SYN was resent. */
		if (!(t->flags & F_SYN_RETX))
			sf_rtt_sample(st, t, st->now_us - t->rtt_start_us);
		t->backoff = 0;
		sf_tcb_timer_clear(st, t, T_RTO);
		enter_established(st, t, SF_CAUSE_RCV_SYNACK);
		/* RFC 9293 §3.10.7.3: ACK the SYN at once, as a segment of its
		 * own even when data is already queued (the third segment of the
		 * handshake, as every peer and every textbook expects to see it);
		 * then text and FIN on the SYN,ACK are processed from the sixth
		 * step of §3.10.7.4, as §3.10.7.3 says. */
		t->flags |= F_ACK_NOW | F_HS_ACK;
		sf_tcb_mark_dirty(st, t);
		if (s->len || s->fin || (f & SF_TCP_URG))
			process_rest(st, t, s, s->fin);
		return;
	}
	/* Simultaneous open (MUST-10): SYN-SENT -> SYN-RECEIVED, send SYN,ACK. */
	t->snd_wnd = s->h.wnd;
	t->max_snd_wnd = t->snd_wnd;
	t->snd_wl1 = s->h.seq;
	t->snd_nxt = t->iss;
	sf_tcb_timer_clear(st, t, T_RTO);
	sf_tcb_set_state(st, t, SF_SYN_RECEIVED, SF_CAUSE_RCV_SYN);
	sf_tcb_mark_dirty(st, t);
	/* Text on the peer's SYN is queued for the application, to be read
	 * once ESTABLISHED (§3.10.7.3); a FIN on it is not taken (the peer
	 * repeats it, SYN-RECEIVED has no edge to CLOSE-WAIT). */
	take_text(st, t, s);
}

static void enter_established(sf_stack_t *st, sf_tcb_t *t, sf_cause_t cause)
{
	sf_tcb_set_state(st, t, SF_ESTABLISHED, cause);
	sf_tcb_keepalive_arm(st, t);
}

/* ---- synchronized states (RFC 9293 §3.10.7.4) ---- */

/* Seventh check: segment text (ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2). */
static void take_text(sf_stack_t *st, sf_tcb_t *t, const seg_t *s)
{
	if (!s->len)
		return;
	if (sf_ring_acquire(st, &t->rcv) < 0) {
		/* No storage: not acknowledged, so the peer sends it again. */
		drop(st, SF_DROP_TCP_NO_MEMORY, t->id, s);
		return;
	}
	uint32_t base = t->rcv.len; /* ring offset of RCV.NXT */
	if (s->seq == t->rcv_nxt) {
		sf_ring_write_at(&t->rcv, base, s->data, s->len);
		t->rcv_nxt += s->len;
		/* Out-of-order data the segment reached (ranges.h). */
		uint32_t extra = 0;
		if (t->ooo.cnt) {
			uint32_t to = sf_ranges_advance(&t->ooo, t->rcv_nxt);
			extra = to - t->rcv_nxt;
			t->rcv_nxt = to;
			sf_tcb_ooo_shrink(st, t, false);
		}
		sf_ring_commit(&t->rcv, s->len + extra);
		t->bytes_received += s->len + extra;
		if (extra)
			t->flags |= F_ACK_NOW; /* a hole filled: tell the sender now */
		if (t->flags & F_RD_SHUT) {
			/* Acknowledged as usual, then discarded (sf_shutdown). */
			sf_ring_consume(&t->rcv, t->rcv.len);
			if (!t->ooo.cnt)
				sf_ring_release(st, &t->rcv);
		}
		/* A super-segment counts as the segments it stands for. */
		uint32_t owed = t->acks_owed + (uint32_t)s->segs;
		t->acks_owed = (uint8_t)(owed > 255 ? 255 : owed);
		/* RFC 5681 §4.2, RFC 9293 §3.8.6.3 (SHLD-19): an ACK at least
		 * for every second full-sized segment, and for every 2*RMSS
		 * bytes however they came (one large segment included). */
		if (st->cfg.delack_ms == 0 || t->acks_owed >= 2 || t->ooo.cnt ||
		    t->rcv_nxt - t->last_ack_sent >= 2u * t->rcv_mss)
			t->flags |= F_ACK_NOW;
		else if (t->deadline[T_DELACK] == INT64_MAX)
			sf_tcb_timer_set(st, t, T_DELACK, st->now_us + st->cfg.delack_ms * 1000ll);
	} else {
		/* RFC 5681 §4.2: each out-of-order segment is answered by an
		 * immediate duplicate ACK, even within one batch: the sender's
		 * fast retransmit counts them. */
		for (uint16_t i = 0; i < t->ooo.cnt; i++) {
			/* Bytes already held out of order: a D-SACK for them. */
			uint32_t l = sf_seq_max(t->ooo.r[i].left, s->seq);
			uint32_t r = sf_seq_min(t->ooo.r[i].right, s->seq + s->len);
			if (sf_seq_lt(l, r)) {
				sf_note_dsack(t, l, r);
				break;
			}
		}
		sf_ring_write_at(&t->rcv, base + (s->seq - t->rcv_nxt), s->data, s->len);
		sf_tcb_ooo_grow(st, t);
		sf_ranges_add(&t->ooo, s->seq, s->seq + s->len, SF_EVICT_OLDEST);
		t->flags |= F_ACK_NOW;
		if (t->dupacks_owed < 8)
			t->dupacks_owed++;
	}
	sf_tcb_mark_dirty(st, t);
}

/* Fifth check, ACK, for states past SYN-RECEIVED, on an ACK the gate found
 * in range (gate.c). Returns false if the segment must be dropped. */
static bool process_ack(sf_stack_t *st, sf_tcb_t *t, const seg_t *s)
{
	uint32_t ack = s->h.ack;
	uint32_t wnd = (uint32_t)s->h.wnd << ((t->flags & F_WS_OK) ? t->snd_wscale : 0);
	if (sf_seq_gt(ack, t->snd_una)) {
		uint32_t acked = ack - t->snd_una;
		uint32_t data_end = t->snd_head + t->snd.len;
		if ((t->flags & F_FIN_SENT) && ack == data_end + 1)
			t->flags |= F_FIN_ACKED;
		if (sf_seq_gt(ack, t->snd_head)) {
			uint32_t n = sf_seq_lt(ack, data_end) ? ack - t->snd_head : t->snd.len;
			sf_ring_consume(&t->snd, n);
			t->snd_head += n;
			t->bytes_acked += n;
			if (!t->snd.len)
				sf_ring_release(st, &t->snd);
		}
		t->snd_una = ack;
		if ((t->flags & F_URG_SEND) && sf_seq_ge(ack, t->snd_up))
			t->flags &= ~(uint32_t)F_URG_SEND;
		if (sf_seq_lt(t->snd_nxt, t->snd_una))
			t->snd_nxt = t->snd_una;
		/* RTT: from the echoed timestamp (RFC 7323 §4.1), else from the
		 * timed segment, never from a retransmitted one (Karn, MUST-18). */
		if ((t->flags & F_TS_OK) && s->h.opt.has_ts && s->h.opt.ts_ecr) {
			/* An echo older than our last timeout may belong to a
			 * segment sent before a long silence: like Karn's rule,
			 * take no sample from it. */
			uint32_t now_ts = sf_ts_now(st);
			if (sf_seq_ge(s->h.opt.ts_ecr, t->ts_rto))
				sf_rtt_sample(st, t, (int64_t)(now_ts - s->h.opt.ts_ecr) * 1000);
			t->flags &= ~(uint32_t)F_RTT_TIMING;
		} else if ((t->flags & F_RTT_TIMING) && sf_seq_gt(ack, t->rtt_seq)) {
			sf_rtt_sample(st, t, st->now_us - t->rtt_start_us);
			t->flags &= ~(uint32_t)F_RTT_TIMING;
		}
		if (t->backoff)
			(void)sf_rack_eifel(st, t, &s->h.opt); /* was the timeout spurious? */
		t->backoff = 0;
		t->probes = 0;
		sf_recovery_on_ack(st, t, acked, false, &s->h.opt);
		/* RFC 6298 (5.2)/(5.3). */
		if (t->snd_una == t->snd_max)
			sf_tcb_timer_clear(st, t, T_RTO);
		else
			sf_tcb_timer_set(st, t, T_RTO, st->now_us + t->rto_us);
		sf_tcb_mark_dirty(st, t);
	} else {
		/* RFC 5681 §2: a duplicate ACK acknowledges nothing new, carries
		 * no data, SYN or FIN, does not move the window, and arrives while
		 * data is outstanding. */
		bool dup = ack == t->snd_una && s->len == 0 && !s->fin && !s->syn &&
		           t->snd_una != t->snd_max &&
		           (wnd == t->snd_wnd || ((t->flags & F_SACK_OK) && s->h.opt.sack_cnt));
		sf_recovery_on_ack(st, t, 0, dup, &s->h.opt);
	}
	/* Window update (RFC 9293 §3.10.7.4): only from a segment newer than
	 * the one that set it; a shrinking window is taken as is (MUST-34). */
	if (sf_seq_lt(t->snd_wl1, s->h.seq) ||
	    (t->snd_wl1 == s->h.seq && sf_seq_le(t->snd_wl2, ack))) {
		uint32_t old_right = snd_right(t);
		bool was_shut = snd_window_shut(t);
		t->snd_wnd = wnd;
		t->snd_wl1 = s->h.seq;
		t->snd_wl2 = ack;
		if (wnd > t->max_snd_wnd)
			t->max_snd_wnd = wnd;
		if (was_shut && !snd_window_shut(t)) {
			sf_tcb_timer_clear(st, t, T_PERSIST);
			t->probes = 0;
			/* Data still in flight is the retransmission timer's again. */
			if (t->snd_una != t->snd_max && t->deadline[T_RTO] == INT64_MAX)
				sf_tcb_timer_set(st, t, T_RTO, st->now_us + t->rto_us);
		}
		if (sf_seq_gt(snd_right(t), old_right))
			sf_tcb_mark_dirty(st, t); /* more room: maybe more to send */
	}
	return true;
}

static void fin_acked_transitions(sf_stack_t *st, sf_tcb_t *t, bool fin_follows)
{
	if (!(t->flags & F_FIN_ACKED))
		return;
	if (t->state == SF_FIN_WAIT_1 && !fin_follows) {
		sf_tcb_set_state(st, t, SF_FIN_WAIT_2, SF_CAUSE_RCV_ACK);
		if (t->flags & F_ORPHAN) /* nobody will read: do not wait forever */
			sf_tcb_timer_set(st, t, T_LINGER2,
			                 st->now_us + (int64_t)st->cfg.finwait2_ms * 1000);
	} else if (t->state == SF_CLOSING) {
		sf_tcb_set_state(st, t, SF_TIME_WAIT, SF_CAUSE_RCV_ACK);
		sf_tcb_mark_dirty(st, t);
	} else if (t->state == SF_LAST_ACK) {
		sf_tcb_close(st, t, 0, SF_CAUSE_RCV_ACK);
	}
}

static void synchronized_input(sf_stack_t *st, sf_tcb_t *t, seg_t *s)
{
	/* A retransmitted SYN in SYN-RECEIVED: our SYN,ACK was lost. */
	if (t->state == SF_SYN_RECEIVED && s->syn &&
	    !(s->h.flags & (SF_TCP_ACK | SF_TCP_RST | SF_TCP_FIN)) && s->h.seq == t->irs) {
		trace_rx(st, t->id, s);
		t->snd_nxt = t->iss;
		sf_tcb_mark_dirty(st, t);
		return;
	}
	/* Simultaneous open (RFC 9293 Figure 8): in SYN-RECEIVED the peer's
	 * SYN,ACK repeats its SYN (SEQ = IRS) and acknowledges ours. Its SYN
	 * is old news: trim it and take the ACK, which completes the open. */
	bool simopen_synack = t->state == SF_SYN_RECEIVED && !(t->flags & F_FROM_LISTEN) &&
	                      (s->h.flags & (SF_TCP_SYN | SF_TCP_ACK | SF_TCP_RST | SF_TCP_FIN)) ==
	                              (SF_TCP_SYN | SF_TCP_ACK) &&
	                      s->h.seq == t->irs && s->h.ack == t->iss + 1;
	if (simopen_synack) {
		s->syn = false;
		s->seq = t->irs + 1;
		/* Text on the peer's SYN was taken already: an empty SYN,ACK
		 * stands at RCV.NXT, not before it. */
		if (!s->len && sf_seq_lt(s->seq, t->rcv_nxt))
			s->seq = t->rcv_nxt;
	}
	/* PAWS, sequence, RST, SYN, ACK bit and range: the gate (gate.c). */
	if (!sf_gate_accept(st, t, s, simopen_synack))
		return;
	trace_rx(st, t->id, s);
	sf_ecn_rx(st, t, s->ip, &s->h); /* CE marks, ECE/ACE (ecn.c) */
	t->last_rx_us = st->now_us;
	t->ka_probes = 0; /* any segment proves the peer alive (MUST-29) */
	if (t->flags & F_KEEPALIVE)
		sf_tcb_keepalive_arm(st, t);
	if (t->state == SF_SYN_RECEIVED) {
		sf_tcb_t *l = t->listener != SF_NIL ? &st->tcbs[t->listener] : NULL;
		if (l && l->acceptq_len >= l->backlog) {
			/* No room to complete: stay half-open, the peer retries. */
			drop(st, SF_DROP_TCP_ACCEPT_QUEUE_FULL, t->id, s);
			return;
		}
		if (!(t->flags & F_SYN_RETX))
			sf_rtt_sample(st, t, st->now_us - t->rtt_start_us);
		t->snd_wnd = (uint32_t)s->h.wnd << ((t->flags & F_WS_OK) ? t->snd_wscale : 0);
		t->max_snd_wnd = t->snd_wnd;
		t->snd_wl1 = s->h.seq;
		t->snd_wl2 = s->h.ack;
		t->snd_una = s->h.ack;
		t->backoff = 0;
		sf_tcb_timer_clear(st, t, T_RTO);
		enter_established(st, t, SF_CAUSE_RCV_ACK);
		if (l)
			sf_listener_enqueue(st, l, t, true);
		if (t->flags & F_FIN_QUEUED) /* closed while half-open */
			sf_tcb_set_state(st, t, SF_FIN_WAIT_1, SF_CAUSE_APP_CLOSE);
		sf_tcb_mark_dirty(st, t);
	}
	if (!process_ack(st, t, s))
		return;
	/* RFC 7323 §4.3 (2): remember the newest timestamp, but only from a
	 * segment found acceptable, its ACK included (§5.3): one injected
	 * segment must not make the next valid one fail PAWS. */
	if ((t->flags & F_TS_OK) && s->h.opt.has_ts && sf_seq_le(s->h.seq, t->last_ack_sent) &&
	    sf_seq_ge(s->h.opt.ts_val, t->ts_recent))
		t->ts_recent = s->h.opt.ts_val;
	/* A FIN in this segment that we take (everything before it arrived)
	 * moves FIN-WAIT-1 straight to TIME-WAIT below, not via FIN-WAIT-2. */
	bool fin_in_order = s->fin && s->seq == t->rcv_nxt;
	fin_acked_transitions(st, t, fin_in_order);
	if (t->state == SF_CLOSED)
		return;

	process_rest(st, t, s, fin_in_order);
}

/* Sixth to eighth checks (URG, text, FIN) of an acceptable segment, in
 * ESTABLISHED or later (also for the text of a SYN,ACK, RFC 9293
 * §3.10.7.3). fin_in_order: the FIN is the next thing expected. */
static void process_rest(sf_stack_t *st, sf_tcb_t *t, seg_t *s, bool fin_in_order)
{
	/* Sixth check, URG (MUST-30, MUST-62): the pointer names the first
	 * non-urgent byte; remember the furthest one seen. */
	if ((s->h.flags & SF_TCP_URG) && (t->state == SF_ESTABLISHED || t->state == SF_FIN_WAIT_1 ||
	                                  t->state == SF_FIN_WAIT_2)) {
		uint32_t up = s->h.seq + s->h.urg;
		if (!(t->flags & F_URG_VALID) || sf_seq_gt(up, t->up_rcv)) {
			t->up_rcv = up;
			t->flags |= F_URG_VALID;
		}
	}

	/* Seventh: text. */
	if (s->len) {
		switch (t->state) {
		case SF_ESTABLISHED:
		case SF_FIN_WAIT_1:
		case SF_FIN_WAIT_2:
			if (t->flags & F_ORPHAN) {
				/* RFC 9293 §3.6 / RFC 2525 §2.17: data for a closed
				 * reader: reset rather than pretend it was read. */
				sf_send_rst(st, t);
				sf_tcb_close(st, t, SF_ECONNRESET, SF_CAUSE_APP_ABORT);
				return;
			}
			take_text(st, t, s);
			break;
		default:
			break; /* the peer already sent its FIN: ignore */
		}
	}

	/* Eighth: FIN, only when everything before it has arrived. */
	if (s->fin && s->seq + s->len == t->rcv_nxt) {
		t->rcv_nxt++;
		t->flags |= F_FIN_RCVD | F_ACK_NOW;
		sf_tcb_mark_dirty(st, t);
		switch (t->state) {
		case SF_ESTABLISHED:
			sf_tcb_set_state(st, t, SF_CLOSE_WAIT, SF_CAUSE_RCV_FIN);
			break;
		case SF_FIN_WAIT_1:
			if (t->flags & F_FIN_ACKED)
				sf_tcb_set_state(st, t, SF_TIME_WAIT, SF_CAUSE_RCV_FINACK);
			else
				sf_tcb_set_state(st, t, SF_CLOSING, SF_CAUSE_RCV_FIN);
			break;
		case SF_FIN_WAIT_2:
			sf_tcb_timer_clear(st, t, T_LINGER2);
			sf_tcb_set_state(st, t, SF_TIME_WAIT, SF_CAUSE_RCV_FIN);
			break;
		default:
			break; /* CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: a resent FIN */
		}
	} else if (fin_in_order) {
		/* The FIN was not taken after all (its data was refused). */
		fin_acked_transitions(st, t, false);
	}
}

/* ---- entry ---- */

/* Wire segments a datagram from an offloading link stands for. */
static uint16_t segs_of(const sf_offload_t *off, uint32_t payload_len)
{
	if (!off)
		return 1;
	if (off->segs > 1)
		return off->segs;
	if (off->gso_size && payload_len > off->gso_size) {
		uint32_t n = (payload_len + off->gso_size - 1u) / off->gso_size;
		return (uint16_t)(n > UINT16_MAX ? UINT16_MAX : n);
	}
	return 1;
}

void sf_tcp_input(sf_stack_t *st, const sf_ipv4_t *ip, const uint8_t *buf, size_t len,
                  const sf_offload_t *off, const uint32_t *hash)
{
	/* Not zeroed as a whole: sf_tcp_parse fills s.h, and every other
	 * field is set below before any use. */
	seg_t s;
	s.ip = ip;
	if (!SF_HAVE_OFFLOAD)
		off = NULL; /* SF_NO_OFFLOAD: a plain datagram (stack.h) */
	/* MUST-3 holds for what crossed a wire; a link that marks the sum
	 * partial hands over the kernel's own data, which crossed none (and
	 * carries only the pseudo-header sum), and one that marks it valid
	 * has checked it. */
	bool verify = st->cfg.verify_checksums && !(off && (off->csum_partial || off->csum_valid));
	int rc = sf_tcp_parse(buf, len, ip->src, ip->dst, verify, &s.h);
	if (rc < 0) {
		sf_drop_reason_t why = rc == SF_ECHECKSUM    ? SF_DROP_TCP_CHECKSUM
		                       : rc == SF_ETRUNCATED ? SF_DROP_TCP_TRUNCATED
		                                             : SF_DROP_TCP_MALFORMED;
		sf_core_drop(st, why, 0, ip, NULL);
		return;
	}
	st->stats.tcp_in++;
	s.data = buf + s.h.payload_off;
	s.len = s.h.payload_len;
	s.segs = segs_of(off, s.len);
	s.seq = s.h.seq; /* SEG.SEQ; a SYN occupies it, data starts after */
	s.syn = s.h.flags & SF_TCP_SYN;
	s.fin = s.h.flags & SF_TCP_FIN;
	uint8_t f = s.h.flags;
	/* SYN+RST means nothing in any state: dropped. SYN+FIN is taken to a
	 * synchronized connection or TIME-WAIT record, where any SYN draws a
	 * challenge ACK (RFC 5961 §4), and dropped anywhere else. */
	bool syn_fin = (f & SF_TCP_SYN) && (f & SF_TCP_FIN);
	if ((f & SF_TCP_SYN) && (f & SF_TCP_RST)) {
		drop(st, SF_DROP_TCP_BAD_FLAGS, 0, &s);
		return;
	}
	if (s.h.sport == 0 || s.h.dport == 0) {
		drop(st, SF_DROP_TCP_MALFORMED, 0, &s);
		return;
	}

	/* One 4-tuple hash for both tables (a batch computed it already). */
	uint32_t h = hash ? *hash : sf_tuple_hash(st, ip->src, s.h.sport, s.h.dport);
	s.hash = h;
	sf_tcb_t *t = sf_tcb_lookup_h(st, h, ip->src, s.h.sport, s.h.dport);
	if (t && syn_fin && t->state == SF_SYN_SENT) {
		drop(st, SF_DROP_TCP_BAD_FLAGS, t->id, &s);
		return;
	}
	if (t) {
		/* Whatever the segment does (data, room to send, FIN, RST, a
		 * state change), the application looks again; a handle keeps t
		 * allocated through the input. */
		sf_tcb_mark_ready(st, t);
		if (t->state == SF_SYN_SENT)
			st->syn_sent_input(st, t, &s); /* set by the connect */
		else
			synchronized_input(st, t, &s);
		return;
	}
	sf_tw_t *w = sf_tw_lookup_h(st, h, ip->src, s.h.sport, s.h.dport);
	uint32_t old_snd_nxt = 0;
	if (w && !sf_tw_input(st, w, ip, &s.h, &old_snd_nxt))
		return;
	if (syn_fin) {
		drop(st, SF_DROP_TCP_BAD_FLAGS, 0, &s);
		return;
	}
	sf_tcb_t *l = sf_listener_find(st, s.h.dport);
	if (l) {
		listen_input(st, l, &s, w != NULL, old_snd_nxt);
		return;
	}
	/* CLOSED (RFC 9293 §3.10.7.1): answer with a reset. */
	drop(st, SF_DROP_TCP_NO_SOCKET, 0, &s);
	sf_reply_rst(st, ip, &s.h);
}
