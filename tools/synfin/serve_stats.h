/* `synfin serve`'s counters as JSON and as Prometheus text (serve_stats.c). */
#ifndef SYNFIN_TOOL_SERVE_STATS_H
#define SYNFIN_TOOL_SERVE_STATS_H

#include "synfin/http.h"

/* printf into a response body; a line is cut at 1 KiB. */
void serve_printf(sf_http_response_t *resp, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Write the stack's and the server's counters into resp (Content-Type set). */
void serve_stats_json(sf_http_response_t *resp, const sf_stack_stats_t *ss,
                      const uint32_t *by_state, const sf_http_server_stats_t *hs, double uptime_s);
void serve_stats_prometheus(sf_http_response_t *resp, const sf_stack_stats_t *ss,
                            const uint32_t *by_state, const sf_http_server_stats_t *hs,
                            double uptime_s);

#endif
