/* Two Ethernet interfaces (src/core/eth.c) over the seeded impaired link:
 * ARP resolves each side through loss, the datagrams that waited for it are
 * sent, and bulk data crosses both ways byte-exact while frames are lost,
 * duplicated and reordered; both ends reach CLOSED, every allocation comes
 * back. A second run holds the peer's cable down at the start: the
 * requests go unanswered, the SYN and its retransmissions are dropped as
 * unresolved, and the connection still opens once the link comes up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "countalloc.h"
#include "synfin/eth.h"
#include "synfin/netdev.h"

#define A_ADDR 0xC0000201u
#define B_ADDR 0xC0000202u

typedef struct side {
	sf_eth_t *eth;
	sf_stack_t *st;
	sf_netdev_t *dev;
	sf_sock_t sock;
	uint64_t sent, rcvd;
	bool closed, eof, bad;
} side_t;

static int64_t now;

static int transmit(void *ctx, const uint8_t *f, size_t len, int64_t t)
{
	side_t *s = ctx;
	return sf_netdev_transmit(s->dev, f, len, t);
}

static uint8_t byte_at(int side, uint64_t i)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull ^ (uint64_t)side << 61;
	return (uint8_t)(x ^ (x >> 29));
}

static void make_side(side_t *s, int i, sf_netdev_t *dev, counter_t *mem)
{
	memset(s, 0, sizeof *s);
	s->dev = dev;
	sf_config_t c;
	sf_config_default(&c);
	c.addr = i ? B_ADDR : A_ADDR;
	c.seed = 100 + (uint64_t)i;
	c.msl_ms = 1000;
	c.allocator = count_allocator(mem);
	sf_eth_config_t ec;
	sf_eth_config_default(&ec);
	ec.mac[5] = (uint8_t)(0x10 + i);
	ec.transmit = transmit;
	ec.transmit_ctx = s;
	assert_int_equal(sf_eth_create(&ec, &c, now, &s->eth), 0);
	s->st = sf_eth_stack(s->eth);
}

static void pump(side_t *s, int i, uint64_t total)
{
	uint8_t buf[8192];
	if (s->sock <= 0 || s->closed)
		return;
	while (s->sent < total) {
		size_t n = total - s->sent < sizeof buf ? (size_t)(total - s->sent) : sizeof buf;
		for (size_t k = 0; k < n; k++)
			buf[k] = byte_at(i, s->sent + k);
		long w = sf_send(s->st, s->sock, buf, n);
		if (w <= 0)
			break;
		s->sent += (uint64_t)w;
	}
	long r;
	while ((r = sf_recv(s->st, s->sock, buf, sizeof buf)) > 0)
		for (long k = 0; k < r; k++)
			s->bad |= buf[k] != byte_at(1 - i, s->rcvd++);
	if (r == 0)
		s->eof = true;
	if (s->sent == total && s->rcvd == total && (i == 0 || s->eof)) {
		sf_close(s->st, s->sock);
		s->closed = true;
	}
}

static void run(uint64_t seed, double loss, int64_t blackout_us, uint64_t total)
{
	counter_t mem = {0};
	sf_impair_t imp = {.loss = loss,
	                   .dup = loss / 4,
	                   .reorder = loss / 2,
	                   .reorder_us = 2000,
	                   .delay_us = 1000,
	                   .blackout_start_us = 0,
	                   .blackout_end_us = blackout_us};
	now = 0;
	sf_sim_link_t *link = sf_sim_link_create(seed, 1514, &imp, &imp);
	assert_non_null(link);
	side_t s[2];
	for (int i = 0; i < 2; i++)
		make_side(&s[i], i, sf_sim_link_endpoint(link, i), &mem);
	sf_sock_t lsn = sf_socket(s[1].st);
	assert_int_equal(sf_bind(s[1].st, lsn, 9), 0);
	assert_int_equal(sf_listen(s[1].st, lsn, 4), 0);
	s[0].sock = sf_socket(s[0].st);
	assert_int_equal(sf_connect(s[0].st, s[0].sock, B_ADDR, 9), SF_EINPROGRESS);
	uint8_t frame[1514];
	for (int iter = 0; iter < 2000000; iter++) {
		for (int i = 0; i < 2; i++) {
			int n;
			while ((n = sf_netdev_receive(s[i].dev, frame, sizeof frame, now)) > 0)
				sf_eth_input(s[i].eth, frame, (size_t)n, now);
			sf_eth_poll(s[i].eth, now);
		}
		if (s[1].sock <= 0) {
			sf_sock_t a = sf_accept(s[1].st, lsn, NULL, NULL);
			if (a > 0)
				s[1].sock = a;
		}
		for (int i = 0; i < 2; i++) {
			pump(&s[i], i, total);
			sf_eth_poll(s[i].eth, now);
		}
		sf_stack_stats_t a, b;
		sf_stack_stats(s[0].st, &a);
		sf_stack_stats(s[1].st, &b);
		if (s[0].closed && s[1].closed && a.conns_open == 0 && b.conns_open == 1 &&
		    a.timewait_open == 0)
			break;
		int64_t next = INT64_MAX;
		for (int i = 0; i < 2; i++) {
			int64_t d = sf_eth_next_deadline(s[i].eth);
			int64_t l = sf_netdev_next_deadline(s[i].dev);
			next = d < next ? d : next;
			next = l < next ? l : next;
		}
		assert_true(next != INT64_MAX);
		assert_true(next < 3600ll * 1000000);
		if (next > now)
			now = next;
	}
	for (int i = 0; i < 2; i++) {
		assert_false(s[i].bad);
		assert_int_equal(s[i].rcvd, total);
		assert_true(s[i].closed);
	}
	uint8_t mac[6];
	assert_int_equal(sf_eth_arp_lookup(s[0].eth, B_ADDR, mac), 0);
	assert_int_equal(mac[5], 0x11);
	sf_eth_stats_t es;
	sf_eth_stats(s[0].eth, &es);
	if (blackout_us) {
		/* the cable was down: requests went unanswered and what waited
		 * for them was dropped, then the connection opened anyway */
		assert_true(es.arp_requests_out >= 3);
		assert_true(es.drops[SF_DROP_ARP_UNRESOLVED] >= 1);
	}
	sf_close(s[1].st, lsn);
	for (int i = 0; i < 2; i++)
		sf_eth_destroy(s[i].eth);
	sf_sim_link_destroy(link);
	assert_int_equal(mem.live, 0);
	assert_int_equal(mem.bytes, 0);
}

static void lossy_bulk_both_ways(void **state)
{
	(void)state;
	run(11, 0.03, 0, 2 * 1000 * 1000);
	run(12, 0.10, 0, 300 * 1000);
}

static void cable_down_at_start(void **state)
{
	(void)state;
	run(13, 0.0, 5 * 1000000, 100 * 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(lossy_bulk_both_ways),
	        cmocka_unit_test(cable_down_at_start),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
