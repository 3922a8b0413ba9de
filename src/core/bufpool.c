/* Ring storage (and RACK's segment records) on demand.
 *
 * A connection holds send or receive storage only while it has bytes in
 * it, and RACK records only while it has data in flight: an idle
 * connection costs its TCB alone. Blocks come from per-size free
 * lists kept by the stack, so once the pool is warm the data path recycles
 * blocks instead of calling the allocator; the pool grows through the
 * allocator hook, within cfg.buf_budget, and is returned at destroy.
 */
#include <string.h>

#include "core/stack.h"

typedef struct block {
	struct block *next;
} block_t;

static sf_bufclass_t *class_for(sf_stack_t *st, uint32_t size)
{
	sf_bufclass_t *spare = NULL;
	for (int i = 0; i < SF_BUF_CLASSES; i++) {
		if (st->pool[i].size == size)
			return &st->pool[i];
		if (!st->pool[i].size && !spare)
			spare = &st->pool[i];
	}
	if (spare)
		spare->size = size;
	return spare; /* NULL: an odd size, allocated and freed directly */
}

void *sf_block_get(sf_stack_t *st, uint32_t size)
{
	sf_bufclass_t *c = class_for(st, size);
	if (c && c->head) {
		block_t *b = c->head;
		c->head = b->next;
		c->free_cnt--;
#if defined(__GNUC__)
		/* The next get reads the new head's link: fetch it now, so
		 * that load does not wait for memory (a block put back a while
		 * ago is cold). */
		if (c->head)
			__builtin_prefetch(c->head);
#endif
		return b;
	}
	if (st->cfg.buf_budget && st->buf_bytes + size > st->cfg.buf_budget)
		return NULL;
	void *p = sf_core_alloc(st, size);
	if (p)
		st->buf_bytes += size;
	return p;
}

void sf_block_put(sf_stack_t *st, void *p, uint32_t size)
{
	sf_bufclass_t *c = class_for(st, size);
	if (c) {
		block_t *b = p;
		b->next = c->head;
		c->head = b;
		c->free_cnt++;
	} else {
		sf_core_free(st, p, size);
		st->buf_bytes -= size;
	}
}

int sf_ring_acquire(sf_stack_t *st, sf_ring_t *r)
{
	if (r->buf)
		return 0;
	r->buf = sf_block_get(st, r->cap);
	if (!r->buf)
		return SF_ENOMEM;
	r->head = r->len = 0;
	return 0;
}

void sf_ring_release(sf_stack_t *st, sf_ring_t *r)
{
	if (!r->buf)
		return;
	sf_block_put(st, r->buf, r->cap);
	r->buf = NULL;
	r->head = r->len = 0;
}

void sf_bufpool_fini(sf_stack_t *st)
{
	for (int i = 0; i < SF_BUF_CLASSES; i++) {
		sf_bufclass_t *c = &st->pool[i];
		while (c->head) {
			block_t *b = c->head;
			c->head = b->next;
			sf_core_free(st, b, c->size);
			st->buf_bytes -= c->size;
		}
		c->free_cnt = 0;
	}
}
