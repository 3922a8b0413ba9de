/* The range set (src/core/ranges.h) alone: merging, recency order, both
 * eviction policies, trimming, advancing, the queries recovery.c uses,
 * sequence wrap-around, and a long random run checked against a plain
 * bitmap model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/ranges.h"

static void expect(const sf_ranges_t *s, size_t n, const uint32_t *lr)
{
	assert_int_equal(s->cnt, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(s->r[i].left, lr[2 * i]);
		assert_int_equal(s->r[i].right, lr[2 * i + 1]);
	}
}

static void add_merges_and_orders_by_recency(void **state)
{
	(void)state;
	sf_ranges_t s;
	sf_ranges_init(&s, 8);
	assert_true(sf_ranges_add(&s, 100, 200, SF_EVICT_OLDEST));
	assert_true(sf_ranges_add(&s, 300, 400, SF_EVICT_OLDEST));
	expect(&s, 2, (uint32_t[]){300, 400, 100, 200});
	/* Empty ranges change nothing. */
	assert_true(sf_ranges_add(&s, 500, 500, SF_EVICT_OLDEST));
	assert_int_equal(s.cnt, 2);
	/* Touching (adjacent) merges; the merged range comes first. */
	sf_ranges_add(&s, 200, 250, SF_EVICT_OLDEST);
	expect(&s, 2, (uint32_t[]){100, 250, 300, 400});
	/* A range bridging two becomes one. */
	sf_ranges_add(&s, 240, 310, SF_EVICT_OLDEST);
	expect(&s, 1, (uint32_t[]){100, 400});
	/* Contained: no change but recency. */
	sf_ranges_add(&s, 150, 160, SF_EVICT_OLDEST);
	expect(&s, 1, (uint32_t[]){100, 400});
}

static void evict_oldest(void **state)
{
	(void)state;
	sf_ranges_t s;
	sf_ranges_init(&s, 3);
	for (uint32_t i = 0; i < 3; i++)
		sf_ranges_add(&s, i * 100, i * 100 + 10, SF_EVICT_OLDEST);
	assert_true(sf_ranges_add(&s, 1000, 1010, SF_EVICT_OLDEST));
	expect(&s, 3, (uint32_t[]){1000, 1010, 200, 210, 100, 110});
}

static void evict_highest(void **state)
{
	(void)state;
	sf_ranges_t s;
	sf_ranges_init(&s, 3);
	sf_ranges_add(&s, 500, 510, SF_EVICT_HIGHEST);
	sf_ranges_add(&s, 100, 110, SF_EVICT_HIGHEST);
	sf_ranges_add(&s, 300, 310, SF_EVICT_HIGHEST);
	/* Above everything held: refused. */
	assert_false(sf_ranges_add(&s, 900, 910, SF_EVICT_HIGHEST));
	assert_int_equal(s.cnt, 3);
	/* Below the highest: the highest goes. */
	assert_true(sf_ranges_add(&s, 200, 210, SF_EVICT_HIGHEST));
	expect(&s, 3, (uint32_t[]){200, 210, 300, 310, 100, 110});
}

static void trim_and_advance(void **state)
{
	(void)state;
	sf_ranges_t s;
	sf_ranges_init(&s, 8);
	sf_ranges_add(&s, 100, 200, SF_EVICT_OLDEST);
	sf_ranges_add(&s, 300, 400, SF_EVICT_OLDEST);
	sf_ranges_add(&s, 500, 600, SF_EVICT_OLDEST);
	sf_ranges_trim(&s, 150);
	expect(&s, 3, (uint32_t[]){500, 600, 300, 400, 150, 200});
	sf_ranges_trim(&s, 400);
	expect(&s, 1, (uint32_t[]){500, 600});
	/* Advancing: RCV.NXT at 90 reaches nothing; at 100 it crosses
	 * [100, 200), and the hop to 200 does not reach [300, ...). */
	sf_ranges_clear(&s);
	sf_ranges_add(&s, 300, 400, SF_EVICT_OLDEST);
	sf_ranges_add(&s, 100, 200, SF_EVICT_OLDEST);
	sf_ranges_add(&s, 400, 450, SF_EVICT_OLDEST); /* merges with 300 */
	assert_int_equal(sf_ranges_advance(&s, 90), 90);
	assert_int_equal(sf_ranges_advance(&s, 100), 200);
	expect(&s, 1, (uint32_t[]){300, 450});
	/* Several hops at once, order not mattering. */
	sf_ranges_add(&s, 200, 250, SF_EVICT_OLDEST);
	sf_ranges_add(&s, 250, 300, SF_EVICT_OLDEST);
	assert_int_equal(sf_ranges_advance(&s, 200), 450);
	assert_int_equal(s.cnt, 0);
}

static void queries(void **state)
{
	(void)state;
	sf_ranges_t s;
	sf_ranges_init(&s, 8);
	assert_int_equal(sf_ranges_highest(&s, 77), 77);
	assert_null(sf_ranges_find(&s, 5));
	sf_ranges_add(&s, 100, 200, SF_EVICT_HIGHEST);
	sf_ranges_add(&s, 300, 350, SF_EVICT_HIGHEST);
	assert_int_equal(sf_ranges_bytes_from(&s, 0), 150);
	assert_int_equal(sf_ranges_bytes_from(&s, 150), 100);
	assert_int_equal(sf_ranges_bytes_from(&s, 320), 30);
	assert_int_equal(sf_ranges_bytes_from(&s, 350), 0);
	assert_int_equal(sf_ranges_highest(&s, 0), 350);
	assert_int_equal(sf_ranges_highest(&s, 1000), 1000);
	assert_int_equal(sf_ranges_find(&s, 100)->right, 200);
	assert_int_equal(sf_ranges_find(&s, 199)->right, 200);
	assert_null(sf_ranges_find(&s, 200));
	assert_int_equal(sf_ranges_next_left(&s, 150, 999), 300);
	assert_int_equal(sf_ranges_next_left(&s, 300, 999), 999);
	assert_int_equal(sf_ranges_next_left(&s, 0, 50), 50);
}

static void wraps_around(void **state)
{
	(void)state;
	sf_ranges_t s;
	sf_ranges_init(&s, 8);
	uint32_t top = 0xffffff00u;
	sf_ranges_add(&s, top, top + 0x80, SF_EVICT_OLDEST);
	sf_ranges_add(&s, top + 0x80, 0x40, SF_EVICT_OLDEST); /* crosses 2^32 */
	expect(&s, 1, (uint32_t[]){top, 0x40});
	assert_int_equal(sf_ranges_bytes_from(&s, top), 0x140);
	assert_int_equal(sf_ranges_highest(&s, top), 0x40);
	assert_non_null(sf_ranges_find(&s, 0x10));
	sf_ranges_trim(&s, 0x20);
	expect(&s, 1, (uint32_t[]){0x20, 0x40});
}

/* ---- against a model ---- */

#define SPAN 512
static uint64_t rng_state = 12345;
static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33) % n;
}

static void random_against_bitmap(void **state)
{
	(void)state;
	/* The model has no capacity: a round stops comparing once the set is
	 * full and might evict. */
	for (int round = 0; round < 300; round++) {
		uint32_t base = rnd(2) ? 0xfffffe00u : 1000; /* with and without wrap */
		bool bits[SPAN] = {0};
		sf_ranges_t s;
		sf_ranges_init(&s, SF_RANGES_MAX);
		for (int op = 0; op < 40; op++) {
			uint32_t a = rnd(SPAN), b = rnd(SPAN);
			if (a > b) {
				uint32_t x = a;
				a = b;
				b = x;
			}
			int kind = (int)rnd(10);
			if (kind < 7) {
				sf_ranges_t before = s;
				sf_ranges_add(&s, base + a, base + b, SF_EVICT_OLDEST);
				if (s.cnt == SF_RANGES_MAX && before.cnt == SF_RANGES_MAX) {
					/* Might have evicted: stop comparing this round. */
					break;
				}
				for (uint32_t k = a; k < b; k++)
					bits[k] = true;
			} else {
				sf_ranges_trim(&s, base + a);
				for (uint32_t k = 0; k < a; k++)
					bits[k] = false;
			}
			/* Same bytes; ranges disjoint and not touching (else they
			 * would have merged). */
			uint32_t n = 0;
			for (uint32_t k = 0; k < SPAN; k++) {
				n += bits[k];
				assert_int_equal(sf_ranges_find(&s, base + k) != NULL, bits[k]);
			}
			assert_int_equal(sf_ranges_bytes_from(&s, base), n);
			for (uint8_t i = 0; i < s.cnt; i++)
				for (uint8_t j = 0; j < s.cnt; j++)
					if (i != j)
						assert_false(
						        s.r[i].left - base <= s.r[j].right - base &&
						        s.r[i].right - base >= s.r[j].left - base);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(add_merges_and_orders_by_recency),
	        cmocka_unit_test(evict_oldest),
	        cmocka_unit_test(evict_highest),
	        cmocka_unit_test(trim_and_advance),
	        cmocka_unit_test(queries),
	        cmocka_unit_test(wraps_around),
	        cmocka_unit_test(random_against_bitmap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
