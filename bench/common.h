/* Shared helpers of the synfin benchmark programs: clocks, option parsing,
 * the result lines bench/run.sh collects, and peak memory from /proc.
 *
 * Every program prints one line per measurement on stdout:
 *   RESULT <bench> <peer> <metric> <value> <unit>
 *   INFO   <bench> <peer> <key> <free text>
 * run.sh runs each program several times, interleaved with its peers, and takes
 * medians per (bench, peer, metric); ratios come from medians of the same run.
 */
#ifndef SF_BENCH_COMMON_H
#define SF_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in microseconds and in seconds. */
int64_t bench_now_us(void);
double bench_now_s(void);

/* Prints a RESULT line (and flushes). */
void bench_result(const char *bench, const char *peer, const char *metric, double value,
                  const char *unit);
/* Prints an INFO line; fmt as printf. */
void bench_info(const char *bench, const char *peer, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* Peak resident set size of this process (VmHWM), in KiB; -1 if unknown. */
long bench_vmhwm_kb(void);

/* "1G", "64K", "1500", "2M" -> bytes (binary units). Exits on garbage. */
uint64_t bench_parse_size(const char *s);

/* Option lookup over argv of the form `--name value`: returns the value
 * or `def` when absent. */
const char *bench_opt(int argc, char **argv, const char *name, const char *def);
uint64_t bench_opt_size(int argc, char **argv, const char *name, uint64_t def);
double bench_opt_num(int argc, char **argv, const char *name, double def);
bool bench_flag(int argc, char **argv, const char *name);

/* Exits with a message when cond is false (setup failures). */
void bench_check(bool cond, const char *what);

/* A per-second histogram of completed events, for "rate in the first and
 * the last second". */
typedef struct bench_rate {
	int64_t start_us;
	uint64_t *per_s;
	int secs;
} bench_rate_t;
void bench_rate_init(bench_rate_t *r, int64_t start_us, int secs);
void bench_rate_add(bench_rate_t *r, int64_t now_us, uint64_t n);
void bench_rate_fini(bench_rate_t *r);

/* A queue of frames in one growable byte arena: what one stack transmitted
 * during a poll, waiting to be handed to the other stack's input. Records
 * are [u32 len][4 pad][frame][pad to 8]. */
typedef struct bench_fq {
	uint8_t *buf;
	size_t len, cap;
	uint64_t cnt;
} bench_fq_t;
/* Room for one frame of `len` bytes at the end of the queue (grows it). */
uint8_t *bench_fq_reserve(bench_fq_t *q, size_t len);
static inline size_t bench_fq_next(const bench_fq_t *q, size_t off, const uint8_t **frame,
                                   uint32_t *len)
{
	uint32_t n;
	__builtin_memcpy(&n, q->buf + off, 4);
	*frame = q->buf + off + 8;
	*len = n;
	return off + 8 + ((n + 7u) & ~7u);
}
void bench_fq_free(bench_fq_t *q);

/* An allocator hook (sf_config_t.allocator) for stacks with big tables:
 * blocks of 2 MiB and more are mapped on their own and marked for
 * transparent huge pages (MADV_HUGEPAGE: THP is "madvise" on many
 * systems), so random lookups in the connection and TIME-WAIT tables
 * take fewer TLB misses; smaller ones come from malloc. */
struct sf_allocator;
void bench_huge_allocator(struct sf_allocator *out);

/* The request and response of a connection life and of a round trip:
 * the same sizes for every peer. */
#define BENCH_REQ_LEN  32
#define BENCH_RESP_LEN 64

#endif
