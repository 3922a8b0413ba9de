/* TIME-WAIT (RFC 9293 §3.6.1, MUST-13): the compact records that replace a
 * connection block for 2*MSL, their table, their expiry, what a record does
 * with a segment (RFC 9293 §3.10.7.4, RFC 1337, RFC 5961 §4), and the reopen
 * by a new SYN (RFC 6191) with the ISS guard of RFC 9293 §3.6.1 / RFC 1122
 * 4.2.2.13. Everything about TIME-WAIT lives here.
 */
#include "core/stack.h"

/* The segment a record looks at. */
typedef struct seg_in {
	const sf_ipv4_t *ip;
	sf_tcp_t h;
	uint32_t len; /* payload bytes */
} seg_in_t;

static void drop(sf_stack_t *st, sf_drop_reason_t why, uint32_t id, const seg_in_t *s)
{
	sf_core_drop(st, why, id, s->ip, &s->h);
}

static void trace_rx(sf_stack_t *st, uint32_t id, const seg_in_t *s)
{
	if (!sf_tracing(st))
		return;
	sf_event_t ev = {.kind = SF_EV_SEG_RX, .now_us = st->now_us, .conn_id = id};
	ev.u.seg.ip = *s->ip;
	ev.u.seg.tcp = s->h;
	ev.u.seg.segs = 1;
	sf_core_trace(st, &ev);
}

static bool seg_has_data(const seg_in_t *s)
{
	return s->len && !(s->h.flags & SF_TCP_SYN);
}

/* ---- TIME-WAIT records (RFC 9293 §3.6.1, MUST-13) ----
 * Every record lives exactly 2*MSL unless restarted, so expiry is a FIFO:
 * O(1) insert, restart and expire, no timer per record. */

static uint32_t tw_bucket(sf_stack_t *st, uint32_t raddr, uint16_t rport, uint16_t lport)
{
	return sf_tuple_hash(st, raddr, rport, lport) & st->tw_mask;
}

sf_tw_t *sf_tw_lookup(sf_stack_t *st, uint32_t raddr, uint16_t rport, uint16_t lport)
{
	if (!st->tw_cnt)
		return NULL;
	return sf_tw_lookup_h(st, sf_tuple_hash(st, raddr, rport, lport), raddr, rport, lport);
}

sf_tw_t *sf_tw_lookup_h(sf_stack_t *st, uint32_t hash, uint32_t raddr, uint16_t rport,
                        uint16_t lport)
{
	if (!st->tw_cnt)
		return NULL;
	for (uint32_t i = st->tw_buckets[hash & st->tw_mask]; i != SF_NIL;
	     i = st->tw[i].hash_next) {
		sf_tw_t *w = &st->tw[i];
		if (w->raddr == raddr && w->rport == rport && w->lport == lport)
			return w;
	}
	return NULL;
}

static void fifo_unlink(sf_stack_t *st, sf_tw_t *w)
{
	uint32_t me = (uint32_t)(w - st->tw);
	if (w->prev != SF_NIL)
		st->tw[w->prev].next = w->next;
	else if (st->tw_head == me)
		st->tw_head = w->next;
	if (w->next != SF_NIL)
		st->tw[w->next].prev = w->prev;
	else if (st->tw_tail == me)
		st->tw_tail = w->prev;
	w->prev = w->next = SF_NIL;
}

static void fifo_append(sf_stack_t *st, sf_tw_t *w)
{
	uint32_t me = (uint32_t)(w - st->tw);
	w->expire_ms = (uint32_t)(now_ms_rel(st) + 2 * (int64_t)st->cfg.msl_ms);
	w->prev = st->tw_tail;
	w->next = SF_NIL;
	if (st->tw_tail != SF_NIL)
		st->tw[st->tw_tail].next = me;
	else
		st->tw_head = me;
	st->tw_tail = me;
}

void sf_tw_free(sf_stack_t *st, sf_tw_t *w)
{
	uint32_t me = (uint32_t)(w - st->tw);
	uint32_t *p = &st->tw_buckets[tw_bucket(st, w->raddr, w->rport, w->lport)];
	while (*p != SF_NIL && *p != me)
		p = &st->tw[*p].hash_next;
	if (*p == me)
		*p = w->hash_next;
	fifo_unlink(st, w);
	w->hash_next = st->tw_free;
	st->tw_free = me;
	st->tw_cnt--;
	st->stats.timewait_open--;
}

void sf_tw_restart(sf_stack_t *st, sf_tw_t *w)
{
	fifo_unlink(st, w);
	fifo_append(st, w);
}

void sf_tw_close(sf_stack_t *st, sf_tw_t *w, sf_cause_t cause)
{
	if (sf_tracing(st)) {
		sf_event_t ev = {.kind = SF_EV_STATE, .conn_id = w->id};
		ev.u.state.from = SF_TIME_WAIT;
		ev.u.state.to = SF_CLOSED;
		ev.u.state.cause = cause;
		sf_core_trace_emit(st, &ev);
	}
	sf_tw_free(st, w);
}

void sf_tw_expire(sf_stack_t *st)
{
	int64_t now = now_ms_rel(st);
	while (st->tw_head != SF_NIL && (int64_t)st->tw[st->tw_head].expire_ms <= now) {
		sf_tw_t *w = &st->tw[st->tw_head];
		if (sf_tracing(st)) {
			sf_event_t ev = {.kind = SF_EV_TIMER, .conn_id = w->id};
			ev.u.timer.timer = SF_TIMER_TIMEWAIT;
			sf_core_trace_emit(st, &ev);
		}
		sf_tw_close(st, w, SF_CAUSE_TIMEWAIT);
	}
}

void sf_tcb_to_timewait(sf_stack_t *st, sf_tcb_t *t)
{
	if (st->tw_free == SF_NIL && st->tw_fresh == st->max_tw) {
		/* Table full: the oldest record makes room (it has waited longest). */
		sf_tw_close(st, &st->tw[st->tw_head], SF_CAUSE_TIMEWAIT);
	}
	sf_tw_t *w;
	if (st->tw_free != SF_NIL) {
		w = &st->tw[st->tw_free];
		st->tw_free = w->hash_next;
	} else {
		w = &st->tw[st->tw_fresh++];
	}
	*w = (sf_tw_t){.raddr = t->raddr,
	               .lport = t->lport,
	               .rport = t->rport,
	               .snd_nxt = t->snd_nxt,
	               .rcv_nxt = t->rcv_nxt,
	               .ts_recent = t->ts_recent,
	               .id = t->id,
	               .wnd = sf_rcv_wnd_raw(st, t),
	               .flags = (t->flags & F_TS_OK) ? TW_TS : 0};
	uint32_t me = (uint32_t)(w - st->tw);
	uint32_t *head = &st->tw_buckets[t->hash & st->tw_mask]; /* the TCB kept its hash */
	w->hash_next = *head;
	*head = me;
	fifo_append(st, w);
	st->tw_cnt++;
	st->stats.timewait_open++;

	/* The TCB itself goes: an application still holding a handle sees the
	 * connection as closed (end of stream). */
	sf_tcb_detach(st, t);
	t->state = SF_CLOSED;
	if (t->flags & F_HANDLE) {
		t->flags |= F_FIN_RCVD;
		return;
	}
	if (!(t->flags & F_DIRTY))
		sf_tcb_free(st, t);
}

/* ---- TIME-WAIT records (RFC 9293 §3.10.7.4, RFC 1337, RFC 5961, RFC 6191) ----
 * A record knows RCV.NXT (past the peer's FIN), SND.NXT (past our FIN,
 * acknowledged) and the window we advertised. In the order of §3.10.7.4:
 *  - RST, in the window or not: ignored (RFC 1337, no TIME-WAIT
 *    assassination);
 *  - a SYN without ACK or FIN that is provably new (RFC 6191): the record
 *    closes and the SYN goes on to the listener;
 *  - first check: a segment outside the window is answered with an ACK
 *    and dropped; the peer's retransmitted FIN (just left of the window)
 *    also restarts the 2*MSL wait, since our ACK of it was lost;
 *  - any other SYN (SYN,ACK, SYN+FIN, an old SYN): a challenge ACK
 *    (RFC 5961 §4);
 *  - ACK bit off: dropped;
 *  - an in-window pure ACK changes nothing; in-window text is ignored
 *    ("should not occur") but acknowledged, and a FIN is acknowledged and
 *    restarts the 2*MSL wait (eighth step).
 * Every reply goes through the reply limiter (gate.c) with the record's
 * own stamp. tests/tcp/test_timewait.c covers each flag combination in
 * and out of the window. */

static void tw_reply(sf_stack_t *st, sf_tw_t *w, const seg_in_t *s)
{
	if (!sf_reply_allowed(st, &w->reply_stamp_ms, !seg_has_data(s)))
		return;
	sf_tcp_opts_t o = {0};
	if (w->flags & TW_TS) {
		o.has_ts = true;
		o.ts_val = sf_ts_now(st);
		o.ts_ecr = w->ts_recent;
	}
	sf_send_raw(st, w->raddr, w->lport, w->rport, w->snd_nxt, w->rcv_nxt, SF_TCP_ACK, w->wnd,
	            &o, w->id);
}

bool sf_tw_input(sf_stack_t *st, sf_tw_t *w, const sf_ipv4_t *ip, const sf_tcp_t *h,
                 uint32_t *old_snd_nxt)
{
	const seg_in_t seg = {.ip = ip, .h = *h, .len = h->payload_len};
	const seg_in_t *s = &seg;
	uint8_t f = s->h.flags;
	if (f & SF_TCP_RST) {
		drop(st, SF_DROP_TCP_RST_IGNORED, w->id, s); /* RFC 1337 */
		return false;
	}
	bool syn = f & SF_TCP_SYN, fin = f & SF_TCP_FIN;
	if (syn && !(f & (SF_TCP_ACK | SF_TCP_FIN))) {
		/* RFC 6191 §2: reopen when the SYN is provably new: a newer
		 * timestamp, or (without timestamps) a higher sequence number. */
		bool newer = (w->flags & TW_TS) && s->h.opt.has_ts
		                     ? sf_seq_gt(s->h.opt.ts_val, w->ts_recent)
		                     : !(w->flags & TW_TS) && sf_seq_gt(s->h.seq, w->rcv_nxt);
		if (newer) {
			*old_snd_nxt = w->snd_nxt; /* for the new ISS (sf_tw_reopen_iss) */
			sf_tw_close(st, w, SF_CAUSE_REUSE);
			return true;
		}
	}
	/* First check, against the window the record advertised. */
	uint32_t wnd = w->wnd ? w->wnd : 1;
	uint32_t seg_len = s->len + syn + fin;
	bool acceptable = sf_seq_in_window(s->h.seq, w->rcv_nxt, wnd) ||
	                  (seg_len && sf_seq_in_window(s->h.seq + seg_len - 1, w->rcv_nxt, wnd));
	if (!acceptable) {
		if (fin && !syn && (f & SF_TCP_ACK) && s->h.seq + s->len + 1 == w->rcv_nxt) {
			trace_rx(st, w->id, s); /* the peer's FIN again */
			sf_tw_restart(st, w);
		} else {
			drop(st, SF_DROP_TCP_OUT_OF_WINDOW, w->id, s);
		}
		tw_reply(st, w, s);
		return false;
	}
	if (syn) {
		drop(st, SF_DROP_TCP_CHALLENGE, w->id, s); /* RFC 5961 §4 */
		uint64_t before = st->stats.replies_limited;
		tw_reply(st, w, s);
		if (st->stats.replies_limited == before)
			st->stats.challenge_acks++;
		return false;
	}
	if (!(f & SF_TCP_ACK)) {
		drop(st, SF_DROP_TCP_BAD_FLAGS, w->id, s);
		return false;
	}
	trace_rx(st, w->id, s);
	if (fin)
		sf_tw_restart(st, w);
	if (fin || s->len)
		tw_reply(st, w, s);
	return false;
}

/* RFC 9293 §3.6.1, RFC 1122 4.2.2.13: a connection reopened from TIME-WAIT
 * must start above every sequence number of the old one, or the peer may
 * take old duplicates (and the old connection's ACKs) for new. The clock
 * drives RFC 6528 ISNs forward, but a busy old connection can have run
 * SND.NXT ahead of the clock; then the new ISS is put a maximum window past
 * the old SND.NXT, as Linux does for every reopen (tw_snd_nxt + 65535 + 2). */
uint32_t sf_tw_reopen_iss(uint32_t iss, uint32_t old_snd_nxt)
{
	if (sf_seq_gt(iss, old_snd_nxt))
		return iss;
	return old_snd_nxt + 65535 + 2;
}
