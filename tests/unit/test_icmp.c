/* Unit tests for the ICMP codec (src/wire/icmp.c): echo round trips (also in
 * place), fragmentation-needed with its MTU and a real IP+TCP quote, time
 * exceeded and other errors, the lenient quote parse and its limits,
 * truncation and checksum failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "synfin/wire.h"

#define SRC 0xc0000201u /* 192.0.2.1 */
#define DST 0xc0000202u /* 192.0.2.2 */

/* Builds the start of a real TCP/IPv4 datagram as a router would quote it:
 * an IP header claiming `total_len` bytes, then a 20-byte TCP header
 * 40000 -> 80, seq 0x01020304, ACK. Returns the bytes written (40). */
static size_t make_datagram(uint8_t *buf, uint16_t total_len)
{
	sf_ipv4_t ip = {.src = SRC,
	                .dst = DST,
	                .proto = SF_IP_PROTO_TCP,
	                .ttl = 63,
	                .id = 0xbeef,
	                .df = true,
	                .dscp = 10,
	                .ecn = 2};
	assert_int_equal(sf_ipv4_emit(&ip, (size_t)total_len - 20, buf, 20), 20);
	uint8_t *t = buf + 20;
	memset(t, 0, 20);
	sf_put16(t, 40000);
	sf_put16(t + 2, 80);
	sf_put32(t + 4, 0x01020304);
	sf_put32(t + 8, 0x0a0b0c0d);
	t[12] = 5 << 4;
	t[13] = SF_TCP_ACK;
	sf_put16(t + 14, 64240);
	uint64_t s = sf_csum_pseudo(SRC, DST, SF_IP_PROTO_TCP, 20);
	sf_put16(t + 16, sf_csum_fold(sf_csum_add(s, t, 20)));
	return 40;
}

static void expect_quote(const sf_icmp_t *m)
{
	assert_true(m->has_quote);
	assert_int_equal(m->q_ip.src, SRC);
	assert_int_equal(m->q_ip.dst, DST);
	assert_int_equal(m->q_ip.proto, SF_IP_PROTO_TCP);
	assert_int_equal(m->q_ip.id, 0xbeef);
	assert_int_equal(m->q_ip.ttl, 63);
	assert_true(m->q_ip.df);
	assert_int_equal(m->q_ip.dscp, 10);
	assert_int_equal(m->q_ip.ecn, 2);
	assert_int_equal(m->q_sport, 40000);
	assert_int_equal(m->q_dport, 80);
	assert_int_equal(m->q_seq, 0x01020304);
}

static void test_echo_round_trip(void **state)
{
	(void)state;
	uint8_t payload[56];
	for (size_t i = 0; i < sizeof payload; i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	uint8_t buf[128];
	const uint8_t types[] = {SF_ICMP_ECHO, SF_ICMP_ECHO_REPLY};
	for (size_t k = 0; k < 2; k++) {
		sf_icmp_t e = {.type = types[k], .id = 0x1234, .seq = 0xfffe, .mtu = 999};
		int n = sf_icmp_emit(&e, payload, sizeof payload, buf, sizeof buf);
		assert_int_equal(n, 8 + 56);
		assert_int_equal(buf[0], types[k]);
		assert_int_equal(buf[1], 0);
		assert_int_equal(sf_be16(buf + 4), 0x1234);
		assert_int_equal(sf_be16(buf + 6), 0xfffe);
		assert_int_equal(sf_csum(buf, (size_t)n), 0);
		assert_memory_equal(buf + 8, payload, sizeof payload);

		sf_icmp_t m;
		assert_int_equal(sf_icmp_parse(buf, (size_t)n, &m), 0);
		assert_int_equal(m.type, types[k]);
		assert_int_equal(m.code, 0);
		assert_int_equal(m.id, 0x1234);
		assert_int_equal(m.seq, 0xfffe);
		assert_int_equal(m.mtu, 0);
		assert_int_equal(m.data_off, 8);
		assert_int_equal(m.data_len, 56);
		assert_memory_equal(buf + m.data_off, payload, m.data_len);
		assert_false(m.has_quote);
	}
	/* An empty echo, data NULL. */
	sf_icmp_t e = {.type = SF_ICMP_ECHO, .id = 1, .seq = 2};
	assert_int_equal(sf_icmp_emit(&e, NULL, 0, buf, 8), 8);
	sf_icmp_t m;
	assert_int_equal(sf_icmp_parse(buf, 8, &m), 0);
	assert_int_equal(m.data_len, 0);
	assert_int_equal(m.seq, 2);
}

static void test_echo_reply_in_place(void **state)
{
	(void)state;
	/* The known "ping" bytes: echo id 1 seq 1, payload "abcd". */
	uint8_t buf[12] = {8, 0, 0, 0, 0, 1, 0, 1, 'a', 'b', 'c', 'd'};
	sf_put16(buf + 2, sf_csum(buf, sizeof buf));
	sf_icmp_t m;
	assert_int_equal(sf_icmp_parse(buf, sizeof buf, &m), 0);
	assert_int_equal(m.type, SF_ICMP_ECHO);
	m.type = SF_ICMP_ECHO_REPLY;
	assert_int_equal(sf_icmp_emit(&m, buf + m.data_off, m.data_len, buf, sizeof buf), 12);
	assert_int_equal(buf[0], 0);
	assert_memory_equal(buf + 8, "abcd", 4);
	assert_int_equal(sf_csum(buf, sizeof buf), 0);
	/* Reply differs from the request only in the type byte, so its checksum
	 * is the request's plus 0x0800 (RFC 1624 arithmetic). */
	uint8_t req[12] = {8, 0, 0, 0, 0, 1, 0, 1, 'a', 'b', 'c', 'd'};
	uint16_t rc = sf_csum(req, sizeof req);
	assert_int_equal(sf_be16(buf + 2), sf_csum_update16(rc, 0x0800, 0x0000));
}

static void test_needfrag_round_trip(void **state)
{
	(void)state;
	uint8_t dgram[40];
	/* The original was 1500 bytes; the router quotes its first 40. */
	assert_int_equal(make_datagram(dgram, 1500), 40);
	uint8_t buf[64];
	sf_icmp_t e = {.type = SF_ICMP_UNREACH,
	               .code = SF_ICMP_UNREACH_NEEDFRAG,
	               .mtu = 1280,
	               .id = 0x7777,
	               .seq = 0x7777};
	int n = sf_icmp_emit(&e, dgram, sizeof dgram, buf, sizeof buf);
	assert_int_equal(n, 48);
	/* RFC 1191 §4: unused(16) then next-hop MTU(16). */
	assert_int_equal(sf_be16(buf + 4), 0);
	assert_int_equal(sf_be16(buf + 6), 1280);
	assert_int_equal(sf_csum(buf, 48), 0);

	sf_icmp_t m;
	assert_int_equal(sf_icmp_parse(buf, (size_t)n, &m), 0);
	assert_int_equal(m.type, SF_ICMP_UNREACH);
	assert_int_equal(m.code, SF_ICMP_UNREACH_NEEDFRAG);
	assert_int_equal(m.mtu, 1280);
	assert_int_equal(m.id, 0);
	assert_int_equal(m.seq, 0);
	assert_int_equal(m.data_off, 8);
	assert_int_equal(m.data_len, 40);
	expect_quote(&m);
	/* Lenient: total length as claimed, though only 40 bytes were quoted. */
	assert_int_equal(m.q_ip.total_len, 1500);
	assert_int_equal(m.q_ip.hdr_len, 20);
}

static void test_other_unreachables(void **state)
{
	(void)state;
	uint8_t dgram[40], buf[64];
	make_datagram(dgram, 40);
	for (uint8_t code = 0; code <= SF_ICMP_UNREACH_SRCFAIL; code++) {
		sf_icmp_t e = {.type = SF_ICMP_UNREACH, .code = code, .mtu = 1280};
		int n = sf_icmp_emit(&e, dgram, 28, buf, sizeof buf); /* minimal quote */
		assert_int_equal(n, 36);
		if (code != SF_ICMP_UNREACH_NEEDFRAG)
			assert_int_equal(sf_be32(buf + 4), 0); /* mtu only for code 4 */
		sf_icmp_t m;
		assert_int_equal(sf_icmp_parse(buf, (size_t)n, &m), 0);
		assert_int_equal(m.code, code);
		assert_int_equal(m.mtu, code == SF_ICMP_UNREACH_NEEDFRAG ? 1280 : 0);
		expect_quote(&m);
	}
	/* A port unreachable whose unused field a sender filled anyway: no MTU. */
	sf_icmp_t e = {.type = SF_ICMP_UNREACH, .code = SF_ICMP_UNREACH_PORT};
	int n = sf_icmp_emit(&e, dgram, 28, buf, sizeof buf);
	sf_put16(buf + 6, 576);
	sf_put16(buf + 2, 0);
	sf_put16(buf + 2, sf_csum(buf, (size_t)n));
	sf_icmp_t m;
	assert_int_equal(sf_icmp_parse(buf, (size_t)n, &m), 0);
	assert_int_equal(m.mtu, 0);
}

static void test_time_exceeded_and_others(void **state)
{
	(void)state;
	uint8_t dgram[40], buf[64];
	make_datagram(dgram, 40);
	const uint8_t types[] = {SF_ICMP_TIME_EXCEEDED, SF_ICMP_SOURCE_QUENCH,
	                         SF_ICMP_PARAM_PROBLEM};
	for (size_t k = 0; k < sizeof types; k++) {
		sf_icmp_t e = {.type = types[k], .code = 0, .id = 5, .seq = 6, .mtu = 7};
		int n = sf_icmp_emit(&e, dgram, sizeof dgram, buf, sizeof buf);
		assert_int_equal(n, 48);
		assert_int_equal(sf_be32(buf + 4), 0);
		sf_icmp_t m;
		assert_int_equal(sf_icmp_parse(buf, (size_t)n, &m), 0);
		assert_int_equal(m.type, types[k]);
		assert_int_equal(m.mtu, 0);
		assert_int_equal(m.id, 0);
		expect_quote(&m);
		assert_int_equal(m.q_ip.total_len, 40);
	}
	/* Time exceeded in reassembly (code 1) quotes too. */
	sf_icmp_t e = {.type = SF_ICMP_TIME_EXCEEDED, .code = 1};
	int n = sf_icmp_emit(&e, dgram, sizeof dgram, buf, sizeof buf);
	sf_icmp_t m;
	assert_int_equal(sf_icmp_parse(buf, (size_t)n, &m), 0);
	assert_int_equal(m.code, 1);
	expect_quote(&m);
}

/* Emits a time-exceeded message quoting q[0..qlen) and parses it back. */
static sf_icmp_t parse_with_quote(const uint8_t *q, size_t qlen)
{
	uint8_t buf[128];
	sf_icmp_t e = {.type = SF_ICMP_TIME_EXCEEDED};
	int n = sf_icmp_emit(&e, q, qlen, buf, sizeof buf);
	assert_int_equal(n, 8 + (int)qlen);
	sf_icmp_t m;
	assert_int_equal(sf_icmp_parse(buf, (size_t)n, &m), 0);
	assert_int_equal(m.data_len, qlen);
	return m;
}

static void test_quote_limits(void **state)
{
	(void)state;
	uint8_t dgram[40];
	make_datagram(dgram, 1000);
	/* The minimum is the IP header plus 8 payload bytes. */
	for (size_t qlen = 0; qlen < 28; qlen++)
		assert_false(parse_with_quote(dgram, qlen).has_quote);
	sf_icmp_t m = parse_with_quote(dgram, 28);
	expect_quote(&m);

	/* The quoted header's checksum is not verified (a router may quote it
	 * after changing the TTL). */
	uint8_t q[40];
	memcpy(q, dgram, sizeof q);
	q[8] = 1;
	m = parse_with_quote(q, sizeof q);
	assert_true(m.has_quote);
	assert_int_equal(m.q_ip.ttl, 1);

	/* Not IPv4, or IHL < 5: no quote, but the message still parses. */
	memcpy(q, dgram, sizeof q);
	q[0] = 0x65;
	assert_false(parse_with_quote(q, sizeof q).has_quote);
	q[0] = 0x44;
	assert_false(parse_with_quote(q, sizeof q).has_quote);

	/* A quoted header with options: ports read after the options, and the
	 * 8 bytes must follow the whole header. */
	uint8_t o[48];
	memcpy(o, dgram, 20);
	o[0] = 0x47;
	memset(o + 20, 0x01, 8);
	memcpy(o + 28, dgram + 20, 20);
	m = parse_with_quote(o, sizeof o);
	assert_true(m.has_quote);
	assert_int_equal(m.q_ip.hdr_len, 28);
	assert_int_equal(m.q_sport, 40000);
	assert_int_equal(m.q_dport, 80);
	assert_int_equal(m.q_seq, 0x01020304);
	assert_false(parse_with_quote(o, 35).has_quote);
	assert_true(parse_with_quote(o, 36).has_quote);
	/* IHL 15 claims 60 bytes of header: more than was quoted. */
	o[0] = 0x4f;
	assert_false(parse_with_quote(o, sizeof o).has_quote);

	/* Echo payloads are never taken for quotes. */
	uint8_t buf[64];
	sf_icmp_t e = {.type = SF_ICMP_ECHO, .id = 1, .seq = 1};
	int n = sf_icmp_emit(&e, dgram, sizeof dgram, buf, sizeof buf);
	assert_int_equal(sf_icmp_parse(buf, (size_t)n, &m), 0);
	assert_false(m.has_quote);
}

static void test_truncated(void **state)
{
	(void)state;
	uint8_t buf[8] = {0};
	sf_icmp_t m;
	for (size_t len = 0; len < 8; len++)
		assert_int_equal(sf_icmp_parse(buf, len, &m), SF_ETRUNCATED);
}

static void test_bad_checksum(void **state)
{
	(void)state;
	uint8_t dgram[40], buf[48];
	make_datagram(dgram, 40);
	sf_icmp_t e = {.type = SF_ICMP_UNREACH, .code = SF_ICMP_UNREACH_NEEDFRAG, .mtu = 1400};
	assert_int_equal(sf_icmp_emit(&e, dgram, sizeof dgram, buf, sizeof buf), 48);
	sf_icmp_t m;
	/* Any single-bit error anywhere, header or quote, is caught. */
	for (size_t bit = 0; bit < 48 * 8; bit++) {
		buf[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		assert_int_equal(sf_icmp_parse(buf, sizeof buf, &m), SF_ECHECKSUM);
		buf[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
	}
	assert_int_equal(sf_icmp_parse(buf, sizeof buf, &m), 0);
}

static void test_emit_errors(void **state)
{
	(void)state;
	uint8_t data[16] = {0}, buf[24];
	sf_icmp_t e = {.type = SF_ICMP_ECHO};
	assert_int_equal(sf_icmp_emit(&e, data, 16, buf, 23), SF_ENOBUFS);
	assert_int_equal(sf_icmp_emit(&e, NULL, 0, buf, 7), SF_ENOBUFS);
	assert_int_equal(sf_icmp_emit(&e, data, 16, buf, 24), 24);
	/* Odd-length data is padded for the checksum, not on the wire. */
	assert_int_equal(sf_icmp_emit(&e, data, 3, buf, 24), 11);
	assert_int_equal(sf_csum(buf, 11), 0);
	sf_icmp_t m;
	assert_int_equal(sf_icmp_parse(buf, 11, &m), 0);
	assert_int_equal(m.data_len, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_echo_round_trip),
	        cmocka_unit_test(test_echo_reply_in_place),
	        cmocka_unit_test(test_needfrag_round_trip),
	        cmocka_unit_test(test_other_unreachables),
	        cmocka_unit_test(test_time_exceeded_and_others),
	        cmocka_unit_test(test_quote_limits),
	        cmocka_unit_test(test_truncated),
	        cmocka_unit_test(test_bad_checksum),
	        cmocka_unit_test(test_emit_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
