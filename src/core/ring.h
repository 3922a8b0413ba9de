/* Byte ring: the send and receive buffers of a connection.
 *
 * A ring holds `len` bytes starting at `head` in a caller-provided block of
 * `cap` bytes (any size > 0). Bytes past `len` can be written at an offset
 * (out-of-order data placed where it belongs) and committed later. No
 * allocation: the caller owns `mem`.
 */
#ifndef SF_CORE_RING_H
#define SF_CORE_RING_H

#include <stdint.h>

typedef struct sf_ring {
	uint8_t *buf;
	uint32_t cap;
	uint32_t head; /* index of the first byte */
	uint32_t len;  /* bytes held */
} sf_ring_t;

void sf_ring_init(sf_ring_t *r, uint8_t *mem, uint32_t cap);
static inline uint32_t sf_ring_free(const sf_ring_t *r)
{
	return r->cap - r->len;
}
/* Appends up to n bytes; returns how many fit. */
uint32_t sf_ring_write(sf_ring_t *r, const void *src, uint32_t n);
/* Writes n bytes at offset `off` from the head, where off >= len is allowed
 * as long as off + n <= cap; len is unchanged. Returns bytes written
 * (clipped to cap). */
uint32_t sf_ring_write_at(sf_ring_t *r, uint32_t off, const void *src, uint32_t n);
/* Extends len by n (bytes placed earlier by sf_ring_write_at); n <= free. */
void sf_ring_commit(sf_ring_t *r, uint32_t n);
/* Copies up to n bytes starting at offset `off` from the head without
 * consuming them; returns bytes copied (clipped to len). */
uint32_t sf_ring_peek(const sf_ring_t *r, uint32_t off, void *dst, uint32_t n);
/* Drops n bytes (n <= len) from the head. */
void sf_ring_consume(sf_ring_t *r, uint32_t n);
/* Copies and consumes up to n bytes; returns bytes read. */
uint32_t sf_ring_read(sf_ring_t *r, void *dst, uint32_t n);

#endif
