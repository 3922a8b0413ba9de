/* SipHash-2-4 (Aumasson & Bernstein): a keyed PRF, used for ISNs (RFC 6528)
 * and the 4-tuple hash, keyed by a per-stack secret so peers cannot predict
 * sequence numbers or flood one hash bucket. */
#ifndef SF_CORE_SIPHASH_H
#define SF_CORE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct sf_sipkey {
	uint64_t k0, k1;
} sf_sipkey_t;

uint64_t sf_siphash24(const sf_sipkey_t *key, const void *data, size_t len);
/* The same over one 64-bit word (its little-endian bytes), unrolled for the
 * per-packet path: SipHash-2-4, and SipHash-1-3 for hash-table keys. */
uint64_t sf_siphash24_u64(const sf_sipkey_t *key, uint64_t m);
uint64_t sf_siphash13_u64(const sf_sipkey_t *key, uint64_t m);

#endif
