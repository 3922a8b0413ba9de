/* `synfin serve`'s counters as JSON and as Prometheus text (serve_stats.c). */
#ifndef SYNFIN_TOOL_SERVE_STATS_H
#define SYNFIN_TOOL_SERVE_STATS_H

#include "synfin/http.h"

/* printf into a response body; a line is cut at 1 KiB. */
void serve_printf(sf_http_response_t *resp, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* What one stack of serve reports: its stack's and HTTP server's counters,
 * its connections by state, and the requests serve's handler saw. */
typedef struct serve_figs {
	sf_stack_stats_t ss;
	sf_http_server_stats_t hs;
	uint32_t by_state[SF_STATE_COUNT];
	uint64_t requests;
} serve_figs_t;

/* Adds every counter and gauge of one to sum (gauges too: the stacks'
 * connections open add up to the server's). */
void serve_figs_add(serve_figs_t *sum, const serve_figs_t *one);
/* Whether a and b have the same counters (by_state is not compared). */
bool serve_figs_same(const serve_figs_t *a, const serve_figs_t *b);

/* A report over the stacks of serve --threads N. */
typedef struct serve_report {
	unsigned stacks;         /* N */
	const serve_figs_t *per; /* per[N]: each stack's figures */
	/* How old per[k] is: 0 for the stack that answers (read live), the time
	 * since stack k published it otherwise; < 0: it could not be read (not
	 * counted in the totals, which then say so). */
	const int64_t *age_us;
	unsigned serving; /* the stack that answers */
	int only;         /* < 0: the sum over the stacks; K: stack K alone */
	double uptime_s;
} serve_report_t;

/* Writes the report into resp (Content-Type set): one JSON object, or the
 * Prometheus text exposition format 0.0.4. */
void serve_stats_json(sf_http_response_t *resp, const serve_report_t *r);
void serve_stats_prometheus(sf_http_response_t *resp, const serve_report_t *r);

#endif
