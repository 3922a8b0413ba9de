/* `synfin demo`: two synfin stacks in one process over the simulated link
 * (client 192.0.2.1, server 192.0.2.2 port 80), no root and no set-up. A
 * scenario (scenario.c) drives both through one TCP life on the socket API;
 * every trace event of both stacks is recorded, and afterwards drawn as the
 * ladder of that connection (text or SVG), or printed as JSON lines. The
 * clock is virtual and every random choice is seeded, so the same options
 * give the same bytes on every run: the outputs are golden tests
 * (tests/golden).
 */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "scenario.h"
#include "synfin/ladder.h"
#include "synfin/simnet.h"
#include "views.h"

#define CMD "demo"

#define DEFAULT_SEED     1
#define DEFAULT_DELAY_MS 10.0
/* Long enough for any scenario, TIME-WAIT (2 * 30 s) and SYN retries
 * (180 s) included; the run stops as soon as nothing is pending. */
#define RUN_LIMIT_US (3600ll * 1000000)

/* ---- options ---- */

typedef struct demo_opts {
	const scenario_t *scn;
	double loss, reorder, delay_ms;
	uint64_t seed;
	bool json, absolute, raw_win, explain, full;
	sf_ladder_lang_t lang;
	const char *svg, *pcap, *html, *graph;
} demo_opts_t;

static void help(void)
{
	printf("usage: synfin demo [options]\n"
	       "\n"
	       "Runs two synfin stacks over a simulated link in this process (client\n"
	       "192.0.2.1, server 192.0.2.2 port 80) with a virtual clock, and draws the\n"
	       "ladder of the connection's life: every segment with flags, seq/ack, window and\n"
	       "the SYN options, each side's state beside it, TIME-WAIT down to CLOSED. No root\n"
	       "and no network set-up; the same options give the same output on every run.\n"
	       "\n"
	       "options:\n"
	       "  --scenario NAME  which life to show (default http):\n");
	for (int i = 0; i < demo_scenario_cnt; i++)
		printf("      %-19s %s\n", demo_scenarios[i].name, demo_scenarios[i].about_en);
	printf("  --loss P         lose each frame with probability P, both ways (0..1)\n"
	       "  --reorder P      hold back each frame with probability P, both ways (0..1)\n"
	       "  --delay-ms MS    one-way delay in ms (default %g; also --delay)\n"
	       "  --seed N         seed of the link's losses, the ISNs and ports (default %d)\n"
	       "  --lang en|zh     language of the diagram (default en)\n"
	       "  --absolute       raw 32-bit seq/ack instead of relative to each ISN\n"
	       "  --raw-win        win= the raw 16-bit field, not the window in bytes\n"
	       "  --full           every row of a long transfer (default: runs of plain\n"
	       "                   segments are collapsed into one line)\n"
	       "  --explain        after the diagram, one sentence for each state change and\n"
	       "                   notable segment, with the RFC rule (in --lang)\n"
	       "  --svg FILE       also write the ladder as SVG to FILE (with two connections:\n"
	       "                   out.svg and out-2.svg); a FILE of - is standard output\n"
	       "                   (then the text ladder is not printed), for any one of\n"
	       "                   --svg, --html, --graph and --pcap (binary: not to a terminal)\n"
	       "  --html FILE      also write a page to step through the ladder (one\n"
	       "                   self-contained HTML file; two connections: out-2.html)\n"
	       "  --graph FILE     also write the time-sequence graph (SVG, tcptrace style)\n"
	       "  --pcap FILE      write the client's frames to FILE (pcap, raw IPv4)\n"
	       "  --json           print the trace events as JSON lines instead of the ladder\n"
	       "  --list           print the scenario names, one a line\n"
	       "  -h, --help       this text\n",
	       DEFAULT_DELAY_MS, DEFAULT_SEED);
}

/* Returns CMD_OK, or the exit status to stop with (help printed: -1). */
static int parse(int argc, char **argv, demo_opts_t *o)
{
	const char *val;
	/* http needs src/app (llhttp); without it the default is active-close. */
	const char *scenario = demo_scenario_find("http") ? "http" : "active-close";
	*o = (demo_opts_t){.delay_ms = DEFAULT_DELAY_MS, .seed = DEFAULT_SEED};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int r;
		if (cli_is_help(a)) {
			help();
			return -1;
		} else if (cli_flag(a, "--list")) {
			for (int k = 0; k < demo_scenario_cnt; k++)
				printf("%s\n", demo_scenarios[k].name);
			return -1;
		} else if (cli_flag(a, "--json")) {
			o->json = true;
		} else if (cli_flag(a, "--absolute")) {
			o->absolute = true;
		} else if (cli_flag(a, "--raw-win")) {
			o->raw_win = true;
		} else if (cli_flag(a, "--explain")) {
			o->explain = true;
		} else if (cli_flag(a, "--full")) {
			o->full = true;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--scenario", &val)) != 0) {
			if (r < 0)
				return CMD_USAGE;
			scenario = val;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--loss", &val)) != 0) {
			if (r < 0 || !cli_double(CMD, "--loss", val, 0, 1, &o->loss))
				return CMD_USAGE;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--reorder", &val)) != 0) {
			if (r < 0 || !cli_double(CMD, "--reorder", val, 0, 1, &o->reorder))
				return CMD_USAGE;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--delay-ms", &val)) != 0 ||
		           (r = cli_value(CMD, argc, argv, &i, "--delay", &val)) != 0) {
			/* --delay-ms as in serve and get; --delay, its old name. */
			if (r < 0 || !cli_double(CMD, "--delay-ms", val, 0, 10000, &o->delay_ms))
				return CMD_USAGE;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--seed", &val)) != 0) {
			if (r < 0 || !cli_u64(CMD, "--seed", val, UINT64_MAX, &o->seed))
				return CMD_USAGE;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--lang", &val)) != 0) {
			if (r < 0 || !view_lang(CMD, val, &o->lang))
				return CMD_USAGE;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--svg", &val)) != 0) {
			if (r < 0)
				return CMD_USAGE;
			o->svg = val;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--html", &val)) != 0) {
			if (r < 0)
				return CMD_USAGE;
			o->html = val;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--graph", &val)) != 0) {
			if (r < 0)
				return CMD_USAGE;
			o->graph = val;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--pcap", &val)) != 0) {
			if (r < 0)
				return CMD_USAGE;
			o->pcap = val;
		} else {
			return cli_unknown(CMD, a);
		}
	}
	o->scn = demo_scenario_find(scenario);
	if (!o->scn) {
		cli_error(CMD, "unknown scenario '%s' (try synfin demo --help)", scenario);
		return CMD_USAGE;
	}
	return CMD_OK;
}

/* ---- recording both stacks' events, in the order they happened ---- */

typedef struct rec {
	int side;
	sf_event_t ev;
} rec_t;

typedef struct recorder {
	rec_t *v;
	size_t n, cap;
	bool nomem;
} recorder_t;

typedef struct tap {
	recorder_t *r;
	int side;
} tap_t;

static void record_event(void *ctx, const sf_event_t *ev)
{
	tap_t *t = ctx;
	recorder_t *r = t->r;
	if (r->nomem)
		return;
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 1024;
		rec_t *v = realloc(r->v, ncap * sizeof *v);
		if (!v) {
			r->nomem = true;
			return;
		}
		r->v = v;
		r->cap = ncap;
	}
	r->v[r->n++] = (rec_t){t->side, *ev};
}

/* ---- running a scenario ---- */

typedef struct run {
	demo_t d;
	const scenario_t *scn;
	bool stuck; /* nothing pending, but the applications had not finished */
} run_t;

static bool run_step(sf_simnet_t *net, void *ctx)
{
	run_t *r = ctx;
	if (!r->d.done)
		r->scn->pump(&r->d);
	if (sf_simnet_next_deadline(net) != INT64_MAX)
		return false;
	/* Nothing can happen any more: finished, or stuck. */
	r->stuck = !r->d.done;
	return true;
}

/* ---- output ---- */

static const char *side_name(int side, bool zh)
{
	if (zh)
		return side == 0 ? "客户端" : "服务器";
	return side == 0 ? "client" : "server";
}

/* Each event as its JSON line with the side that traced it first. */
static int print_json(const recorder_t *rec)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m)
		return CMD_FAIL;
	for (size_t i = 0; i < rec->n; i++) {
		rewind(m);
		if (sf_trace_json_write(m, &rec->v[i].ev) < 0 || fflush(m) != 0) {
			fclose(m);
			free(buf);
			return CMD_FAIL;
		}
		size_t n = (size_t)ftell(m);
		/* "{...}\n" becomes "{"side":"client",...}\n". */
		printf("{\"side\":\"%s\",%.*s", side_name(rec->v[i].side, false), (int)(n - 1),
		       buf + 1);
	}
	fclose(m);
	free(buf);
	return CMD_OK;
}

/* Standard output ("-", opened as /dev/fd/N) takes one document: a second
 * connection's would make it invalid XML or HTML. Says so once and skips. */
static bool stdout_taken(const char *base, int index, const char *opt)
{
	if (index == 0 || strncmp(base, "/dev/fd/", 8) != 0)
		return false;
	if (index == 1)
		fprintf(stderr,
		        "synfin demo: %s -: only the first connection goes to standard output "
		        "(give a file name to get one file per connection)\n",
		        opt);
	return true;
}

/* "out.svg" for the first ladder, "out-2.svg" for the second, ... */
static char *svg_path(const char *base, int index)
{
	size_t n = strlen(base) + 16;
	char *p = malloc(n);
	if (!p)
		return NULL;
	if (index == 0 || !strncmp(base, "/dev/fd/", 8)) {
		snprintf(p, n, "%s", base);
		return p;
	}
	const char *dot = strrchr(base, '.');
	const char *slash = strrchr(base, '/');
	if (!dot || (slash && dot < slash))
		dot = base + strlen(base);
	snprintf(p, n, "%.*s-%d%s", (int)(dot - base), base, index + 1, dot);
	return p;
}

/* Builds the ladder of connection k from the recorded events. */
static sf_ladder_t *build_ladder(const run_t *r, const recorder_t *rec, int k)
{
	sf_ladder_t *l = sf_ladder_new();
	if (!l)
		return NULL;
	for (int s = 0; s < 2; s++)
		if (k < r->d.conn_cnt && r->d.conn[k].id[s])
			sf_ladder_set_conn(l, s, r->d.conn[k].id[s]);
	for (size_t i = 0; i < rec->n; i++)
		sf_ladder_add_event(l, rec->v[i].side, &rec->v[i].ev);
	return l;
}

/* True when a side of connection k left TIME-WAIT because a new SYN
 * reopened its 4-tuple. */
static bool was_reused(const run_t *r, const recorder_t *rec, int k, int *side)
{
	if (k >= r->d.conn_cnt)
		return false;
	for (size_t i = 0; i < rec->n; i++) {
		const sf_event_t *ev = &rec->v[i].ev;
		int s = rec->v[i].side;
		if (ev->kind == SF_EV_STATE && ev->u.state.cause == SF_CAUSE_REUSE &&
		    ev->conn_id == r->d.conn[k].id[s]) {
			*side = s;
			return true;
		}
	}
	return false;
}

static void print_legend(bool zh, bool absolute, bool raw_win)
{
	if (zh)
		printf("图例：t(ms) = 报文段发出的虚拟时间；左/右 = 该行之后客户端/服务器的状态；"
		       "seq/ack %s；win = %s；len = 数据字节数\n",
		       absolute ? "为线上的原始值" : "相对各自的初始序号",
		       raw_win ? "窗口字段原值" : "窗口字节数（字段按 wscale 放大，RFC 7323）");
	else
		printf("legend: t(ms) = virtual time a segment left; left/right = client/server "
		       "state after the row; seq/ack %s; win = %s; len = payload bytes\n",
		       absolute ? "as on the wire" : "relative to each side's ISN",
		       raw_win ? "raw window field"
		               : "window in bytes (the field scaled by wscale, RFC 7323)");
}

/* Segments and losses of the connections drawn: what the diagrams show. */
typedef struct seg_counts {
	uint64_t segs, lost;
} seg_counts_t;

static void print_summary(FILE *out, const run_t *r, sf_simnet_t *net, sf_ladder_t *last,
                          const seg_counts_t *sc, bool zh)
{
	uint64_t segs = sc->segs, rexmit = 0, lost = sc->lost;
	for (int s = 0; s < 2; s++) {
		sf_stack_stats_t st;
		sf_stack_stats(sf_simnet_stack(net, s), &st);
		rexmit += st.retransmits;
	}
	const char *f0 = sf_state_name(last ? sf_ladder_final_state(last, 0) : SF_CLOSED);
	const char *f1 = sf_state_name(last ? sf_ladder_final_state(last, 1) : SF_CLOSED);
	/* Bytes delivered: what each application read of the other's. */
	const uint64_t b[2] = {r->d.rcvd[1], r->d.rcvd[0]};
	if (zh)
		fprintf(out,
		        "总结：客户端→服务器 %llu 字节，服务器→客户端 %llu 字节；报文段 %llu "
		        "个（丢失 "
		        "%llu 个），重传 %llu 次；最终状态：客户端 %s，服务器 %s\n",
		        (unsigned long long)b[0], (unsigned long long)b[1],
		        (unsigned long long)segs, (unsigned long long)lost,
		        (unsigned long long)rexmit, f0, f1);
	else
		fprintf(out,
		        "summary: client->server %llu bytes, server->client %llu bytes; %llu "
		        "segments "
		        "(%llu lost), %llu retransmission%s; final states: client %s, server %s\n",
		        (unsigned long long)b[0], (unsigned long long)b[1],
		        (unsigned long long)segs, (unsigned long long)lost,
		        (unsigned long long)rexmit, rexmit == 1 ? "" : "s", f0, f1);
}

/* Draws every connection of the run; the last ladder is kept in *last for
 * the summary (the caller frees it). */
static int print_ladders(const run_t *r, const recorder_t *rec, const demo_opts_t *o,
                         sf_ladder_t **last, seg_counts_t *sc)
{
	bool zh = o->lang == SF_LADDER_LANG_ZH;
	sf_ladder_opts_t lo = {.lang = o->lang,
	                       .seq = o->absolute ? SF_LADDER_SEQ_ABSOLUTE : SF_LADDER_SEQ_RELATIVE,
	                       .raw_win = o->raw_win,
	                       .full = o->full,
	                       .width = cli_columns()};
	int cnt = r->d.conn_cnt > 0 ? r->d.conn_cnt : 1;
	int rc = CMD_OK;
	*last = NULL;
	for (int k = 0; k < cnt && rc == CMD_OK; k++) {
		sf_ladder_t *l = build_ladder(r, rec, k);
		if (!l) {
			cli_error(CMD, "out of memory");
			return CMD_FAIL;
		}
		if (cnt > 1) {
			if (k > 0)
				printf("\n");
			if (zh)
				printf("第 %d 个连接（共 %d 个）\n", k + 1, cnt);
			else
				printf("connection %d of %d\n", k + 1, cnt);
		}
		sc->segs += sf_ladder_seg_count(l);
		sc->lost += sf_ladder_lost_count(l);
		int err = sf_ladder_render_text(l, &lo, stdout);
		if (err == 0 && o->explain) {
			printf("\n");
			err = sf_ladder_render_explain(l, &lo, stdout);
		}
		if (err < 0) {
			cli_error(CMD, "%s", sf_ladder_strerror(err));
			rc = CMD_FAIL;
		}
		int rs;
		if (was_reused(r, rec, k, &rs)) {
			if (zh)
				printf("注：%s提前离开了 TIME-WAIT：同一四元组上一个时间戳更新的 "
				       "SYN "
				       "重新打开了它（RFC 6191），即第 %d 个连接\n",
				       side_name(rs, true), k + 2);
			else
				printf("note: the %s left TIME-WAIT early: a SYN with a newer "
				       "timestamp "
				       "on the same 4-tuple reopened it (RFC 6191); that is "
				       "connection "
				       "%d\n",
				       side_name(rs, false), k + 2);
		}
		if (rc == CMD_OK && o->svg && !stdout_taken(o->svg, k, "--svg")) {
			char *p = svg_path(o->svg, k);
			rc = p ? view_write(CMD, l, &lo, p, VIEW_SVG) : CMD_FAIL;
			free(p);
		}
		if (rc == CMD_OK && o->html && !stdout_taken(o->html, k, "--html")) {
			char *p = svg_path(o->html, k);
			rc = p ? view_write(CMD, l, &lo, p, VIEW_HTML) : CMD_FAIL;
			free(p);
		}
		if (rc == CMD_OK && o->graph && !stdout_taken(o->graph, k, "--graph")) {
			char *p = svg_path(o->graph, k);
			rc = p ? view_write(CMD, l, &lo, p, VIEW_GRAPH) : CMD_FAIL;
			free(p);
		}
		sf_ladder_free(*last);
		*last = l;
	}
	return rc;
}

int cmd_demo(int argc, char **argv)
{
	demo_opts_t o;
	int rc = parse(argc, argv, &o);
	if (rc != CMD_OK)
		return rc < 0 ? CMD_OK : rc;
	char dash[32];
	const char **outs[] = {&o.svg, &o.html, &o.graph, &o.pcap};
	const bool binary[] = {false, false, false, true};
	if (!cli_dash_output(CMD, outs, binary, 4, dash, sizeof dash))
		return CMD_USAGE;
	bool zh = o.lang == SF_LADDER_LANG_ZH;

	recorder_t rec = {0};
	tap_t taps[2] = {{&rec, 0}, {&rec, 1}};
	run_t r = {.scn = o.scn};

	/* Impairments, the same both ways. */
	sf_impair_t imp[2];
	for (int s = 0; s < 2; s++) {
		int64_t delay_us = (int64_t)(o.delay_ms * 1000.0 + 0.5);
		imp[s] = (sf_impair_t){.loss = o.loss,
		                       .reorder = o.reorder,
		                       .reorder_us = delay_us > 5000 ? delay_us : 5000,
		                       .delay_us = delay_us};
	}
	sf_config_t cfg;
	sf_config_default(&cfg);
	sf_simnet_opts_t so = {.seed = o.seed,
	                       .cfg = {&cfg, &cfg},
	                       .impair = {&imp[0], &imp[1]},
	                       .trace = {{record_event, &taps[0]}, {record_event, &taps[1]}},
	                       .pcap = {o.pcap, NULL}};
	if (o.scn->prepare)
		o.scn->prepare(&r.d, &so, imp);

	sf_simnet_t *net = NULL;
	int err = sf_simnet_create(&so, &net);
	if (err < 0) {
		if (o.pcap && err == SF_EINVAL)
			cli_error(CMD, "%s: cannot create the pcap file", o.pcap);
		else
			cli_error(CMD, "cannot create the simulation: %s", sf_strerror(err));
		free(rec.v);
		return CMD_FAIL;
	}
	r.d.net = net;
	r.d.delay_us = imp[0].delay_us;
	r.d.st[0] = sf_simnet_stack(net, 0);
	r.d.st[1] = sf_simnet_stack(net, 1);
	err = o.scn->start(&r.d);
	if (err < 0) {
		cli_error(CMD, "scenario %s: cannot start: %s", o.scn->name, sf_strerror(err));
		rc = CMD_FAIL;
	} else {
		bool ended = sf_simnet_run(net, run_step, &r, RUN_LIMIT_US);
		/* The ladder is still drawn (it shows how far the life got), and
		 * the exit status says it did not finish. */
		bool unfinished = !ended || r.stuck || r.d.failure;
		if (unfinished)
			fprintf(stderr,
			        "synfin demo: scenario %s did not finish%s%s (the ladder shows "
			        "how far it got)\n",
			        o.scn->name, r.d.failure ? ": " : "",
			        r.d.failure ? r.d.failure : "");
		if (rec.nomem) {
			cli_error(CMD, "out of memory while recording the trace");
			rc = CMD_FAIL;
		} else if (o.json) {
			rc = print_json(&rec);
			/* Every connection's counts; the last one's ladder is kept for
			 * the summary's final states. */
			int cnt = r.d.conn_cnt > 0 ? r.d.conn_cnt : 1;
			sf_ladder_t *l = NULL;
			seg_counts_t sc = {0, 0};
			for (int k = 0; k < cnt; k++) {
				sf_ladder_t *lk = build_ladder(&r, &rec, k);
				if (lk) {
					sc.segs += sf_ladder_seg_count(lk);
					sc.lost += sf_ladder_lost_count(lk);
				}
				if (k == cnt - 1)
					l = lk;
				else
					sf_ladder_free(lk);
			}
			if (rc == CMD_OK && l) {
				/* stdout is JSON only: the summary goes to stderr. */
				fflush(stdout);
				print_summary(stderr, &r, net, l, &sc, zh);
			}
			sf_ladder_free(l);
		} else {
			printf("synfin demo — %s: %s\n\n", o.scn->name,
			       zh ? o.scn->about_zh : o.scn->about_en);
			sf_ladder_t *last = NULL;
			seg_counts_t sc = {0, 0};
			rc = print_ladders(&r, &rec, &o, &last, &sc);
			if (rc == CMD_OK) {
				printf("\n");
				print_legend(zh, o.absolute, o.raw_win);
				print_summary(stdout, &r, net, last, &sc, zh);
			}
			sf_ladder_free(last);
		}
		if (unfinished && rc == CMD_OK)
			rc = CMD_FAIL;
	}
	if (o.scn->cleanup)
		o.scn->cleanup(&r.d);
	sf_simnet_destroy(net); /* closes the pcap file */
	free(rec.v);
	if (fflush(stdout) != 0 && rc == CMD_OK) {
		cli_error(CMD, "write error on standard output");
		rc = CMD_FAIL;
	}
	return rc;
}
