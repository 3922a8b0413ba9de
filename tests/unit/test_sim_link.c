/* Unit tests for the simulated link (src/link/sim.c) and, through it, the
 * impairment engine and the impairment wrapper (src/link/impair.c): each
 * impairment alone with exact or statistical expectations, the rate-limited
 * queue, the blackout window, determinism from the seed and the counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "synfin/error.h"
#include "synfin/netdev.h"

#define MTU 1500

/* A frame of `len` bytes whose first 4 bytes are `id` and the rest a
 * pattern derived from it. */
static void make_frame(uint8_t *buf, size_t len, uint32_t id)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(id * 31u + i * 7u);
	buf[0] = (uint8_t)(id >> 24);
	buf[1] = (uint8_t)(id >> 16);
	buf[2] = (uint8_t)(id >> 8);
	buf[3] = (uint8_t)id;
}

static uint32_t frame_id(const uint8_t *buf)
{
	return ((uint32_t)buf[0] << 24) | ((uint32_t)buf[1] << 16) | ((uint32_t)buf[2] << 8) |
	       buf[3];
}

typedef struct delivery {
	int64_t t_us;
	uint32_t id;
	int len;
	uint64_t hash;
} delivery_t;

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* Receives on `dev` at every deadline up to and including `until_us`,
 * appending to log (if not NULL). Returns the number of frames received. */
static size_t drain_until(sf_netdev_t *dev, int64_t until_us, delivery_t *log, size_t log_cap,
                          size_t *log_cnt)
{
	uint8_t buf[MTU];
	size_t got = 0;
	for (;;) {
		int64_t d = sf_netdev_next_deadline(dev);
		if (d == SF_NO_DEADLINE || d > until_us)
			break;
		int n;
		while ((n = sf_netdev_receive(dev, buf, sizeof(buf), d)) > 0) {
			got++;
			if (log && *log_cnt < log_cap) {
				log[*log_cnt] = (delivery_t){d, frame_id(buf), n,
				                             hash_bytes(buf, (size_t)n)};
				(*log_cnt)++;
			}
		}
		assert_int_equal(n, 0);
	}
	return got;
}

static void test_delivery_at_exact_delay(void **state)
{
	(void)state;
	sf_impair_t imp = {.delay_us = 5000};
	sf_sim_link_t *link = sf_sim_link_create(1, MTU, &imp, NULL);
	assert_non_null(link);
	sf_netdev_t *a = sf_sim_link_endpoint(link, 0), *b = sf_sim_link_endpoint(link, 1);
	assert_int_equal(a->mtu, MTU);
	assert_null(sf_sim_link_endpoint(link, 2));

	uint8_t f[100], buf[MTU];
	make_frame(f, sizeof(f), 42);
	assert_int_equal(sf_netdev_next_deadline(b), SF_NO_DEADLINE);
	assert_int_equal(sf_netdev_transmit(a, f, sizeof(f), 1000), 0);
	assert_int_equal(sf_netdev_next_deadline(b), 6000);
	/* Not on the sender's side, and not early. */
	assert_int_equal(sf_netdev_receive(a, buf, sizeof(buf), 100000), 0);
	assert_int_equal(sf_netdev_receive(b, buf, sizeof(buf), 5999), 0);
	assert_int_equal(sf_netdev_receive(b, buf, sizeof(buf), 6000), (int)sizeof(f));
	assert_memory_equal(buf, f, sizeof(f));
	assert_int_equal(sf_netdev_receive(b, buf, sizeof(buf), 6000), 0);
	assert_int_equal(sf_netdev_next_deadline(b), SF_NO_DEADLINE);

	/* b_to_a is perfect: delivered at the send time. */
	assert_int_equal(sf_netdev_transmit(b, f, 60, 7000), 0);
	assert_int_equal(sf_netdev_next_deadline(a), 7000);
	assert_int_equal(sf_netdev_receive(a, buf, sizeof(buf), 7000), 60);

	/* Frames due at the same time come out in send order. */
	for (uint32_t id = 100; id < 120; id++) {
		make_frame(f, 20 + id % 7, id);
		assert_int_equal(sf_netdev_transmit(a, f, 20 + id % 7, 7500), 0);
	}
	assert_int_equal(sf_netdev_next_deadline(b), 12500);
	for (uint32_t id = 100; id < 120; id++) {
		assert_int_equal(sf_netdev_receive(b, buf, sizeof(buf), 12500), (int)(20 + id % 7));
		assert_int_equal(frame_id(buf), id);
	}
	assert_int_equal(sf_netdev_receive(b, buf, sizeof(buf), 12500), 0);

	/* Frames above the MTU and empty frames are refused. */
	uint8_t big[MTU + 1] = {0};
	assert_int_equal(sf_netdev_transmit(a, big, sizeof(big), 8000), SF_EINVAL);
	assert_int_equal(sf_netdev_transmit(a, big, 0, 8000), SF_EINVAL);
	/* A buffer too small: an error, and that frame is gone. */
	assert_int_equal(sf_netdev_transmit(a, f, sizeof(f), 8000), 0);
	assert_int_equal(sf_netdev_receive(b, buf, 10, 13000), SF_ENOBUFS);
	assert_int_equal(sf_netdev_receive(b, buf, sizeof(buf), 13000), 0);

	sf_sim_link_destroy(link);
}

static void test_loss_rate(void **state)
{
	(void)state;
	sf_impair_t imp = {.loss = 0.1};
	sf_sim_link_t *link = sf_sim_link_create(7, MTU, &imp, NULL);
	sf_netdev_t *a = sf_sim_link_endpoint(link, 0), *b = sf_sim_link_endpoint(link, 1);
	uint8_t f[64], buf[MTU];
	size_t got = 0;
	const uint32_t n = 100000;
	for (uint32_t i = 0; i < n; i++) {
		make_frame(f, sizeof(f), i);
		assert_int_equal(sf_netdev_transmit(a, f, sizeof(f), i), 0);
		while (sf_netdev_receive(b, buf, sizeof(buf), i) > 0)
			got++;
	}
	double rate = 1.0 - (double)got / n;
	assert_true(rate > 0.09 && rate < 0.11);
	sf_sim_stats_t st;
	sf_sim_link_stats(link, 0, &st);
	assert_int_equal(st.sent, n);
	assert_int_equal(st.delivered, got);
	assert_int_equal(st.lost, n - got);
	assert_int_equal(st.duplicated + st.corrupted + st.reordered + st.queue_drops, 0);
	sf_sim_link_destroy(link);
}

static void test_loss_every(void **state)
{
	(void)state;
	sf_impair_t imp = {.loss_every = 7};
	sf_sim_link_t *link = sf_sim_link_create(3, MTU, &imp, NULL);
	sf_netdev_t *a = sf_sim_link_endpoint(link, 0), *b = sf_sim_link_endpoint(link, 1);
	uint8_t f[40], buf[MTU];
	/* Frame ids 1..700: exactly the multiples of 7 are lost. */
	for (uint32_t id = 1; id <= 700; id++) {
		make_frame(f, sizeof(f), id);
		assert_int_equal(sf_netdev_transmit(a, f, sizeof(f), id * 10), 0);
		int n = sf_netdev_receive(b, buf, sizeof(buf), id * 10);
		if (id % 7 == 0) {
			assert_int_equal(n, 0);
		} else {
			assert_int_equal(n, (int)sizeof(f));
			assert_int_equal(frame_id(buf), id);
		}
	}
	sf_sim_stats_t st;
	sf_sim_link_stats(link, 0, &st);
	assert_int_equal(st.lost, 100);
	assert_int_equal(st.delivered, 600);
	sf_sim_link_destroy(link);
}

static void test_duplication(void **state)
{
	(void)state;
	/* Always: every frame arrives twice, byte for byte. */
	sf_impair_t imp = {.dup = 1.0, .delay_us = 100};
	sf_sim_link_t *link = sf_sim_link_create(5, MTU, &imp, NULL);
	sf_netdev_t *a = sf_sim_link_endpoint(link, 0), *b = sf_sim_link_endpoint(link, 1);
	uint8_t f[80], buf[MTU];
	for (uint32_t id = 0; id < 50; id++) {
		make_frame(f, sizeof(f), id);
		assert_int_equal(sf_netdev_transmit(a, f, sizeof(f), id * 1000), 0);
		for (int copy = 0; copy < 2; copy++) {
			assert_int_equal(sf_netdev_receive(b, buf, sizeof(buf), id * 1000 + 100),
			                 (int)sizeof(f));
			assert_memory_equal(buf, f, sizeof(f));
		}
		assert_int_equal(sf_netdev_receive(b, buf, sizeof(buf), id * 1000 + 100), 0);
	}
	sf_sim_stats_t st;
	sf_sim_link_stats(link, 0, &st);
	assert_int_equal(st.duplicated, 50);
	assert_int_equal(st.delivered, 100);
	sf_sim_link_destroy(link);

	/* Sometimes: delivered == sent + duplicated, and duplicated near p*n. */
	imp = (sf_impair_t){.dup = 0.3};
	link = sf_sim_link_create(6, MTU, &imp, NULL);
	a = sf_sim_link_endpoint(link, 0);
	b = sf_sim_link_endpoint(link, 1);
	size_t got = 0;
	for (uint32_t id = 0; id < 10000; id++) {
		make_frame(f, sizeof(f), id);
		sf_netdev_transmit(a, f, sizeof(f), id);
		while (sf_netdev_receive(b, buf, sizeof(buf), id) > 0)
			got++;
	}
	sf_sim_link_stats(link, 0, &st);
	assert_int_equal(got, 10000 + st.duplicated);
	assert_true(st.duplicated > 2700 && st.duplicated < 3300);
	sf_sim_link_destroy(link);
}

static void test_reordering(void **state)
{
	(void)state;
	sf_impair_t imp = {.reorder = 0.3, .reorder_us = 1000, .delay_us = 50};
	sf_sim_link_t *link = sf_sim_link_create(11, MTU, &imp, NULL);
	sf_netdev_t *a = sf_sim_link_endpoint(link, 0), *b = sf_sim_link_endpoint(link, 1);
	uint8_t f[60];
	enum { N = 200 };
	delivery_t log[2 * N];
	size_t cnt = 0;
	for (uint32_t id = 0; id < N; id++) {
		make_frame(f, sizeof(f), id);
		drain_until(b, (int64_t)id * 100, log, 2 * N, &cnt);
		assert_int_equal(sf_netdev_transmit(a, f, sizeof(f), (int64_t)id * 100), 0);
	}
	drain_until(b, INT64_MAX - 1, log, 2 * N, &cnt);
	assert_int_equal(cnt, N); /* nothing lost, nothing duplicated */

	sf_sim_stats_t st;
	sf_sim_link_stats(link, 0, &st);
	assert_true(st.reordered > 30 && st.reordered < 90);
	/* Each frame arrives either on time or exactly reorder_us later, and
	 * some arrive after frames sent later than them. */
	size_t held = 0, inversions = 0;
	for (size_t i = 0; i < cnt; i++) {
		int64_t sent = (int64_t)log[i].id * 100;
		assert_true(log[i].t_us == sent + 50 || log[i].t_us == sent + 1050);
		held += log[i].t_us == sent + 1050;
		if (i > 0 && log[i].id < log[i - 1].id)
			inversions++;
		if (i > 0)
			assert_true(log[i].t_us >= log[i - 1].t_us);
	}
	assert_int_equal(held, st.reordered);
	assert_true(inversions > 0);
	sf_sim_link_destroy(link);
}

static int popcount8(uint8_t x)
{
	int c = 0;
	for (; x; x &= (uint8_t)(x - 1))
		c++;
	return c;
}

static void test_corruption(void **state)
{
	(void)state;
	sf_impair_t imp = {.corrupt = 1.0};
	sf_sim_link_t *link = sf_sim_link_create(13, MTU, &imp, NULL);
	sf_netdev_t *a = sf_sim_link_endpoint(link, 0), *b = sf_sim_link_endpoint(link, 1);
	uint8_t f[MTU], buf[MTU];
	int first_byte_hits = 0, last_byte_hits = 0;
	for (uint32_t id = 0; id < 2000; id++) {
		size_t len = 1 + id % 97;
		make_frame(f, len, id);
		assert_int_equal(sf_netdev_transmit(a, f, len, id), 0);
		assert_int_equal(sf_netdev_receive(b, buf, sizeof(buf), id), (int)len);
		int bits = 0;
		for (size_t i = 0; i < len; i++) {
			int d = popcount8((uint8_t)(buf[i] ^ f[i]));
			bits += d;
			if (d && i == 0)
				first_byte_hits++;
			if (d && i == len - 1 && len > 1)
				last_byte_hits++;
		}
		assert_int_equal(bits, 1);
	}
	/* The flipped bit can be anywhere in the frame. */
	assert_true(first_byte_hits > 0 && last_byte_hits > 0);
	sf_sim_stats_t st;
	sf_sim_link_stats(link, 0, &st);
	assert_int_equal(st.corrupted, 2000);
	sf_sim_link_destroy(link);

	/* corrupt 0: bytes arrive untouched. */
	link = sf_sim_link_create(13, MTU, NULL, NULL);
	a = sf_sim_link_endpoint(link, 0);
	b = sf_sim_link_endpoint(link, 1);
	make_frame(f, 500, 9);
	sf_netdev_transmit(a, f, 500, 0);
	assert_int_equal(sf_netdev_receive(b, buf, sizeof(buf), 0), 500);
	assert_memory_equal(buf, f, 500);
	sf_sim_link_destroy(link);
}

static void test_rate_limit(void **state)
{
	(void)state;
	/* 1 Mbit/s: a 125-byte frame takes 1000 us to serialise. */
	sf_impair_t imp = {.rate_bps = 1000000, .delay_us = 300};
	sf_sim_link_t *link = sf_sim_link_create(17, MTU, &imp, NULL);
	sf_netdev_t *a = sf_sim_link_endpoint(link, 0), *b = sf_sim_link_endpoint(link, 1);
	uint8_t f[250];
	for (uint32_t id = 0; id < 5; id++) {
		make_frame(f, 125, id);
		assert_int_equal(sf_netdev_transmit(a, f, 125, 0), 0);
	}
	delivery_t log[8];
	size_t cnt = 0;
	drain_until(b, 100000, log, 8, &cnt);
	assert_int_equal(cnt, 5);
	for (size_t i = 0; i < cnt; i++) {
		assert_int_equal(log[i].id, i);
		assert_int_equal(log[i].t_us, (int64_t)(i + 1) * 1000 + 300);
	}
	/* An idle link starts serialising at once; a 250-byte frame takes 2 ms,
	 * and the next one queues behind it. */
	make_frame(f, 250, 10);
	sf_netdev_transmit(a, f, 250, 50000);
	make_frame(f, 125, 11);
	sf_netdev_transmit(a, f, 125, 50500);
	cnt = 0;
	drain_until(b, 100000, log, 8, &cnt);
	assert_int_equal(cnt, 2);
	assert_int_equal(log[0].t_us, 52000 + 300);
	assert_int_equal(log[1].t_us, 53000 + 300);
	sf_sim_link_destroy(link);
}

static void test_queue_limit(void **state)
{
	(void)state;
	sf_impair_t imp = {.rate_bps = 1000000, .queue_limit = 3};
	sf_sim_link_t *link = sf_sim_link_create(19, MTU, &imp, NULL);
	sf_netdev_t *a = sf_sim_link_endpoint(link, 0), *b = sf_sim_link_endpoint(link, 1);
	uint8_t f[125];
	for (uint32_t id = 0; id < 5; id++) {
		make_frame(f, sizeof(f), id);
		assert_int_equal(sf_netdev_transmit(a, f, sizeof(f), 0), 0);
	}
	sf_sim_stats_t st;
	sf_sim_link_stats(link, 0, &st);
	assert_int_equal(st.queue_drops, 2);
	/* At 1000 us the first frame has left: room for one more. */
	make_frame(f, sizeof(f), 5);
	sf_netdev_transmit(a, f, sizeof(f), 1000);
	make_frame(f, sizeof(f), 6);
	sf_netdev_transmit(a, f, sizeof(f), 1000);
	sf_sim_link_stats(link, 0, &st);
	assert_int_equal(st.queue_drops, 3);

	delivery_t log[8];
	size_t cnt = 0;
	drain_until(b, 100000, log, 8, &cnt);
	assert_int_equal(cnt, 4);
	const uint32_t ids[4] = {0, 1, 2, 5};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(log[i].id, ids[i]);
		assert_int_equal(log[i].t_us, (int64_t)(i + 1) * 1000);
	}
	sf_sim_link_stats(link, 0, &st);
	assert_int_equal(st.sent, 7);
	assert_int_equal(st.delivered, 4);
	sf_sim_link_destroy(link);

	/* queue_limit 0 means 1000 frames. */
	imp.queue_limit = 0;
	link = sf_sim_link_create(19, MTU, &imp, NULL);
	a = sf_sim_link_endpoint(link, 0);
	for (uint32_t id = 0; id < 1010; id++)
		sf_netdev_transmit(a, f, sizeof(f), 0);
	sf_sim_link_stats(link, 0, &st);
	assert_int_equal(st.queue_drops, 10);
	sf_sim_link_destroy(link);
}

static void test_pool_and_config_limits(void **state)
{
	(void)state;
	/* Each direction holds 4096 frames of MTU bytes; beyond that frames
	 * are dropped and counted as queue drops, never allocated. */
	sf_impair_t imp = {.delay_us = 1000000};
	sf_sim_link_t *link = sf_sim_link_create(37, MTU, &imp, NULL);
	sf_netdev_t *a = sf_sim_link_endpoint(link, 0), *b = sf_sim_link_endpoint(link, 1);
	uint8_t f[64];
	for (uint32_t id = 0; id < 5000; id++) {
		make_frame(f, sizeof(f), id);
		assert_int_equal(sf_netdev_transmit(a, f, sizeof(f), id), 0);
	}
	sf_sim_stats_t st;
	sf_sim_link_stats(link, 0, &st);
	assert_int_equal(st.queue_drops, 5000 - 4096);
	assert_int_equal(drain_until(b, INT64_MAX - 1, NULL, 0, NULL), 4096);
	sf_sim_link_destroy(link);

	/* Out-of-range impairments are refused. */
	const sf_impair_t bad[] = {
	        {.loss = -0.1},   {.dup = 1.01},     {.corrupt = 2},     {.reorder = -1},
	        {.delay_us = -1}, {.jitter_us = -5}, {.reorder_us = -1}, {.delay_us = INT64_MAX},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_null(sf_sim_link_create(1, MTU, &bad[i], NULL));
		assert_null(sf_sim_link_create(1, MTU, NULL, &bad[i]));
	}
	assert_null(sf_sim_link_create(1, 0, NULL, NULL));
}

static void test_blackout(void **state)
{
	(void)state;
	sf_impair_t imp = {.blackout_start_us = 1000, .blackout_end_us = 2000, .delay_us = 10};
	sf_sim_link_t *link = sf_sim_link_create(23, MTU, &imp, NULL);
	sf_netdev_t *a = sf_sim_link_endpoint(link, 0), *b = sf_sim_link_endpoint(link, 1);
	uint8_t f[30], buf[MTU];
	for (int64_t t = 0; t < 3000; t += 100) {
		make_frame(f, sizeof(f), (uint32_t)t);
		sf_netdev_transmit(a, f, sizeof(f), t);
		int n = sf_netdev_receive(b, buf, sizeof(buf), t + 10);
		if (t >= 1000 && t < 2000) {
			assert_int_equal(n, 0);
		} else {
			assert_int_equal(n, (int)sizeof(f));
			assert_int_equal(frame_id(buf), (uint32_t)t);
		}
	}
	sf_sim_stats_t st;
	sf_sim_link_stats(link, 0, &st);
	assert_int_equal(st.lost, 10);
	assert_int_equal(st.delivered, 20);
	sf_sim_link_destroy(link);
}

static void test_jitter_bounds(void **state)
{
	(void)state;
	sf_impair_t imp = {.delay_us = 1000, .jitter_us = 500};
	sf_sim_link_t *link = sf_sim_link_create(29, MTU, &imp, NULL);
	sf_netdev_t *a = sf_sim_link_endpoint(link, 0), *b = sf_sim_link_endpoint(link, 1);
	uint8_t f[20];
	enum { N = 2000 };
	static delivery_t log[N];
	size_t cnt = 0;
	for (uint32_t id = 0; id < N; id++) {
		make_frame(f, sizeof(f), id);
		drain_until(b, (int64_t)id * 10, log, N, &cnt);
		sf_netdev_transmit(a, f, sizeof(f), (int64_t)id * 10);
	}
	drain_until(b, INT64_MAX - 1, log, N, &cnt);
	assert_int_equal(cnt, N);
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	size_t inversions = 0;
	for (size_t i = 0; i < cnt; i++) {
		int64_t extra = log[i].t_us - (int64_t)log[i].id * 10 - 1000;
		assert_true(extra >= 0 && extra <= 500);
		lo = extra < lo ? extra : lo;
		hi = extra > hi ? extra : hi;
		inversions += i > 0 && log[i].id < log[i - 1].id;
	}
	assert_true(lo < 50 && hi > 450); /* spread over the whole range */
	assert_true(inversions > 0);      /* jitter reorders */
	sf_sim_link_destroy(link);
}

/* Runs a fixed, busy scenario over a link with every impairment on and
 * logs what endpoint 1 receives. */
static size_t run_scenario(uint64_t seed, delivery_t *log, size_t cap, sf_sim_stats_t *st)
{
	sf_impair_t imp = {.loss = 0.05,
	                   .loss_every = 50,
	                   .dup = 0.05,
	                   .reorder = 0.05,
	                   .reorder_us = 3000,
	                   .corrupt = 0.05,
	                   .delay_us = 2000,
	                   .jitter_us = 700,
	                   .rate_bps = 50000000,
	                   .queue_limit = 20,
	                   .blackout_start_us = 100000,
	                   .blackout_end_us = 120000};
	sf_sim_link_t *link = sf_sim_link_create(seed, MTU, &imp, &imp);
	sf_netdev_t *a = sf_sim_link_endpoint(link, 0), *b = sf_sim_link_endpoint(link, 1);
	uint8_t f[MTU];
	size_t cnt = 0;
	for (uint32_t id = 0; id < 3000; id++) {
		int64_t t = (int64_t)id * 100;
		size_t len = 40 + (id * 37) % 1400;
		make_frame(f, len, id);
		drain_until(b, t, log, cap, &cnt);
		assert_int_equal(sf_netdev_transmit(a, f, len, t), 0);
	}
	drain_until(b, INT64_MAX - 1, log, cap, &cnt);
	sf_sim_link_stats(link, 0, st);
	sf_sim_stats_t other;
	sf_sim_link_stats(link, 1, &other);
	assert_int_equal(other.sent, 0);
	assert_int_equal(other.delivered, 0);
	sf_sim_link_destroy(link);
	return cnt;
}

static void test_determinism_and_stats(void **state)
{
	(void)state;
	enum { CAP = 4000 };
	static delivery_t l1[CAP], l2[CAP], l3[CAP];
	sf_sim_stats_t s1, s2, s3;
	size_t n1 = run_scenario(99, l1, CAP, &s1);
	size_t n2 = run_scenario(99, l2, CAP, &s2);
	size_t n3 = run_scenario(100, l3, CAP, &s3);
	assert_int_equal(n1, n2);
	assert_memory_equal(l1, l2, n1 * sizeof(l1[0]));
	assert_memory_equal(&s1, &s2, sizeof(s1));
	assert_true(n1 != n3 || memcmp(l1, l3, n1 * sizeof(l1[0])) != 0);

	/* The counters add up: every frame sent is lost, dropped at the queue
	 * or delivered, and each duplicate adds one delivery. */
	assert_int_equal(s1.sent, 3000);
	assert_int_equal(s1.delivered, n1);
	assert_int_equal(s1.sent + s1.duplicated, s1.delivered + s1.lost + s1.queue_drops);
	assert_true(s1.lost > 200 && s1.duplicated > 0 && s1.corrupted > 0 && s1.reordered > 0);
	/* 200 frames fall in the blackout, and loss_every takes most of its 56
	 * frames outside it (those the full queue dropped first excepted). */
	assert_true(s1.lost >= 240);
	assert_true(s1.queue_drops > 0); /* 50 Mbit/s cannot quite carry this load */
	/* Deliveries come in time order. */
	for (size_t i = 1; i < n1; i++)
		assert_true(l1[i].t_us >= l1[i - 1].t_us);
}

static void test_impair_wrapper(void **state)
{
	(void)state;
	sf_sim_link_t *link = sf_sim_link_create(31, MTU, NULL, NULL);
	sf_impair_t tx = {.delay_us = 1000, .loss_every = 2};
	sf_impair_t rx = {.delay_us = 500};
	sf_netdev_t *a = sf_impair_wrap(sf_sim_link_endpoint(link, 0), 5, &tx, NULL);
	sf_netdev_t *b = sf_impair_wrap(sf_sim_link_endpoint(link, 1), 6, NULL, &rx);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a->name, "impair(sim0)");
	assert_int_equal(a->mtu, MTU);
	assert_int_equal(a->fd(a), -1);
	uint8_t f[100], buf[MTU];

	make_frame(f, sizeof(f), 1);
	assert_int_equal(sf_netdev_transmit(a, f, sizeof(f), 0), 0);
	make_frame(f, sizeof(f), 2); /* the 2nd frame: lost */
	assert_int_equal(sf_netdev_transmit(a, f, sizeof(f), 10), 0);
	make_frame(f, sizeof(f), 3);
	assert_int_equal(sf_netdev_transmit(a, f, sizeof(f), 20), 0);
	/* Held by the wrapper, not yet on the inner link. */
	assert_int_equal(sf_netdev_next_deadline(a), 1000);
	assert_int_equal(sf_netdev_next_deadline(b), SF_NO_DEADLINE);
	assert_int_equal(sf_netdev_receive(a, buf, sizeof(buf), 999), 0);
	assert_int_equal(sf_netdev_next_deadline(b), SF_NO_DEADLINE);
	/* Released by a's receive() at 1000, onto the perfect sim link. */
	assert_int_equal(sf_netdev_receive(a, buf, sizeof(buf), 1000), 0);
	assert_int_equal(sf_netdev_next_deadline(a), 1020);
	assert_int_equal(sf_netdev_next_deadline(b), 1000);
	/* b pulls it into its rx engine at 1000: due 500 us later. */
	assert_int_equal(sf_netdev_receive(b, buf, sizeof(buf), 1000), 0);
	assert_int_equal(sf_netdev_next_deadline(b), 1500);
	assert_int_equal(sf_netdev_receive(b, buf, sizeof(buf), 1500), (int)sizeof(f));
	assert_int_equal(frame_id(buf), 1);
	/* Frame 3 is released by a's transmit() of a later frame. */
	make_frame(f, sizeof(f), 4);
	assert_int_equal(sf_netdev_transmit(a, f, sizeof(f), 1020), 0); /* 4th: lost */
	assert_int_equal(sf_netdev_next_deadline(a), SF_NO_DEADLINE);
	assert_int_equal(sf_netdev_receive(b, buf, sizeof(buf), 1020), 0);
	assert_int_equal(sf_netdev_receive(b, buf, sizeof(buf), 1520), (int)sizeof(f));
	assert_int_equal(frame_id(buf), 3);
	assert_int_equal(sf_netdev_next_deadline(b), SF_NO_DEADLINE);

	/* The other directions pass straight through. */
	make_frame(f, sizeof(f), 5);
	assert_int_equal(sf_netdev_transmit(b, f, sizeof(f), 2000), 0);
	assert_int_equal(sf_netdev_receive(a, buf, sizeof(buf), 2000), (int)sizeof(f));
	assert_int_equal(frame_id(buf), 5);

	/* Bad impairment values are refused and the inner stays ours. */
	sf_impair_t bad = {.loss = 1.5};
	assert_null(sf_impair_wrap(sf_sim_link_endpoint(link, 0), 1, &bad, NULL));

	/* Destroying a wrapper destroys the inner netdev; a sim endpoint
	 * belongs to its link, so the link is freed separately. */
	sf_netdev_destroy(a);
	sf_netdev_destroy(b);
	sf_sim_link_destroy(link);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_delivery_at_exact_delay),
	        cmocka_unit_test(test_loss_rate),
	        cmocka_unit_test(test_loss_every),
	        cmocka_unit_test(test_duplication),
	        cmocka_unit_test(test_reordering),
	        cmocka_unit_test(test_corruption),
	        cmocka_unit_test(test_rate_limit),
	        cmocka_unit_test(test_queue_limit),
	        cmocka_unit_test(test_pool_and_config_limits),
	        cmocka_unit_test(test_blackout),
	        cmocka_unit_test(test_jitter_bounds),
	        cmocka_unit_test(test_determinism_and_stats),
	        cmocka_unit_test(test_impair_wrapper),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
