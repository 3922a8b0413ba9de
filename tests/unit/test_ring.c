/* Byte ring: directed cases for write, read, peek, write_at, commit and
 * consume across the physical wrap point, capacity 1 and odd sizes, and a
 * seeded random model test. The model is a linear copy of the block in
 * logical order (offset 0 = head): consuming n bytes rotates it left by n,
 * which is exactly what happens to the physical bytes, so even committing
 * bytes that were never written is checked byte for byte. The ring's block
 * sits between guard bytes that must never change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/ring.h"

#define GUARD      16
#define GUARD_BYTE 0xa5

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint32_t rnd_below(uint32_t n)
{
	return n == 0 ? 0 : (uint32_t)(rnd() % n);
}

static void fill_pattern(uint8_t *p, uint32_t n, uint8_t start)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)(start + i);
}

static void test_basic_write_read(void **state)
{
	(void)state;
	uint8_t mem[10], in[16], out[16];
	sf_ring_t r;
	sf_ring_init(&r, mem, sizeof mem);
	assert_int_equal(r.len, 0);
	assert_int_equal(sf_ring_free(&r), 10);
	fill_pattern(in, sizeof in, 1);
	assert_int_equal(sf_ring_write(&r, in, 4), 4);
	assert_int_equal(sf_ring_write(&r, in + 4, 12), 6); /* clipped to free */
	assert_int_equal(sf_ring_free(&r), 0);
	assert_int_equal(sf_ring_write(&r, in, 1), 0);
	memset(out, 0, sizeof out);
	assert_int_equal(sf_ring_read(&r, out, 16), 10); /* clipped to len */
	assert_memory_equal(out, in, 10);
	assert_int_equal(r.len, 0);
	assert_int_equal(sf_ring_read(&r, out, 16), 0);
	assert_int_equal(sf_ring_write(&r, in, 0), 0);
}

static void test_wrap(void **state)
{
	(void)state;
	uint8_t mem[8], in[8], out[8];
	sf_ring_t r;
	sf_ring_init(&r, mem, sizeof mem);
	fill_pattern(in, 6, 0x10);
	assert_int_equal(sf_ring_write(&r, in, 6), 6);
	assert_int_equal(sf_ring_read(&r, out, 5), 5);
	assert_memory_equal(out, in, 5);
	assert_int_equal(r.head, 5);
	/* 1 byte left at index 5; 7 more wrap around the end of the block. */
	fill_pattern(in, 7, 0x40);
	assert_int_equal(sf_ring_write(&r, in, 8), 7);
	assert_int_equal(r.len, 8);
	uint8_t want[8] = {0x15, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46};
	assert_int_equal(sf_ring_peek(&r, 0, out, 8), 8);
	assert_memory_equal(out, want, 8);
	/* A peek at an offset that starts past the physical end. */
	assert_int_equal(sf_ring_peek(&r, 4, out, 8), 4);
	assert_memory_equal(out, want + 4, 4);
	assert_int_equal(sf_ring_peek(&r, 8, out, 8), 0);
	assert_int_equal(sf_ring_peek(&r, 100, out, 8), 0);
	sf_ring_consume(&r, 3);
	assert_int_equal(r.head, 0);
	assert_int_equal(sf_ring_read(&r, out, 8), 5);
	assert_memory_equal(out, want + 3, 5);
	assert_int_equal(r.head, 5);
}

static void test_write_at_commit(void **state)
{
	(void)state;
	uint8_t mem[7], in[8], out[8];
	sf_ring_t r;
	sf_ring_init(&r, mem, sizeof mem);
	/* Move head near the end so the placement wraps. */
	fill_pattern(in, 5, 0);
	sf_ring_write(&r, in, 5);
	sf_ring_consume(&r, 5);
	assert_int_equal(r.head, 5);
	assert_int_equal(sf_ring_write(&r, "A", 1), 1);
	/* Out-of-order bytes at offsets 3..5, leaving a hole at 1..2. */
	assert_int_equal(sf_ring_write_at(&r, 3, "DEF", 3), 3);
	assert_int_equal(r.len, 1);
	assert_int_equal(sf_ring_peek(&r, 0, out, 8), 1);
	/* Fill the hole, then commit everything. */
	assert_int_equal(sf_ring_write_at(&r, 1, "BC", 2), 2);
	sf_ring_commit(&r, 5);
	assert_int_equal(r.len, 6);
	assert_int_equal(sf_ring_peek(&r, 0, out, 8), 6);
	assert_memory_equal(out, "ABCDEF", 6);
	/* Clipped at cap, and nothing at or past cap. */
	assert_int_equal(sf_ring_write_at(&r, 6, "xyz", 3), 1);
	assert_int_equal(sf_ring_write_at(&r, 7, "xyz", 3), 0);
	assert_int_equal(sf_ring_write_at(&r, UINT32_MAX, "xyz", 3), 0);
	assert_int_equal(r.len, 6);
	sf_ring_commit(&r, 1);
	assert_int_equal(sf_ring_read(&r, out, 8), 7);
	assert_memory_equal(out, "ABCDEFx", 7);
	/* Placed bytes survive the ring running empty. */
	assert_int_equal(sf_ring_write_at(&r, 2, "QR", 2), 2);
	sf_ring_commit(&r, 4);
	assert_int_equal(sf_ring_peek(&r, 2, out, 2), 2);
	assert_memory_equal(out, "QR", 2);
	/* write_at inside the held bytes overwrites (retransmitted overlap). */
	assert_int_equal(sf_ring_write_at(&r, 3, "Z", 1), 1);
	assert_int_equal(sf_ring_peek(&r, 2, out, 2), 2);
	assert_memory_equal(out, "QZ", 2);
	assert_int_equal(r.len, 4);
}

static void test_capacity_one(void **state)
{
	(void)state;
	uint8_t mem[1], b;
	sf_ring_t r;
	sf_ring_init(&r, mem, 1);
	for (int i = 0; i < 300; i++) {
		uint8_t v = (uint8_t)i;
		assert_int_equal(sf_ring_write(&r, &v, 1), 1);
		assert_int_equal(sf_ring_write(&r, &v, 1), 0);
		assert_int_equal(sf_ring_free(&r), 0);
		assert_int_equal(sf_ring_peek(&r, 1, &b, 1), 0);
		assert_int_equal(sf_ring_read(&r, &b, 5), 1);
		assert_int_equal(b, v);
		assert_int_equal(r.head, 0);
		assert_int_equal(sf_ring_write_at(&r, 0, &v, 3), 1);
		assert_int_equal(sf_ring_write_at(&r, 1, &v, 1), 0);
		sf_ring_commit(&r, 1);
		assert_int_equal(sf_ring_read(&r, &b, 1), 1);
		assert_int_equal(b, v);
	}
}

/* Runs `ops` random operations on a ring of capacity cap against the model. */
static void run_model(uint32_t cap, uint32_t ops)
{
	static uint8_t block[GUARD + 5000 + GUARD];
	static uint8_t model[5000], tmp[5000], data[5000], out[5000];
	assert_true(cap <= 5000);
	memset(block, GUARD_BYTE, sizeof block);
	uint8_t *mem = block + GUARD;
	memset(mem, 0, cap);
	memset(model, 0, cap);
	uint32_t len = 0;
	sf_ring_t r;
	sf_ring_init(&r, mem, cap);

	for (uint32_t op = 0; op < ops; op++) {
		/* Sizes: mostly small, sometimes up to and past the capacity. */
		uint32_t n = rnd_below(4) == 0 ? rnd_below(cap + 3) : rnd_below(cap / 4 + 2);
		uint32_t off, got, want;
		switch (rnd_below(7)) {
		case 0: /* write */
			fill_pattern(data, n, (uint8_t)rnd());
			want = n < cap - len ? n : cap - len;
			got = sf_ring_write(&r, data, n);
			assert_int_equal(got, want);
			memcpy(model + len, data, want);
			len += want;
			break;
		case 1: /* write_at, anywhere up to a little past cap */
			off = rnd_below(cap + 2);
			fill_pattern(data, n, (uint8_t)rnd());
			want = off >= cap ? 0 : (n < cap - off ? n : cap - off);
			got = sf_ring_write_at(&r, off, data, n);
			assert_int_equal(got, want);
			memcpy(model + (off < cap ? off : 0), data, want);
			break;
		case 2: /* commit */
			n = rnd_below(cap - len + 1);
			sf_ring_commit(&r, n);
			len += n;
			break;
		case 3: /* peek */
			off = rnd_below(len + 2);
			want = off >= len ? 0 : (n < len - off ? n : len - off);
			got = sf_ring_peek(&r, off, out, n);
			assert_int_equal(got, want);
			assert_memory_equal(out, model + (off < len ? off : 0), want);
			break;
		case 4: /* consume */
		case 5: /* read */
			if (op % 2 == 0) {
				want = n < len ? n : len;
				got = sf_ring_read(&r, out, n);
				assert_int_equal(got, want);
				assert_memory_equal(out, model, want);
			} else {
				want = rnd_below(len + 1);
				sf_ring_consume(&r, want);
			}
			/* Model: rotate left by `want`. */
			memcpy(tmp, model, want);
			memmove(model, model + want, cap - want);
			memcpy(model + cap - want, tmp, want);
			len -= want;
			break;
		default: /* the whole block, in logical order, through peek */
		{
			uint32_t saved = r.len;
			r.len = cap; /* peek everything, including bytes past len */
			assert_int_equal(sf_ring_peek(&r, 0, out, cap), cap);
			r.len = saved;
			assert_memory_equal(out, model, cap);
			break;
		}
		}
		assert_int_equal(r.len, len);
		assert_int_equal(sf_ring_free(&r), cap - len);
		assert_true(r.head < cap);
	}
	for (uint32_t i = 0; i < GUARD; i++) {
		assert_int_equal(block[i], GUARD_BYTE);
		assert_int_equal(mem[cap + i], GUARD_BYTE);
	}
}

static void test_random_model(void **state)
{
	(void)state;
	static const uint32_t caps[] = {1, 2, 3, 5, 7, 13, 64, 100, 251, 1000, 4093};
	rng_state = 20240601;
	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
		run_model(caps[i], 10000);
	run_model(4096, 100000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_basic_write_read), cmocka_unit_test(test_wrap),
	        cmocka_unit_test(test_write_at_commit),  cmocka_unit_test(test_capacity_one),
	        cmocka_unit_test(test_random_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
