/* A counting allocator for sf_config_t.allocator: tests and fuzz targets
 * check that every allocation a stack made is returned (live and bytes
 * back to zero after sf_stack_destroy). Header-only, so fuzz targets that
 * do not link the test-support library can use it too. */
#ifndef SF_TEST_COUNTALLOC_H
#define SF_TEST_COUNTALLOC_H

#include <stdint.h>
#include <stdlib.h>

#include "synfin/synfin.h"

typedef struct counter {
	int64_t live, bytes;
} counter_t;

static inline void *count_alloc(void *ctx, size_t size)
{
	counter_t *c = ctx;
	void *p = malloc(size);
	if (p) {
		c->live++;
		c->bytes += (int64_t)size;
	}
	return p;
}

static inline void count_free(void *ctx, void *p, size_t size)
{
	counter_t *c = ctx;
	if (p) {
		c->live--;
		c->bytes -= (int64_t)size;
	}
	free(p);
}

/* The allocator hook counting into *c. */
static inline sf_allocator_t count_allocator(counter_t *c)
{
	return (sf_allocator_t){count_alloc, count_free, c};
}

#endif
