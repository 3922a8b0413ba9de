/* `synfin serve`'s counters, where people look for them: GET /_synfin/stats
 * (one JSON object) and GET /metrics (the Prometheus text exposition format,
 * version 0.0.4). Both are written from the same figures of each stack
 * (serve_figs_t): the stack's sf_stack_stats (drops by reason, challenge ACKs
 * and limited replies, SYN and accept queue overflows and SYN cookies,
 * retransmissions and their causes (RTO, fast recovery, RACK, TLP),
 * TIME-WAIT records, connections by state, bytes allocated) and the HTTP
 * server's sf_http_server_stats (requests by status, timeouts by kind,
 * evictions, refused files). With serve --threads N they show the sum over
 * the N stacks (counters and gauges alike), or one stack's figures alone
 * (?stack=K). A counter added to either struct is one more line in a table
 * below: it is then shown, summed and compared.
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

/* One counter or gauge of a stats struct: where it is and what it means. */
typedef struct field {
	const char *name, *help;
	size_t off;
	uint8_t size; /* 4 or 8 */
	bool gauge;
} field_t;

#define F(type, nm, fld, h, g)                                                                     \
	{                                                                                          \
		nm, h, offsetof(type, fld), sizeof(((type *)0)->fld), g                            \
	}
/* A counter's or gauge's name is its field's name. */
#define SC(fld, h) F(sf_stack_stats_t, #fld, fld, h, false)
#define SG(fld, h) F(sf_stack_stats_t, #fld, fld, h, true)
static const field_t stack_fields[] = {
        SC(ip_in, "IPv4 datagrams received"),
        SC(ip_out, "IPv4 datagrams sent"),
        SC(tcp_in, "TCP segments received"),
        SC(tcp_out, "TCP segments sent"),
        SC(icmp_in, "ICMP messages received"),
        SC(icmp_out, "ICMP messages sent"),
        SC(retransmits, "TCP segments retransmitted"),
        SC(rto_timeouts, "retransmission timeouts that fired (RFC 6298)"),
        SC(fast_recoveries,
           "entries into fast recovery on duplicate ACKs or SACK (RFC 5681, RFC 6675)"),
        SC(rack_lost, "segments RACK marked lost (RFC 8985)"),
        SC(tlp_probes, "tail loss probes sent (RFC 8985 §7)"),
        SC(tlp_recoveries, "tail loss probes that repaired a loss"),
        SC(dsacks_rcvd, "D-SACKs received (RFC 2883)"),
        SC(dsacks_sent, "D-SACKs sent (RFC 2883)"),
        SC(spurious_retx, "segments D-SACKs reported received twice (spurious retransmissions)"),
        SC(undos, "congestion responses undone: the retransmissions were spurious"),
        SC(undo_cwnd_segs, "sum of cwnd after each undo, in segments"),
        SC(spurious_rtos,
           "retransmission timeouts a timestamp echo showed spurious, undone (RFC 3522)"),
        SC(reo_wnd_grown, "times a D-SACK widened RACK's reordering window (RFC 8985 §6.2)"),
        SC(hystart_css, "initial slow starts made conservative by a delay rise (RFC 9406)"),
        SC(hystart_exits, "conservative slow starts that reached congestion avoidance"),
        SC(hystart_resumes, "conservative slow starts undone: the delay fell again"),
        SC(r1_advice, "connections whose retransmissions reached R1 (MUST-20)"),
        SC(rst_out, "RST segments sent"),
        SC(challenge_acks, "challenge ACKs sent (RFC 5961)"),
        SC(replies_limited, "replies to unacceptable segments held back by the RFC 5961 §7 limit"),
        SC(syncookies_sent, "SYN cookies sent: the SYN queue was full (RFC 4987)"),
        SC(syncookies_ok, "ACKs whose SYN cookie verified"),
        SC(syncookies_bad, "ACKs whose SYN cookie did not verify"),
        SC(ecn_ce_rcvd, "CE-marked segments received (RFC 3168)"),
        SC(ecn_responses, "congestion responses to ECE or AccECN feedback"),
        SC(conns_active, "active opens"),
        SC(conns_passive, "passive opens"),
        SC(conns_failed, "connections that failed"),
        SG(conns_open, "connection blocks in use"),
        SG(timewait_open, "compact TIME-WAIT records"),
        SG(bytes_allocated, "bytes allocated by the stack now"),
        SG(allocs_live, "allocations of the stack live now"),
};
#define HC(fld, h) F(sf_http_server_stats_t, #fld, fld, h, false)
#define HG(fld, h) F(sf_http_server_stats_t, #fld, fld, h, true)
static const field_t http_fields[] = {
        HC(requests, "responses sent, error responses included"),
        HC(conns_accepted, "connections accepted"),
        HC(conns_closed, "connections closed"),
        HC(conns_timed_out, "connections closed by a deadline"),
        HC(conns_evicted, "idle connections closed to let a waiting one in"),
        HC(files_refused, "names that are not regular files or lead out of root"),
        HC(bytes_in, "request bytes read"),
        HC(bytes_out, "response bytes written"),
        HG(conns_open, "connections open now"),
};
/* Responses by status and timeouts by kind: labels of one family each. */
#define HL(label, fld) F(sf_http_server_stats_t, label, fld, NULL, false)
static const field_t statuses[] = {
        HL("2xx", status_2xx), HL("3xx", status_3xx), HL("4xx", status_4xx), HL("5xx", status_5xx),
        HL("206", status_206), HL("304", status_304), HL("400", status_400), HL("404", status_404),
        HL("405", status_405), HL("408", status_408), HL("413", status_413), HL("414", status_414),
        HL("416", status_416), HL("431", status_431),
};
static const field_t timeouts[] = {
        HL("header", timeouts_header),
        HL("body", timeouts_body),
        HL("keepalive", timeouts_keepalive),
        HL("send", timeouts_send),
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t get(const void *base, const field_t *f)
{
	const char *p = (const char *)base + f->off;
	if (f->size == 4) {
		uint32_t v;
		memcpy(&v, p, sizeof v);
		return v;
	}
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static void add(void *base, const field_t *f, uint64_t more)
{
	char *p = (char *)base + f->off;
	if (f->size == 4) {
		uint32_t v;
		memcpy(&v, p, sizeof v);
		v += (uint32_t)more;
		memcpy(p, &v, sizeof v);
	} else {
		uint64_t v;
		memcpy(&v, p, sizeof v);
		v += more;
		memcpy(p, &v, sizeof v);
	}
}

static void add_all(void *dst, const void *src, const field_t *fs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		add(dst, &fs[i], get(src, &fs[i]));
}

static bool equal_all(const void *a, const void *b, const field_t *fs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (get(a, &fs[i]) != get(b, &fs[i]))
			return false;
	return true;
}

void serve_figs_add(serve_figs_t *sum, const serve_figs_t *one)
{
	add_all(&sum->ss, &one->ss, stack_fields, COUNT(stack_fields));
	for (int r = 0; r < SF_DROP_COUNT; r++)
		sum->ss.drops[r] += one->ss.drops[r];
	for (int st = 0; st < SF_STATE_COUNT; st++)
		sum->by_state[st] += one->by_state[st];
	add_all(&sum->hs, &one->hs, http_fields, COUNT(http_fields));
	add_all(&sum->hs, &one->hs, statuses, COUNT(statuses));
	add_all(&sum->hs, &one->hs, timeouts, COUNT(timeouts));
	sum->requests += one->requests;
}

bool serve_figs_same(const serve_figs_t *a, const serve_figs_t *b)
{
	return equal_all(&a->ss, &b->ss, stack_fields, COUNT(stack_fields)) &&
	       !memcmp(a->ss.drops, b->ss.drops, sizeof a->ss.drops) &&
	       equal_all(&a->hs, &b->hs, http_fields, COUNT(http_fields)) &&
	       equal_all(&a->hs, &b->hs, statuses, COUNT(statuses)) &&
	       equal_all(&a->hs, &b->hs, timeouts, COUNT(timeouts)) && a->requests == b->requests;
}

/* The figures a report shows: the sum over the stacks that could be read,
 * or stack r->only alone. */
static void report_figs(const serve_report_t *r, serve_figs_t *out)
{
	memset(out, 0, sizeof *out);
	for (unsigned k = 0; k < r->stacks; k++)
		if (r->age_us[k] >= 0 && (r->only < 0 || (unsigned)r->only == k))
			serve_figs_add(out, &r->per[k]);
}

static void json_fields(sf_http_response_t *resp, const void *base, const field_t *fs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		serve_printf(resp, "%s\"%s\":%" PRIu64, i ? "," : "", fs[i].name,
		             get(base, &fs[i]));
}

void serve_stats_json(sf_http_response_t *resp, const serve_report_t *r)
{
	serve_figs_t f;
	report_figs(r, &f);
	const sf_stack_stats_t *ss = &f.ss;
	sf_http_response_header(resp, "Content-Type", "application/json");
	sf_http_response_header(resp, "Cache-Control", "no-store");
	serve_printf(resp, "{\"uptime_s\":%.3f,\"stacks\":%u,\"serving_stack\":%u,", r->uptime_s,
	             r->stacks, r->serving);
	if (r->only >= 0)
		serve_printf(resp, "\"only_stack\":%d,\"age_ms\":%.1f,", r->only,
		             (double)r->age_us[r->only] / 1e3);
	serve_printf(resp, "\n\"stack\":{");
	json_fields(resp, ss, stack_fields, COUNT(stack_fields));
	serve_printf(resp, ",\n\"drops\":{");
	for (int d = 0; d < SF_DROP_COUNT; d++)
		serve_printf(resp, "%s\"%s\":%" PRIu64, d ? "," : "",
		             sf_drop_name((sf_drop_reason_t)d), ss->drops[d]);
	serve_printf(resp, "},\n\"conns_by_state\":{");
	for (int st = 1; st < SF_STATE_COUNT; st++)
		serve_printf(resp, "%s\"%s\":%" PRIu32, st > 1 ? "," : "",
		             sf_state_name((sf_state_t)st), f.by_state[st]);
	serve_printf(resp, "}},\n\"http\":{");
	json_fields(resp, &f.hs, http_fields, COUNT(http_fields));
	serve_printf(resp, ",\n\"responses_by_status\":{");
	json_fields(resp, &f.hs, statuses, COUNT(statuses));
	serve_printf(resp, "},\n\"timeouts\":{");
	json_fields(resp, &f.hs, timeouts, COUNT(timeouts));
	serve_printf(resp, "}}");
	if (r->only < 0) {
		/* A few figures of every stack; ?stack=K gives all of stack K's. */
		serve_printf(resp, ",\n\"per_stack\":[");
		for (unsigned k = 0; k < r->stacks; k++) {
			const serve_figs_t *p = &r->per[k];
			if (r->age_us[k] < 0) {
				serve_printf(resp, "%s\n{\"stack\":%u,\"read\":false}",
				             k ? "," : "", k);
				continue;
			}
			serve_printf(resp,
			             "%s\n{\"stack\":%u,\"read\":true,\"age_ms\":%.1f,"
			             "\"conns_accepted\":%" PRIu64 ",\"requests\":%" PRIu64
			             ",\"conns_open\":%" PRIu32 ",\"tcp_in\":%" PRIu64
			             ",\"tcp_out\":%" PRIu64 ",\"bytes_out\":%" PRIu64 "}",
			             k ? "," : "", k, (double)r->age_us[k] / 1e3,
			             p->hs.conns_accepted, p->hs.requests, p->hs.conns_open,
			             p->ss.tcp_in, p->ss.tcp_out, p->hs.bytes_out);
		}
		serve_printf(resp, "]");
	}
	serve_printf(resp, "}\n");
}

static void family(sf_http_response_t *resp, const char *name, const char *help, bool gauge)
{
	serve_printf(resp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	             gauge ? "gauge" : "counter");
}

static void prom_fields(sf_http_response_t *resp, const char *prefix, const void *base,
                        const field_t *fs, size_t n)
{
	char full[96];
	/* Prometheus text format 0.0.4: counters end in _total. */
	for (size_t i = 0; i < n; i++) {
		snprintf(full, sizeof full, "%s%s%s", prefix, fs[i].name,
		         fs[i].gauge ? "" : "_total");
		family(resp, full, fs[i].help, fs[i].gauge);
		serve_printf(resp, "%s %" PRIu64 "\n", full, get(base, &fs[i]));
	}
}

static void prom_labels(sf_http_response_t *resp, const char *name, const char *label,
                        const void *base, const field_t *fs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		serve_printf(resp, "%s{%s=\"%s\"} %" PRIu64 "\n", name, label, fs[i].name,
		             get(base, &fs[i]));
}

void serve_stats_prometheus(sf_http_response_t *resp, const serve_report_t *r)
{
	serve_figs_t f;
	report_figs(r, &f);
	sf_http_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	sf_http_response_header(resp, "Cache-Control", "no-store");
	family(resp, "synfin_uptime_seconds", "seconds since synfin serve started", true);
	serve_printf(resp, "synfin_uptime_seconds %.3f\n", r->uptime_s);
	family(resp, "synfin_stacks",
	       "stacks (threads) of synfin serve; the figures below are their sum, or one "
	       "stack's with ?stack=K",
	       true);
	serve_printf(resp, "synfin_stacks %u\n", r->stacks);
	family(resp, "synfin_stacks_read",
	       "stacks whose figures are in this answer (each published at most 50 ms ago)", true);
	unsigned read = 0;
	for (unsigned k = 0; k < r->stacks; k++)
		read += r->age_us[k] >= 0 && (r->only < 0 || (unsigned)r->only == k);
	serve_printf(resp, "synfin_stacks_read %u\n", read);
	prom_fields(resp, "synfin_stack_", &f.ss, stack_fields, COUNT(stack_fields));
	family(resp, "synfin_stack_drops_total", "datagrams and segments dropped, by reason",
	       false);
	for (int d = 0; d < SF_DROP_COUNT; d++)
		serve_printf(resp, "synfin_stack_drops_total{reason=\"%s\"} %" PRIu64 "\n",
		             sf_drop_name((sf_drop_reason_t)d), f.ss.drops[d]);
	family(resp, "synfin_stack_connections", "connection blocks by state", true);
	for (int st = 1; st < SF_STATE_COUNT; st++)
		serve_printf(resp, "synfin_stack_connections{state=\"%s\"} %" PRIu32 "\n",
		             sf_state_name((sf_state_t)st), f.by_state[st]);
	prom_fields(resp, "synfin_http_", &f.hs, http_fields, COUNT(http_fields));
	family(resp, "synfin_http_responses_total", "responses by status (class and code)", false);
	prom_labels(resp, "synfin_http_responses_total", "code", &f.hs, statuses, COUNT(statuses));
	family(resp, "synfin_http_timeouts_total", "connections closed by a deadline, by kind",
	       false);
	prom_labels(resp, "synfin_http_timeouts_total", "kind", &f.hs, timeouts, COUNT(timeouts));
}
#endif /* SYNFIN_HAVE_HTTP */
