/* `synfin get`: an HTTP/1.1 client on synfin over a TUN device, talking to
 * a server behind the machine's own kernel (python3 -m http.server, nginx,
 * ...) at the kernel side's address.
 *
 * It writes each body as it arrives (nothing is held whole in memory), or
 * with --ladder the ladder of its own connection from the stack's trace
 * events: handshake, request and response, and the close down to TIME-WAIT
 * or CLOSED. Several URLs to the same server share one kept-alive
 * connection (RFC 9112 §9.3); -L follows redirects (at most --max-redirs);
 * -I sends HEAD and prints the response head. A body cut short is reported
 * with the bytes expected and received, and the exit status is 1. Before
 * exiting it waits (a bounded time) until every connection has finished its
 * close, so the kernel's side is never left waiting for an ACK from a
 * vanished device. --repeat N --parallel P turns it into a small load
 * generator: N connections, P at a time, each fetching the URL once; it
 * prints a summary instead of bodies.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "netopts.h"
#include "synfin/ladder.h"
#include "synfin/loop.h"
#include "synfin/wire.h"
#include "views.h"

#define CMD "get"

#define LINGER_US    3000000ll /* waiting for the closes after the last response */
#define MAX_PARALLEL 256
#define MAX_URLS     64

static void help(void)
{
	printf("usage: synfin get URL... [options]\n"
	       "\n"
	       "Fetches http://A.B.C.D[:PORT]/PATH with synfin over a TUN device: the kernel side\n"
	       "of the TUN gets --peer, so servers running on this machine are reached at that\n"
	       "address (e.g. python3 -m http.server --bind 192.0.2.1). Prints the body, or the\n"
	       "ladder of the connection. Needs root (CAP_NET_ADMIN).\n"
	       "\n"
	       "options:\n"
	       "  --ladder         print the ladder of this connection instead of the body\n"
	       "  --svg FILE       write the ladder as SVG to FILE\n"
	       "  --html FILE      write a page to step through it (self-contained HTML)\n"
	       "  --graph FILE     write its time-sequence graph (SVG)\n"
	       "  --explain        with --ladder: one sentence per state change and notable\n"
	       "                   segment, with the RFC rule\n"
	       "  --full, --raw-win, --absolute  as in synfin demo\n"
	       "  --lang en|zh     language of the ladder (default en)\n"
	       "  -o, --output F   write the body to F instead of standard output\n"
	       "  --close          send 'Connection: close' (the server closes first)\n"
	       "  -I, --head       send HEAD and print the response's status line and headers\n"
	       "  -L, --location   follow redirects (301, 302, 303, 307, 308)\n"
	       "  --max-redirs N   at most N redirects with -L (default 10)\n"
	       "  --timeout S      give up when nothing happens for S seconds (default 30)\n"
	       "  --max-body N     with --repeat: largest body kept, bytes (default 1 GiB);\n"
	       "                   single fetches stream the body and have no limit\n"
	       "  --repeat N       make N connections (one request each) and print a summary\n"
	       "  --parallel P     with --repeat: P connections at a time (default 1)\n"
	       "Several URLs are fetched in order; those to the same server share one\n"
	       "connection; their bodies are written one after another, as they arrive.\n");
	netopts_help();
}

typedef struct target {
	uint32_t addr;
	uint16_t port;
	char path[2048]; /* origin-form: path and query, no fragment */
} target_t;

/* Parses http://A.B.C.D[:PORT][/PATH][?QUERY][#FRAGMENT] into *t; the
 * fragment is the client's own (RFC 9110 §4.2.4: never sent). Returns NULL
 * or a one-line reason. */
static const char *parse_url(const char *url, target_t *t)
{
	for (const unsigned char *c = (const unsigned char *)url; *c; c++)
		if (*c <= ' ' || *c == 0x7f)
			return *c == ' ' ? "a space in the URL (write it as %20)"
			                 : "a control character in the URL";
	if (strncmp(url, "http://", 7) != 0)
		return "not an http:// URL";
	const char *h = url + 7, *end = h + strcspn(h, ":/?#");
	char host[32];
	if (end == h || (size_t)(end - h) >= sizeof host)
		return "no host, or not an IPv4 address (there is no DNS)";
	memcpy(host, h, (size_t)(end - h));
	host[end - h] = '\0';
	struct in_addr a;
	if (inet_pton(AF_INET, host, &a) != 1)
		return "the host is not an IPv4 address A.B.C.D (there is no DNS)";
	t->addr = ntohl(a.s_addr);
	t->port = 80;
	if (*end == ':') {
		char *e;
		unsigned long p = strtoul(end + 1, &e, 10);
		if (e == end + 1 || p == 0 || p > 65535 || (*e && !strchr("/?#", *e)))
			return "a bad port";
		t->port = (uint16_t)p;
		end = e;
	}
	size_t n = strcspn(end, "#");
	if (n + 2 > sizeof t->path)
		return "the URL is too long";
	size_t o = 0;
	if (*end != '/')
		t->path[o++] = '/'; /* "http://h?q" is "/?q" (RFC 9110 §4.2.3) */
	memcpy(t->path + o, end, n);
	t->path[o + n] = '\0';
	return NULL;
}

/* RFC 3986 §5.2.4: removes "." and ".." segments from the path part of p
 * (before any '?'), in place. */
static void remove_dot_segments(char *p)
{
	size_t qpos = strcspn(p, "?");
	char q[sizeof((target_t *)0)->path];
	snprintf(q, sizeof q, "%s", p + qpos);
	p[qpos] = '\0';
	char out[sizeof q];
	size_t o = 0;
	const char *in = p;
	while (*in) {
		/* in is at a '/' (paths here are absolute). */
		const char *seg = in + 1;
		size_t sl = strcspn(seg, "/");
		bool last = seg[sl] == '\0';
		if (sl == 1 && seg[0] == '.') {
			if (last)
				out[o++] = '/';
		} else if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
			while (o > 0 && out[--o] != '/')
				;
			if (last)
				out[o++] = '/';
		} else {
			out[o++] = '/';
			memcpy(out + o, seg, sl);
			o += sl;
		}
		in = seg + sl;
	}
	if (!o)
		out[o++] = '/';
	/* Never longer than before: the result fits where p was. */
	memcpy(p, out, o);
	memcpy(p + o, q, strlen(q) + 1);
}

/* Resolves a Location value against the current target (RFC 9110 §10.2.2,
 * RFC 3986 §5.2: absolute http URLs, absolute paths, and relative paths). */
static const char *resolve_location(const char *loc, target_t *t)
{
	if (!strncmp(loc, "http://", 7))
		return parse_url(loc, t);
	if (!strncmp(loc, "//", 2) || strstr(loc, "://"))
		return "a redirect to another scheme or a host name";
	char path[sizeof t->path];
	if (loc[0] == '/') {
		snprintf(path, sizeof path, "%s", loc);
	} else {
		size_t dir = strcspn(t->path, "?");
		while (dir > 0 && t->path[dir - 1] != '/')
			dir--;
		if (dir + strlen(loc) + 1 > sizeof path)
			return "the redirect's URL is too long";
		memcpy(path, t->path, dir);
		strcpy(path + dir, loc);
	}
	path[strcspn(path, "#")] = '\0';
	remove_dot_segments(path);
	for (const unsigned char *c = (const unsigned char *)path; *c; c++)
		if (*c <= ' ' || *c == 0x7f)
			return "a space or control character in the redirect's URL";
	strcpy(t->path, path);
	return NULL;
}

#ifdef SYNFIN_HAVE_HTTP
#include "synfin/http.h"

typedef struct get_state {
	target_t tgt;       /* of the request in flight (sequential mode) */
	const char **urls;  /* the URLs, in order */
	int url_cnt, url_i; /* and the one being fetched */
	const char *url;
	sf_http_client_options_t copt;
	uint64_t repeat, parallel;
	sf_http_client_t *active[MAX_PARALLEL];
	uint64_t started, finished, ok, failed;
	int first_error;
	int status;          /* of the first response */
	size_t body_len;     /* of the first response */
	uint32_t first_conn; /* conn id of the first connection */
	bool print_body;     /* sequential fetches without --ladder */
	bool head, follow;   /* -I, -L */
	uint64_t max_redirs, redirs;
	bool out_failed;
	FILE *out;
	int64_t done_us; /* when the last response finished; 0: not yet */
	sf_stack_t *st;
} get_state_t;

static sf_loop_t *running_loop;
static volatile sig_atomic_t interrupted; /* the signal that stopped the loop */

static void on_signal(int sig)
{
	interrupted = sig;
	if (running_loop)
		sf_loop_stop(running_loop);
}

/* ---- load mode (--repeat): one request per connection ---- */

static void finish_one(get_state_t *g, sf_http_client_t *c, int rc)
{
	size_t len = 0;
	sf_http_client_body(c, &len);
	int status = sf_http_client_status(c);
	if (g->finished == 0) {
		g->status = status;
		g->body_len = len;
	}
	g->finished++;
	if (rc < 0) {
		g->failed++;
		if (!g->first_error)
			g->first_error = rc;
	} else if (status >= 400 || status != g->status || len != g->body_len) {
		g->failed++;
	} else {
		g->ok++;
	}
}

static int64_t on_ready_load(void *ctx, sf_loop_t *loop, int64_t now)
{
	get_state_t *g = ctx;
	(void)loop;
	for (uint64_t i = 0; i < g->parallel; i++) {
		sf_http_client_t *c = g->active[i];
		if (c) {
			int rc = sf_http_client_poll(c, now);
			if (rc == SF_EAGAIN)
				continue;
			finish_one(g, c, rc);
			sf_http_client_free(c);
			g->active[i] = NULL;
		}
		if (g->started < g->repeat) {
			c = sf_http_get_start_ex(g->st, g->tgt.addr, g->tgt.port, NULL, g->tgt.path,
			                         &g->copt);
			if (!c) {
				g->finished++, g->failed++;
				if (!g->first_error)
					g->first_error = SF_ENOMEM;
			} else if (g->started == 0) {
				g->first_conn = sf_http_client_conn_id(c);
			}
			g->started++;
			g->active[i] = c;
		}
	}
	if (g->finished == g->repeat && !g->done_us)
		g->done_us = now;
	return now + 100000; /* the clients' own timeouts */
}

/* ---- sequential mode: the URLs in order, over kept-open connections ---- */

static bool is_redirect(get_state_t *g, sf_http_client_t *c)
{
	int st = sf_http_client_status(c);
	return g->follow && (st == 301 || st == 302 || st == 303 || st == 307 || st == 308) &&
	       sf_http_client_header(c, "Location");
}

/* Body bytes as they arrive: straight to the output, except the bodies of
 * redirects being followed. */
static int write_body(void *ctx, const uint8_t *data, size_t len)
{
	get_state_t *g = ctx;
	sf_http_client_t *c = g->active[0];
	if (!g->print_body || (c && is_redirect(g, c)))
		return 0;
	if (fwrite(data, 1, len, g->out) != len) {
		g->out_failed = true;
		return -1;
	}
	return 0;
}

static void print_head(get_state_t *g, sf_http_client_t *c)
{
	int major, minor;
	sf_http_client_version(c, &major, &minor);
	const char *reason = sf_http_client_reason(c);
	fprintf(g->out, "HTTP/%d.%d %d%s%s\r\n", major, minor, sf_http_client_status(c),
	        *reason ? " " : "", reason);
	for (size_t i = 0; i < sf_http_client_header_count(c); i++) {
		sf_http_header_t h = sf_http_client_header_at(c, i);
		fprintf(g->out, "%s: %s\r\n", h.name, h.value);
	}
	fprintf(g->out, "\r\n");
}

/* Sends the request for g->tgt: on the open connection when it goes to the
 * same server and is reusable, else on a new one. */
static bool start_request(get_state_t *g, const char *method)
{
	sf_http_client_t *c = g->active[0];
	uint32_t pa = 0;
	uint16_t pp = 0;
	if (c && sf_http_client_reusable(c) &&
	    sf_getpeername(g->st, sf_http_client_sock(c), &pa, &pp) == 0 && pa == g->tgt.addr &&
	    pp == g->tgt.port && sf_http_client_again(c, method, g->tgt.path) == 0)
		return true;
	sf_http_client_free(c);
	g->copt.method = method;
	c = g->active[0] =
	        sf_http_get_start_ex(g->st, g->tgt.addr, g->tgt.port, NULL, g->tgt.path, &g->copt);
	if (c && !g->first_conn)
		g->first_conn = sf_http_client_conn_id(c);
	return c != NULL;
}

static void report_error(get_state_t *g, sf_http_client_t *c, int rc)
{
	if (rc == SF_ETRUNCATED) {
		int64_t want = sf_http_client_expected(c);
		uint64_t got = sf_http_client_received(c);
		if (want >= 0)
			cli_error(CMD,
			          "%s: truncated: %" PRIu64 " of %" PRId64 " body bytes received",
			          g->url, got, want);
		else
			cli_error(CMD,
			          "%s: truncated: %" PRIu64 " body bytes received, then the server "
			          "closed before the body's end",
			          g->url, got);
	} else if (rc == SF_ECONNABORTED && g->out_failed) {
		cli_error(CMD, "%s: cannot write the body: %s", g->url, strerror(errno));
	} else {
		cli_error(CMD, "%s: %s", g->url, sf_strerror(rc));
	}
}

/* Starts URL number g->url_i, or finishes. */
static void next_url(get_state_t *g, int64_t now)
{
	while (g->url_i < g->url_cnt) {
		g->url = g->urls[g->url_i];
		g->redirs = 0;
		parse_url(g->url, &g->tgt); /* checked before the loop started */
		if (start_request(g, g->head ? "HEAD" : "GET"))
			return;
		cli_error(CMD, "%s: cannot start the request", g->url);
		g->failed++;
		g->url_i++;
	}
	if (!g->done_us)
		g->done_us = now;
}

static int64_t on_ready_seq(void *ctx, sf_loop_t *loop, int64_t now)
{
	get_state_t *g = ctx;
	(void)loop;
	for (int guard = 0; guard < 2 * MAX_URLS && g->url_i < g->url_cnt; guard++) {
		sf_http_client_t *c = g->active[0];
		if (!c) {
			next_url(g, now);
			continue;
		}
		int rc = sf_http_client_poll(c, now);
		if (rc == SF_EAGAIN)
			break;
		if (rc == 0 && is_redirect(g, c) && g->redirs < g->max_redirs) {
			/* RFC 9110 §15.4: 303 turns into GET; the others keep the method. */
			const char *why =
			        resolve_location(sf_http_client_header(c, "Location"), &g->tgt);
			if (why) {
				cli_error(CMD, "%s: cannot follow the redirect: %s", g->url, why);
				g->failed++;
			} else {
				g->redirs++;
				int st = sf_http_client_status(c);
				if (start_request(g, st == 303 || !g->head ? "GET" : "HEAD"))
					continue;
				cli_error(CMD, "%s: cannot start the request", g->url);
				g->failed++;
			}
		} else if (rc == 0) {
			int st = sf_http_client_status(c);
			if (g->head)
				print_head(g, c);
			if (g->url_i == 0)
				g->status = st;
			if (is_redirect(g, c)) {
				cli_error(CMD, "%s: more than %" PRIu64 " redirects", g->url,
				          g->max_redirs);
				g->failed++;
			} else if (st >= 400) {
				cli_error(CMD, "%s: HTTP %d", g->url, st);
				g->failed++;
			} else {
				g->ok++;
			}
		} else {
			report_error(g, c, rc);
			g->failed++;
			if (!g->first_error)
				g->first_error = rc;
		}
		g->finished++;
		g->url_i++;
		if (!sf_http_client_reusable(c)) {
			sf_http_client_free(c);
			g->active[0] = NULL;
		}
		next_url(g, now);
	}
	if (g->url_i >= g->url_cnt) {
		/* The last connection closes politely (FIN). */
		sf_http_client_free(g->active[0]);
		g->active[0] = NULL;
		if (!g->done_us)
			g->done_us = now;
	}
	return now + 100000; /* the clients' own timeouts */
}

/* Segments the stack has received so far: the backstop's sign of life. */
static uint64_t segments_in(const sf_stack_t *st)
{
	sf_stack_stats_t ss;
	sf_stack_stats(st, &ss);
	return ss.tcp_in;
}

static bool all_done(void *ctx)
{
	get_state_t *g = ctx;
	if (!g->done_us)
		return false;
	sf_stack_stats_t ss;
	sf_stack_stats(g->st, &ss);
	return ss.conns_open == 0 || sf_loop_now() - g->done_us > LINGER_US;
}
#endif

int cmd_get(int argc, char **argv)
{
	netopts_t no;
	netopts_init(&no);
	const char *urls[MAX_URLS], *svg = NULL, *output = NULL, *html = NULL, *graph = NULL;
	int url_cnt = 0;
	bool ladder = false, close = false, head = false, follow = false;
	bool explain = false, full = false, raw_win = false, absolute = false;
	uint64_t repeat = 1, parallel = 1, max_body = 1ull << 30, max_redirs = 10;
	double timeout_s = 30;
	sf_ladder_lang_t lang = SF_LADDER_LANG_EN;
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
		} else if (cli_flag(a, "--ladder")) {
			ladder = true;
		} else if (cli_flag(a, "--explain")) {
			explain = true;
		} else if (cli_flag(a, "--full")) {
			full = true;
		} else if (cli_flag(a, "--raw-win")) {
			raw_win = true;
		} else if (cli_flag(a, "--absolute")) {
			absolute = true;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--html", &v)) != 0) {
			if (r < 0)
				return CMD_USAGE;
			html = v;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--graph", &v)) != 0) {
			if (r < 0)
				return CMD_USAGE;
			graph = v;
		} else if (cli_flag(a, "--close")) {
			close = true;
		} else if (cli_flag(a, "--head") || cli_flag(a, "-I")) {
			head = true;
		} else if (cli_flag(a, "--location") || cli_flag(a, "-L")) {
			follow = true;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--max-redirs", &v)) != 0) {
			if (r < 0 || !cli_u64(CMD, "--max-redirs", v, 100, &max_redirs))
				return CMD_USAGE;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--svg", &v)) != 0) {
			if (r < 0)
				return CMD_USAGE;
			svg = v;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--output", &v)) != 0 ||
		           (r = cli_value(CMD, argc, argv, &i, "-o", &v)) != 0) {
			if (r < 0)
				return CMD_USAGE;
			output = v;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--lang", &v)) != 0) {
			if (r < 0 || !view_lang(CMD, v, &lang))
				return CMD_USAGE;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--timeout", &v)) != 0) {
			if (r < 0 || !cli_double(CMD, "--timeout", v, 0.001, 86400, &timeout_s))
				return CMD_USAGE;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--max-body", &v)) != 0) {
			if (r < 0 || !cli_u64(CMD, "--max-body", v, SIZE_MAX, &max_body))
				return CMD_USAGE;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--repeat", &v)) != 0) {
			if (r < 0 || !cli_u64_in(CMD, "--repeat", v, 1, 10000000, &repeat))
				return CMD_USAGE;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--parallel", &v)) != 0) {
			if (r < 0 || !cli_u64_in(CMD, "--parallel", v, 1, MAX_PARALLEL, &parallel))
				return CMD_USAGE;
		} else if (a[0] != '-') {
			if (url_cnt == MAX_URLS) {
				cli_error(CMD, "at most %d URLs", MAX_URLS);
				return CMD_USAGE;
			}
			urls[url_cnt++] = a;
		} else {
			return cli_unknown(CMD, a);
		}
	}
	if (!url_cnt) {
		cli_error(CMD, "which URL? (try synfin get --help)");
		return CMD_USAGE;
	}
	target_t tgt;
	for (int i = 0; i < url_cnt; i++) {
		const char *why = parse_url(urls[i], &tgt);
		if (why) {
			cli_error(CMD, "'%s': %s; only http://A.B.C.D[:PORT][/PATH] (IPv4, no DNS)",
			          urls[i], why);
			return CMD_USAGE;
		}
		/* The stack cannot connect to itself (sf_connect refuses it), so
		 * say which address the user meant. */
		if (tgt.addr == no.addr) {
			char own[16], peer[16];
			cli_error(CMD,
			          "'%s': %s is synfin's own address (--addr); servers on this "
			          "machine are at %s (--peer)",
			          urls[i], sf_ipv4_addr_str(no.addr, own),
			          sf_ipv4_addr_str(no.peer, peer));
			return CMD_USAGE;
		}
	}
	parse_url(urls[0], &tgt);
	/* "-": that drawing alone on standard output. */
	char dash[32];
	const char **outs[] = {&svg, &html, &graph};
	const bool binary[] = {false, false, false};
	if (!cli_dash_output(CMD, outs, binary, 3, dash, sizeof dash))
		return CMD_USAGE;
	if ((ladder || svg || html || graph) && repeat > 1) {
		cli_error(CMD, "--ladder and --svg draw one connection: not with --repeat");
		return CMD_USAGE;
	}
	if (repeat > 1 && (url_cnt > 1 || follow || head)) {
		cli_error(CMD,
		          "--repeat fetches one URL with GET: not with several URLs, -L or -I");
		return CMD_USAGE;
	}
#ifndef SYNFIN_HAVE_HTTP
	(void)output, (void)close, (void)max_body, (void)timeout_s, (void)lang, (void)parallel;
	(void)max_redirs;
	(void)explain, (void)full, (void)raw_win, (void)absolute, (void)html, (void)graph;
	cli_error(CMD, "this synfin was built without HTTP (src/app needs llhttp: node-llhttp)");
	return CMD_FAIL;
#else
	get_state_t *g = calloc(1, sizeof *g);
	sf_ladder_t *lad = (ladder || svg || html || graph) ? sf_ladder_new() : NULL;
	sf_ladder_tap_t tap = {.ladder = lad, .side = 0};
	sf_loop_t *loop = NULL;
	int status = CMD_FAIL;
	if (!g || ((ladder || svg) && !lad)) {
		cli_error(CMD, "out of memory");
		goto out;
	}
	*g = (get_state_t){.tgt = tgt,
	                   .urls = urls,
	                   .url_cnt = url_cnt,
	                   .url = urls[0],
	                   .repeat = repeat,
	                   .parallel = parallel < repeat ? parallel : repeat,
	                   .print_body = repeat == 1 && !ladder && !head,
	                   .head = head,
	                   .follow = follow,
	                   .max_redirs = max_redirs,
	                   .out = stdout};
	g->copt = (sf_http_client_options_t){.connection_close = close,
	                                     .max_body = (size_t)max_body,
	                                     .timeout_us = (int64_t)(timeout_s * 1e6)};
	if (repeat == 1) {
		/* Bodies stream out as they arrive; connections stay open for the
		 * next URL or redirect. */
		g->copt.on_body = write_body;
		g->copt.body_ctx = g;
		g->copt.keep_open = true;
	}
	if (output && repeat == 1 && !(g->out = fopen(output, "wb"))) {
		cli_error(CMD, "%s: %s", output, strerror(errno));
		goto out;
	}
	sf_config_t cfg;
	sf_config_default(&cfg);
	if (lad)
		cfg.trace = (sf_trace_sink_t){.fn = sf_ladder_sink, .ctx = &tap};
	if (netopts_open(CMD, &no, &cfg, &loop) < 0)
		goto out;
	g->st = sf_loop_stack(loop);
	running_loop = loop;
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL); /* the terminal closed: as Ctrl-C */
	/* `synfin get URL | head`: a reader that goes away is a write error
	 * (EPIPE, reported, the connection reset), not a silent death that
	 * leaves the server sending into a vanished TUN device. */
	struct sigaction ign = {.sa_handler = SIG_IGN};
	sigaction(SIGPIPE, &ign, NULL);
	int64_t t0 = sf_loop_now();
	sf_loop_set_app(loop, repeat > 1 ? on_ready_load : on_ready_seq, g);
	/* Bounded: every client has its own idle timeout; this is a backstop
	 * against one that never fires. It too is about idleness, not the
	 * whole run: a download that keeps receiving goes on however long it
	 * takes (a cap on the total cut slow but healthy transfers at
	 * --timeout + 5 s per URL). */
	int64_t idle_cap = (int64_t)((timeout_s + 5) * 1e6);
	uint64_t seen = segments_in(g->st);
	while (sf_loop_run_until(loop, all_done, g, idle_cap) == SF_ETIMEDOUT && !interrupted) {
		uint64_t now_in = segments_in(g->st);
		if (now_in == seen)
			break; /* nothing arrived for --timeout + 5 s */
		seen = now_in;
	}
	sf_loop_set_app(loop, NULL, NULL);
	running_loop = NULL;
	double secs = (double)((g->done_us ? g->done_us : sf_loop_now()) - t0) / 1e6;
	bool busy = false;
	for (uint64_t i = 0; i < g->parallel; i++)
		if (g->active[i]) {
			sf_http_client_free(g->active[i]); /* RST while busy */
			g->failed++;
			busy = true;
		}
	/* Those resets leave before the device goes: a TUN that vanishes tells
	 * the server nothing, and it would keep sending. */
	if (busy)
		netopts_flush(&no, loop);
	const char *why = interrupted ? "interrupted" : "timed out";

	if (lad) {
		sf_ladder_set_conn(lad, 0, g->first_conn);
		sf_ladder_opts_t lo = {.lang = lang,
		                       .seq = absolute ? SF_LADDER_SEQ_ABSOLUTE
		                                       : SF_LADDER_SEQ_RELATIVE,
		                       .full = full,
		                       .raw_win = raw_win,
		                       .width = cli_columns()};
		if (ladder) {
			sf_ladder_render_text(lad, &lo, stdout);
			if (explain) {
				printf("\n");
				sf_ladder_render_explain(lad, &lo, stdout);
			}
		}
		const char *paths[] = {svg, html, graph};
		const view_kind_t kinds[] = {VIEW_SVG, VIEW_HTML, VIEW_GRAPH};
		for (int k = 0; k < 3; k++)
			if (paths[k] && view_write(CMD, lad, &lo, paths[k], kinds[k]) != CMD_OK)
				g->failed++;
	}
	if (repeat > 1) {
		fprintf(stderr,
		        "synfin get: %" PRIu64 " connections, %" PRIu64
		        " ok (HTTP %d, %zu bytes), %" PRIu64 " failed, %.2f s (%.0f/s)\n",
		        repeat, g->ok, g->status, g->body_len, g->failed, secs,
		        secs > 0 ? (double)g->ok / secs : 0.0);
		if (g->first_error)
			cli_error(CMD, "%s: %s", g->url, sf_strerror(g->first_error));
		else if (g->finished < repeat)
			cli_error(CMD, "%s: %s", g->url, why);
		else if (g->status >= 400)
			cli_error(CMD, "%s: HTTP %d", g->url, g->status);
	} else if (g->finished < (uint64_t)url_cnt && g->url_i < url_cnt) {
		cli_error(CMD, "%s: %s", urls[g->url_i], why);
	}
	uint64_t want = repeat > 1 ? repeat : (uint64_t)url_cnt;
	status = g->ok == want && g->failed == 0 ? CMD_OK : CMD_FAIL;
out:
	if (g && g->out && g->out != stdout && fclose(g->out) != 0)
		status = CMD_FAIL;
	fflush(stdout);
	sf_loop_destroy(loop);
	sf_ladder_free(lad);
	free(g);
	return status;
#endif
}
