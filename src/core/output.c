/* TCP output: building segments, deciding what to send, retransmission.
 *
 * sf_tcp_output() is the one place that decides what a connection sends:
 * SYN or SYN,ACK while opening, data as the windows allow (Nagle and sender
 * SWS avoidance, RFC 9293 §3.7.4 and §3.8.6.2.1), the FIN after the last
 * byte, and otherwise an ACK when one is owed. Data is read from the send
 * ring at its sequence offset, so retransmission needs no per-segment copy.
 */
#include <string.h>

#include "core/stack.h"

/* ---- IP and the transmit callback ---- */

static void ip_output_off(sf_stack_t *st, uint32_t dst, uint8_t proto, uint8_t ttl, uint8_t tos,
                          size_t payload_len, const sf_offload_t *off);

/* Writes the IPv4 header in front of st->frame[20..] and hands the datagram
 * to the driver. */
void sf_ip_output(sf_stack_t *st, uint32_t dst, uint8_t proto, uint8_t ttl, uint8_t tos,
                  size_t payload_len)
{
	static const sf_offload_t none = {0};
	ip_output_off(st, dst, proto, ttl, tos, payload_len, &none);
}

/* The same, with what an offloading link still has to do to the datagram
 * (cfg.transmit_off). */
static void ip_output_off(sf_stack_t *st, uint32_t dst, uint8_t proto, uint8_t ttl, uint8_t tos,
                          size_t payload_len, const sf_offload_t *off)
{
	sf_ipv4_t ip = {.src = st->cfg.addr,
	                .dst = dst,
	                .proto = proto,
	                .ttl = ttl,
	                .dscp = tos >> 2,
	                .ecn = tos & 3,
	                .id = (uint16_t)st->stats.ip_out,
	                .df = true};
	if (sf_ipv4_emit(&ip, payload_len, st->frame, SF_IPV4_HDR_LEN) < 0)
		return;
	st->stats.ip_out++;
	if (sf_offload_tx(st))
		st->cfg.transmit_off(st->cfg.transmit_ctx, st->frame, SF_IPV4_HDR_LEN + payload_len,
		                     off, st->now_us);
	else if (st->cfg.transmit)
		st->cfg.transmit(st->cfg.transmit_ctx, st->frame, SF_IPV4_HDR_LEN + payload_len,
		                 st->now_us);
}

uint32_t sf_ts_now(const sf_stack_t *st)
{
	/* RFC 7323 §5.4: a 1 ms timestamp clock. */
	return (uint32_t)((st->now_us - st->epoch_us) / 1000) + 1;
}

/* Emits one TCP segment and traces it. Payload longer than one wire
 * segment's (the MSS less this header's options) can only be a TSO segment
 * built by sf_tcp_output: the link cuts it into pieces of that size, and
 * it is one trace row standing for them. */
static void emit(sf_stack_t *st, uint32_t raddr, const sf_tcp_t *h, const uint8_t *payload,
                 size_t len, uint8_t ttl, uint8_t tos, uint32_t conn_id, const sf_tcb_t *t,
                 uint8_t retx)
{
	sf_offload_t off = {.csum_partial = sf_offload_tx(st) && st->cfg.csum_tx, .segs = 1};
	uint32_t piece = t ? t->snd_mss - (uint32_t)sf_tcp_opts_len(&h->opt) : 0;
	if (SF_HAVE_OFFLOAD && t && len > piece) {
		off.gso_size = (uint16_t)piece;
		off.segs = (uint16_t)((len + piece - 1u) / piece);
	}
	int n = sf_tcp_emit_ex(h, st->cfg.addr, raddr, payload, len, st->frame + SF_IPV4_HDR_LEN,
	                       st->frame_cap - SF_IPV4_HDR_LEN, off.csum_partial);
	if (n < 0)
		return;
	st->stats.tcp_out++;
	if (h->flags & SF_TCP_RST)
		st->stats.rst_out++;
	if (sf_tracing(st)) {
		sf_event_t ev = {.kind = SF_EV_SEG_TX, .now_us = st->now_us, .conn_id = conn_id};
		ev.u.seg.ip = (sf_ipv4_t){.src = st->cfg.addr,
		                          .dst = raddr,
		                          .proto = SF_IP_PROTO_TCP,
		                          .ttl = ttl,
		                          .dscp = tos >> 2,
		                          .ecn = tos & 3};
		ev.u.seg.tcp = *h;
		ev.u.seg.tcp.hdr_len = (uint16_t)(SF_TCP_HDR_LEN + sf_tcp_opts_len(&h->opt));
		ev.u.seg.tcp.payload_len = (uint16_t)len;
		if (t) { /* the engine's numbers, for the step-by-step views */
			ev.has_tcb = true;
			ev.tcb = (struct sf_event_tcb){
			        .cwnd = t->cwnd,
			        .ssthresh = t->ssthresh,
			        .srtt_us = t->srtt_us > 0 ? (uint32_t)t->srtt_us : 0,
			        .rto_us = t->rto_us,
			        .in_flight = t->snd_max - t->snd_una,
			        .rcv_wnd = rcv_wnd(t),
			        .snd_wnd = t->snd_wnd};
		}
		ev.u.seg.retx = (sf_retx_cause_t)retx;
		ev.u.seg.segs = off.segs;
		sf_core_trace(st, &ev);
	}
	ip_output_off(st, raddr, SF_IP_PROTO_TCP, ttl, tos, (size_t)n, &off);
}

void sf_send_raw(sf_stack_t *st, uint32_t raddr, uint16_t lport, uint16_t rport, uint32_t seq,
                 uint32_t ack, uint8_t flags, uint16_t wnd, const sf_tcp_opts_t *opt,
                 uint32_t conn_id)
{
	sf_tcp_t h = {
	        .sport = lport, .dport = rport, .seq = seq, .ack = ack, .flags = flags, .wnd = wnd};
	if (opt)
		h.opt = *opt;
	emit(st, raddr, &h, NULL, 0, st->cfg.ttl, 0, conn_id, NULL, SF_RETX_NONE);
}

/* RFC 9293 §3.10.7.1: the reset for a segment that belongs to no
 * connection. Never in answer to a RST. */
void sf_send_rst_for(sf_stack_t *st, const sf_ipv4_t *ip, const sf_tcp_t *tcp)
{
	if (tcp->flags & SF_TCP_RST)
		return;
	if (tcp->flags & SF_TCP_ACK)
		sf_send_raw(st, ip->src, tcp->dport, tcp->sport, tcp->ack, 0, SF_TCP_RST, 0, NULL,
		            0);
	else
		sf_send_raw(st, ip->src, tcp->dport, tcp->sport, 0, tcp->seq + sf_tcp_seg_len(tcp),
		            SF_TCP_RST | SF_TCP_ACK, 0, NULL, 0);
}

/* RST of a synchronized connection we abort (RFC 9293 §3.10.4 ABORT).
 * Queued, because the connection block may be gone before the next output
 * pass; a full queue loses the RST, and the peer's next segment then meets
 * the closed port's RST instead. */
void sf_send_rst(sf_stack_t *st, sf_tcb_t *t)
{
	if (t->state == SF_CLOSED || t->state == SF_LISTEN || t->state == SF_SYN_SENT)
		return;
	if (st->ctl_cnt == st->ctl_cap)
		return;
	/* RFC 7323 §3.2: a RST carries timestamps when they are in use. */
	st->ctl[st->ctl_cnt++] = (sf_ctl_t){.raddr = t->raddr,
	                                    .seq = t->snd_nxt,
	                                    .ack = t->rcv_nxt,
	                                    .id = t->id,
	                                    .ts_ecr = t->ts_recent,
	                                    .lport = t->lport,
	                                    .rport = t->rport,
	                                    .flags = SF_TCP_RST | SF_TCP_ACK,
	                                    .has_ts = (t->flags & F_TS_OK) != 0};
}

void sf_send_ctl_queue(sf_stack_t *st)
{
	for (uint32_t i = 0; i < st->ctl_cnt; i++) {
		const sf_ctl_t *c = &st->ctl[i];
		sf_tcp_opts_t o = {0};
		if (c->has_ts) {
			o.has_ts = true;
			o.ts_val = sf_ts_now(st);
			o.ts_ecr = c->ts_ecr;
		}
		sf_send_raw(st, c->raddr, c->lport, c->rport, c->seq, c->ack, c->flags, 0, &o,
		            c->id);
	}
	st->ctl_cnt = 0;
}

/* ---- the receive window (RFC 9293 §3.8.6.2.2, receiver SWS avoidance) ----
 * The right edge we advertise never moves left (MUST-34 on the peer's side:
 * we do not shrink), and moves right only by at least min(buffer/2, MSS),
 * so the peer is never invited to send tiny segments (MUST-39). */
uint16_t sf_rcv_wnd_raw(sf_stack_t *st, sf_tcb_t *t)
{
	(void)st;
	if (t->state == SF_SYN_SENT || t->state == SF_CLOSED)
		return 0;
	uint32_t space = rcv_space(t);
	uint32_t edge = t->rcv_nxt + space;
	uint32_t step = t->rcvbuf / 2 < t->rcv_mss ? t->rcvbuf / 2 : t->rcv_mss;
	if (sf_seq_gt(edge, t->rcv_adv) && (edge - t->rcv_adv >= step || space == t->rcvbuf))
		t->rcv_adv = edge;
	uint32_t wnd = rcv_wnd(t);
	uint8_t ws = (t->flags & F_WS_OK) ? t->rcv_wscale : 0;
	/* Round up so the edge we report is the one we keep room for. */
	uint32_t raw = (wnd + (1u << ws) - 1) >> ws;
	if (raw > 0xffff)
		raw = 0xffff;
	if ((raw << ws) > space && raw > 0)
		raw = space >> ws;
	return (uint16_t)raw;
}

static void fill_opts(sf_stack_t *st, sf_tcb_t *t, uint8_t flags, sf_tcp_opts_t *o)
{
	memset(o, 0, sizeof *o);
	if (flags & SF_TCP_SYN) {
		/* MSS only on SYNs (MUST-65), from our MTU (MUST-67). */
		o->has_mss = true;
		o->mss = t->rcv_mss;
		bool passive = flags & SF_TCP_ACK;
		if (st->cfg.wscale && (!passive || (t->flags & F_WS_OK))) {
			o->has_wscale = true;
			o->wscale = t->rcv_wscale;
		}
		if (st->cfg.sack && (!passive || (t->flags & F_SACK_OK)))
			o->sack_perm = true;
		if (st->cfg.timestamps && (!passive || (t->flags & F_TS_OK))) {
			o->has_ts = true;
			o->ts_val = sf_ts_now(st);
			o->ts_ecr = passive ? t->ts_recent : 0;
		}
		return;
	}
	if (t->flags & F_TS_OK) {
		o->has_ts = true;
		o->ts_val = sf_ts_now(st);
		o->ts_ecr = t->ts_recent;
	}
	bool dsack = (t->flags & F_DSACK) && (flags & SF_TCP_ACK);
	if ((t->flags & F_SACK_OK) && (t->ooo.cnt || dsack) && !(flags & SF_TCP_RST)) {
		/* RFC 2018 §4: the most recent block first; 3 fit beside
		 * timestamps. RFC 2883 §4: a D-SACK block goes first, followed
		 * by the out-of-order block that contains it, if any. */
		uint8_t max = (t->flags & F_TS_OK) ? 3 : 4, n = 0;
		uint16_t skip = UINT16_MAX;
		if (dsack) {
			o->sack[n].left = t->dsack.left;
			o->sack[n++].right = t->dsack.right;
			for (uint16_t i = 0; i < t->ooo.cnt; i++)
				if (sf_seq_le(t->ooo.r[i].left, t->dsack.left) &&
				    sf_seq_ge(t->ooo.r[i].right, t->dsack.right)) {
					o->sack[n].left = t->ooo.r[i].left;
					o->sack[n++].right = t->ooo.r[i].right;
					skip = i;
					break;
				}
		}
		for (uint16_t i = 0; i < t->ooo.cnt && n < max; i++) {
			if (i == skip)
				continue;
			o->sack[n].left = t->ooo.r[i].left;
			o->sack[n++].right = t->ooo.r[i].right;
		}
		o->sack_cnt = n;
	}
}

/* Sends one segment of connection t. Data comes from the send ring at seq;
 * `retx` is the SF_RETX_* cause of a retransmission (traced). */
static void send_segment(sf_stack_t *st, sf_tcb_t *t, uint32_t seq, uint32_t len, uint8_t flags,
                         uint8_t retx)
{
	sf_tcp_t h = {.sport = t->lport, .dport = t->rport, .seq = seq, .flags = flags};
	if (t->state != SF_SYN_SENT) {
		h.flags |= SF_TCP_ACK;
		h.ack = t->rcv_nxt;
	}
	h.wnd = sf_rcv_wnd_raw(st, t);
	if (flags & SF_TCP_SYN)
		h.wnd = (uint16_t)(t->rcvbuf > 0xffff ? 0xffff : t->rcvbuf); /* RFC 7323 §2.2 */
	fill_opts(st, t, h.flags, &h.opt);
	if ((t->flags & F_URG_SEND) && sf_seq_gt(t->snd_up, seq)) {
		/* RFC 9293 §3.8.5: the pointer is an offset from SEG.SEQ to the
		 * first non-urgent byte (MUST-62); beyond 64 KiB it saturates. */
		uint32_t up = t->snd_up - seq;
		h.flags |= SF_TCP_URG;
		h.urg = (uint16_t)(up > 0xffff ? 0xffff : up);
	}
	uint8_t tos = t->tos;
	sf_ecn_tx(st, t, &h, len > 0, retx != SF_RETX_NONE, &tos);
	const uint8_t *payload = NULL;
	if (len) {
		/* Gather the payload straight into its place in the frame;
		 * sf_tcp_emit then only sums it (no second copy). */
		size_t at = SF_IPV4_HDR_LEN + SF_TCP_HDR_LEN + sf_tcp_opts_len(&h.opt);
		if (at + len > st->frame_cap)
			return;
		sf_ring_peek(&t->snd, seq - t->snd_head, st->frame + at, len);
		payload = st->frame + at;
	}
	emit(st, t->raddr, &h, payload, len, t->ttl, tos, t->id, t, retx);
	t->last_ack_sent = t->rcv_nxt;
	if (h.flags & SF_TCP_ACK) {
		if (t->flags & F_DSACK) {
			t->flags &= ~(uint32_t)F_DSACK; /* reported once (RFC 2883 §4) */
			st->stats.dsacks_sent++;
		}
		t->flags &= ~(uint32_t)F_ACK_NOW;
		t->acks_owed = 0;
		sf_tcb_timer_clear(st, t, T_DELACK);
	}
}

/* A keepalive or zero-window probe: one below SND.UNA, no data, so the peer
 * must answer with an ACK carrying its current window (RFC 9293 §3.10.7.4,
 * first check). A segment of the connection like any other: its TTL and
 * DSCP (MUST-48/49), timestamps when negotiated (RFC 7323 §3.2). */
void sf_send_probe(sf_stack_t *st, sf_tcb_t *t)
{
	uint32_t owed = t->flags & F_ACK_NOW;
	uint32_t dsack = t->flags & F_DSACK;
	send_segment(st, t, t->snd_una - 1, 0, 0, SF_RETX_NONE);
	t->flags |= owed | dsack; /* a probe does not pay an ACK we owe */
}

/* A pure ACK carries SND.MAX, not SND.NXT: after a timeout SND.NXT steps
 * back to resend, and an ACK numbered below what the peer already received
 * would fail its acceptability test and be dropped with the news it
 * carries (RFC 9293 §3.10.7.4, first check). */
void sf_send_ack(sf_stack_t *st, sf_tcb_t *t)
{
	send_segment(st, t, t->snd_max, 0, 0, SF_RETX_NONE);
}

/* Payload bytes per segment: the effective send MSS less the options this
 * segment carries (timestamps, SACK blocks), so header and data never
 * exceed what the peer and our MTU take (RFC 9293 §3.7.1, MUST-16). */
uint32_t sf_seg_payload_max(sf_stack_t *st, sf_tcb_t *t)
{
	/* No SACK block to report: the options are the timestamps or none
	 * (fill_opts; 2 NOPs and TS, RFC 7323 Appendix A). */
	if (!t->ooo.cnt && !(t->flags & F_DSACK))
		return t->snd_mss - ((t->flags & F_TS_OK) ? 12u : 0u);
	sf_tcp_opts_t o;
	fill_opts(st, t, SF_TCP_ACK, &o);
	return t->snd_mss - (uint32_t)sf_tcp_opts_len(&o);
}

/* New data one segment may carry: one MSS-sized segment, or with the
 * link's TSO (cfg.tso_max) as many whole ones as fit a 64 KiB datagram
 * (IPv4 and TCP headers with the longest options included). Urgent data
 * keeps one segment per send, so each carries its own pointer. */
static uint32_t new_data_max(const sf_stack_t *st, const sf_tcb_t *t, uint32_t pmax)
{
	if (!sf_tso_on(st) || (t->flags & F_URG_SEND))
		return pmax;
	uint32_t cap = st->cfg.tso_max;
	uint32_t room = SF_FRAME_MAX - SF_IPV4_HDR_LEN - SF_TCP_HDR_LEN - SF_TCP_MAX_OPT_LEN;
	if (cap > room)
		cap = room;
	return cap < pmax ? pmax : cap - cap % pmax;
}

/* RFC 9293 §3.8.6.2.1: the override timeout, 0.1 to 1 second. */
#define SWS_OVERRIDE_US 200000

static void start_rto(sf_stack_t *st, sf_tcb_t *t)
{
	if (t->deadline[T_RTO] == INT64_MAX)
		sf_tcb_timer_set(st, t, T_RTO, rto_deadline(st, t));
}

static void restart_rto(sf_stack_t *st, sf_tcb_t *t)
{
	sf_tcb_timer_clear(st, t, T_RTO);
	start_rto(st, t);
}

static bool fin_may_be_sent(const sf_tcb_t *t)
{
	if (!(t->flags & F_FIN_QUEUED) || (t->flags & F_FIN_ACKED))
		return false;
	return t->state == SF_FIN_WAIT_1 || t->state == SF_LAST_ACK || t->state == SF_CLOSING;
}

/* Sends [seq, seq + len) from the send ring, with the FIN when `fin`;
 * the bookkeeping shared by new data and retransmissions. `retx` is the
 * SF_RETX_* cause of a retransmission, SF_RETX_NONE for new data. */
static void send_data(sf_stack_t *st, sf_tcb_t *t, uint32_t seq, uint32_t len, bool fin,
                      uint8_t retx)
{
	uint8_t flags = 0;
	if (len && seq + len == t->snd_head + t->snd.len)
		flags |= SF_TCP_PSH; /* MUST-61: PSH on the last queued segment */
	if (fin)
		flags |= SF_TCP_FIN;
	if (retx) {
		t->retransmits++;
		st->stats.retransmits++;
	} else if (len && !(t->flags & F_RTT_TIMING)) {
		t->flags |= F_RTT_TIMING;
		t->rtt_seq = seq;
		t->rtt_start_us = st->now_us;
	}
	send_segment(st, t, seq, len, flags, retx);
	sf_rack_on_send(st, t, seq, len + fin, retx);
	if (t->flags & F_IN_RECOVERY)
		t->prr_out += len + fin;      /* RFC 9937 §4: prr_out += (data sent) */
	if (sf_seq_gt(seq + len, t->snd_max)) /* new bytes, also past a go-back */
		t->bytes_sent += seq + len - sf_seq_max(seq, t->snd_max);
	if (fin)
		t->flags |= F_FIN_SENT;
	t->last_send_us = st->now_us;
	start_rto(st, t);
}

void sf_retransmit_one(sf_stack_t *st, sf_tcb_t *t, uint32_t seq, uint8_t cause)
{
	uint32_t data_end = t->snd_head + t->snd.len;
	uint32_t sent_end = sf_seq_lt(t->snd_max, data_end) ? t->snd_max : data_end;
	uint32_t len = sf_seq_lt(seq, sent_end) ? sent_end - seq : 0; /* never new data */
	uint32_t pmax = sf_seg_payload_max(st, t);
	if (len > pmax)
		len = pmax;
	bool fin = (t->flags & F_FIN_SENT) && !(t->flags & F_FIN_ACKED) && seq + len == data_end;
	if (len || fin)
		send_data(st, t, seq, len, fin, cause);
}

bool sf_send_new_probe(sf_stack_t *st, sf_tcb_t *t)
{
	uint32_t data_end = t->snd_head + t->snd.len;
	if (t->snd_nxt != t->snd_max || !sf_seq_lt(t->snd_nxt, data_end))
		return false;
	uint32_t room = sf_seq_gt(snd_right(t), t->snd_nxt) ? snd_right(t) - t->snd_nxt : 0;
	uint32_t len = data_end - t->snd_nxt, pmax = sf_seg_payload_max(st, t);
	if (len > pmax)
		len = pmax;
	if (room < len)
		return false;
	bool fin = fin_may_be_sent(t) && t->snd_nxt + len == data_end;
	send_data(st, t, t->snd_nxt, len, fin, SF_RETX_NONE);
	t->snd_nxt += len + fin;
	t->snd_max = t->snd_nxt;
	return true;
}

/* New bytes the windows allow past SND.NXT: the peer's window and cwnd
 * (RFC 5681), plus up to two segments of limited transmit on the first
 * duplicate ACKs (RFC 3042); in SACK recovery, cwnd less the pipe. */
static uint32_t usable_window(const sf_tcb_t *t)
{
	uint32_t right = snd_right(t);
	uint32_t by_peer = sf_seq_gt(right, t->snd_nxt) ? right - t->snd_nxt : 0;
	uint32_t by_cc;
	if ((t->flags & (F_IN_RECOVERY | F_SACK_OK)) == (F_IN_RECOVERY | F_SACK_OK)) {
		uint32_t pipe = sf_pipe(t);
		by_cc = t->cwnd > pipe ? t->cwnd - pipe : 0;
	} else {
		uint32_t cwnd = t->cwnd;
		if (!(t->flags & F_IN_RECOVERY) && t->dupacks && t->dupacks < 3)
			cwnd += t->dupacks * (uint32_t)t->snd_mss;
		uint32_t cright = t->snd_una + cwnd;
		by_cc = sf_seq_gt(cright, t->snd_nxt) ? cright - t->snd_nxt : 0;
	}
	return by_peer < by_cc ? by_peer : by_cc;
}

void sf_tcp_output(sf_stack_t *st, sf_tcb_t *t)
{
	switch (t->state) {
	case SF_CLOSED:
	case SF_LISTEN:
	case SF_TIME_WAIT:
		return;
	case SF_SYN_SENT:
	case SF_SYN_RECEIVED:
		if (t->snd_nxt == t->iss) {
			uint8_t fl = SF_TCP_SYN;
			send_segment(st, t, t->iss, 0, fl,
			             t->snd_max != t->iss ? SF_RETX_RTO : SF_RETX_NONE);
			t->snd_nxt = t->iss + 1;
			if (sf_seq_gt(t->snd_nxt, t->snd_max))
				t->snd_max = t->snd_nxt;
			start_rto(st, t);
			return;
		}
		if (t->state == SF_SYN_SENT)
			return;
		break;
	default:
		break;
	}

	if (t->flags & F_HS_ACK) {
		t->flags &= ~(uint32_t)F_HS_ACK;
		sf_send_ack(st, t);
	}
	bool sent = false;
	uint32_t pmax = sf_seg_payload_max(st, t);
	/* RFC 5681 §4.1: after an idle period longer than the RTO, restart
	 * from no more than the initial window. */
	if (t->snd_una == t->snd_max && t->last_send_us &&
	    st->now_us - t->last_send_us > (int64_t)t->rto_us && t->cwnd > 10u * t->snd_mss)
		t->cwnd = 10u * t->snd_mss;

	/* SACK recovery (RFC 6675 §5): holes first, while pipe < cwnd. */
	bool sack_rec = (t->flags & (F_IN_RECOVERY | F_SACK_OK)) == (F_IN_RECOVERY | F_SACK_OK);
	uint32_t hole, hlen;
	uint8_t hole_cause = (t->flags & F_RACK) ? SF_RETX_RACK : SF_RETX_DUPACK;
	while (sack_rec && sf_pipe(t) < t->cwnd && sf_next_hole(t, &hole, &hlen)) {
		uint32_t len = hlen < pmax ? hlen : pmax;
		uint32_t data_end = t->snd_head + t->snd.len;
		bool fin = false;
		if (sf_seq_gt(hole + len, data_end)) { /* the FIN's sequence number */
			len = sf_seq_gt(data_end, hole) ? data_end - hole : 0;
			fin = (t->flags & F_FIN_SENT) && !(t->flags & F_FIN_ACKED);
			if (!len && !fin)
				break;
		}
		send_data(st, t, hole, len, fin, hole_cause);
		t->high_rxt = hole + len + fin;
		sent = true;
		/* The head resent: its ACK needs a round trip from now, so the
		 * RTO restarts (as Linux's tcp_xmit_retransmit_queue does);
		 * otherwise a loss found late in a long RTT is resent twice. */
		if (hole == t->snd_una)
			restart_rto(st, t);
	}

	for (;;) {
		uint32_t data_end = t->snd_head + t->snd.len;
		uint32_t avail = sf_seq_lt(t->snd_nxt, data_end) ? data_end - t->snd_nxt : 0;
		uint32_t usable = usable_window(t);
		uint32_t len = avail < usable ? avail : usable;
		/* A retransmission (below snd_max) always goes, one segment at
		 * a time. */
		bool retx = sf_seq_lt(t->snd_nxt, t->snd_max);
		uint32_t smax = retx ? pmax : new_data_max(st, t, pmax);
		if (len > smax)
			len = smax;
		/* A TSO segment carries whole segments only: a short tail goes
		 * on its own, through the same Nagle and SWS checks as without
		 * TSO. */
		if (len > pmax)
			len -= len % pmax;
		bool fin = fin_may_be_sent(t) && len == avail && t->snd_nxt + len == data_end;
		if (len == 0 && !fin)
			break;
		/* Sender SWS avoidance and Nagle (RFC 9293 §3.8.6.2.1, §3.7.4):
		 * send a full segment, or everything that is queued when nothing
		 * is unacknowledged (or Nagle is off), or at least half the
		 * largest window the peer ever offered. */
		/* Going back over sent data after a timeout, a runt cut short by
		 * cwnd (not by the peer's window) while more old data follows
		 * waits for the next ACK to open cwnd: the segments were
		 * full-sized the first time. */
		uint32_t peer_room =
		        sf_seq_gt(snd_right(t), t->snd_nxt) ? snd_right(t) - t->snd_nxt : 0;
		if (retx && len < pmax && len < t->snd_max - t->snd_nxt && len < peer_room &&
		    !fin && t->snd_nxt != t->snd_una)
			break;
		/* SF_SO_CORK: a tail shorter than a full segment waits for
		 * more from the application, unless the FIN takes it, or the
		 * send buffer is full (no more can come); a segment cut short
		 * by a window is not the application's tail and goes by the
		 * usual rules. */
		if ((t->flags & F_CORK) && !fin && !retx && len < pmax && len == avail &&
		    t->snd.len < t->sndbuf)
			break;
		bool idle = t->snd_nxt == t->snd_una || (t->flags & F_NODELAY);
		if (!fin && !retx && len < pmax && !(idle && len == avail) &&
		    len < t->max_snd_wnd / 2 && !(t->flags & F_SWS_OVERRIDE)) {
			/* Held. With nothing in flight no ACK will come to
			 * release it: arm the override timeout. */
			if (t->snd_nxt == t->snd_una && t->deadline[T_PERSIST] == INT64_MAX)
				sf_tcb_timer_set(st, t, T_PERSIST, st->now_us + SWS_OVERRIDE_US);
			break;
		}
		t->flags &= ~(uint32_t)F_SWS_OVERRIDE;
		send_data(st, t, t->snd_nxt, len, fin, retx ? SF_RETX_RTO : SF_RETX_NONE);
		t->snd_nxt += len + fin;
		if (sf_seq_gt(t->snd_nxt, t->snd_max))
			t->snd_max = t->snd_nxt;
		sent = true;
		if (fin)
			break;
	}

	/* Zero window with data waiting and nothing in flight: probe
	 * (RFC 9293 §3.8.6.1, MUST-35/36). */
	uint32_t data_end = t->snd_head + t->snd.len;
	if (snd_window_shut(t) && (sf_seq_lt(t->snd_nxt, data_end) || t->snd_una != t->snd_max) &&
	    t->deadline[T_PERSIST] == INT64_MAX && t->deadline[T_RTO] == INT64_MAX) {
		uint64_t rto = (uint64_t)t->rto_us << (t->probes < 10 ? t->probes : 10);
		if (rto > st->cfg.rto_max_ms * 1000ull)
			rto = st->cfg.rto_max_ms * 1000ull;
		sf_tcb_timer_set(st, t, T_PERSIST, st->now_us + (int64_t)rto);
	}

	/* Duplicate ACKs owed for out-of-order arrivals (RFC 5681 §4.2); any
	 * ACK beyond those is coalesced into one (MUST-58). */
	uint8_t acks = t->dupacks_owed; /* pure ACKs: data segments are not dup ACKs */
	t->dupacks_owed = 0;
	if (!acks && !sent && (t->flags & F_ACK_NOW))
		acks = 1;
	for (; acks; acks--)
		sf_send_ack(st, t);
	sf_rack_schedule_tlp(st, t);
}

/* ---- RTT estimation (RFC 6298 §2) ---- */

void sf_rtt_sample(sf_stack_t *st, sf_tcb_t *t, int64_t rtt_us)
{
	if (rtt_us < 1)
		rtt_us = 1;
	sf_hystart_rtt(st, t, rtt_us < UINT32_MAX ? (uint32_t)rtt_us : UINT32_MAX - 1);
	if (t->srtt_us == 0) {
		t->srtt_us = (int32_t)rtt_us; /* (2.2) */
		t->rttvar_us = (int32_t)(rtt_us / 2);
	} else {
		int64_t err = rtt_us - t->srtt_us; /* (2.3), alpha 1/8, beta 1/4 */
		t->rttvar_us += (int32_t)(((err < 0 ? -err : err) - t->rttvar_us) / 4);
		t->srtt_us += (int32_t)(err / 8);
	}
	int64_t rto =
	        t->srtt_us + (4 * (int64_t)t->rttvar_us > 1000 ? 4 * (int64_t)t->rttvar_us : 1000);
	if (rto < st->cfg.rto_min_ms * 1000ll) /* (2.4) */
		rto = st->cfg.rto_min_ms * 1000ll;
	if (rto > st->cfg.rto_max_ms * 1000ll) /* (2.5) */
		rto = st->cfg.rto_max_ms * 1000ll;
	t->rto_us = (uint32_t)rto;
}

/* ---- retransmission timeout (RFC 6298 §5, RFC 9293 §3.8.3) ---- */

void sf_tcp_retransmit_timeout(sf_stack_t *st, sf_tcb_t *t)
{
	bool syn = t->state == SF_SYN_SENT || t->state == SF_SYN_RECEIVED;
	if (!syn && snd_window_shut(t) &&
	    !(t->flags & F_FIN_SENT && t->snd_una == t->snd_max - 1)) {
		/* The peer shut its window under data in flight (a shrink, or an
		 * old window update reordered late): retransmitting cannot get
		 * through; probe the window instead (RFC 9293 §3.8.6.1, MUST-36).
		 * The probe's answer reopens it, and R2 is the persist timer's. */
		sf_tcb_timer_set(st, t, T_PERSIST, st->now_us);
		return;
	}
	if (t->backoff == 0)
		t->first_retx_us = st->now_us;
	/* R2: give up (MUST-20); for SYNs at least 3 minutes (MUST-23). */
	uint32_t r2 =
	        syn ? st->cfg.r2_syn_ms : (t->user_timeout_ms ? t->user_timeout_ms : st->cfg.r2_ms);
	if (st->now_us - t->first_retx_us >= (int64_t)r2 * 1000) {
		sf_tcb_close(st, t, t->soft_error ? t->soft_error : SF_ETIMEDOUT, SF_CAUSE_TIMEOUT);
		return;
	}
	st->stats.rto_timeouts++;
	if (t->backoff < 30)
		t->backoff++;
	/* R1 (RFC 9293 §3.8.3, MUST-20): after R1 retransmissions of one
	 * segment, negative advice to IP. synfin keeps no route to invalidate;
	 * its advice is the r1_advice counter an application or driver reads
	 * (once per connection episode: backoff restarts at 0 on progress). */
	if (t->backoff == st->cfg.r1)
		st->stats.r1_advice++;
	if (syn)
		t->flags |= F_SYN_RETX;
	else
		sf_recovery_on_timeout(st, t);
	t->flags &= ~(uint32_t)F_RTT_TIMING; /* Karn: no sample from retransmits (MUST-18) */
	t->ts_rto = sf_ts_now(st);
	t->snd_nxt = t->snd_una; /* go back to the first unacked byte (or the SYN) */
	if (syn) {
		t->retransmits++;
		st->stats.retransmits++;
	}
	sf_tcp_output(st, t);
	start_rto(st, t);
}
