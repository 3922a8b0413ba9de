/* Byte ring: the send and receive buffers of a connection.
 *
 * The ring is a window of `len` bytes starting at physical index `head` of a
 * caller-owned block of `cap` bytes. Every copy in or out touches at most two
 * contiguous runs (the part before the physical end of the block and the part
 * that wraps to its start), so each call does at most two memcpy. Offsets are
 * always logical (relative to `head`); physical indices are computed in 64
 * bits so a capacity near 2^32 cannot overflow. No allocation, no I/O.
 */
#include "core/ring.h"
#include "base/assert.h"

#include <string.h>

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* Physical index of logical offset `off` (off <= cap). */
static uint32_t locate(const sf_ring_t *r, uint32_t off)
{
	uint64_t idx = (uint64_t)r->head + off;
	if (idx >= r->cap)
		idx -= r->cap;
	return (uint32_t)idx;
}

/* Copies n bytes (off + n <= cap) into the ring at logical offset off. */
static void copy_in(sf_ring_t *r, uint32_t off, const uint8_t *src, uint32_t n)
{
	if (n == 0)
		return;
	uint32_t idx = locate(r, off);
	uint32_t first = min_u32(n, r->cap - idx);
	memcpy(r->buf + idx, src, first);
	if (n > first)
		memcpy(r->buf, src + first, n - first);
}

/* Copies n bytes (off + n <= cap) out of the ring from logical offset off. */
static void copy_out(const sf_ring_t *r, uint32_t off, uint8_t *dst, uint32_t n)
{
	if (n == 0)
		return;
	uint32_t idx = locate(r, off);
	uint32_t first = min_u32(n, r->cap - idx);
	memcpy(dst, r->buf + idx, first);
	if (n > first)
		memcpy(dst + first, r->buf, n - first);
}

void sf_ring_init(sf_ring_t *r, uint8_t *mem, uint32_t cap)
{
	SF_ASSERT(mem != NULL && cap > 0);
	r->buf = mem;
	r->cap = cap;
	r->head = 0;
	r->len = 0;
}

uint32_t sf_ring_write(sf_ring_t *r, const void *src, uint32_t n)
{
	n = min_u32(n, sf_ring_free(r));
	copy_in(r, r->len, src, n);
	r->len += n;
	return n;
}

uint32_t sf_ring_write_at(sf_ring_t *r, uint32_t off, const void *src, uint32_t n)
{
	if (off >= r->cap)
		return 0;
	n = min_u32(n, r->cap - off);
	copy_in(r, off, src, n);
	return n;
}

void sf_ring_commit(sf_ring_t *r, uint32_t n)
{
	SF_ASSERT(n <= sf_ring_free(r));
	r->len += min_u32(n, sf_ring_free(r));
}

uint32_t sf_ring_peek(const sf_ring_t *r, uint32_t off, void *dst, uint32_t n)
{
	if (off >= r->len)
		return 0;
	n = min_u32(n, r->len - off);
	copy_out(r, off, dst, n);
	return n;
}

void sf_ring_consume(sf_ring_t *r, uint32_t n)
{
	SF_ASSERT(n <= r->len);
	n = min_u32(n, r->len);
	/* Bytes placed past len by sf_ring_write_at stay where they are:
	 * head only moves forward, it is never reset. */
	r->head = locate(r, n);
	r->len -= n;
}

uint32_t sf_ring_read(sf_ring_t *r, void *dst, uint32_t n)
{
	n = sf_ring_peek(r, 0, dst, n);
	sf_ring_consume(r, n);
	return n;
}
