/* Packet-exchange harness (see pkt.h). */
#include "pkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pkt_on_tx(void *ctx, const uint8_t *frame, size_t len, int64_t now_us)
{
	pkt_t *p = ctx;
	if (p->out_cnt == PKT_MAX_OUT)
		fail_msg("harness: more than %d unread segments", PKT_MAX_OUT);
	pkt_seg_t *s = &p->out[(p->out_head + p->out_cnt++) % PKT_MAX_OUT];
	memset(s, 0, sizeof *s);
	assert_true(len <= sizeof s->frame);
	memcpy(s->frame, frame, len);
	s->len = len;
	s->at_us = now_us;
	/* Everything synfin sends must be well-formed: parse it strictly. */
	assert_int_equal(sf_ipv4_parse(s->frame, len, &s->ip), 0);
	assert_int_equal(s->ip.src, PKT_US);
	const uint8_t *pl = s->frame + s->ip.hdr_len;
	size_t plen = s->ip.total_len - s->ip.hdr_len;
	if (s->ip.proto == SF_IP_PROTO_TCP) {
		assert_int_equal(sf_tcp_parse(pl, plen, s->ip.src, s->ip.dst, true, &s->tcp), 0);
		s->payload = pl + s->tcp.payload_off;
	} else if (s->ip.proto == SF_IP_PROTO_ICMP) {
		assert_int_equal(sf_icmp_parse(pl, plen, &s->icmp), 0);
		s->payload = pl + s->icmp.data_off;
	}
	return 0;
}

static void on_event(void *ctx, const sf_event_t *ev)
{
	pkt_t *p = ctx;
	if (p->ev_cnt < PKT_MAX_EV)
		p->ev[p->ev_cnt++] = *ev;
}

void pkt_init(pkt_t *p, const sf_config_t *cfg)
{
	memset(p, 0, sizeof *p);
	if (cfg) {
		p->cfg = *cfg;
	} else {
		sf_config_default(&p->cfg);
		p->cfg.delack_ms = 0;
		p->cfg.seed = 1;
	}
	p->cfg.addr = PKT_US;
	p->cfg.transmit = pkt_on_tx;
	p->cfg.transmit_ctx = p;
	p->cfg.trace = (sf_trace_sink_t){on_event, p};
	p->cfg.allocator = count_allocator(&p->mem);
	p->now = 1000000;
	p->peer_port = 40000;
	p->port = 80;
	p->irs = 1000;
	p->wnd = 65535;
	p->peer_ts = 5000;
	p->peer_addr = PKT_PEER;
	assert_int_equal(sf_stack_create(&p->cfg, p->now, &p->st), 0);
}

void pkt_fini(pkt_t *p)
{
	sf_stack_destroy(p->st);
	p->st = NULL;
	assert_int_equal(p->mem.live, 0);
}

void pkt_finish(pkt_t *p, sf_sock_t s)
{
	sf_abort(p->st, s);
	pkt_poll(p);
	pkt_discard(p);
	pkt_fini(p);
}

void pkt_finish_listener(pkt_t *p, sf_sock_t s, sf_sock_t l)
{
	sf_abort(p->st, s);
	sf_close(p->st, l);
	pkt_poll(p);
	pkt_discard(p);
	pkt_fini(p);
}

void pkt_finish_close(pkt_t *p, sf_sock_t s)
{
	sf_close(p->st, s);
	pkt_poll(p);
	pkt_discard(p);
	pkt_fini(p);
}

void pkt_poll(pkt_t *p)
{
	sf_stack_poll(p->st, p->now);
}

void pkt_advance(pkt_t *p, int64_t us)
{
	p->now += us;
	pkt_poll(p);
}

int64_t pkt_run_next_deadline(pkt_t *p)
{
	int64_t d = sf_stack_next_deadline(p->st);
	if (d == INT64_MAX)
		return -1;
	if (d > p->now)
		p->now = d;
	pkt_poll(p);
	return p->now;
}

uint8_t pkt_flags(const char *s)
{
	uint8_t f = 0;
	for (; *s; s++) {
		switch (*s) {
		case 'S':
			f |= SF_TCP_SYN;
			break;
		case 'F':
			f |= SF_TCP_FIN;
			break;
		case 'R':
			f |= SF_TCP_RST;
			break;
		case 'P':
			f |= SF_TCP_PSH;
			break;
		case 'U':
			f |= SF_TCP_URG;
			break;
		case 'E':
			f |= SF_TCP_ECE;
			break;
		case 'W':
			f |= SF_TCP_CWR;
			break;
		case '.':
			f |= SF_TCP_ACK;
			break;
		default:
			fail_msg("harness: bad flag '%c'", *s);
		}
	}
	return f;
}

size_t pkt_build(pkt_t *p, uint8_t *buf, size_t cap, const char *flags, uint32_t seq, uint32_t ack,
                 const void *data, size_t len)
{
	sf_tcp_t h = {.sport = p->peer_port,
	              .dport = p->port,
	              .seq = p->irs + seq,
	              .ack = p->iss + ack,
	              .flags = pkt_flags(flags),
	              .wnd = p->wnd,
	              .urg = p->urg,
	              .opt = p->opt};
	if (!(h.flags & SF_TCP_ACK))
		h.ack = 0;
	if (h.opt.has_ts)
		h.opt.ts_val = p->peer_ts;
	int n = sf_tcp_emit(&h, p->peer_addr, PKT_US, data, len, buf + 20, cap - 20);
	assert_true(n > 0);
	sf_ipv4_t ip = {.src = p->peer_addr, .dst = PKT_US, .proto = SF_IP_PROTO_TCP, .ttl = 64};
	assert_int_equal(sf_ipv4_emit(&ip, (size_t)n, buf, 20), 20);
	return 20 + (size_t)n;
}

size_t pkt_build_opts(pkt_t *p, uint8_t *buf, size_t cap, const char *flags, uint32_t seq,
                      uint32_t ack, const uint8_t *opts, size_t opt_len, const void *data,
                      size_t len)
{
	size_t olen = (opt_len + 3) & ~(size_t)3;
	size_t hl = 20 + olen, tl = hl + len;
	assert_true(olen <= 40 && 20 + tl <= cap);
	uint8_t *t = buf + 20;
	memset(t, 0, hl);
	uint8_t f = pkt_flags(flags);
	sf_put16(t, p->peer_port);
	sf_put16(t + 2, p->port);
	sf_put32(t + 4, p->irs + seq);
	sf_put32(t + 8, (f & SF_TCP_ACK) ? p->iss + ack : 0);
	t[12] = (uint8_t)((hl / 4) << 4);
	t[13] = f;
	sf_put16(t + 14, p->wnd);
	if (opt_len)
		memcpy(t + 20, opts, opt_len);
	if (len)
		memcpy(t + hl, data, len);
	uint64_t sum = sf_csum_pseudo(p->peer_addr, PKT_US, SF_IP_PROTO_TCP, (uint16_t)tl);
	sf_put16(t + 16, sf_csum_fold(sf_csum_add(sum, t, tl)));
	sf_ipv4_t ip = {.src = p->peer_addr, .dst = PKT_US, .proto = SF_IP_PROTO_TCP, .ttl = 64};
	assert_int_equal(sf_ipv4_emit(&ip, tl, buf, 20), 20);
	return 20 + tl;
}

size_t pkt_build_icmp(pkt_t *p, uint8_t *buf, size_t cap, uint8_t type, uint8_t code,
                      uint16_t mtu_or_id, uint16_t seq, const void *data, size_t len)
{
	sf_icmp_t ic = {.type = type, .code = code, .mtu = mtu_or_id, .id = mtu_or_id, .seq = seq};
	int n = sf_icmp_emit(&ic, data, len, buf + 20, cap - 20);
	assert_true(n > 0);
	sf_ipv4_t ip = {.src = p->peer_addr, .dst = PKT_US, .proto = SF_IP_PROTO_ICMP, .ttl = 64};
	assert_int_equal(sf_ipv4_emit(&ip, (size_t)n, buf, 20), 20);
	return 20 + (size_t)n;
}

void pkt_in_raw(pkt_t *p, const uint8_t *frame, size_t len)
{
	sf_stack_input(p->st, frame, len, p->now);
}

void pkt_in_nopoll(pkt_t *p, const char *flags, uint32_t seq, uint32_t ack, const void *data,
                   size_t len)
{
	uint8_t buf[2048];
	size_t n = pkt_build(p, buf, sizeof buf, flags, seq, ack, data, len);
	pkt_in_raw(p, buf, n);
}

void pkt_in(pkt_t *p, const char *flags, uint32_t seq, uint32_t ack, const void *data, size_t len)
{
	pkt_in_nopoll(p, flags, seq, ack, data, len);
	pkt_poll(p);
}

size_t pkt_pending(const pkt_t *p)
{
	return p->out_cnt;
}

void pkt_discard(pkt_t *p)
{
	p->out_cnt = 0;
}

pkt_seg_t *pkt_next(pkt_t *p)
{
	if (!p->out_cnt)
		fail_msg("expected a segment from synfin, got none (t=%lld us)", (long long)p->now);
	pkt_seg_t *s = &p->out[p->out_head];
	p->out_head = (p->out_head + 1) % PKT_MAX_OUT;
	p->out_cnt--;
	return s;
}

static void describe(const pkt_t *p, const pkt_seg_t *s, char *buf, size_t cap)
{
	sf_tcp_format(buf, cap, &s->ip, &s->tcp, true, p->iss, p->irs);
}

pkt_seg_t *pkt_expect(pkt_t *p, const char *flags, uint32_t seq, uint32_t ack, size_t len)
{
	pkt_seg_t *s = pkt_next(p);
	char got[256];
	describe(p, s, got, sizeof got);
	uint8_t f = pkt_flags(flags);
	if (s->ip.proto != SF_IP_PROTO_TCP)
		fail_msg("expected TCP [%s], got a non-TCP datagram", flags);
	/* The first SYN or SYN,ACK synfin sends fixes its ISS. */
	if ((s->tcp.flags & SF_TCP_SYN) && p->iss == 0)
		p->iss = s->tcp.seq;
	bool ok = s->tcp.flags == f && s->tcp.seq == p->iss + seq && s->tcp.payload_len == len;
	if (f & SF_TCP_ACK)
		ok = ok && s->tcp.ack == p->irs + ack;
	if (!ok)
		fail_msg("expected [%s] seq %u ack %u len %zu, got: %s", flags, seq, ack, len, got);
	return s;
}

void pkt_expect_none(pkt_t *p)
{
	if (p->out_cnt) {
		char got[256];
		describe(p, &p->out[p->out_head], got, sizeof got);
		fail_msg("expected nothing from synfin, got %zu segment(s), first: %s", p->out_cnt,
		         got);
	}
}

sf_sock_t pkt_open_passive(pkt_t *p, sf_sock_t *listener)
{
	sf_sock_t l = sf_socket(p->st);
	assert_true(l > 0);
	assert_int_equal(sf_bind(p->st, l, p->port), 0);
	assert_int_equal(sf_listen(p->st, l, 16), 0);
	pkt_in(p, "S", 0, 0, NULL, 0);
	pkt_seg_t *sa = pkt_next(p);
	assert_int_equal(sa->tcp.flags, SF_TCP_SYN | SF_TCP_ACK);
	p->iss = sa->tcp.seq;
	assert_int_equal(sa->tcp.ack, p->irs + 1);
	pkt_in(p, ".", 1, 1, NULL, 0);
	pkt_expect_none(p);
	sf_sock_t s = sf_accept(p->st, l, NULL, NULL);
	assert_true(s > 0);
	if (listener)
		*listener = l;
	else
		assert_int_equal(sf_close(p->st, l), 0);
	return s;
}

sf_sock_t pkt_open_passive_opt(pkt_t *p, const sf_tcp_opts_t *syn_opt, sf_tcp_t *synack,
                               sf_sock_t *listener)
{
	sf_sock_t l = sf_socket(p->st);
	assert_true(l > 0);
	assert_int_equal(sf_bind(p->st, l, p->port), 0);
	assert_int_equal(sf_listen(p->st, l, 16), 0);
	sf_tcp_opts_t o = {0};
	if (syn_opt)
		o = *syn_opt;
	p->opt = o;
	pkt_in(p, "S", 0, 0, NULL, 0);
	pkt_seg_t *sa = pkt_next(p);
	assert_int_equal(sa->tcp.flags, SF_TCP_SYN | SF_TCP_ACK);
	assert_int_equal(sa->tcp.ack, p->irs + 1);
	p->iss = sa->tcp.seq;
	if (synack)
		*synack = sa->tcp;
	memset(&p->opt, 0, sizeof p->opt);
	if (o.has_ts && sa->tcp.opt.has_ts) {
		p->opt.has_ts = true;
		p->opt.ts_ecr = sa->tcp.opt.ts_val;
	}
	pkt_in(p, ".", 1, 1, NULL, 0);
	pkt_expect_none(p);
	sf_sock_t s = sf_accept(p->st, l, NULL, NULL);
	assert_true(s > 0);
	if (listener)
		*listener = l;
	else
		assert_int_equal(sf_close(p->st, l), 0);
	return s;
}

sf_sock_t pkt_open_sack(pkt_t *p, const sf_config_t *cfg, const uint8_t *data)
{
	pkt_init(p, cfg);
	sf_sock_t l = sf_socket(p->st);
	assert_int_equal(sf_bind(p->st, l, 80), 0);
	assert_int_equal(sf_listen(p->st, l, 4), 0);
	p->opt = (sf_tcp_opts_t){.has_mss = true, .mss = 1000, .sack_perm = true};
	pkt_in(p, "S", 0, 0, NULL, 0);
	p->iss = pkt_next(p)->tcp.seq;
	memset(&p->opt, 0, sizeof p->opt);
	pkt_advance(p, 100000);
	pkt_in(p, ".", 1, 1, NULL, 0);
	sf_sock_t s = sf_accept(p->st, l, NULL, NULL);
	assert_true(s > 0);
	sf_close(p->st, l);
	assert_int_equal(sf_send(p->st, s, data, 1000), 1000);
	pkt_poll(p);
	pkt_expect(p, "P.", 1, 1, 1000);
	pkt_advance(p, 100000);
	pkt_in(p, ".", 1, 1001, NULL, 0);
	pkt_expect_none(p);
	return s;
}

sf_sock_t pkt_open_active(pkt_t *p)
{
	sf_sock_t s = sf_socket(p->st);
	assert_true(s > 0);
	assert_int_equal(sf_connect(p->st, s, PKT_PEER, 80), SF_EINPROGRESS);
	pkt_poll(p);
	pkt_seg_t *syn = pkt_next(p);
	assert_int_equal(syn->tcp.flags, SF_TCP_SYN);
	p->iss = syn->tcp.seq;
	/* The peer is the harness: its "port" is synfin's remote port. */
	p->peer_port = 80;
	p->port = syn->tcp.sport;
	pkt_in(p, "S.", 0, 1, NULL, 0);
	pkt_expect(p, ".", 1, 1, 0);
	return s;
}

sf_state_t pkt_state(const pkt_t *p, uint32_t conn_id)
{
	sf_state_t s = SF_CLOSED;
	for (size_t i = 0; i < p->ev_cnt; i++)
		if (p->ev[i].kind == SF_EV_STATE && p->ev[i].conn_id == conn_id)
			s = p->ev[i].u.state.to;
	return s;
}

const char *pkt_state_path(const pkt_t *p, uint32_t conn_id)
{
	static char buf[1024];
	size_t n = 0;
	buf[0] = 0;
	for (size_t i = 0; i < p->ev_cnt; i++) {
		if (p->ev[i].kind != SF_EV_STATE || p->ev[i].conn_id != conn_id)
			continue;
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", n ? "," : "",
		                      sf_state_name(p->ev[i].u.state.to));
		if (n >= sizeof buf)
			break;
	}
	return buf;
}

size_t pkt_drops(const pkt_t *p, sf_drop_reason_t why)
{
	size_t n = 0;
	for (size_t i = 0; i < p->ev_cnt; i++)
		n += p->ev[i].kind == SF_EV_DROP && p->ev[i].drop == why;
	return n;
}

void pkt_dump(const pkt_t *p)
{
	for (size_t i = 0; i < p->ev_cnt; i++)
		sf_trace_json_write(stderr, &p->ev[i]);
}

/* The peer's FIN (at relative sequence 1) and synfin's (at 1) are the
 * first of each side: no data precedes them. */
sf_sock_t pkt_goto(pkt_t *p, sf_state_t state, sf_sock_t *listener)
{
	if (state == SF_SYN_SENT) {
		sf_sock_t s = sf_socket(p->st);
		assert_true(s > 0);
		assert_int_equal(sf_connect(p->st, s, PKT_PEER, 80), SF_EINPROGRESS);
		pkt_poll(p);
		pkt_seg_t *syn = pkt_next(p);
		assert_int_equal(syn->tcp.flags, SF_TCP_SYN);
		p->iss = syn->tcp.seq;
		p->peer_port = 80;
		p->port = syn->tcp.sport;
		return s;
	}
	if (state == SF_SYN_RECEIVED) {
		sf_sock_t l = sf_socket(p->st);
		assert_true(l > 0);
		assert_int_equal(sf_bind(p->st, l, p->port), 0);
		assert_int_equal(sf_listen(p->st, l, 16), 0);
		pkt_in(p, "S", 0, 0, NULL, 0);
		pkt_seg_t *sa = pkt_next(p);
		assert_int_equal(sa->tcp.flags, SF_TCP_SYN | SF_TCP_ACK);
		p->iss = sa->tcp.seq;
		if (listener)
			*listener = l;
		return 0;
	}
	sf_sock_t s = pkt_open_passive(p, listener);
	switch (state) {
	case SF_ESTABLISHED:
		break;
	case SF_CLOSE_WAIT:
	case SF_LAST_ACK:
		pkt_in(p, "F.", 1, 1, NULL, 0);
		pkt_expect(p, ".", 1, 2, 0);
		if (state == SF_LAST_ACK) {
			assert_int_equal(sf_close(p->st, s), 0);
			pkt_poll(p);
			pkt_expect(p, "F.", 1, 2, 0);
			s = 0;
		}
		break;
	case SF_FIN_WAIT_1:
	case SF_FIN_WAIT_2:
	case SF_CLOSING:
	case SF_TIME_WAIT:
		assert_int_equal(sf_shutdown(p->st, s, SF_SHUT_WR), 0);
		pkt_poll(p);
		pkt_expect(p, "F.", 1, 1, 0);
		if (state == SF_FIN_WAIT_2) {
			pkt_in(p, ".", 1, 2, NULL, 0);
		} else if (state == SF_CLOSING) {
			pkt_in(p, "F.", 1, 1, NULL, 0);
			pkt_expect(p, ".", 2, 2, 0);
		} else if (state == SF_TIME_WAIT) {
			pkt_in(p, "F.", 1, 2, NULL, 0);
			pkt_expect(p, ".", 2, 2, 0);
			assert_int_equal(sf_close(p->st, s), 0);
			pkt_poll(p);
			s = 0;
		}
		break;
	default:
		fail_msg("pkt_goto: no way to %s", sf_state_name(state));
	}
	pkt_expect_none(p);
	return s;
}
