/* SipHash-2-4, written from J.-P. Aumasson and D. J. Bernstein, "SipHash: a
 * fast short-input PRF" (2012), §2: four 64-bit words of state initialised
 * from the key and the constants "somepseudorandomlygeneratedbytes", two
 * SipRounds per 8-byte little-endian message word, the last word carrying the
 * length mod 256 in its top byte, then 0xff xored into v2 and four SipRounds.
 * Used for ISNs (RFC 6528 §3) and the 4-tuple hash. The key words are the
 * 16 key bytes read as two little-endian 64-bit integers (k0 = bytes 0..7).
 */
#include "core/siphash.h"

#include <stdint.h>

static uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl(v[1], 13);
	v[1] ^= v[0];
	v[0] = rotl(v[0], 32);
	v[2] += v[3];
	v[3] = rotl(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = rotl(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = rotl(v[1], 17);
	v[1] ^= v[2];
	v[2] = rotl(v[2], 32);
}

static void compress(uint64_t v[4], uint64_t m, int c)
{
	v[3] ^= m;
	for (int i = 0; i < c; i++)
		sip_round(v);
	v[0] ^= m;
}

/* SipHash-c-d of data[0..len). */
static uint64_t siphash(const sf_sipkey_t *key, const void *data, size_t len, int c, int d)
{
	const uint8_t *p = data;
	uint64_t v[4] = {
	        key->k0 ^ UINT64_C(0x736f6d6570736575), /* "somepseu" */
	        key->k1 ^ UINT64_C(0x646f72616e646f6d), /* "dorandom" */
	        key->k0 ^ UINT64_C(0x6c7967656e657261), /* "lygenera" */
	        key->k1 ^ UINT64_C(0x7465646279746573), /* "tedbytes" */
	};
	size_t full = len - len % 8;
	for (size_t i = 0; i < full; i += 8)
		compress(v, load_le64(p + i), c);

	/* Last word: the 0..7 remaining bytes, little-endian, with len mod 256
	 * in the most significant byte. */
	uint64_t last = (uint64_t)(len & 0xff) << 56;
	for (size_t i = 0; i < len % 8; i++)
		last |= (uint64_t)p[full + i] << (8 * i);
	compress(v, last, c);

	v[2] ^= 0xff;
	for (int i = 0; i < d; i++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

uint64_t sf_siphash24(const sf_sipkey_t *key, const void *data, size_t len)
{
	return siphash(key, data, len, 2, 4);
}

#if UINTPTR_MAX <= 0xffffffffu
/* 32-bit CPUs: the one-word hashes go through the general function (its
 * 64-bit arithmetic is long there; one copy of it is enough). */
static uint64_t siphash_u64(const sf_sipkey_t *key, uint64_t m, int c, int d)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(m >> (8 * i));
	return siphash(key, b, sizeof b, c, d);
}
#else

/* SipHash-c-d of exactly one 64-bit word m (its 8 bytes little-endian):
 * the per-packet demux hash uses c = 1, d = 3 (SipHash-1-3), a third of the
 * rounds of SipHash-2-4 and still keyed, so a peer that does not know the
 * stack's secret cannot aim many 4-tuples at one bucket. */
static uint64_t siphash_u64(const sf_sipkey_t *key, uint64_t m, int c, int d)
{
	uint64_t v[4] = {
	        key->k0 ^ UINT64_C(0x736f6d6570736575),
	        key->k1 ^ UINT64_C(0x646f72616e646f6d),
	        key->k0 ^ UINT64_C(0x6c7967656e657261),
	        key->k1 ^ UINT64_C(0x7465646279746573),
	};
	const uint64_t words[2] = {m, (uint64_t)8 << 56};
	for (int w = 0; w < 2; w++) {
		v[3] ^= words[w];
		for (int i = 0; i < c; i++)
			sip_round(v);
		v[0] ^= words[w];
	}
	v[2] ^= 0xff;
	for (int i = 0; i < d; i++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}
#endif

uint64_t sf_siphash13_u64(const sf_sipkey_t *key, uint64_t m)
{
	return siphash_u64(key, m, 1, 3);
}

uint64_t sf_siphash24_u64(const sf_sipkey_t *key, uint64_t m)
{
	return siphash_u64(key, m, 2, 4);
}
