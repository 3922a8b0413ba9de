/* `synfin ladder FILE`: the ladder diagram of one TCP connection in a packet
 * capture (pcap or pcapng), with each side's state inferred by the ladder
 * model's shadow RFC 9293 state machine (include/synfin/ladder.h). With
 * several connections and no --conn, the first is drawn and the others are
 * listed on stderr, so the output on stdout is the diagram alone.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "synfin/ladder.h"
#include "views.h"

#define CMD "ladder"

static void help(void)
{
	printf("usage: synfin ladder FILE|- [--conn N] [--lang en|zh] [--svg OUT] [--absolute]\n"
	       "\n"
	       "Draws the ladder diagram of a TCP connection found in a pcap or pcapng file:\n"
	       "every segment as an arrow (flags, seq, ack, win, len, SYN options) with the\n"
	       "state of each side inferred from what it sent and received (RFC 9293).\n"
	       "\n"
	       "FILE - reads the capture from standard input; an OUT of - is standard output\n"
	       "(for one of --svg, --html, --graph; the text ladder is then not printed).\n"
	       "\n"
	       "options:\n"
	       "  --conn N       draw connection N (1-based, in order of first packet);\n"
	       "                 default: the first, and the others are listed on stderr\n"
	       "  --lang en|zh   language of the diagram (default en)\n"
	       "  --svg OUT      also write the diagram as SVG to OUT\n"
	       "  --html OUT     also write a page to step through it (self-contained HTML)\n"
	       "  --graph OUT    also write its time-sequence graph (SVG, tcptrace style)\n"
	       "  --absolute     raw 32-bit seq/ack instead of relative to each ISN\n"
	       "  --raw-win      win= the raw 16-bit field, not the window in bytes\n"
	       "  --full         every row of a long transfer (default: runs of plain\n"
	       "                 segments are collapsed into one line)\n"
	       "  --explain      after the diagram, one sentence for each state change and\n"
	       "                 notable segment, with the RFC rule (in --lang)\n"
	       "  -h, --help     this text\n"
	       "\n"
	       "Exit status: 0 drawn, 1 the file is unreadable, not a capture, or holds no\n"
	       "TCP connection, 2 bad usage.\n");
}

/* Lists every connection but the drawn one on stderr. */
static void list_others(const sf_capture_t *cap, size_t drawn)
{
	size_t n = sf_capture_conn_count(cap);
	fprintf(stderr, "synfin ladder: %zu TCP connections; drew #%zu; the others:\n", n,
	        drawn + 1);
	for (size_t i = 0; i < n; i++) {
		if (i == drawn)
			continue;
		sf_capture_conn_t c;
		char line[160];
		if (sf_capture_conn_get(cap, i, &c) < 0)
			continue;
		sf_capture_conn_format(&c, line, sizeof line);
		fprintf(stderr, "  --conn %zu  %s\n", i + 1, line);
	}
}

static int cmd_ladder_file(const char *file, const char *name, uint64_t conn, const char *svg,
                           const char *html, const char *graph, bool explain,
                           const sf_ladder_opts_t *opts);

int cmd_ladder(int argc, char **argv)
{
	const char *file = NULL, *svg = NULL, *html = NULL, *graph = NULL, *val;
	bool explain = false;
	uint64_t conn = 0; /* 0: not given */
	sf_ladder_opts_t o = {0};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int r;
		if (cli_is_help(a)) {
			help();
			return CMD_OK;
		} else if (cli_flag(a, "--absolute")) {
			o.seq = SF_LADDER_SEQ_ABSOLUTE;
		} else if (cli_flag(a, "--raw-win")) {
			o.raw_win = true;
		} else if (cli_flag(a, "--explain")) {
			explain = true;
		} else if (cli_flag(a, "--full")) {
			o.full = true;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--conn", &val)) != 0) {
			if (r < 0 || !cli_u64_in(CMD, "--conn", val, 1, SIZE_MAX, &conn))
				return CMD_USAGE;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--lang", &val)) != 0) {
			if (r < 0 || !view_lang(CMD, val, &o.lang))
				return CMD_USAGE;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--svg", &val)) != 0) {
			if (r < 0)
				return CMD_USAGE;
			svg = val;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--html", &val)) != 0) {
			if (r < 0)
				return CMD_USAGE;
			html = val;
		} else if ((r = cli_value(CMD, argc, argv, &i, "--graph", &val)) != 0) {
			if (r < 0)
				return CMD_USAGE;
			graph = val;
		} else if (a[0] == '-' && a[1] != '\0') {
			return cli_unknown(CMD, a);
		} else if (!file) {
			file = a;
		} else {
			return cli_unknown(CMD, a);
		}
	}
	if (!file) {
		cli_error(CMD, "no capture file given (try synfin ladder --help)");
		return CMD_USAGE;
	}

	/* "-": the capture comes on standard input. */
	char tmp_path[64];
	bool tmp = false;
	if (!cli_dash_input(CMD, &file, tmp_path, sizeof tmp_path, &tmp))
		return CMD_FAIL;
	char dash[32];
	const char **outs[] = {&svg, &html, &graph};
	const bool binary[] = {false, false, false};
	if (!cli_dash_output(CMD, outs, binary, 3, dash, sizeof dash)) {
		if (tmp)
			unlink(file);
		return CMD_USAGE;
	}
	int rc = cmd_ladder_file(file, tmp ? "standard input" : file, conn, svg, html, graph,
	                         explain, &o);
	if (tmp)
		unlink(file);
	return rc;
}

/* The rest of `synfin ladder`, once FILE is a file; NAME is how messages
 * call it ("standard input" for "-"). */
static int cmd_ladder_file(const char *file, const char *name, uint64_t conn, const char *svg,
                           const char *html, const char *graph, bool explain,
                           const sf_ladder_opts_t *opts)
{
	sf_ladder_opts_t o = *opts;
	o.width = cli_columns();
	/* Unreadable files get the system's reason, not the capture's. */
	FILE *probe = fopen(file, "rb");
	if (!probe) {
		cli_error(CMD, "%s: %s", name, strerror(errno));
		return CMD_FAIL;
	}
	fclose(probe);
	sf_capture_t *cap = NULL;
	int err = sf_capture_open(file, &cap);
	if (err < 0) {
		cli_error(CMD, "%s: %s", name, sf_ladder_strerror(err));
		return CMD_FAIL;
	}
	size_t n = sf_capture_conn_count(cap);
	size_t v6 = sf_capture_ipv6_tcp_count(cap);
	if (n == 0 && v6 > 0) {
		/* curl http://localhost/ goes to ::1 first: say why its capture
		 * shows nothing. */
		cli_error(
		        CMD,
		        "%s: no TCP over IPv4; its %zu TCP segment%s over IPv6 %s not read (synfin "
		        "is IPv4 only: capture curl -4, or 127.0.0.1 rather than localhost)",
		        name, v6, v6 == 1 ? "" : "s", v6 == 1 ? "is" : "are");
		sf_capture_close(cap);
		return CMD_FAIL;
	}
	if (n == 0) {
		cli_error(CMD, "%s: %s", name, sf_ladder_strerror(SF_ENOTCONN));
		sf_capture_close(cap);
		return CMD_FAIL;
	}
	if (conn > n) {
		cli_error(CMD, "%s: --conn %" PRIu64 ": the capture holds %zu connection%s", name,
		          conn, n, n == 1 ? "" : "s");
		sf_capture_close(cap);
		return CMD_USAGE;
	}
	size_t index = conn ? (size_t)conn - 1 : 0;
	if (sf_capture_truncated(cap))
		fprintf(stderr, "synfin ladder: %s: the capture ends in the middle of a record\n",
		        name);

	sf_ladder_t *l = NULL;
	err = sf_ladder_from_capture(cap, index, &l);
	if (err < 0) {
		sf_capture_close(cap);
		cli_error(CMD, "%s: %s", name, sf_ladder_strerror(err));
		return CMD_FAIL;
	}
	int rc = CMD_OK;
	err = sf_ladder_render_text(l, &o, stdout);
	if (err == 0 && explain) {
		printf("\n");
		err = sf_ladder_render_explain(l, &o, stdout);
	}
	if (err < 0) {
		cli_error(CMD, "%s", sf_ladder_strerror(err));
		rc = CMD_FAIL;
	}
	if (rc == CMD_OK && svg)
		rc = view_write(CMD, l, &o, svg, VIEW_SVG);
	if (rc == CMD_OK && html)
		rc = view_write(CMD, l, &o, html, VIEW_HTML);
	if (rc == CMD_OK && graph)
		rc = view_write(CMD, l, &o, graph, VIEW_GRAPH);
	sf_ladder_free(l);
	if (fflush(stdout) != 0 && rc == CMD_OK) {
		cli_error(CMD, "write error on standard output");
		rc = CMD_FAIL;
	}
	/* The other connections, once this one is drawn: a failure stays
	 * the one line on stderr. */
	if (rc == CMD_OK && !conn && n > 1)
		list_others(cap, index);
	sf_capture_close(cap);
	return rc;
}
