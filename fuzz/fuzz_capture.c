/* Fuzz target for the capture reader behind `synfin ladder` (sf_capture_open,
 * sf_ladder_from_capture and the text and SVG renderers).
 *
 * Input: the bytes of a capture file (pcap or pcapng, possibly cut short or
 * corrupted). sf_capture_open takes a path, so the input is written to a
 * temporary file made with mkstemp under /tmp, opened, and every connection
 * found is turned into a ladder and rendered (English text, Chinese text with
 * absolute sequence numbers, SVG with symbolic ones) to /dev/null. Oracles,
 * each abort()s on a mismatch:
 *  - sf_capture_open returns 0 (with a capture) or one of its documented
 *    errors;
 *  - the counters agree: skipped <= packets, and the segments of all
 *    connections add up to no more than the TCP packets read;
 *  - every listed connection can be read back, and sf_ladder_from_capture
 *    succeeds for it (or runs out of memory), rendering returns 0 and the
 *    ladder never has more lost arrows than arrows.
 * ASan/UBSan catch the rest. Everything is freed and the file unlinked.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synfin/error.h"
#include "synfin/ladder.h"

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

/* Writes the input to a new temporary file; returns its fd or -1. */
static int write_temp(const uint8_t *in, size_t size, char *path)
{
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off < size) {
		ssize_t n = write(fd, in + off, size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			unlink(path);
			return -1;
		}
		off += (size_t)n;
	}
	return fd;
}

/* Builds and renders the ladder of connection `i` in three styles. */
static void render_conn(const sf_capture_t *cap, size_t i, FILE *null)
{
	sf_capture_conn_t conn;
	CHECK(sf_capture_conn_get(cap, i, &conn) == 0);
	char line[160];
	int len = sf_capture_conn_format(&conn, line, sizeof line);
	CHECK(len >= 0);
	CHECK(strlen(line) == ((size_t)len < sizeof line ? (size_t)len : sizeof line - 1));

	sf_ladder_t *l = NULL;
	int err = sf_ladder_from_capture(cap, i, &l);
	if (err == SF_ENOMEM)
		return;
	CHECK(err == 0 && l != NULL);
	CHECK(sf_ladder_lost_count(l) <= sf_ladder_seg_count(l));

	sf_ladder_opts_t en = {0};
	sf_ladder_opts_t zh = {.lang = SF_LADDER_LANG_ZH, .seq = SF_LADDER_SEQ_ABSOLUTE};
	sf_ladder_opts_t svg = {.seq = SF_LADDER_SEQ_SYMBOLIC, .hide_options = true};
	err = sf_ladder_render_text(l, &en, null);
	CHECK(err == 0 || err == SF_ENOMEM);
	err = sf_ladder_render_text(l, &zh, null);
	CHECK(err == 0 || err == SF_ENOMEM);
	err = sf_ladder_render_svg(l, &svg, null);
	CHECK(err == 0 || err == SF_ENOMEM);
	(void)sf_ladder_final_state(l, 0);
	(void)sf_ladder_final_state(l, 1);
	sf_ladder_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	char path[] = "/tmp/synfin-fuzz-capture-XXXXXX";
	int fd = write_temp(in, size, path);
	if (fd < 0)
		return 0;
	close(fd);

	sf_capture_t *cap = NULL;
	int err = sf_capture_open(path, &cap);
	unlink(path);
	if (err != 0) {
		CHECK(err == SF_EMALFORMED || err == SF_ENOTSUP || err == SF_ENOMEM ||
		      err == SF_EINVAL);
		CHECK(sf_ladder_strerror(err) != NULL);
		return 0;
	}
	CHECK(cap != NULL);

	size_t pkts = sf_capture_pkt_count(cap);
	size_t skipped = sf_capture_skipped_count(cap);
	CHECK(skipped <= pkts);
	(void)sf_capture_truncated(cap);

	size_t n = sf_capture_conn_count(cap);
	size_t segs = 0;
	sf_capture_conn_t conn;
	CHECK(sf_capture_conn_get(cap, n, &conn) == SF_EINVAL);
	if (n == 0) {
		sf_ladder_t *l = NULL;
		CHECK(sf_ladder_from_capture(cap, 0, &l) == SF_ENOTCONN);
	}

	FILE *null = fopen("/dev/null", "w");
	for (size_t i = 0; i < n; i++) {
		CHECK(sf_capture_conn_get(cap, i, &conn) == 0);
		CHECK(conn.pkt_cnt > 0);
		segs += conn.pkt_cnt;
		if (null)
			render_conn(cap, i, null);
	}
	CHECK(segs <= pkts - skipped);
	if (null)
		fclose(null);
	sf_capture_close(cap);
	return 0;
}
