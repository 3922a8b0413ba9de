/* State inference: the states of a side no trace event reported.
 *
 * A ladder knows a side's states exactly when that side is a synfin stack
 * whose trace events were recorded (the simulation's two ends, serve's and
 * get's own end). The other end of a live connection (the kernel behind a
 * TUN) and both ends of a capture only show up through the segments they
 * sent and received. For such a side this file runs one shadow of the
 * RFC 9293 state machine (§3.3.2, §3.10) over the ladder's segment rows in
 * their order, fed with what the side sent and what it received, and writes
 * the states it enters on the rows. The same code serves `synfin ladder`
 * (captures), serve's page and /_synfin/ladder/, and `synfin get --ladder`:
 * every view of a connection infers alike.
 *
 * What the packets tell, and what not:
 *   - how the side first answers the opening SYN tells what it was: a
 *     SYN,ACK a listener in LISTEN; a RST,ACK a CLOSED port with no
 *     listener (§3.10.7.1); a SYN of its own a simultaneous open (§3.5,
 *     Figure 8), taken only after the side sent its own SYN. No answer at
 *     all tells nothing (no host, a filter, a lost SYN): "?";
 *   - a FIN sent from CLOSE-WAIT that does not acknowledge the peer's FIN
 *     was sent before that FIN arrived: both closed at once, FIN-WAIT-1 then
 *     CLOSING instead of CLOSE-WAIT (§3.6, Figure 13);
 *   - a connection picked up mid-stream has an unknown first state, drawn
 *     "?" (LSTATE_UNKNOWN); the shadow goes on as if ESTABLISHED;
 *   - 2*MSL expiring sends nothing: an inferred TIME-WAIT stays TIME-WAIT.
 */
#include <string.h>

#include "trace/ladder_int.h"

#define NO_INDEX SIZE_MAX

struct shadow {
	sf_state_t st;
	bool iss_known, fin_sent, peer_fin;
	uint32_t iss;
	uint32_t fin_seq;      /* the sequence number our FIN occupies */
	uint32_t peer_fin_seq; /* the one the peer's FIN occupies */
	size_t close_wait_row; /* row where CLOSE-WAIT was inferred */
};

/* RFC 9293 §3.10: the state a side enters by sending `t`. */
static sf_state_t shadow_send(struct shadow *sh, const sf_tcp_t *t)
{
	if (t->flags & SF_TCP_RST)
		return SF_CLOSED; /* §3.10.4 ABORT, or a reset of an unknown connection */
	if (t->flags & SF_TCP_SYN) {
		if (!sh->iss_known) {
			sh->iss_known = true;
			sh->iss = t->seq;
		}
		if (!(t->flags & SF_TCP_ACK)) {
			/* §3.10.1 OPEN (active), or SEND in LISTEN */
			if (sh->st == SF_CLOSED || sh->st == SF_LISTEN)
				return SF_SYN_SENT;
		} else if (sh->st == SF_LISTEN || sh->st == SF_SYN_SENT) {
			/* §3.10.7.2: LISTEN answers a SYN with SYN,ACK */
			return SF_SYN_RECEIVED;
		}
	}
	if (t->flags & SF_TCP_FIN) {
		sh->fin_sent = true;
		sh->fin_seq = t->seq + t->payload_len + !!(t->flags & SF_TCP_SYN);
		/* §3.10.4 CLOSE */
		if (sh->st == SF_ESTABLISHED || sh->st == SF_SYN_RECEIVED)
			return SF_FIN_WAIT_1;
		if (sh->st == SF_CLOSE_WAIT)
			return SF_LAST_ACK;
	}
	return sh->st;
}

/* RFC 9293 §3.10.7: the state a side enters by receiving `t`. */
static sf_state_t shadow_recv(struct shadow *sh, const sf_tcp_t *t)
{
	sf_state_t st = sh->st;
	bool ack = (t->flags & SF_TCP_ACK) != 0;
	if (st == SF_CLOSED)
		return st;
	if (t->flags & SF_TCP_RST) {
		/* §3.10.7.2: LISTEN ignores a RST; §3.10.7.3: in SYN-SENT
		 * only one that acknowledges our SYN counts. */
		if (st == SF_LISTEN)
			return st;
		if (st == SF_SYN_SENT && !(ack && sh->iss_known && t->ack == sh->iss + 1))
			return st;
		return SF_CLOSED;
	}
	if (t->flags & SF_TCP_SYN) {
		if (st == SF_SYN_SENT) {
			/* §3.10.7.3: SYN,ACK of our SYN -> ESTABLISHED; a bare
			 * SYN is a simultaneous open -> SYN-RECEIVED. */
			if (ack && sh->iss_known && t->ack == sh->iss + 1)
				return SF_ESTABLISHED;
			if (!ack)
				return SF_SYN_RECEIVED;
			return st;
		}
		if (st == SF_SYN_RECEIVED && ack && sh->iss_known && sf_seq_ge(t->ack, sh->iss + 1))
			return SF_ESTABLISHED;
		return st; /* LISTEN waits for its own SYN,ACK to be sent */
	}
	if (ack) {
		if (st == SF_SYN_RECEIVED && (!sh->iss_known || sf_seq_gt(t->ack, sh->iss)))
			st = SF_ESTABLISHED; /* §3.10.7.4: our SYN acknowledged */
		if (sh->fin_sent && sf_seq_gt(t->ack, sh->fin_seq)) {
			/* §3.10.7.4: our FIN acknowledged */
			if (st == SF_FIN_WAIT_1)
				st = SF_FIN_WAIT_2;
			else if (st == SF_CLOSING)
				st = SF_TIME_WAIT;
			else if (st == SF_LAST_ACK)
				st = SF_CLOSED;
		}
	}
	if ((t->flags & SF_TCP_FIN) && !sh->peer_fin) {
		sh->peer_fin = true;
		sh->peer_fin_seq = t->seq + t->payload_len;
		/* §3.10.7.4, eighth: check the FIN bit */
		if (st == SF_ESTABLISHED || st == SF_SYN_RECEIVED)
			st = SF_CLOSE_WAIT;
		else if (st == SF_FIN_WAIT_1)
			st = SF_CLOSING;
		else if (st == SF_FIN_WAIT_2)
			st = SF_TIME_WAIT;
	}
	return st;
}

/* A row of its own for a change of side s just below row k. Returns false
 * when out of memory. Invalidates row pointers. */
static bool push_state_row(sf_ladder_t *l, int s, size_t k, sf_state_t st, sf_cause_t cause)
{
	int64_t t = l->rows[k].kind == LROW_SEG && l->rows[k].side != s ? l->rows[k].t_rx_us
	                                                                : l->rows[k].t_us;
	uint64_t order = l->rows[k].order + 2;
	lrow_t *r = sf_ladder_row_push(l);
	if (r == NULL)
		return false;
	r->kind = LROW_STATE;
	r->side = (uint8_t)s;
	r->t_us = r->t_rx_us = t;
	r->order = order;
	r->has_state[s] = true;
	r->state[s] = st;
	r->cause[s] = cause;
	r->inferred = true;
	return true;
}

static void set_row_state(sf_ladder_t *l, size_t k, int s, sf_state_t st, sf_cause_t cause)
{
	l->rows[k].has_state[s] = true;
	l->rows[k].state[s] = st;
	l->rows[k].cause[s] = cause;
}

/* The cause of an inferred change, as the engine would have named it. */
static sf_cause_t send_cause(const sf_tcp_t *t, sf_state_t to)
{
	if (t->flags & SF_TCP_RST)
		return SF_CAUSE_APP_ABORT;
	if (to == SF_SYN_SENT)
		return SF_CAUSE_APP_CONNECT;
	if (to == SF_SYN_RECEIVED)
		return SF_CAUSE_RCV_SYN;
	return SF_CAUSE_APP_CLOSE;
}

static sf_cause_t recv_cause(const sf_tcp_t *t, sf_state_t from, sf_state_t to)
{
	if (t->flags & SF_TCP_RST)
		return SF_CAUSE_RCV_RST;
	if ((t->flags & SF_TCP_SYN) && (t->flags & SF_TCP_ACK))
		return SF_CAUSE_RCV_SYNACK;
	if (t->flags & SF_TCP_SYN)
		return SF_CAUSE_RCV_SYN;
	if ((t->flags & SF_TCP_FIN) && from == SF_FIN_WAIT_1 && to == SF_TIME_WAIT)
		return SF_CAUSE_RCV_FINACK;
	if ((t->flags & SF_TCP_FIN) &&
	    (to == SF_CLOSE_WAIT || to == SF_CLOSING || to == SF_TIME_WAIT))
		return SF_CAUSE_RCV_FIN;
	return SF_CAUSE_RCV_ACK;
}

/* How the other end took the opening SYN (row `first`, sent by `opener`):
 * the first segment it sent tells. */
enum open_kind {
	OPEN_PASSIVE,      /* it listened: LISTEN (a SYN,ACK, or later segments) */
	OPEN_REFUSED,      /* RST,ACK of the SYN: no listener, CLOSED */
	OPEN_SIMULTANEOUS, /* a SYN of its own: both ends opened actively */
	OPEN_SILENT        /* it sent nothing: whether it exists is unknown */
};

static enum open_kind open_kind_of(const sf_ladder_t *l, size_t first)
{
	const lrow_t *syn = &l->rows[first];
	for (size_t i = first + 1; i < l->row_cnt; i++) {
		const lrow_t *p = &l->rows[i];
		if (p->kind != LROW_SEG || p->side == syn->side)
			continue;
		uint8_t f = p->tcp.flags;
		/* RFC 9293 §3.10.7.1: a CLOSED end answers a SYN with
		 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; a LISTEN one never
		 * resets a SYN (§3.10.7.2). */
		if ((f & SF_TCP_RST) && (f & SF_TCP_ACK) &&
		    p->tcp.ack == syn->tcp.seq + sf_tcp_seg_len(&syn->tcp))
			return OPEN_REFUSED;
		/* §3.5 Figure 8: a SYN without ACK crosses ours. */
		if ((f & (SF_TCP_SYN | SF_TCP_ACK | SF_TCP_RST)) == SF_TCP_SYN)
			return OPEN_SIMULTANEOUS;
		return OPEN_PASSIVE;
	}
	return OPEN_SILENT;
}

int sf_ladder_infer(sf_ladder_t *l, int s)
{
	size_t n = l->row_cnt, first = NO_INDEX;
	for (size_t i = 0; i < n && first == NO_INDEX; i++)
		if (l->rows[i].kind == LROW_SEG)
			first = i;
	if (first == NO_INDEX)
		return 0; /* no segment: nothing to infer, nothing drawn */
	l->inferred[s] = true;
	l->init[s] = LSTATE_UNKNOWN;

	/* The initial state: a connection seen from its SYN starts CLOSED at
	 * the opener, and LISTEN at the other end, or CLOSED when that end
	 * refused it or opened at the same time (open_kind_of); one seen from
	 * the SYN,ACK has a client in SYN-SENT and a server in LISTEN; one
	 * picked up mid-stream is "?" (and taken as ESTABLISHED). */
	struct shadow sh;
	memset(&sh, 0, sizeof sh);
	const lrow_t *r0 = &l->rows[first];
	uint8_t ff = r0->tcp.flags;
	enum open_kind open = OPEN_PASSIVE;
	if ((ff & SF_TCP_SYN) && !(ff & SF_TCP_ACK)) {
		open = open_kind_of(l, first);
		sh.st = r0->side == s || (open != OPEN_PASSIVE && open != OPEN_SILENT) ? SF_CLOSED
		                                                                       : SF_LISTEN;
		/* Drawn "?" when it never answered (a get to an address where
		 * nothing runs drew a LISTEN server); the shadow listens, so a
		 * later answer would still be read. */
		l->init[s] = r0->side != s && open == OPEN_SILENT ? LSTATE_UNKNOWN : sh.st;
	} else if ((ff & SF_TCP_SYN) && (ff & SF_TCP_ACK)) {
		if (r0->side == s) {
			sh.st = SF_LISTEN;
		} else {
			sh.st = SF_SYN_SENT;
			sh.iss_known = true;
			sh.iss = r0->tcp.ack - 1;
		}
		l->init[s] = sh.st;
	} else {
		sh.st = SF_ESTABLISHED;
	}

	/* Simultaneous open: the peer's SYN that reached the side before it
	 * sent its own, held until it has. */
	bool syn_pending = false;
	sf_tcp_t syn_held;
	memset(&syn_held, 0, sizeof syn_held);
	for (size_t k = first; k < n; k++) {
		if (l->rows[k].kind != LROW_SEG)
			continue;
		sf_tcp_t t = l->rows[k].tcp;
		sf_state_t before = sh.st, st;
		if (l->rows[k].side == s) {
			/* A FIN sent from CLOSE-WAIT that does not acknowledge
			 * the peer's FIN was sent before that FIN arrived: both
			 * closed at once (§3.6). Undo CLOSE-WAIT; FIN-WAIT-1
			 * then CLOSING. */
			bool simultaneous = (t.flags & SF_TCP_FIN) && before == SF_CLOSE_WAIT &&
			                    sh.peer_fin && (t.flags & SF_TCP_ACK) &&
			                    sf_seq_le(t.ack, sh.peer_fin_seq);
			if (simultaneous) {
				lrow_t *cw = &l->rows[sh.close_wait_row];
				if (cw->has_state[s] && cw->state[s] == SF_CLOSE_WAIT)
					cw->has_state[s] = false;
				sh.st = SF_ESTABLISHED;
			}
			st = shadow_send(&sh, &t);
			if (st != before || simultaneous)
				set_row_state(l, k, s, st, send_cause(&t, st));
			sh.st = st;
			if (simultaneous && st == SF_FIN_WAIT_1) {
				sh.st = SF_CLOSING;
				if (!push_state_row(l, s, k, SF_CLOSING, SF_CAUSE_RCV_FIN))
					return SF_ENOMEM;
			}
			/* RFC 9293 §3.5 Figure 8: its own SYN out, the side
			 * takes the peer's SYN it was holding: SYN-SENT ->
			 * SYN-RECEIVED, just below. */
			if (syn_pending && before == SF_CLOSED && st == SF_SYN_SENT) {
				syn_pending = false;
				sh.st = shadow_recv(&sh, &syn_held);
				if (sh.st != st &&
				    !push_state_row(l, s, k, sh.st, SF_CAUSE_RCV_SYN))
					return SF_ENOMEM;
			}
			continue;
		}
		/* Received by s: unless it never arrived. */
		if (l->rows[k].lost)
			continue;
		if (open == OPEN_SIMULTANEOUS && before == SF_CLOSED && !sh.iss_known &&
		    (t.flags & (SF_TCP_SYN | SF_TCP_ACK | SF_TCP_RST)) == SF_TCP_SYN) {
			/* About to send its own SYN: the peer's crossed it on
			 * the way (it cannot have arrived before, or the answer
			 * would be a SYN,ACK or a RST). */
			syn_pending = true;
			syn_held = t;
			continue;
		}
		st = shadow_recv(&sh, &t);
		if (st != before) {
			set_row_state(l, k, s, st, recv_cause(&t, before, st));
			if (st == SF_CLOSE_WAIT)
				sh.close_wait_row = k;
		}
		sh.st = st;
	}
	return 0;
}
