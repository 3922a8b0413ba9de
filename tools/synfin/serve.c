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
 * records, sharing nothing on the packet path (sf_loop_open_tun_multi). The
 * kernel spreads connections over the queues. Each stack publishes its
 * figures and records (see "what each stack shares" below) so that the
 * page, /_synfin/stats and /metrics, whichever stack serves them, show
 * every stack: the sum of the counters (?stack=K: stack K's alone) and
 * every stack's connections, named K-N. Thread 0 is the main thread; a
 * signal stops it, and it stops the others through an eventfd each.
 *
 * The default stays one stack: on the 2-core machine of bench/README.md,
 * two stacks served 0.85x the connections per second of one, the kernel's
 * TUN writes and its clients taking the cores; more stacks pay off with
 * cores to spare for them.
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
#include "seqbox.h"
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
	uint64_t ver;        /* bumped by every event kept: changed since published? */
} rec_t;

/* ---- what each stack shares with the others (--threads N) ----
 *
 * Nothing on the packet path is shared: each stack's thread publishes, at
 * most every PUB_US and only after something changed, a snapshot of its
 * figures and of the summaries of its connection records, and a copy of
 * each record that changed, into its own seqboxes (seqbox.h: one writer
 * that never waits, readers that copy a whole snapshot without a lock). A
 * request served by stack j reads its own stack live and stack k's latest
 * snapshot, which is at most PUB_US older than stack k's last change (a
 * stack that changed since it published wakes itself up to publish). */
#define PUB_US 50000

/* A record as the page's table shows it. */
typedef struct rec_sum {
	uint64_t num, bytes_in, bytes_out, events;
	int64_t first_us, last_req_us;
	uint32_t conn_id, raddr;
	uint16_t rport, lport;
	bool finished, refused;
	sf_state_t path[REC_PATH];
	int path_cnt;
	int slot; /* index in recs[], and in share_t.recs */
} rec_sum_t;

/* One stack's snapshot. */
typedef struct pub {
	int64_t at_us; /* when it was taken */
	serve_figs_t figs;
	int rec_cnt;
	rec_sum_t recs[REC_CNT];
} pub_t;

typedef struct share {
	seqbox_t *pub;           /* a pub_t */
	seqbox_t *recs[REC_CNT]; /* a rec_t each: the record in that slot */
} share_t;

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
	int64_t duration_us;   /* threads 1..: how long to run (< 0: until stopped) */
	int rc;                /* threads 1..: what sf_loop_run returned */
	unsigned idx, nstacks; /* this stack's index, and how many there are */
	share_t *share;        /* share[nstacks], every stack's boxes */
	/* Publication: this stack's thread only. */
	uint64_t events;                             /* trace events seen */
	int64_t pub_at;                              /* when it last published; 0: never */
	uint64_t pub_events;                         /* events then */
	serve_figs_t pub_figs;                       /* figures then */
	uint64_t pub_num[REC_CNT], pub_ver[REC_CNT]; /* each slot's record then */
	pub_t *pub;                                  /* where the next snapshot is made */
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
	r->ver++;
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
	s->events++;
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

/* ---- publication and gathering (--threads N) ---- */

static void rec_sum(const rec_t *r, int slot, rec_sum_t *o)
{
	*o = (rec_sum_t){.num = r->num,
	                 .bytes_in = r->bytes_in,
	                 .bytes_out = r->bytes_out,
	                 .events = (uint64_t)r->head_cnt + r->tail_total,
	                 .first_us = r->first_us,
	                 .last_req_us = r->last_req_us,
	                 .conn_id = r->conn_id,
	                 .raddr = r->raddr,
	                 .rport = r->rport,
	                 .lport = r->lport,
	                 .finished = r->finished,
	                 .refused = r->refused,
	                 .path_cnt = r->path_cnt,
	                 .slot = slot};
	memcpy(o->path, r->path, sizeof o->path);
}

/* This stack's figures now (the counters only: by_state walks the blocks). */
static void live_figs(server_state_t *s, serve_figs_t *f)
{
	memset(f, 0, sizeof *f);
	sf_stack_stats(sf_loop_stack(s->loop), &f->ss);
	sf_http_server_stats(s->http, &f->hs);
	f->requests = s->requests;
}

/* This stack's snapshot, live: what it publishes, and what the stack that
 * serves a request uses for itself. */
static void fill_pub(server_state_t *s, pub_t *p, int64_t now)
{
	memset(p, 0, sizeof *p);
	p->at_us = now;
	live_figs(s, &p->figs);
	sf_stack_conns_by_state(sf_loop_stack(s->loop), p->figs.by_state);
	for (int i = 0; i < REC_CNT; i++)
		if (s->recs[i].num)
			rec_sum(&s->recs[i], i, &p->recs[p->rec_cnt++]);
}

/* Called once per loop iteration (on_ready), never per packet: publishes
 * when PUB_US passed since the last publication and something changed.
 * Returns when it wants to be called again (INT64_MAX: not before the next
 * change). Records go first, the snapshot that lists them last, so a
 * reader who finds a record in the list finds it (or a newer one) in its
 * box. */
static int64_t maybe_publish(server_state_t *s, int64_t now)
{
	if (s->nstacks < 2)
		return INT64_MAX; /* the one stack serves every request itself */
	if (s->pub_at && now - s->pub_at < PUB_US)
		return s->pub_at + PUB_US; /* a look then: this iteration may change things */
	serve_figs_t f;
	live_figs(s, &f);
	if (s->pub_at && s->events == s->pub_events && serve_figs_same(&f, &s->pub_figs))
		return INT64_MAX; /* nothing new: sleep until something happens */
	for (int i = 0; i < REC_CNT; i++) {
		rec_t *r = &s->recs[i];
		if (r->num && (r->num != s->pub_num[i] || r->ver != s->pub_ver[i])) {
			seqbox_write(s->share[s->idx].recs[i], r);
			s->pub_num[i] = r->num;
			s->pub_ver[i] = r->ver;
		}
	}
	fill_pub(s, s->pub, now);
	seqbox_write(s->share[s->idx].pub, s->pub);
	s->pub_figs = s->pub->figs;
	s->pub_events = s->events;
	s->pub_at = now;
	/* What the loop does after this call (it sends what the server
	 * queued) is seen at the next look. */
	return now + PUB_US;
}

/* Every stack's snapshot, as seen by the stack that serves a request: its
 * own live, the others' as published. */
typedef struct gathered {
	unsigned n;
	pub_t *pubs;     /* pubs[n] */
	int64_t *age_us; /* < 0: stack k could not be read */
	serve_figs_t *figs;
} gathered_t;

static void gathered_free(gathered_t *g)
{
	free(g->pubs);
	free(g->age_us);
	free(g->figs);
}

static bool gather(server_state_t *s, gathered_t *g, int64_t now)
{
	g->n = s->nstacks;
	g->pubs = malloc(g->n * sizeof g->pubs[0]);
	g->age_us = malloc(g->n * sizeof g->age_us[0]);
	g->figs = malloc(g->n * sizeof g->figs[0]);
	if (!g->pubs || !g->age_us || !g->figs) {
		gathered_free(g);
		return false;
	}
	for (unsigned k = 0; k < g->n; k++) {
		pub_t *p = &g->pubs[k];
		if (k == s->idx) {
			fill_pub(s, p, now);
			g->age_us[k] = 0;
		} else if (seqbox_read(s->share[k].pub, p)) {
			/* 0 before its first publication: nothing yet */
			g->age_us[k] = p->at_us && now > p->at_us ? now - p->at_us : 0;
		} else {
			memset(p, 0, sizeof *p);
			g->age_us[k] = -1;
		}
		g->figs[k] = p->figs;
	}
	return true;
}

/* A copy of the record stack k keeps as sum (malloc'd; free it), or NULL:
 * no longer kept there (its slot went to a newer connection). */
static rec_t *rec_copy(server_state_t *s, unsigned k, const rec_sum_t *sum)
{
	if (sum->slot < 0 || sum->slot >= REC_CNT)
		return NULL;
	rec_t *r = malloc(sizeof *r);
	if (!r)
		return NULL;
	if (k == s->idx)
		*r = s->recs[sum->slot];
	else if (!seqbox_read(s->share[k].recs[sum->slot], r))
		r->num = 0;
	if (r->num != sum->num) {
		free(r);
		return NULL;
	}
	return r;
}

/* How a record is named in URLs and on the page: "N" with one stack,
 * "K-N" (stack K's N-th) with several. */
static const char *rec_name(const server_state_t *s, unsigned k, uint64_t num, char buf[32])
{
	if (s->nstacks > 1)
		snprintf(buf, 32, "%u-%" PRIu64, k, num);
	else
		snprintf(buf, 32, "%" PRIu64, num);
	return buf;
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

/* One row of the page: stack k's record. */
typedef struct row {
	unsigned stack;
	const rec_sum_t *r;
} row_t;

/* Every stack's records, newest first, into out (g->n * REC_CNT at most);
 * the visitor's connection in *you: the one the request came on (conn_id,
 * always on the serving stack), or, without it, the serving stack's one
 * whose request arrived last. Returns how many. */
static int sorted_rows(const server_state_t *s, const gathered_t *g, row_t *out, int *you,
                       uint32_t conn_id)
{
	int n = 0;
	*you = -1;
	for (unsigned k = 0; k < g->n; k++) {
		for (int i = 0; i < g->pubs[k].rec_cnt; i++) {
			const rec_sum_t *r = &g->pubs[k].recs[i];
			int at = n++;
			while (at > 0 && (out[at - 1].r->first_us < r->first_us ||
			                  (out[at - 1].r->first_us == r->first_us &&
			                   out[at - 1].r->num < r->num))) {
				out[at] = out[at - 1];
				at--;
			}
			out[at] = (row_t){k, r};
		}
	}
	for (int i = 0; i < n; i++) {
		const rec_sum_t *r = out[i].r;
		if (out[i].stack != s->idx)
			continue;
		if (conn_id && r->conn_id == conn_id) {
			*you = i;
			break;
		}
		if (!r->finished && r->last_req_us &&
		    (*you < 0 || r->last_req_us > out[*you].r->last_req_us))
			*you = i;
	}
	return n;
}

static void write_states(sf_http_response_t *resp, const rec_sum_t *r)
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
	gathered_t g;
	if (!gather(s, &g, now)) {
		sf_http_response_status(resp, 503);
		serve_printf(resp, "out of memory\n");
		return;
	}
	row_t *rows = malloc(sizeof *rows * REC_CNT * g.n);
	if (!rows) {
		gathered_free(&g);
		sf_http_response_status(resp, 503);
		serve_printf(resp, "out of memory\n");
		return;
	}
	int you;
	int n = sorted_rows(s, &g, rows, &you, req->conn_id);
	if (!s->show_visitors) {
		/* Other visitors' addresses are theirs: only yours unless --show-visitors. */
		if (you >= 0)
			rows[0] = rows[you];
		n = you >= 0 ? 1 : 0;
		you = n ? 0 : -1;
	}
	bool multi = g.n > 1;
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], name[32];
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
	             "kernel's own TCP on the other side of that device (%s). ",
	             ip_str(s->addr, a), s->port, s->tun ? s->tun : "?", ip_str(s->peer, b));
	/* Without --show-visitors only the visitor's own row is left: say so,
	 * rather than "the last 1 connections synfin saw". */
	if (s->show_visitors)
		serve_printf(resp,
		             "Below are the last %d connection%s synfin saw and, for the newest, "
		             "the ladder of each one's life",
		             n, n == 1 ? "" : "s");
	else
		serve_printf(resp, "Below is your connection (other visitors' are not listed: "
		                   "<code>--show-visitors</code> lists them) and the ladder of its "
		                   "life");
	serve_printf(resp, " drawn from synfin's own trace events: every segment with its flags, "
	                   "sequence and acknowledgment numbers, and synfin's state beside it. ");
	serve_printf(resp,
	             "%s still open while this page is written, so its ladder stops after "
	             "your request.</p>\n",
	             s->show_visitors ? "The highlighted one is yours: it is" : "It is");
	if (multi)
		serve_printf(resp,
		             "<p>%u stacks, one per thread and queue of the TUN device; stack %u "
		             "served this page. Connection K-N is stack K's N-th; the other "
		             "stacks' connections and counters are as they published them, at "
		             "most %d ms before their last change.</p>\n",
		             g.n, s->idx, PUB_US / 1000);
	serve_figs_t f;
	memset(&f, 0, sizeof f);
	for (unsigned k = 0; k < g.n; k++)
		if (g.age_us[k] >= 0)
			serve_figs_add(&f, &g.figs[k]);
		else
			serve_printf(resp,
			             "<p>Stack %u was busy publishing; its figures are "
			             "left out. Reload.</p>\n",
			             k);
	uint64_t drops = 0;
	for (int i = 0; i < SF_DROP_COUNT; i++)
		drops += f.ss.drops[i];
	serve_printf(resp,
	             /* label: count, so that 1 reads as well as 2; drops count
	              * datagrams as well as segments (an IPv6 router
	              * solicitation is one): "packets". */
	             "<p>Up %.0f s. Requests: %" PRIu64 "; connections open: %" PRIu32
	             "; packets dropped: %" PRIu64 "; segments retransmitted: %" PRIu64
	             "; challenge ACKs: %" PRIu64 "; in TIME-WAIT: %" PRIu32
	             "; connections timed out: %" PRIu64 "; evicted: %" PRIu64 ". All counters: "
	             "<a href=\"/_synfin/stats\">/_synfin/stats</a> (JSON), "
	             "<a href=\"/metrics\">/metrics</a> (Prometheus).</p>\n",
	             (double)(now - s->start_us) / 1e6, f.requests, f.ss.conns_open, drops,
	             f.ss.retransmits, f.ss.challenge_acks,
	             f.ss.timewait_open + f.by_state[SF_TIME_WAIT], f.hs.conns_timed_out,
	             f.hs.conns_evicted);
	serve_printf(resp,
	             "<table><tr><th>#</th>%s<th>client</th><th>server</th><th>states (synfin's "
	             "side)</th><th>bytes in</th><th>bytes out</th><th>age</th>"
	             "<th>ladder</th></tr>\n",
	             multi ? "<th>stack</th>" : "");
	for (int i = 0; i < n; i++) {
		const rec_sum_t *r = rows[i].r;
		rec_name(s, rows[i].stack, r->num, name);
		serve_printf(resp, "<tr%s><td>%s</td>", i == you ? " class=\"you\"" : "", name);
		if (multi)
			serve_printf(resp, "<td>%u</td>", rows[i].stack);
		serve_printf(resp, "<td>%s:%u</td><td>%s:%u</td><td>", ip_str(r->raddr, a),
		             r->rport, ip_str(s->addr, b), r->lport);
		write_states(resp, r);
		serve_printf(resp,
		             "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%.1f s</td>"
		             "<td><a href=\"/_synfin/ladder/%s.html\">step by step</a> "
		             "<a href=\"/_synfin/ladder/%s.svg\">svg</a> "
		             "<a href=\"/_synfin/ladder/%s.txt\">text</a></td></tr>\n",
		             r->bytes_in, r->bytes_out, (double)(now - r->first_us) / 1e6, name,
		             name, name);
	}
	serve_printf(resp, "</table>\n");
	int drawn = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < n && drawn < PAGE_LADDERS; i++) {
			const rec_sum_t *r = rows[i].r;
			if ((pass == 0) != (i == you))
				continue;
			unsigned k = rows[i].stack;
			serve_printf(resp, "<h2>#%s %s:%u &rarr; %s:%u%s</h2>\n",
			             rec_name(s, k, r->num, name), ip_str(r->raddr, a), r->rport,
			             ip_str(s->addr, b), r->lport,
			             i == you ? " (your connection)" : "");
			drawn++;
			rec_t *full = rec_copy(s, k, r);
			if (!full) {
				serve_printf(resp,
				             "<p>(stack %u no longer keeps this connection)</p>\n",
				             k);
				continue;
			}
			if (k != s->idx)
				serve_printf(
				        resp,
				        "<p>On stack %u: as it published it %.0f ms ago.</p>\n", k,
				        (double)g.age_us[k] / 1e3);
			if (full->tail_total > REC_TAIL)
				serve_printf(resp,
				             "<p>%" PRIu64 " events in the middle left out.</p>\n",
				             full->tail_total - REC_TAIL);
			write_svg(resp, full);
			free(full);
		}
	}
	serve_printf(resp, "</body></html>\n");
	free(rows);
	gathered_free(&g);
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

/* ?stack=K in a query: K, or -1 (none); -2: not a stack of this server,
 * including a K that is no whole number ("x", "-1", "1e3"): those asked
 * for one stack, and must not get the sum of all. */
static int query_stack(const server_state_t *s, const char *query)
{
	for (const char *q = query; q && *q;) {
		if (!strncmp(q, "stack=", 6)) {
			unsigned long k = 0;
			size_t i = 6;
			for (; q[i] >= '0' && q[i] <= '9' && i < 6 + 6; i++)
				k = k * 10 + (unsigned long)(q[i] - '0');
			bool whole = i > 6 && (q[i] == '\0' || q[i] == '&');
			return whole && k < s->nstacks ? (int)k : -2;
		}
		q = strchr(q, '&');
		q = q ? q + 1 : NULL;
	}
	return -1;
}

/* The sum over every stack (this one live, the others as published), or
 * one stack's figures with ?stack=K. */
static int route_stats(server_state_t *s, const sf_http_request_t *req, sf_http_response_t *resp,
                       bool prometheus)
{
	int only = query_stack(s, req->query);
	if (only == -2) {
		sf_http_response_status(resp, 404);
		sf_http_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
		serve_printf(resp, "no such stack: stacks are numbered 0 to %u\n", s->nstacks - 1);
		return 0;
	}
	int64_t now = sf_loop_now();
	gathered_t g;
	if (!gather(s, &g, now)) {
		sf_http_response_status(resp, 503);
		serve_printf(resp, "out of memory\n");
		return 0;
	}
	serve_report_t r = {.stacks = g.n,
	                    .per = g.figs,
	                    .age_us = g.age_us,
	                    .serving = s->idx,
	                    .only = only,
	                    .uptime_s = (double)(now - s->start_us) / 1e6};
	if (prometheus)
		serve_stats_prometheus(resp, &r);
	else
		serve_stats_json(resp, &r);
	gathered_free(&g);
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

/* /_synfin/ladder/N.ext (stack 0's N-th connection) or K-N.ext (stack
 * K's): ext svg, txt or html (rendered), or sse (the event count the html
 * page polls). The serving stack's records are read live; another stack's
 * as it last published them (a whole copy, never a record half updated). */
static int route_ladder(server_state_t *s, const sf_http_request_t *req, sf_http_response_t *resp)
{
	unsigned k = 0;
	uint64_t num;
	char ext[8];
	int used = 0;
	const char *id = req->path + strlen("/_synfin/ladder/");
	if (strchr(id, '-')) {
		if (sscanf(id, "%u-%" SCNu64 ".%4[a-z]%n", &k, &num, ext, &used) != 3)
			return 1;
	} else if (sscanf(id, "%" SCNu64 ".%4[a-z]%n", &num, ext, &used) != 2) {
		return 1;
	}
	if (id[used] != '\0' ||
	    (strcmp(ext, "svg") && strcmp(ext, "txt") && strcmp(ext, "html") && strcmp(ext, "sse")))
		return 1;
	const rec_sum_t *sum = NULL;
	pub_t *one = malloc(sizeof *one);
	if (!one) {
		sf_http_response_status(resp, 503);
		return 0;
	}
	if (k == s->idx)
		fill_pub(s, one, sf_loop_now());
	else if (k >= s->nstacks || !seqbox_read(s->share[k].pub, one))
		one->rec_cnt = 0;
	for (int i = 0; i < one->rec_cnt; i++)
		if (one->recs[i].num == num)
			sum = &one->recs[i];
	rec_t *r = sum && strcmp(ext, "sse") ? rec_copy(s, k, sum) : NULL;
	if (sum && !strcmp(ext, "sse")) {
		/* Server-Sent Events for the .html page: one event, the number
		 * of trace events recorded; the browser asks again `retry` ms
		 * later (src/trace/html.c). */
		sf_http_response_header(resp, "Content-Type", "text/event-stream");
		sf_http_response_header(resp, "Cache-Control", "no-store");
		serve_printf(resp, "retry: 1000\ndata: %" PRIu64 "\n\n", sum->events);
		free(one);
		return 0;
	}
	free(one);
	if (r) {
		size_t len;
		char *body = render_ladder(r, ext, req->path, &len);
		free(r);
		if (body) {
			sf_http_response_header(resp, "Content-Type",
			                        ext[0] == 's'   ? "image/svg+xml"
			                        : ext[0] == 'h' ? "text/html; charset=utf-8"
			                                        : "text/plain; charset=utf-8");
			sf_http_response_write(resp, body, len);
			free(body);
			return 0;
		}
	}
	sf_http_response_status(resp, 404);
	sf_http_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
	if (k >= s->nstacks)
		serve_printf(resp, "no such stack: stacks are numbered 0 to %u\n", s->nstacks - 1);
	else
		serve_printf(resp, "no such connection (only the last %d of each stack are kept)\n",
		             REC_CNT);
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
	if (!s->http) /* freed at exit: the loop turns only to send its resets */
		return INT64_MAX;
	if (sf_http_server_poll(s->http, now) < 0) {
		cli_error(CMD, "the listener failed");
		sf_loop_stop(loop);
	}
	int64_t d = sf_http_server_next_deadline(s->http), p = maybe_publish(s, now);
	return p < d ? p : d;
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
	       "stack's and the server's counters. Needs root (CAP_NET_ADMIN). Stop with Ctrl-C\n"
	       "(or SIGTERM, SIGHUP): closes under way get up to 5 s to finish (a second\n"
	       "Ctrl-C ends them at once); connections still open are reset (RST).\n"
	       "\n"
	       "options:\n"
	       "  --port P         listening port (default 80)\n"
	       "  --dir DIR        also serve the files under DIR (regular files only)\n"
	       "  --duration S     stop after S seconds (default: run until Ctrl-C)\n"
	       "  --trace FILE     write every trace event as JSON lines to FILE\n"
	       "  --show-visitors  the page lists every recent client, not only yours\n"
	       "  --threads N      stacks, one per thread and TUN queue (0: one per core);\n"
	       "                   the kernel spreads connections over them. The page\n"
	       "                   lists every stack's connections (K-N: stack K's N-th),\n"
	       "                   /metrics and /_synfin/stats the sum of their counters\n"
	       "                   (?stack=K: stack K's), each at most 50 ms behind.\n"
	       "                   Default 1: on 2 cores two stacks served 0.85x one (the\n"
	       "                   kernel's TUN writes dominate); more pay off with idle\n"
	       "                   cores. --pcap/--trace FILE: stack i > 0 writes FILE.i\n"
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
			/* "-" is standard output elsewhere (synfin(1)); here that carries
			 * serve's own lines, so it is refused, as --pcap - is, rather
			 * than written to a file named "-". */
			if (!strcmp(v, "-")) {
				cli_error(CMD, "--trace -: give a file (standard output is taken)");
				return CMD_USAGE;
			}
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
	if (dir && stat(dir, &dst) != 0) {
		cli_error(CMD, "--dir %s: %s", dir, strerror(errno));
		return CMD_FAIL;
	}
	/* A file is "not a directory" before it is "permission denied" (a
	 * file without x fails the access check below). */
	if (dir && !S_ISDIR(dst.st_mode)) {
		cli_error(CMD, "--dir %s: not a directory", dir);
		return CMD_USAGE;
	}
	if (dir && access(dir, R_OK | X_OK) != 0) {
		cli_error(CMD, "--dir %s: %s", dir, strerror(errno));
		return CMD_FAIL;
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
	share_t *share = calloc(n, sizeof *share);
	sf_loop_t *loops[MAX_THREADS] = {0};
	void *ctxs[MAX_THREADS];
	int wake[MAX_THREADS];
	pthread_t tids[MAX_THREADS];
	unsigned started = 1;
	for (unsigned k = 0; k < n; k++) {
		ctxs[k] = &ss[k];
		wake[k] = -1;
	}
	/* What the stacks share: each one's boxes (seqbox.h), made before
	 * any thread starts and freed after they all stopped. */
	for (unsigned k = 0; share && n > 1 && k < n; k++) {
		ss[k].idx = k;
		ss[k].nstacks = n;
		ss[k].share = share;
		bool ok = (ss[k].pub = malloc(sizeof *ss[k].pub)) &&
		          (share[k].pub = seqbox_new(sizeof(pub_t)));
		for (int i = 0; ok && i < REC_CNT; i++)
			ok = (share[k].recs[i] = seqbox_new(sizeof(rec_t))) != NULL;
		if (!ok)
			share = NULL; /* freed below through ss[].share */
	}
	if (!share) {
		cli_error(CMD, "out of memory");
		goto out;
	}
	if (n == 1)
		ss[0].nstacks = 1;
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
	sigaddset(&block, SIGHUP);
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
		/* The terminal closing (an ssh session dropped) stops it as
		 * Ctrl-C does, clients reset, rather than killing it silently. */
		sigaction(SIGHUP, &sa, NULL);
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
	serve_figs_t sum = {0};
	char per[512] = "";
	size_t pl = 0;
	for (unsigned k = 0; k < n; k++) {
		serve_figs_t one;
		live_figs(&ss[k], &one);
		serve_figs_add(&sum, &one);
		if (n > 1 && pl < sizeof per)
			pl += (size_t)snprintf(
			        per + pl, sizeof per - pl, "%s%" PRIu64,
			        k ? " " : "; connections per stack: ", one.hs.conns_accepted);
	}
	fprintf(stderr,
	        /* Every class, so that they add up to the requests (redirects
	         * and 5xx were left out). */
	        "synfin serve: %" PRIu64 " connections, %" PRIu64 " requests (%" PRIu64
	        " 2xx, %" PRIu64 " 3xx, %" PRIu64 " 4xx, %" PRIu64 " 5xx), %" PRIu64
	        " bytes out%s\n",
	        sum.hs.conns_accepted, sum.hs.requests, sum.hs.status_2xx, sum.hs.status_3xx,
	        sum.hs.status_4xx, sum.hs.status_5xx, sum.hs.bytes_out, per);
	status = CMD_OK;
out:
	for (unsigned k = 0; k < n; k++) {
		/* Freeing the server aborts the connections still open, and
		 * closing its listener those not yet accepted; their RSTs leave
		 * before the device goes, so no client is left waiting on a
		 * connection that no longer exists (a TUN that vanishes tells the
		 * kernel nothing). TIME-WAIT records need nothing. */
		uint32_t by[SF_STATE_COUNT] = {0};
		if (ss[k].loop)
			sf_stack_conns_by_state(sf_loop_stack(ss[k].loop), by);
		uint32_t live = 0;
		for (int st = SF_SYN_SENT; st < SF_TIME_WAIT; st++)
			live += by[st];
		sf_http_server_free(ss[k].http);
		ss[k].http = NULL;
		if (live)
			netopts_flush(&no, ss[k].loop);
		sf_loop_destroy(ss[k].loop);
		if (wake[k] >= 0)
			close(wake[k]);
		if (ss[k].json)
			fclose(ss[k].json);
		free(ss[k].pub);
		if (ss[k].share) {
			seqbox_free(ss[k].share[k].pub);
			for (int i = 0; i < REC_CNT; i++)
				seqbox_free(ss[k].share[k].recs[i]);
		}
	}
	free(ss[0].share ? ss[0].share : share);
	free(ss);
	return status;
#endif
}
