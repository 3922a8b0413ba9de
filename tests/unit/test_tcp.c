/* Unit tests for the TCP codec (src/wire/tcp.c): the SYN Linux 6.x sends,
 * byte for byte, parsed and re-emitted; a round trip of every header field
 * and every option combination; the exact option layouts Linux uses; every
 * malformed-option case, with the segment at the very end of an exact-size
 * heap block so ASan catches any read past it; checksum verification against
 * an independent RFC 1071 reference; tcpdump-style flag strings and lines
 * (the expected lines were checked against tcpdump 4.99.3 reading the same
 * segments from a pcap file; tcpdump adds ": HTTP" to port-80 segments with
 * data, a payload decode that sf_tcp_format does not attempt).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "synfin/wire.h"

#define SRC 0xC0000201u /* 192.0.2.1 */
#define DST 0xC0000202u /* 192.0.2.2 */

/* ---- helpers ---- */

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t next_rand(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

/* RFC 1071 taken literally over pseudo-header + segment; 0 when valid. */
static uint16_t ref_tcp_csum(uint32_t src, uint32_t dst, const uint8_t *seg, size_t len)
{
	uint32_t s =
	        (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 + (uint32_t)len;
	size_t i;
	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(seg[i] << 8 | seg[i + 1]);
	if (i < len)
		s += (uint32_t)seg[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint16_t ref_ip_csum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Copies src to a heap block of exactly len bytes: a read past the end is
 * an ASan error. Free with free(). */
static uint8_t *at_end(const uint8_t *src, size_t len)
{
	uint8_t *p = malloc(len); /* malloc(0) is a block with nothing readable */
	assert_non_null(p);
	if (len)
		memcpy(p, src, len);
	return p;
}

/* Parses seg[0..len) from an exact-size heap copy. */
static int parse_exact(const uint8_t *seg, size_t len, bool verify, sf_tcp_t *t)
{
	uint8_t *p = at_end(seg, len);
	int rc = sf_tcp_parse(p, len, SRC, DST, verify, t);
	free(p);
	return rc;
}

/* Builds a segment in buf: a fixed header, `opts` (opts_len bytes; the data
 * offset is (20 + opts_len) / 4 rounded down, so pass a multiple of 4 unless
 * testing), then payload_len bytes of payload; a valid checksum. */
static size_t make_seg(uint8_t *buf, const uint8_t *opts, size_t opts_len, size_t payload_len)
{
	static const uint8_t base[20] = {0x9c, 0x40, 0x00, 0x50, 0,    0,    0x03, 0xe9,
	                                 0,    0,    0x07, 0xd1, 0x50, 0x18, 0x01, 0xf6};
	memcpy(buf, base, 20);
	buf[12] = (uint8_t)(((20 + opts_len) / 4) << 4);
	if (opts_len)
		memcpy(buf + 20, opts, opts_len);
	for (size_t i = 0; i < payload_len; i++)
		buf[20 + opts_len + i] = (uint8_t)('a' + i % 26);
	size_t len = 20 + opts_len + payload_len;
	sf_put16(buf + 16, 0);
	sf_put16(buf + 16, ref_tcp_csum(SRC, DST, buf, len));
	return len;
}

/* Parses header+opts (no payload) with and without checksum verification
 * and checks both give rc. */
static void expect_opts_rc(const uint8_t *opts, size_t opts_len, int rc, sf_tcp_t *t)
{
	uint8_t seg[60];
	size_t len = make_seg(seg, opts, opts_len, 0);
	assert_int_equal(parse_exact(seg, len, false, t), rc);
	assert_int_equal(parse_exact(seg, len, true, t), rc);
}

/* ---- the SYN Linux 6.x sends: IPv4 + TCP, 60 bytes ---- */

static const uint8_t linux_syn[60] = {
        /* IPv4: 45 tos 0 len 60 id 0x8d2a DF ttl 64 TCP csum 192.0.2.1 -> 192.0.2.2 */
        0x45, 0x00, 0x00, 0x3c, 0x8d, 0x2a, 0x40, 0x00, 0x40, 0x06, 0x29, 0x8e, 0xc0, 0x00, 0x02,
        0x01, 0xc0, 0x00, 0x02, 0x02,
        /* TCP: 40000 -> 80, seq 0x5f3c2a11, ack 0, doff 10, SYN, win 64240 */
        0x9c, 0x40, 0x00, 0x50, 0x5f, 0x3c, 0x2a, 0x11, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa,
        0xf0, 0xec, 0xc4, 0x00, 0x00,
        /* mss 1460, sackOK, TS val 0x9a3b1c2d ecr 0, nop, wscale 7 */
        0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x9a, 0x3b, 0x1c, 0x2d, 0x00, 0x00, 0x00,
        0x00, 0x01, 0x03, 0x03, 0x07};

static void test_linux_syn(void **state)
{
	(void)state;
	/* The fixture itself: both checksums are right. */
	assert_int_equal(ref_ip_csum(linux_syn, 20), 0);
	uint32_t src = sf_be32(linux_syn + 12), dst = sf_be32(linux_syn + 16);
	assert_int_equal(src, SRC);
	assert_int_equal(ref_tcp_csum(src, dst, linux_syn + 20, 40), 0);

	/* The whole datagram in an exact block; TCP is its last 40 bytes. */
	uint8_t *pkt = at_end(linux_syn, sizeof linux_syn);
	sf_tcp_t t;
	assert_int_equal(sf_tcp_parse(pkt + 20, 40, src, dst, true, &t), 0);
	free(pkt);
	assert_int_equal(t.sport, 40000);
	assert_int_equal(t.dport, 80);
	assert_int_equal(t.seq, 0x5f3c2a11u);
	assert_int_equal(t.ack, 0);
	assert_int_equal(t.flags, SF_TCP_SYN);
	assert_int_equal(t.reserved, 0);
	assert_int_equal(t.wnd, 64240);
	assert_int_equal(t.urg, 0);
	assert_int_equal(t.hdr_len, 40);
	assert_int_equal(t.payload_off, 40);
	assert_int_equal(t.payload_len, 0);
	assert_true(t.opt.has_mss);
	assert_int_equal(t.opt.mss, 1460);
	assert_true(t.opt.sack_perm);
	assert_true(t.opt.has_ts);
	assert_int_equal(t.opt.ts_val, 0x9a3b1c2du);
	assert_int_equal(t.opt.ts_ecr, 0);
	assert_true(t.opt.has_wscale);
	assert_int_equal(t.opt.wscale, 7);
	assert_int_equal(t.opt.sack_cnt, 0);
	assert_int_equal(sf_tcp_seg_len(&t), 1);

	/* Emitting the parsed repr gives Linux's bytes back, checksum included. */
	assert_int_equal(sf_tcp_opts_len(&t.opt), 20);
	uint8_t out[64];
	memset(out, 0xAA, sizeof out);
	assert_int_equal(sf_tcp_emit(&t, src, dst, NULL, 0, out, sizeof out), 40);
	assert_memory_equal(out, linux_syn + 20, 40);
	assert_int_equal(out[40], 0xAA); /* nothing written past the segment */

	/* tcpdump prints SYNs absolute even in relative mode. */
	sf_ipv4_t ip = {.src = src, .dst = dst};
	char line[256];
	const char *want = "192.0.2.1.40000 > 192.0.2.2.80: Flags [S], seq 1597778449, win 64240, "
	                   "options [mss 1460,sackOK,TS val 2587565101 ecr 0,nop,wscale 7], "
	                   "length 0";
	assert_int_equal(sf_tcp_format(line, sizeof line, &ip, &t, false, 0, 0), strlen(want));
	assert_string_equal(line, want);
	assert_int_equal(sf_tcp_format(line, sizeof line, &ip, &t, true, 0x5f3c2a11u, 7),
	                 strlen(want));
	assert_string_equal(line, want);
}

/* ---- round trips ---- */

static void fill_opts(sf_tcp_opts_t *o, unsigned combo)
{
	*o = (sf_tcp_opts_t){0};
	o->has_mss = combo & 1;
	o->has_wscale = combo & 2;
	o->sack_perm = combo & 4;
	o->has_ts = combo & 8;
	o->sack_cnt = (uint8_t)(combo >> 4);
	if (o->has_mss)
		o->mss = (uint16_t)next_rand();
	if (o->has_wscale)
		o->wscale = (uint8_t)next_rand();
	if (o->has_ts) {
		o->ts_val = next_rand();
		o->ts_ecr = next_rand();
	}
	for (unsigned i = 0; i < o->sack_cnt; i++) {
		o->sack[i].left = next_rand();
		o->sack[i].right = next_rand();
	}
}

static size_t expected_opts_len(const sf_tcp_opts_t *o)
{
	size_t n = 0;
	n += o->has_mss ? 4 : 0;
	n += (o->has_ts || o->sack_perm) ? 4 : 0; /* SACK-perm shares TS's NOP word */
	n += o->has_ts ? 8 : 0;
	n += o->has_wscale ? 4 : 0;
	n += o->sack_cnt ? 4 + 8u * o->sack_cnt : 0;
	return n;
}

static void test_round_trip_all_options(void **state)
{
	(void)state;
	int emitted = 0, refused = 0;
	for (unsigned combo = 0; combo < 16 * 5; combo++) {
		for (int rep = 0; rep < 8; rep++) {
			sf_tcp_t t = {0};
			t.sport = (uint16_t)next_rand();
			t.dport = (uint16_t)next_rand();
			t.seq = next_rand();
			t.ack = next_rand();
			t.flags = (uint8_t)next_rand();
			t.reserved = (uint8_t)(next_rand() & 0x0f);
			t.wnd = (uint16_t)next_rand();
			t.urg = (uint16_t)next_rand();
			fill_opts(&t.opt, combo);
			size_t plen = next_rand() % 64;
			uint8_t payload[64];
			for (size_t i = 0; i < plen; i++)
				payload[i] = (uint8_t)next_rand();

			size_t olen = sf_tcp_opts_len(&t.opt);
			assert_int_equal(olen, expected_opts_len(&t.opt));
			assert_int_equal(olen % 4, 0);

			uint8_t buf[20 + 48 + 64 + 8];
			memset(buf, 0xAA, sizeof buf);
			int n = sf_tcp_emit(&t, SRC, DST, payload, plen, buf, sizeof buf);
			if (olen > SF_TCP_MAX_OPT_LEN) {
				assert_int_equal(n, SF_EINVAL);
				refused++;
				continue;
			}
			emitted++;
			assert_int_equal(n, 20 + olen + plen);
			assert_int_equal(buf[n], 0xAA);
			assert_int_equal(ref_tcp_csum(SRC, DST, buf, (size_t)n), 0);

			sf_tcp_t p;
			assert_int_equal(parse_exact(buf, (size_t)n, true, &p), 0);
			assert_int_equal(p.sport, t.sport);
			assert_int_equal(p.dport, t.dport);
			assert_int_equal(p.seq, t.seq);
			assert_int_equal(p.ack, t.ack);
			assert_int_equal(p.flags, t.flags);
			assert_int_equal(p.reserved, t.reserved);
			assert_int_equal(p.wnd, t.wnd);
			assert_int_equal(p.urg, t.urg);
			assert_int_equal(p.hdr_len, 20 + olen);
			assert_int_equal(p.payload_off, 20 + olen);
			assert_int_equal(p.payload_len, plen);
			assert_memory_equal(&p.opt, &t.opt, sizeof p.opt);
			if (plen)
				assert_memory_equal(buf + p.payload_off, payload, plen);
		}
	}
	/* TS + 4 SACK blocks, and MSS + TS + window scale + 3 or 4 blocks, overflow 40. */
	assert_true(refused > 0);
	assert_true(emitted > refused);
}

/* Every flag byte and every reserved nibble survives emit + parse. */
static void test_round_trip_flags_reserved(void **state)
{
	(void)state;
	for (unsigned f = 0; f < 256; f++) {
		sf_tcp_t t = {.sport = 1, .dport = 2, .flags = (uint8_t)f, .reserved = f & 0x0f};
		uint8_t buf[20];
		assert_int_equal(sf_tcp_emit(&t, SRC, DST, NULL, 0, buf, sizeof buf), 20);
		assert_int_equal(buf[12], 0x50 | (f & 0x0f));
		assert_int_equal(buf[13], f);
		sf_tcp_t p;
		assert_int_equal(parse_exact(buf, 20, true, &p), 0);
		assert_int_equal(p.flags, f);
		assert_int_equal(p.reserved, f & 0x0f);
	}
	/* Reserved bits above the nibble are not written into the data offset. */
	sf_tcp_t t = {.reserved = 0xff};
	uint8_t buf[20];
	assert_int_equal(sf_tcp_emit(&t, SRC, DST, NULL, 0, buf, sizeof buf), 20);
	assert_int_equal(buf[12], 0x5f);
}

/* ---- exact emit layouts ---- */

static void expect_layout(const sf_tcp_opts_t *o, const uint8_t *want, size_t want_len)
{
	sf_tcp_t t = {.flags = SF_TCP_ACK, .opt = *o};
	uint8_t buf[64];
	memset(buf, 0xAA, sizeof buf);
	int n = sf_tcp_emit(&t, SRC, DST, NULL, 0, buf, sizeof buf);
	assert_int_equal(n, 20 + want_len);
	assert_int_equal(buf[12] >> 4, (20 + want_len) / 4);
	assert_int_equal(sf_tcp_opts_len(o), want_len);
	assert_memory_equal(buf + 20, want, want_len);
}

static void test_emit_layouts(void **state)
{
	(void)state;
	static const uint8_t none[1] = {0};
	expect_layout(&(sf_tcp_opts_t){0}, none, 0);

	static const uint8_t mss[] = {2, 4, 0x05, 0xb4};
	expect_layout(&(sf_tcp_opts_t){.has_mss = true, .mss = 1460}, mss, sizeof mss);

	static const uint8_t ts[] = {1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 4};
	expect_layout(&(sf_tcp_opts_t){.has_ts = true, .ts_val = 5, .ts_ecr = 4}, ts, sizeof ts);

	static const uint8_t sackok[] = {1, 1, 4, 2};
	expect_layout(&(sf_tcp_opts_t){.sack_perm = true}, sackok, sizeof sackok);

	static const uint8_t ws[] = {1, 3, 3, 14};
	expect_layout(&(sf_tcp_opts_t){.has_wscale = true, .wscale = 14}, ws, sizeof ws);

	/* Linux SYN without timestamps: mss,nop,nop,sackOK,nop,wscale 7 */
	static const uint8_t syn_nots[] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7};
	expect_layout(&(sf_tcp_opts_t){.has_mss = true,
	                               .mss = 1460,
	                               .sack_perm = true,
	                               .has_wscale = true,
	                               .wscale = 7},
	              syn_nots, sizeof syn_nots);

	/* Established with TS and SACK: nop,nop,TS,nop,nop,sack 2 */
	static const uint8_t ts_sack[] = {1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 8, 1, 1, 5, 18,
	                                  0, 0, 0, 1,  0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4};
	expect_layout(&(sf_tcp_opts_t){.has_ts = true,
	                               .ts_val = 9,
	                               .ts_ecr = 8,
	                               .sack_cnt = 2,
	                               .sack = {{1, 2}, {3, 4}}},
	              ts_sack, sizeof ts_sack);

	/* Four SACK blocks alone: 36 bytes. */
	uint8_t sack4[36] = {1, 1, 5, 34};
	sf_tcp_opts_t o = {.sack_cnt = 4};
	for (unsigned i = 0; i < 4; i++) {
		o.sack[i].left = 0x01020304u * (i + 1);
		o.sack[i].right = 0x10203040u * (i + 1);
		sf_put32(sack4 + 4 + 8 * i, o.sack[i].left);
		sf_put32(sack4 + 8 + 8 * i, o.sack[i].right);
	}
	expect_layout(&o, sack4, sizeof sack4);

	/* Everything that fits in 40 bytes: SYN layout + 2 SACK blocks. */
	static const uint8_t full[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,  0, 1, 0, 0,
	                               0, 0, 1,    3,    3, 7, 1, 1,  5, 18, 0, 0, 0, 5,
	                               0, 0, 0,    6,    0, 0, 0, 7,  0, 0,  0, 8};
	expect_layout(&(sf_tcp_opts_t){.has_mss = true,
	                               .mss = 1460,
	                               .sack_perm = true,
	                               .has_ts = true,
	                               .ts_val = 1,
	                               .has_wscale = true,
	                               .wscale = 7,
	                               .sack_cnt = 2,
	                               .sack = {{5, 6}, {7, 8}}},
	              full, sizeof full);
}

/* Values without their has_ flag are not emitted. */
static void test_emit_only_flagged_options(void **state)
{
	(void)state;
	sf_tcp_t t = {.flags = SF_TCP_SYN,
	              .opt = {.mss = 1460, .wscale = 7, .ts_val = 1, .ts_ecr = 2}};
	uint8_t buf[64];
	assert_int_equal(sf_tcp_emit(&t, SRC, DST, NULL, 0, buf, sizeof buf), 20);
	assert_int_equal(buf[12], 0x50);
	t.opt.has_mss = true;
	assert_int_equal(sf_tcp_emit(&t, SRC, DST, NULL, 0, buf, sizeof buf), 24);
	assert_int_equal(buf[20], SF_TCPOPT_MSS);
}

/* Options are whole 32-bit words: the header length is a multiple of 4 and
 * every option byte is one we meant to write (no leftovers from the buffer). */
static void test_emit_padding_zero(void **state)
{
	(void)state;
	for (unsigned combo = 0; combo < 16 * 3; combo++) {
		sf_tcp_t t = {0};
		fill_opts(&t.opt, combo);
		uint8_t a[64], b[64];
		memset(a, 0xAA, sizeof a);
		memset(b, 0x55, sizeof b);
		int na = sf_tcp_emit(&t, SRC, DST, NULL, 0, a, sizeof a);
		int nb = sf_tcp_emit(&t, SRC, DST, NULL, 0, b, sizeof b);
		assert_true(na >= 20);
		assert_int_equal(na, nb);
		assert_int_equal(na % 4, 0);
		assert_memory_equal(a, b, (size_t)na);
		/* The option walk ends exactly at the header end or at an EOL
		 * followed only by zeros. */
		size_t i = 20;
		while (i < (size_t)na && a[i] != SF_TCPOPT_EOL)
			i += a[i] == SF_TCPOPT_NOP ? 1 : a[i + 1];
		assert_true(i <= (size_t)na);
		for (; i < (size_t)na; i++)
			assert_int_equal(a[i], 0);
	}
}

static void test_emit_errors(void **state)
{
	(void)state;
	uint8_t buf[128];
	/* TS + 4 SACK blocks = 12 + 4 + 32 = 48 > 40; TS + 3 blocks is 40. */
	sf_tcp_t t = {.opt = {.has_ts = true, .sack_cnt = 4}};
	assert_int_equal(sf_tcp_opts_len(&t.opt), 48);
	assert_int_equal(sf_tcp_emit(&t, SRC, DST, NULL, 0, buf, sizeof buf), SF_EINVAL);
	t.opt.sack_cnt = 3;
	assert_int_equal(sf_tcp_emit(&t, SRC, DST, NULL, 0, buf, sizeof buf), 20 + 40);
	/* SYN options (20 bytes) + 3 blocks = 48. */
	t.opt = (sf_tcp_opts_t){.has_mss = true,
	                        .sack_perm = true,
	                        .has_ts = true,
	                        .has_wscale = true,
	                        .sack_cnt = 3};
	assert_int_equal(sf_tcp_emit(&t, SRC, DST, NULL, 0, buf, sizeof buf), SF_EINVAL);
	t.opt.sack_cnt = 2;
	assert_int_equal(sf_tcp_emit(&t, SRC, DST, NULL, 0, buf, sizeof buf), 20 + 40);
	/* More blocks than exist. */
	t = (sf_tcp_t){.opt = {.sack_cnt = 5}};
	assert_int_equal(sf_tcp_emit(&t, SRC, DST, NULL, 0, buf, sizeof buf), SF_EINVAL);

	/* Buffer one byte short, and exactly right. */
	t = (sf_tcp_t){.opt = {.has_mss = true, .mss = 536}};
	uint8_t payload[10] = "0123456789";
	assert_int_equal(sf_tcp_emit(&t, SRC, DST, payload, 10, buf, 33), SF_ENOBUFS);
	assert_int_equal(sf_tcp_emit(&t, SRC, DST, payload, 10, buf, 0), SF_ENOBUFS);
	assert_int_equal(sf_tcp_emit(&t, SRC, DST, payload, 10, buf, 34), 34);

	/* A segment that cannot fit an IP datagram; one that just can. */
	assert_int_equal(sf_tcp_emit(&t, SRC, DST, payload, 65536 - 24, buf, sizeof buf),
	                 SF_EINVAL);
	assert_int_equal(sf_tcp_emit(&t, SRC, DST, payload, 65535 - 24, buf, sizeof buf),
	                 SF_ENOBUFS);
}

/* Payload already in place after the header: summed, not copied. */
static void test_emit_payload_in_place(void **state)
{
	(void)state;
	sf_tcp_t t = {.sport = 7,
	              .dport = 9,
	              .flags = SF_TCP_ACK | SF_TCP_PSH,
	              .opt = {.has_ts = true, .ts_val = 3}};
	uint8_t a[64], b[64];
	for (int i = 0; i < 31; i++)
		b[32 + i] = (uint8_t)(i * 7);
	int na = sf_tcp_emit(&t, SRC, DST, b + 32, 31, a, sizeof a);
	int nb = sf_tcp_emit(&t, SRC, DST, b + 32, 31, b, sizeof b);
	assert_int_equal(na, 63);
	assert_int_equal(nb, 63);
	assert_memory_equal(a, b, 63);
	assert_int_equal(ref_tcp_csum(SRC, DST, a, 63), 0);
}

/* ---- checksum ---- */

static void test_checksum_bit_flips(void **state)
{
	(void)state;
	sf_tcp_t t = {.sport = 40000,
	              .dport = 80,
	              .seq = 1,
	              .ack = 2,
	              .flags = SF_TCP_ACK | SF_TCP_PSH,
	              .wnd = 502,
	              .opt = {.has_ts = true, .ts_val = 5, .ts_ecr = 4}};
	uint8_t seg[64];
	int n = sf_tcp_emit(&t, SRC, DST, (const uint8_t *)"hello, world!", 13, seg, sizeof seg);
	assert_int_equal(n, 20 + 12 + 13); /* odd length */
	sf_tcp_t p;
	assert_int_equal(parse_exact(seg, (size_t)n, true, &p), 0);
	for (int bit = 0; bit < n * 8; bit++) {
		seg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		int rc = parse_exact(seg, (size_t)n, true, &p);
		/* Flipping the data offset may make it malformed first. */
		if (bit / 8 == 12 && bit % 8 >= 4)
			assert_true(rc == SF_ECHECKSUM || rc == SF_EMALFORMED);
		else
			assert_int_equal(rc, SF_ECHECKSUM);
		seg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* Wrong pseudo-header addresses. */
	uint8_t *e = at_end(seg, (size_t)n);
	assert_int_equal(sf_tcp_parse(e, (size_t)n, SRC, DST + 1, true, &p), SF_ECHECKSUM);
	assert_int_equal(sf_tcp_parse(e, (size_t)n, SRC, DST + 1, false, &p), 0);
	free(e);
	/* verify=false accepts a bad checksum. */
	seg[20 + 12] ^= 1;
	assert_int_equal(parse_exact(seg, (size_t)n, false, &p), 0);
	assert_int_equal(p.payload_len, 13);
}

/* ---- malformed and edge input ---- */

static void test_truncated_header(void **state)
{
	(void)state;
	uint8_t seg[20];
	make_seg(seg, NULL, 0, 0);
	sf_tcp_t t;
	for (size_t len = 0; len < 20; len++) {
		assert_int_equal(parse_exact(seg, len, false, &t), SF_ETRUNCATED);
		assert_int_equal(parse_exact(seg, len, true, &t), SF_ETRUNCATED);
	}
	assert_int_equal(parse_exact(seg, 20, true, &t), 0);
}

static void test_data_offset(void **state)
{
	(void)state;
	uint8_t seg[64];
	sf_tcp_t t;
	size_t len = make_seg(seg, NULL, 0, 8);
	for (unsigned doff = 0; doff < 5; doff++) {
		seg[12] = (uint8_t)(doff << 4);
		assert_int_equal(parse_exact(seg, len, false, &t), SF_EMALFORMED);
	}
	/* Offset 7 (28 bytes) fits a 28-byte segment, not 27 or a 20-byte one:
	 * the IP layer delimited the segment, so this is malformed, not partial. */
	seg[12] = 7 << 4;
	memset(seg + 20, SF_TCPOPT_NOP, 8);
	assert_int_equal(parse_exact(seg, 28, false, &t), 0);
	assert_int_equal(t.hdr_len, 28);
	assert_int_equal(t.payload_len, 0);
	assert_int_equal(parse_exact(seg, 27, false, &t), SF_EMALFORMED);
	assert_int_equal(parse_exact(seg, 20, false, &t), SF_EMALFORMED);
	seg[12] = 15 << 4;
	assert_int_equal(parse_exact(seg, 28, false, &t), SF_EMALFORMED);
}

static void test_option_length_0_and_1(void **state)
{
	(void)state;
	sf_tcp_t t;
	for (uint8_t bad = 0; bad < 2; bad++) {
		const uint8_t known[4] = {SF_TCPOPT_MSS, bad, 0x05, 0xb4};
		expect_opts_rc(known, 4, SF_EMALFORMED, &t);
		const uint8_t unknown[4] = {254, bad, 1, 1};
		expect_opts_rc(unknown, 4, SF_EMALFORMED, &t);
		const uint8_t late[8] = {1, 1, 1, 1, 99, bad, 0, 0};
		expect_opts_rc(late, 8, SF_EMALFORMED, &t);
	}
}

static void test_option_past_header(void **state)
{
	(void)state;
	sf_tcp_t t;
	/* MSS claiming 4 bytes with 2 left in the header. */
	const uint8_t mss[4] = {1, 1, SF_TCPOPT_MSS, 4};
	expect_opts_rc(mss, 4, SF_EMALFORMED, &t);
	/* TS running 1 byte past the header. */
	const uint8_t ts[12] = {1, 1, 1, SF_TCPOPT_TS, 10, 0, 0, 0, 0, 0, 0, 0};
	expect_opts_rc(ts, 12, SF_EMALFORMED, &t);
	/* Unknown option with length 255. */
	const uint8_t big[4] = {200, 255, 0, 0};
	expect_opts_rc(big, 4, SF_EMALFORMED, &t);
	/* Running past the header into the payload is no better. */
	uint8_t seg[64];
	const uint8_t into[8] = {1, 1, 1, 1, SF_TCPOPT_TS, 10, 0, 0};
	size_t len = make_seg(seg, into, 8, 20);
	assert_int_equal(parse_exact(seg, len, true, &t), SF_EMALFORMED);
	/* An option length exactly reaching the header end is fine. */
	const uint8_t exact[4] = {200, 4, 0, 0};
	expect_opts_rc(exact, 4, 0, &t);
}

/* A lone kind byte as the last header byte: its length byte would be the
 * first payload byte (or past the buffer). Must not be read. */
static void test_lone_kind_at_header_end(void **state)
{
	(void)state;
	sf_tcp_t t;
	const uint8_t opts[4] = {1, 1, 1, SF_TCPOPT_MSS};
	/* No payload: the segment ends there; ASan catches a read of byte 24. */
	expect_opts_rc(opts, 4, SF_EMALFORMED, &t);
	/* With a payload whose first byte would make a valid length. */
	uint8_t seg[64];
	size_t len = make_seg(seg, opts, 4, 6);
	seg[24] = 2;
	assert_int_equal(parse_exact(seg, len, false, &t), SF_EMALFORMED);
	/* Same with a lone unknown kind. */
	const uint8_t unk[4] = {1, 1, 1, 77};
	expect_opts_rc(unk, 4, SF_EMALFORMED, &t);
}

static void test_eol_ends_early(void **state)
{
	(void)state;
	sf_tcp_t t;
	/* MSS, EOL, then what would be a window scale and a bad option: ignored. */
	const uint8_t opts[12] = {2, 4, 0x02, 0x18, 0, 3, 3, 7, 5, 0, 1, 0};
	expect_opts_rc(opts, 12, 0, &t);
	assert_true(t.opt.has_mss);
	assert_int_equal(t.opt.mss, 536);
	assert_false(t.opt.has_wscale);
	assert_int_equal(t.opt.sack_cnt, 0);
	/* EOL first: no options at all. */
	const uint8_t eol[4] = {0, 2, 4, 1};
	expect_opts_rc(eol, 4, 0, &t);
	assert_false(t.opt.has_mss);
	assert_int_equal(t.hdr_len, 24);
	assert_int_equal(t.payload_off, 24);
}

static void test_nop_run(void **state)
{
	(void)state;
	sf_tcp_t t;
	uint8_t opts[40];
	memset(opts, SF_TCPOPT_NOP, sizeof opts);
	expect_opts_rc(opts, 40, 0, &t);
	assert_memory_equal(&t.opt, &(sf_tcp_opts_t){0}, sizeof t.opt);
	/* 37 NOPs then window scale as the last 3 bytes. */
	opts[37] = SF_TCPOPT_WSCALE;
	opts[38] = 3;
	opts[39] = 9;
	expect_opts_rc(opts, 40, 0, &t);
	assert_true(t.opt.has_wscale);
	assert_int_equal(t.opt.wscale, 9);
}

static void test_unknown_option_skipped(void **state)
{
	(void)state;
	sf_tcp_t t;
	/* kind 254 len 4 (RFC 6994 experimental) whose body looks like MSS. */
	const uint8_t opts[8] = {254, 4, 2, 4, 2, 4, 0x05, 0x78};
	expect_opts_rc(opts, 8, 0, &t);
	assert_true(t.opt.has_mss);
	assert_int_equal(t.opt.mss, 1400);
	/* Unknown kinds of several sizes in a row. */
	const uint8_t more[12] = {30, 2, 34, 3, 1, 19, 5, 9, 9, 9, 1, 0};
	expect_opts_rc(more, 12, 0, &t);
	assert_memory_equal(&t.opt, &(sf_tcp_opts_t){0}, sizeof t.opt);
}

/* MUST-64: options at any alignment. */
static void test_unaligned_options(void **state)
{
	(void)state;
	sf_tcp_t t;
	const uint8_t opts[32] = {
	        1,                                                     /* nop */
	        2, 4,  0x05, 0xb4,                                     /* mss 1460 at 21 */
	        3, 3,  5,                                              /* wscale 5 at 25 */
	        8, 10, 0x11, 0x22, 0x33, 0x44, 0,    0,    0,    7,    /* TS at 28 */
	        4, 2,                                                  /* sackOK at 38 */
	        5, 10, 0xde, 0xad, 0xbe, 0xef, 0xfe, 0xed, 0xfa, 0xce, /* sack 1 at 40 */
	        0, 0};
	expect_opts_rc(opts, 32, 0, &t);
	assert_true(t.opt.has_mss);
	assert_int_equal(t.opt.mss, 1460);
	assert_true(t.opt.has_wscale);
	assert_int_equal(t.opt.wscale, 5);
	assert_true(t.opt.has_ts);
	assert_int_equal(t.opt.ts_val, 0x11223344u);
	assert_int_equal(t.opt.ts_ecr, 7);
	assert_true(t.opt.sack_perm);
	assert_int_equal(t.opt.sack_cnt, 1);
	assert_int_equal(t.opt.sack[0].left, 0xdeadbeefu);
	assert_int_equal(t.opt.sack[0].right, 0xfeedfaceu);
}

static void test_sack_blocks(void **state)
{
	(void)state;
	for (unsigned n = 1; n <= 4; n++) {
		/* 48, not 40: GCC 12 at -O2 unrolls the loop below past n and
		 * warns (stringop-overflow) on writes that never happen. */
		uint8_t opts[48] = {1, 1, SF_TCPOPT_SACK, (uint8_t)(2 + 8 * n)};
		for (unsigned i = 0; i < n; i++) {
			sf_put32(opts + 4 + 8 * i, 1000 * (i + 1));
			sf_put32(opts + 8 + 8 * i, 1000 * (i + 1) + 500);
		}
		sf_tcp_t t;
		expect_opts_rc(opts, 4 + 8 * n, 0, &t);
		assert_int_equal(t.opt.sack_cnt, n);
		for (unsigned i = 0; i < n; i++) {
			assert_int_equal(t.opt.sack[i].left, 1000 * (i + 1));
			assert_int_equal(t.opt.sack[i].right, 1000 * (i + 1) + 500);
		}
		for (unsigned i = n; i < SF_TCP_MAX_SACK; i++) {
			assert_int_equal(t.opt.sack[i].left, 0);
			assert_int_equal(t.opt.sack[i].right, 0);
		}
	}
}

/* Known options with the wrong length are skipped by that length, as Linux
 * does; what follows them is still parsed. */
static void test_known_option_wrong_length(void **state)
{
	(void)state;
	sf_tcp_t t;
	const uint8_t mss3[8] = {SF_TCPOPT_MSS, 3, 0x05, 3, 3, 7, 0, 0};
	expect_opts_rc(mss3, 8, 0, &t);
	assert_false(t.opt.has_mss);
	assert_true(t.opt.has_wscale);
	assert_int_equal(t.opt.wscale, 7);

	const uint8_t ws4[8] = {SF_TCPOPT_WSCALE, 4, 7, 0, 2, 4, 1, 0};
	expect_opts_rc(ws4, 8, 0, &t);
	assert_false(t.opt.has_wscale);
	assert_true(t.opt.has_mss);
	assert_int_equal(t.opt.mss, 256);

	const uint8_t sp3[4] = {SF_TCPOPT_SACK_PERM, 3, 0, 0};
	expect_opts_rc(sp3, 4, 0, &t);
	assert_false(t.opt.sack_perm);

	const uint8_t ts8[8] = {SF_TCPOPT_TS, 8, 1, 2, 3, 4, 5, 6};
	expect_opts_rc(ts8, 8, 0, &t);
	assert_false(t.opt.has_ts);

	const uint8_t sack2[4] = {1, 1, SF_TCPOPT_SACK, 2};
	expect_opts_rc(sack2, 4, 0, &t);
	assert_int_equal(t.opt.sack_cnt, 0);

	const uint8_t sack9[12] = {1, 1, SF_TCPOPT_SACK, 9, 1, 2, 3, 4, 5, 6, 7, 0};
	expect_opts_rc(sack9, 12, 0, &t);
	assert_int_equal(t.opt.sack_cnt, 0);

	/* A later copy of an option overrides an earlier one. */
	const uint8_t two[8] = {SF_TCPOPT_MSS, 4, 0, 100, SF_TCPOPT_MSS, 4, 0, 200};
	expect_opts_rc(two, 8, 0, &t);
	assert_int_equal(t.opt.mss, 200);
}

static void test_payload_fields(void **state)
{
	(void)state;
	uint8_t seg[128];
	const uint8_t opts[4] = {1, 1, 1, 1};
	size_t len = make_seg(seg, opts, 4, 77);
	seg[12] |= 0x0a; /* reserved bits */
	sf_put16(seg + 16, 0);
	sf_put16(seg + 16, ref_tcp_csum(SRC, DST, seg, len));
	sf_tcp_t t;
	assert_int_equal(parse_exact(seg, len, true, &t), 0);
	assert_int_equal(t.sport, 40000);
	assert_int_equal(t.dport, 80);
	assert_int_equal(t.seq, 1001);
	assert_int_equal(t.ack, 2001);
	assert_int_equal(t.flags, SF_TCP_PSH | SF_TCP_ACK);
	assert_int_equal(t.reserved, 0x0a);
	assert_int_equal(t.wnd, 502);
	assert_int_equal(t.hdr_len, 24);
	assert_int_equal(t.payload_off, 24);
	assert_int_equal(t.payload_len, 77);
	assert_int_equal(seg[t.payload_off], 'a');
	assert_int_equal(sf_tcp_seg_len(&t), 77);
	t.flags |= SF_TCP_SYN | SF_TCP_FIN;
	assert_int_equal(sf_tcp_seg_len(&t), 79);
}

/* ---- printing ---- */

static void test_flags_str(void **state)
{
	(void)state;
	static const struct {
		uint8_t flags;
		const char *want;
	} cases[] = {
	        {0, "none"},
	        {SF_TCP_SYN, "S"},
	        {SF_TCP_SYN | SF_TCP_ACK, "S."},
	        {SF_TCP_ACK, "."},
	        {SF_TCP_PSH | SF_TCP_ACK, "P."},
	        {SF_TCP_FIN | SF_TCP_ACK, "F."},
	        {SF_TCP_FIN | SF_TCP_PSH | SF_TCP_ACK, "FP."},
	        {SF_TCP_RST, "R"},
	        {SF_TCP_RST | SF_TCP_ACK, "R."},
	        {SF_TCP_PSH | SF_TCP_ACK | SF_TCP_URG, "P.U"},
	        {SF_TCP_SYN | SF_TCP_ECE | SF_TCP_CWR, "SEW"},
	        {SF_TCP_SYN | SF_TCP_ACK | SF_TCP_ECE, "S.E"},
	        {0xff, "FSRP.UEW"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char buf[9];
		memset(buf, 'x', sizeof buf);
		assert_ptr_equal(sf_tcp_flags_str(cases[i].flags, buf), buf);
		assert_string_equal(buf, cases[i].want);
	}
}

static void expect_line(const sf_tcp_t *t, bool relative, uint32_t seq_base, uint32_t ack_base,
                        const char *want)
{
	sf_ipv4_t ip = {.src = SRC, .dst = DST, .proto = SF_IP_PROTO_TCP};
	if (t->sport == 80) { /* server -> client */
		ip.src = DST;
		ip.dst = SRC;
	}
	char buf[300];
	memset(buf, 'x', sizeof buf);
	int n = sf_tcp_format(buf, sizeof buf, &ip, t, relative, seq_base, ack_base);
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

/* A whole connection, printed relative; each expected line is what tcpdump
 * 4.99.3 -n printed for the same segment (after its "IP " prefix, before its
 * ": HTTP" suffix). */
static void test_format_conversation(void **state)
{
	(void)state;
	const uint32_t c_isn = 1000, s_isn = 4294967000u; /* server wraps */
	sf_tcp_t syn = {.sport = 40000,
	                .dport = 80,
	                .seq = c_isn,
	                .flags = SF_TCP_SYN,
	                .wnd = 64240,
	                .opt = {.has_mss = true,
	                        .mss = 1460,
	                        .sack_perm = true,
	                        .has_ts = true,
	                        .ts_val = 1,
	                        .has_wscale = true,
	                        .wscale = 7}};
	expect_line(&syn, true, c_isn, s_isn,
	            "192.0.2.1.40000 > 192.0.2.2.80: Flags [S], seq 1000, win 64240, options [mss "
	            "1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0");

	sf_tcp_t synack = {.sport = 80,
	                   .dport = 40000,
	                   .seq = s_isn,
	                   .ack = c_isn + 1,
	                   .flags = SF_TCP_SYN | SF_TCP_ACK,
	                   .wnd = 65160,
	                   .opt = {.has_mss = true,
	                           .mss = 1460,
	                           .sack_perm = true,
	                           .has_ts = true,
	                           .ts_val = 2,
	                           .ts_ecr = 1,
	                           .has_wscale = true,
	                           .wscale = 7}};
	expect_line(&synack, true, s_isn, c_isn,
	            "192.0.2.2.80 > 192.0.2.1.40000: Flags [S.], seq 4294967000, ack 1001, win "
	            "65160, options [mss 1460,sackOK,TS val 2 ecr 1,nop,wscale 7], length 0");

	sf_tcp_t ack = {.sport = 40000,
	                .dport = 80,
	                .seq = c_isn + 1,
	                .ack = s_isn + 1,
	                .flags = SF_TCP_ACK,
	                .wnd = 502,
	                .opt = {.has_ts = true, .ts_val = 3, .ts_ecr = 2}};
	expect_line(
	        &ack, true, c_isn, s_isn,
	        "192.0.2.1.40000 > 192.0.2.2.80: Flags [.], ack 1, win 502, options [nop,nop,TS "
	        "val 3 ecr 2], length 0");

	sf_tcp_t data = ack;
	data.flags |= SF_TCP_PSH;
	data.payload_len = 100;
	data.opt.ts_val = 5;
	data.opt.ts_ecr = 4;
	expect_line(&data, true, c_isn, s_isn,
	            "192.0.2.1.40000 > 192.0.2.2.80: Flags [P.], seq 1:101, ack 1, win 502, "
	            "options [nop,nop,TS val 5 ecr 4], length 100");

	/* Server data crossing 2^32 in absolute terms; SACK relative to ack. */
	sf_tcp_t sdata = {
	        .sport = 80,
	        .dport = 40000,
	        .seq = s_isn + 1,
	        .ack = c_isn + 101,
	        .flags = SF_TCP_ACK | SF_TCP_PSH,
	        .wnd = 509,
	        .payload_len = 500,
	        .opt = {.has_ts = true,
	                .ts_val = 6,
	                .ts_ecr = 5,
	                .sack_cnt = 2,
	                .sack = {{c_isn + 201, c_isn + 301}, {c_isn + 401, c_isn + 501}}}};
	expect_line(&sdata, true, s_isn, c_isn,
	            "192.0.2.2.80 > 192.0.2.1.40000: Flags [P.], seq 1:501, ack 101, win 509, "
	            "options [nop,nop,TS val 6 ecr 5,nop,nop,sack 2 {201:301}{401:501}], length "
	            "500");
	expect_line(&sdata, false, 0, 0,
	            "192.0.2.2.80 > 192.0.2.1.40000: Flags [P.], seq 4294967001:205, ack 1101, win "
	            "509, options [nop,nop,TS val 6 ecr 5,nop,nop,sack 2 {1201:1301}{1401:1501}], "
	            "length 500");

	sf_tcp_t sack1 = {.sport = 40000,
	                  .dport = 80,
	                  .seq = c_isn + 101,
	                  .ack = s_isn + 1,
	                  .flags = SF_TCP_ACK,
	                  .wnd = 501,
	                  .opt = {.sack_cnt = 1, .sack = {{s_isn + 101, s_isn + 201}}}};
	expect_line(&sack1, true, c_isn, s_isn,
	            "192.0.2.1.40000 > 192.0.2.2.80: Flags [.], ack 1, win 501, options "
	            "[nop,nop,sack 1 {101:201}], length 0");

	sf_tcp_t fin = {.sport = 40000,
	                .dport = 80,
	                .seq = c_isn + 101,
	                .ack = s_isn + 501,
	                .flags = SF_TCP_FIN | SF_TCP_ACK,
	                .wnd = 501};
	expect_line(
	        &fin, true, c_isn, s_isn,
	        "192.0.2.1.40000 > 192.0.2.2.80: Flags [F.], seq 101, ack 501, win 501, length 0");

	sf_tcp_t finpsh = fin;
	finpsh.flags |= SF_TCP_PSH;
	finpsh.payload_len = 1;
	expect_line(&finpsh, true, c_isn, s_isn,
	            "192.0.2.1.40000 > 192.0.2.2.80: Flags [FP.], seq 101:102, ack 501, win 501, "
	            "length 1");

	/* tcpdump makes numbers relative only on segments with ACK: a bare RST
	 * is printed absolute (s_isn + 501 wraps to 205). */
	sf_tcp_t rst = {.sport = 80, .dport = 40000, .seq = s_isn + 501, .flags = SF_TCP_RST};
	expect_line(&rst, true, s_isn, c_isn,
	            "192.0.2.2.80 > 192.0.2.1.40000: Flags [R], seq 205, win 0, length 0");
	sf_tcp_t rstack = rst;
	rstack.flags |= SF_TCP_ACK;
	rstack.ack = c_isn + 102;
	expect_line(
	        &rstack, true, s_isn, c_isn,
	        "192.0.2.2.80 > 192.0.2.1.40000: Flags [R.], seq 501, ack 102, win 0, length 0");

	sf_tcp_t urg = {.sport = 40000,
	                .dport = 80,
	                .seq = c_isn + 1,
	                .ack = s_isn + 1,
	                .flags = SF_TCP_PSH | SF_TCP_ACK | SF_TCP_URG,
	                .wnd = 502,
	                .urg = 1,
	                .payload_len = 1};
	expect_line(&urg, true, c_isn, s_isn,
	            "192.0.2.1.40000 > 192.0.2.2.80: Flags [P.U], seq 1:2, ack 1, win 502, urg 1, "
	            "length 1");

	sf_tcp_t noflags = {.sport = 40000, .dport = 80, .seq = 5, .ack = 6};
	expect_line(&noflags, false, 0, 0,
	            "192.0.2.1.40000 > 192.0.2.2.80: Flags [none], win 0, length 0");

	sf_tcp_t all = {.sport = 40000,
	                .dport = 80,
	                .seq = 1000,
	                .ack = 77,
	                .flags = 0xff,
	                .wnd = 1,
	                .urg = 9,
	                .payload_len = 3,
	                .opt = {.sack_perm = true,
	                        .sack_cnt = 4,
	                        .sack = {{1, 2}, {3, 4}, {5, 6}, {7, 8}}}};
	expect_line(
	        &all, false, 0, 0,
	        "192.0.2.1.40000 > 192.0.2.2.80: Flags [FSRP.UEW], seq 1000:1003, ack 77, win 1, "
	        "urg 9, options [nop,nop,sackOK,nop,nop,sack 4 {1:2}{3:4}{5:6}{7:8}], length 3");

	/* SYN without timestamps, as Linux sends it with net.ipv4.tcp_timestamps=0. */
	sf_tcp_t syn_nots = syn;
	syn_nots.opt.has_ts = false;
	expect_line(&syn_nots, false, 0, 0,
	            "192.0.2.1.40000 > 192.0.2.2.80: Flags [S], seq 1000, win 64240, options [mss "
	            "1460,nop,nop,sackOK,nop,wscale 7], length 0");
}

/* snprintf semantics: the full length is returned whatever the capacity. */
static void test_format_truncation(void **state)
{
	(void)state;
	sf_ipv4_t ip = {.src = SRC, .dst = DST};
	sf_tcp_t t = {.sport = 1, .dport = 2, .flags = SF_TCP_RST, .seq = 7};
	const char *want = "192.0.2.1.1 > 192.0.2.2.2: Flags [R], seq 7, win 0, length 0";
	int full = (int)strlen(want);
	assert_int_equal(sf_tcp_format(NULL, 0, &ip, &t, false, 0, 0), full);
	char buf[80];
	for (size_t cap = 1; cap < sizeof buf; cap++) {
		memset(buf, 'x', sizeof buf);
		assert_int_equal(sf_tcp_format(buf, cap, &ip, &t, false, 0, 0), full);
		size_t stored = cap - 1 < (size_t)full ? cap - 1 : (size_t)full;
		assert_int_equal(strlen(buf), stored);
		assert_memory_equal(buf, want, stored);
		assert_int_equal(buf[cap], 'x'); /* nothing written at or past cap */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_linux_syn),
	        cmocka_unit_test(test_round_trip_all_options),
	        cmocka_unit_test(test_round_trip_flags_reserved),
	        cmocka_unit_test(test_emit_layouts),
	        cmocka_unit_test(test_emit_only_flagged_options),
	        cmocka_unit_test(test_emit_padding_zero),
	        cmocka_unit_test(test_emit_errors),
	        cmocka_unit_test(test_emit_payload_in_place),
	        cmocka_unit_test(test_checksum_bit_flips),
	        cmocka_unit_test(test_truncated_header),
	        cmocka_unit_test(test_data_offset),
	        cmocka_unit_test(test_option_length_0_and_1),
	        cmocka_unit_test(test_option_past_header),
	        cmocka_unit_test(test_lone_kind_at_header_end),
	        cmocka_unit_test(test_eol_ends_early),
	        cmocka_unit_test(test_nop_run),
	        cmocka_unit_test(test_unknown_option_skipped),
	        cmocka_unit_test(test_unaligned_options),
	        cmocka_unit_test(test_sack_blocks),
	        cmocka_unit_test(test_known_option_wrong_length),
	        cmocka_unit_test(test_payload_fields),
	        cmocka_unit_test(test_flags_str),
	        cmocka_unit_test(test_format_conversation),
	        cmocka_unit_test(test_format_truncation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
