/* Fuzz target for the stack's input path: sf_stack_input / sf_stack_poll
 * with connections in many states and application calls interleaved.
 *
 * Every input starts from the same stack (192.0.2.2, a listener on port 80)
 * whose connections the target drives, as the peer 192.0.2.1, into
 *   A  ESTABLISHED with unread data both ways     (peer port 1001)
 *   B  FIN-WAIT-2                                  (1002)
 *   C  CLOSE-WAIT                                  (1003)
 *   D  TIME-WAIT                                   (1004)
 *   E  SYN-SENT to 192.0.2.1:8080                  (synfin's ephemeral port)
 * then decodes the fuzzer's bytes as a program of steps:
 *   0  advance the clock (up to ~65 s) and poll
 *   1  a TCP segment from a template (one of A-E, a new port to the
 *      listener, a closed port): flags, seq/ack offsets from the template's
 *      current numbers, window, urgent pointer, raw option bytes, payload;
 *      optionally one byte of the finished datagram is flipped
 *   2  a raw datagram: an IPv4 header around fuzzer bytes (the TCP checksum
 *      fixed up or not), or the bytes as they are
 *   3  an application call on a handle: send, recv, close, abort, shutdown,
 *      accept, connect, setsockopt, poll, tcp_info
 *   4  an ICMP error quoting a template connection
 *   5  the template segment split into two IPv4 fragments, maybe overlapping
 *   6  a batch: several template segments, one poll
 * Oracles (abort() on failure), after every step:
 *  - every datagram synfin transmits parses as IPv4 from 192.0.2.2 to a
 *    valid unicast address and, if TCP or ICMP, with a correct checksum;
 *  - every SF_EV_STATE is an edge of RFC 9293 Figure 5 and continues from the
 *    connection's previous state;
 *  - statistics agree with the counting allocator (allocations and bytes),
 *    connections and TIME-WAIT records stay within the configured limits;
 *  - sf_stack_next_deadline is never in the past after a poll unless output
 *    is queued; after sf_stack_destroy no allocation is left.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/support/countalloc.h"
#include "../tests/support/fsm_edges.h"
#include "synfin/synfin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

#define US       0xC0000202u /* 192.0.2.2, synfin */
#define PEER     0xC0000201u /* 192.0.2.1, the fuzzer */
#define MAX_CONN 16
#define MAX_TW   8
#define MAX_H    24
#define MAX_IDS  512

/* ---- the peer's view of each connection ---- */

typedef struct tmpl {
	uint16_t pport, lport; /* the peer's port, synfin's port */
	uint32_t peer_nxt;     /* next sequence number the peer sends */
	uint32_t our_nxt;      /* highest synfin sequence seen + length: what the peer ACKs */
	bool known;            /* synfin has sent something on it */
} tmpl_t;

typedef struct fz {
	sf_stack_t *st;
	sf_config_t cfg;
	counter_t mem;
	int64_t now;
	tmpl_t t[7];
	sf_sock_t h[MAX_H];
	int nh;
	sf_sock_t lsn;
	uint8_t state_of[MAX_IDS];
	bool seen[MAX_IDS];
	uint32_t next_port; /* for SYNs from new ports */
	const uint8_t *in;
	size_t len, pos;
} fz_t;

enum { T_A, T_B, T_C, T_D, T_E, T_NEW, T_CLOSED, T_COUNT };

static tmpl_t *tmpl_by_ports(fz_t *f, uint16_t lport, uint16_t pport)
{
	for (int i = 0; i < T_COUNT; i++)
		if (f->t[i].pport == pport && (f->t[i].lport == lport || !f->t[i].lport))
			return &f->t[i];
	return NULL;
}

static int on_tx(void *ctx, const uint8_t *frame, size_t len, int64_t now_us)
{
	fz_t *f = ctx;
	(void)now_us;
	sf_ipv4_t ip;
	CHECK(sf_ipv4_parse(frame, len, &ip) == 0);
	CHECK(ip.src == US);
	CHECK(!sf_ipv4_addr_is_special(ip.dst, US, 24) && ip.dst != US);
	CHECK(!sf_ipv4_is_fragment(&ip));
	const uint8_t *pl = frame + ip.hdr_len;
	size_t plen = (size_t)ip.total_len - ip.hdr_len;
	if (ip.proto == SF_IP_PROTO_ICMP) {
		sf_icmp_t ic;
		CHECK(sf_icmp_parse(pl, plen, &ic) == 0);
		return 0;
	}
	CHECK(ip.proto == SF_IP_PROTO_TCP);
	sf_tcp_t h;
	CHECK(sf_tcp_parse(pl, plen, ip.src, ip.dst, true, &h) == 0);
	CHECK(h.payload_len <= f->cfg.mtu - 40);
	/* Learn the numbers the peer needs to answer. */
	tmpl_t *t = tmpl_by_ports(f, h.sport, h.dport);
	if (t && ip.dst == PEER) {
		uint32_t end = h.seq + sf_tcp_seg_len(&h);
		if (!t->known || sf_seq_gt(end, t->our_nxt))
			t->our_nxt = end;
		t->lport = h.sport;
		t->known = true;
	}
	return 0;
}

static void on_event(void *ctx, const sf_event_t *ev)
{
	fz_t *f = ctx;
	if (ev->kind != SF_EV_STATE)
		return;
	CHECK(fsm_edge_legal(ev->u.state.from, ev->u.state.to));
	uint32_t id = ev->conn_id;
	if (id < MAX_IDS) {
		sf_state_t prev = f->seen[id] ? (sf_state_t)f->state_of[id]
		                              : fsm_first_state(ev->u.state.from, ev->u.state.to);
		CHECK(prev == ev->u.state.from);
		f->seen[id] = true;
		f->state_of[id] = (uint8_t)ev->u.state.to;
	}
}

/* ---- input decoding ---- */

static uint8_t u8(fz_t *f)
{
	return f->pos < f->len ? f->in[f->pos++] : 0;
}

static uint16_t u16(fz_t *f)
{
	uint16_t hi = u8(f);
	return (uint16_t)(hi << 8 | u8(f));
}

static uint32_t u32(fz_t *f)
{
	uint32_t hi = u16(f);
	return hi << 16 | u16(f);
}

/* Up to `max` bytes of the input, as they are. */
static size_t take(fz_t *f, size_t want, const uint8_t **out)
{
	size_t left = f->len - f->pos;
	if (want > left)
		want = left;
	*out = f->in + f->pos;
	f->pos += want;
	return want;
}

/* ---- invariants ---- */

static void check_stats(fz_t *f)
{
	sf_stack_stats_t s;
	sf_stack_stats(f->st, &s);
	CHECK((int64_t)s.allocs_live == f->mem.live);
	CHECK((int64_t)s.bytes_allocated == f->mem.bytes);
	CHECK(s.conns_open <= MAX_CONN);
	CHECK(s.timewait_open <= MAX_TW);
	uint64_t drops = 0;
	for (int i = 0; i < SF_DROP_COUNT; i++)
		drops += s.drops[i];
	(void)drops;
}

static void poll_now(fz_t *f)
{
	sf_stack_poll(f->st, f->now);
	/* After a poll everything queued has left: nothing is due now. */
	CHECK(sf_stack_next_deadline(f->st) > f->now);
	check_stats(f);
}

/* ---- building datagrams ---- */

static size_t build(uint8_t *buf, size_t cap, uint32_t src, uint16_t sport, uint16_t dport,
                    uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd, uint16_t urg,
                    const uint8_t *opts, size_t optlen, const uint8_t *data, size_t dlen)
{
	uint8_t seg[1600];
	if (optlen > 40)
		optlen = 40;
	size_t hl = 20 + ((optlen + 3) & ~(size_t)3); /* options padded with zero bytes */
	if (hl + dlen > sizeof seg || 20 + hl + dlen > cap)
		return 0;
	memset(seg, 0, hl);
	sf_put16(seg, sport);
	sf_put16(seg + 2, dport);
	sf_put32(seg + 4, seq);
	sf_put32(seg + 8, ack);
	seg[12] = (uint8_t)(hl / 4 << 4);
	seg[13] = flags;
	sf_put16(seg + 14, wnd);
	sf_put16(seg + 18, urg);
	if (opts)
		memcpy(seg + 20, opts, optlen);
	if (dlen)
		memcpy(seg + hl, data, dlen);
	uint64_t sum = sf_csum_pseudo(src, US, SF_IP_PROTO_TCP, (uint16_t)(hl + dlen));
	sum = sf_csum_add(sum, seg, hl + dlen);
	sf_put16(seg + 16, sf_csum_fold(sum));
	sf_ipv4_t ip = {.src = src, .dst = US, .proto = SF_IP_PROTO_TCP, .ttl = 64};
	if (sf_ipv4_emit(&ip, hl + dlen, buf, cap) != 20)
		return 0;
	memcpy(buf + 20, seg, hl + dlen);
	return 20 + hl + dlen;
}

static void input(fz_t *f, const uint8_t *frame, size_t len)
{
	/* An exact-size copy, so ASan sees any read past the datagram. */
	uint8_t *copy = malloc(len ? len : 1);
	CHECK(copy);
	memcpy(copy, frame, len);
	sf_stack_input(f->st, copy, len, f->now);
	free(copy);
	check_stats(f);
}

/* Sends a well-formed segment from the peer on template t and moves the
 * peer's sequence number past it. */
static void peer_send(fz_t *f, tmpl_t *t, uint8_t flags, const void *data, size_t len)
{
	uint8_t buf[1600];
	size_t n = build(buf, sizeof buf, PEER, t->pport, t->lport ? t->lport : 80, t->peer_nxt,
	                 t->our_nxt, flags, 65535, 0, NULL, 0, data, len);
	CHECK(n);
	input(f, buf, n);
	t->peer_nxt += (uint32_t)len + !!(flags & SF_TCP_SYN) + !!(flags & SF_TCP_FIN);
	poll_now(f);
}

/* ---- the fixed starting point ---- */

static sf_sock_t open_passive(fz_t *f, tmpl_t *t)
{
	t->lport = 80;
	peer_send(f, t, SF_TCP_SYN, NULL, 0);
	CHECK(t->known);
	peer_send(f, t, SF_TCP_ACK, NULL, 0);
	sf_sock_t s = sf_accept(f->st, f->lsn, NULL, NULL);
	CHECK(s > 0);
	return s;
}

static void setup(fz_t *f, uint8_t knobs)
{
	sf_config_default(&f->cfg);
	f->cfg.addr = US;
	f->cfg.seed = 7;
	f->cfg.max_conns = MAX_CONN;
	f->cfg.max_timewait = MAX_TW;
	f->cfg.sndbuf = 4096;
	f->cfg.rcvbuf = 4096;
	f->cfg.delack_ms = (knobs & 1) ? 40 : 0;
	f->cfg.timestamps = knobs & 2;
	f->cfg.sack = knobs & 4;
	f->cfg.wscale = knobs & 8;
	f->cfg.congestion = (knobs & 16) ? SF_CC_NEWRENO : SF_CC_CUBIC;
	f->cfg.frag_slots = (knobs & 32) ? 0 : 2;
	f->cfg.syn_backlog = 4;
	f->cfg.transmit = on_tx;
	f->cfg.transmit_ctx = f;
	f->cfg.trace = (sf_trace_sink_t){on_event, f};
	f->cfg.allocator = (sf_allocator_t){count_alloc, count_free, &f->mem};
	f->now = 1000000;
	CHECK(sf_stack_create(&f->cfg, f->now, &f->st) == 0);
	f->lsn = sf_socket(f->st);
	CHECK(f->lsn > 0);
	CHECK(sf_bind(f->st, f->lsn, 80) == 0);
	CHECK(sf_listen(f->st, f->lsn, 4) == 0);
	for (int i = 0; i < T_COUNT; i++)
		f->t[i] = (tmpl_t){.pport = (uint16_t)(1001 + i),
		                   .peer_nxt = 1000u * (uint32_t)(i + 1)};
	f->t[T_CLOSED].lport = 81;
	f->t[T_NEW].lport = 80;
	f->next_port = 2000;

	/* A: ESTABLISHED, 100 bytes unread by synfin's app, 300 queued. */
	sf_sock_t a = open_passive(f, &f->t[T_A]);
	static const uint8_t hundred[300] = {1, 2, 3};
	peer_send(f, &f->t[T_A], SF_TCP_ACK | SF_TCP_PSH, hundred, 100);
	CHECK(sf_send(f->st, a, hundred, 300) == 300);
	poll_now(f);
	/* B: FIN-WAIT-2. */
	sf_sock_t b = open_passive(f, &f->t[T_B]);
	CHECK(sf_shutdown(f->st, b, SF_SHUT_WR) == 0);
	poll_now(f);
	peer_send(f, &f->t[T_B], SF_TCP_ACK, NULL, 0);
	/* C: CLOSE-WAIT. */
	sf_sock_t c = open_passive(f, &f->t[T_C]);
	peer_send(f, &f->t[T_C], SF_TCP_ACK | SF_TCP_FIN, NULL, 0);
	/* D: TIME-WAIT (the handle closed, a compact record left). */
	sf_sock_t d = open_passive(f, &f->t[T_D]);
	CHECK(sf_shutdown(f->st, d, SF_SHUT_WR) == 0);
	poll_now(f);
	peer_send(f, &f->t[T_D], SF_TCP_ACK | SF_TCP_FIN, NULL, 0);
	CHECK(sf_close(f->st, d) == 0);
	poll_now(f);
	/* E: SYN-SENT to the peer's port 8080. */
	sf_sock_t e = sf_socket(f->st);
	CHECK(e > 0);
	CHECK(sf_connect(f->st, e, PEER, 8080) == SF_EINPROGRESS);
	f->t[T_E].pport = 8080;
	f->t[T_E].lport = 0;
	poll_now(f);
	CHECK(f->t[T_E].known);
	f->t[T_E].peer_nxt = 5000;
	sf_sock_t hs[] = {a, b, c, e};
	for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
		f->h[f->nh++] = hs[i];
}

/* ---- steps ---- */

static void step_segment(fz_t *f, int batch)
{
	tmpl_t *t = &f->t[u8(f) % T_COUNT];
	uint8_t flags = u8(f);
	int16_t dseq = (int16_t)u16(f), dack = (int16_t)u16(f);
	uint8_t shape = u8(f);
	uint16_t wnd = (shape & 1) ? u16(f) : 65535;
	uint16_t urg = (shape & 2) ? u16(f) : 0;
	const uint8_t *opts = NULL, *data = NULL;
	size_t optlen = (shape & 4) ? take(f, u8(f) % 41, &opts) : 0;
	size_t dlen = (shape & 8) ? take(f, u8(f) % 200, &data) : 0;
	uint16_t pport = t->pport;
	if (t == &f->t[T_NEW])
		pport = (uint16_t)(f->next_port++ % 60000 + 1024);
	uint32_t seq = t->peer_nxt + (uint32_t)(int32_t)dseq;
	uint32_t ack = t->our_nxt + (uint32_t)(int32_t)dack;
	if (shape & 16)
		seq = u32(f);
	uint8_t buf[1600];
	size_t n = build(buf, sizeof buf, PEER, pport, t->lport ? t->lport : 80, seq, ack, flags,
	                 wnd, urg, opts, optlen, data, dlen);
	if (!n)
		return;
	if (shape & 32) { /* flip one byte: checksum or header damage */
		uint16_t at = u16(f);
		buf[at % n] ^= (uint8_t)(u8(f) | 1);
	}
	if (shape & 64) /* cut the datagram short */
		n -= u8(f) % n;
	input(f, buf, n);
	/* A segment that was (probably) taken moves the peer on. */
	if (dseq == 0 && !(shape & 112) && t != &f->t[T_NEW])
		t->peer_nxt =
		        seq + (uint32_t)dlen + !!(flags & SF_TCP_SYN) + !!(flags & SF_TCP_FIN);
	if (!batch)
		poll_now(f);
}

static void step_raw(fz_t *f)
{
	uint8_t mode = u8(f);
	const uint8_t *p;
	size_t n = take(f, u16(f) % 1600, &p);
	if (mode & 1) {
		input(f, p, n); /* the bytes as they are */
	} else {
		uint8_t buf[1700];
		sf_ipv4_t ip = {.src = (mode & 2) ? u32(f) : PEER,
		                .dst = (mode & 4) ? u32(f) : US,
		                .proto = (mode & 8) ? SF_IP_PROTO_ICMP : SF_IP_PROTO_TCP,
		                .ttl = 64};
		if (sf_ipv4_emit(&ip, n, buf, sizeof buf) != 20)
			return;
		memcpy(buf + 20, p, n);
		if ((mode & 16) && n >= 18 && ip.proto == SF_IP_PROTO_TCP) {
			buf[20 + 16] = buf[20 + 17] = 0;
			uint64_t sum = sf_csum_pseudo(ip.src, ip.dst, SF_IP_PROTO_TCP, (uint16_t)n);
			sf_put16(buf + 20 + 16, sf_csum_fold(sf_csum_add(sum, buf + 20, n)));
		}
		input(f, buf, 20 + n);
	}
	poll_now(f);
}

static void step_app(fz_t *f)
{
	uint8_t op = u8(f);
	sf_sock_t s = f->nh ? f->h[u8(f) % f->nh] : f->lsn;
	static uint8_t buf[8192];
	switch (op % 12) {
	case 0: {
		long r = sf_send(f->st, s, buf, (size_t)u8(f) * 32);
		CHECK(r <= 255 * 32);
		break;
	}
	case 1: {
		long r = sf_recv(f->st, s, buf, (size_t)u8(f) * 32 + 1);
		CHECK(r <= 255 * 32 + 1);
		break;
	}
	case 2:
		sf_close(f->st, s);
		break;
	case 3:
		sf_abort(f->st, s);
		break;
	case 4:
		sf_shutdown(f->st, s, u8(f) % 4);
		break;
	case 5: {
		sf_sock_t a = sf_accept(f->st, f->lsn, NULL, NULL);
		if (a > 0 && f->nh < MAX_H)
			f->h[f->nh++] = a;
		else if (a > 0)
			sf_abort(f->st, a);
		break;
	}
	case 6: {
		sf_sock_t c = sf_socket(f->st);
		if (c < 0)
			break;
		sf_connect(f->st, c, (op & 0x80) ? u32(f) : PEER, u16(f));
		if (f->nh < MAX_H)
			f->h[f->nh++] = c;
		else
			sf_abort(f->st, c);
		break;
	}
	case 7:
		sf_setsockopt(f->st, s, u8(f) % 14, (int)(int16_t)u16(f));
		break;
	case 8: {
		sf_pollfd_t p = {.sock = s, .events = SF_POLLIN | SF_POLLOUT | SF_POLLPRI};
		CHECK(sf_poll(f->st, &p, 1) >= 0);
		break;
	}
	case 9: {
		sf_tcp_info_t ti;
		if (sf_tcp_info(f->st, s, &ti) == 0)
			CHECK(ti.state < SF_STATE_COUNT);
		break;
	}
	case 10:
		sf_send_urgent(f->st, s, buf, (size_t)u8(f) % 64 + 1);
		break;
	default: {
		uint32_t bytes;
		sf_urgent_pending(f->st, s, &bytes);
		sf_sock_error(f->st, s);
		break;
	}
	}
	poll_now(f);
}

static void step_icmp(fz_t *f)
{
	tmpl_t *t = &f->t[u8(f) % T_COUNT];
	uint8_t type = u8(f), code = u8(f);
	int32_t dseq = (int16_t)u16(f);
	/* The quote: synfin's datagram as the network would have seen it. */
	uint8_t quote[28];
	sf_ipv4_t qip = {.src = US, .dst = PEER, .proto = SF_IP_PROTO_TCP, .ttl = 64};
	CHECK(sf_ipv4_emit(&qip, 20, quote, sizeof quote) == 20);
	sf_put16(quote + 20, t->lport ? t->lport : 80);
	sf_put16(quote + 22, t->pport);
	sf_put32(quote + 24, t->our_nxt - 1 + (uint32_t)dseq);
	uint8_t msg[8 + sizeof quote];
	sf_icmp_t ic = {.type = type % 16, .code = code % 16, .mtu = u16(f)};
	int n = sf_icmp_emit(&ic, quote, sizeof quote, msg, sizeof msg);
	if (n < 0)
		return;
	uint8_t buf[128];
	sf_ipv4_t ip = {.src = PEER, .dst = US, .proto = SF_IP_PROTO_ICMP, .ttl = 64};
	CHECK(sf_ipv4_emit(&ip, (size_t)n, buf, sizeof buf) == 20);
	memcpy(buf + 20, msg, (size_t)n);
	input(f, buf, 20 + (size_t)n);
	poll_now(f);
}

static void step_fragments(fz_t *f)
{
	tmpl_t *t = &f->t[u8(f) % T_COUNT];
	uint8_t flags = u8(f), shape = u8(f);
	const uint8_t *data;
	size_t dlen = take(f, u8(f) % 200, &data);
	uint8_t whole[1600];
	size_t n = build(whole, sizeof whole, PEER, t->pport, t->lport ? t->lport : 80, t->peer_nxt,
	                 t->our_nxt, flags, 65535, 0, NULL, 0, data, dlen);
	if (n <= 28)
		return;
	size_t tcp_len = n - 20;
	size_t cut = ((size_t)u8(f) * 8) % tcp_len; /* first fragment's payload, a multiple of 8 */
	if (cut == 0)
		cut = 8;
	uint16_t id = u16(f);
	for (int part = 0; part < 2; part++) {
		if ((shape & 1) && part == 1)
			break;                                       /* never completed */
		size_t off = part ? cut - ((shape & 2) ? 8 : 0) : 0; /* maybe overlapping */
		size_t len = part ? tcp_len - off : cut;
		if (off > tcp_len || len == 0 || len > tcp_len)
			continue;
		uint8_t buf[1700];
		sf_ipv4_t ip = {.src = PEER,
		                .dst = US,
		                .proto = SF_IP_PROTO_TCP,
		                .ttl = 64,
		                .id = id,
		                .mf = part == 0,
		                .frag_off = (uint16_t)off};
		if (sf_ipv4_emit(&ip, len, buf, sizeof buf) != 20)
			return;
		memcpy(buf + 20, whole + 20 + off, len);
		input(f, buf, 20 + len);
	}
	poll_now(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_t *f = calloc(1, sizeof *f);
	CHECK(f);
	f->in = data;
	f->len = size;
	setup(f, u8(f));
	for (int steps = 0; f->pos < f->len && steps < 400; steps++) {
		switch (u8(f) % 7) {
		case 0:
			f->now += (int64_t)u16(f) * 1000;
			poll_now(f);
			break;
		case 1:
			step_segment(f, 0);
			break;
		case 2:
			step_raw(f);
			break;
		case 3:
			step_app(f);
			break;
		case 4:
			step_icmp(f);
			break;
		case 5:
			step_fragments(f);
			break;
		default: {
			int k = u8(f) % 8 + 1;
			for (int i = 0; i < k; i++)
				step_segment(f, 1);
			poll_now(f);
			break;
		}
		}
	}
	/* Let every timer run out: connections must all end (R2, FIN-WAIT-2,
	 * TIME-WAIT, keepalive) within a bounded number of deadlines. */
	for (int i = 0; i < f->nh; i++)
		sf_close(f->st, f->h[i]);
	sf_close(f->st, f->lsn);
	poll_now(f);
	for (int i = 0; i < 2000; i++) {
		int64_t d = sf_stack_next_deadline(f->st);
		if (d == INT64_MAX)
			break;
		f->now = d > f->now ? d : f->now;
		poll_now(f);
	}
	sf_stack_stats_t s;
	sf_stack_stats(f->st, &s);
	CHECK(s.conns_open == 0 && s.timewait_open == 0);
	sf_stack_destroy(f->st);
	CHECK(f->mem.live == 0 && f->mem.bytes == 0);
	free(f);
	return 0;
}
