/* Unit tests for the Internet checksum (src/wire/checksum.c): the published
 * RFC 1071 example and a known IPv4 header, then the fast word-wise sum
 * against a naive byte-pair reference for every length 0..2000 at every start
 * alignment 0..7, chained chunks, checksum-while-copying, the RFC 1624
 * incremental update against a recompute, and the pseudo-header sum.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "synfin/wire.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	/* xorshift64*: deterministic, so failures reproduce. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void fill_random(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)next_rand();
}

/* RFC 1071 §1 taken literally: 16-bit big-endian pairs, odd byte padded. */
static uint32_t naive_sum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	size_t i;
	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (i < len)
		s += (uint32_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

/* A 64-bit running sum folded 16 bits at a time. */
static uint32_t naive_fold64(uint64_t v)
{
	uint32_t s = 0;
	for (int i = 0; i < 4; i++)
		s += (uint32_t)(v >> (16 * i)) & 0xffff;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

static uint16_t naive_csum(const uint8_t *p, size_t len)
{
	return (uint16_t)~naive_sum(p, len);
}

static void test_rfc1071_example(void **state)
{
	(void)state;
	/* RFC 1071 §3: the one's complement sum of these bytes is ddf2. */
	const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	uint64_t sum = sf_csum_add(0, data, sizeof data);
	assert_int_equal(sf_csum_fold(sum), (uint16_t)~0xddf2);
	assert_int_equal(sf_csum(data, sizeof data), 0x220d);
	/* The same from every start alignment. */
	uint8_t buf[16];
	for (size_t a = 0; a < 8; a++) {
		memcpy(buf + a, data, sizeof data);
		assert_int_equal(sf_csum(buf + a, sizeof data), 0x220d);
	}
}

static void test_ipv4_header_vector(void **state)
{
	(void)state;
	uint8_t hdr[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	                 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	assert_int_equal(sf_csum(hdr, sizeof hdr), 0xb861);
	sf_put16(hdr + 10, 0xb861);
	/* A header carrying its correct checksum sums to -0, i.e. verifies. */
	assert_int_equal(sf_csum(hdr, sizeof hdr), 0);
	hdr[15] ^= 0x01;
	assert_int_not_equal(sf_csum(hdr, sizeof hdr), 0);
}

static void test_edge_values(void **state)
{
	(void)state;
	const uint8_t zeros[64] = {0};
	uint8_t ones[64];
	memset(ones, 0xff, sizeof ones);
	assert_int_equal(sf_csum(NULL, 0), 0xffff);
	assert_int_equal(sf_csum(zeros, sizeof zeros), 0xffff);
	assert_int_equal(sf_csum(ones, 2), 0x0000);
	assert_int_equal(sf_csum(ones, sizeof ones), 0x0000);
	assert_int_equal(sf_csum(ones, 1), 0x00ff); /* ff 00 -> ~ff00 */
	const uint8_t one_byte = 0x12;
	assert_int_equal(sf_csum(&one_byte, 1), (uint16_t)~0x1200);
	/* Folding: carries out of bit 15, 31 and 63 wrap around. */
	assert_int_equal(sf_csum_fold(0), 0xffff);
	assert_int_equal(sf_csum_fold(0xffff), 0x0000);
	assert_int_equal(sf_csum_fold(0x1fffe), 0x0000);
	assert_int_equal(sf_csum_fold(0x10000), (uint16_t)~0x0001);
	assert_int_equal(sf_csum_fold(0xffffffffffffffffull), 0x0000);
	assert_int_equal(sf_csum_fold(0x0001000200030004ull), (uint16_t)~0x000a);
}

static void test_random_every_length_and_alignment(void **state)
{
	(void)state;
	enum { MAX_LEN = 2000 };
	static uint8_t buf[MAX_LEN + 8];
	fill_random(buf, sizeof buf);
	for (size_t a = 0; a < 8; a++) {
		for (size_t len = 0; len <= MAX_LEN; len++) {
			uint16_t want = naive_csum(buf + a, len);
			uint16_t got = sf_csum(buf + a, len);
			if (got != want)
				fail_msg("align %zu len %zu: got %04x want %04x", a, len, got,
				         want);
		}
	}
}

static void test_carry_heavy_inputs(void **state)
{
	(void)state;
	/* All 0xff and near-0xff words make every 64-bit add carry. */
	enum { LEN = 1 << 16 };
	static uint8_t buf[LEN + 8];
	memset(buf, 0xff, sizeof buf);
	for (size_t a = 0; a < 8; a++) {
		assert_int_equal(sf_csum(buf + a, LEN), naive_csum(buf + a, LEN));
		assert_int_equal(sf_csum(buf + a, LEN - 1), naive_csum(buf + a, LEN - 1));
	}
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(0xf0 | (next_rand() & 0x0f));
	for (size_t a = 0; a < 8; a++)
		assert_int_equal(sf_csum(buf + a, LEN - a), naive_csum(buf + a, LEN - a));
	/* A running sum near 2^64 still adds with end-around carry. */
	uint64_t big = 0xfffffffffffffff0ull;
	uint32_t want = naive_fold64(big) + naive_sum(buf, 100);
	want = (want & 0xffff) + (want >> 16);
	assert_int_equal(sf_csum_fold(sf_csum_add(big, buf, 100)), (uint16_t)~want);
}

static void test_chained_chunks(void **state)
{
	(void)state;
	enum { LEN = 3000 };
	static uint8_t buf[LEN + 8];
	for (int round = 0; round < 2000; round++) {
		size_t a = next_rand() % 8;
		size_t len = next_rand() % (LEN + 1);
		fill_random(buf + a, len);
		uint64_t sum = 0;
		size_t off = 0;
		/* Split into random even-length chunks; the last may be odd. */
		while (off < len) {
			size_t chunk = (next_rand() % 200) & ~(size_t)1;
			if (chunk > len - off || next_rand() % 8 == 0)
				chunk = len - off;
			sum = sf_csum_add(sum, buf + a + off, chunk);
			off += chunk;
		}
		assert_int_equal(sf_csum_fold(sum), naive_csum(buf + a, len));
	}
	/* Zero-length chunks anywhere change nothing. */
	uint64_t s = sf_csum_add(0, buf, 0);
	s = sf_csum_add(s, buf, 10);
	s = sf_csum_add(s, buf + 10, 0);
	s = sf_csum_add(s, buf + 10, 11);
	assert_int_equal(sf_csum_fold(s), naive_csum(buf, 21));
}

static void test_copy_equals_memcpy_and_sum(void **state)
{
	(void)state;
	enum { MAX_LEN = 700, GUARD = 16 };
	static uint8_t src[MAX_LEN + 8];
	static uint8_t dst[MAX_LEN + 8 + GUARD];
	fill_random(src, sizeof src);
	for (size_t sa = 0; sa < 8; sa++) {
		for (size_t da = 0; da < 8; da++) {
			for (size_t len = 0; len <= MAX_LEN; len += (len < 80 ? 1 : 37)) {
				memset(dst, 0xa5, sizeof dst);
				uint64_t init = next_rand() & 0xffffffff;
				uint64_t got = sf_csum_copy(init, dst + da, src + sa, len);
				assert_memory_equal(dst + da, src + sa, len);
				/* Nothing written outside [da, da + len). */
				for (size_t i = 0; i < da; i++)
					assert_int_equal(dst[i], 0xa5);
				for (size_t i = da + len; i < sizeof dst; i++)
					assert_int_equal(dst[i], 0xa5);
				uint64_t want = sf_csum_add(init, src + sa, len);
				assert_int_equal(sf_csum_fold(got), sf_csum_fold(want));
			}
		}
	}
	/* Chained copies build a checksummed buffer like one add over it. */
	uint64_t s = sf_csum_copy(0, dst, src, 64);
	s = sf_csum_copy(s, dst + 64, src + 64, 101);
	assert_memory_equal(dst, src, 165);
	assert_int_equal(sf_csum_fold(s), naive_csum(src, 165));
}

/* Recomputes the checksum of a 20-byte IP-like header (word 5 = checksum). */
static uint16_t recompute(uint8_t *hdr)
{
	sf_put16(hdr + 10, 0);
	uint16_t c = naive_csum(hdr, 20);
	sf_put16(hdr + 10, c);
	return c;
}

static void test_update16_matches_recompute(void **state)
{
	(void)state;
	const uint16_t edges[] = {0x0000, 0xffff, 0x0001, 0xfffe, 0x8000, 0x7fff};
	uint8_t hdr[20];
	for (int round = 0; round < 20000; round++) {
		fill_random(hdr, sizeof hdr);
		hdr[0] = 0x45; /* as in any real header, some word is never zero */
		if (round % 4 == 0)
			memset(hdr + 2, round % 8 ? 0x00 : 0xff, 8); /* extreme sums */
		uint16_t csum = recompute(hdr);
		for (int step = 0; step < 4; step++) {
			size_t w = 1 + next_rand() % 9;
			if (w == 5)
				w = 4; /* not the checksum word itself */
			uint16_t old_val = sf_be16(hdr + 2 * w);
			uint16_t new_val = (uint16_t)next_rand();
			if (next_rand() % 2)
				new_val = edges[next_rand() % (sizeof edges / sizeof edges[0])];
			sf_put16(hdr + 2 * w, new_val);
			csum = sf_csum_update16(csum, old_val, new_val);
			uint8_t copy[20];
			memcpy(copy, hdr, sizeof copy);
			uint16_t want = recompute(copy);
			if (csum != want)
				fail_msg("round %d word %zu %04x->%04x: got %04x want %04x", round,
				         w, old_val, new_val, csum, want);
			sf_put16(hdr + 10, csum);
			assert_int_equal(sf_csum(hdr, sizeof hdr), 0);
		}
	}
	/* RFC 1624 §4's example: the other words sum to 0xcd7a, m = 0x5555
	 * becomes m' = 0x3285; HC = 0xdd2f, and HC' must be 0x0000 (eqn. 2
	 * gave 0xffff). */
	uint8_t h[4] = {0xcd, 0x7a, 0x55, 0x55};
	uint16_t c = naive_csum(h, 4);
	assert_int_equal(c, 0xdd2f);
	uint16_t nc = sf_csum_update16(c, 0x5555, 0x3285);
	h[2] = 0x32;
	h[3] = 0x85;
	assert_int_equal(nc, naive_csum(h, 4));
	assert_int_equal(nc, 0x0000);
	/* Unchanged field: unchanged checksum. */
	assert_int_equal(sf_csum_update16(0x1234, 0xabcd, 0xabcd), 0x1234);
}

static void test_pseudo_header(void **state)
{
	(void)state;
	for (int round = 0; round < 5000; round++) {
		uint32_t src = (uint32_t)next_rand(), dst = (uint32_t)next_rand();
		uint8_t proto = (uint8_t)next_rand();
		uint16_t len = (uint16_t)next_rand();
		if (round == 0) {
			src = dst = 0xffffffff;
			proto = 0xff;
			len = 0xffff;
		}
		/* RFC 9293 §3.1: src, dst, zero, PTCL, TCP length. */
		uint8_t ph[12 + 7];
		sf_put32(ph, src);
		sf_put32(ph + 4, dst);
		ph[8] = 0;
		ph[9] = proto;
		sf_put16(ph + 10, len);
		fill_random(ph + 12, 7);
		uint64_t s = sf_csum_add(sf_csum_pseudo(src, dst, proto, len), ph + 12, 7);
		assert_int_equal(sf_csum_fold(s), naive_csum(ph, sizeof ph));
	}
	/* A known segment: a 20-byte TCP SYN 192.0.2.1:40000 -> 192.0.2.2:80. */
	uint8_t seg[20] = {0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00,
	                   0x00, 0x00, 0x50, 0x02, 0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00};
	uint64_t s = sf_csum_add(sf_csum_pseudo(0xc0000201, 0xc0000202, 6, 20), seg, 20);
	uint16_t c = sf_csum_fold(s);
	/* By hand: c000+0201+c000+0202+0006+0014 + 9c40+0050+03e8+5002+faf0 */
	uint32_t h = 0xc000 + 0x0201 + 0xc000 + 0x0202 + 0x0006 + 0x0014 + 0x9c40 + 0x0050 +
	             0x03e8 + 0x5002 + 0xfaf0;
	while (h >> 16)
		h = (h & 0xffff) + (h >> 16);
	assert_int_equal(c, (uint16_t)~h);
	sf_put16(seg + 16, c);
	assert_int_equal(
	        sf_csum_fold(sf_csum_add(sf_csum_pseudo(0xc0000201, 0xc0000202, 6, 20), seg, 20)),
	        0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_rfc1071_example),
	        cmocka_unit_test(test_ipv4_header_vector),
	        cmocka_unit_test(test_edge_values),
	        cmocka_unit_test(test_random_every_length_and_alignment),
	        cmocka_unit_test(test_carry_heavy_inputs),
	        cmocka_unit_test(test_chained_chunks),
	        cmocka_unit_test(test_copy_equals_memcpy_and_sum),
	        cmocka_unit_test(test_update16_matches_recompute),
	        cmocka_unit_test(test_pseudo_header),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
