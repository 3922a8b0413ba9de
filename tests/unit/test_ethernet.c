/* Unit tests for the Ethernet II and ARP codecs (src/wire/ethernet.c): round
 * trips, the exact bytes of an ARP request (RFC 826 packet format),
 * truncation at every length, every field that makes an ARP packet not ours
 * (hardware type, protocol type, address lengths, opcode), padding ignored,
 * and inputs placed against the end of an allocation so a read past `len`
 * shows under ASan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "synfin/wire.h"

static const uint8_t MAC_A[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
static const uint8_t MAC_B[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};

/* A copy of buf[0..len) at the very end of a heap block. */
static uint8_t *at_end(const uint8_t *buf, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	assert_non_null(p);
	memcpy(p, buf, len);
	return p;
}

static void test_ether_round_trip(void **state)
{
	(void)state;
	sf_ether_t h = {.type = SF_ETHERTYPE_ARP}, g;
	memcpy(h.dst, MAC_A, 6);
	memcpy(h.src, MAC_B, 6);
	uint8_t buf[SF_ETH_HDR_LEN];
	assert_int_equal(sf_ether_emit(&h, buf, sizeof buf), SF_ETH_HDR_LEN);
	assert_memory_equal(buf, MAC_A, 6);
	assert_memory_equal(buf + 6, MAC_B, 6);
	assert_int_equal(buf[12], 0x08);
	assert_int_equal(buf[13], 0x06);
	assert_int_equal(sf_ether_parse(buf, sizeof buf, &g), 0);
	assert_memory_equal(&g.dst, MAC_A, 6);
	assert_memory_equal(&g.src, MAC_B, 6);
	assert_int_equal(g.type, SF_ETHERTYPE_ARP);
	assert_int_equal(sf_ether_emit(&h, buf, 13), SF_ENOBUFS);
}

static void test_ether_truncated(void **state)
{
	(void)state;
	uint8_t buf[SF_ETH_HDR_LEN] = {0};
	for (size_t n = 0; n < SF_ETH_HDR_LEN; n++) {
		uint8_t *p = at_end(buf, n);
		sf_ether_t h;
		assert_int_equal(sf_ether_parse(p, n, &h), SF_ETRUNCATED);
		free(p);
	}
}

static void test_group_and_broadcast(void **state)
{
	(void)state;
	const uint8_t bc[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	const uint8_t mc[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
	assert_true(sf_ether_is_group(bc));
	assert_true(sf_ether_is_broadcast(bc));
	assert_true(sf_ether_is_group(mc));
	assert_false(sf_ether_is_broadcast(mc));
	assert_false(sf_ether_is_group(MAC_A));
	assert_false(sf_ether_is_broadcast(MAC_A));
}

/* An ARP request "who has 192.0.2.1? tell 192.0.2.2", byte by byte. */
static const uint8_t REQUEST[SF_ARP_LEN] = {
        0x00, 0x01, 0x08, 0x00, 6,    4,    0x00, 0x01, /* hrd, pro, hln, pln, op */
        0x02, 0x11, 0x22, 0x33, 0x44, 0x55,             /* sha */
        192,  0,    2,    2,                            /* spa */
        0,    0,    0,    0,    0,    0,                /* tha */
        192,  0,    2,    1,                            /* tpa */
};

static void test_arp_emit_bytes(void **state)
{
	(void)state;
	sf_arp_t a = {.op = SF_ARP_REQUEST, .spa = 0xc0000202u, .tpa = 0xc0000201u};
	memcpy(a.sha, MAC_A, 6);
	uint8_t buf[SF_ARP_LEN];
	assert_int_equal(sf_arp_emit(&a, buf, sizeof buf), SF_ARP_LEN);
	assert_memory_equal(buf, REQUEST, SF_ARP_LEN);
	assert_int_equal(sf_arp_emit(&a, buf, SF_ARP_LEN - 1), SF_ENOBUFS);
}

static void test_arp_parse(void **state)
{
	(void)state;
	uint8_t *p = at_end(REQUEST, SF_ARP_LEN);
	sf_arp_t a;
	assert_int_equal(sf_arp_parse(p, SF_ARP_LEN, &a), 0);
	assert_int_equal(a.op, SF_ARP_REQUEST);
	assert_memory_equal(a.sha, MAC_A, 6);
	assert_int_equal(a.spa, 0xc0000202u);
	assert_int_equal(a.tpa, 0xc0000201u);
	free(p);
	/* a reply round trip, and padding after the packet ignored */
	sf_arp_t r = {.op = SF_ARP_REPLY, .spa = 0x0a000001u, .tpa = 0x0a000002u}, q;
	memcpy(r.sha, MAC_B, 6);
	memcpy(r.tha, MAC_A, 6);
	uint8_t buf[46] = {0};
	memset(buf, 0xee, sizeof buf);
	assert_int_equal(sf_arp_emit(&r, buf, sizeof buf), SF_ARP_LEN);
	assert_int_equal(sf_arp_parse(buf, sizeof buf, &q), 0);
	assert_int_equal(q.op, SF_ARP_REPLY);
	assert_memory_equal(q.sha, MAC_B, 6);
	assert_memory_equal(q.tha, MAC_A, 6);
	assert_int_equal(q.spa, r.spa);
	assert_int_equal(q.tpa, r.tpa);
}

static void test_arp_truncated(void **state)
{
	(void)state;
	for (size_t n = 0; n < SF_ARP_LEN; n++) {
		uint8_t *p = at_end(REQUEST, n);
		sf_arp_t a;
		assert_int_equal(sf_arp_parse(p, n, &a), SF_ETRUNCATED);
		free(p);
	}
}

static void test_arp_not_ours(void **state)
{
	(void)state;
	/* byte offset, bad value: hardware type 6 (IEEE 802), protocol IPv6,
	 * hardware length 8, protocol length 16, opcodes 0, 3 (RARP) */
	const struct {
		size_t off;
		uint8_t val;
	} cases[] = {{1, 6}, {2, 0x86}, {4, 8}, {5, 16}, {7, 0}, {7, 3}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t buf[SF_ARP_LEN];
		memcpy(buf, REQUEST, sizeof buf);
		buf[cases[i].off] = cases[i].val;
		sf_arp_t a;
		assert_int_equal(sf_arp_parse(buf, sizeof buf, &a), SF_EMALFORMED);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_ether_round_trip),    cmocka_unit_test(test_ether_truncated),
	        cmocka_unit_test(test_group_and_broadcast), cmocka_unit_test(test_arp_emit_bytes),
	        cmocka_unit_test(test_arp_parse),           cmocka_unit_test(test_arp_truncated),
	        cmocka_unit_test(test_arp_not_ours),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
