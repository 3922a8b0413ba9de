/* Bad input written straight into sf_stack_input with the packet harness.
 *
 * These are the malformed datagrams of the bad-input suite, each given to one
 * stack that has a listener on port 80 and an ESTABLISHED connection. Several
 * could not reach synfin "from the wire" through the Linux kernel in a usable
 * way (a bad IP header checksum, IHL under 5, a total length that disagrees
 * with the frame, a version other than 4: the kernel's own IP layer would
 * refuse or rewrite them on any normal path), so the harness writes the
 * frame itself; tests/malformed/test_badinput.c sends the ones that travel
 * through a TUN device. For every case:
 *  - the specific drop reason is counted in sf_stack_stats().drops[] (and
 *    nothing else is dropped);
 *  - synfin answers as the RFC says (RST, challenge ACK, ACK) or stays
 *    silent;
 *  - the existing connection still carries data, and a new connection
 *    made afterwards completes its handshake;
 *  - no allocation is left after sf_stack_destroy (pkt_fini).
 */
#include <stdlib.h>
#include <string.h>

#include "pkt.h"

/* ---- fixture ---- */

typedef struct fx {
	pkt_t p;
	sf_sock_t lsn, conn;
	sf_stack_stats_t before;
} fx_t;

static fx_t *fx_open(const sf_config_t *cfg)
{
	fx_t *f = calloc(1, sizeof *f);
	assert_non_null(f);
	pkt_init(&f->p, cfg);
	f->conn = pkt_open_passive(&f->p, &f->lsn);
	sf_stack_stats(f->p.st, &f->before);
	return f;
}

/* Asserts that exactly one drop happened, with reason `why`, since the
 * fixture was opened (or the last call). */
static void expect_drop(fx_t *f, sf_drop_reason_t why)
{
	sf_stack_stats_t now;
	sf_stack_stats(f->p.st, &now);
	for (int i = 0; i < SF_DROP_COUNT; i++) {
		uint64_t d = now.drops[i] - f->before.drops[i];
		if ((int)why == i && d != 1)
			fail_msg("expected one %s drop, got %llu", sf_drop_name(why),
			         (unsigned long long)d);
		if ((int)why != i && d != 0)
			fail_msg("unexpected %s drop (%llu) while expecting %s", sf_drop_name(i),
			         (unsigned long long)d, sf_drop_name(why));
	}
	f->before = now;
}

static void expect_no_drop(fx_t *f)
{
	sf_stack_stats_t now;
	sf_stack_stats(f->p.st, &now);
	for (int i = 0; i < SF_DROP_COUNT; i++)
		if (now.drops[i] != f->before.drops[i])
			fail_msg("unexpected %s drop", sf_drop_name(i));
	f->before = now;
}

/* The connection still works and a new one can be made; then tears down. */
static void fx_close(fx_t *f, uint32_t peer_seq, uint32_t peer_ack)
{
	pkt_t *p = &f->p;
	pkt_discard(p);
	pkt_in(p, "P.", peer_seq, peer_ack, "ok", 2);
	pkt_expect(p, ".", peer_ack, peer_seq + 2, 0);
	char buf[8];
	assert_int_equal(sf_recv(p->st, f->conn, buf, sizeof buf), 2);
	assert_memory_equal(buf, "ok", 2);
	/* A new connection from another port. */
	uint16_t old_port = p->peer_port;
	uint32_t old_iss = p->iss;
	p->peer_port = 40001;
	pkt_in(p, "S", 0, 0, NULL, 0);
	pkt_seg_t *sa = pkt_next(p);
	assert_int_equal(sa->tcp.flags, SF_TCP_SYN | SF_TCP_ACK);
	assert_int_equal(sa->tcp.ack, p->irs + 1);
	p->iss = sa->tcp.seq;
	pkt_in(p, ".", 1, 1, NULL, 0);
	pkt_expect_none(p);
	sf_sock_t s2 = sf_accept(p->st, f->lsn, NULL, NULL);
	assert_true(s2 > 0);
	p->peer_port = old_port;
	p->iss = old_iss;
	sf_abort(p->st, s2);
	sf_abort(p->st, f->conn);
	sf_close(p->st, f->lsn);
	pkt_fini(p);
	free(f);
}

static void fix_ip_csum(uint8_t *b)
{
	size_t hl = (size_t)(b[0] & 15) * 4;
	b[10] = b[11] = 0;
	sf_put16(b + 10, sf_csum(b, hl));
}

static void fix_tcp_csum(uint8_t *b, size_t n, uint32_t src, uint32_t dst)
{
	size_t hl = (size_t)(b[0] & 15) * 4;
	uint8_t *t = b + hl;
	size_t tl = n - hl;
	t[16] = t[17] = 0;
	uint64_t sum = sf_csum_pseudo(src, dst, SF_IP_PROTO_TCP, (uint16_t)tl);
	sf_put16(t + 16, sf_csum_fold(sf_csum_add(sum, t, tl)));
}

/* ---- IPv4 header (RFC 791, RFC 1122 §3.2.1) ---- */

static void ip_bad_checksum(void **state)
{
	(void)state;
	fx_t *f = fx_open(NULL);
	uint8_t b[256];
	size_t n = pkt_build(&f->p, b, sizeof b, "P.", 1, 1, "bad", 3);
	b[10] ^= 0x40;
	pkt_in_raw(&f->p, b, n);
	pkt_poll(&f->p);
	expect_drop(f, SF_DROP_IP_CHECKSUM);
	pkt_expect_none(&f->p);
	fx_close(f, 1, 1);
}

static void ip_ihl_under_5(void **state)
{
	(void)state;
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		fx_t *f = fx_open(NULL);
		uint8_t b[256];
		size_t n = pkt_build(&f->p, b, sizeof b, "P.", 1, 1, "bad", 3);
		b[0] = (uint8_t)(0x40 | ihl);
		pkt_in_raw(&f->p, b, n);
		pkt_poll(&f->p);
		expect_drop(f, SF_DROP_IP_MALFORMED);
		pkt_expect_none(&f->p);
		fx_close(f, 1, 1);
	}
}

static void ip_version_not_4(void **state)
{
	(void)state;
	fx_t *f = fx_open(NULL);
	uint8_t b[256];
	size_t n = pkt_build(&f->p, b, sizeof b, "P.", 1, 1, "bad", 3);
	b[0] = 0x65;
	fix_ip_csum(b);
	pkt_in_raw(&f->p, b, n);
	pkt_poll(&f->p);
	expect_drop(f, SF_DROP_IP_NOT_V4);
	pkt_expect_none(&f->p);
	fx_close(f, 1, 1);
}

static void ip_total_length_past_frame(void **state)
{
	(void)state;
	fx_t *f = fx_open(NULL);
	uint8_t b[256];
	size_t n = pkt_build(&f->p, b, sizeof b, "P.", 1, 1, "bad", 3);
	sf_put16(b + 2, (uint16_t)(n + 100));
	fix_ip_csum(b);
	pkt_in_raw(&f->p, b, n);
	pkt_poll(&f->p);
	expect_drop(f, SF_DROP_IP_TRUNCATED);
	pkt_expect_none(&f->p);
	fx_close(f, 1, 1);
}

static void ip_total_length_under_header(void **state)
{
	(void)state;
	fx_t *f = fx_open(NULL);
	uint8_t b[256];
	size_t n = pkt_build(&f->p, b, sizeof b, "P.", 1, 1, "bad", 3);
	sf_put16(b + 2, 12);
	fix_ip_csum(b);
	pkt_in_raw(&f->p, b, n);
	pkt_poll(&f->p);
	expect_drop(f, SF_DROP_IP_MALFORMED);
	pkt_expect_none(&f->p);
	fx_close(f, 1, 1);
}

/* Total length shorter than the frame: the rest is link padding (RFC 1122
 * §3.2.1.2 leaves it to the link); the datagram itself is taken. */
static void ip_total_length_under_frame(void **state)
{
	(void)state;
	fx_t *f = fx_open(NULL);
	uint8_t b[256];
	size_t n = pkt_build(&f->p, b, sizeof b, "P.", 1, 1, "abc", 3);
	memset(b + n, 0xee, 10);
	pkt_in_raw(&f->p, b, n + 10);
	pkt_poll(&f->p);
	expect_no_drop(f);
	pkt_expect(&f->p, ".", 1, 4, 0);
	char buf[16];
	assert_int_equal(sf_recv(f->p.st, f->conn, buf, sizeof buf), 3);
	assert_memory_equal(buf, "abc", 3);
	fx_close(f, 4, 1);
}

static void ip_frame_shorter_than_header(void **state)
{
	(void)state;
	fx_t *f = fx_open(NULL);
	uint8_t b[256];
	pkt_build(&f->p, b, sizeof b, ".", 1, 1, NULL, 0);
	pkt_in_raw(&f->p, b, 19);
	pkt_poll(&f->p);
	expect_drop(f, SF_DROP_IP_TRUNCATED);
	pkt_expect_none(&f->p);
	fx_close(f, 1, 1);
}

/* MUST-57: segments to broadcast or multicast addresses are discarded. */
static void ip_to_broadcast_and_multicast(void **state)
{
	(void)state;
	static const uint32_t dsts[] = {0xFFFFFFFFu, 0xC00002FFu, 0xE0000001u, 0xEFFFFFFAu};
	for (size_t i = 0; i < sizeof dsts / sizeof dsts[0]; i++) {
		fx_t *f = fx_open(NULL);
		uint8_t b[256];
		size_t n = pkt_build(&f->p, b, sizeof b, "S", 100, 0, NULL, 0);
		sf_put32(b + 16, dsts[i]);
		fix_ip_csum(b);
		fix_tcp_csum(b, n, PKT_PEER, dsts[i]);
		pkt_in_raw(&f->p, b, n);
		pkt_poll(&f->p);
		expect_drop(f, SF_DROP_IP_BCAST_DEST);
		pkt_expect_none(&f->p);
		fx_close(f, 1, 1);
	}
}

/* MUST-63: a SYN from a broadcast, multicast or "this network" source is
 * discarded without an answer. */
static void syn_from_invalid_source(void **state)
{
	(void)state;
	static const uint32_t srcs[] = {0xFFFFFFFFu, 0xC00002FFu, 0xE0000005u,
	                                0x00000000u, 0xF0000001u, PKT_US};
	for (size_t i = 0; i < sizeof srcs / sizeof srcs[0]; i++) {
		fx_t *f = fx_open(NULL);
		f->p.peer_addr = srcs[i];
		f->p.peer_port = 41000;
		uint8_t b[256];
		size_t n = pkt_build(&f->p, b, sizeof b, "S", 0, 0, NULL, 0);
		pkt_in_raw(&f->p, b, n);
		pkt_poll(&f->p);
		expect_drop(f, SF_DROP_IP_BAD_SOURCE);
		pkt_expect_none(&f->p);
		f->p.peer_addr = PKT_PEER;
		f->p.peer_port = 40000;
		fx_close(f, 1, 1);
	}
}

/* ---- fragments (RFC 791 §3.2, RFC 5722's rule for overlaps) ---- */

static void send_frag(pkt_t *p, const uint8_t *tcp, size_t off, size_t n, bool mf, uint16_t id)
{
	uint8_t b[2048];
	sf_ipv4_t ip = {.src = PKT_PEER,
	                .dst = PKT_US,
	                .proto = SF_IP_PROTO_TCP,
	                .ttl = 64,
	                .id = id,
	                .mf = mf,
	                .frag_off = (uint16_t)off};
	assert_int_equal(sf_ipv4_emit(&ip, n, b, 20), 20);
	memcpy(b + 20, tcp + off, n);
	pkt_in_raw(p, b, 20 + n);
	pkt_poll(p);
}

static void frag_overlapping(void **state)
{
	(void)state;
	fx_t *f = fx_open(NULL);
	uint8_t seg[256];
	size_t n = pkt_build(&f->p, seg, sizeof seg, "P.", 1, 1, "0123456789abcdefghij", 20);
	const uint8_t *tcp = seg + 20;
	size_t tl = n - 20; /* 40 bytes */
	send_frag(&f->p, tcp, 0, 24, true, 7);
	expect_no_drop(f);
	send_frag(&f->p, tcp, 16, tl - 16, false, 7); /* overlaps bytes 16..23 */
	expect_drop(f, SF_DROP_IP_FRAGMENT);
	pkt_expect_none(&f->p);
	fx_close(f, 1, 1);
}

static void frag_never_completed(void **state)
{
	(void)state;
	fx_t *f = fx_open(NULL);
	uint8_t seg[256];
	pkt_build(&f->p, seg, sizeof seg, "P.", 1, 1, "0123456789abcdefghij", 20);
	send_frag(&f->p, seg + 20, 0, 16, true, 9);
	expect_no_drop(f);
	pkt_advance(&f->p, (int64_t)f->p.cfg.frag_timeout_ms * 1000 + 1000);
	expect_drop(f, SF_DROP_IP_FRAGMENT);
	pkt_expect_none(&f->p);
	fx_close(f, 1, 1);
}

/* More datagrams in reassembly than slots: the oldest is given up, memory
 * stays what was allocated at creation. */
static void frag_too_many(void **state)
{
	(void)state;
	fx_t *f = fx_open(NULL);
	uint8_t seg[256];
	pkt_build(&f->p, seg, sizeof seg, "P.", 1, 1, "0123456789abcdefghij", 20);
	uint64_t mem = f->before.bytes_allocated;
	uint32_t slots = f->p.cfg.frag_slots;
	for (uint32_t i = 0; i < slots; i++)
		send_frag(&f->p, seg + 20, 0, 16, true, (uint16_t)(100 + i));
	expect_no_drop(f);
	sf_stack_stats_t s;
	sf_stack_stats(f->p.st, &s);
	uint64_t with_slots = s.bytes_allocated;
	for (uint32_t i = 0; i < 50; i++)
		send_frag(&f->p, seg + 20, 0, 16, true, (uint16_t)(200 + i));
	sf_stack_stats(f->p.st, &s);
	assert_int_equal(s.drops[SF_DROP_IP_FRAGMENT] - f->before.drops[SF_DROP_IP_FRAGMENT], 50);
	assert_int_equal(s.bytes_allocated, with_slots);
	assert_true(with_slots >= mem);
	f->before = s;
	pkt_expect_none(&f->p);
	fx_close(f, 1, 1);
}

/* ---- TCP header (RFC 9293 §3.1, MUST-3, MUST-7) ---- */

static void tcp_bad_checksum(void **state)
{
	(void)state;
	fx_t *f = fx_open(NULL);
	uint8_t b[256];
	size_t n = pkt_build(&f->p, b, sizeof b, "P.", 1, 1, "bad", 3);
	b[20 + 16] ^= 0x01;
	pkt_in_raw(&f->p, b, n);
	pkt_poll(&f->p);
	expect_drop(f, SF_DROP_TCP_CHECKSUM);
	pkt_expect_none(&f->p);
	fx_close(f, 1, 1);
}

static void tcp_data_offset_under_5(void **state)
{
	(void)state;
	for (uint8_t off = 0; off < 5; off++) {
		fx_t *f = fx_open(NULL);
		uint8_t b[256];
		size_t n = pkt_build(&f->p, b, sizeof b, "P.", 1, 1, "bad", 3);
		b[20 + 12] = (uint8_t)(off << 4);
		fix_tcp_csum(b, n, PKT_PEER, PKT_US);
		pkt_in_raw(&f->p, b, n);
		pkt_poll(&f->p);
		expect_drop(f, SF_DROP_TCP_MALFORMED);
		pkt_expect_none(&f->p);
		fx_close(f, 1, 1);
	}
}

static void tcp_data_offset_past_segment(void **state)
{
	(void)state;
	fx_t *f = fx_open(NULL);
	uint8_t b[256];
	size_t n = pkt_build(&f->p, b, sizeof b, "P.", 1, 1, "bad", 3); /* 23 bytes of TCP */
	b[20 + 12] = 0xf0;                                              /* 60 bytes */
	fix_tcp_csum(b, n, PKT_PEER, PKT_US);
	pkt_in_raw(&f->p, b, n);
	pkt_poll(&f->p);
	expect_drop(f, SF_DROP_TCP_MALFORMED);
	pkt_expect_none(&f->p);
	fx_close(f, 1, 1);
}

static void tcp_truncated_header(void **state)
{
	(void)state;
	fx_t *f = fx_open(NULL);
	uint8_t b[256];
	pkt_build(&f->p, b, sizeof b, ".", 1, 1, NULL, 0);
	/* An IPv4 datagram that carries only 12 bytes of TCP header. */
	sf_put16(b + 2, 32);
	fix_ip_csum(b);
	pkt_in_raw(&f->p, b, 32);
	pkt_poll(&f->p);
	expect_drop(f, SF_DROP_TCP_TRUNCATED);
	pkt_expect_none(&f->p);
	fx_close(f, 1, 1);
}

static void tcp_option_lengths(void **state)
{
	(void)state;
	static const uint8_t bad[][8] = {
	        {SF_TCPOPT_TS, 0, 1, 1},          /* length 0 */
	        {SF_TCPOPT_MSS, 1, 1, 1},         /* length 1 */
	        {SF_TCPOPT_TS, 10, 0, 0},         /* runs past a 4-byte option area */
	        {1, 1, 1, 0x42},                  /* unknown kind with no length byte */
	        {SF_TCPOPT_SACK, 40, 0, 0, 0, 0}, /* 40 > what is left */
	};
	static const size_t lens[] = {4, 4, 4, 4, 8};
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		fx_t *f = fx_open(NULL);
		uint8_t b[256];
		size_t n = pkt_build_opts(&f->p, b, sizeof b, "P.", 1, 1, bad[i], lens[i], "x", 1);
		pkt_in_raw(&f->p, b, n);
		pkt_poll(&f->p);
		expect_drop(f, SF_DROP_TCP_MALFORMED);
		pkt_expect_none(&f->p);
		fx_close(f, 1, 1);
	}
}

/* Port 0 is not a valid port (RFC 9293 §3.1, RFC 6335): dropped. */
static void tcp_port_zero(void **state)
{
	(void)state;
	fx_t *f = fx_open(NULL);
	uint16_t old = f->p.peer_port;
	f->p.peer_port = 0;
	uint8_t b[256];
	size_t n = pkt_build(&f->p, b, sizeof b, "S", 0, 0, NULL, 0);
	f->p.peer_port = old;
	pkt_in_raw(&f->p, b, n);
	pkt_poll(&f->p);
	expect_drop(f, SF_DROP_TCP_MALFORMED);
	pkt_expect_none(&f->p);
	fx_close(f, 1, 1);
}

/* ---- flags ---- */

/* SYN with RST is never valid: dropped before any lookup, to the listener
 * and to the established connection alike, without an answer. SYN with FIN
 * is dropped by the listener; an established connection answers it as any
 * SYN in a synchronized state, with a challenge ACK (RFC 5961 §4). */
static void flags_syn_fin_syn_rst(void **state)
{
	(void)state;
	static const char *const bad[] = {"SF", "SR", "SFR", "SF.", "SR."};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		for (int to_listener = 0; to_listener < 2; to_listener++) {
			fx_t *f = fx_open(NULL);
			if (to_listener)
				f->p.peer_port = 41000;
			uint8_t b[256];
			size_t n = pkt_build(&f->p, b, sizeof b, bad[i], to_listener ? 0 : 1, 1,
			                     NULL, 0);
			f->p.peer_port = 40000;
			pkt_in_raw(&f->p, b, n);
			pkt_poll(&f->p);
			if (!to_listener && !strchr(bad[i], 'R')) {
				expect_drop(f, SF_DROP_TCP_CHALLENGE);
				pkt_expect(&f->p, ".", 1, 1, 0);
			} else {
				expect_drop(f, SF_DROP_TCP_BAD_FLAGS);
			}
			pkt_expect_none(&f->p);
			fx_close(f, 1, 1);
		}
	}
}

/* No flags at all: RFC 9293 §3.10.7.4, fifth check: "if the ACK bit is off,
 * drop the segment". */
static void flags_none(void **state)
{
	(void)state;
	fx_t *f = fx_open(NULL);
	pkt_in(&f->p, "", 1, 1, "zz", 2);
	expect_drop(f, SF_DROP_TCP_BAD_FLAGS);
	pkt_expect_none(&f->p);
	char buf[4];
	assert_int_equal(sf_recv(f->p.st, f->conn, buf, sizeof buf), SF_EAGAIN);
	fx_close(f, 1, 1);
}

/* All eight flags: SYN together with RST and FIN. */
static void flags_all(void **state)
{
	(void)state;
	fx_t *f = fx_open(NULL);
	uint8_t b[256];
	size_t n = pkt_build(&f->p, b, sizeof b, ".", 1, 1, "zz", 2);
	b[20 + 13] = 0xff;
	fix_tcp_csum(b, n, PKT_PEER, PKT_US);
	pkt_in_raw(&f->p, b, n);
	pkt_poll(&f->p);
	expect_drop(f, SF_DROP_TCP_BAD_FLAGS);
	pkt_expect_none(&f->p);
	fx_close(f, 1, 1);
}

/* A segment to a port nobody listens on: RST (RFC 9293 §3.10.7.1). */
static void closed_port_gets_rst(void **state)
{
	(void)state;
	fx_t *f = fx_open(NULL);
	uint16_t old = f->p.port;
	f->p.port = 81;
	f->p.peer_port = 41000;
	pkt_in(&f->p, "S", 0, 0, NULL, 0);
	expect_drop(f, SF_DROP_TCP_NO_SOCKET);
	pkt_seg_t *r = pkt_next(&f->p);
	assert_int_equal(r->tcp.flags, SF_TCP_RST | SF_TCP_ACK);
	assert_int_equal(r->tcp.ack, f->p.irs + 1);
	f->p.port = old;
	f->p.peer_port = 40000;
	pkt_expect_none(&f->p);
	fx_close(f, 1, 1);
}

/* ---- urgent pointer past the data (RFC 9293 §3.8.5, RFC 6093) ---- */

static void urgent_pointer_past_data(void **state)
{
	(void)state;
	fx_t *f = fx_open(NULL);
	f->p.urg = 60000;
	pkt_in(&f->p, "UP.", 1, 1, "abcd", 4);
	f->p.urg = 0;
	expect_no_drop(f);
	pkt_expect(&f->p, ".", 1, 5, 0);
	uint32_t bytes = 0;
	assert_int_equal(sf_urgent_pending(f->p.st, f->conn, &bytes), 1);
	assert_true(bytes >= 4);
	char buf[8];
	assert_int_equal(sf_recv(f->p.st, f->conn, buf, sizeof buf), 4);
	assert_memory_equal(buf, "abcd", 4);
	fx_close(f, 5, 1);
}

/* ---- RFC 5961 against the established connection ---- */

static void rst_out_of_window_ignored(void **state)
{
	(void)state;
	fx_t *f = fx_open(NULL);
	pkt_in(&f->p, "R", 1 + 1000000, 0, NULL, 0);
	expect_drop(f, SF_DROP_TCP_RST_IGNORED);
	pkt_expect_none(&f->p);
	fx_close(f, 1, 1);
}

/* RFC 5961 §3.2: in the window but not exactly RCV.NXT: challenge ACK. */
static void rst_in_window_challenged(void **state)
{
	(void)state;
	fx_t *f = fx_open(NULL);
	pkt_in(&f->p, "R", 1 + 100, 0, NULL, 0);
	expect_drop(f, SF_DROP_TCP_CHALLENGE);
	pkt_expect(&f->p, ".", 1, 1, 0);
	pkt_expect_none(&f->p);
	fx_close(f, 1, 1);
}

/* RFC 5961 §4.2: a SYN in a synchronized state gets a challenge ACK. */
static void syn_on_established_challenged(void **state)
{
	(void)state;
	fx_t *f = fx_open(NULL);
	pkt_in(&f->p, "S", 5000, 0, NULL, 0);
	expect_drop(f, SF_DROP_TCP_CHALLENGE);
	pkt_expect(&f->p, ".", 1, 1, 0);
	pkt_expect_none(&f->p);
	fx_close(f, 1, 1);
}

/* RFC 9293 §3.10.7.4 first check: unacceptable data is answered by an ACK
 * and dropped. */
static void data_out_of_window(void **state)
{
	(void)state;
	fx_t *f = fx_open(NULL);
	pkt_in(&f->p, "P.", 1 + 200000, 1, "far", 3);
	expect_drop(f, SF_DROP_TCP_OUT_OF_WINDOW);
	pkt_expect(&f->p, ".", 1, 1, 0);
	pkt_expect_none(&f->p);
	fx_close(f, 1, 1);
}

/* RFC 5961 §5.2: an ACK beyond SND.NXT is dropped and answered by an ACK;
 * the data it carried is not taken. */
static void ack_beyond_snd_nxt(void **state)
{
	(void)state;
	fx_t *f = fx_open(NULL);
	pkt_in(&f->p, "P.", 1, 5000, "xyz", 3);
	expect_drop(f, SF_DROP_TCP_BAD_ACK);
	pkt_expect(&f->p, ".", 1, 1, 0);
	pkt_expect_none(&f->p);
	char buf[4];
	assert_int_equal(sf_recv(f->p.st, f->conn, buf, sizeof buf), SF_EAGAIN);
	fx_close(f, 1, 1);
}

/* ---- SYN flood (bounded memory, the existing connection unharmed) ---- */

static void syn_flood(bool at_once)
{
	sf_config_t cfg;
	sf_config_default(&cfg);
	cfg.delack_ms = 0;
	cfg.seed = 1;
	cfg.syn_backlog = 16;
	cfg.max_conns = 64;
	fx_t *f = fx_open(&cfg);
	sf_stack_stats_t s0;
	sf_stack_stats(f->p.st, &s0);
	uint16_t old = f->p.peer_port;
	for (int i = 0; i < 1000; i++) {
		f->p.peer_port = (uint16_t)(20000 + i);
		pkt_in(&f->p, "S", (uint32_t)i * 7919, 0, NULL, 0);
		pkt_discard(&f->p);
	}
	f->p.peer_port = old;
	sf_stack_stats_t s1;
	sf_stack_stats(f->p.st, &s1);
	/* The SYN queue holds at most syn_backlog half-open connections. */
	assert_true(s1.conns_open - s0.conns_open <= cfg.syn_backlog);
	/* Beyond it, SYN cookies answer (RFC 4987 §3.6) and keep nothing. */
	assert_true(s1.syncookies_sent - s0.syncookies_sent >= 1000 - cfg.syn_backlog);
	/* Half-open connections do not hold buffers: memory is bounded by
	 * what was allocated at creation plus nothing per SYN. */
	assert_true(s1.bytes_allocated <= s0.bytes_allocated + 64 * 1024);
	f->before = s1;
	if (!at_once) {
		/* The half-open entries give up (SYN,ACK retransmissions end
		 * after r2_syn); the listener then takes new connections. */
		pkt_in(&f->p, "P.", 1, 1, "hi", 2);
		pkt_expect(&f->p, ".", 1, 3, 0);
		char buf[4];
		assert_int_equal(sf_recv(f->p.st, f->conn, buf, sizeof buf), 2);
		for (int i = 0; i < 100000 && pkt_run_next_deadline(&f->p) >= 0; i++) {
			pkt_discard(&f->p);
			if (f->p.now > 1000000 + (int64_t)cfg.r2_syn_ms * 2000)
				break;
		}
		sf_stack_stats(f->p.st, &s1);
		assert_int_equal(s1.conns_open, 2); /* the listener and the connection */
		f->before = s1;
		fx_close(f, 3, 1);
		return;
	}
	/* RFC 4987 §3.6 (SYN cookies) or §3.4 (recycling the oldest half-open
	 * entry): a legitimate SYN is answered even while the queue is full. */
	fx_close(f, 1, 1);
}

static void syn_flood_bounded(void **state)
{
	(void)state;
	syn_flood(false);
}

static void syn_flood_then_connect_at_once(void **state)
{
	(void)state;
	syn_flood(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(ip_bad_checksum),
	        cmocka_unit_test(ip_ihl_under_5),
	        cmocka_unit_test(ip_version_not_4),
	        cmocka_unit_test(ip_total_length_past_frame),
	        cmocka_unit_test(ip_total_length_under_header),
	        cmocka_unit_test(ip_total_length_under_frame),
	        cmocka_unit_test(ip_frame_shorter_than_header),
	        cmocka_unit_test(ip_to_broadcast_and_multicast),
	        cmocka_unit_test(syn_from_invalid_source),
	        cmocka_unit_test(frag_overlapping),
	        cmocka_unit_test(frag_never_completed),
	        cmocka_unit_test(frag_too_many),
	        cmocka_unit_test(tcp_bad_checksum),
	        cmocka_unit_test(tcp_data_offset_under_5),
	        cmocka_unit_test(tcp_data_offset_past_segment),
	        cmocka_unit_test(tcp_truncated_header),
	        cmocka_unit_test(tcp_option_lengths),
	        cmocka_unit_test(tcp_port_zero),
	        cmocka_unit_test(flags_syn_fin_syn_rst),
	        cmocka_unit_test(flags_none),
	        cmocka_unit_test(flags_all),
	        cmocka_unit_test(closed_port_gets_rst),
	        cmocka_unit_test(urgent_pointer_past_data),
	        cmocka_unit_test(rst_out_of_window_ignored),
	        cmocka_unit_test(rst_in_window_challenged),
	        cmocka_unit_test(syn_on_established_challenged),
	        cmocka_unit_test(data_out_of_window),
	        cmocka_unit_test(ack_beyond_snd_nxt),
	        cmocka_unit_test(syn_flood_bounded),
	        cmocka_unit_test(syn_flood_then_connect_at_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
