/* SipHash-2-4 against the reference vectors of Aumasson & Bernstein: key bytes
 * 00 01 .. 0f, message i = bytes 00 01 .. (i-1), output read little-endian.
 * Lengths 0..16 cover the empty message, every tail length 1..7 and the
 * 8-byte block boundary on both sides; 15 is the paper's worked example. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/siphash.h"

static const uint64_t vectors[] = {
        UINT64_C(0x726fdb47dd0e0e31), UINT64_C(0x74f839c593dc67fd), UINT64_C(0x0d6c8009d9a94f5a),
        UINT64_C(0x85676696d7fb7e2d), UINT64_C(0xcf2794e0277187b7), UINT64_C(0x18765564cd99a68d),
        UINT64_C(0xcbc9466e58fee3ce), UINT64_C(0xab0200f58b01d137), UINT64_C(0x93f5f5799a932462),
        UINT64_C(0x9e0082df0ba9e4b0), UINT64_C(0x7a5dbbc594ddb9f3), UINT64_C(0xf4b32f46226bada7),
        UINT64_C(0x751e8fbc860ee5fb), UINT64_C(0x14ea5627c0843d90), UINT64_C(0xf723ca908e7af2ee),
        UINT64_C(0xa129ca6149be45e5), UINT64_C(0x3f2acc7f57c29bdb),
};

/* The last two entries of the same table (lengths 62 and 63). */
static const uint64_t vectors_tail[2] = {UINT64_C(0xe51b38608ef25f57),
                                         UINT64_C(0x958a324ceb064572)};

/* Lengths past 127, where only the low 8 bits of the length enter the last
 * word: computed with a separate Python transcription of the paper (big
 * integers, padding built as bytes), which also reproduces the table above. */
static const struct {
	size_t len;
	uint64_t want;
} long_vectors[] = {
        {127, UINT64_C(0x9e7db1ba81dc7e3a)}, {128, UINT64_C(0xdeb79e256c8736ae)},
        {255, UINT64_C(0xa9c169fec74db21a)}, {256, UINT64_C(0x999d0526d2a7bfd7)},
        {257, UINT64_C(0x8a817b8d55b29748)}, {1000, UINT64_C(0xdb9b3ed69e31c9a6)},
};

static sf_sipkey_t reference_key(void)
{
	uint8_t k[16];
	for (int i = 0; i < 16; i++)
		k[i] = (uint8_t)i;
	sf_sipkey_t key = {0, 0};
	for (int i = 7; i >= 0; i--) {
		key.k0 = (key.k0 << 8) | k[i];
		key.k1 = (key.k1 << 8) | k[8 + i];
	}
	return key;
}

static void test_key_layout(void **state)
{
	(void)state;
	sf_sipkey_t key = reference_key();
	assert_true(key.k0 == UINT64_C(0x0706050403020100));
	assert_true(key.k1 == UINT64_C(0x0f0e0d0c0b0a0908));
}

static void test_paper_example(void **state)
{
	(void)state;
	sf_sipkey_t key = reference_key();
	uint8_t msg[15];
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	assert_true(sf_siphash24(&key, msg, sizeof msg) == UINT64_C(0xa129ca6149be45e5));
}

static void test_vector_table(void **state)
{
	(void)state;
	sf_sipkey_t key = reference_key();
	uint8_t msg[64];
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (size_t len = 0; len < sizeof vectors / sizeof vectors[0]; len++) {
		uint64_t got = sf_siphash24(&key, msg, len);
		if (got != vectors[len])
			fail_msg("len %zu: got %016llx want %016llx", len, (unsigned long long)got,
			         (unsigned long long)vectors[len]);
	}
}

static void test_table_tail_and_long(void **state)
{
	(void)state;
	sf_sipkey_t key = reference_key();
	static uint8_t msg[1000 + 1];
	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = (uint8_t)i;
	assert_true(sf_siphash24(&key, msg, 62) == vectors_tail[0]);
	assert_true(sf_siphash24(&key, msg, 63) == vectors_tail[1]);
	for (size_t i = 0; i < sizeof long_vectors / sizeof long_vectors[0]; i++)
		assert_true(sf_siphash24(&key, msg, long_vectors[i].len) == long_vectors[i].want);
}

/* The input need not be aligned: the same bytes at every offset. */
static void test_unaligned(void **state)
{
	(void)state;
	sf_sipkey_t key = reference_key();
	uint8_t buf[32];
	for (size_t off = 0; off < 8; off++) {
		for (size_t i = 0; i < 15; i++)
			buf[off + i] = (uint8_t)i;
		assert_true(sf_siphash24(&key, buf + off, 15) == vectors[15]);
	}
}

static void test_empty_null_data(void **state)
{
	(void)state;
	sf_sipkey_t key = reference_key();
	assert_true(sf_siphash24(&key, NULL, 0) == vectors[0]);
}

static void test_key_and_message_matter(void **state)
{
	(void)state;
	sf_sipkey_t key = reference_key();
	uint8_t msg[15];
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	uint64_t base = sf_siphash24(&key, msg, sizeof msg);
	for (int bit = 0; bit < 128; bit++) {
		sf_sipkey_t k = key;
		if (bit < 64)
			k.k0 ^= UINT64_C(1) << bit;
		else
			k.k1 ^= UINT64_C(1) << (bit - 64);
		assert_true(sf_siphash24(&k, msg, sizeof msg) != base);
	}
	for (int bit = 0; bit < 15 * 8; bit++) {
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_true(sf_siphash24(&key, msg, sizeof msg) != base);
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* The length is hashed: a trailing zero byte changes the result. */
	uint8_t z[9] = {0};
	assert_true(sf_siphash24(&key, z, 8) != sf_siphash24(&key, z, 9));
}

/* The one-word variants agree with the general function on the same bytes,
 * and SipHash-1-3 differs from 2-4 (it is a different function). */
static void one_word_variants(void **state)
{
	(void)state;
	sf_sipkey_t k = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
	uint64_t x = 0x123456789abcdef0ull;
	for (int i = 0; i < 1000; i++) {
		uint8_t b[8];
		for (int j = 0; j < 8; j++)
			b[j] = (uint8_t)(x >> (8 * j));
		assert_true(sf_siphash24_u64(&k, x) == sf_siphash24(&k, b, 8));
		assert_true(sf_siphash13_u64(&k, x) != sf_siphash24_u64(&k, x));
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(one_word_variants),
	        cmocka_unit_test(test_key_layout),
	        cmocka_unit_test(test_paper_example),
	        cmocka_unit_test(test_vector_table),
	        cmocka_unit_test(test_table_tail_and_long),
	        cmocka_unit_test(test_unaligned),
	        cmocka_unit_test(test_empty_null_data),
	        cmocka_unit_test(test_key_and_message_matter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
