/* Packet tests of the Ethernet/ARP link layer (src/core/eth.c), frame by
 * frame: the gratuitous ARPs at start, replies to requests for our address
 * (and silence for others), resolving the next hop while datagrams wait in a
 * bounded queue, retries and giving up, the gateway for other subnets, the
 * bounded cache and entry timeouts, and malformed frames dropped, counted and
 * traced while a legitimate peer is still served. Every test checks that
 * the interface and its stack return all memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "countalloc.h"
#include "synfin/eth.h"

#define US_ADDR   0xc0000202u /* 192.0.2.2 */
#define PEER_ADDR 0xc0000201u /* 192.0.2.1 */
#define GW_ADDR   0xc00002feu /* 192.0.2.254 */
#define FAR_ADDR  0xc6336401u /* 198.51.100.1 */

static const uint8_t US_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t PEER_MAC[6] = {0x52, 0x54, 0, 0, 0, 0x01};
static const uint8_t GW_MAC[6] = {0x52, 0x54, 0, 0, 0, 0xfe};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

#define MAX_FRAMES 64
typedef struct world {
	counter_t mem;
	sf_eth_t *eth;
	sf_stack_t *st;
	int64_t now;
	uint8_t frames[MAX_FRAMES][1600];
	size_t lens[MAX_FRAMES];
	int nframes;
	int drops_traced[SF_DROP_COUNT];
} world_t;

static int capture(void *ctx, const uint8_t *f, size_t len, int64_t now_us)
{
	(void)now_us;
	world_t *w = ctx;
	assert_true(len >= SF_ETH_MIN_FRAME && len <= sizeof w->frames[0]);
	assert_true(w->nframes < MAX_FRAMES);
	memcpy(w->frames[w->nframes], f, len);
	w->lens[w->nframes++] = len;
	return 0;
}

static void on_event(void *ctx, const sf_event_t *ev)
{
	world_t *w = ctx;
	if (ev->kind == SF_EV_DROP)
		w->drops_traced[ev->drop]++;
}

static world_t *world_new(uint32_t gateway, uint32_t entries, uint32_t queue)
{
	static world_t w;
	memset(&w, 0, sizeof w);
	sf_eth_config_t ec;
	sf_eth_config_default(&ec);
	memcpy(ec.mac, US_MAC, 6);
	ec.gateway = gateway;
	ec.arp_entries = entries;
	ec.arp_queue = queue;
	ec.transmit = capture;
	ec.transmit_ctx = &w;
	sf_config_t c;
	sf_config_default(&c);
	c.addr = US_ADDR;
	c.seed = 42;
	c.max_conns = 16;
	c.allocator = count_allocator(&w.mem);
	c.trace = (sf_trace_sink_t){on_event, &w};
	w.now = 1000000;
	assert_int_equal(sf_eth_create(&ec, &c, w.now, &w.eth), 0);
	w.st = sf_eth_stack(w.eth);
	return &w;
}

static void world_free(world_t *w)
{
	sf_eth_destroy(w->eth);
	assert_int_equal(w->mem.live, 0);
	assert_int_equal(w->mem.bytes, 0);
}

static void poll_at(world_t *w, int64_t t)
{
	w->now = t;
	sf_eth_poll(w->eth, t);
}

/* Skips the two start-up announcements: polls through them and forgets them. */
static void settle(world_t *w)
{
	poll_at(w, w->now);
	poll_at(w, w->now + 2000000);
	assert_int_equal(w->nframes, 2);
	w->nframes = 0;
}

static void check_eth(const uint8_t *f, const uint8_t *dst, uint16_t type)
{
	assert_memory_equal(f, dst, 6);
	assert_memory_equal(f + 6, US_MAC, 6);
	assert_int_equal(sf_be16(f + 12), type);
}

static void check_arp(world_t *w, int i, const uint8_t *dst, uint16_t op, uint32_t tpa,
                      const uint8_t *tha)
{
	assert_true(i < w->nframes);
	check_eth(w->frames[i], dst, SF_ETHERTYPE_ARP);
	sf_arp_t a;
	assert_int_equal(sf_arp_parse(w->frames[i] + 14, w->lens[i] - 14, &a), 0);
	assert_int_equal(a.op, op);
	assert_memory_equal(a.sha, US_MAC, 6);
	assert_int_equal(a.spa, US_ADDR);
	assert_int_equal(a.tpa, tpa);
	assert_memory_equal(a.tha, tha, 6);
}

/* Delivers an ARP packet from (sha, spa) about tpa. */
static int arp_in(world_t *w, const uint8_t *dst, uint16_t op, const uint8_t *sha, uint32_t spa,
                  const uint8_t *tha, uint32_t tpa)
{
	uint8_t f[60] = {0};
	sf_ether_t h = {.type = SF_ETHERTYPE_ARP};
	memcpy(h.dst, dst, 6);
	memcpy(h.src, sha, 6);
	sf_ether_emit(&h, f, sizeof f);
	sf_arp_t a = {.op = op, .spa = spa, .tpa = tpa};
	memcpy(a.sha, sha, 6);
	memcpy(a.tha, tha, 6);
	sf_arp_emit(&a, f + 14, sizeof f - 14);
	return sf_eth_input(w->eth, f, sizeof f, w->now);
}

/* An ICMP echo request from the peer, as an Ethernet frame. */
static size_t make_ping(uint8_t *f, const uint8_t *src_mac, uint32_t src, uint16_t seq)
{
	sf_ether_t h = {.type = SF_ETHERTYPE_IPV4};
	memcpy(h.dst, US_MAC, 6);
	memcpy(h.src, src_mac, 6);
	sf_ether_emit(&h, f, 14);
	uint8_t data[16] = "synfin-ping-data";
	sf_icmp_t ic = {.type = SF_ICMP_ECHO, .id = 7, .seq = seq};
	int n = sf_icmp_emit(&ic, data, sizeof data, f + 34, 200);
	assert_true(n > 0);
	sf_ipv4_t ip = {.src = src, .dst = US_ADDR, .proto = SF_IP_PROTO_ICMP, .ttl = 64};
	assert_int_equal(sf_ipv4_emit(&ip, (size_t)n, f + 14, 20), 20);
	return 34 + (size_t)n;
}

/* The IPv4 destination of frame i, checking it is IPv4 to `mac`. */
static uint32_t ip_dst_of(world_t *w, int i, const uint8_t *mac)
{
	check_eth(w->frames[i], mac, SF_ETHERTYPE_IPV4);
	sf_ipv4_t ip;
	assert_int_equal(sf_ipv4_parse(w->frames[i] + 14, w->lens[i] - 14, &ip), 0);
	return ip.dst;
}

static void test_announces_at_start(void **state)
{
	(void)state;
	world_t *w = world_new(0, 8, 4);
	assert_int_equal(sf_eth_next_deadline(w->eth), w->now);
	poll_at(w, w->now);
	assert_int_equal(w->nframes, 1);
	/* RFC 5227 §2.3: sender and target both our address, to broadcast */
	static const uint8_t zero[6];
	check_arp(w, 0, BCAST, SF_ARP_REQUEST, US_ADDR, zero);
	assert_int_equal(sf_eth_next_deadline(w->eth), w->now + 2000000);
	poll_at(w, w->now + 1999999);
	assert_int_equal(w->nframes, 1);
	poll_at(w, w->now + 1);
	assert_int_equal(w->nframes, 2);
	check_arp(w, 1, BCAST, SF_ARP_REQUEST, US_ADDR, zero);
	poll_at(w, w->now + 10000000);
	assert_int_equal(w->nframes, 2); /* two, then quiet */
	assert_int_equal(sf_eth_next_deadline(w->eth), INT64_MAX);
	sf_eth_stats_t s;
	sf_eth_stats(w->eth, &s);
	assert_int_equal(s.arp_announces_out, 2);
	world_free(w);
}

static void test_reply_to_request_and_learn(void **state)
{
	(void)state;
	world_t *w = world_new(0, 8, 4);
	settle(w);
	static const uint8_t zero[6];
	assert_int_equal(arp_in(w, BCAST, SF_ARP_REQUEST, PEER_MAC, PEER_ADDR, zero, US_ADDR), 0);
	assert_int_equal(w->nframes, 1);
	check_arp(w, 0, PEER_MAC, SF_ARP_REPLY, PEER_ADDR, PEER_MAC);
	/* RFC 826: the requester was added, so our answer to its ping needs
	 * no request of our own */
	uint8_t mac[6];
	assert_int_equal(sf_eth_arp_lookup(w->eth, PEER_ADDR, mac), 0);
	assert_memory_equal(mac, PEER_MAC, 6);
	uint8_t f[256];
	size_t n = make_ping(f, PEER_MAC, PEER_ADDR, 1);
	assert_int_equal(sf_eth_input(w->eth, f, n, w->now), 0);
	poll_at(w, w->now);
	assert_int_equal(w->nframes, 2);
	assert_int_equal(ip_dst_of(w, 1, PEER_MAC), PEER_ADDR);
	world_free(w);
}

static void test_requests_for_others_ignored(void **state)
{
	(void)state;
	world_t *w = world_new(0, 8, 4);
	settle(w);
	static const uint8_t zero[6];
	assert_int_equal(arp_in(w, BCAST, SF_ARP_REQUEST, PEER_MAC, PEER_ADDR, zero, 0xc0000203u),
	                 0);
	assert_int_equal(w->nframes, 0);
	uint8_t mac[6];
	assert_int_equal(sf_eth_arp_lookup(w->eth, PEER_ADDR, mac), SF_EUNREACH);
	sf_eth_stats_t s;
	sf_eth_stats(w->eth, &s);
	assert_int_equal(s.drops[SF_DROP_ARP_IGNORED], 1);
	assert_int_equal(w->drops_traced[SF_DROP_ARP_IGNORED], 1);
	/* someone else claiming our address: a conflict, nothing learnt or sent */
	assert_true(arp_in(w, BCAST, SF_ARP_REQUEST, PEER_MAC, US_ADDR, zero, US_ADDR) < 0);
	assert_int_equal(w->nframes, 0);
	/* an ARP probe (RFC 5227 §2.1.1, sender 0.0.0.0) for our address is
	 * answered so the prober sees the address is taken; nothing is cached */
	assert_int_equal(arp_in(w, BCAST, SF_ARP_REQUEST, PEER_MAC, 0, zero, US_ADDR), 0);
	assert_int_equal(w->nframes, 1);
	check_arp(w, 0, PEER_MAC, SF_ARP_REPLY, 0, PEER_MAC);
	assert_int_equal(sf_eth_arp_lookup(w->eth, 0, mac), SF_EUNREACH);
	world_free(w);
}

static void test_resolve_then_send_queued(void **state)
{
	(void)state;
	world_t *w = world_new(0, 8, 4);
	settle(w);
	sf_sock_t s = sf_socket(w->st);
	assert_int_equal(sf_connect(w->st, s, PEER_ADDR, 80), SF_EINPROGRESS);
	poll_at(w, w->now);
	/* the SYN waits; one request is broadcast */
	static const uint8_t zero[6];
	assert_int_equal(w->nframes, 1);
	check_arp(w, 0, BCAST, SF_ARP_REQUEST, PEER_ADDR, zero);
	uint8_t mac[6];
	assert_int_equal(sf_eth_arp_lookup(w->eth, PEER_ADDR, mac), SF_EAGAIN);
	/* the reply releases the SYN to the peer's MAC */
	assert_int_equal(arp_in(w, US_MAC, SF_ARP_REPLY, PEER_MAC, PEER_ADDR, US_MAC, US_ADDR), 0);
	assert_int_equal(w->nframes, 2);
	assert_int_equal(ip_dst_of(w, 1, PEER_MAC), PEER_ADDR);
	sf_tcp_t tcp;
	sf_ipv4_t ip;
	sf_ipv4_parse(w->frames[1] + 14, w->lens[1] - 14, &ip);
	assert_int_equal(
	        sf_tcp_parse(w->frames[1] + 34, w->lens[1] - 34, ip.src, ip.dst, true, &tcp), 0);
	assert_int_equal(tcp.flags, SF_TCP_SYN);
	sf_eth_stats_t st;
	sf_eth_stats(w->eth, &st);
	assert_int_equal(st.queued, 1);
	assert_int_equal(st.arp_requests_out, 1);
	world_free(w);
}

static void test_retries_then_give_up(void **state)
{
	(void)state;
	world_t *w = world_new(0, 8, 4);
	settle(w);
	sf_sock_t s = sf_socket(w->st);
	sf_connect(w->st, s, PEER_ADDR, 80);
	int64_t t0 = w->now;
	poll_at(w, t0);
	assert_int_equal(w->nframes, 1);
	/* RFC 1122 §2.3.2.1: no more than one request a second */
	poll_at(w, t0 + 999999);
	assert_int_equal(w->nframes, 1);
	poll_at(w, t0 + 1000000);
	/* the second request; the SYN's retransmission waits with the first */
	assert_int_equal(w->nframes, 2);
	assert_int_equal(sf_be16(w->frames[1] + 12), SF_ETHERTYPE_ARP);
	poll_at(w, t0 + 2000000);
	assert_int_equal(w->nframes, 3);
	/* at t0+3s the third request went unanswered: the address is given up
	 * and the two datagrams that waited (the SYN and its first
	 * retransmission) are dropped as unresolved; the retransmission due at
	 * the same moment starts a new resolution */
	poll_at(w, t0 + 3000000);
	int arps = 0;
	for (int i = 0; i < w->nframes; i++)
		arps += sf_be16(w->frames[i] + 12) == SF_ETHERTYPE_ARP;
	assert_int_equal(arps, w->nframes);
	assert_int_equal(arps, 4);
	sf_eth_stats_t st;
	sf_eth_stats(w->eth, &st);
	assert_int_equal(st.drops[SF_DROP_ARP_UNRESOLVED], 2);
	assert_int_equal(w->drops_traced[SF_DROP_ARP_UNRESOLVED], 2);
	uint8_t mac[6];
	assert_int_equal(sf_eth_arp_lookup(w->eth, PEER_ADDR, mac), SF_EAGAIN);
	world_free(w);
}

static void test_queue_bounded(void **state)
{
	(void)state;
	world_t *w = world_new(0, 8, 2);
	settle(w);
	for (int i = 0; i < 5; i++) {
		sf_sock_t s = sf_socket(w->st);
		sf_connect(w->st, s, PEER_ADDR, (uint16_t)(80 + i));
	}
	poll_at(w, w->now);
	sf_eth_stats_t st;
	sf_eth_stats(w->eth, &st);
	assert_int_equal(st.queued, 5);
	assert_int_equal(st.drops[SF_DROP_ARP_QUEUE_FULL], 3);
	assert_int_equal(w->drops_traced[SF_DROP_ARP_QUEUE_FULL], 3);
	assert_int_equal(w->nframes, 1); /* one request for five datagrams */
	/* the two kept are the latest two (RFC 1122 §2.3.2.2), in order */
	arp_in(w, US_MAC, SF_ARP_REPLY, PEER_MAC, PEER_ADDR, US_MAC, US_ADDR);
	assert_int_equal(w->nframes, 3);
	for (int i = 1; i < 3; i++) {
		assert_int_equal(ip_dst_of(w, i, PEER_MAC), PEER_ADDR);
		assert_int_equal(sf_be16(w->frames[i] + 34 + 2), 80 + 2 + i);
	}
	world_free(w);
}

static void test_gateway_for_other_subnets(void **state)
{
	(void)state;
	world_t *w = world_new(GW_ADDR, 8, 4);
	settle(w);
	sf_sock_t s = sf_socket(w->st);
	sf_connect(w->st, s, FAR_ADDR, 443);
	poll_at(w, w->now);
	static const uint8_t zero[6];
	check_arp(w, 0, BCAST, SF_ARP_REQUEST, GW_ADDR, zero);
	arp_in(w, US_MAC, SF_ARP_REPLY, GW_MAC, GW_ADDR, US_MAC, US_ADDR);
	assert_int_equal(w->nframes, 2);
	assert_int_equal(ip_dst_of(w, 1, GW_MAC), FAR_ADDR);
	/* inside the subnet: asked for directly */
	sf_sock_t s2 = sf_socket(w->st);
	sf_connect(w->st, s2, PEER_ADDR, 80);
	poll_at(w, w->now);
	check_arp(w, 2, BCAST, SF_ARP_REQUEST, PEER_ADDR, zero);
	world_free(w);
}

static void test_cache_bounded_and_expires(void **state)
{
	(void)state;
	world_t *w = world_new(0, 2, 4);
	settle(w);
	static const uint8_t zero[6];
	uint8_t mac[6] = {0x52, 0x54, 0, 0, 1, 0};
	for (int i = 0; i < 3; i++) {
		mac[5] = (uint8_t)i;
		w->now += 1000;
		arp_in(w, BCAST, SF_ARP_REQUEST, mac, PEER_ADDR + (uint32_t)i * 16, zero, US_ADDR);
	}
	/* two entries: the first, closest to expiry, made room for the third */
	sf_eth_stats_t st;
	sf_eth_stats(w->eth, &st);
	assert_int_equal(st.cache_evictions, 1);
	uint8_t got[6];
	assert_int_equal(sf_eth_arp_lookup(w->eth, PEER_ADDR, got), SF_EUNREACH);
	assert_int_equal(sf_eth_arp_lookup(w->eth, PEER_ADDR + 32, got), 0);
	assert_int_equal(got[5], 2);
	/* entries are forgotten after arp_timeout_ms (60 s) */
	assert_true(sf_eth_next_deadline(w->eth) <= w->now + 60000000);
	poll_at(w, w->now + 60000000);
	assert_int_equal(sf_eth_arp_lookup(w->eth, PEER_ADDR + 32, got), SF_EUNREACH);
	assert_int_equal(sf_eth_next_deadline(w->eth), INT64_MAX);
	world_free(w);
}

static void test_malformed_frames(void **state)
{
	(void)state;
	world_t *w = world_new(0, 8, 4);
	settle(w);
	uint8_t f[256];
	size_t n = make_ping(f, PEER_MAC, PEER_ADDR, 1);
	struct {
		sf_drop_reason_t why;
		size_t len;
		int off;
		uint8_t val;
	} cases[] = {
	        {SF_DROP_ETH_TRUNCATED, 13, 0, 0x02},  /* shorter than a header */
	        {SF_DROP_ETH_NOT_FOR_US, 0, 5, 0x99},  /* another host's MAC */
	        {SF_DROP_ETH_NOT_FOR_US, 0, 0, 0x01},  /* multicast destination */
	        {SF_DROP_ETH_BAD_SOURCE, 0, 6, 0x01},  /* group source */
	        {SF_DROP_ETH_BAD_SOURCE, 0, 11, 0x02}, /* our own MAC as source */
	        {SF_DROP_ETH_TYPE, 0, 12, 0x86},       /* IPv6 (0x86dd) */
	        {SF_DROP_ETH_TYPE, 0, 12, 0x00},       /* an 802.3 length */
	        {SF_DROP_ARP_MALFORMED, 0, 13, 0x06},  /* ARP, but an IPv4 body */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t g[256];
		memcpy(g, f, n);
		if (cases[i].off == 11) /* source = our MAC */
			memcpy(g + 6, US_MAC, 6);
		else
			g[cases[i].off] = cases[i].val;
		if (cases[i].why == SF_DROP_ARP_MALFORMED)
			g[12] = 0x08;
		assert_true(sf_eth_input(w->eth, g, cases[i].len ? cases[i].len : n, w->now) < 0);
	}
	sf_eth_stats_t st;
	sf_eth_stats(w->eth, &st);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sf_drop_reason_t why = cases[i].why;
		int expect = 0;
		for (size_t j = 0; j < sizeof cases / sizeof cases[0]; j++)
			expect += cases[j].why == why;
		assert_int_equal(st.drops[why], expect);
		assert_int_equal(w->drops_traced[why], expect);
	}
	poll_at(w, w->now);
	assert_int_equal(w->nframes, 0);
	/* the legitimate peer is still served: its ARP is answered, its ping too */
	static const uint8_t zero[6];
	arp_in(w, BCAST, SF_ARP_REQUEST, PEER_MAC, PEER_ADDR, zero, US_ADDR);
	assert_int_equal(sf_eth_input(w->eth, f, n, w->now), 0);
	poll_at(w, w->now);
	assert_int_equal(w->nframes, 2);
	assert_int_equal(ip_dst_of(w, 1, PEER_MAC), PEER_ADDR);
	world_free(w);
}

static void test_bad_config(void **state)
{
	(void)state;
	sf_eth_config_t ec;
	sf_config_t c;
	sf_config_default(&c);
	sf_eth_t *e;
	sf_eth_config_default(&ec);
	assert_int_equal(sf_eth_create(&ec, &c, 0, &e), SF_EINVAL); /* no transmit */
	ec.transmit = capture;
	ec.mac[0] = 0x01;
	assert_int_equal(sf_eth_create(&ec, &c, 0, &e), SF_EINVAL); /* group MAC */
	sf_eth_config_default(&ec);
	ec.transmit = capture;
	ec.arp_queue = 0;
	assert_int_equal(sf_eth_create(&ec, &c, 0, &e), SF_EINVAL);
	/* out of memory at any allocation: nothing leaks */
	counter_t mem = {0};
	c.allocator = count_allocator(&mem);
	c.max_conns = 0; /* the stack refuses: the interface's block is returned */
	sf_eth_config_default(&ec);
	ec.transmit = capture;
	assert_int_equal(sf_eth_create(&ec, &c, 0, &e), SF_EINVAL);
	assert_int_equal(mem.live, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_announces_at_start),
	        cmocka_unit_test(test_reply_to_request_and_learn),
	        cmocka_unit_test(test_requests_for_others_ignored),
	        cmocka_unit_test(test_resolve_then_send_queued),
	        cmocka_unit_test(test_retries_then_give_up),
	        cmocka_unit_test(test_queue_bounded),
	        cmocka_unit_test(test_gateway_for_other_subnets),
	        cmocka_unit_test(test_cache_bounded_and_expires),
	        cmocka_unit_test(test_malformed_frames),
	        cmocka_unit_test(test_bad_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
