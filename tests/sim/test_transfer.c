/* Two synfin stacks over the seeded impaired link: handshake, bulk data both
 * ways byte-exact, then each close variant down to CLOSED on both ends, with
 * TIME-WAIT expired by the virtual clock and no allocation left behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "simpair.h"

/* The byte at offset i of the stream side s sends: position-derived, so the
 * receiver checks every byte without keeping a copy. */
static uint8_t stream_byte(int side, uint64_t i)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull ^ (uint64_t)side << 60;
	x ^= x >> 29;
	return (uint8_t)(x ^ (x >> 17));
}

typedef struct app {
	sf_sock_t lsn, sock[2];
	uint64_t total; /* bytes each side sends */
	uint64_t sent[2], rcvd[2];
	bool eof[2], closed[2], bad;
	int close_mode; /* 0: client first, 1: server first, 2: both at once */
} app_t;

enum { CLIENT_FIRST, SERVER_FIRST, SIMULTANEOUS };

static void pump(simpair_t *sp, app_t *a)
{
	if (a->sock[1] <= 0) {
		sf_sock_t s = sf_accept(sp->st[1], a->lsn, NULL, NULL);
		if (s > 0)
			a->sock[1] = s;
	}
	uint8_t buf[16384];
	for (int i = 0; i < 2; i++) {
		sf_stack_t *st = sp->st[i];
		sf_sock_t s = a->sock[i];
		if (s <= 0 || a->closed[i])
			continue;
		while (a->sent[i] < a->total) {
			size_t n = a->total - a->sent[i] < sizeof buf ? a->total - a->sent[i]
			                                              : sizeof buf;
			for (size_t k = 0; k < n; k++)
				buf[k] = stream_byte(i, a->sent[i] + k);
			long w = sf_send(st, s, buf, n);
			if (w <= 0)
				break;
			a->sent[i] += (uint64_t)w;
		}
		for (;;) {
			long r = sf_recv(st, s, buf, sizeof buf);
			if (r == 0)
				a->eof[i] = true;
			if (r <= 0)
				break;
			for (long k = 0; k < r; k++)
				if (buf[k] != stream_byte(1 - i, a->rcvd[i] + (uint64_t)k))
					a->bad = true;
			a->rcvd[i] += (uint64_t)r;
		}
		bool done_sending = a->sent[i] == a->total;
		bool may_close = (a->close_mode == CLIENT_FIRST && i == 0) ||
		                 (a->close_mode == SERVER_FIRST && i == 1) ||
		                 a->close_mode == SIMULTANEOUS || a->eof[i];
		bool got_all = a->rcvd[i] == a->total;
		if (done_sending && got_all && may_close) {
			sf_close(st, s);
			a->closed[i] = true;
		}
	}
	for (int i = 0; i < 2; i++)
		sf_stack_poll(sp->st[i], sp->now);
}

static bool all_closed(simpair_t *sp, void *ctx)
{
	app_t *a = ctx;
	pump(sp, a);
	sf_stack_stats_t s0, s1;
	sf_stack_stats(sp->st[0], &s0);
	sf_stack_stats(sp->st[1], &s1);
	/* Only the listener is left, and no TIME-WAIT record. */
	return a->closed[0] && a->closed[1] && s0.conns_open == 0 && s1.conns_open == 1 &&
	       s0.timewait_open == 0 && s1.timewait_open == 0;
}

static void run_life(uint64_t seed, uint64_t bytes, double loss, int close_mode)
{
	simpair_t sp = {0};
	sf_impair_t imp = {.loss = loss, .delay_us = 5000, .reorder = loss / 2, .reorder_us = 3000};
	sf_config_t cfg;
	sf_config_default(&cfg);
	cfg.sndbuf = cfg.rcvbuf = 256 * 1024;
	assert_int_equal(simpair_init(&sp, seed, &cfg, &imp, &imp), 0);
	app_t a = {.total = bytes, .close_mode = close_mode};
	a.lsn = sf_socket(sp.st[1]);
	assert_int_equal(sf_bind(sp.st[1], a.lsn, 80), 0);
	assert_int_equal(sf_listen(sp.st[1], a.lsn, 8), 0);
	a.sock[0] = sf_socket(sp.st[0]);
	assert_int_equal(sf_connect(sp.st[0], a.sock[0], SP_SERVER, 80), SF_EINPROGRESS);
	bool ok = simpair_run(&sp, all_closed, &a, 3600ll * 1000000);
	if (!ok)
		print_message("seed %llu: sent %llu/%llu rcvd %llu/%llu closed %d/%d t=%lld\n",
		              (unsigned long long)seed, (unsigned long long)a.sent[0],
		              (unsigned long long)a.sent[1], (unsigned long long)a.rcvd[0],
		              (unsigned long long)a.rcvd[1], a.closed[0], a.closed[1],
		              (long long)sp.now);
	assert_true(ok);
	assert_false(a.bad);
	assert_int_equal(a.rcvd[0], bytes);
	assert_int_equal(a.rcvd[1], bytes);
	sf_close(sp.st[1], a.lsn);
	sf_stack_stats_t s1;
	sf_stack_stats(sp.st[1], &s1);
	assert_int_equal(s1.conns_open, 0);
	simpair_fini(&sp);
}

static void clean_link_small(void **state)
{
	(void)state;
	run_life(1, 100000, 0.0, CLIENT_FIRST);
	run_life(2, 100000, 0.0, SERVER_FIRST);
	run_life(3, 100000, 0.0, SIMULTANEOUS);
}

static void lossy_10mb_each_way(void **state)
{
	(void)state;
	run_life(42, 10 * 1000 * 1000, 0.05, CLIENT_FIRST);
}

static void lossy_close_variants(void **state)
{
	(void)state;
	for (uint64_t seed = 100; seed < 106; seed++)
		run_life(seed, 200000, 0.05, (int)(seed % 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(clean_link_small),
	        cmocka_unit_test(lossy_close_variants),
	        cmocka_unit_test(lossy_10mb_each_way),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
