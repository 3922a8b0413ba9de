/* Connection blocks: the pool, the 4-tuple demux table, listeners, the
 * state machine's single entry point, per-connection timers and the compact
 * TIME-WAIT table.
 *
 * Lookups hash the 4-tuple with a per-stack SipHash key, so a peer cannot
 * aim many connections at one bucket; chains are intrusive index links, so
 * nothing here allocates after sf_stack_create().
 */
#include <stddef.h>
#include <string.h>

#include "base/assert.h"
#include "core/stack.h"

/* ---- the pool ---- */

sf_tcb_t *sf_tcb_alloc(sf_stack_t *st)
{
	sf_tcb_t *t;
	uint16_t gen = 0;
	if (st->free_head != SF_NIL) {
		t = &st->tcbs[st->free_head];
		st->free_head = t->hash_next;
		gen = t->gen;
#if defined(__GNUC__)
		/* The next allocation reads that block's free link and then
		 * zeroes it: fetch its first line now (blocks on the free list
		 * are cold). */
		if (st->free_head != SF_NIL)
			__builtin_prefetch(&st->tcbs[st->free_head], 1);
#endif
	} else if (st->tcb_fresh < st->max_conns) {
		t = &st->tcbs[st->tcb_fresh++];
	} else {
		return NULL;
	}
	memset(t, 0, sizeof *t);
	t->gen = gen;
	t->hash_next = t->dirty_next = t->acceptq_next = t->acceptq_tail = t->listener = SF_NIL;
	t->synq_head = t->synq_tail = SF_NIL;
	for (int i = 0; i < T_COUNT; i++)
		t->deadline[i] = INT64_MAX;
	t->id = st->next_conn_id++;
	t->state = SF_CLOSED;
	t->ttl = st->cfg.ttl;
	t->sndbuf = st->cfg.sndbuf;
	t->rcvbuf = st->cfg.rcvbuf;
	t->rto_us = st->cfg.rto_init_ms * 1000u;
	t->keepidle_s = st->cfg.keepidle_s;
	t->keepintvl_s = st->cfg.keepintvl_s;
	t->keepcnt = st->cfg.keepcnt;
	t->snd.cap = t->sndbuf;
	t->rcv.cap = t->rcvbuf;
	t->cc_algo = st->cfg.congestion;
	sf_ranges_init(&t->ooo, SF_MAX_OOO);
	sf_ranges_init(&t->sacked, SF_MAX_SACKED);
	st->stats.conns_open++;
	if (sf_tracing(st)) { /* the event is built only for a sink */
		sf_event_t ev = {.kind = SF_EV_CONN_NEW, .conn_id = t->id};
		sf_core_trace_emit(st, &ev);
	}
	return t;
}

void sf_tcb_ooo_grow(sf_stack_t *st, sf_tcb_t *t)
{
	if (st->ooo_cap <= SF_MAX_OOO || t->ooo.r != t->ooo.own || t->ooo.cnt < t->ooo.cap)
		return;
	sf_range_t *m = sf_block_get(st, (uint32_t)(st->ooo_cap * sizeof *m));
	if (m)
		sf_ranges_rehome(&t->ooo, m, st->ooo_cap);
}

void sf_tcb_ooo_shrink(sf_stack_t *st, sf_tcb_t *t, bool all)
{
	if (t->ooo.r == t->ooo.own || (t->ooo.cnt && !all))
		return;
	sf_block_put(st, t->ooo.r, (uint32_t)(st->ooo_cap * sizeof *t->ooo.r));
	sf_ranges_init(&t->ooo, SF_MAX_OOO);
}

void sf_tcb_free(sf_stack_t *st, sf_tcb_t *t)
{
	SF_ASSERT(!(t->flags & F_DIRTY) || t->state == SF_CLOSED);
	sf_wheel_cancel(&st->wheel, &t->timer);
	sf_ring_release(st, &t->snd);
	sf_ring_release(st, &t->rcv);
	sf_rack_release(st, t);
	sf_tcb_ooo_shrink(st, t, true);
	sf_tcb_ready_unlink(st, t);
	if (sf_tracing(st)) {
		sf_event_t ev = {.kind = SF_EV_CONN_FREE, .conn_id = t->id};
		sf_core_trace_emit(st, &ev);
	}
	t->gen++;
	t->state = SF_CLOSED;
	t->flags = 0;
	t->hash_next = st->free_head;
	st->free_head = tcb_index(st, t);
	st->stats.conns_open--;
}

/* ---- 4-tuple table (our address is fixed per stack) ---- */

static uint32_t tuple_hash(const sf_sipkey_t *key, uint32_t raddr, uint16_t rport, uint16_t lport)
{
	uint64_t m = (uint64_t)raddr << 32 | (uint64_t)rport << 16 | lport;
	return (uint32_t)sf_siphash13_u64(key, m);
}

uint32_t sf_tuple_hash(const sf_stack_t *st, uint32_t raddr, uint16_t rport, uint16_t lport)
{
	return tuple_hash(&st->hash_key, raddr, rport, lport);
}

sf_tcb_t *sf_tcb_lookup(sf_stack_t *st, uint32_t raddr, uint16_t rport, uint16_t lport)
{
	return sf_tcb_lookup_h(st, sf_tuple_hash(st, raddr, rport, lport), raddr, rport, lport);
}

sf_tcb_t *sf_tcb_lookup_h(sf_stack_t *st, uint32_t hash, uint32_t raddr, uint16_t rport,
                          uint16_t lport)
{
	uint32_t i = st->buckets[hash & st->bucket_mask];
	while (i != SF_NIL) {
		sf_tcb_t *t = &st->tcbs[i];
		if (t->raddr == raddr && t->rport == rport && t->lport == lport)
			return t;
		i = t->hash_next;
	}
	return NULL;
}

/* The hash is kept in the block, so removal and the move to TIME-WAIT
 * need not compute it again. */
void sf_tcb_hash_insert_h(sf_stack_t *st, sf_tcb_t *t, uint32_t hash)
{
	uint32_t *head = &st->buckets[hash & st->bucket_mask];
	t->hash = hash;
	t->hash_next = *head;
	*head = tcb_index(st, t);
}

void sf_tcb_hash_insert(sf_stack_t *st, sf_tcb_t *t)
{
	sf_tcb_hash_insert_h(st, t, tuple_hash(&st->hash_key, t->raddr, t->rport, t->lport));
}

void sf_tcb_hash_remove(sf_stack_t *st, sf_tcb_t *t)
{
	uint32_t *p = &st->buckets[t->hash & st->bucket_mask];
	uint32_t me = tcb_index(st, t);
	while (*p != SF_NIL) {
		if (*p == me) {
			*p = t->hash_next;
			t->hash_next = SF_NIL;
			return;
		}
		p = &st->tcbs[*p].hash_next;
	}
}

/* ---- listeners: few, kept in a small array sorted by nothing ---- */

sf_tcb_t *sf_listener_find(sf_stack_t *st, uint16_t port)
{
	for (uint32_t i = 0; i < st->listener_cnt; i++)
		if (st->listeners[i].port == port)
			return &st->tcbs[st->listeners[i].tcb];
	return NULL;
}

int sf_listener_add(sf_stack_t *st, sf_tcb_t *t)
{
	if (sf_listener_find(st, t->lport))
		return SF_EADDRINUSE;
	if (st->listener_cnt == st->listener_cap) {
		uint32_t cap = st->listener_cap ? st->listener_cap * 2 : 8;
		sf_listener_t *n = sf_core_alloc(st, cap * sizeof *n);
		if (!n)
			return SF_ENOMEM;
		if (st->listeners) {
			memcpy(n, st->listeners, st->listener_cnt * sizeof *n);
			sf_core_free(st, st->listeners, st->listener_cap * sizeof *n);
		}
		st->listeners = n;
		st->listener_cap = cap;
	}
	st->listeners[st->listener_cnt++] = (sf_listener_t){t->lport, tcb_index(st, t)};
	return 0;
}

void sf_listener_remove(sf_stack_t *st, sf_tcb_t *t)
{
	for (uint32_t i = 0; i < st->listener_cnt; i++)
		if (st->listeners[i].tcb == tcb_index(st, t)) {
			st->listeners[i] = st->listeners[--st->listener_cnt];
			return;
		}
}

bool sf_port_in_use(sf_stack_t *st, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	if (raddr == 0)
		return sf_listener_find(st, lport) != NULL;
	uint32_t h = sf_tuple_hash(st, raddr, rport, lport); /* one hash, both tables */
	return sf_tcb_lookup_h(st, h, raddr, rport, lport) ||
	       sf_tw_lookup_h(st, h, raddr, rport, lport);
}

/* ---- initial sequence numbers, RFC 6528 §3:
 * ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
 * M is a 4-microsecond clock (MUST-8); F is SipHash-2-4 keyed with a secret
 * drawn when the stack is created, so it cannot be computed from outside
 * (MUST-9). */
uint32_t sf_isn(sf_stack_t *st, uint32_t raddr, uint16_t lport, uint16_t rport)
{
	uint8_t b[12];
	sf_put32(b, st->cfg.addr);
	sf_put16(b + 4, lport);
	sf_put32(b + 6, raddr);
	sf_put16(b + 10, rport);
	uint32_t f = (uint32_t)sf_siphash24(&st->isn_key, b, sizeof b);
	return f + (uint32_t)(st->now_us / 4);
}

/* ---- the state machine: RFC 9293 Figure 5 ----
 * Every change of state goes through sf_tcb_set_state(). The table lists the
 * edges of Figure 5; any state may also go to CLOSED (ABORT, RST, timeout).
 * A child connection made by a listener starts in LISTEN and takes the edge
 * LISTEN -> SYN-RECEIVED; the listener itself stays in LISTEN, which is how "SYN-RECEIVED returns
 * to LISTEN on RST" (MUST-11) looks when each connection has its own block. */
static const uint16_t legal_edges[SF_STATE_COUNT] = {
        [SF_CLOSED] = 1u << SF_LISTEN | 1u << SF_SYN_SENT | 1u << SF_SYN_RECEIVED,
        [SF_LISTEN] = 1u << SF_SYN_RECEIVED | 1u << SF_SYN_SENT,
        [SF_SYN_SENT] = 1u << SF_SYN_RECEIVED | 1u << SF_ESTABLISHED,
        [SF_SYN_RECEIVED] =
                1u << SF_ESTABLISHED | 1u << SF_FIN_WAIT_1 | 1u << SF_LISTEN | 1u << SF_CLOSE_WAIT,
        [SF_ESTABLISHED] = 1u << SF_FIN_WAIT_1 | 1u << SF_CLOSE_WAIT,
        [SF_FIN_WAIT_1] = 1u << SF_FIN_WAIT_2 | 1u << SF_CLOSING | 1u << SF_TIME_WAIT,
        [SF_FIN_WAIT_2] = 1u << SF_TIME_WAIT,
        [SF_CLOSE_WAIT] = 1u << SF_LAST_ACK,
        [SF_CLOSING] = 1u << SF_TIME_WAIT,
        [SF_LAST_ACK] = 0,
        [SF_TIME_WAIT] = 0,
};

bool sf_state_edge_legal(sf_state_t from, sf_state_t to)
{
	if (from >= SF_STATE_COUNT || to >= SF_STATE_COUNT || from == to)
		return false;
	if (to == SF_CLOSED)
		return true;
	return (legal_edges[from] >> to) & 1u;
}

void sf_tcb_set_state(sf_stack_t *st, sf_tcb_t *t, sf_state_t to, sf_cause_t cause)
{
	sf_state_t from = (sf_state_t)t->state;
	SF_ASSERT(sf_state_edge_legal(from, to));
	t->state = (uint8_t)to;
	sf_tcb_mark_ready(st, t); /* also when a timer closed it */
	if (!sf_tracing(st))
		return; /* the event (~200 bytes to zero) is built only for a sink */
	sf_event_t ev = {.kind = SF_EV_STATE, .conn_id = t->id};
	ev.u.state.from = from;
	ev.u.state.to = to;
	ev.u.state.cause = cause;
	sf_core_trace_emit(st, &ev);
}

/* Removes c from the list *head..*tail; true if it was there. The lists
 * are short (bounded by the backlogs). */
static bool q_remove(sf_stack_t *st, uint32_t *head, uint32_t *tail, sf_tcb_t *c)
{
	uint32_t me = tcb_index(st, c), *p = head, prev = SF_NIL;
	while (*p != SF_NIL && *p != me) {
		prev = *p;
		p = &st->tcbs[*p].acceptq_next;
	}
	if (*p != me)
		return false;
	*p = c->acceptq_next;
	if (*tail == me)
		*tail = prev;
	c->acceptq_next = SF_NIL;
	return true;
}

static void q_append(sf_stack_t *st, uint32_t *head, uint32_t *tail, sf_tcb_t *c)
{
	uint32_t me = tcb_index(st, c);
	c->acceptq_next = SF_NIL;
	if (*tail == SF_NIL)
		*head = me;
	else
		st->tcbs[*tail].acceptq_next = me;
	*tail = me;
}

void sf_listener_enqueue(sf_stack_t *st, sf_tcb_t *l, sf_tcb_t *c, bool accepted)
{
	if (!accepted) {
		q_append(st, &l->synq_head, &l->synq_tail, c);
		l->synq_len++;
		return;
	}
	if (q_remove(st, &l->synq_head, &l->synq_tail, c))
		l->synq_len--;
	q_append(st, &l->acceptq_next, &l->acceptq_tail, c);
	l->acceptq_len++;
	c->flags |= F_IN_ACCEPTQ;
	sf_tcb_mark_ready(st, l);
}

/* ---- the application's side of opening: LISTEN, accept, CONNECT ---- */

int sf_tcb_listen(sf_stack_t *st, sf_tcb_t *t, int backlog)
{
	int rc = sf_listener_add(st, t);
	if (rc < 0)
		return rc;
	t->backlog = (uint16_t)(backlog < 1 ? 1 : backlog > 65535 ? 65535 : backlog);
	t->acceptq_next = t->acceptq_tail = SF_NIL;
	sf_tcb_set_state(st, t, SF_LISTEN, SF_CAUSE_APP_LISTEN);
	return 0;
}

sf_tcb_t *sf_listener_accept(sf_stack_t *st, sf_tcb_t *l)
{
	if (l->acceptq_next == SF_NIL)
		return NULL;
	sf_tcb_t *c = &st->tcbs[l->acceptq_next];
	l->acceptq_next = c->acceptq_next;
	if (l->acceptq_next == SF_NIL)
		l->acceptq_tail = SF_NIL;
	l->acceptq_len--;
	c->acceptq_next = SF_NIL;
	c->listener = SF_NIL;
	c->flags &= ~(uint32_t)F_IN_ACCEPTQ;
	c->flags |= F_HANDLE;
	return c;
}

/* RFC 6056 §3.3.3 (Algorithm 3): a per-destination offset from a keyed hash
 * plus a global counter, so ports are hard to guess and reuse is spread. */
int sf_ephemeral_port(sf_stack_t *st, uint32_t raddr, uint16_t rport, uint16_t *out)
{
	uint8_t b[10];
	sf_put32(b, st->cfg.addr);
	sf_put32(b + 4, raddr);
	sf_put16(b + 8, rport);
	uint32_t offset = (uint32_t)sf_siphash24(&st->port_key, b, sizeof b);
	uint32_t num = (uint32_t)st->cfg.port_max - st->cfg.port_min + 1;
	for (uint32_t i = 0; i < num; i++) {
		uint16_t port = (uint16_t)(st->cfg.port_min + (offset + st->port_counter) % num);
		st->port_counter++;
		if (!sf_listener_find(st, port) && !sf_port_in_use(st, port, raddr, rport)) {
			*out = port;
			return 0;
		}
	}
	return SF_EADDRINUSE;
}

int sf_tcb_connect(sf_stack_t *st, sf_tcb_t *t, uint32_t raddr, uint16_t rport)
{
	uint32_t h;
	if (t->lport) {
		/* sf_port_in_use, with the hash kept for the insert below */
		h = sf_tuple_hash(st, raddr, rport, t->lport);
		if (sf_tcb_lookup_h(st, h, raddr, rport, t->lport) ||
		    sf_tw_lookup_h(st, h, raddr, rport, t->lport))
			return SF_EADDRINUSE;
	} else if (sf_ephemeral_port(st, raddr, rport, &t->lport) < 0) {
		return SF_EADDRINUSE;
	} else {
		h = sf_tuple_hash(st, raddr, rport, t->lport);
	}
	t->raddr = raddr;
	t->rport = rport;
	st->syn_sent_input = sf_syn_sent_input; /* linked with the connect only */
	sf_tcb_connect_init(st, t);
	t->flags |= F_ACTIVE;
	t->rtt_start_us = st->now_us;
	sf_tcb_set_state(st, t, SF_SYN_SENT, SF_CAUSE_APP_CONNECT);
	sf_tcb_hash_insert_h(st, t, h);
	st->stats.conns_active++;
	sf_tcb_mark_dirty(st, t);
	return SF_EINPROGRESS;
}

static void unlink_from_listener(sf_stack_t *st, sf_tcb_t *t)
{
	if (t->listener == SF_NIL)
		return;
	sf_tcb_t *l = &st->tcbs[t->listener];
	if (t->flags & F_IN_ACCEPTQ) {
		if (q_remove(st, &l->acceptq_next, &l->acceptq_tail, t))
			l->acceptq_len--;
		t->flags &= ~(uint32_t)F_IN_ACCEPTQ;
	} else if (q_remove(st, &l->synq_head, &l->synq_tail, t)) {
		l->synq_len--;
	}
	t->listener = SF_NIL;
}

/* Leaves the demux and the output list; the block itself stays. */
void sf_tcb_detach(sf_stack_t *st, sf_tcb_t *t)
{
	unlink_from_listener(st, t);
	if (t->state == SF_LISTEN)
		sf_listener_remove(st, t);
	else if (t->lport && t->raddr)
		sf_tcb_hash_remove(st, t);
	for (int i = 0; i < T_COUNT; i++)
		t->deadline[i] = INT64_MAX;
	sf_wheel_cancel(&st->wheel, &t->timer);
}

void sf_tcb_close(sf_stack_t *st, sf_tcb_t *t, int err, sf_cause_t cause)
{
	if (t->state == SF_LISTEN) {
		/* A listener takes its unaccepted children with it. */
		while (t->acceptq_next != SF_NIL) {
			sf_tcb_t *c = &st->tcbs[t->acceptq_next];
			sf_send_rst(st, c);
			sf_tcb_close(st, c, SF_ECONNABORTED, SF_CAUSE_APP_ABORT);
		}
		while (t->synq_head != SF_NIL) {
			sf_tcb_t *c = &st->tcbs[t->synq_head];
			sf_send_rst(st, c);
			sf_tcb_close(st, c, SF_ECONNABORTED, SF_CAUSE_APP_ABORT);
		}
	}
	sf_tcb_detach(st, t);
	if (t->state != SF_CLOSED)
		sf_tcb_set_state(st, t, SF_CLOSED, cause);
	if (err && (t->state == SF_CLOSED))
		st->stats.conns_failed += (t->flags & F_ACTIVE) && cause != SF_CAUSE_APP_ABORT;
	if (t->flags & F_HANDLE) {
		/* The handle holder learns the outcome; the block is freed when
		 * it calls sf_close (MUST-12). */
		if (err && !t->error)
			t->error = (int8_t)err;
		t->flags |= F_FIN_RCVD; /* readers see the error, then EOF */
		return;
	}
	if (!(t->flags & F_DIRTY))
		sf_tcb_free(st, t);
	/* else: freed by the output pass, which skips CLOSED blocks */
}

void sf_tuple_prefetch(const sf_stack_t *st, uint32_t hash)
{
#if defined(__GNUC__)
	__builtin_prefetch(&st->buckets[hash & st->bucket_mask]);
	if (st->tw_cnt)
		__builtin_prefetch(&st->tw_buckets[hash & st->tw_mask]);
#else
	(void)st, (void)hash;
#endif
}

/* ---- per-connection timers on one wheel entry ---- */

static void rearm(sf_stack_t *st, sf_tcb_t *t)
{
	int64_t m = INT64_MAX;
	for (int i = 0; i < T_COUNT; i++)
		if (t->deadline[i] < m)
			m = t->deadline[i];
	if (m == INT64_MAX)
		sf_wheel_cancel(&st->wheel, &t->timer);
	else if (!sf_timer_armed(&t->timer) || t->timer.deadline_us != m)
		sf_wheel_arm(&st->wheel, &t->timer, m);
}

/* While the entry is armed its deadline is at most every deadline[] (equal
 * to the earliest, except inside sf_tcb_timers_fire, which re-arms at the
 * end). So a change that neither moves a deadline below the entry's nor
 * touches the one it stands for leaves the entry as it is: no scan of
 * deadline[], no wheel operation. */
void sf_tcb_timer_set(sf_stack_t *st, sf_tcb_t *t, int which, int64_t at_us)
{
	int64_t old = t->deadline[which];
	t->deadline[which] = at_us;
	if (t->timer_hold)
		return;
	if (sf_timer_armed(&t->timer)) {
		int64_t cur = t->timer.deadline_us;
		if (at_us < cur) {
			sf_wheel_arm(&st->wheel, &t->timer, at_us);
			return;
		}
		if (at_us == cur || old != cur)
			return;
	}
	rearm(st, t);
}

void sf_tcb_timer_clear(sf_stack_t *st, sf_tcb_t *t, int which)
{
	int64_t old = t->deadline[which];
	if (old == INT64_MAX)
		return;
	t->deadline[which] = INT64_MAX;
	if (t->timer_hold || (sf_timer_armed(&t->timer) && old != t->timer.deadline_us))
		return;
	rearm(st, t);
}

void sf_tcb_timers_sync(sf_stack_t *st, sf_tcb_t *t)
{
	t->timer_hold = 0;
	rearm(st, t);
}

/* RFC 9293 §3.8.4 / RFC 1122 4.2.3.6: an idle connection with keepalive on
 * is probed keepidle seconds after the last segment from the peer. Called
 * on every change that can move that instant: the option or its idle time
 * set by the application, the connection becoming established, a segment
 * received. Clears the deadline when keepalive is off or the state has
 * nothing to probe. */
#if SF_HAVE_KEEPALIVE /* SF_NO_KEEPALIVE: a stub in stack.h */
void sf_tcb_keepalive_arm(sf_stack_t *st, sf_tcb_t *t)
{
	if ((t->flags & F_KEEPALIVE) && keepalive_state(t))
		sf_tcb_timer_set(st, t, T_KEEPALIVE, st->now_us + (int64_t)t->keepidle_s * 1000000);
	else
		sf_tcb_timer_clear(st, t, T_KEEPALIVE);
}
#endif

void sf_tcb_rcv_consumed(sf_stack_t *st, sf_tcb_t *t)
{
	if (!t->rcv.len && !t->ooo.cnt)
		sf_ring_release(st, &t->rcv);
	/* A window update when the window grew enough to matter, not held
	 * back by delayed ACK (RFC 9293 §3.8.6.2.2, RFC 1122 4.2.3.3). */
	if (t->state == SF_ESTABLISHED || t->state == SF_FIN_WAIT_1 || t->state == SF_FIN_WAIT_2) {
		uint32_t edge = t->rcv_nxt + rcv_space(t);
		uint32_t step = t->rcvbuf / 2 < t->rcv_mss ? t->rcvbuf / 2 : t->rcv_mss;
		if (sf_seq_gt(edge, t->rcv_adv) && edge - t->rcv_adv >= step) {
			t->flags |= F_ACK_NOW;
			sf_tcb_mark_dirty(st, t);
		}
	}
}

void sf_tcb_shutdown_read(sf_stack_t *st, sf_tcb_t *t)
{
	t->flags |= F_RD_SHUT;
	sf_ring_consume(&t->rcv, t->rcv.len);
	sf_tcb_rcv_consumed(st, t);
}

int sf_tcb_set_maxseg(sf_stack_t *st, sf_tcb_t *t, int mss)
{
	(void)st;
	if (mss < 88 || mss > 65535)
		return SF_EINVAL; /* Linux's TCP_MIN_MSS .. MAX_TCP_WINDOW */
	t->user_mss = (uint16_t)mss;
	/* Not yet announced: the SYN carries the smaller MSS (init_conn). On
	 * an open connection, only the send side can still shrink. */
	if (t->state != SF_CLOSED && t->state != SF_LISTEN && t->state != SF_SYN_SENT &&
	    t->snd_mss > mss)
		t->snd_mss = (uint16_t)mss;
	return 0;
}
