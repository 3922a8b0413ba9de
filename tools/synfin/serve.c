/* `synfin serve`: an HTTP/1.1 server on synfin over a TUN device, reachable
 * from the machine's own kernel (curl, a browser) at synfin's address.
 *
 * The link is a TUN device whose kernel side gets --peer (default
 * 192.0.2.1/24) while synfin answers at --addr (default 192.0.2.2), driven by
 * sf_loop; optional impairments (--loss, --reorder, --dup, --delay-ms) sit
 * between the stack and the TUN, and --pcap records what the stack sent and
 * received. --netns first moves the process into a fresh network namespace
 * of its own.
 *
 * Every trace event of the stack goes through record_event(), which keeps
 * the recent connections (REC_CNT of them): 4-tuple, the states each went
 * through, bytes each way, and the first and last events of its life. The
 * built-in page at / lists them and draws their ladders as SVG
 * (include/synfin/ladder.h) — the visitor's own connection first, with the
 * handshake that carried the request. /_synfin/ladder/N.svg and .txt give
 * one connection's ladder alone; N.html is the page to step through it
 * (updating itself while the connection goes on). Other paths are served
 * from --dir.
 *
 * --threads N (default 1; 0: one per core): one TUN device with N queues,
 * and per queue one thread with its own stack, HTTP server and connection
 * records, sharing nothing (sf_loop_open_tun_multi). The kernel spreads
 * connections over the queues; the page shows the records of the stack
 * that serves it (so a browser's next request, on another connection, may
 * not find the connection it asks for: hence the default of one until the
 * page gathers every stack's records). Thread 0 is the main thread; a signal stops it,
 * and it stops the others through an eventfd each.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "netopts.h"
#include "synfin/ladder.h"
#include "synfin/loop.h"

#define CMD "serve"

#ifdef SYNFIN_HAVE_HTTP
#include "serve_stats.h"
#include "synfin/http.h"

#define REC_CNT      32 /* recent connections kept */
#define REC_HEAD     64 /* first events kept per connection */
#define REC_TAIL     48 /* last events kept per connection */
#define REC_PATH     16 /* states kept per connection */
#define PENDING_CNT  32 /* state events of connections not yet tied to a 4-tuple */
#define LISTENER_CNT 8
#define PAGE_LADDERS 6 /* ladders drawn on the page */

/* One connection as seen by synfin's trace events. */
typedef struct rec {
	uint64_t num; /* 1, 2, ... in order of appearance; 0: free slot */
	uint32_t conn_id;
	uint32_t raddr;
	uint16_t rport, lport;
	bool finished; /* reached CLOSED */
	bool refused;  /* a SYN to a closed port answered with RST */
	sf_state_t path[REC_PATH];
	int path_cnt;
	uint32_t iss, irs;
	bool has_iss, has_irs;
	uint64_t bytes_in, bytes_out; /* highest sequence offset each way */
	int64_t first_us, last_us, last_req_us;
	sf_event_t head[REC_HEAD];
	sf_event_t tail[REC_TAIL];
	int head_cnt;
	uint64_t tail_total; /* events after the head; the last REC_TAIL are kept */
} rec_t;

typedef struct server_state {
	rec_t recs[REC_CNT];
	uint64_t next_num;
	sf_event_t pending[PENDING_CNT];
	int pending_cnt;
	uint32_t listeners[LISTENER_CNT];
	int listener_cnt;
	FILE *json; /* --trace */
	/* shown on the page */
	uint32_t addr, peer;
	uint16_t port;
	const char *tun;
	bool netns;
	bool show_visitors; /* --show-visitors: the page lists every recent client */
	const char *dir;    /* --dir, or NULL */
	int64_t start_us;
	uint64_t requests;
	sf_http_server_t *http;
	sf_loop_t *loop;
	int64_t duration_us; /* threads 1..: how long to run (< 0: until stopped) */
	int rc;              /* threads 1..: what sf_loop_run returned */
} server_state_t;

static sf_loop_t *running_loop;

#define MAX_THREADS 64

static void on_signal(int sig)
{
	(void)sig;
	if (running_loop)
		sf_loop_stop(running_loop);
}

/* ---- connection records from trace events ---- */

static bool is_listener(const server_state_t *s, uint32_t id)
{
	for (int i = 0; i < s->listener_cnt; i++)
		if (s->listeners[i] == id)
			return true;
	return false;
}

static rec_t *find_by_id(server_state_t *s, uint32_t id)
{
	for (int i = 0; id && i < REC_CNT; i++)
		if (s->recs[i].num && s->recs[i].conn_id == id)
			return &s->recs[i];
	return NULL;
}

static rec_t *find_by_tuple(server_state_t *s, uint32_t raddr, uint16_t rport, uint16_t lport)
{
	rec_t *best = NULL;
	for (int i = 0; i < REC_CNT; i++) {
		rec_t *r = &s->recs[i];
		if (r->num && r->raddr == raddr && r->rport == rport && r->lport == lport &&
		    (!best || r->num > best->num))
			best = r;
	}
	return best;
}

static rec_t *new_rec(server_state_t *s, uint32_t raddr, uint16_t rport, uint16_t lport,
                      int64_t now)
{
	rec_t *r = &s->recs[0];
	for (int i = 1; i < REC_CNT && r->num; i++) /* a free slot, else the oldest */
		if (!s->recs[i].num || s->recs[i].num < r->num)
			r = &s->recs[i];
	memset(r, 0, sizeof *r);
	r->num = ++s->next_num;
	r->raddr = raddr;
	r->rport = rport;
	r->lport = lport;
	r->first_us = now;
	return r;
}

static void keep_event(rec_t *r, const sf_event_t *ev)
{
	if (r->head_cnt < REC_HEAD)
		r->head[r->head_cnt++] = *ev;
	else
		r->tail[r->tail_total++ % REC_TAIL] = *ev;
	r->last_us = ev->now_us;
}

static void note_state(rec_t *r, const sf_event_t *ev)
{
	if (r->path_cnt == 0)
		r->path[r->path_cnt++] = ev->u.state.from;
	if (r->path_cnt < REC_PATH)
		r->path[r->path_cnt++] = ev->u.state.to;
	else
		r->path[REC_PATH - 1] = ev->u.state.to;
	if (ev->u.state.to == SF_CLOSED)
		r->finished = true;
}

/* Highest sequence offset (from the ISN) a segment reaches, as bytes. */
static void note_bytes(rec_t *r, const sf_event_t *ev, bool tx)
{
	const sf_tcp_t *t = &ev->u.seg.tcp;
	uint32_t *isn = tx ? &r->iss : &r->irs;
	bool *has = tx ? &r->has_iss : &r->has_irs;
	if (t->flags & SF_TCP_SYN) {
		*isn = t->seq;
		*has = true;
	}
	if (!*has || t->payload_len == 0)
		return;
	uint64_t end = (uint32_t)(t->seq - *isn - 1) + (uint64_t)t->payload_len;
	uint64_t *bytes = tx ? &r->bytes_out : &r->bytes_in;
	if (end > *bytes && end < (1ull << 31) + *bytes)
		*bytes = end;
	if (!tx)
		r->last_req_us = ev->now_us;
}

static void tie_pending(server_state_t *s, rec_t *r)
{
	int k = 0;
	for (int i = 0; i < s->pending_cnt; i++) {
		if (s->pending[i].conn_id == r->conn_id) {
			keep_event(r, &s->pending[i]);
			if (s->pending[i].kind == SF_EV_STATE)
				note_state(r, &s->pending[i]);
		} else {
			s->pending[k++] = s->pending[i];
		}
	}
	s->pending_cnt = k;
}

static void record_event(void *ctx, const sf_event_t *ev)
{
	server_state_t *s = ctx;
	if (s->json)
		sf_trace_json_write(s->json, ev);
	if (ev->kind == SF_EV_STATE && ev->u.state.to == SF_LISTEN) {
		if (s->listener_cnt < LISTENER_CNT)
			s->listeners[s->listener_cnt++] = ev->conn_id;
		return;
	}
	bool has_seg = ev->kind == SF_EV_SEG_TX || ev->kind == SF_EV_SEG_RX ||
	               (ev->kind == SF_EV_DROP && ev->has_seg);
	if (!has_seg) {
		if (ev->kind != SF_EV_STATE && ev->kind != SF_EV_TIMER)
			return;
		rec_t *r = find_by_id(s, ev->conn_id);
		if (r) {
			keep_event(r, ev);
			if (ev->kind == SF_EV_STATE)
				note_state(r, ev);
		} else if (ev->conn_id && !is_listener(s, ev->conn_id)) {
			if (s->pending_cnt == PENDING_CNT) /* forget the oldest */
				memmove(s->pending, s->pending + 1,
				        sizeof s->pending[0] * --s->pending_cnt);
			s->pending[s->pending_cnt++] = *ev;
		}
		return;
	}
	if (ev->u.seg.ip.proto != SF_IP_PROTO_TCP)
		return;
	/* A frame synfin's impairment lost on its way out: outgoing. */
	bool tx = ev->kind == SF_EV_SEG_TX ||
	          (ev->kind == SF_EV_DROP && ev->drop == SF_DROP_LINK_IMPAIR_TX);
	const sf_tcp_t *t = &ev->u.seg.tcp;
	uint32_t raddr = tx ? ev->u.seg.ip.dst : ev->u.seg.ip.src;
	uint16_t rport = tx ? t->dport : t->sport, lport = tx ? t->sport : t->dport;
	rec_t *r = find_by_tuple(s, raddr, rport, lport);
	bool syn = !tx && (t->flags & (SF_TCP_SYN | SF_TCP_ACK)) == SF_TCP_SYN;
	if (syn && (!r || r->finished || r->refused || (r->has_irs && r->irs != t->seq)))
		r = new_rec(s, raddr, rport, lport, ev->now_us);
	if (!r)
		return; /* the middle of a connection we no longer keep */
	if (ev->conn_id && !r->conn_id && !is_listener(s, ev->conn_id)) {
		r->conn_id = ev->conn_id;
		tie_pending(s, r);
	}
	if (ev->kind == SF_EV_DROP && ev->drop == SF_DROP_TCP_NO_SOCKET)
		r->refused = true;
	keep_event(r, ev);
	if (ev->kind != SF_EV_DROP)
		note_bytes(r, ev, tx);
}

/* ---- the page ---- */

static sf_ladder_t *build_ladder(const rec_t *r)
{
	sf_ladder_t *l = sf_ladder_new();
	if (!l)
		return NULL;
	for (int i = 0; i < r->head_cnt; i++)
		sf_ladder_add_event(l, 1, &r->head[i]);
	uint64_t n = r->tail_total < REC_TAIL ? r->tail_total : REC_TAIL;
	for (uint64_t i = r->tail_total - n; i < r->tail_total; i++)
		sf_ladder_add_event(l, 1, &r->tail[i % REC_TAIL]);
	if (r->conn_id)
		sf_ladder_set_conn(l, 1, r->conn_id);
	return l;
}

/* Renders a record's ladder into a malloc'd buffer: ext "svg", "txt" or
 * "html" (the steppable page, src/trace/html.c, which polls `path` for
 * the connection's progress). */
static char *render_ladder(const rec_t *r, const char *ext, const char *path, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	sf_ladder_t *l = build_ladder(r);
	if (!f || !l) {
		if (f)
			fclose(f);
		sf_ladder_free(l);
		free(buf);
		return NULL;
	}
	sf_ladder_opts_t o = {0};
	int rc = !strcmp(ext, "svg")    ? sf_ladder_render_svg(l, &o, f)
	         : !strcmp(ext, "html") ? sf_ladder_render_html(l, &o, path, f)
	                                : sf_ladder_render_text(l, &o, f);
	sf_ladder_free(l);
	fclose(f);
	if (rc < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static const char *ip_str(uint32_t a, char *buf)
{
	struct in_addr in = {.s_addr = htonl(a)};
	return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

/* The records, newest first; the visitor's connection in *you: the one the
 * request came on (conn_id), or, without it, the one whose request arrived
 * last. Returns how many. */
static int sorted_recs(server_state_t *s, rec_t **out, rec_t **you, uint32_t conn_id)
{
	int n = 0;
	*you = NULL;
	for (int i = 0; i < REC_CNT; i++) {
		rec_t *r = &s->recs[i];
		if (!r->num)
			continue;
		int k = n++;
		while (k > 0 && out[k - 1]->num < r->num) {
			out[k] = out[k - 1];
			k--;
		}
		out[k] = r;
		if (!r->finished && r->last_req_us &&
		    (!*you || r->last_req_us > (*you)->last_req_us))
			*you = r;
	}
	for (int i = 0; conn_id && i < n; i++)
		if (out[i]->conn_id == conn_id)
			*you = out[i];
	return n;
}

static void write_states(sf_http_response_t *resp, const rec_t *r)
{
	if (r->refused) {
		serve_printf(resp, "refused (RST: nothing listens on port %u)", r->lport);
		return;
	}
	for (int i = 0; i < r->path_cnt; i++)
		serve_printf(resp, "%s%s", i ? " &rarr; " : "", sf_state_name(r->path[i]));
}

static void write_svg(sf_http_response_t *resp, const rec_t *r)
{
	size_t len;
	char *svg = render_ladder(r, "svg", NULL, &len);
	if (!svg) {
		serve_printf(resp, "<p>(no ladder)</p>\n");
		return;
	}
	const char *p = svg;
	if (!strncmp(p, "<?xml", 5) && strchr(p, '\n'))
		p = strchr(p, '\n') + 1; /* inline SVG: no XML declaration */
	sf_http_response_write(resp, p, len - (size_t)(p - svg));
	free(svg);
}

static void write_page(server_state_t *s, const sf_http_request_t *req, sf_http_response_t *resp,
                       int64_t now)
{
	rec_t *recs[REC_CNT], *you;
	int n = sorted_recs(s, recs, &you, req->conn_id);
	if (!s->show_visitors) {
		/* Other visitors' addresses are theirs: only yours unless --show-visitors. */
		n = you ? 1 : 0;
		recs[0] = you;
	}
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	sf_http_response_header(resp, "Content-Type", "text/html; charset=utf-8");
	sf_http_response_header(resp, "Cache-Control", "no-store");
	serve_printf(resp,
	             "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>synfin</title>\n"
	             "<style>body{font-family:sans-serif;margin:1.5em;max-width:75em}"
	             "table{border-collapse:collapse}td,th{border:1px solid #bbb;"
	             "padding:2px 8px;font-size:90%%}tr.you{background:#ffe9a8}"
	             "svg{max-width:100%%;height:auto;border:1px solid #ddd}</style>"
	             "</head><body>\n<h1>synfin</h1>\n");
	serve_printf(resp,
	             "<p>This page comes from <b>synfin</b>, a TCP/IPv4 stack in user space, "
	             "answering at %s:%u on the TUN device %s. Your request crossed the Linux "
	             "kernel's own TCP on the other side of that device (%s). Below are the last "
	             "%d connections synfin saw and, for the newest, the ladder of each one's "
	             "life drawn from synfin's own trace events: every segment with its flags, "
	             "sequence and acknowledgment numbers, and synfin's state beside it. ",
	             ip_str(s->addr, a), s->port, s->tun ? s->tun : "?", ip_str(s->peer, b), n);
	serve_printf(resp, "The highlighted one is yours: it is still open while this page is "
	                   "written, so its ladder stops after your request.</p>\n");
	sf_stack_stats_t ss;
	sf_http_server_stats_t hs;
	sf_stack_stats(sf_loop_stack(s->loop), &ss);
	sf_http_server_stats(s->http, &hs);
	uint32_t by_state[SF_STATE_COUNT];
	sf_stack_conns_by_state(sf_loop_stack(s->loop), by_state);
	uint64_t drops = 0;
	for (int i = 0; i < SF_DROP_COUNT; i++)
		drops += ss.drops[i];
	serve_printf(resp,
	             "<p>Up %.0f s, %" PRIu64 " requests, %" PRIu32 " connections open, %" PRIu64
	             " segments dropped, %" PRIu64 " retransmitted, %" PRIu64
	             " challenge ACKs, %" PRIu32 " in TIME-WAIT, %" PRIu64
	             " connections timed out, %" PRIu64 " evicted. All counters: "
	             "<a href=\"/_synfin/stats\">/_synfin/stats</a> (JSON), "
	             "<a href=\"/metrics\">/metrics</a> (Prometheus).</p>\n",
	             (double)(now - s->start_us) / 1e6, s->requests, ss.conns_open, drops,
	             ss.retransmits, ss.challenge_acks, ss.timewait_open + by_state[SF_TIME_WAIT],
	             hs.conns_timed_out, hs.conns_evicted);
	serve_printf(resp,
	             "<table><tr><th>#</th><th>client</th><th>server</th><th>states (synfin's "
	             "side)</th><th>bytes in</th><th>bytes out</th><th>age</th>"
	             "<th>ladder</th></tr>\n");
	for (int i = 0; i < n; i++) {
		rec_t *r = recs[i];
		serve_printf(resp, "<tr%s><td>%" PRIu64 "</td><td>%s:%u</td><td>%s:%u</td><td>",
		             r == you ? " class=\"you\"" : "", r->num, ip_str(r->raddr, a),
		             r->rport, ip_str(s->addr, b), r->lport);
		write_states(resp, r);
		serve_printf(resp,
		             "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%.1f s</td>"
		             "<td><a href=\"/_synfin/ladder/%" PRIu64 ".html\">step by step</a> "
		             "<a href=\"/_synfin/ladder/%" PRIu64 ".svg\">svg</a> "
		             "<a href=\"/_synfin/ladder/%" PRIu64 ".txt\">text</a></td></tr>\n",
		             r->bytes_in, r->bytes_out, (double)(now - r->first_us) / 1e6, r->num,
		             r->num, r->num);
	}
	serve_printf(resp, "</table>\n");
	int drawn = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < n && drawn < PAGE_LADDERS; i++) {
			rec_t *r = recs[i];
			if ((pass == 0) != (r == you))
				continue;
			serve_printf(resp, "<h2>#%" PRIu64 " %s:%u &rarr; %s:%u%s</h2>\n", r->num,
			             ip_str(r->raddr, a), r->rport, ip_str(s->addr, b), r->lport,
			             r == you ? " (your connection)" : "");
			if (r->tail_total > REC_TAIL)
				serve_printf(resp,
				             "<p>%" PRIu64 " events in the middle left out.</p>\n",
				             r->tail_total - REC_TAIL);
			write_svg(resp, r);
			drawn++;
		}
	}
	serve_printf(resp, "</body></html>\n");
}

/* ---- routes: synfin's own pages; everything else goes to --dir ---- */

static int route_page(server_state_t *s, const sf_http_request_t *req, sf_http_response_t *resp)
{
	write_page(s, req, resp, sf_loop_now());
	return 0;
}

/* "/" is the site's own index when --dir has one, else synfin's page. */
static int route_root(server_state_t *s, const sf_http_request_t *req, sf_http_response_t *resp)
{
	char index[4096];
	if (s->dir && snprintf(index, sizeof index, "%s/index.html", s->dir) < (int)sizeof index &&
	    access(index, F_OK) == 0)
		return 1;
	return route_page(s, req, resp);
}

static int route_synfin(server_state_t *s, const sf_http_request_t *req, sf_http_response_t *resp)
{
	(void)s;
	/* RFC 9110 §15.4.2: the directory's URI ends with a slash; keep the query. */
	char loc[1024];
	snprintf(loc, sizeof loc, "/_synfin/%s%s", *req->query ? "?" : "", req->query);
	sf_http_response_status(resp, 301);
	sf_http_response_header(resp, "Location", loc);
	return 0;
}

static int route_stats(server_state_t *s, const sf_http_request_t *req, sf_http_response_t *resp,
                       bool prometheus)
{
	(void)req;
	sf_stack_stats_t ss;
	sf_http_server_stats_t hs;
	sf_stack_stats(sf_loop_stack(s->loop), &ss);
	sf_http_server_stats(s->http, &hs);
	double up = (double)(sf_loop_now() - s->start_us) / 1e6;
	uint32_t by_state[SF_STATE_COUNT];
	sf_stack_conns_by_state(sf_loop_stack(s->loop), by_state);
	if (prometheus)
		serve_stats_prometheus(resp, &ss, by_state, &hs, up);
	else
		serve_stats_json(resp, &ss, by_state, &hs, up);
	return 0;
}

static int route_json(server_state_t *s, const sf_http_request_t *req, sf_http_response_t *resp)
{
	return route_stats(s, req, resp, false);
}

static int route_metrics(server_state_t *s, const sf_http_request_t *req, sf_http_response_t *resp)
{
	return route_stats(s, req, resp, true);
}

static int route_ladder(server_state_t *s, const sf_http_request_t *req, sf_http_response_t *resp)
{
	uint64_t num;
	char ext[8];
	int used = 0;
	if (sscanf(req->path, "/_synfin/ladder/%" SCNu64 ".%4[a-z]%n", &num, ext, &used) != 2 ||
	    req->path[used] != '\0' ||
	    (strcmp(ext, "svg") && strcmp(ext, "txt") && strcmp(ext, "html") && strcmp(ext, "sse")))
		return 1;
	for (int i = 0; i < REC_CNT; i++) {
		if (s->recs[i].num != num)
			continue;
		if (!strcmp(ext, "sse")) {
			/* Server-Sent Events for the .html page: one event, the
			 * number of trace events recorded; the browser asks
			 * again `retry` ms later (src/trace/html.c). */
			sf_http_response_header(resp, "Content-Type", "text/event-stream");
			sf_http_response_header(resp, "Cache-Control", "no-store");
			serve_printf(resp, "retry: 1000\ndata: %" PRIu64 "\n\n",
			             (uint64_t)s->recs[i].head_cnt + s->recs[i].tail_total);
			return 0;
		}
		size_t len;
		char *body = render_ladder(&s->recs[i], ext, req->path, &len);
		if (!body)
			break;
		sf_http_response_header(resp, "Content-Type",
		                        ext[0] == 's'   ? "image/svg+xml"
		                        : ext[0] == 'h' ? "text/html; charset=utf-8"
		                                        : "text/plain; charset=utf-8");
		sf_http_response_write(resp, body, len);
		free(body);
		return 0;
	}
	sf_http_response_status(resp, 404);
	serve_printf(resp, "no such connection (only the last %d are kept)\n", REC_CNT);
	return 0;
}

/* The routing table: a path matches exactly, or as a prefix when it ends
 * in '*'. Built-in routes answer GET and HEAD only (405 + Allow otherwise,
 * RFC 9110 §15.5.6); a route returns 1 to fall through to --dir. */
typedef int (*route_fn)(server_state_t *s, const sf_http_request_t *req, sf_http_response_t *resp);
static const struct route {
	const char *path;
	route_fn fn;
} routes[] = {
        {"/", route_root},           {"/_synfin", route_synfin},
        {"/_synfin/", route_page},   {"/_synfin/stats", route_json},
        {"/metrics", route_metrics}, {"/_synfin/ladder/*", route_ladder},
};

static const struct route *find_route(const char *path)
{
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		const char *p = routes[i].path;
		size_t l = strlen(p);
		if (l && p[l - 1] == '*' ? !strncmp(path, p, l - 1) : !strcmp(path, p))
			return &routes[i];
	}
	return NULL;
}

static int handle(void *ctx, const sf_http_request_t *req, sf_http_response_t *resp)
{
	server_state_t *s = ctx;
	s->requests++;
	const struct route *r = find_route(req->path);
	if (!r)
		return 1; /* --dir, or the server's 404 */
	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
		if (r->fn == route_root && s->dir)
			return 1; /* the files' own rules answer */
		sf_http_response_status(resp, 405);
		sf_http_response_header(resp, "Allow", "GET, HEAD");
		serve_printf(resp, "<!doctype html>\n<title>405</title>\n<h1>405 Method Not "
		                   "Allowed</h1>\n");
		return 0;
	}
	return r->fn(s, req, resp);
}

/* True once no connection of the stack waits for the ACK of its FIN
 * (FIN-WAIT-1, CLOSING, LAST-ACK). FIN-WAIT-2 is the client's turn and
 * TIME-WAIT needs nothing more from us (RFC 9293 §3.6). */
static bool closes_finished(void *ctx)
{
	server_state_t *s = ctx;
	uint32_t n[SF_STATE_COUNT];
	sf_stack_conns_by_state(sf_loop_stack(s->loop), n);
	return n[SF_FIN_WAIT_1] + n[SF_CLOSING] + n[SF_LAST_ACK] == 0;
}

/* Before exiting, lets closes under way finish, for at most CLOSE_GRACE_US:
 * a FIN whose ACK was lost is retransmitted and acknowledged, so neither the
 * client nor the capture is left with half a close. Open connections are not
 * waited for. */
#define CLOSE_GRACE_US 5000000
static void finish_closes(server_state_t *s)
{
	(void)sf_loop_run_until(s->loop, closes_finished, s, CLOSE_GRACE_US);
}

/* Thread k > 0: runs its stack's loop until stopped (on_wake) or the
 * duration passed, then lets its closes finish. */
static void *stack_thread(void *arg)
{
	server_state_t *s = arg;
	s->rc = sf_loop_run(s->loop, s->duration_us);
	finish_closes(s);
	return NULL;
}

static void on_wake(void *ctx, sf_loop_t *loop, int fd, uint32_t events)
{
	(void)ctx, (void)events;
	uint64_t v;
	if (read(fd, &v, sizeof v) < 0 && errno != EAGAIN)
		return;
	sf_loop_stop(loop);
}

static int64_t on_ready(void *ctx, sf_loop_t *loop, int64_t now)
{
	server_state_t *s = ctx;
	if (sf_http_server_poll(s->http, now) < 0) {
		cli_error(CMD, "the listener failed");
		sf_loop_stop(loop);
	}
	return sf_http_server_next_deadline(s->http);
}

#endif /* SYNFIN_HAVE_HTTP */

static void help(void)
{
	printf("usage: synfin serve [options]\n"
	       "\n"
	       "Serves HTTP/1.1 with synfin on a TUN device, reachable from this machine's own\n"
	       "kernel: synfin answers at --addr, the kernel side of the TUN gets --peer. The "
	       "page\n"
	       "at /_synfin/ (and at /, unless --dir has an index.html) draws your connection's\n"
	       "ladder (SVG); /_synfin/stats (JSON) and /metrics (Prometheus text) give the\n"
	       "stack's and the server's counters. Needs root (CAP_NET_ADMIN). Stop with Ctrl-C:\n"
	       "closes under way get up to 5 s to finish; a second Ctrl-C ends them at once.\n"
	       "\n"
	       "options:\n"
	       "  --port P         listening port (default 80)\n"
	       "  --dir DIR        also serve the files under DIR (regular files only)\n"
	       "  --duration S     stop after S seconds (default: run until Ctrl-C)\n"
	       "  --trace FILE     write every trace event as JSON lines to FILE\n"
	       "  --show-visitors  the page lists every recent client, not only yours\n"
	       "  --threads N      stacks, one per thread and TUN queue (default 1; 0: one\n"
	       "                   per core); the page shows the connections of the stack\n"
	       "                   that serves it, /metrics and /_synfin/stats its\n"
	       "                   counters; --pcap/--trace FILE: stack i > 0 writes\n"
	       "                   FILE.i\n"
	       "limits (memory is bounded by them; see include/synfin/http.h):\n"
	       "  --max-conns N    connections served at once (default 10000); when full, the\n"
	       "                   one idle longest is closed for a client that waits\n"
	       "  --backlog N      accept queue length (default 1024)\n"
	       "  --header-timeout S    a request head must arrive within S s (default 10)\n"
	       "  --body-timeout S      a body gets S s plus 1 s per --min-body-rate bytes "
	       "(10)\n"
	       "  --min-body-rate B     bytes/s a body must keep up (default 1024)\n"
	       "  --keepalive-timeout S idle time allowed between requests (default 15)\n"
	       "  --send-timeout S      a response unread for S s is aborted (default 30)\n"
	       "  --keepalive-requests N  requests per connection (default 1000)\n");
	netopts_help();
}

int cmd_serve(int argc, char **argv)
{
	netopts_t no;
	netopts_init(&no);
	const char *dir = NULL, *trace = NULL;
	uint64_t port = 80, threads = 1;
	double duration = -1;
	bool show_visitors = false;
	sf_http_server_config_t hc;
	memset(&hc, 0, sizeof hc);
	uint64_t max_conns = 10000, backlog = 1024, min_rate = 1024, ka_req = 1000;
	double t_head = 10, t_body = 10, t_ka = 15, t_send = 30;
	const struct {
		const char *name;
		double *v;
	} secs[] = {{"--header-timeout", &t_head},
	            {"--body-timeout", &t_body},
	            {"--keepalive-timeout", &t_ka},
	            {"--send-timeout", &t_send}};
	const struct {
		const char *name;
		uint64_t *v, max;
	} nums[] = {{"--max-conns", &max_conns, 1000000},
	            {"--backlog", &backlog, 65535},
	            {"--min-body-rate", &min_rate, UINT32_MAX},
	            {"--keepalive-requests", &ka_req, UINT32_MAX}};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		int r;
		if (cli_is_help(a)) {
			help();
			return CMD_OK;
		}
		if ((r = netopts_parse(CMD, &no, argc, argv, &i)) != 0) {
			if (r < 0)
				return CMD_USAGE;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--port", &v)) != 0) {
			if (r < 0 || !cli_u64_in(CMD, "--port", v, 1, 65535, &port))
				return CMD_USAGE;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--dir", &v)) != 0) {
			if (r < 0)
				return CMD_USAGE;
			dir = v;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--trace", &v)) != 0) {
			if (r < 0)
				return CMD_USAGE;
			trace = v;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--threads", &v)) != 0) {
			if (r < 0 || !cli_u64(CMD, "--threads", v, MAX_THREADS, &threads))
				return CMD_USAGE;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--duration", &v)) != 0) {
			if (r < 0 || !cli_double(CMD, "--duration", v, 0, 1e7, &duration))
				return CMD_USAGE;
		} else if (cli_flag(a, "--show-visitors")) {
			show_visitors = true;
		} else {
			bool matched = false;
			for (size_t k = 0; !matched && k < sizeof secs / sizeof secs[0]; k++)
				if ((r = cli_value(CMD, argc, argv, &i, secs[k].name, &v)) != 0) {
					if (r < 0 || !cli_double(CMD, secs[k].name, v, 0.001, 86400,
					                         secs[k].v))
						return CMD_USAGE;
					matched = true;
				}
			for (size_t k = 0; !matched && k < sizeof nums / sizeof nums[0]; k++)
				if ((r = cli_value(CMD, argc, argv, &i, nums[k].name, &v)) != 0) {
					if (r < 0 || !cli_u64_in(CMD, nums[k].name, v, 1,
					                         nums[k].max, nums[k].v))
						return CMD_USAGE;
					matched = true;
				}
			if (!matched)
				return cli_unknown(CMD, a);
		}
	}
	hc.max_conns = (uint32_t)max_conns;
	hc.backlog = (int)backlog;
	hc.min_body_rate = (uint32_t)min_rate;
	hc.max_keepalive = (uint32_t)ka_req;
	hc.header_timeout_us = (int64_t)(t_head * 1e6);
	hc.body_timeout_us = (int64_t)(t_body * 1e6);
	hc.keepalive_timeout_us = (int64_t)(t_ka * 1e6);
	hc.send_timeout_us = (int64_t)(t_send * 1e6);
#ifndef SYNFIN_HAVE_HTTP
	(void)dir, (void)trace, (void)port, (void)duration, (void)show_visitors, (void)threads;
	cli_error(CMD, "this synfin was built without HTTP (src/app needs llhttp: node-llhttp)");
	return CMD_FAIL;
#else
	struct stat dst;
	if (dir && (stat(dir, &dst) != 0 || access(dir, R_OK | X_OK) != 0)) {
		cli_error(CMD, "--dir %s: %s", dir, strerror(errno));
		return CMD_FAIL;
	}
	if (dir && !S_ISDIR(dst.st_mode)) {
		cli_error(CMD, "--dir %s: not a directory", dir);
		return CMD_USAGE;
	}
	if (threads == 0) { /* one per core */
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		threads = cores < 1 ? 1 : (uint64_t)cores;
		if (threads > MAX_THREADS)
			threads = MAX_THREADS;
	}
	unsigned n = (unsigned)threads;
	server_state_t *ss = calloc(n, sizeof *ss);
	if (!ss) {
		cli_error(CMD, "out of memory");
		return CMD_FAIL;
	}
	int status = CMD_FAIL;
	sf_loop_t *loops[MAX_THREADS] = {0};
	void *ctxs[MAX_THREADS];
	int wake[MAX_THREADS];
	pthread_t tids[MAX_THREADS];
	unsigned started = 1;
	for (unsigned k = 0; k < n; k++) {
		ctxs[k] = &ss[k];
		wake[k] = -1;
	}
	for (unsigned k = 0; trace && k < n; k++) {
		char path[4096];
		if (k == 0)
			snprintf(path, sizeof path, "%s", trace);
		else
			snprintf(path, sizeof path, "%s.%u", trace, k);
		if (!(ss[k].json = fopen(path, "w"))) {
			cli_error(CMD, "--trace %s: %s", path, strerror(errno));
			goto out;
		}
	}
	sf_config_t cfg;
	sf_config_default(&cfg);
	cfg.trace = (sf_trace_sink_t){.fn = record_event, .ctx = &ss[0]};
	/* Connection blocks for every served connection, the accept and SYN
	 * queues, and those we closed that still finish their close (FIN-WAIT,
	 * LAST-ACK; TIME-WAIT moves to compact records). Idle blocks cost no
	 * buffer memory. Per stack: each takes what the kernel sends it. */
	/* Half-open connections: as many as may wait to be accepted. */
	if (cfg.syn_backlog < (uint32_t)hc.backlog)
		cfg.syn_backlog = (uint32_t)hc.backlog;
	cfg.max_conns =
	        hc.max_conns + hc.max_conns / 2 + (uint32_t)hc.backlog + cfg.syn_backlog + 64;
	if (netopts_open_multi(CMD, &no, &cfg, n, ctxs, loops) < 0)
		goto out;
	for (unsigned k = 0; k < n; k++) {
		server_state_t *s = &ss[k];
		s->loop = loops[k];
		s->addr = no.addr;
		s->peer = no.peer;
		s->port = (uint16_t)port;
		s->tun = sf_loop_tun_name(s->loop);
		s->start_us = sf_loop_now();
		s->show_visitors = show_visitors;
		s->dir = dir;
		hc.port = (uint16_t)port;
		hc.docroot = dir;
		hc.handler = handle;
		hc.handler_ctx = s;
		s->http = sf_http_server_new(sf_loop_stack(s->loop), &hc);
		if (!s->http) {
			cli_error(CMD, "cannot listen on port %u", (unsigned)port);
			goto out;
		}
		sf_loop_set_app(s->loop, on_ready, s);
		if (k > 0 && ((wake[k] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
		              sf_loop_add_fd(s->loop, wake[k], EPOLLIN, on_wake, NULL) < 0)) {
			cli_error(CMD, "cannot set up thread %u", k);
			goto out;
		}
	}
	char a[INET_ADDRSTRLEN], p[INET_ADDRSTRLEN], url[64];
	ip_str(no.addr, a);
	ip_str(no.peer, p);
	if (port == 80)
		snprintf(url, sizeof url, "http://%s/", a);
	else
		snprintf(url, sizeof url, "http://%s:%u/", a, (unsigned)port);
	printf("synfin serve: HTTP on %s:%u over %s (the kernel side is %s/%d)%s", a,
	       (unsigned)port, ss[0].tun ? ss[0].tun : "?", p, no.prefix_len,
	       no.netns ? " in a new network namespace" : "");
	if (n > 1)
		printf(", %u stacks on %u threads and queues", n, n);
	printf("\n");
	if (no.netns)
		printf("reach it with:  nsenter --net=/proc/%d/ns/net curl %s\n", (int)getpid(),
		       url);
	else
		printf("reach it with:  curl %s\n", url);
	fflush(stdout);

	/* Threads 1.. leave signals to the main thread (thread 0). */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (; started < n; started++) {
		ss[started].duration_us = duration < 0 ? -1 : (int64_t)(duration * 1e6);
		if (pthread_create(&tids[started], NULL, stack_thread, &ss[started]) != 0)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	int rc = SF_ENOMEM;
	if (started == n) {
		running_loop = ss[0].loop;
		struct sigaction sa = {.sa_handler = on_signal};
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		rc = sf_loop_run(ss[0].loop, duration < 0 ? -1 : (int64_t)(duration * 1e6));
	}
	for (unsigned k = 1; k < started; k++) {
		uint64_t one = 1;
		if (write(wake[k], &one, sizeof one) < 0)
			cli_error(CMD, "cannot stop thread %u", k);
	}
	if (started == n) {
		/* The other stacks finish theirs meanwhile; a second Ctrl-C ends
		 * this at once. */
		finish_closes(&ss[0]);
		running_loop = NULL;
	}
	for (unsigned k = 1; k < started; k++) {
		pthread_join(tids[k], NULL);
		if (ss[k].rc < 0 && ss[k].rc != SF_ETIMEDOUT && rc >= 0)
			rc = ss[k].rc;
	}
	if (rc < 0 && rc != SF_ETIMEDOUT) {
		cli_error(CMD, "the link failed: %s", sf_strerror(rc));
		goto out;
	}
	sf_http_server_stats_t hs = {0};
	char per[512] = "";
	size_t pl = 0;
	for (unsigned k = 0; k < n; k++) {
		sf_http_server_stats_t one;
		sf_http_server_stats(ss[k].http, &one);
		hs.conns_accepted += one.conns_accepted;
		hs.requests += one.requests;
		hs.status_2xx += one.status_2xx;
		hs.status_4xx += one.status_4xx;
		hs.bytes_out += one.bytes_out;
		if (n > 1 && pl < sizeof per)
			pl += (size_t)snprintf(
			        per + pl, sizeof per - pl, "%s%" PRIu64,
			        k ? " " : "; connections per stack: ", one.conns_accepted);
	}
	fprintf(stderr,
	        "synfin serve: %" PRIu64 " connections, %" PRIu64 " requests (%" PRIu64
	        " 2xx, %" PRIu64 " 4xx), %" PRIu64 " bytes out%s\n",
	        hs.conns_accepted, hs.requests, hs.status_2xx, hs.status_4xx, hs.bytes_out, per);
	status = CMD_OK;
out:
	for (unsigned k = 0; k < n; k++) {
		sf_http_server_free(ss[k].http);
		sf_loop_destroy(ss[k].loop);
		if (wake[k] >= 0)
			close(wake[k]);
		if (ss[k].json)
			fclose(ss[k].json);
	}
	free(ss);
	return status;
#endif
}
