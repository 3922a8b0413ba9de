/* The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * The sum is taken over 64-bit words loaded with memcpy (any alignment) (on
 * 32-bit CPUs over 32-bit words, for size), with
 * the carries out of each 64-bit addition counted and added back (end-around
 * carry), then folded to 16 bits. RFC 1071 §2(B): the one's complement sum is
 * byte-order independent, so summing native little-endian words gives the
 * byte-swapped result; each call folds its part and swaps it once into
 * network-order sense before adding it to the running sum. The running sum a
 * caller holds is therefore always "the RFC 1071 sum as a host integer",
 * unfolded, which is also what sf_csum_pseudo() returns.
 *
 * Because every call folds its own part, a chunk handed to sf_csum_add() must
 * start at an even offset of the checksummed stream: chained chunks are all
 * even-length except the last.
 */
#include <stdint.h>
#include <string.h>

#include "synfin/wire.h"

#if defined(__GNUC__) || defined(__clang__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) &&                                    \
        __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define NATIVE_IS_NETWORK_ORDER 1
#else
#define NATIVE_IS_NETWORK_ORDER 0
#endif

/* Folds a 64-bit end-around-carry sum to 16 bits (0 only if the sum is 0). */
static inline uint64_t fold_to_16(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32); /* < 2^33 */
	s = (s & 0xffffffffu) + (s >> 32); /* <= 2^32 */
	s = (s & 0xffffu) + (s >> 16);     /* < 2^17 */
	s = (s & 0xffffu) + (s >> 16);     /* <= 0xffff */
	return s;
}

/* a + b with the carry out of bit 63 added back in (one's complement add). */
static inline uint64_t add_end_around(uint64_t a, uint64_t b)
{
	uint64_t r = a + b;
	return r + (r < b);
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t w;
	memcpy(&w, p, sizeof w);
	return w;
}

/* The sum of a short run (headers, small segments): 32-bit words into a
 * 64-bit accumulator, which cannot overflow below 2^32 words, so no carry
 * is tracked; the 16-bit word and the odd last byte go into the lanes
 * they occupy in the stream (2^16 = 1 modulo 0xffff: a 16-bit word counts
 * the same in any 16-bit lane of the accumulator). Folded to 16 bits. */
static ALWAYS_INLINE uint64_t sum_short(const uint8_t *src, size_t len)
{
	uint64_t s = 0;
	uint32_t w;
	while (len >= 4) {
		memcpy(&w, src, 4);
		s += w;
		src += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t h;
		memcpy(&h, src, 2);
		s += h;
		src += 2;
		len -= 2;
	}
	if (len) /* RFC 1071 §4.1: the high-order byte of a zero-padded word */
		s += NATIVE_IS_NETWORK_ORDER ? (uint64_t)src[0] << 8 : src[0];
	return fold_to_16(s);
}

/* Below this many bytes sum_short is cheaper than the unrolled loop. */
#define SHORT_SUM 128

#if UINTPTR_MAX > 0xffffffffu
/* One's complement sum of src[0..len) in native word order, folded to 16
 * bits; copies the bytes to dst on the way when `copy` is true. `copy` is a
 * constant at every call site, so the always-inlined loop specialises. */
static ALWAYS_INLINE uint64_t sum_native(uint8_t *dst, const uint8_t *src, size_t len, int copy)
{
	if (len < SHORT_SUM) {
		if (copy && len) /* src may be NULL when len is 0 */
			memcpy(dst, src, len);
		return sum_short(src, len);
	}
	uint64_t s0 = 0, s1 = 0, c0 = 0, c1 = 0;

	/* Two independent accumulators; carries counted apart, added at the end. */
	while (len >= 32) {
		uint64_t w0 = load64(src), w1 = load64(src + 8);
		uint64_t w2 = load64(src + 16), w3 = load64(src + 24);
		if (copy) {
			memcpy(dst, src, 32);
			dst += 32;
		}
		s0 += w0;
		c0 += s0 < w0;
		s1 += w1;
		c1 += s1 < w1;
		s0 += w2;
		c0 += s0 < w2;
		s1 += w3;
		c1 += s1 < w3;
		src += 32;
		len -= 32;
	}
	while (len >= 8) {
		uint64_t w = load64(src);
		if (copy) {
			memcpy(dst, src, 8);
			dst += 8;
		}
		s0 += w;
		c0 += s0 < w;
		src += 8;
		len -= 8;
	}
	if (len > 0) {
		/* RFC 1071 §4.1: an odd last byte is the high byte of a word padded
		 * with zero. Zero-padding the tail to 8 bytes keeps every byte in the
		 * lane it would occupy in either byte order. */
		uint8_t tail[8] = {0};
		memcpy(tail, src, len);
		if (copy)
			memcpy(dst, src, len);
		uint64_t w = load64(tail);
		s0 += w;
		c0 += s0 < w;
	}
	uint64_t s = add_end_around(s0, s1);
	s = add_end_around(s, c0 + c1);
	return fold_to_16(s);
}
#else
/* 32-bit CPUs (microcontrollers): the same sum over 32-bit words into a
 * 64-bit accumulator (no carry can be lost below 2^32 words), one loop for
 * both uses: 64-bit lanes and unrolling cost flash there and buy nothing. */
static uint64_t sum_native(uint8_t *dst, const uint8_t *src, size_t len, int copy)
{
	uint64_t s = 0;
	uint32_t w;
	while (len >= 4) {
		memcpy(&w, src, 4);
		if (copy) {
			memcpy(dst, src, 4);
			dst += 4;
		}
		s += w;
		src += 4;
		len -= 4;
	}
	if (len > 0) {
		/* RFC 1071 §4.1: zero padding keeps each byte in its lane. */
		uint8_t tail[4] = {0};
		memcpy(tail, src, len);
		if (copy)
			memcpy(dst, src, len);
		memcpy(&w, tail, 4);
		s += w;
	}
	return fold_to_16(s);
}
#endif

/* Turns a folded native-order sum into network-order sense. */
static inline uint64_t to_network_sense(uint64_t folded)
{
#if NATIVE_IS_NETWORK_ORDER
	return folded;
#else
	return ((folded & 0xffu) << 8) | (folded >> 8);
#endif
}

uint64_t sf_csum_add(uint64_t sum, const void *data, size_t len)
{
	uint64_t part = sum_native(NULL, data, len, 0);
	return add_end_around(sum, to_network_sense(part));
}

uint64_t sf_csum_copy(uint64_t sum, void *dst, const void *src, size_t len)
{
	uint64_t part = sum_native(dst, src, len, 1);
	return add_end_around(sum, to_network_sense(part));
}

uint16_t sf_csum_fold(uint64_t sum)
{
	return (uint16_t)~fold_to_16(sum);
}

uint16_t sf_csum(const void *data, size_t len)
{
	return sf_csum_fold(sf_csum_add(0, data, len));
}

/* RFC 1624 §3, eqn. 3: HC' = ~(~HC + ~m + m'). Unlike eqn. 2 it never yields
 * the -0 form 0x0000 for data whose true sum is not -0. (If everything the
 * checksum covers except the changed field becomes zero, any method gives an
 * ambiguous zero; that cannot happen for an IP or TCP header.) */
uint16_t sf_csum_update16(uint16_t csum, uint16_t old_val, uint16_t new_val)
{
	uint64_t s = (uint64_t)(uint16_t)~csum + (uint16_t)~old_val + new_val;
	return sf_csum_fold(s);
}

/* RFC 9293 §3.1: the pseudo-header is source address, destination address,
 * a zero byte, the protocol number and the TCP length, summed as 16-bit
 * words like the rest. */
uint64_t sf_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	return (uint64_t)(src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu) + proto +
	       len;
}
