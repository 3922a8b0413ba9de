/* Fuzz target for the Ethernet/ARP link layer (src/core/eth.c) and its codecs
 * (src/wire/ethernet.c).
 *
 * Input: frames for one interface, each as a 2-byte big-endian length and
 * the frame's bytes (a length past the input takes what is left); between
 * frames the clock moves on by the first byte's value in 10 ms steps and
 * the interface is polled, so cache timeouts, retries and announcements run
 * too. A client socket connects to an address the frames may resolve.
 * Oracles, each abort()s:
 *  - every frame the interface sends is at least 60 bytes, comes from our
 *    MAC, is IPv4 or ARP, and an ARP one parses back with our addresses as
 *    sender (a reply to a probe included);
 *  - the ARP codec round-trips what it accepts;
 *  - after destroy every allocation is returned (counting allocator).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "synfin/eth.h"

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

static const uint8_t US_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};
#define US_ADDR 0xC0000202u

static long live_allocs;

static void *f_alloc(void *ctx, size_t n)
{
	(void)ctx;
	void *p = malloc(n);
	if (p)
		live_allocs++;
	return p;
}

static void f_free(void *ctx, void *p, size_t n)
{
	(void)ctx;
	(void)n;
	if (p)
		live_allocs--;
	free(p);
}

static int check_tx(void *ctx, const uint8_t *f, size_t len, int64_t now_us)
{
	(void)ctx;
	(void)now_us;
	sf_ether_t h;
	CHECK(len >= SF_ETH_MIN_FRAME && len <= 1500 + SF_ETH_HDR_LEN);
	CHECK(sf_ether_parse(f, len, &h) == 0);
	CHECK(memcmp(h.src, US_MAC, 6) == 0);
	CHECK(h.type == SF_ETHERTYPE_IPV4 || h.type == SF_ETHERTYPE_ARP);
	if (h.type == SF_ETHERTYPE_ARP) {
		sf_arp_t a;
		CHECK(sf_arp_parse(f + SF_ETH_HDR_LEN, len - SF_ETH_HDR_LEN, &a) == 0);
		CHECK(memcmp(a.sha, US_MAC, 6) == 0 && a.spa == US_ADDR);
		CHECK(!sf_ether_is_group(h.dst) || a.op == SF_ARP_REQUEST);
	}
	return 0;
}

static void check_arp_codec(const uint8_t *p, size_t len)
{
	sf_arp_t a, b;
	if (sf_arp_parse(p, len, &a) < 0)
		return;
	uint8_t out[SF_ARP_LEN];
	CHECK(sf_arp_emit(&a, out, sizeof out) == SF_ARP_LEN);
	CHECK(memcmp(out, p, SF_ARP_LEN) == 0);
	CHECK(sf_arp_parse(out, sizeof out, &b) == 0);
	CHECK(a.op == b.op && a.spa == b.spa && a.tpa == b.tpa);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	sf_config_t c;
	sf_config_default(&c);
	c.addr = US_ADDR;
	c.seed = 1;
	c.max_conns = 4;
	c.frag_slots = 0;
	c.allocator = (sf_allocator_t){f_alloc, f_free, NULL};
	sf_eth_config_t ec;
	sf_eth_config_default(&ec);
	memcpy(ec.mac, US_MAC, 6);
	ec.arp_entries = 2;
	ec.arp_queue = 2;
	ec.gateway = 0xC00002FEu;
	ec.transmit = check_tx;
	int64_t now = 1000000;
	sf_eth_t *e;
	live_allocs = 0;
	if (sf_eth_create(&ec, &c, now, &e) < 0)
		return 0;
	sf_stack_t *st = sf_eth_stack(e);
	sf_sock_t s = sf_socket(st);
	sf_connect(st, s, 0xC0000201u, 80);
	sf_sock_t far = sf_socket(st);
	sf_connect(st, far, 0xC6336401u, 80); /* through the gateway */
	sf_eth_poll(e, now);
	size_t off = 0;
	while (off + 2 <= size) {
		size_t len = (size_t)in[off] << 8 | in[off + 1];
		off += 2;
		if (len > size - off)
			len = size - off;
		const uint8_t *f = in + off;
		off += len;
		if (len > SF_ETH_HDR_LEN)
			check_arp_codec(f + SF_ETH_HDR_LEN, len - SF_ETH_HDR_LEN);
		sf_eth_input(e, f, len, now);
		now += (int64_t)(len ? f[0] : 0) * 10000;
		sf_eth_poll(e, now);
	}
	now += 120 * 1000000ll; /* every timeout runs out */
	sf_eth_poll(e, now);
	sf_eth_destroy(e);
	CHECK(live_allocs == 0);
	return 0;
}
