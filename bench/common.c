/* Shared helpers of the benchmark programs (see common.h): clocks, options,
 * RESULT/INFO lines, VmHWM, per-second rate buckets.
 */
#include "common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "synfin/synfin.h"

int64_t bench_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

double bench_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void bench_result(const char *bench, const char *peer, const char *metric, double value,
                  const char *unit)
{
	printf("RESULT %s %s %s %.6g %s\n", bench, peer, metric, value, unit);
	fflush(stdout);
}

void bench_info(const char *bench, const char *peer, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("INFO %s %s %s ", bench, peer, key);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	fflush(stdout);
}

long bench_vmhwm_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	char line[256];
	long kb = -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

uint64_t bench_parse_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	uint64_t mul = 1;
	switch (*end) {
	case 'k':
	case 'K':
		mul = 1024;
		break;
	case 'm':
	case 'M':
		mul = 1024 * 1024;
		break;
	case 'g':
	case 'G':
		mul = 1024ull * 1024 * 1024;
		break;
	case '\0':
		break;
	default:
		fprintf(stderr, "bench: bad size '%s'\n", s);
		exit(2);
	}
	if (end == s || v < 0) {
		fprintf(stderr, "bench: bad size '%s'\n", s);
		exit(2);
	}
	return (uint64_t)(v * (double)mul);
}

const char *bench_opt(int argc, char **argv, const char *name, const char *def)
{
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return def;
}

uint64_t bench_opt_size(int argc, char **argv, const char *name, uint64_t def)
{
	const char *v = bench_opt(argc, argv, name, NULL);
	return v ? bench_parse_size(v) : def;
}

double bench_opt_num(int argc, char **argv, const char *name, double def)
{
	const char *v = bench_opt(argc, argv, name, NULL);
	return v ? strtod(v, NULL) : def;
}

bool bench_flag(int argc, char **argv, const char *name)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return true;
	return false;
}

void bench_check(bool cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "bench: %s\n", what);
		exit(1);
	}
}

void bench_rate_init(bench_rate_t *r, int64_t start_us, int secs)
{
	r->start_us = start_us;
	r->secs = secs + 2;
	r->per_s = calloc((size_t)r->secs, sizeof *r->per_s);
	bench_check(r->per_s != NULL, "out of memory");
}

void bench_rate_add(bench_rate_t *r, int64_t now_us, uint64_t n)
{
	int64_t s = (now_us - r->start_us) / 1000000;
	if (s < 0)
		s = 0;
	if (s >= r->secs)
		s = r->secs - 1;
	r->per_s[s] += n;
}

void bench_rate_fini(bench_rate_t *r)
{
	free(r->per_s);
	r->per_s = NULL;
}

uint8_t *bench_fq_reserve(bench_fq_t *q, size_t len)
{
	size_t need = q->len + 8 + ((len + 7) & ~(size_t)7);
	if (need > q->cap) {
		size_t cap = q->cap ? q->cap : 1 << 16;
		while (cap < need)
			cap *= 2;
		uint8_t *b = realloc(q->buf, cap);
		bench_check(b != NULL, "out of memory");
		q->buf = b;
		q->cap = cap;
	}
	uint32_t n = (uint32_t)len;
	memcpy(q->buf + q->len, &n, 4);
	uint8_t *p = q->buf + q->len + 8;
	q->len = need;
	q->cnt++;
	return p;
}

void bench_fq_free(bench_fq_t *q)
{
	free(q->buf);
	*q = (bench_fq_t){0};
}

/* ---- an allocator with huge pages for the big tables ---- */

#define HUGE_MIN (2u << 20)

static void *huge_alloc(void *ctx, size_t size)
{
	(void)ctx;
	if (size < HUGE_MIN)
		return malloc(size);
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	(void)madvise(p, size, MADV_HUGEPAGE); /* advice only: fine if refused */
#endif
	return p;
}

static void huge_free(void *ctx, void *p, size_t size)
{
	(void)ctx;
	if (!p)
		return;
	if (size < HUGE_MIN)
		free(p);
	else
		munmap(p, size);
}

void bench_huge_allocator(sf_allocator_t *out)
{
	*out = (sf_allocator_t){huge_alloc, huge_free, NULL};
}
