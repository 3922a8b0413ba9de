/* The default allocator: the process heap, used when sf_config_t names no
 * allocator. It lives in the base layer, below src/core, which never calls
 * malloc itself. */
#include <stdlib.h>

#include "base/alloc.h"

static void *heap_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static void heap_free(void *ctx, void *p, size_t size)
{
	(void)ctx;
	(void)size;
	free(p);
}

sf_allocator_t sf_default_allocator(void)
{
	return (sf_allocator_t){heap_alloc, heap_free, NULL};
}
