/* `synfin get`: an HTTP/1.1 client on synfin over a TUN device, talking to
 * a server behind the machine's own kernel (python3 -m http.server, nginx,
 * ...) at the kernel side's address.
 *
 * It prints the body, or with --ladder the ladder of its own connection
 * from the stack's trace events: handshake, request and response, and the
 * close down to TIME-WAIT or CLOSED. Before exiting it waits (a bounded
 * time) until every connection has finished its close, so the kernel's side
 * is never left waiting for an ACK from a vanished device. --repeat N
 * --parallel P turns it into a small load generator: N connections, P at a
 * time, each fetching the URL once; it prints a summary instead of bodies.
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

#define CMD "get"

#define LINGER_US    3000000ll /* waiting for the closes after the last response */
#define MAX_PARALLEL 256

static void help(void)
{
	printf("usage: synfin get URL [options]\n"
	       "\n"
	       "Fetches http://A.B.C.D[:PORT]/PATH with synfin over a TUN device: the kernel side\n"
	       "of the TUN gets --peer, so servers running on this machine are reached at that\n"
	       "address (e.g. python3 -m http.server --bind 192.0.2.1). Prints the body, or the\n"
	       "ladder of the connection. Needs root (CAP_NET_ADMIN).\n"
	       "\n"
	       "options:\n"
	       "  --ladder         print the ladder of this connection instead of the body\n"
	       "  --svg FILE       write the ladder as SVG to FILE\n"
	       "  --lang en|zh     language of the ladder (default en)\n"
	       "  -o, --output F   write the body to F instead of standard output\n"
	       "  --close          send 'Connection: close' (the server closes first)\n"
	       "  --timeout S      give up when nothing happens for S seconds (default 30)\n"
	       "  --max-body N     largest body accepted, bytes (default 1 GiB)\n"
	       "  --repeat N       make N connections (one request each) and print a summary\n"
	       "  --parallel P     with --repeat: P connections at a time (default 1)\n");
	netopts_help();
}

/* Parses http://A.B.C.D[:PORT][/PATH]. */
static bool parse_url(const char *url, uint32_t *addr, uint16_t *port, const char **path)
{
	if (strncmp(url, "http://", 7) != 0)
		return false;
	const char *h = url + 7, *end = h + strcspn(h, ":/");
	char host[32];
	if (end == h || (size_t)(end - h) >= sizeof host)
		return false;
	memcpy(host, h, (size_t)(end - h));
	host[end - h] = '\0';
	struct in_addr a;
	if (inet_pton(AF_INET, host, &a) != 1)
		return false;
	*addr = ntohl(a.s_addr);
	*port = 80;
	if (*end == ':') {
		char *e;
		unsigned long p = strtoul(end + 1, &e, 10);
		if (e == end + 1 || p == 0 || p > 65535 || (*e && *e != '/'))
			return false;
		*port = (uint16_t)p;
		end = e;
	}
	*path = *end ? end : "/";
	return true;
}

#ifdef SYNFIN_HAVE_HTTP
#include "synfin/http.h"

typedef struct get_state {
	uint32_t addr;
	uint16_t port;
	const char *path, *url;
	sf_http_client_options_t copt;
	uint64_t repeat, parallel;
	sf_http_client_t *active[MAX_PARALLEL];
	uint64_t started, finished, ok, failed;
	int first_error;
	int status;          /* of the first response */
	size_t body_len;     /* of the first response */
	uint32_t first_conn; /* conn id of the first connection */
	bool print_body;     /* single fetch without --ladder */
	FILE *out;
	int64_t done_us; /* when the last response finished; 0: not yet */
	sf_stack_t *st;
} get_state_t;

static sf_loop_t *running_loop;

static void on_signal(int sig)
{
	(void)sig;
	if (running_loop)
		sf_loop_stop(running_loop);
}

static void finish_one(get_state_t *g, sf_http_client_t *c, int rc)
{
	size_t len = 0;
	const uint8_t *body = sf_http_client_body(c, &len);
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
	if (g->print_body && rc == 0 && len)
		fwrite(body, 1, len, g->out);
}

static int64_t on_ready(void *ctx, sf_loop_t *loop, int64_t now)
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
			c = sf_http_get_start_ex(g->st, g->addr, g->port, NULL, g->path, &g->copt);
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
	const char *url = NULL, *svg = NULL, *output = NULL;
	bool ladder = false, close = false;
	uint64_t repeat = 1, parallel = 1, max_body = 1ull << 30;
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
		} else if (cli_flag(a, "--close")) {
			close = true;
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
			if (r < 0)
				return CMD_USAGE;
			if (strcmp(v, "en") && strcmp(v, "zh")) {
				cli_error(CMD, "--lang: 'en' or 'zh', not '%s'", v);
				return CMD_USAGE;
			}
			lang = strcmp(v, "zh") ? SF_LADDER_LANG_EN : SF_LADDER_LANG_ZH;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--timeout", &v)) != 0) {
			if (r < 0 || !cli_double(CMD, "--timeout", v, 0.001, 86400, &timeout_s))
				return CMD_USAGE;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--max-body", &v)) != 0) {
			if (r < 0 || !cli_u64(CMD, "--max-body", v, SIZE_MAX, &max_body))
				return CMD_USAGE;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--repeat", &v)) != 0) {
			if (r < 0 || !cli_u64(CMD, "--repeat", v, 10000000, &repeat) || repeat == 0)
				return CMD_USAGE;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--parallel", &v)) != 0) {
			if (r < 0 || !cli_u64(CMD, "--parallel", v, MAX_PARALLEL, &parallel) ||
			    parallel == 0)
				return CMD_USAGE;
		} else if (a[0] != '-' && !url) {
			url = a;
		} else {
			return cli_unknown(CMD, a);
		}
	}
	uint32_t addr;
	uint16_t port;
	const char *path;
	if (!url) {
		cli_error(CMD, "which URL? (try synfin get --help)");
		return CMD_USAGE;
	}
	if (!parse_url(url, &addr, &port, &path)) {
		cli_error(CMD, "'%s': only http://A.B.C.D[:PORT][/PATH] (an IPv4 address, no DNS)",
		          url);
		return CMD_USAGE;
	}
	if ((ladder || svg) && repeat > 1) {
		cli_error(CMD, "--ladder and --svg draw one connection: not with --repeat");
		return CMD_USAGE;
	}
#ifndef SYNFIN_HAVE_HTTP
	(void)output, (void)close, (void)max_body, (void)timeout_s, (void)lang, (void)parallel;
	cli_error(CMD, "this synfin was built without HTTP (src/app needs llhttp: node-llhttp)");
	return CMD_FAIL;
#else
	get_state_t *g = calloc(1, sizeof *g);
	sf_ladder_t *lad = (ladder || svg) ? sf_ladder_new() : NULL;
	sf_ladder_tap_t tap = {.ladder = lad, .side = 0};
	sf_loop_t *loop = NULL;
	int status = CMD_FAIL;
	if (!g || ((ladder || svg) && !lad)) {
		cli_error(CMD, "out of memory");
		goto out;
	}
	*g = (get_state_t){.addr = addr,
	                   .port = port,
	                   .path = path,
	                   .url = url,
	                   .repeat = repeat,
	                   .parallel = parallel < repeat ? parallel : repeat,
	                   .print_body = repeat == 1 && !ladder,
	                   .out = stdout};
	g->copt = (sf_http_client_options_t){.connection_close = close,
	                                     .max_body = (size_t)max_body,
	                                     .timeout_us = (int64_t)(timeout_s * 1e6)};
	if (output && g->print_body && !(g->out = fopen(output, "wb"))) {
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
	int64_t t0 = sf_loop_now();
	sf_loop_set_app(loop, on_ready, g);
	/* Bounded: every client has its own timeout; this is a backstop. */
	int64_t limit = (int64_t)((timeout_s + 5) * 1e6) * (int64_t)(1 + repeat / g->parallel);
	sf_loop_run_until(loop, all_done, g, limit);
	sf_loop_set_app(loop, NULL, NULL);
	running_loop = NULL;
	double secs = (double)((g->done_us ? g->done_us : sf_loop_now()) - t0) / 1e6;
	for (uint64_t i = 0; i < g->parallel; i++)
		if (g->active[i]) {
			sf_http_client_free(g->active[i]);
			g->failed++;
		}

	if (lad) {
		sf_ladder_set_conn(lad, 0, g->first_conn);
		sf_ladder_opts_t lo = {.lang = lang};
		if (ladder)
			sf_ladder_render_text(lad, &lo, stdout);
		if (svg) {
			FILE *f = fopen(svg, "w");
			if (!f || sf_ladder_render_svg(lad, &lo, f) < 0 || fclose(f) != 0) {
				cli_error(CMD, "%s: cannot write the SVG", svg);
				g->failed++;
			}
		}
	}
	if (repeat > 1)
		fprintf(stderr,
		        "synfin get: %" PRIu64 " connections, %" PRIu64
		        " ok (HTTP %d, %zu bytes), %" PRIu64 " failed, %.2f s (%.0f/s)\n",
		        repeat, g->ok, g->status, g->body_len, g->failed, secs,
		        secs > 0 ? (double)g->ok / secs : 0.0);
	if (g->first_error)
		cli_error(CMD, "%s: %s", url, sf_strerror(g->first_error));
	else if (g->finished < repeat)
		cli_error(CMD, "%s: timed out", url);
	else if (g->status >= 400)
		cli_error(CMD, "%s: HTTP %d", url, g->status);
	status = g->ok == repeat && g->failed == 0 ? CMD_OK : CMD_FAIL;
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
