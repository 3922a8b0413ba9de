/* tools/synfin/seqbox.c, the lock-free box through which `synfin serve
 * --threads N` stacks hand their statistics and connection records to
 * each other: a reader racing a writer that never waits always gets one
 * whole snapshot (every word from the same write), never an older one than
 * it got before, and the last one once the writer stops. */
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../tools/synfin/seqbox.c"

#define WORDS  601 /* an odd size: the last word is partial */
#define WRITES 20000

typedef struct snap {
	uint64_t w[WORDS];
	uint8_t tail[5];
} snap_t;

static seqbox_t *box;
static _Atomic int done;

static void *writer(void *arg)
{
	(void)arg;
	static snap_t s;
	for (uint64_t i = 1; i <= WRITES; i++) {
		for (int k = 0; k < WORDS; k++)
			s.w[k] = i;
		memset(s.tail, (int)(i & 0xff), sizeof s.tail);
		seqbox_write(box, &s);
	}
	atomic_store(&done, 1);
	return NULL;
}

static void whole_snapshots(void **state)
{
	(void)state;
	box = seqbox_new(sizeof(snap_t));
	assert_non_null(box);
	static snap_t got;
	assert_true(seqbox_read(box, &got)); /* never written: zero */
	assert_int_equal(got.w[0], 0);
	assert_int_equal(got.w[WORDS - 1], 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, writer, NULL), 0);
	uint64_t last = 0, reads = 0, distinct = 0;
	while (!atomic_load(&done)) {
		if (!seqbox_read(box, &got))
			continue; /* the writer kept overlapping: allowed, rare */
		reads++;
		for (int k = 1; k < WORDS; k++)
			if (got.w[k] != got.w[0])
				fail_msg("torn snapshot: word %d is from write %" PRIu64
				         ", word 0 from write %" PRIu64,
				         k, got.w[k], got.w[0]);
		for (size_t k = 0; k < sizeof got.tail; k++)
			assert_int_equal(got.tail[k], got.w[0] & 0xff);
		assert_true(got.w[0] >= last); /* never older than before */
		distinct += got.w[0] != last;
		last = got.w[0];
	}
	pthread_join(t, NULL);
	assert_true(seqbox_read(box, &got));
	assert_int_equal(got.w[0], WRITES);
	assert_int_equal(got.w[WORDS - 1], WRITES);
	assert_true(reads > 0);
	print_message("%" PRIu64 " reads saw %" PRIu64 " different writes\n", reads, distinct);
	seqbox_free(box);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(whole_snapshots)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
