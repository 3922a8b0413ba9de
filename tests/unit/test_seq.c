/* Unit tests for sequence-number arithmetic (include/synfin/wire.h, RFC 9293
 * §3.4): comparisons are modulo 2^32, so they must hold across the wrap from
 * 0xFFFFFFFF to 0, and sf_seq_in_window must treat an empty window as
 * containing nothing and a window that straddles the wrap as contiguous.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "synfin/wire.h"

/* Checks every comparison of a against b, given that a is strictly before b. */
static void expect_before(uint32_t a, uint32_t b)
{
	assert_true(sf_seq_lt(a, b));
	assert_true(sf_seq_le(a, b));
	assert_false(sf_seq_gt(a, b));
	assert_false(sf_seq_ge(a, b));
	assert_false(sf_seq_lt(b, a));
	assert_false(sf_seq_le(b, a));
	assert_true(sf_seq_gt(b, a));
	assert_true(sf_seq_ge(b, a));
	assert_int_equal(sf_seq_max(a, b), b);
	assert_int_equal(sf_seq_max(b, a), b);
	assert_int_equal(sf_seq_min(a, b), a);
	assert_int_equal(sf_seq_min(b, a), a);
}

static void test_compare_plain(void **state)
{
	(void)state;
	expect_before(0, 1);
	expect_before(1000, 2000);
	expect_before(0x7ffffffe, 0x7fffffff);
	expect_before(0x7fffffff, 0x80000000u);
}

static void test_compare_across_wrap(void **state)
{
	(void)state;
	expect_before(0xffffffffu, 0);
	expect_before(0xffffffffu, 1);
	expect_before(0xfffffff0u, 0x10);
	expect_before(0x80000001u, 0); /* 2^31 - 1 apart: still ordered */
	expect_before(0, 0x7fffffffu);
	/* The largest forward distance that is still "after". */
	expect_before(0xc0000000u, 0xc0000000u + 0x7fffffffu);
}

static void test_compare_equal(void **state)
{
	(void)state;
	const uint32_t vals[] = {0, 1, 0x7fffffffu, 0x80000000u, 0xffffffffu};
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		uint32_t v = vals[i];
		assert_false(sf_seq_lt(v, v));
		assert_true(sf_seq_le(v, v));
		assert_false(sf_seq_gt(v, v));
		assert_true(sf_seq_ge(v, v));
		assert_int_equal(sf_seq_max(v, v), v);
		assert_int_equal(sf_seq_min(v, v), v);
	}
}

/* Exactly 2^31 apart the order is undefined (RFC 1982 §3.2); with the
 * signed-difference definition each number is "before" the other. Callers
 * keep windows below 2^31 (RFC 7323 §2.3 caps the window at 2^30). */
static void test_compare_half_space(void **state)
{
	(void)state;
	assert_true(sf_seq_lt(0, 0x80000000u));
	assert_true(sf_seq_lt(0x80000000u, 0));
	assert_true(sf_seq_lt(0xffffffffu, 0x7fffffffu));
	assert_true(sf_seq_lt(0x7fffffffu, 0xffffffffu));
}

static void test_window_edges(void **state)
{
	(void)state;
	/* [1000, 1010) */
	assert_false(sf_seq_in_window(999, 1000, 10));
	assert_true(sf_seq_in_window(1000, 1000, 10));
	assert_true(sf_seq_in_window(1009, 1000, 10));
	assert_false(sf_seq_in_window(1010, 1000, 10));
	/* One-byte window holds exactly lo. */
	assert_true(sf_seq_in_window(5, 5, 1));
	assert_false(sf_seq_in_window(6, 5, 1));
	assert_false(sf_seq_in_window(4, 5, 1));
}

static void test_window_empty(void **state)
{
	(void)state;
	const uint32_t los[] = {0, 1, 1000, 0x80000000u, 0xffffffffu};
	for (size_t i = 0; i < sizeof los / sizeof los[0]; i++) {
		uint32_t lo = los[i];
		assert_false(sf_seq_in_window(lo, lo, 0));
		assert_false(sf_seq_in_window(lo - 1, lo, 0));
		assert_false(sf_seq_in_window(lo + 1, lo, 0));
	}
}

static void test_window_across_wrap(void **state)
{
	(void)state;
	/* [0xfffffff0, 0x10) */
	const uint32_t lo = 0xfffffff0u, len = 0x20;
	assert_false(sf_seq_in_window(0xffffffefu, lo, len));
	assert_true(sf_seq_in_window(0xfffffff0u, lo, len));
	assert_true(sf_seq_in_window(0xffffffffu, lo, len));
	assert_true(sf_seq_in_window(0, lo, len));
	assert_true(sf_seq_in_window(0x0f, lo, len));
	assert_false(sf_seq_in_window(0x10, lo, len));
	/* Window ending exactly at the wrap: [0xfffffffe, 0). */
	assert_true(sf_seq_in_window(0xffffffffu, 0xfffffffeu, 2));
	assert_false(sf_seq_in_window(0, 0xfffffffeu, 2));
	/* Window starting at 0 does not contain the number before it. */
	assert_false(sf_seq_in_window(0xffffffffu, 0, 100));
}

static void test_window_huge(void **state)
{
	(void)state;
	/* The largest window: everything but the number just before lo. */
	assert_true(sf_seq_in_window(1234, 1235, 0xffffffffu) == false);
	assert_true(sf_seq_in_window(1233, 1235, 0xffffffffu));
	assert_true(sf_seq_in_window(1235, 1235, 0xffffffffu));
	/* A 2^30 window (RFC 7323 maximum) across the wrap. */
	assert_true(sf_seq_in_window(0x3ffffffeu, 0xffffffffu, 0x40000000u));
	assert_false(sf_seq_in_window(0x3fffffffu, 0xffffffffu, 0x40000000u));
}

/* Walking a window forward through the wrap one step at a time keeps the
 * comparisons consistent with in_window. */
static void test_walk_through_wrap(void **state)
{
	(void)state;
	const uint32_t len = 100;
	for (uint32_t lo = 0xffffff00u; lo != 0x100; lo++) {
		uint32_t hi = lo + len;
		assert_true(sf_seq_lt(lo, hi));
		assert_true(sf_seq_in_window(lo, lo, len));
		assert_true(sf_seq_in_window(hi - 1, lo, len));
		assert_false(sf_seq_in_window(hi, lo, len));
		assert_false(sf_seq_in_window(lo - 1, lo, len));
		assert_true(sf_seq_ge(lo + 50, lo) && sf_seq_lt(lo + 50, hi));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_compare_plain),
	        cmocka_unit_test(test_compare_across_wrap),
	        cmocka_unit_test(test_compare_equal),
	        cmocka_unit_test(test_compare_half_space),
	        cmocka_unit_test(test_window_edges),
	        cmocka_unit_test(test_window_empty),
	        cmocka_unit_test(test_window_across_wrap),
	        cmocka_unit_test(test_window_huge),
	        cmocka_unit_test(test_walk_through_wrap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
