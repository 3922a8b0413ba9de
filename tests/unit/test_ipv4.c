/* Unit tests for the IPv4 codec and address helpers (src/wire/ipv4.c):
 * emit/parse round trips of every field, each malformed and truncated form,
 * checksum failures, link padding, skipped options, fragment flags, and the
 * special-address, dotted-quad parse and print helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "synfin/wire.h"

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t next_rand(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* Recomputes the header checksum of buf after a test edited the header. */
static void fix_checksum(uint8_t *buf)
{
	size_t hl = (size_t)(buf[0] & 0x0f) * 4;
	sf_put16(buf + 10, 0);
	sf_put16(buf + 10, sf_csum(buf, hl));
}

/* A valid 20-byte header for a `payload_len`-byte payload into buf. */
static void make_header(uint8_t *buf, size_t payload_len)
{
	sf_ipv4_t ip = {.src = 0xc0000201,
	                .dst = 0xc0000202,
	                .proto = SF_IP_PROTO_TCP,
	                .ttl = 64,
	                .id = 0x1234,
	                .df = true};
	assert_int_equal(sf_ipv4_emit(&ip, payload_len, buf, 20), 20);
}

static void test_known_header_bytes(void **state)
{
	(void)state;
	/* The classic example header: checksum b861. */
	const uint8_t want[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	                        0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	sf_ipv4_t ip = {.src = 0xc0a80001, .dst = 0xc0a800c7, .proto = 17, .ttl = 64, .df = true};
	uint8_t buf[20];
	assert_int_equal(sf_ipv4_emit(&ip, 0x73 - 20, buf, sizeof buf), 20);
	assert_memory_equal(buf, want, sizeof want);

	uint8_t pkt[0x73] = {0};
	memcpy(pkt, want, sizeof want);
	sf_ipv4_t p;
	assert_int_equal(sf_ipv4_parse(pkt, sizeof pkt, &p), 0);
	assert_int_equal(p.src, 0xc0a80001);
	assert_int_equal(p.dst, 0xc0a800c7);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.ttl, 64);
	assert_true(p.df);
	assert_false(p.mf);
	assert_int_equal(p.frag_off, 0);
	assert_int_equal(p.hdr_len, 20);
	assert_int_equal(p.total_len, 0x73);
	assert_false(sf_ipv4_is_fragment(&p));
}

static void test_round_trip_every_field(void **state)
{
	(void)state;
	static uint8_t buf[65535];
	for (int round = 0; round < 5000; round++) {
		sf_ipv4_t ip = {
		        .src = (uint32_t)next_rand(),
		        .dst = (uint32_t)next_rand(),
		        .proto = (uint8_t)next_rand(),
		        .ttl = (uint8_t)next_rand(),
		        .dscp = (uint8_t)(next_rand() % 64),
		        .ecn = (uint8_t)(next_rand() % 4),
		        .id = (uint16_t)next_rand(),
		        .df = next_rand() % 2,
		        .mf = next_rand() % 2,
		        .frag_off = (uint16_t)((next_rand() % 8192) * 8),
		        .hdr_len = 99,  /* ignored by emit */
		        .total_len = 7, /* ignored by emit */
		};
		size_t payload_len = next_rand() % 1500;
		if (round == 0) { /* every field at its maximum */
			ip.src = ip.dst = 0xffffffff;
			ip.proto = ip.ttl = 255;
			ip.dscp = 63;
			ip.ecn = 3;
			ip.id = 0xffff;
			ip.df = ip.mf = true;
			ip.frag_off = 8191 * 8;
			payload_len = 65535 - 20;
		}
		assert_int_equal(sf_ipv4_emit(&ip, payload_len, buf, 20), 20);
		assert_int_equal(sf_csum(buf, 20), 0);
		sf_ipv4_t p;
		memset(&p, 0xee, sizeof p);
		assert_int_equal(sf_ipv4_parse(buf, 20 + payload_len, &p), 0);
		assert_int_equal(p.src, ip.src);
		assert_int_equal(p.dst, ip.dst);
		assert_int_equal(p.proto, ip.proto);
		assert_int_equal(p.ttl, ip.ttl);
		assert_int_equal(p.dscp, ip.dscp);
		assert_int_equal(p.ecn, ip.ecn);
		assert_int_equal(p.id, ip.id);
		assert_int_equal(p.df, ip.df);
		assert_int_equal(p.mf, ip.mf);
		assert_int_equal(p.frag_off, ip.frag_off);
		assert_int_equal(p.hdr_len, 20);
		assert_int_equal(p.total_len, 20 + payload_len);
		/* The wire form: tos = dscp << 2 | ecn, flags and offset in word 3. */
		assert_int_equal(buf[0], 0x45);
		assert_int_equal(buf[1], ip.dscp << 2 | ip.ecn);
		assert_int_equal(sf_be16(buf + 6),
		                 (ip.df ? 0x4000 : 0) | (ip.mf ? 0x2000 : 0) | ip.frag_off / 8);
	}
}

static void test_emit_errors(void **state)
{
	(void)state;
	uint8_t buf[20];
	sf_ipv4_t ip = {.src = 1, .dst = 2, .proto = 6, .ttl = 64};
	assert_int_equal(sf_ipv4_emit(&ip, 0, buf, 19), SF_ENOBUFS);
	assert_int_equal(sf_ipv4_emit(&ip, 0, buf, 0), SF_ENOBUFS);
	assert_int_equal(sf_ipv4_emit(&ip, 65535 - 20 + 1, buf, 20), SF_EINVAL);
	assert_int_equal(sf_ipv4_emit(&ip, 65535 - 20, buf, 20), 20);
	assert_int_equal(sf_be16(buf + 2), 65535);
	ip.frag_off = 12; /* not a multiple of 8 */
	assert_int_equal(sf_ipv4_emit(&ip, 0, buf, 20), SF_EINVAL);
	ip.frag_off = 0;
	ip.dscp = 64;
	assert_int_equal(sf_ipv4_emit(&ip, 0, buf, 20), SF_EINVAL);
	ip.dscp = 0;
	ip.ecn = 4;
	assert_int_equal(sf_ipv4_emit(&ip, 0, buf, 20), SF_EINVAL);
}

static void test_short_input_truncated(void **state)
{
	(void)state;
	uint8_t buf[20];
	make_header(buf, 0);
	sf_ipv4_t p;
	for (size_t len = 0; len < 20; len++)
		assert_int_equal(sf_ipv4_parse(buf, len, &p), SF_ETRUNCATED);
	assert_int_equal(sf_ipv4_parse(buf, 20, &p), 0);
}

static void test_bad_version_malformed(void **state)
{
	(void)state;
	uint8_t buf[40];
	make_header(buf, 20);
	sf_ipv4_t p;
	for (int v = 0; v < 16; v++) {
		if (v == 4)
			continue;
		buf[0] = (uint8_t)(v << 4 | 5);
		fix_checksum(buf);
		assert_int_equal(sf_ipv4_parse(buf, sizeof buf, &p), SF_EMALFORMED);
	}
}

static void test_small_ihl_malformed(void **state)
{
	(void)state;
	uint8_t buf[40];
	sf_ipv4_t p;
	for (int ihl = 0; ihl < 5; ihl++) {
		make_header(buf, 20);
		buf[0] = (uint8_t)(0x40 | ihl);
		/* Whatever the checksum says, IHL < 5 is malformed. */
		assert_int_equal(sf_ipv4_parse(buf, sizeof buf, &p), SF_EMALFORMED);
	}
}

static void test_ihl_past_input_truncated(void **state)
{
	(void)state;
	uint8_t buf[60];
	sf_ipv4_t p;
	for (int ihl = 6; ihl <= 15; ihl++) {
		memset(buf, 0x01, sizeof buf); /* NOP options */
		make_header(buf, 40);
		buf[0] = (uint8_t)(0x40 | ihl);
		fix_checksum(buf);
		assert_int_equal(sf_ipv4_parse(buf, (size_t)ihl * 4 - 1, &p), SF_ETRUNCATED);
		assert_int_equal(sf_ipv4_parse(buf, 20, &p), SF_ETRUNCATED);
	}
}

static void test_total_len_checks(void **state)
{
	(void)state;
	uint8_t buf[64];
	sf_ipv4_t p;
	/* total_len below the header length: malformed. */
	for (unsigned tl = 0; tl < 20; tl++) {
		make_header(buf, 0);
		sf_put16(buf + 2, (uint16_t)tl);
		fix_checksum(buf);
		assert_int_equal(sf_ipv4_parse(buf, sizeof buf, &p), SF_EMALFORMED);
	}
	/* With options, total_len must cover them too. */
	memset(buf, 0x01, sizeof buf);
	make_header(buf, 0);
	buf[0] = 0x46;
	sf_put16(buf + 2, 22);
	fix_checksum(buf);
	assert_int_equal(sf_ipv4_parse(buf, sizeof buf, &p), SF_EMALFORMED);
	sf_put16(buf + 2, 24);
	fix_checksum(buf);
	assert_int_equal(sf_ipv4_parse(buf, sizeof buf, &p), 0);
	assert_int_equal(p.total_len, 24);
	/* total_len beyond the input: truncated (the datagram was cut). */
	make_header(buf, 44);
	assert_int_equal(sf_ipv4_parse(buf, 63, &p), SF_ETRUNCATED);
	assert_int_equal(sf_ipv4_parse(buf, 64, &p), 0);
	assert_int_equal(p.total_len, 64);
}

static void test_trailing_padding_ignored(void **state)
{
	(void)state;
	/* An Ethernet minimum frame pads a 40-byte datagram to 46 bytes. */
	uint8_t buf[46];
	memset(buf, 0xcc, sizeof buf);
	make_header(buf, 20);
	sf_ipv4_t p;
	assert_int_equal(sf_ipv4_parse(buf, sizeof buf, &p), 0);
	assert_int_equal(p.total_len, 40);
	assert_int_equal(p.hdr_len, 20);
}

static void test_bad_checksum(void **state)
{
	(void)state;
	uint8_t buf[40] = {0};
	make_header(buf, 20);
	sf_ipv4_t p;
	assert_int_equal(sf_ipv4_parse(buf, sizeof buf, &p), 0);
	/* Any single-bit error past the version/IHL byte fails the checksum. */
	for (size_t bit = 8; bit < 160; bit++) {
		buf[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		assert_int_equal(sf_ipv4_parse(buf, sizeof buf, &p), SF_ECHECKSUM);
		buf[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
	}
	/* A checksum error inside the options is caught as well. */
	uint8_t opt[44] = {0};
	make_header(opt, 24);
	opt[0] = 0x46;
	sf_put16(opt + 2, 44);
	memset(opt + 20, 0x01, 4);
	fix_checksum(opt);
	assert_int_equal(sf_ipv4_parse(opt, sizeof opt, &p), 0);
	opt[22] = 0x00;
	assert_int_equal(sf_ipv4_parse(opt, sizeof opt, &p), SF_ECHECKSUM);
	/* Payload bytes are not covered (RFC 791: header only). */
	opt[22] = 0x01;
	opt[30] ^= 0xff;
	assert_int_equal(sf_ipv4_parse(opt, sizeof opt, &p), 0);
}

static void test_options_skipped(void **state)
{
	(void)state;
	uint8_t buf[60 + 8];
	sf_ipv4_t p;
	for (int ihl = 6; ihl <= 15; ihl++) {
		size_t hl = (size_t)ihl * 4;
		sf_ipv4_t ip = {
		        .src = 0x0a000001, .dst = 0x0a000002, .proto = 6, .ttl = 7, .id = 9};
		assert_int_equal(sf_ipv4_emit(&ip, 0, buf, 20), 20);
		/* Options the parser must not interpret: record route, garbage. */
		for (size_t i = 20; i < hl; i++)
			buf[i] = (uint8_t)next_rand();
		buf[20] = 7; /* RR */
		buf[0] = (uint8_t)(0x40 | ihl);
		sf_put16(buf + 2, (uint16_t)(hl + 8));
		memset(buf + hl, 0xab, 8);
		fix_checksum(buf);
		assert_int_equal(sf_ipv4_parse(buf, hl + 8, &p), 0);
		assert_int_equal(p.hdr_len, hl);
		assert_int_equal(p.total_len, hl + 8);
		assert_int_equal(p.src, 0x0a000001);
		assert_int_equal(p.dst, 0x0a000002);
		assert_int_equal(p.proto, 6);
		assert_int_equal(p.ttl, 7);
		assert_int_equal(p.id, 9);
	}
}

static void test_fragments_recognised(void **state)
{
	(void)state;
	uint8_t buf[28];
	sf_ipv4_t p;
	struct {
		bool df, mf;
		uint16_t off;
		bool frag;
	} cases[] = {
	        {false, false, 0, false},    {true, false, 0, false},    {false, true, 0, true},
	        {false, true, 1480, true},   {false, false, 1480, true}, {false, false, 8, true},
	        {false, false, 65528, true},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sf_ipv4_t ip = {.src = 1,
		                .dst = 2,
		                .proto = 6,
		                .ttl = 1,
		                .id = 77,
		                .df = cases[i].df,
		                .mf = cases[i].mf,
		                .frag_off = cases[i].off};
		assert_int_equal(sf_ipv4_emit(&ip, 8, buf, sizeof buf), 20);
		assert_int_equal(sf_ipv4_parse(buf, sizeof buf, &p), 0);
		assert_int_equal(p.mf, cases[i].mf);
		assert_int_equal(p.df, cases[i].df);
		assert_int_equal(p.frag_off, cases[i].off);
		assert_int_equal(sf_ipv4_is_fragment(&p), cases[i].frag);
	}
	/* Hand-made: MF with offset 185 (1480 bytes), as on the wire. */
	make_header(buf, 8);
	sf_put16(buf + 6, 0x2000 | 185);
	fix_checksum(buf);
	assert_int_equal(sf_ipv4_parse(buf, sizeof buf, &p), 0);
	assert_true(p.mf);
	assert_false(p.df);
	assert_int_equal(p.frag_off, 1480);
	/* The reserved flag bit is ignored, not mistaken for DF or MF. */
	sf_put16(buf + 6, 0x8000);
	fix_checksum(buf);
	assert_int_equal(sf_ipv4_parse(buf, sizeof buf, &p), 0);
	assert_false(p.df);
	assert_false(p.mf);
	assert_false(sf_ipv4_is_fragment(&p));
}

static uint32_t addr(const char *s)
{
	uint32_t a = 0;
	assert_int_equal(sf_ipv4_addr_parse(s, &a), 0);
	return a;
}

static void test_addr_parse_and_str(void **state)
{
	(void)state;
	assert_int_equal(addr("192.0.2.1"), 0xc0000201);
	assert_int_equal(addr("0.0.0.0"), 0);
	assert_int_equal(addr("255.255.255.255"), 0xffffffff);
	assert_int_equal(addr("10.0.0.255"), 0x0a0000ff);
	assert_int_equal(addr("1.22.133.4"), 0x01168504);

	const char *bad[] = {"1.2.3",    "256.1.1.1", "1.2.3.4x",  "",         "1.2.3.4.",
	                     ".1.2.3.4", "1..2.3",    "1.2.3.256", "01.2.3.4", "1.2.3.00",
	                     " 1.2.3.4", "1.2.3.4 ",  "1.2.3.-4",  "1.2.3.+4", "1234.1.1.1",
	                     "a.b.c.d",  "1.2.3.4.5", "0x1.2.3.4", "1,2,3,4",  "999.0.0.0"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint32_t a = 0x5a5a5a5a;
		if (sf_ipv4_addr_parse(bad[i], &a) != SF_EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(a, 0x5a5a5a5a); /* untouched on failure */
	}
	uint32_t a;
	assert_int_equal(sf_ipv4_addr_parse(NULL, &a), SF_EINVAL);

	char buf[16];
	assert_string_equal(sf_ipv4_addr_str(0xc0000201, buf), "192.0.2.1");
	assert_string_equal(sf_ipv4_addr_str(0, buf), "0.0.0.0");
	assert_string_equal(sf_ipv4_addr_str(0xffffffff, buf), "255.255.255.255");
	assert_string_equal(sf_ipv4_addr_str(0x0a64090a, buf), "10.100.9.10");
	assert_ptr_equal(sf_ipv4_addr_str(1, buf), buf);
	for (int i = 0; i < 10000; i++) {
		uint32_t v = (uint32_t)next_rand(), back = 0;
		sf_ipv4_addr_str(v, buf);
		assert_true(strlen(buf) <= 15);
		assert_int_equal(sf_ipv4_addr_parse(buf, &back), 0);
		assert_int_equal(back, v);
	}
}

static void test_addr_is_special(void **state)
{
	(void)state;
	uint32_t local = addr("192.0.2.1");
	struct {
		const char *a;
		int prefix;
		bool special;
	} cases[] = {
	        {"0.0.0.0", 24, true},         /* this host */
	        {"0.1.2.3", 32, true},         /* host on this network */
	        {"255.255.255.255", 32, true}, /* limited broadcast */
	        {"192.0.2.255", 24, true},     /* directed broadcast */
	        {"192.0.2.0", 24, true},       /* 4.2BSD all-zeros broadcast */
	        {"192.0.2.2", 24, false},      /* a neighbour */
	        {"192.0.2.254", 24, false},
	        {"192.0.3.255", 24, false}, /* someone else's subnet */
	        {"192.0.2.255", 32, false}, /* /32: no directed test */
	        {"192.0.2.255", 16, false}, /* an ordinary host in a /16 */
	        {"192.0.255.255", 16, true},
	        {"192.0.2.127", 25, true},
	        {"192.0.2.128", 25, false},
	        {"192.0.2.0", 31, false}, /* RFC 3021 */
	        {"192.0.2.1", 31, false},
	        {"192.0.2.3", 30, true},
	        {"224.0.0.1", 24, true}, /* multicast */
	        {"239.255.255.255", 24, true},
	        {"240.0.0.1", 24, true}, /* class E */
	        {"127.0.0.1", 24, true}, /* loopback (RFC 1122 §3.2.1.3(g)) */
	        {"127.255.255.254", 32, true},
	        {"223.255.255.255", 32, false}, /* last unicast */
	        {"1.0.0.0", 32, false},
	        {"128.0.0.1", 8, false},
	        {"8.8.8.8", 24, false},
	        {"8.8.8.8", 0, false},      /* /0: only all-ones/zeros broadcast */
	        {"192.0.2.255", -1, false}, /* out-of-range prefix: no test */
	        {"192.0.2.255", 33, false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bool got = sf_ipv4_addr_is_special(addr(cases[i].a), local, cases[i].prefix);
		if (got != cases[i].special)
			fail_msg("%s/%d: got %d", cases[i].a, cases[i].prefix, got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_known_header_bytes),
	        cmocka_unit_test(test_round_trip_every_field),
	        cmocka_unit_test(test_emit_errors),
	        cmocka_unit_test(test_short_input_truncated),
	        cmocka_unit_test(test_bad_version_malformed),
	        cmocka_unit_test(test_small_ihl_malformed),
	        cmocka_unit_test(test_ihl_past_input_truncated),
	        cmocka_unit_test(test_total_len_checks),
	        cmocka_unit_test(test_trailing_padding_ignored),
	        cmocka_unit_test(test_bad_checksum),
	        cmocka_unit_test(test_options_skipped),
	        cmocka_unit_test(test_fragments_recognised),
	        cmocka_unit_test(test_addr_parse_and_str),
	        cmocka_unit_test(test_addr_is_special),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
