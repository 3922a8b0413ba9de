/* A single-writer seqlock over atomic words (see seqbox.h). */
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "seqbox.h"

#define SEQBOX_TRIES 1000

struct seqbox {
	_Atomic uint64_t seq; /* odd while a write is under way; +2 per write */
	size_t len, words;
	_Atomic uint64_t w[];
};

seqbox_t *seqbox_new(size_t len)
{
	size_t words = (len + 7) / 8;
	seqbox_t *b = calloc(1, sizeof *b + words * sizeof b->w[0]);
	if (!b)
		return NULL;
	atomic_init(&b->seq, 0);
	for (size_t i = 0; i < words; i++)
		atomic_init(&b->w[i], 0);
	b->len = len;
	b->words = words;
	return b;
}

void seqbox_free(seqbox_t *b)
{
	free(b);
}

void seqbox_write(seqbox_t *b, const void *src)
{
	const unsigned char *p = src;
	uint64_t s = atomic_load_explicit(&b->seq, memory_order_relaxed);
	atomic_store_explicit(&b->seq, s + 1, memory_order_relaxed);
	/* Each release store keeps the odd sequence number before it: a reader
	 * that sees any word of this write then sees the write under way. */
	for (size_t i = 0; i < b->words; i++) {
		uint64_t v = 0;
		size_t n = b->len - i * 8 < 8 ? b->len - i * 8 : 8;
		memcpy(&v, p + i * 8, n);
		atomic_store_explicit(&b->w[i], v, memory_order_release);
	}
	atomic_store_explicit(&b->seq, s + 2, memory_order_release);
}

bool seqbox_read(const seqbox_t *b, void *dst)
{
	unsigned char *p = dst;
	seqbox_t *m = (seqbox_t *)b; /* atomic loads take non-const pointers in C11 */
	for (int t = 0; t < SEQBOX_TRIES; t++) {
		uint64_t s0 = atomic_load_explicit(&m->seq, memory_order_acquire);
		if (s0 & 1) {
			sched_yield();
			continue;
		}
		/* Acquire loads: the second look at the sequence number cannot
		 * move before any of them. */
		for (size_t i = 0; i < b->words; i++) {
			uint64_t v = atomic_load_explicit(&m->w[i], memory_order_acquire);
			size_t n = b->len - i * 8 < 8 ? b->len - i * 8 : 8;
			memcpy(p + i * 8, &v, n);
		}
		if (atomic_load_explicit(&m->seq, memory_order_relaxed) == s0)
			return true;
	}
	return false;
}
