/* The ladder under memory exhaustion: every allocation that building a
 * ladder from a capture and rendering it (text, explanations, SVG, the
 * time-sequence graph, the HTML page) makes is failed in turn, the 1st, the
 * 2nd, ... until a run needs no more. Each run must return SF_ENOMEM —
 * never a view that silently lacks a part — without a crash or a leak
 * (ASan), and the run with no failure must give the same output as a run
 * with no injection at all.
 *
 * Failures are injected with the linker's --wrap of malloc, calloc and
 * realloc (tests/CMakeLists.txt), so they reach the library's own calls,
 * not the C library's internal ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "synfin/ladder.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

static long countdown; /* 0: off; else the allocation that fails, counting down */
static bool fired;

static bool fail_now(void)
{
	if (countdown == 0 || --countdown != 0)
		return false;
	fired = true;
	return true;
}

void *__wrap_malloc(size_t n)
{
	return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __real_realloc(p, n);
}

/* Builds the ladder of the capture's first connection and renders every
 * view into one memory stream; returns 0 or the first error, and the output
 * in *text (malloc'd by the C library, not counted). */
static int draw_all(const sf_capture_t *cap, char **text)
{
	size_t len;
	FILE *f = open_memstream(text, &len);
	assert_non_null(f);
	sf_ladder_t *l = NULL;
	int rc = sf_ladder_from_capture(cap, 0, &l);
	sf_ladder_opts_t o = {.lang = SF_LADDER_LANG_ZH};
	if (rc == 0)
		rc = sf_ladder_render_text(l, &o, f);
	if (rc == 0)
		rc = sf_ladder_render_explain(l, &o, f);
	if (rc == 0)
		rc = sf_ladder_render_svg(l, &o, f);
	if (rc == 0)
		rc = sf_ladder_render_graph(l, &o, f);
	if (rc == 0)
		rc = sf_ladder_render_html(l, &o, "/live", f);
	sf_ladder_free(l);
	assert_int_equal(fclose(f), 0);
	return rc;
}

static void every_allocation_failure_is_reported(void **state)
{
	(void)state;
	const char *src = getenv("SYNFIN_SRC");
	char path[4096];
	snprintf(path, sizeof path, "%s/tests/data/kernel-http.pcap", src ? src : "../..");
	sf_capture_t *cap = NULL;
	assert_int_equal(sf_capture_open(path, &cap), 0);

	char *want = NULL;
	assert_int_equal(draw_all(cap, &want), 0);
	assert_non_null(strstr(want, "TIME-WAIT"));

	long k;
	for (k = 1; k < 1000000; k++) {
		countdown = k;
		fired = false;
		char *got = NULL;
		int rc = draw_all(cap, &got);
		countdown = 0;
		if (!fired) { /* the run needed fewer than k allocations */
			assert_int_equal(rc, 0);
			assert_string_equal(got, want);
			free(got);
			break;
		}
		if (rc != SF_ENOMEM)
			fail_msg("allocation %ld failed, yet the views returned %d", k, rc);
		free(got);
	}
	print_message("%ld allocation points, each failed once\n", k - 1);
	assert_true(k > 50); /* it did reach the views, not only the capture */
	free(want);
	sf_capture_close(cap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(every_allocation_failure_is_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
