/* The HTTP/1.1 server and client (src/app) over two simulated stacks: the
 * server on side 1 serves a document root the test writes to a temporary
 * directory; side 1's clients are the library client (sf_http_get_start) and
 * "raw" sockets that write request bytes exactly as the test says. The
 * virtual clock also stops at the server's idle deadline, so timeouts run in
 * simulated time. Every test ends with all connections closed on both stacks
 * and the stacks' live allocations back where they started (ASan checks the
 * app layer's own malloc).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "countalloc.h"
#include "simpair.h"
#include "synfin/http.h"
#include "synfin/simnet.h"

#define SEC     1000000LL
#define MAX_RAW 4
#define BIG_LEN (1024 * 1024)

typedef struct raw {
	sf_sock_t s;
	bool open;
	char *tx;
	size_t tx_len, tx_off;
	char *rx;
	size_t rx_len, rx_cap;
	bool eof;
	int err;
	int64_t eof_at;
} raw_t;

/* A hand-written server on side 1 for the client's tests: answers the first
 * complete request head with canned bytes, then maybe closes. */
typedef struct fake {
	sf_sock_t lsn, s;
	const char *reply;
	size_t reply_len, off;
	bool close_after, answered;
	char req[2048];
	size_t req_len;
} fake_t;

typedef struct fx {
	simpair_t sp;
	sf_http_server_t *srv;
	char root[64]; /* temporary directory; the document root is root/www */
	char www[96];
	raw_t raw[MAX_RAW];
	sf_http_client_t *cli;
	int cli_rc;
	counter_t mem; /* the stacks' allocations, through a counting allocator */
	fake_t fake;
} fx_t;

/* ---- fixture: files, stacks, server ---- */

static uint8_t big_byte(size_t i)
{
	uint64_t x = (i + 7) * 0x9e3779b97f4a7c15ull;
	return (uint8_t)(x >> 37);
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void write_text(const char *dir, const char *name, const char *text)
{
	write_file(dir, name, text, strlen(text));
}

/* A dynamic handler: POST /echo answers with the request body; GET /hello
 * answers text; everything else falls through to the files. */
static int handler(void *ctx, const sf_http_request_t *req, sf_http_response_t *resp)
{
	/* Every request names the connection it came on. */
	assert_true(req->conn_id != 0);
	assert_int_equal(req->peer_addr, SP_CLIENT);
	assert_true(req->peer_port >= 1024);
	(void)ctx;
	if (!strcmp(req->path, "/echo") && !strcmp(req->method, "POST")) {
		sf_http_response_header(resp, "Content-Type", "application/octet-stream");
		sf_http_response_write(resp, req->body, req->body_len);
		return 0;
	}
	if (!strcmp(req->path, "/hello")) {
		sf_http_response_header(resp, "Content-Type", "text/plain");
		sf_http_response_write(resp, "hello ", 6);
		sf_http_response_write(resp, req->query, strlen(req->query));
		return 0;
	}
	return 1;
}

static void fx_init(fx_t *f, uint64_t seed, double loss, const sf_http_server_config_t *over)
{
	memset(f, 0, sizeof *f);
	snprintf(f->root, sizeof f->root, "/tmp/synfin-http-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->www, sizeof f->www, "%s/www", f->root);
	assert_int_equal(mkdir(f->www, 0755), 0);
	char sub[128];
	snprintf(sub, sizeof sub, "%s/sub", f->www);
	assert_int_equal(mkdir(sub, 0755), 0);
	write_text(f->www, "index.html", "<h1>synfin</h1>\n");
	write_text(f->www, "style.css", "body{color:red}\n");
	write_text(f->www, "app.js", "console.log(1)\n");
	write_text(f->www, "data.json", "{\"a\":1}\n");
	write_text(f->www, "ladder.svg", "<svg/>\n");
	write_text(f->www, "a.txt", "plain\n");
	write_text(f->www, "img.png", "\x89PNG");
	write_text(f->www, "photo.jpg", "\xff\xd8\xff");
	write_text(f->www, "cap.pcap", "\xd4\xc3\xb2\xa1");
	write_text(f->www, "blob.xyz", "?");
	write_text(sub, "index.html", "<p>sub</p>\n");
	write_text(f->root, "secret.txt", "TOP-SECRET\n");
	char link[160], target[96];
	snprintf(link, sizeof link, "%s/escape.txt", f->www);
	snprintf(target, sizeof target, "%s/secret.txt", f->root);
	assert_int_equal(symlink(target, link), 0);
	uint8_t *big = malloc(BIG_LEN);
	assert_non_null(big);
	for (size_t i = 0; i < BIG_LEN; i++)
		big[i] = big_byte(i);
	write_file(f->www, "big.bin", big, BIG_LEN);
	free(big);

	sf_config_t cfg;
	sf_config_default(&cfg);
	cfg.msl_ms = 500; /* short TIME-WAIT: tests wait for everything to close */
	cfg.allocator = count_allocator(&f->mem);
	sf_impair_t imp = {.loss = loss, .delay_us = 2000};
	assert_int_equal(simpair_init(&f->sp, seed, &cfg, &imp, &imp), 0);
	sf_http_server_config_t sc;
	sf_http_server_config_default(&sc);
	if (over)
		sc = *over;
	sc.port = 80;
	sc.docroot = f->www;
	if (!sc.handler)
		sc.handler = handler;
	f->srv = sf_http_server_new(f->sp.st[1], &sc);
	assert_non_null(f->srv);
	f->cli_rc = SF_EAGAIN;
}

static void rm_tree(const char *root)
{
	const char *names[] = {"www/index.html",     "www/style.css",  "www/app.js",
	                       "www/data.json",      "www/ladder.svg", "www/a.txt",
	                       "www/img.png",        "www/photo.jpg",  "www/cap.pcap",
	                       "www/blob.xyz",       "www/big.bin",    "www/escape.txt",
	                       "www/sub/index.html", "secret.txt"};
	char p[256];
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", root, names[i]);
		unlink(p);
	}
	snprintf(p, sizeof p, "%s/www/sub", root);
	rmdir(p);
	snprintf(p, sizeof p, "%s/www", root);
	rmdir(p);
	rmdir(root);
}

/* ---- driving ---- */

static void pump(fx_t *f)
{
	simpair_t *sp = &f->sp;
	if (f->srv)
		sf_http_server_poll(f->srv, sp->now);
	for (int i = 0; i < MAX_RAW; i++) {
		raw_t *r = &f->raw[i];
		if (!r->open)
			continue;
		while (r->tx_off < r->tx_len) {
			long w = sf_send(sp->st[0], r->s, r->tx + r->tx_off, r->tx_len - r->tx_off);
			if (w <= 0)
				break;
			r->tx_off += (size_t)w;
		}
		for (;;) {
			if (r->rx_cap - r->rx_len < 16384) {
				r->rx_cap = r->rx_cap ? r->rx_cap * 2 : 65536;
				r->rx = realloc(r->rx, r->rx_cap);
				assert_non_null(r->rx);
			}
			long n = sf_recv(sp->st[0], r->s, r->rx + r->rx_len,
			                 r->rx_cap - r->rx_len - 1);
			if (n > 0) {
				r->rx_len += (size_t)n;
				r->rx[r->rx_len] = '\0';
				continue;
			}
			if (n == 0 && !r->eof) {
				r->eof = true;
				r->eof_at = sp->now;
			}
			if (n < 0 && n != SF_EAGAIN)
				r->err = (int)n;
			break;
		}
	}
	fake_t *k = &f->fake;
	if (k->lsn > 0 && k->s <= 0)
		k->s = sf_accept(sp->st[1], k->lsn, NULL, NULL);
	if (k->s > 0) {
		long n;
		while ((n = sf_recv(sp->st[1], k->s, k->req + k->req_len,
		                    sizeof k->req - 1 - k->req_len)) > 0) {
			k->req_len += (size_t)n;
			k->req[k->req_len] = '\0';
		}
		if (strstr(k->req, "\r\n\r\n"))
			k->answered = true;
		while (k->answered && k->off < k->reply_len) {
			long w = sf_send(sp->st[1], k->s, k->reply + k->off, k->reply_len - k->off);
			if (w <= 0)
				break;
			k->off += (size_t)w;
		}
		if ((k->answered && k->off == k->reply_len && k->close_after) || n == 0) {
			sf_close(sp->st[1], k->s);
			k->s = -1;
		}
	}
	if (f->cli && f->cli_rc == SF_EAGAIN)
		f->cli_rc = sf_http_client_poll(f->cli, sp->now);
	sf_stack_poll(sp->st[0], sp->now);
	sf_stack_poll(sp->st[1], sp->now);
	if (f->srv) {
		int64_t d = sf_http_server_next_deadline(f->srv);
		if (d != INT64_MAX && d > sp->now)
			sf_simnet_wake(sp->net, d);
	}
}

typedef struct run_ctx {
	fx_t *f;
	bool (*cond)(fx_t *f, void *ctx);
	void *ctx;
} run_ctx_t;

static bool run_cond(simpair_t *sp, void *ctx)
{
	(void)sp;
	run_ctx_t *r = ctx;
	pump(r->f);
	return r->cond && r->cond(r->f, r->ctx);
}

static bool run_until(fx_t *f, bool (*cond)(fx_t *f, void *ctx), void *ctx, int64_t max_us)
{
	run_ctx_t r = {f, cond, ctx};
	return simpair_run(&f->sp, run_cond, &r, max_us);
}

static void run_for(fx_t *f, int64_t us)
{
	run_until(f, NULL, NULL, us);
}

static int raw_open(fx_t *f)
{
	for (int i = 0; i < MAX_RAW; i++) {
		raw_t *r = &f->raw[i];
		if (r->open || r->s)
			continue;
		r->s = sf_socket(f->sp.st[0]);
		assert_true(r->s > 0);
		assert_int_equal(sf_connect(f->sp.st[0], r->s, SP_SERVER, 80), SF_EINPROGRESS);
		r->open = true;
		return i;
	}
	fail_msg("no raw slot");
	return -1;
}

static void raw_write(fx_t *f, int i, const char *data, size_t len)
{
	raw_t *r = &f->raw[i];
	r->tx = realloc(r->tx, r->tx_len + len);
	assert_non_null(r->tx);
	memcpy(r->tx + r->tx_len, data, len);
	r->tx_len += len;
}

static void raw_puts(fx_t *f, int i, const char *s)
{
	raw_write(f, i, s, strlen(s));
}

static void raw_close(fx_t *f, int i)
{
	raw_t *r = &f->raw[i];
	if (r->open)
		sf_close(f->sp.st[0], r->s);
	r->open = false;
}

/* ---- reading responses out of a raw stream ---- */

typedef struct resp {
	int status;
	char head[1024]; /* header lines, for strstr */
	const char *body;
	size_t body_len;
} resp_t;

/* Splits up to max responses out of rx; head_mask bit k: response k answers
 * a HEAD (no body). Returns how many complete responses there are. */
static int parse_responses(const raw_t *r, resp_t *out, int max, unsigned head_mask)
{
	const char *p = r->rx, *end = r->rx + r->rx_len;
	int n = 0;
	while (n < max && p < end) {
		const char *hend = strstr(p, "\r\n\r\n");
		if (!hend || strncmp(p, "HTTP/1.1 ", 9))
			break;
		resp_t *o = &out[n];
		o->status = atoi(p + 9);
		size_t hl = (size_t)(hend - p);
		if (hl >= sizeof o->head)
			hl = sizeof o->head - 1;
		memcpy(o->head, p, hl);
		o->head[hl] = '\0';
		const char *cl = strstr(o->head, "Content-Length: ");
		size_t blen = cl ? strtoul(cl + 16, NULL, 10) : 0;
		if (head_mask & (1u << n))
			blen = 0;
		const char *body = hend + 4;
		if ((size_t)(end - body) < blen)
			break;
		o->body = body;
		o->body_len = blen;
		p = body + blen;
		n++;
	}
	return n;
}

typedef struct want {
	int raw, count;
	unsigned head_mask;
	bool eof;
} want_t;

static bool got_responses(fx_t *f, void *ctx)
{
	want_t *w = ctx;
	resp_t rs[16];
	raw_t *r = &f->raw[w->raw];
	return parse_responses(r, rs, 16, w->head_mask) >= w->count && (!w->eof || r->eof);
}

static void wait_responses(fx_t *f, int raw, int count, unsigned head_mask, bool eof)
{
	want_t w = {raw, count, head_mask, eof};
	if (!run_until(f, got_responses, &w, 60 * SEC))
		fail_msg("raw %d: wanted %d responses (eof %d), have %zu bytes: %.200s", raw, count,
		         eof, f->raw[raw].rx_len, f->raw[raw].rx ? f->raw[raw].rx : "");
}

/* ---- the library client ---- */

static bool client_done(fx_t *f, void *ctx)
{
	(void)ctx;
	return f->cli_rc != SF_EAGAIN;
}

static int get_port(fx_t *f, uint16_t port, const char *path, const sf_http_client_options_t *opt)
{
	sf_http_client_free(f->cli);
	f->cli = sf_http_get_start_ex(f->sp.st[0], SP_SERVER, port, "test", path, opt);
	assert_non_null(f->cli);
	f->cli_rc = SF_EAGAIN;
	assert_true(run_until(f, client_done, NULL, 120 * SEC));
	/* Once finished it stays finished. */
	assert_int_equal(sf_http_client_poll(f->cli, f->sp.now), f->cli_rc);
	return f->cli_rc;
}

static void get(fx_t *f, const char *path, const sf_http_client_options_t *opt)
{
	assert_int_equal(get_port(f, 80, path, opt), 0);
}

static void expect_body(fx_t *f, const char *text)
{
	size_t len;
	const uint8_t *b = sf_http_client_body(f->cli, &len);
	assert_int_equal(len, strlen(text));
	assert_memory_equal(b, text, len);
}

/* ---- teardown: everything closed, nothing leaked ---- */

static bool all_closed(fx_t *f, void *ctx)
{
	(void)ctx;
	sf_stack_stats_t s0, s1;
	sf_stack_stats(f->sp.st[0], &s0);
	sf_stack_stats(f->sp.st[1], &s1);
	sf_http_server_stats_t hs;
	sf_http_server_stats(f->srv, &hs);
	/* Only the listener is left, and no TIME-WAIT record. */
	return hs.conns_open == 0 && s0.conns_open == 0 && s1.conns_open == 1 &&
	       s0.timewait_open == 0 && s1.timewait_open == 0;
}

static void fx_fini(fx_t *f)
{
	sf_http_client_free(f->cli);
	f->cli = NULL;
	for (int i = 0; i < MAX_RAW; i++)
		raw_close(f, i);
	if (!run_until(f, all_closed, NULL, 120 * SEC)) {
		sf_http_server_stats_t hs;
		sf_http_server_stats(f->srv, &hs);
		fail_msg("connections left: server %u", hs.conns_open);
	}
	sf_http_server_free(f->srv);
	f->srv = NULL;
	for (int i = 0; i < 2; i++) {
		sf_stack_stats_t s;
		sf_stack_stats(f->sp.st[i], &s);
		assert_int_equal(s.conns_open, 0);
		assert_int_equal(s.timewait_open, 0);
	}
	simpair_fini(&f->sp);
	/* Every allocation the stacks made (connections, rings, pools) was returned. */
	assert_int_equal(f->mem.live, 0);
	for (int i = 0; i < MAX_RAW; i++) {
		free(f->raw[i].tx);
		free(f->raw[i].rx);
	}
	rm_tree(f->root);
}

static sf_http_server_stats_t server_stats(fx_t *f)
{
	sf_http_server_stats_t s;
	sf_http_server_stats(f->srv, &s);
	return s;
}

/* ---- tests ---- */

static void get_static_files(void **state)
{
	(void)state;
	fx_t f;
	fx_init(&f, 1, 0, NULL);
	get(&f, "/index.html", NULL);
	assert_int_equal(sf_http_client_status(f.cli), 200);
	expect_body(&f, "<h1>synfin</h1>\n");
	assert_string_equal(sf_http_client_header(f.cli, "content-type"),
	                    "text/html; charset=utf-8");
	assert_string_equal(sf_http_client_header(f.cli, "Server"), "synfin");
	assert_string_equal(sf_http_client_header(f.cli, "Content-Length"), "16");
	assert_true(sf_http_client_conn_id(f.cli) != 0);

	static const struct {
		const char *path, *type;
	} types[] = {
	        {"/style.css", "text/css; charset=utf-8"},
	        {"/app.js", "text/javascript; charset=utf-8"},
	        {"/data.json", "application/json"},
	        {"/ladder.svg", "image/svg+xml"},
	        {"/a.txt", "text/plain; charset=utf-8"},
	        {"/img.png", "image/png"},
	        {"/photo.jpg", "image/jpeg"},
	        {"/cap.pcap", "application/vnd.tcpdump.pcap"},
	        {"/blob.xyz", "application/octet-stream"},
	};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		get(&f, types[i].path, NULL);
		assert_int_equal(sf_http_client_status(f.cli), 200);
		assert_string_equal(sf_http_client_header(f.cli, "Content-Type"), types[i].type);
	}
	/* "/" serves index.html; a directory without its slash is redirected. */
	get(&f, "/", NULL);
	expect_body(&f, "<h1>synfin</h1>\n");
	get(&f, "/sub", NULL);
	assert_int_equal(sf_http_client_status(f.cli), 301);
	assert_string_equal(sf_http_client_header(f.cli, "Location"), "/sub/");
	get(&f, "/sub/", NULL);
	expect_body(&f, "<p>sub</p>\n");
	/* The dynamic handler comes first. */
	get(&f, "/hello?x=1", NULL);
	assert_string_equal(sf_http_client_header(f.cli, "Content-Type"), "text/plain");
	expect_body(&f, "hello x=1");
	assert_int_equal(server_stats(&f).status_2xx, 13);
	fx_fini(&f);
}

static void head_sends_headers_only(void **state)
{
	(void)state;
	fx_t f;
	fx_init(&f, 2, 0, NULL);
	sf_http_client_options_t o = {.method = "HEAD"};
	get(&f, "/style.css", &o);
	assert_int_equal(sf_http_client_status(f.cli), 200);
	assert_string_equal(sf_http_client_header(f.cli, "Content-Length"), "16");
	size_t len = 1;
	assert_null(sf_http_client_body(f.cli, &len));
	assert_int_equal(len, 0);
	/* On the wire: HEAD then GET on one connection; nothing between the
	 * HEAD's blank line and the GET's status line. */
	int r = raw_open(&f);
	raw_puts(&f, r,
	         "HEAD /a.txt HTTP/1.1\r\nHost: t\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n");
	wait_responses(&f, r, 2, 1, false);
	resp_t rs[2];
	assert_int_equal(parse_responses(&f.raw[r], rs, 2, 1), 2);
	assert_non_null(strstr(rs[0].head, "Content-Length: 6"));
	assert_int_equal(strncmp(rs[0].body, "HTTP/1.1 200", 12), 0);
	assert_int_equal(rs[1].body_len, 6);
	assert_memory_equal(rs[1].body, "plain\n", 6);
	fx_fini(&f);
}

static void not_found_and_method_not_allowed(void **state)
{
	(void)state;
	fx_t f;
	fx_init(&f, 3, 0, NULL);
	get(&f, "/missing.html", NULL);
	assert_int_equal(sf_http_client_status(f.cli), 404);
	int r = raw_open(&f);
	raw_puts(&f, r,
	         "DELETE /index.html HTTP/1.1\r\nHost: t\r\n\r\n"
	         "POST /index.html HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
	         "GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n");
	wait_responses(&f, r, 3, 0, false);
	resp_t rs[3];
	assert_int_equal(parse_responses(&f.raw[r], rs, 3, 0), 3);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(rs[i].status, 405);
		/* RFC 9110 §15.5.6: Allow lists what is supported. */
		assert_non_null(strstr(rs[i].head, "\r\nAllow: GET, HEAD"));
	}
	assert_int_equal(rs[2].status, 200); /* the connection stays usable */
	sf_http_server_stats_t s = server_stats(&f);
	assert_int_equal(s.status_404, 1);
	assert_int_equal(s.status_405, 2);
	fx_fini(&f);
}

static void keepalive_three_sequential(void **state)
{
	(void)state;
	fx_t f;
	fx_init(&f, 4, 0, NULL);
	int r = raw_open(&f);
	const char *paths[] = {"/a.txt", "/style.css", "/data.json"};
	for (int i = 0; i < 3; i++) {
		char req[128];
		snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", paths[i]);
		raw_puts(&f, r, req);
		wait_responses(&f, r, i + 1, 0, false);
		assert_false(f.raw[r].eof);
	}
	resp_t rs[3];
	assert_int_equal(parse_responses(&f.raw[r], rs, 3, 0), 3);
	assert_memory_equal(rs[0].body, "plain\n", 6);
	assert_memory_equal(rs[1].body, "body{color:red}\n", 16);
	assert_memory_equal(rs[2].body, "{\"a\":1}\n", 8);
	for (int i = 0; i < 3; i++)
		assert_null(strstr(rs[i].head, "Connection:"));
	sf_http_server_stats_t s = server_stats(&f);
	assert_int_equal(s.conns_accepted, 1);
	assert_int_equal(s.requests, 3);
	fx_fini(&f);
}

static void pipelined_in_order(void **state)
{
	(void)state;
	fx_t f;
	fx_init(&f, 5, 0, NULL);
	int r = raw_open(&f);
	/* Three requests in one write, the big file in the middle: answers in
	 * request order (RFC 9112 §9.3.2). */
	raw_puts(&f, r,
	         "GET /data.json HTTP/1.1\r\nHost: t\r\n\r\n"
	         "GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n"
	         "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n");
	wait_responses(&f, r, 3, 0, false);
	resp_t rs[3];
	assert_int_equal(parse_responses(&f.raw[r], rs, 3, 0), 3);
	assert_memory_equal(rs[0].body, "{\"a\":1}\n", 8);
	assert_int_equal(rs[1].body_len, BIG_LEN);
	for (size_t i = 0; i < BIG_LEN; i += 4099)
		assert_int_equal((uint8_t)rs[1].body[i], big_byte(i));
	assert_memory_equal(rs[2].body, "plain\n", 6);
	assert_int_equal(f.raw[r].rx_len, (size_t)(rs[2].body + 6 - f.raw[r].rx));
	fx_fini(&f);
}

static void request_bodies(void **state)
{
	(void)state;
	fx_t f;
	fx_init(&f, 6, 0, NULL);
	int r = raw_open(&f);
	raw_puts(&f, r,
	         "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world"
	         "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
	         "5\r\nchunk\r\n7;ext=1\r\ned body\r\n0\r\nX-Trailer: 1\r\n\r\n"
	         "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
	wait_responses(&f, r, 3, 0, false);
	resp_t rs[3];
	assert_int_equal(parse_responses(&f.raw[r], rs, 3, 0), 3);
	assert_int_equal(rs[0].status, 200);
	assert_int_equal(rs[0].body_len, 11);
	assert_memory_equal(rs[0].body, "hello world", 11);
	assert_int_equal(rs[1].body_len, 12);
	assert_memory_equal(rs[1].body, "chunked body", 12);
	assert_int_equal(rs[2].status, 200);
	assert_int_equal(rs[2].body_len, 0);
	/* Expect: 100-continue gets its interim answer first (RFC 9110 §10.1.1). */
	int r2 = raw_open(&f);
	raw_puts(&f, r2,
	         "POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
	         "Content-Length: 4\r\n\r\n");
	want_t w = {r2, 1, 0, false};
	assert_true(run_until(&f, got_responses, &w, 10 * SEC));
	resp_t c;
	assert_int_equal(parse_responses(&f.raw[r2], &c, 1, 0), 1);
	assert_int_equal(c.status, 100);
	raw_puts(&f, r2, "data");
	wait_responses(&f, r2, 2, 0, false);
	assert_int_equal(parse_responses(&f.raw[r2], rs, 2, 0), 2);
	assert_int_equal(rs[1].status, 200);
	assert_memory_equal(rs[1].body, "data", 4);
	fx_fini(&f);
}

/* Sends `req` on a fresh connection and expects one response with `status`
 * followed by the server's FIN. */
static void expect_refused(fx_t *f, const char *req, size_t len, int status)
{
	int r = raw_open(f);
	raw_write(f, r, req, len);
	wait_responses(f, r, 1, 0, true);
	resp_t rs[1];
	assert_int_equal(parse_responses(&f->raw[r], rs, 1, 0), 1);
	assert_int_equal(rs[0].status, status);
	assert_non_null(strstr(rs[0].head, "Connection: close"));
	raw_close(f, r);
	run_for(f, SEC);
	free(f->raw[r].tx);
	free(f->raw[r].rx);
	memset(&f->raw[r], 0, sizeof f->raw[r]);
}

static char *make_headers(int count, size_t value_len)
{
	size_t cap = (size_t)count * (value_len + 32) + 128;
	char *s = malloc(cap);
	assert_non_null(s);
	size_t n = (size_t)snprintf(s, cap, "GET /a.txt HTTP/1.1\r\nHost: t\r\n");
	for (int i = 0; i < count; i++) {
		n += (size_t)snprintf(s + n, cap - n, "X-H%d: ", i);
		memset(s + n, 'v', value_len);
		n += value_len;
		memcpy(s + n, "\r\n", 2);
		n += 2;
	}
	memcpy(s + n, "\r\n", 3);
	return s;
}

static void limits_431_413(void **state)
{
	(void)state;
	fx_t f;
	fx_init(&f, 7, 0, NULL);
	/* One 9000-byte header: over the 8 KiB head limit. */
	char *big = make_headers(1, 9000);
	expect_refused(&f, big, strlen(big), 431);
	free(big);
	/* 65 headers (64 + Host is 65 too): over the count limit. */
	char *many = make_headers(64, 4);
	expect_refused(&f, many, strlen(many), 431);
	free(many);
	/* A 9000-byte target: 414 URI Too Long, not 431. */
	char *url = malloc(9100);
	assert_non_null(url);
	memcpy(url, "GET /", 5);
	memset(url + 5, 'u', 9000);
	strcpy(url + 9005, " HTTP/1.1\r\nHost: t\r\n\r\n");
	expect_refused(&f, url, strlen(url), 414);
	free(url);
	/* 63 + Host = 64 headers is fine. */
	char *ok = make_headers(63, 4);
	int r = raw_open(&f);
	raw_puts(&f, r, ok);
	free(ok);
	wait_responses(&f, r, 1, 0, false);
	resp_t rs[1];
	assert_int_equal(parse_responses(&f.raw[r], rs, 1, 0), 1);
	assert_int_equal(rs[0].status, 200);
	/* A body over 1 MiB, declared or chunked. */
	const char *cl = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\nxx";
	expect_refused(&f, cl, strlen(cl), 413);
	size_t clen = 1100 * 1024;
	char *chunked = malloc(clen + 256);
	assert_non_null(chunked);
	int h = snprintf(chunked, 256,
	                 "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
	                 "%zx\r\n",
	                 clen);
	memset(chunked + h, 'z', clen);
	memcpy(chunked + h + clen, "\r\n0\r\n\r\n", 7);
	expect_refused(&f, chunked, (size_t)h + clen + 7, 413);
	free(chunked);
	sf_http_server_stats_t s = server_stats(&f);
	assert_int_equal(s.status_431, 2);
	assert_int_equal(s.status_414, 1);
	assert_int_equal(s.status_413, 2);
	fx_fini(&f);
}

static void malformed_400_others_served(void **state)
{
	(void)state;
	fx_t f;
	fx_init(&f, 8, 0, NULL);
	/* A good connection is open first and outlives the bad one. */
	int good = raw_open(&f);
	raw_puts(&f, good, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n");
	wait_responses(&f, good, 1, 0, false);
	const char *bad = "GARBAGE\r\n\r\n";
	expect_refused(&f, bad, strlen(bad), 400);
	const char *badhdr = "GET / HTTP/1.1\r\nNo colon here\r\n\r\n";
	expect_refused(&f, badhdr, strlen(badhdr), 400);
	const char *badver = "GET / HTTP/7.0\r\n\r\n";
	expect_refused(&f, badver, strlen(badver), 400);
	raw_puts(&f, good, "GET /style.css HTTP/1.1\r\nHost: t\r\n\r\n");
	wait_responses(&f, good, 2, 0, false);
	get(&f, "/data.json", NULL);
	assert_int_equal(sf_http_client_status(f.cli), 200);
	assert_int_equal(server_stats(&f).status_400, 3);
	fx_fini(&f);
}

static void slow_client_timed_out(void **state)
{
	(void)state;
	fx_t f;
	fx_init(&f, 9, 0, NULL);
	int64_t t0 = f.sp.now;
	int slow = raw_open(&f);
	raw_puts(&f, slow, "GET /index.html HTTP/1.1\r\nHost: t\r\nX-Half");
	run_for(&f, 2 * SEC);
	/* Another client is served while the slow one stalls. */
	get(&f, "/a.txt", NULL);
	assert_int_equal(sf_http_client_status(f.cli), 200);
	assert_false(f.raw[slow].eof);
	/* The slow one gets 408 and our FIN once 10 s pass without progress. */
	wait_responses(&f, slow, 1, 0, true);
	resp_t rs[1];
	assert_int_equal(parse_responses(&f.raw[slow], rs, 1, 0), 1);
	assert_int_equal(rs[0].status, 408);
	assert_true(f.raw[slow].eof_at - t0 >= 10 * SEC);
	assert_true(f.raw[slow].eof_at - t0 < 11 * SEC);
	sf_http_server_stats_t s = server_stats(&f);
	assert_int_equal(s.conns_timed_out, 1);
	assert_int_equal(s.status_408, 1);
	/* An idle keep-alive connection is closed silently. */
	int idle = raw_open(&f);
	raw_puts(&f, idle, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n");
	wait_responses(&f, idle, 1, 0, false);
	int64_t t1 = f.sp.now;
	wait_responses(&f, idle, 1, 0, true);
	assert_true(f.raw[idle].eof_at - t1 >= 9 * SEC);
	assert_int_equal(server_stats(&f).status_408, 1);
	fx_fini(&f);
}

/* Slowloris: a head that gains a byte a second is still cut off at the
 * head deadline (10 s from its first byte), not kept alive by the dribble. */
static void head_deadline_ignores_dribble(void **state)
{
	(void)state;
	fx_t f;
	fx_init(&f, 15, 0, NULL);
	int slow = raw_open(&f);
	raw_puts(&f, slow, "GET /a.txt HTTP/1.1\r\nHost: t\r\nX-Slow: ");
	run_for(&f, 10 * 1000); /* the first byte is in */
	int64_t t0 = f.sp.now;
	for (int i = 0; i < 30 && !f.raw[slow].eof; i++) {
		raw_puts(&f, slow, "a");
		run_for(&f, SEC);
	}
	assert_true(f.raw[slow].eof);
	resp_t rs[1];
	assert_int_equal(parse_responses(&f.raw[slow], rs, 1, 0), 1);
	assert_int_equal(rs[0].status, 408);
	assert_true(f.raw[slow].eof_at - t0 >= 9 * SEC);
	assert_true(f.raw[slow].eof_at - t0 < 11 * SEC);
	sf_http_server_stats_t st = server_stats(&f);
	assert_int_equal(st.timeouts_header, 1);
	fx_fini(&f);
}

/* A body must keep up min_body_rate after body_timeout; a keep-alive
 * connection idles keepalive_timeout at most; each is counted apart. */
static void body_rate_and_keepalive_deadlines(void **state)
{
	(void)state;
	sf_http_server_config_t c;
	sf_http_server_config_default(&c);
	c.body_timeout_us = 2 * SEC;
	c.min_body_rate = 1000;
	c.keepalive_timeout_us = 3 * SEC;
	fx_t f;
	fx_init(&f, 16, 0, &c);
	int slow = raw_open(&f);
	raw_puts(&f, slow, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n");
	run_for(&f, 10 * 1000);
	int64_t t0 = f.sp.now;
	/* 100 bytes/s: 2 s of grace plus 0.1 s per second earned, ~2.2 s. */
	char chunk[101];
	memset(chunk, 'b', 100);
	chunk[100] = '\0';
	for (int i = 0; i < 20 && !f.raw[slow].eof; i++) {
		raw_puts(&f, slow, chunk);
		run_for(&f, SEC);
	}
	assert_true(f.raw[slow].eof);
	assert_true(f.raw[slow].eof_at - t0 >= 2 * SEC);
	assert_true(f.raw[slow].eof_at - t0 < 4 * SEC);
	resp_t rs[1];
	assert_int_equal(parse_responses(&f.raw[slow], rs, 1, 0), 1);
	assert_int_equal(rs[0].status, 408);
	assert_int_equal(server_stats(&f).timeouts_body, 1);
	/* Keep-alive: answered, then closed after 3 s of silence. */
	int idle = raw_open(&f);
	raw_puts(&f, idle, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n");
	wait_responses(&f, idle, 1, 0, false);
	int64_t t1 = f.sp.now;
	wait_responses(&f, idle, 1, 0, true);
	assert_true(f.raw[idle].eof_at - t1 >= 2 * SEC);
	assert_true(f.raw[idle].eof_at - t1 < 4 * SEC);
	assert_int_equal(server_stats(&f).timeouts_keepalive, 1);
	fx_fini(&f);
}

/* A full table: the connection idle longest is closed for a client that
 * waits, so the newcomer is served; busy connections are not touched. */
static void full_table_evicts_longest_idle(void **state)
{
	(void)state;
	sf_http_server_config_t c;
	sf_http_server_config_default(&c);
	c.max_conns = 2;
	fx_t f;
	fx_init(&f, 17, 0, &c);
	int quiet = raw_open(&f);
	run_for(&f, SEC);
	int busy = raw_open(&f);
	raw_puts(&f, busy, "GET /a.txt HTTP/1.1\r\nHost: t\r\nX-Half: ");
	run_for(&f, SEC);
	get(&f, "/a.txt", NULL);
	assert_int_equal(sf_http_client_status(f.cli), 200);
	sf_http_server_stats_t st = server_stats(&f);
	assert_int_equal(st.conns_evicted, 1);
	assert_true(f.raw[quiet].eof);
	assert_false(f.raw[busy].eof);
	/* The busy one still gets its answer. */
	raw_puts(&f, busy, "1\r\n\r\n");
	wait_responses(&f, busy, 1, 0, false);
	resp_t rs[1];
	assert_int_equal(parse_responses(&f.raw[busy], rs, 1, 0), 1);
	assert_int_equal(rs[0].status, 200);
	fx_fini(&f);
}

/* The server's work follows what changed, not what is open: with 200
 * idle connections held, 16 keep-alive requests on one more connection
 * step a few connections each (the busy one, the listener's new ones),
 * where stepping the whole table would take 16 x 200. The idle ones are
 * neither answered nor closed meanwhile. */
static void idle_connections_cost_nothing(void **state)
{
	(void)state;
	enum { IDLE = 200, REQS = 16 }; /* got_responses parses 16 at most */
	fx_t f;
	fx_init(&f, 23, 0, NULL);
	sf_stack_t *st = f.sp.st[0];
	sf_sock_t idle[IDLE];
	for (int i = 0; i < IDLE; i++) {
		idle[i] = sf_socket(st);
		assert_true(idle[i] > 0);
		assert_int_equal(sf_connect(st, idle[i], SP_SERVER, 80), SF_EINPROGRESS);
	}
	run_for(&f, SEC / 2);
	sf_http_server_stats_t before = server_stats(&f);
	assert_int_equal(before.conns_open, IDLE);
	int r = raw_open(&f);
	for (int i = 0; i < REQS; i++) {
		raw_puts(&f, r, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n");
		wait_responses(&f, r, i + 1, 0, false);
	}
	sf_http_server_stats_t after = server_stats(&f);
	uint64_t steps = after.conn_steps - before.conn_steps;
	print_message("%d requests with %d idle connections open: %llu steps\n", REQS, IDLE,
	              (unsigned long long)steps);
	assert_true(steps <= 10 * REQS);
	assert_int_equal(after.requests, REQS);
	assert_int_equal(after.conns_open, IDLE + 1);
	assert_int_equal(after.conns_closed, 0);
	for (int i = 0; i < IDLE; i++)
		sf_close(st, idle[i]);
	fx_fini(&f);
}

/* A table full of unfinished heads (slowloris at full scale): the head
 * that began first gives way to a client that waits; a younger one stays. */
static void full_table_of_slow_heads(void **state)
{
	(void)state;
	sf_http_server_config_t c;
	sf_http_server_config_default(&c);
	c.max_conns = 2;
	fx_t f;
	fx_init(&f, 18, 0, &c);
	int old = raw_open(&f);
	raw_puts(&f, old, "GET /a.txt HTTP/1.1\r\nHost: t\r\nX-Slow: a");
	run_for(&f, 3 * SEC);
	int young = raw_open(&f);
	raw_puts(&f, young, "GET /a.txt HTTP/1.1\r\nHost: t\r\nX-Slow: b");
	run_for(&f, 2 * SEC);
	int64_t t0 = f.sp.now;
	get(&f, "/a.txt", NULL);
	assert_int_equal(sf_http_client_status(f.cli), 200);
	assert_true(f.sp.now - t0 < SEC);
	assert_int_equal(server_stats(&f).conns_evicted, 1);
	assert_true(f.raw[old].eof || f.raw[old].err);
	assert_false(f.raw[young].eof || f.raw[young].err);
	fx_fini(&f);
}

static void path_traversal_refused(void **state)
{
	(void)state;
	fx_t f;
	fx_init(&f, 10, 0, NULL);
	const char *paths[] = {
	        "/../secret.txt",        "/%2e%2e/secret.txt", "/%2E%2e/%2e%2E/secret.txt",
	        "/sub/../../secret.txt", "/..%2fsecret.txt",   "/sub/%2e%2e%2f%2e%2e%2fsecret.txt",
	        "/escape.txt",           "/a.txt%00.html",     "/..\\secret.txt"};
	int r = raw_open(&f);
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		char req[160];
		snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", paths[i]);
		raw_puts(&f, r, req);
	}
	int n = (int)(sizeof paths / sizeof paths[0]);
	wait_responses(&f, r, n, 0, false);
	resp_t rs[9];
	assert_int_equal(parse_responses(&f.raw[r], rs, n, 0), n);
	for (int i = 0; i < n; i++) {
		if (rs[i].status != 400 && rs[i].status != 403 && rs[i].status != 404)
			fail_msg("%s: status %d", paths[i], rs[i].status);
	}
	assert_null(strstr(f.raw[r].rx, "TOP-SECRET"));
	fx_fini(&f);
}

static void connection_close_honoured(void **state)
{
	(void)state;
	fx_t f;
	fx_init(&f, 11, 0, NULL);
	/* Connection: close: the answer says so and the server sends FIN. */
	int r = raw_open(&f);
	raw_puts(&f, r,
	         "GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
	         "GET /style.css HTTP/1.1\r\nHost: t\r\n\r\n");
	wait_responses(&f, r, 1, 0, true);
	resp_t rs[2];
	assert_int_equal(parse_responses(&f.raw[r], rs, 2, 0), 1);
	assert_non_null(strstr(rs[0].head, "Connection: close"));
	/* HTTP/1.0 closes unless it asks for keep-alive. */
	int r10 = raw_open(&f);
	raw_puts(&f, r10, "GET /a.txt HTTP/1.0\r\n\r\n");
	wait_responses(&f, r10, 1, 0, true);
	int ka = raw_open(&f);
	raw_puts(&f, ka, "GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	wait_responses(&f, ka, 1, 0, false);
	assert_int_equal(parse_responses(&f.raw[ka], rs, 1, 0), 1);
	assert_non_null(strstr(rs[0].head, "Connection: keep-alive"));
	raw_puts(&f, ka, "GET /style.css HTTP/1.0\r\n\r\n");
	wait_responses(&f, ka, 2, 0, true);
	/* The library client's option. */
	sf_http_client_options_t o = {.connection_close = true};
	get(&f, "/a.txt", &o);
	assert_string_equal(sf_http_client_header(f.cli, "Connection"), "close");
	expect_body(&f, "plain\n");
	assert_int_equal(server_stats(&f).conns_accepted, 4);
	fx_fini(&f);
}

static void lossy_1mb_get(void **state)
{
	(void)state;
	fx_t f;
	fx_init(&f, 12, 0.01, NULL);
	get(&f, "/big.bin", NULL);
	assert_int_equal(sf_http_client_status(f.cli), 200);
	size_t len;
	const uint8_t *b = sf_http_client_body(f.cli, &len);
	assert_int_equal(len, BIG_LEN);
	for (size_t i = 0; i < BIG_LEN; i++)
		if (b[i] != big_byte(i))
			fail_msg("byte %zu differs", i);
	sf_sim_stats_t ls;
	sf_sim_link_stats(f.sp.link, 1, &ls);
	assert_true(ls.lost > 0);
	fx_fini(&f);
}

/* Sets up the fake server on port 8080 with a canned reply. */
static void fake_serve(fx_t *f, const char *reply, bool close_after)
{
	fake_t *k = &f->fake;
	if (k->lsn <= 0) {
		k->lsn = sf_socket(f->sp.st[1]);
		assert_int_equal(sf_bind(f->sp.st[1], k->lsn, 8080), 0);
		assert_int_equal(sf_listen(f->sp.st[1], k->lsn, 4), 0);
	}
	k->s = 0;
	k->reply = reply;
	k->reply_len = strlen(reply);
	k->off = 0;
	k->close_after = close_after;
	k->answered = false;
	k->req_len = 0;
	k->req[0] = '\0';
}

static bool fake_closed(fx_t *f, void *ctx)
{
	(void)ctx;
	return f->fake.s < 0;
}

typedef struct sink {
	uint8_t buf[4096];
	size_t len, calls;
} sink_t;

static int sink_body(void *ctx, const uint8_t *data, size_t len)
{
	sink_t *k = ctx;
	assert_true(k->len + len <= sizeof k->buf);
	memcpy(k->buf + k->len, data, len);
	k->len += len;
	k->calls++;
	return 0;
}

/* The client streams bodies to a callback and sends several requests over
 * one kept-open connection (RFC 9112 §9.3); the server sees one connection. */
static void client_streams_and_reuses(void **state)
{
	(void)state;
	fx_t f;
	fx_init(&f, 14, 0, NULL);
	sink_t k = {0};
	sf_http_client_options_t o = {.on_body = sink_body, .body_ctx = &k, .keep_open = true};
	get(&f, "/a.txt", &o);
	assert_int_equal(k.len, 6);
	assert_memory_equal(k.buf, "plain\n", 6);
	assert_null(sf_http_client_body(f.cli, NULL)); /* streamed, not kept */
	assert_true(sf_http_client_reusable(f.cli));
	uint32_t id = sf_http_client_conn_id(f.cli);
	const char *paths[] = {"/style.css", "/sub/", "/nope"};
	const char *bodies[] = {"body{color:red}\n", "<p>sub</p>\n", NULL};
	for (int i = 0; i < 3; i++) {
		k.len = 0;
		assert_int_equal(sf_http_client_again(f.cli, NULL, paths[i]), 0);
		f.cli_rc = SF_EAGAIN;
		assert_true(run_until(&f, client_done, NULL, 10 * SEC));
		assert_int_equal(f.cli_rc, 0);
		if (bodies[i]) {
			assert_int_equal(sf_http_client_status(f.cli), 200);
			assert_int_equal(k.len, strlen(bodies[i]));
			assert_memory_equal(k.buf, bodies[i], k.len);
		} else {
			assert_int_equal(sf_http_client_status(f.cli), 404);
		}
		assert_int_equal(sf_http_client_conn_id(f.cli), id);
	}
	/* HEAD on the same connection: headers only. */
	k.len = 0;
	assert_int_equal(sf_http_client_again(f.cli, "HEAD", "/big.bin"), 0);
	f.cli_rc = SF_EAGAIN;
	assert_true(run_until(&f, client_done, NULL, 10 * SEC));
	assert_int_equal(f.cli_rc, 0);
	assert_string_equal(sf_http_client_header(f.cli, "Content-Length"), "1048576");
	assert_int_equal(k.len, 0);
	assert_int_equal(sf_http_client_again(f.cli, NULL, "bad path"), SF_EINVAL);
	assert_int_equal(server_stats(&f).conns_accepted, 1);
	assert_int_equal(server_stats(&f).requests, 5);
	fx_fini(&f);
}

static void client_response_framing(void **state)
{
	(void)state;
	fx_t f;
	fx_init(&f, 13, 0, NULL);
	/* An interim 100, then a chunked body (RFC 9112 §7.1). */
	fake_serve(&f,
	           "HTTP/1.1 100 Continue\r\n\r\n"
	           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: v  \r\n\r\n"
	           "4\r\nwiki\r\n5;x=y\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\n",
	           false);
	assert_int_equal(get_port(&f, 8080, "/chunked", NULL), 0);
	assert_non_null(strstr(f.fake.req, "GET /chunked HTTP/1.1\r\nHost: test\r\n"));
	assert_int_equal(sf_http_client_status(f.cli), 200);
	assert_string_equal(sf_http_client_header(f.cli, "x-a"), "v");
	assert_int_equal(sf_http_client_header_count(f.cli), 2);
	sf_http_header_t h = sf_http_client_header_at(f.cli, 0);
	assert_string_equal(h.name, "Transfer-Encoding");
	assert_null(sf_http_client_header_at(f.cli, 2).name);
	expect_body(&f, "wikipedia");
	/* The client closed on completion: the server sees our FIN. */
	assert_true(run_until(&f, fake_closed, NULL, 10 * SEC));
	/* A body delimited by the server's FIN (RFC 9112 §6.3 (8)). */
	fake_serve(&f, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", true);
	sf_http_client_options_t o = {.connection_close = true};
	assert_int_equal(get_port(&f, 8080, "/eof", &o), 0);
	assert_non_null(strstr(f.fake.req, "Connection: close\r\n"));
	expect_body(&f, "until the end");
	/* Cut short: fewer bytes than Content-Length, then FIN. */
	fake_serve(&f, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", true);
	assert_int_equal(get_port(&f, 8080, "/short", NULL), SF_ETRUNCATED);
	assert_int_equal(sf_http_client_received(f.cli), 5);
	assert_int_equal(sf_http_client_expected(f.cli), 100);
	/* A chunked body cut short is truncated too; its length was unknown. */
	fake_serve(&f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n", true);
	assert_int_equal(get_port(&f, 8080, "/chunk-short", NULL), SF_ETRUNCATED);
	assert_int_equal(sf_http_client_received(f.cli), 4);
	assert_int_equal(sf_http_client_expected(f.cli), -1);
	/* Not HTTP at all. */
	fake_serve(&f, "SSH-2.0-OpenSSH\r\n\r\n", true);
	assert_int_equal(get_port(&f, 8080, "/ssh", NULL), SF_EMALFORMED);
	/* HEAD: Content-Length but no body follows. */
	fake_serve(&f, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", false);
	sf_http_client_options_t head = {.method = "HEAD"};
	assert_int_equal(get_port(&f, 8080, "/head", &head), 0);
	assert_non_null(strstr(f.fake.req, "HEAD /head HTTP/1.1\r\n"));
	assert_null(sf_http_client_body(f.cli, NULL));
	/* Nobody listening: the RST comes back as refused. */
	assert_int_equal(get_port(&f, 81, "/", NULL), SF_ECONNREFUSED);
	/* Without a host name, Host is the address with the port unless it is
	 * 80 (RFC 9110 §7.2). */
	fake_serve(&f, "HTTP/1.1 204 No Content\r\n\r\n", false);
	sf_http_client_free(f.cli);
	f.cli = sf_http_get_start(f.sp.st[0], SP_SERVER, 8080, NULL, "/port");
	f.cli_rc = SF_EAGAIN;
	assert_true(run_until(&f, client_done, NULL, 10 * SEC));
	char want[64];
	snprintf(want, sizeof want, "\r\nHost: %u.%u.%u.%u:8080\r\n", SP_SERVER >> 24,
	         (SP_SERVER >> 16) & 255, (SP_SERVER >> 8) & 255, SP_SERVER & 255);
	assert_non_null(strstr(f.fake.req, want));
	assert_true(run_until(&f, fake_closed, NULL, 10 * SEC));
	/* Bad arguments. */
	assert_null(sf_http_get_start(f.sp.st[0], SP_SERVER, 80, "h", "no-slash"));
	assert_null(sf_http_get_start(f.sp.st[0], SP_SERVER, 80, "h", "/a b"));
	assert_true(run_until(&f, fake_closed, NULL, 10 * SEC));
	sf_close(f.sp.st[1], f.fake.lsn);
	f.fake.lsn = 0;
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(get_static_files),
	        cmocka_unit_test(head_sends_headers_only),
	        cmocka_unit_test(not_found_and_method_not_allowed),
	        cmocka_unit_test(keepalive_three_sequential),
	        cmocka_unit_test(pipelined_in_order),
	        cmocka_unit_test(request_bodies),
	        cmocka_unit_test(limits_431_413),
	        cmocka_unit_test(malformed_400_others_served),
	        cmocka_unit_test(slow_client_timed_out),
	        cmocka_unit_test(head_deadline_ignores_dribble),
	        cmocka_unit_test(body_rate_and_keepalive_deadlines),
	        cmocka_unit_test(full_table_evicts_longest_idle),
	        cmocka_unit_test(idle_connections_cost_nothing),
	        cmocka_unit_test(full_table_of_slow_heads),
	        cmocka_unit_test(path_traversal_refused),
	        cmocka_unit_test(connection_close_honoured),
	        cmocka_unit_test(lossy_1mb_get),
	        cmocka_unit_test(client_response_framing),
	        cmocka_unit_test(client_streams_and_reuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
