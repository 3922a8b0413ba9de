/* `synfin serve`'s counters, where people look for them: GET /_synfin/stats
 * (one JSON object) and GET /metrics (the Prometheus text exposition format,
 * version 0.0.4). Both are written from the same two snapshots: the stack's
 * sf_stack_stats (drops by reason, challenge ACKs and limited replies, SYN
 * and accept queue overflows and SYN cookies, retransmissions and their
 * causes (RTO, fast recovery, RACK, TLP), TIME-WAIT records, connections by
 * state, bytes allocated) and the HTTP server's sf_http_server_stats (requests by status,
 * timeouts by kind, evictions, refused files). A counter added to either
 * struct is one more line in each table below.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#ifdef SYNFIN_HAVE_HTTP
#include "serve_stats.h"

void serve_printf(sf_http_response_t *resp, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > 0)
		sf_http_response_write(resp, line,
		                       (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

typedef struct named {
	const char *name, *help;
	uint64_t value;
	bool gauge;
} named_t;

static size_t stack_list(const sf_stack_stats_t *ss, named_t *out)
{
	size_t n = 0;
#define C(nm, field, h) out[n++] = (named_t){nm, h, (uint64_t)ss->field, false}
#define G(nm, field, h)                                                                            \
	out[n++] = (named_t)                                                                       \
	{                                                                                          \
		nm, h, (uint64_t)ss->field, true                                                   \
	}
	C("ip_in", ip_in, "IPv4 datagrams received");
	C("ip_out", ip_out, "IPv4 datagrams sent");
	C("tcp_in", tcp_in, "TCP segments received");
	C("tcp_out", tcp_out, "TCP segments sent");
	C("icmp_in", icmp_in, "ICMP messages received");
	C("icmp_out", icmp_out, "ICMP messages sent");
	C("retransmits", retransmits, "TCP segments retransmitted");
	C("rto_timeouts", rto_timeouts, "retransmission timeouts that fired (RFC 6298)");
	C("fast_recoveries", fast_recoveries,
	  "entries into fast recovery on duplicate ACKs or SACK (RFC 5681, RFC 6675)");
	C("rack_lost", rack_lost, "segments RACK marked lost (RFC 8985)");
	C("tlp_probes", tlp_probes, "tail loss probes sent (RFC 8985 §7)");
	C("tlp_recoveries", tlp_recoveries, "tail loss probes that repaired a loss");
	C("dsacks_rcvd", dsacks_rcvd, "D-SACKs received (RFC 2883)");
	C("dsacks_sent", dsacks_sent, "D-SACKs sent (RFC 2883)");
	C("undos", undos, "congestion responses undone: the retransmissions were spurious");
	C("r1_advice", r1_advice, "connections whose retransmissions reached R1 (MUST-20)");
	C("rst_out", rst_out, "RST segments sent");
	C("challenge_acks", challenge_acks, "challenge ACKs sent (RFC 5961)");
	C("replies_limited", replies_limited,
	  "replies to unacceptable segments held back by the RFC 5961 §7 limit");
	C("syncookies_sent", syncookies_sent,
	  "SYN cookies sent: the SYN queue was full (RFC 4987)");
	C("syncookies_ok", syncookies_ok, "ACKs whose SYN cookie verified");
	C("syncookies_bad", syncookies_bad, "ACKs whose SYN cookie did not verify");
	C("ecn_ce_rcvd", ecn_ce_rcvd, "CE-marked segments received (RFC 3168)");
	C("ecn_responses", ecn_responses, "congestion responses to ECE or AccECN feedback");
	C("conns_active", conns_active, "active opens");
	C("conns_passive", conns_passive, "passive opens");
	C("conns_failed", conns_failed, "connections that failed");
	G("conns_open", conns_open, "connection blocks in use");
	G("timewait_open", timewait_open, "compact TIME-WAIT records");
	G("bytes_allocated", bytes_allocated, "bytes allocated by the stack now");
	G("allocs_live", allocs_live, "allocations of the stack live now");
#undef C
#undef G
	return n;
}

static size_t http_list(const sf_http_server_stats_t *hs, named_t *out)
{
	size_t n = 0;
#define C(nm, field, h) out[n++] = (named_t){nm, h, (uint64_t)hs->field, false}
#define G(nm, field, h)                                                                            \
	out[n++] = (named_t)                                                                       \
	{                                                                                          \
		nm, h, (uint64_t)hs->field, true                                                   \
	}
	C("requests", requests, "responses sent, error responses included");
	C("conns_accepted", conns_accepted, "connections accepted");
	C("conns_closed", conns_closed, "connections closed");
	C("conns_timed_out", conns_timed_out, "connections closed by a deadline");
	C("conns_evicted", conns_evicted, "idle connections closed to let a waiting one in");
	C("files_refused", files_refused, "names that are not regular files or lead out of root");
	C("bytes_in", bytes_in, "request bytes read");
	C("bytes_out", bytes_out, "response bytes written");
	G("conns_open", conns_open, "connections open now");
#undef C
#undef G
	return n;
}

static const struct {
	const char *code;
	size_t off;
} statuses[] = {
        {"2xx", offsetof(sf_http_server_stats_t, status_2xx)},
        {"3xx", offsetof(sf_http_server_stats_t, status_3xx)},
        {"4xx", offsetof(sf_http_server_stats_t, status_4xx)},
        {"5xx", offsetof(sf_http_server_stats_t, status_5xx)},
        {"206", offsetof(sf_http_server_stats_t, status_206)},
        {"304", offsetof(sf_http_server_stats_t, status_304)},
        {"400", offsetof(sf_http_server_stats_t, status_400)},
        {"404", offsetof(sf_http_server_stats_t, status_404)},
        {"405", offsetof(sf_http_server_stats_t, status_405)},
        {"408", offsetof(sf_http_server_stats_t, status_408)},
        {"413", offsetof(sf_http_server_stats_t, status_413)},
        {"414", offsetof(sf_http_server_stats_t, status_414)},
        {"416", offsetof(sf_http_server_stats_t, status_416)},
        {"431", offsetof(sf_http_server_stats_t, status_431)},
};

static const struct {
	const char *kind;
	size_t off;
} timeouts[] = {
        {"header", offsetof(sf_http_server_stats_t, timeouts_header)},
        {"body", offsetof(sf_http_server_stats_t, timeouts_body)},
        {"keepalive", offsetof(sf_http_server_stats_t, timeouts_keepalive)},
        {"send", offsetof(sf_http_server_stats_t, timeouts_send)},
};

static uint64_t at(const sf_http_server_stats_t *hs, size_t off)
{
	uint64_t v;
	memcpy(&v, (const char *)hs + off, sizeof v);
	return v;
}

void serve_stats_json(sf_http_response_t *resp, const sf_stack_stats_t *ss,
                      const uint32_t *by_state, const sf_http_server_stats_t *hs, double uptime_s)
{
	named_t l[40];
	sf_http_response_header(resp, "Content-Type", "application/json");
	sf_http_response_header(resp, "Cache-Control", "no-store");
	serve_printf(resp, "{\"uptime_s\":%.3f,\n\"stack\":{", uptime_s);
	size_t n = stack_list(ss, l);
	for (size_t i = 0; i < n; i++)
		serve_printf(resp, "%s\"%s\":%" PRIu64, i ? "," : "", l[i].name, l[i].value);
	serve_printf(resp, ",\n\"drops\":{");
	for (int r = 0; r < SF_DROP_COUNT; r++)
		serve_printf(resp, "%s\"%s\":%" PRIu64, r ? "," : "",
		             sf_drop_name((sf_drop_reason_t)r), ss->drops[r]);
	serve_printf(resp, "},\n\"conns_by_state\":{");
	for (int st = 1; st < SF_STATE_COUNT; st++)
		serve_printf(resp, "%s\"%s\":%" PRIu32, st > 1 ? "," : "",
		             sf_state_name((sf_state_t)st), by_state[st]);
	serve_printf(resp, "}},\n\"http\":{");
	n = http_list(hs, l);
	for (size_t i = 0; i < n; i++)
		serve_printf(resp, "%s\"%s\":%" PRIu64, i ? "," : "", l[i].name, l[i].value);
	serve_printf(resp, ",\n\"responses_by_status\":{");
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
		serve_printf(resp, "%s\"%s\":%" PRIu64, i ? "," : "", statuses[i].code,
		             at(hs, statuses[i].off));
	serve_printf(resp, "},\n\"timeouts\":{");
	for (size_t i = 0; i < sizeof timeouts / sizeof timeouts[0]; i++)
		serve_printf(resp, "%s\"%s\":%" PRIu64, i ? "," : "", timeouts[i].kind,
		             at(hs, timeouts[i].off));
	serve_printf(resp, "}}}\n");
}

static void family(sf_http_response_t *resp, const char *name, const char *help, bool gauge)
{
	serve_printf(resp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	             gauge ? "gauge" : "counter");
}

void serve_stats_prometheus(sf_http_response_t *resp, const sf_stack_stats_t *ss,
                            const uint32_t *by_state, const sf_http_server_stats_t *hs,
                            double uptime_s)
{
	named_t l[40];
	char full[96];
	/* Prometheus text format 0.0.4: counters end in _total. */
	sf_http_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	sf_http_response_header(resp, "Cache-Control", "no-store");
	family(resp, "synfin_uptime_seconds", "seconds since synfin serve started", true);
	serve_printf(resp, "synfin_uptime_seconds %.3f\n", uptime_s);
	size_t n = stack_list(ss, l);
	for (size_t i = 0; i < n; i++) {
		snprintf(full, sizeof full, "synfin_stack_%s%s", l[i].name,
		         l[i].gauge ? "" : "_total");
		family(resp, full, l[i].help, l[i].gauge);
		serve_printf(resp, "%s %" PRIu64 "\n", full, l[i].value);
	}
	family(resp, "synfin_stack_drops_total", "datagrams and segments dropped, by reason",
	       false);
	for (int r = 0; r < SF_DROP_COUNT; r++)
		serve_printf(resp, "synfin_stack_drops_total{reason=\"%s\"} %" PRIu64 "\n",
		             sf_drop_name((sf_drop_reason_t)r), ss->drops[r]);
	family(resp, "synfin_stack_connections", "connection blocks by state", true);
	for (int st = 1; st < SF_STATE_COUNT; st++)
		serve_printf(resp, "synfin_stack_connections{state=\"%s\"} %" PRIu32 "\n",
		             sf_state_name((sf_state_t)st), by_state[st]);
	n = http_list(hs, l);
	for (size_t i = 0; i < n; i++) {
		snprintf(full, sizeof full, "synfin_http_%s%s", l[i].name,
		         l[i].gauge ? "" : "_total");
		family(resp, full, l[i].help, l[i].gauge);
		serve_printf(resp, "%s %" PRIu64 "\n", full, l[i].value);
	}
	family(resp, "synfin_http_responses_total", "responses by status (class and code)", false);
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
		serve_printf(resp, "synfin_http_responses_total{code=\"%s\"} %" PRIu64 "\n",
		             statuses[i].code, at(hs, statuses[i].off));
	family(resp, "synfin_http_timeouts_total", "connections closed by a deadline, by kind",
	       false);
	for (size_t i = 0; i < sizeof timeouts / sizeof timeouts[0]; i++)
		serve_printf(resp, "synfin_http_timeouts_total{kind=\"%s\"} %" PRIu64 "\n",
		             timeouts[i].kind, at(hs, timeouts[i].off));
}
#endif /* SYNFIN_HAVE_HTTP */
