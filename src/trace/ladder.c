/* Ladder model: turns the trace events of two stacks into rows.
 *
 * Each side's events are kept in the order they were added. When a render
 * asks for the rows, the builder picks the connection to draw on each side,
 * pairs every transmitted segment with its reception on the other side (same
 * ports, seq, ack, flags and length; the first one not yet paired), turns
 * unpaired transmissions into lost arrows, timers and drops into notes, and
 * attaches every state change to the row where it happened: a change caused
 * by a received segment to that segment's arrow, one caused by the
 * application (connect, close, abort) to the segment it makes the stack
 * send, one caused by a timer to the timer's note. This file also holds the
 * text pieces both renderers share (labels, notes, titles) and the display
 * width of UTF-8 text.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "trace/ladder_int.h"

#define NO_INDEX SIZE_MAX
#define MAX_IDS  16

/* ---- storage ---- */

sf_ladder_t *sf_ladder_new(void)
{
	sf_ladder_t *l = calloc(1, sizeof *l);
	if (l == NULL)
		return NULL;
	l->init[0] = l->init[1] = SF_CLOSED;
	l->final[0] = l->final[1] = SF_CLOSED;
	return l;
}

void sf_ladder_free(sf_ladder_t *l)
{
	if (l == NULL)
		return;
	free(l->ev[0]);
	free(l->ev[1]);
	free(l->rows);
	free(l);
}

int sf_ladder_set_conn(sf_ladder_t *l, int side, uint32_t conn_id)
{
	if (l == NULL || side < 0 || side > 1 || l->sealed)
		return SF_EINVAL;
	l->conn_set[side] = true;
	l->conn_id[side] = conn_id;
	l->built = false;
	return 0;
}

int sf_ladder_add_event(sf_ladder_t *l, int side, const sf_event_t *ev)
{
	if (l == NULL || ev == NULL || side < 0 || side > 1 || l->sealed)
		return SF_EINVAL;
	if ((unsigned)ev->kind >= SF_EV_COUNT)
		return SF_EINVAL;
	if (ev->kind == SF_EV_CONN_NEW || ev->kind == SF_EV_CONN_FREE)
		return 0;
	if (l->ev_cnt[side] == l->ev_cap[side]) {
		size_t ncap = l->ev_cap[side] ? l->ev_cap[side] * 2 : 64;
		lev_t *n = realloc(l->ev[side], ncap * sizeof *n);
		if (n == NULL)
			return SF_ENOMEM;
		l->ev[side] = n;
		l->ev_cap[side] = ncap;
	}
	lev_t *e = &l->ev[side][l->ev_cnt[side]++];
	memset(e, 0, sizeof *e);
	e->ev = *ev;
	e->order = l->next_order++;
	l->built = false;
	return 0;
}

void sf_ladder_sink(void *tap, const sf_event_t *ev)
{
	sf_ladder_tap_t *t = tap;
	if (t == NULL || t->ladder == NULL)
		return;
	if (sf_ladder_add_event(t->ladder, t->side, ev) == SF_ENOMEM)
		t->ladder->nomem = true;
}

lrow_t *sf_ladder_row_push(sf_ladder_t *l)
{
	if (l->row_cnt == l->row_cap) {
		size_t ncap = l->row_cap ? l->row_cap * 2 : 64;
		lrow_t *n = realloc(l->rows, ncap * sizeof *n);
		if (n == NULL)
			return NULL;
		l->rows = n;
		l->row_cap = ncap;
	}
	lrow_t *r = &l->rows[l->row_cnt];
	memset(r, 0, sizeof *r);
	r->ev_tx = r->ev_rx = NO_INDEX;
	r->pos = l->row_cnt++;
	return r;
}

/* ---- rows: sort, retransmissions, ISNs ---- */

static int compare_rows(const void *a, const void *b)
{
	const lrow_t *x = a, *y = b;
	if (x->t_us != y->t_us)
		return x->t_us < y->t_us ? -1 : 1;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return 0;
}

/* Wireshark-style analysis of the segments, in the order they were sent:
 * the window scale of each side (RFC 7323 §2.2: both SYNs must carry the
 * option; a SYN's own window is never scaled), zero windows, window
 * updates, duplicate ACKs (a pure ACK repeating the last one, same window,
 * while the peer has data unacknowledged: RFC 5681 §2) and why a
 * retransmission was sent. */
static void analyse(sf_ladder_t *l)
{
	bool syn_seen[2] = {false, false}, ws[2] = {false, false};
	uint8_t shift[2] = {0, 0};
	for (size_t i = 0; i < l->row_cnt; i++) {
		const lrow_t *r = &l->rows[i];
		if (r->kind != LROW_SEG || !(r->tcp.flags & SF_TCP_SYN) || syn_seen[r->side])
			continue;
		syn_seen[r->side] = true;
		ws[r->side] = r->tcp.opt.has_wscale;
		shift[r->side] = r->tcp.opt.wscale > 14 ? 14 : r->tcp.opt.wscale;
	}
	l->wscale_known = syn_seen[0] && syn_seen[1];
	for (int s = 0; s < 2; s++)
		l->wscale[s] = ws[0] && ws[1] ? shift[s] : 0;

	bool have_last[2] = {false, false}, sent[2] = {false, false};
	bool rto_mode[2] = {false, false};
	uint32_t last_ack[2] = {0, 0}, last_seq[2] = {0, 0}, snd_max[2] = {0, 0};
	uint32_t dup_run[2] = {0, 0};
	uint16_t last_wnd[2] = {0, 0};
	for (size_t i = 0; i < l->row_cnt; i++) {
		lrow_t *r = &l->rows[i];
		int s = r->side;
		if (r->kind == LROW_NOTE && r->note == LNOTE_TIMER && r->timer == SF_TIMER_RTO)
			rto_mode[s] = true;
		if (r->kind != LROW_SEG)
			continue;
		const sf_tcp_t *t = &r->tcp;
		r->zero_win = t->wnd == 0 && !(t->flags & SF_TCP_RST);
		r->win_update = false;
		r->dupack = 0;
		r->rexmit_why = LREXMIT_UNKNOWN;
		bool pure = t->payload_len == 0 && (t->flags & SF_TCP_ACK) &&
		            !(t->flags & (SF_TCP_SYN | SF_TCP_FIN | SF_TCP_RST));
		bool same = have_last[s] && t->ack == last_ack[s] && t->seq == last_seq[s];
		if (pure && same && t->wnd != last_wnd[s]) {
			r->win_update = true;
		} else if (pure && same && sent[1 - s] && sf_seq_lt(t->ack, snd_max[1 - s])) {
			r->dupack = ++dup_run[s];
		} else if (!have_last[s] || t->ack != last_ack[s]) {
			dup_run[s] = 0;
		}
		if (r->retrans) {
			/* The timer note of this side at the same instant, or the
			 * duplicate ACKs the peer had sent. */
			for (size_t j = i; j-- > 0;) {
				const lrow_t *q = &l->rows[j];
				if (q->t_us != r->t_us)
					break;
				if (q->kind == LROW_NOTE && q->side == s &&
				    q->note == LNOTE_TIMER) {
					if (q->timer == SF_TIMER_RTO)
						r->rexmit_why = LREXMIT_RTO;
					else if (q->timer == SF_TIMER_PERSIST)
						r->rexmit_why = LREXMIT_PROBE;
					break;
				}
			}
			/* What the engine traced, when synfin sent it, comes first. */
			if (r->retx_cause == SF_RETX_RACK)
				r->rexmit_why = LREXMIT_RACK;
			else if (r->retx_cause == SF_RETX_TLP)
				r->rexmit_why = LREXMIT_TLP;
			else if (r->retx_cause == SF_RETX_RTO)
				r->rexmit_why = LREXMIT_RTO;
			if (r->rexmit_why == LREXMIT_UNKNOWN && rto_mode[s]) {
				r->rexmit_why = LREXMIT_RTO;
			} else if (r->rexmit_why == LREXMIT_UNKNOWN && dup_run[1 - s] > 0) {
				r->rexmit_why = LREXMIT_DUPACKS;
				r->rexmit_dups = dup_run[1 - s];
			}
		} else if (sf_tcp_seg_len(t) > 0) {
			rto_mode[s] = false; /* new data: recovery is over */
		}
		have_last[s] = true;
		last_ack[s] = t->ack;
		last_seq[s] = t->seq;
		last_wnd[s] = t->wnd;
		if (!(t->flags & SF_TCP_RST) || t->payload_len > 0) {
			uint32_t end = t->seq + sf_tcp_seg_len(t);
			if (!sent[s] || sf_seq_gt(end, snd_max[s]))
				snd_max[s] = end;
			sent[s] = true;
		}
	}
}

void sf_ladder_rows_finish(sf_ladder_t *l, bool final_from_rows)
{
	if (l->row_cnt > 1)
		qsort(l->rows, l->row_cnt, sizeof *l->rows, compare_rows);
	for (size_t i = 0; i < l->row_cnt; i++)
		l->rows[i].pos = i;
	l->t0_us = l->row_cnt ? l->rows[0].t_us : 0;
	bool sent[2] = {false, false};
	uint32_t snd_max[2] = {0, 0};
	l->has_isn[0] = l->has_isn[1] = false;
	bool isn_from_syn[2] = {false, false};
	bool synack_sent[2] = {false, false};
	for (size_t i = 0; i < l->row_cnt; i++) {
		lrow_t *r = &l->rows[i];
		if (r->kind != LROW_SEG)
			continue;
		int s = r->side;
		uint32_t seg_len = sf_tcp_seg_len(&r->tcp);
		/* The ISN is the sequence number of the side's SYN (RFC 9293
		 * §3.4); without a SYN, the first sequence number seen. */
		if ((r->tcp.flags & SF_TCP_SYN) && !isn_from_syn[s]) {
			l->isn[s] = r->tcp.seq;
			l->has_isn[s] = isn_from_syn[s] = true;
		} else if (!l->has_isn[s]) {
			l->isn[s] = r->tcp.seq;
			l->has_isn[s] = true;
		}
		/* A segment that occupies sequence space below the highest
		 * already sent repeats it: a retransmission (RFC 9293 §3.8.1).
		 * Except the first SYN,ACK after a bare SYN at the same ISN: in
		 * a simultaneous open it answers the peer's SYN (§3.5 Figure 8:
		 * SYN-RECEIVED sends <SEQ=ISS><CTL=SYN,ACK>), it is no repeat. */
		bool synack =
		        (r->tcp.flags & (SF_TCP_SYN | SF_TCP_ACK)) == (SF_TCP_SYN | SF_TCP_ACK);
		bool answers_syn =
		        synack && !synack_sent[s] && isn_from_syn[s] && r->tcp.seq == l->isn[s];
		synack_sent[s] |= synack;
		if (seg_len > 0 && sent[s] && sf_seq_lt(r->tcp.seq, snd_max[s]) && !answers_syn)
			r->retrans = true;
		if (!(r->tcp.flags & SF_TCP_RST) || seg_len > 0) {
			uint32_t end = r->tcp.seq + seg_len;
			if (!sent[s] || sf_seq_gt(end, snd_max[s]))
				snd_max[s] = end;
			sent[s] = true;
		}
	}
	analyse(l);
	if (final_from_rows) {
		l->final[0] = l->init[0];
		l->final[1] = l->init[1];
		for (size_t i = 0; i < l->row_cnt; i++)
			for (int s = 0; s < 2; s++)
				if (l->rows[i].has_state[s])
					l->final[s] = l->rows[i].state[s];
	}
}

/* ---- choosing the connection of each side ---- */

static bool is_seg_event(const sf_event_t *ev)
{
	return ev->kind == SF_EV_SEG_TX || ev->kind == SF_EV_SEG_RX ||
	       (ev->kind == SF_EV_DROP && ev->has_seg);
}

/* A frame synfin's own impairment lost on its way out (after its seg_tx). */
static bool is_impair_tx(const sf_event_t *ev)
{
	return ev->kind == SF_EV_DROP && ev->has_seg && ev->drop == SF_DROP_LINK_IMPAIR_TX;
}

static bool is_rx_event(const sf_event_t *ev)
{
	return ev->kind == SF_EV_SEG_RX ||
	       (ev->kind == SF_EV_DROP && ev->has_seg && !is_impair_tx(ev));
}

/* The 4-tuple of a segment seen from the traced stack: local, then remote. */
struct tuple {
	uint32_t laddr, raddr;
	uint16_t lport, rport;
};

static struct tuple tuple_of(const sf_event_t *ev)
{
	struct tuple t;
	if (ev->kind == SF_EV_SEG_TX || is_impair_tx(ev)) {
		t.laddr = ev->u.seg.ip.src;
		t.raddr = ev->u.seg.ip.dst;
		t.lport = ev->u.seg.tcp.sport;
		t.rport = ev->u.seg.tcp.dport;
	} else {
		t.laddr = ev->u.seg.ip.dst;
		t.raddr = ev->u.seg.ip.src;
		t.lport = ev->u.seg.tcp.dport;
		t.rport = ev->u.seg.tcp.sport;
	}
	return t;
}

static bool tuple_eq(struct tuple a, struct tuple b)
{
	return a.laddr == b.laddr && a.raddr == b.raddr && a.lport == b.lport && a.rport == b.rport;
}

static bool id_in(const uint32_t *ids, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* A connection id is "real" when it entered a synchronized or handshaking
 * state: a listener only ever goes CLOSED -> LISTEN -> CLOSED. */
static bool id_is_real(const lev_t *evs, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++) {
		const sf_event_t *ev = &evs[i].ev;
		if (ev->kind == SF_EV_STATE && ev->conn_id == id && ev->u.state.to != SF_LISTEN &&
		    ev->u.state.to != SF_CLOSED)
			return true;
	}
	return false;
}

/* Marks the events of side s that belong to the drawn connection. When
 * `want` is given (the tuple the other side chose, mirrored) and no id was
 * set for this side, the connection with that tuple is drawn, or nothing if
 * this side never saw it. Returns the tuple chosen, if any, in *got. */
static bool select_side(sf_ladder_t *l, int s, const struct tuple *want, struct tuple *got)
{
	lev_t *evs = l->ev[s];
	size_t n = l->ev_cnt[s];
	size_t anchor = NO_INDEX;
	uint32_t chosen = 0;
	for (size_t i = 0; i < n; i++)
		evs[i].used = false;

	if (l->conn_set[s]) {
		chosen = l->conn_id[s];
		for (size_t i = 0; i < n && anchor == NO_INDEX; i++)
			if (is_seg_event(&evs[i].ev) && evs[i].ev.conn_id == chosen)
				anchor = i;
	} else if (want != NULL) {
		for (size_t i = 0; i < n && anchor == NO_INDEX; i++)
			if (is_seg_event(&evs[i].ev) && tuple_eq(tuple_of(&evs[i].ev), *want))
				anchor = i;
		if (anchor == NO_INDEX)
			return false;
		chosen = evs[anchor].ev.conn_id;
		for (size_t i = anchor; i < n; i++)
			if (is_seg_event(&evs[i].ev) && tuple_eq(tuple_of(&evs[i].ev), *want) &&
			    evs[i].ev.conn_id != 0 && id_is_real(evs, n, evs[i].ev.conn_id)) {
				chosen = evs[i].ev.conn_id;
				break;
			}
	} else {
		/* The first connection that carried a segment; prefer a real
		 * connection over a listener that traced the opening SYN. */
		for (size_t i = 0; i < n && anchor == NO_INDEX; i++)
			if (is_seg_event(&evs[i].ev) && evs[i].ev.conn_id != 0 &&
			    id_is_real(evs, n, evs[i].ev.conn_id))
				anchor = i;
		for (size_t i = 0; i < n && anchor == NO_INDEX; i++)
			if (is_seg_event(&evs[i].ev))
				anchor = i;
		if (anchor != NO_INDEX) {
			chosen = evs[anchor].ev.conn_id;
			/* The anchor may be the listener's SYN: the child
			 * connection on the same tuple is the one to draw. */
			struct tuple t = tuple_of(&evs[anchor].ev);
			for (size_t i = anchor; i < n; i++)
				if (is_seg_event(&evs[i].ev) && tuple_eq(tuple_of(&evs[i].ev), t) &&
				    evs[i].ev.conn_id != 0 &&
				    id_is_real(evs, n, evs[i].ev.conn_id)) {
					chosen = evs[i].ev.conn_id;
					break;
				}
		} else {
			for (size_t i = 0; i < n; i++)
				if (evs[i].ev.conn_id != 0) {
					chosen = evs[i].ev.conn_id;
					break;
				}
		}
	}

	if (anchor == NO_INDEX) {
		for (size_t i = 0; i < n; i++)
			evs[i].used = evs[i].ev.conn_id == chosen && chosen != 0;
		return false;
	}

	/* Ids seen on the tuple that are not another real connection (e.g. the
	 * listener that received the SYN, or 0 for a drop). */
	struct tuple t = tuple_of(&evs[anchor].ev);
	uint32_t ids[MAX_IDS];
	size_t id_cnt = 0;
	ids[id_cnt++] = chosen;
	for (size_t i = 0; i < n; i++) {
		const sf_event_t *ev = &evs[i].ev;
		if (!is_seg_event(ev) || !tuple_eq(tuple_of(ev), t))
			continue;
		if (id_in(ids, id_cnt, ev->conn_id) || id_is_real(evs, n, ev->conn_id))
			continue;
		if (id_cnt < MAX_IDS)
			ids[id_cnt++] = ev->conn_id;
	}
	for (size_t i = 0; i < n; i++) {
		const sf_event_t *ev = &evs[i].ev;
		if (is_seg_event(ev))
			evs[i].used = tuple_eq(tuple_of(ev), t) && id_in(ids, id_cnt, ev->conn_id);
		else
			evs[i].used = id_in(ids, id_cnt, ev->conn_id) &&
			              (ev->conn_id != 0 || ev->kind != SF_EV_DROP);
	}
	if (!l->has_ep[s]) {
		l->has_ep[s] = true;
		l->addr[s] = t.laddr;
		l->port[s] = t.lport;
	}
	if (!l->has_ep[1 - s]) {
		l->has_ep[1 - s] = true;
		l->addr[1 - s] = t.raddr;
		l->port[1 - s] = t.rport;
	}
	*got = t;
	return true;
}

/* ---- pairing and rows ---- */

static bool same_segment(const sf_event_t *tx, const sf_event_t *rx)
{
	const sf_tcp_t *a = &tx->u.seg.tcp, *b = &rx->u.seg.tcp;
	return a->sport == b->sport && a->dport == b->dport && a->seq == b->seq &&
	       a->ack == b->ack && a->flags == b->flags && a->payload_len == b->payload_len;
}

/* Pairs each reception on side s with a transmission of the same segment
 * on the other side that is not yet paired and was sent no later.
 *
 * Identical copies (retransmissions, duplicate ACKs) make that ambiguous:
 * the retransmission ambiguity of RFC 6298 §3, for the reader of a trace.
 * The path's one-way delay decides. Its floor is the shortest time from a
 * segment's first copy to its first arrival (an arrival is of a copy sent
 * no earlier than the first, so this is never below the true delay, and
 * equal to it as soon as one segment's first copy got through quickest);
 * each reception takes the copy whose delay is nearest that floor. So a
 * retransmission takes the arrival when its original was lost, and on a
 * path slower than the retransmission timer the first copy takes the first
 * arrival, the second the second. */
static void pair_side(sf_ladder_t *l, int s)
{
	lev_t *rxs = l->ev[s], *txs = l->ev[1 - s];
	size_t n = l->ev_cnt[1 - s];
	int64_t floor_us = INT64_MAX;
	for (size_t i = 0; i < l->ev_cnt[s]; i++) {
		if (!rxs[i].used || !is_rx_event(&rxs[i].ev))
			continue;
		for (size_t j = 0; j < n; j++) {
			if (txs[j].used && txs[j].ev.kind == SF_EV_SEG_TX &&
			    same_segment(&txs[j].ev, &rxs[i].ev)) {
				int64_t d = rxs[i].ev.now_us - txs[j].ev.now_us;
				if (d >= 0 && d < floor_us)
					floor_us = d;
				break;
			}
		}
	}
	for (size_t i = 0; i < l->ev_cnt[s]; i++) {
		if (!rxs[i].used || !is_rx_event(&rxs[i].ev))
			continue;
		const sf_event_t *rx = &rxs[i].ev;
		size_t first = NO_INDEX, pick = NO_INDEX;
		int64_t best = INT64_MAX;
		for (size_t j = 0; j < n; j++) {
			if (!txs[j].used || txs[j].ev.kind != SF_EV_SEG_TX ||
			    txs[j].match != NO_INDEX || !same_segment(&txs[j].ev, rx))
				continue;
			if (first == NO_INDEX)
				first = j;
			if (txs[j].ev.now_us > rx->now_us)
				break;
			int64_t off = rx->now_us - txs[j].ev.now_us - floor_us;
			if (off < 0)
				off = -off;
			if (off < best) {
				best = off;
				pick = j;
			}
		}
		if (pick == NO_INDEX)
			pick = first; /* clocks disagree: take what there is */
		if (pick != NO_INDEX) {
			txs[pick].match = i;
			rxs[i].match = pick;
		}
	}
}

/* A transmission that synfin's impairment then lost (the drop event that
 * follows it) is lost, whether or not the other side is traced. */
static void mark_impair_lost(sf_ladder_t *l)
{
	for (int s = 0; s < 2; s++) {
		lev_t *evs = l->ev[s];
		for (size_t i = 0; i < l->ev_cnt[s]; i++) {
			if (!evs[i].used || !is_impair_tx(&evs[i].ev))
				continue;
			for (size_t j = i; j-- > 0;) {
				if (evs[j].used && evs[j].ev.kind == SF_EV_SEG_TX && !evs[j].lost &&
				    same_segment(&evs[j].ev, &evs[i].ev)) {
					evs[j].lost = true;
					break;
				}
			}
		}
	}
}

static int make_rows(sf_ladder_t *l)
{
	/* A segment is lost when the other side is traced and never got it. */
	bool peer_traced[2] = {l->ev_cnt[1] > 0, l->ev_cnt[0] > 0};
	for (int s = 0; s < 2; s++) {
		for (size_t i = 0; i < l->ev_cnt[s]; i++) {
			lev_t *e = &l->ev[s][i];
			const sf_event_t *ev = &e->ev;
			if (!e->used || ev->kind == SF_EV_STATE || is_impair_tx(ev))
				continue;
			/* A drop paired with a transmission is shown on its arrow. */
			if (is_rx_event(ev) && e->match != NO_INDEX)
				continue;
			lrow_t *r = sf_ladder_row_push(l);
			if (r == NULL)
				return SF_ENOMEM;
			r->t_us = r->t_rx_us = ev->now_us;
			r->order = e->order * 4;
			r->side = (uint8_t)s;
			if (ev->kind == SF_EV_SEG_TX) {
				r->kind = LROW_SEG;
				r->tcp = ev->u.seg.tcp;
				r->segs = ev->u.seg.segs;
				r->retx_cause = (uint8_t)ev->u.seg.retx;
				r->ev_tx = i;
				r->has_tcb = ev->has_tcb;
				r->tcb = ev->tcb;
				if (e->match != NO_INDEX) {
					const sf_event_t *rx = &l->ev[1 - s][e->match].ev;
					r->ev_rx = e->match;
					r->t_rx_us = rx->now_us;
					if (rx->kind == SF_EV_DROP &&
					    rx->drop == SF_DROP_LINK_IMPAIR_RX) {
						r->lost = r->lost_impair = true;
					} else if (rx->kind == SF_EV_DROP) {
						r->note = LNOTE_DROP;
						r->drop = rx->drop;
					}
				} else {
					r->lost = peer_traced[s] || e->lost;
					r->lost_impair = e->lost;
				}
			} else if (ev->kind == SF_EV_SEG_RX) {
				/* Received, but its sender was not traced. */
				r->kind = LROW_SEG;
				r->side = (uint8_t)(1 - s);
				r->tcp = ev->u.seg.tcp;
				r->segs = ev->u.seg.segs;
				r->ev_rx = i;
			} else if (ev->kind == SF_EV_TIMER) {
				r->kind = LROW_NOTE;
				r->note = LNOTE_TIMER;
				r->timer = ev->u.timer.timer;
				r->count = ev->u.timer.count;
				r->ev_tx = i;
			} else if (ev->kind == SF_EV_DROP && ev->has_seg &&
			           ev->drop == SF_DROP_LINK_IMPAIR_RX) {
				/* Sent by the untraced side, lost by synfin's
				 * impairment before synfin's stack saw it. */
				r->kind = LROW_SEG;
				r->side = (uint8_t)(1 - s);
				r->tcp = ev->u.seg.tcp;
				r->segs = ev->u.seg.segs;
				r->lost = r->lost_impair = true;
				r->ev_rx = i;
			} else { /* SF_EV_DROP */
				r->kind = LROW_NOTE;
				r->note = LNOTE_DROP;
				r->drop = ev->drop;
				r->ev_tx = i;
			}
		}
	}
	return 0;
}

/* Where a side's events ended up after sorting. */
static void index_rows(sf_ladder_t *l)
{
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < l->ev_cnt[s]; i++)
			l->ev[s][i].row = NO_INDEX;
	for (size_t k = 0; k < l->row_cnt; k++) {
		lrow_t *r = &l->rows[k];
		int snd = r->side, rcv = 1 - r->side;
		if (r->kind == LROW_SEG) {
			if (r->ev_tx != NO_INDEX)
				l->ev[snd][r->ev_tx].row = k;
			if (r->ev_rx != NO_INDEX)
				l->ev[rcv][r->ev_rx].row = k;
		} else if (r->ev_tx != NO_INDEX) {
			l->ev[snd][r->ev_tx].row = k;
		}
	}
}

static bool cause_is_receive(sf_cause_t c)
{
	return c == SF_CAUSE_RCV_SYN || c == SF_CAUSE_RCV_SYNACK || c == SF_CAUSE_RCV_ACK ||
	       c == SF_CAUSE_RCV_FIN || c == SF_CAUSE_RCV_FINACK || c == SF_CAUSE_RCV_RST ||
	       c == SF_CAUSE_REUSE || c == SF_CAUSE_ICMP;
}

static bool cause_is_send(sf_cause_t c)
{
	return c == SF_CAUSE_APP_CONNECT || c == SF_CAUSE_APP_CLOSE || c == SF_CAUSE_APP_ABORT;
}

/* The row a state event of side s (index i) belongs to, or NO_INDEX. */
static size_t find_state_row(const sf_ladder_t *l, int s, size_t i)
{
	const lev_t *evs = l->ev[s];
	const sf_event_t *st = &evs[i].ev;
	sf_cause_t c = st->u.state.cause;
	if (cause_is_receive(c)) {
		/* The segment that caused it was traced just before (same time). */
		for (size_t j = i; j-- > 0;) {
			if (!evs[j].used)
				continue;
			if (evs[j].ev.now_us != st->now_us)
				break;
			if (is_rx_event(&evs[j].ev))
				return evs[j].row;
		}
		for (size_t j = i + 1; j < l->ev_cnt[s]; j++) {
			if (!evs[j].used)
				continue;
			if (evs[j].ev.now_us != st->now_us || evs[j].ev.kind == SF_EV_SEG_TX)
				break;
			if (is_rx_event(&evs[j].ev))
				return evs[j].row;
		}
		return NO_INDEX;
	}
	if (cause_is_send(c)) {
		/* The segment the application's call makes the stack send. */
		for (size_t j = i + 1; j < l->ev_cnt[s]; j++) {
			if (!evs[j].used)
				continue;
			if (evs[j].ev.now_us != st->now_us || evs[j].ev.kind == SF_EV_STATE)
				break;
			if (evs[j].ev.kind == SF_EV_SEG_TX)
				return evs[j].row;
		}
		for (size_t j = i; j-- > 0;) {
			if (!evs[j].used)
				continue;
			if (evs[j].ev.now_us != st->now_us || evs[j].ev.kind == SF_EV_STATE)
				break;
			if (evs[j].ev.kind == SF_EV_SEG_TX)
				return evs[j].row;
		}
		return NO_INDEX;
	}
	/* Timer causes: the timer's note just before. */
	for (size_t j = i; j-- > 0;) {
		if (!evs[j].used)
			continue;
		if (evs[j].ev.now_us != st->now_us || evs[j].ev.kind != SF_EV_TIMER)
			break;
		return evs[j].row;
	}
	return NO_INDEX;
}

/* Where a row sorts: rows are ordered by (t_us, order, pos). */
struct row_key {
	int64_t t_us;
	uint64_t order;
	size_t pos;
};

static int compare_keys(struct row_key a, struct row_key b)
{
	if (a.t_us != b.t_us)
		return a.t_us < b.t_us ? -1 : 1;
	if (a.order != b.order)
		return a.order < b.order ? -1 : 1;
	if (a.pos != b.pos)
		return a.pos < b.pos ? -1 : 1;
	return 0;
}

static struct row_key key_of(const lrow_t *r)
{
	return (struct row_key){r->t_us, r->order, r->pos};
}

/* True when connection `id` of side s carried a segment of the 4-tuple the
 * diagram draws (seen from side s). */
static bool conn_on_tuple(const sf_ladder_t *l, int s, uint32_t id)
{
	if (!l->has_ep[s] || !l->has_ep[1 - s])
		return false;
	struct tuple t = {l->addr[s], l->addr[1 - s], l->port[s], l->port[1 - s]};
	for (size_t i = 0; i < l->ev_cnt[s]; i++) {
		const sf_event_t *ev = &l->ev[s][i].ev;
		if (ev->conn_id == id && is_seg_event(ev) && tuple_eq(tuple_of(ev), t))
			return true;
	}
	return false;
}

/* True when the state event i of side s (a SYN making a new connection)
 * reopened a TIME-WAIT of the same 4-tuple: the engine traces the old
 * connection TIME-WAIT -> CLOSED (cause reuse) at the same instant, just
 * before. RFC 9293 §3.6.1 and RFC 6191 let a TIME-WAIT accept a new SYN;
 * the diagram shows that edge, TIME-WAIT -> SYN-RECEIVED. */
static bool reopened_time_wait(const sf_ladder_t *l, int s, size_t i)
{
	const lev_t *evs = l->ev[s];
	int64_t now = evs[i].ev.now_us;
	for (size_t j = i; j-- > 0;) {
		const sf_event_t *ev = &evs[j].ev;
		if (ev->now_us != now)
			break;
		if (ev->kind == SF_EV_STATE && ev->u.state.cause == SF_CAUSE_REUSE &&
		    ev->u.state.from == SF_TIME_WAIT && ev->conn_id != evs[i].ev.conn_id &&
		    conn_on_tuple(l, s, ev->conn_id))
			return true;
	}
	return false;
}

/* Attaches each state change of each side to a row. A side's changes must
 * read top to bottom in the order it made them (its events are in time
 * order): where crossing segments put the row of a change above the row of
 * that side's previous change — a SYN or FIN received after this side sent
 * its own, on the arrow of a segment sent before it (RFC 9293 §3.5 Figure 8,
 * §3.6 Figure 13) — the change gets a row of its own at the time it
 * happened, and never above the previous one. */
static int attach_states(sf_ladder_t *l)
{
	for (int s = 0; s < 2; s++) {
		bool seen_seg = false, seen_state = false, placed = false;
		struct row_key last = {0, 0, 0}; /* where the previous change went */
		for (size_t i = 0; i < l->ev_cnt[s]; i++) {
			lev_t *e = &l->ev[s][i];
			if (!e->used)
				continue;
			if (e->ev.kind != SF_EV_STATE) {
				seen_seg |= is_seg_event(&e->ev);
				continue;
			}
			sf_state_t from = e->ev.u.state.from, to = e->ev.u.state.to;
			if (!seen_state) {
				l->init[s] = from;
				seen_state = true;
				/* A passive open before any segment is where the
				 * diagram starts: the server is shown in LISTEN. */
				if (!seen_seg && to == SF_LISTEN) {
					l->init[s] = l->final[s] = SF_LISTEN;
					continue;
				}
				if (to == SF_SYN_RECEIVED &&
				    e->ev.u.state.cause == SF_CAUSE_RCV_SYN &&
				    reopened_time_wait(l, s, i))
					l->init[s] = SF_TIME_WAIT;
			}
			l->final[s] = to;
			size_t k = find_state_row(l, s, i);
			if (k != NO_INDEX && !l->rows[k].has_state[s] &&
			    (!placed || compare_keys(key_of(&l->rows[k]), last) > 0)) {
				l->rows[k].has_state[s] = true;
				l->rows[k].state[s] = to;
				l->rows[k].cause[s] = e->ev.u.state.cause;
				last = key_of(&l->rows[k]);
				placed = true;
				continue;
			}
			/* Its own row: right after the row it belongs to when that
			 * one already shows a change of this side; at its own time
			 * when that row sorts above this side's previous change;
			 * and in any case below the previous change. */
			struct row_key key = {e->ev.now_us, e->order * 4, l->row_cnt};
			if (k != NO_INDEX) {
				struct row_key after = {l->rows[k].t_us, l->rows[k].order + 1,
				                        l->row_cnt};
				if (!placed || compare_keys(after, last) > 0)
					key = after;
			}
			if (placed && compare_keys(key, last) < 0) {
				key.t_us = last.t_us;
				key.order = last.order;
			}
			lrow_t *r = sf_ladder_row_push(l);
			if (r == NULL)
				return SF_ENOMEM;
			r->kind = LROW_STATE;
			r->side = (uint8_t)s;
			r->t_us = r->t_rx_us = key.t_us;
			r->order = key.order;
			r->has_state[s] = true;
			r->state[s] = to;
			r->cause[s] = e->ev.u.state.cause;
			last = key_of(r);
			placed = true;
		}
	}
	return 0;
}

void sf_ladder_put_xml(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&apos;", out);
			break;
		default:
			/* XML 1.0 allows no C0 controls but tab/LF/CR. */
			if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r')
				fputc('?', out);
			else
				fputc(*s, out);
		}
	}
}

uint64_t sf_ladder_win_bytes(const sf_ladder_t *l, const lrow_t *r)
{
	bool scale = l->wscale_known && !(r->tcp.flags & SF_TCP_SYN);
	return scale ? (uint64_t)r->tcp.wnd << l->wscale[r->side] : r->tcp.wnd;
}

int sf_ladder_render_begin(sf_ladder_t *l, const sf_ladder_opts_t *opts, FILE *out,
                           const sf_ladder_opts_t **o)
{
	static const sf_ladder_opts_t defaults;
	if (l == NULL || out == NULL)
		return SF_EINVAL;
	if (l->nomem)
		return SF_ENOMEM;
	int err = sf_ladder_build(l);
	if (err < 0)
		return err;
	*o = opts ? opts : &defaults;
	return 0;
}

int sf_ladder_build(sf_ladder_t *l)
{
	if (l->built)
		return 0;
	l->row_cnt = 0;
	for (int s = 0; s < 2; s++) {
		l->has_ep[s] = false;
		l->init[s] = l->final[s] = SF_CLOSED;
	}
	/* The side with a chosen id first; the other side draws the same
	 * connection, seen from its end (the tuple mirrored). */
	int first = l->conn_set[1] && !l->conn_set[0] ? 1 : 0;
	struct tuple t, mirror;
	if (select_side(l, first, NULL, &t)) {
		mirror = (struct tuple){t.raddr, t.laddr, t.rport, t.lport};
		select_side(l, 1 - first, l->conn_set[1 - first] ? NULL : &mirror, &t);
	} else {
		select_side(l, 1 - first, NULL, &t);
	}
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < l->ev_cnt[s]; i++)
			l->ev[s][i].match = NO_INDEX;
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < l->ev_cnt[s]; i++)
			l->ev[s][i].lost = false;
	mark_impair_lost(l);
	pair_side(l, 0);
	pair_side(l, 1);
	int err = make_rows(l);
	if (err < 0)
		return err;
	sf_ladder_rows_finish(l, false);
	index_rows(l);
	err = attach_states(l);
	if (err < 0)
		return err;
	/* Rows added for state changes need their place. */
	sf_ladder_rows_finish(l, false);
	/* A side no state event told about (the kernel at the other end of a
	 * live connection, both ends of a capture): its states are inferred
	 * from the segments it sent and received, one way for every view. */
	bool infer[2];
	for (int s = 0; s < 2; s++) {
		infer[s] = true;
		l->inferred[s] = false;
		for (size_t i = 0; i < l->ev_cnt[s] && infer[s]; i++)
			if (l->ev[s][i].used && l->ev[s][i].ev.kind == SF_EV_STATE)
				infer[s] = false;
	}
	for (int s = 0; s < 2; s++) {
		if (!infer[s])
			continue;
		err = sf_ladder_infer(l, s);
		if (err < 0)
			return err;
	}
	if (infer[0] || infer[1]) {
		sf_ladder_rows_finish(l, false);
		for (int s = 0; s < 2; s++) {
			if (!infer[s])
				continue;
			l->final[s] = l->init[s];
			for (size_t i = 0; i < l->row_cnt; i++)
				if (l->rows[i].has_state[s])
					l->final[s] = l->rows[i].state[s];
		}
	}
	l->built = true;
	return 0;
}

sf_state_t sf_ladder_final_state(sf_ladder_t *l, int side)
{
	if (l == NULL || side < 0 || side > 1 || sf_ladder_build(l) < 0)
		return SF_CLOSED;
	return l->final[side];
}

size_t sf_ladder_seg_count(sf_ladder_t *l)
{
	size_t n = 0;
	if (l == NULL || sf_ladder_build(l) < 0)
		return 0;
	for (size_t i = 0; i < l->row_cnt; i++)
		n += l->rows[i].kind == LROW_SEG;
	return n;
}

size_t sf_ladder_lost_count(sf_ladder_t *l)
{
	size_t n = 0;
	if (l == NULL || sf_ladder_build(l) < 0)
		return 0;
	for (size_t i = 0; i < l->row_cnt; i++)
		n += l->rows[i].kind == LROW_SEG && l->rows[i].lost;
	return n;
}

/* ---- sections ---- */

void sf_ladder_sections(const sf_ladder_t *l, int *sec)
{
	size_t first[LSEC_COUNT];
	for (int k = 0; k < LSEC_COUNT; k++)
		first[k] = NO_INDEX;
	for (size_t i = 0; i < l->row_cnt; i++) {
		sec[i] = LSEC_NONE;
		const lrow_t *r = &l->rows[i];
		if (r->kind != LROW_SEG)
			continue;
		if ((r->tcp.flags & SF_TCP_SYN) && first[LSEC_HANDSHAKE] == NO_INDEX)
			first[LSEC_HANDSHAKE] = i;
		if (r->tcp.payload_len > 0 && first[LSEC_DATA] == NO_INDEX)
			first[LSEC_DATA] = i;
		if ((r->tcp.flags & SF_TCP_FIN) && first[LSEC_CLOSE] == NO_INDEX)
			first[LSEC_CLOSE] = i;
		if ((r->tcp.flags & SF_TCP_RST) && first[LSEC_RESET] == NO_INDEX)
			first[LSEC_RESET] = i;
	}
	/* Sections follow each other: the data transfer only when it begins
	 * after the handshake and before the close; the close is titled by
	 * whichever of FIN and RST comes first. */
	size_t h = first[LSEC_HANDSHAKE];
	if (h != NO_INDEX)
		sec[h] = LSEC_HANDSHAKE;
	size_t end = first[LSEC_CLOSE];
	int end_kind = LSEC_CLOSE;
	if (first[LSEC_RESET] != NO_INDEX && (end == NO_INDEX || first[LSEC_RESET] < end)) {
		end = first[LSEC_RESET];
		end_kind = LSEC_RESET;
	}
	if (end != NO_INDEX && (h == NO_INDEX || end > h))
		sec[end] = end_kind;
	else
		end = NO_INDEX;
	size_t d = first[LSEC_DATA];
	if (d != NO_INDEX && (h == NO_INDEX || d > h) && (end == NO_INDEX || d < end))
		sec[d] = LSEC_DATA;
}

/* ---- long transfers ---- */

/* A row with nothing to tell but that one more segment went by. */
static bool plain_row(const lrow_t *r)
{
	return r->kind == LROW_SEG && !r->has_state[0] && !r->has_state[1] && !r->lost &&
	       !r->retrans && !r->dupack && !r->zero_win && !r->win_update &&
	       r->note == LNOTE_NONE &&
	       !(r->tcp.flags & (SF_TCP_SYN | SF_TCP_FIN | SF_TCP_RST | SF_TCP_URG));
}

size_t sf_ladder_collapse(const sf_ladder_t *l, const int *sec, bool full, uint8_t *hide)
{
	size_t hidden = 0;
	for (size_t i = 0; i < l->row_cnt; i++)
		hide[i] = 0;
	if (full)
		return 0;
	for (size_t i = 0; i < l->row_cnt;) {
		size_t j = i;
		while (j < l->row_cnt && plain_row(&l->rows[j]) && (j == i || sec[j] == LSEC_NONE))
			j++;
		if (j - i >= 2 * LCOLLAPSE_KEEP + LCOLLAPSE_MIN) {
			hide[i + LCOLLAPSE_KEEP] = 2; /* the first hidden: the summary goes here */
			for (size_t k = i + LCOLLAPSE_KEEP + 1; k < j - LCOLLAPSE_KEEP; k++)
				hide[k] = 1;
			hidden += j - i - 2 * LCOLLAPSE_KEEP;
		}
		i = j > i ? j : i + 1;
	}
	return hidden;
}

char *sf_ladder_collapse_text(const sf_ladder_t *l, const uint8_t *hide, size_t first,
                              sf_ladder_lang_t lang, char *buf, size_t cap)
{
	uint64_t segs = 0, data = 0, bytes = 0;
	for (size_t k = first; k < l->row_cnt && (k == first || hide[k] == 1); k++) {
		/* Wire segments: a super-segment counts for those it stands for. */
		uint64_t n = l->rows[k].segs > 1 ? l->rows[k].segs : 1;
		segs += n;
		if (l->rows[k].tcp.payload_len) {
			data += n;
			bytes += l->rows[k].tcp.payload_len;
		}
	}
	char size[32];
	if (bytes >= 1000000)
		snprintf(size, sizeof size, "%.1f MB", (double)bytes / 1e6);
	else if (bytes >= 1000)
		snprintf(size, sizeof size, "%.1f kB", (double)bytes / 1e3);
	else
		snprintf(size, sizeof size, "%" PRIu64 " bytes", bytes);
	if (lang == SF_LADDER_LANG_ZH)
		snprintf(buf, cap,
		         "… 省略 %" PRIu64 " 个报文段：%" PRIu64 " 个数据段共 %s，%" PRIu64
		         " 个 ACK，0 个丢失（--full 全部显示）…",
		         segs, data, size, segs - data);
	else
		snprintf(buf, cap,
		         "… %" PRIu64 " segments: %" PRIu64 " data (%s), %" PRIu64
		         " ACKs, 0 lost (--full shows them) …",
		         segs, data, size, segs - data);
	return buf;
}

/* ---- text pieces ---- */

struct sb {
	char *buf;
	size_t cap, len;
};

static void sb_add(struct sb *b, const char *s)
{
	for (; *s; s++) {
		if (b->len + 1 < b->cap)
			b->buf[b->len] = *s;
		b->len++;
	}
	if (b->cap)
		b->buf[b->len < b->cap ? b->len : b->cap - 1] = '\0';
}

static void sb_fmt_u(struct sb *b, const char *prefix, uint64_t v)
{
	char tmp[32];
	snprintf(tmp, sizeof tmp, "%s%" PRIu64, prefix, v);
	sb_add(b, tmp);
}

static void add_flags(struct sb *b, uint8_t flags)
{
	/* Named like the seed text: SYN+ACK, FIN+ACK; ACK always last. */
	static const struct {
		uint8_t bit;
		const char *name;
	} names[] = {{SF_TCP_SYN, "SYN"}, {SF_TCP_FIN, "FIN"}, {SF_TCP_RST, "RST"},
	             {SF_TCP_PSH, "PSH"}, {SF_TCP_URG, "URG"}, {SF_TCP_ECE, "ECE"},
	             {SF_TCP_CWR, "CWR"}, {SF_TCP_ACK, "ACK"}};
	bool any = false;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (!(flags & names[i].bit))
			continue;
		if (any)
			sb_add(b, "+");
		sb_add(b, names[i].name);
		any = true;
	}
	if (!any)
		sb_add(b, "(no flags)");
}

/* Writes " seq=..." or " ack=..." for a number in side s's sequence space. */
static void add_seqno(struct sb *b, const sf_ladder_t *l, const sf_ladder_opts_t *o,
                      const char *name, int s, uint32_t v)
{
	char tmp[48];
	if (o->seq == SF_LADDER_SEQ_ABSOLUTE || !l->has_isn[s]) {
		snprintf(tmp, sizeof tmp, " %s=%" PRIu32, name, v);
	} else if (o->seq == SF_LADDER_SEQ_SYMBOLIC) {
		uint32_t off = v - l->isn[s];
		const char *sym = s == 0 ? "x" : "y";
		if (off == 0)
			snprintf(tmp, sizeof tmp, " %s=%s", name, sym);
		else
			snprintf(tmp, sizeof tmp, " %s=%s+%" PRIu32, name, sym, off);
	} else {
		snprintf(tmp, sizeof tmp, " %s=%" PRIu32, name, v - l->isn[s]);
	}
	sb_add(b, tmp);
}

char *sf_ladder_seg_label(const sf_ladder_t *l, const lrow_t *r, const sf_ladder_opts_t *o,
                          char *buf, size_t cap)
{
	struct sb b = {buf, cap, 0};
	const sf_tcp_t *t = &r->tcp;
	bool zh = o->lang == SF_LADDER_LANG_ZH;
	if (cap)
		buf[0] = '\0';
	add_flags(&b, t->flags);
	add_seqno(&b, l, o, "seq", r->side, t->seq);
	if (t->flags & SF_TCP_ACK)
		add_seqno(&b, l, o, "ack", 1 - r->side, t->ack);
	if (!o->hide_win) {
		/* Bytes: the field shifted by the sender's scale (RFC 7323
		 * §2.3), except in a SYN; the raw field on request or when the
		 * SYNs were not seen. */
		uint64_t w = o->raw_win ? t->wnd : sf_ladder_win_bytes(l, r);
		sb_fmt_u(&b, " win=", w);
		if (!o->raw_win && !l->wscale_known && !(t->flags & SF_TCP_SYN))
			sb_add(&b, zh ? "（原值）" : " (raw)");
	}
	if (t->payload_len > 0)
		sb_fmt_u(&b, " len=", t->payload_len);
	if (r->segs > 1) { /* one row for a TSO/GRO super-segment, as on the link */
		char n[48];
		snprintf(n, sizeof n, zh ? "（%u 个报文段合一）" : " (%u segments in one)",
		         (unsigned)r->segs);
		sb_add(&b, n);
	}
	if (t->opt.sack_cnt > 0) {
		/* SACK blocks in the acknowledger's peer's sequence space. */
		sb_add(&b, " sack=");
		for (uint8_t k = 0; k < t->opt.sack_cnt && k < SF_TCP_MAX_SACK; k++) {
			char tmp[64];
			uint32_t base = o->seq == SF_LADDER_SEQ_ABSOLUTE || !l->has_isn[1 - r->side]
			                        ? 0
			                        : l->isn[1 - r->side];
			snprintf(tmp, sizeof tmp, "%s%" PRIu32 "-%" PRIu32, k ? "," : "",
			         t->opt.sack[k].left - base, t->opt.sack[k].right - base);
			sb_add(&b, tmp);
		}
	}
	if ((t->flags & SF_TCP_SYN) && !o->hide_options) {
		const sf_tcp_opts_t *op = &t->opt;
		if (op->has_mss)
			sb_fmt_u(&b, " mss=", op->mss);
		if (op->has_wscale)
			sb_fmt_u(&b, " wscale=", op->wscale);
		if (op->sack_perm)
			sb_add(&b, " sackOK");
		if (op->has_ts)
			sb_add(&b, " TS");
	}
	char tmp[96];
	if (r->dupack) {
		snprintf(tmp, sizeof tmp,
		         zh ? "（重复 ACK #%" PRIu32 "）" : " (dup ACK #%" PRIu32 ")", r->dupack);
		sb_add(&b, tmp);
	}
	if (r->zero_win)
		sb_add(&b, zh ? "（零窗口）" : " (zero window)");
	else if (r->win_update)
		sb_add(&b, zh ? "（窗口更新）" : " (window update)");
	if (r->retrans) {
		switch (r->rexmit_why) {
		case LREXMIT_RTO:
			sb_add(&b, zh ? "（超时重传）" : " (retransmission: RTO)");
			break;
		case LREXMIT_DUPACKS:
			snprintf(tmp, sizeof tmp,
			         zh ? "（%" PRIu32 " 个重复 ACK 后重传）"
			            : " (retransmission after %" PRIu32 " dup ACK%s)",
			         r->rexmit_dups, r->rexmit_dups == 1 ? "" : "s");
			sb_add(&b, tmp);
			break;
		case LREXMIT_PROBE:
			sb_add(&b, zh ? "（零窗口探测）" : " (zero-window probe)");
			break;
		case LREXMIT_RACK:
			sb_add(&b, zh ? "（RACK 判定丢失后重传）" : " (retransmission: RACK)");
			break;
		case LREXMIT_TLP:
			sb_add(&b, zh ? "（尾部丢失探测）" : " (retransmission: tail loss probe)");
			break;
		default:
			sb_add(&b, zh ? "（重传）" : " (retransmission)");
		}
	}
	if (r->lost && r->lost_impair)
		sb_add(&b, zh ? "（丢失：synfin 的模拟损伤）" : " (lost: synfin's impairment)");
	else if (r->lost)
		sb_add(&b, zh ? "（丢失）" : " (lost)");
	if (r->note == LNOTE_DROP) {
		sb_add(&b, zh ? "（被丢弃：" : " (dropped: ");
		sb_add(&b, sf_ladder_drop_words(r->drop, o->lang));
		sb_add(&b, zh ? "）" : ")");
	}
	return buf;
}

static const char *timer_text(sf_timer_kind_t t, bool zh)
{
	switch (t) {
	case SF_TIMER_RTO:
		return zh ? "重传计时器超时" : "retransmission timeout";
	case SF_TIMER_DELACK:
		return zh ? "延迟确认计时器到期" : "delayed-ACK timer";
	case SF_TIMER_PERSIST:
		return zh ? "坚持计时器到期" : "persist timer";
	case SF_TIMER_KEEPALIVE:
		return zh ? "保活计时器到期" : "keepalive timer";
	case SF_TIMER_TIMEWAIT:
		return zh ? "2MSL 计时器到期" : "2MSL timer expired";
	case SF_TIMER_FINWAIT2:
		return zh ? "FIN-WAIT-2 计时器到期" : "FIN-WAIT-2 timer expired";
	case SF_TIMER_RACK:
		return zh ? "RACK 重排序窗口已过" : "RACK reordering window passed";
	case SF_TIMER_TLP:
		return zh ? "尾部丢失探测计时器到期" : "tail loss probe timer";
	default:
		return zh ? "计时器" : "timer";
	}
}

char *sf_ladder_note_text(const lrow_t *r, const sf_ladder_opts_t *o, char *buf, size_t cap)
{
	struct sb b = {buf, cap, 0};
	bool zh = o->lang == SF_LADDER_LANG_ZH;
	if (cap)
		buf[0] = '\0';
	if (r->note == LNOTE_TIMER) {
		sb_add(&b, timer_text(r->timer, zh));
		if (r->count > 0 && (r->timer == SF_TIMER_RTO || r->timer == SF_TIMER_PERSIST ||
		                     r->timer == SF_TIMER_KEEPALIVE)) {
			char tmp[48];
			if (zh)
				snprintf(tmp, sizeof tmp, "（第 %" PRIu32 " 次）", r->count);
			else
				snprintf(tmp, sizeof tmp, " (#%" PRIu32 ")", r->count);
			sb_add(&b, tmp);
		}
	} else if (r->note == LNOTE_DROP) {
		sb_add(&b, zh ? "丢弃：" : "dropped: ");
		sb_add(&b, sf_ladder_drop_words(r->drop, o->lang));
	}
	return buf;
}

char *sf_ladder_time_str(const sf_ladder_t *l, int64_t t_us, char *buf, size_t cap)
{
	int64_t d = t_us - l->t0_us;
	const char *sign = "";
	if (d < 0) {
		sign = "-";
		d = -d;
	}
	snprintf(buf, cap, "%s%" PRId64 ".%03" PRId64, sign, d / 1000, d % 1000);
	return buf;
}

const char *sf_ladder_section_title(int sec, sf_ladder_lang_t lang)
{
	bool zh = lang == SF_LADDER_LANG_ZH;
	switch (sec) {
	case LSEC_HANDSHAKE:
		return zh ? "三次握手" : "three-way handshake";
	case LSEC_DATA:
		return zh ? "数据传输" : "data transfer";
	case LSEC_CLOSE:
		return zh ? "四次挥手" : "four-way close";
	case LSEC_RESET:
		return zh ? "连接重置" : "reset";
	default:
		return "";
	}
}

const char *sf_ladder_role(int side, sf_ladder_lang_t lang)
{
	if (lang == SF_LADDER_LANG_ZH)
		return side == 0 ? "客户端" : "服务器";
	return side == 0 ? "client" : "server";
}

char *sf_ladder_role_str(const sf_ladder_t *l, int side, sf_ladder_lang_t lang, char *buf,
                         size_t cap)
{
	bool zh = lang == SF_LADDER_LANG_ZH;
	snprintf(buf, cap, "%s%s", sf_ladder_role(side, lang),
	         !l->inferred[side] ? ""
	         : zh               ? "（推断）"
	                            : " (inferred)");
	return buf;
}

char *sf_ladder_end_str(const sf_ladder_t *l, int side, sf_ladder_lang_t lang, char *buf,
                        size_t cap)
{
	if (!l->has_ep[side]) {
		snprintf(buf, cap, "%s", sf_ladder_role(side, lang));
		return buf;
	}
	char a[16];
	snprintf(buf, cap, "%s %s:%u", sf_ladder_role(side, lang),
	         sf_ipv4_addr_str(l->addr[side], a), (unsigned)l->port[side]);
	return buf;
}

/* ---- display width ---- */

/* Decodes one UTF-8 sequence at s; sets *cp (U+FFFD for an invalid byte)
 * and returns the bytes consumed (>= 1). */
static size_t decode_utf8(const unsigned char *s, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t v;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		n = 2;
		v = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		v = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4;
		v = c & 0x07;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return 1;
		}
		v = (v << 6) | (s[i] & 0x3f);
	}
	*cp = v;
	return n;
}

/* East Asian Wide (W) and Fullwidth (F) ranges, UAX #11, the blocks that
 * matter for CJK text; and the common combining marks (width 0). */
static int codepoint_width(uint32_t c)
{
	if (c == 0)
		return 0;
	if ((c >= 0x0300 && c <= 0x036f) || (c >= 0x200b && c <= 0x200f) ||
	    (c >= 0xfe00 && c <= 0xfe0f))
		return 0;
	if ((c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0x303e) ||
	    (c >= 0x3041 && c <= 0x33ff) || (c >= 0x3400 && c <= 0x4dbf) ||
	    (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xa000 && c <= 0xa4cf) ||
	    (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
	    (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
	    (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1f64f) ||
	    (c >= 0x20000 && c <= 0x3fffd))
		return 2;
	return 1;
}

size_t sf_ladder_display_width(const char *s)
{
	size_t w = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		uint32_t cp;
		p += decode_utf8(p, &cp);
		w += (size_t)codepoint_width(cp);
	}
	return w;
}

const char *sf_ladder_strerror(int err)
{
	switch (err) {
	case SF_EMALFORMED:
		return "not a pcap or pcapng capture";
	case SF_ENOTSUP:
		return "unsupported link type (want Ethernet, raw IPv4, loopback or Linux cooked)";
	case SF_ENOTCONN:
		return "no TCP connection in capture";
	case SF_EINVAL:
		return "cannot open file, or no such connection";
	default:
		return sf_strerror(err);
	}
}
