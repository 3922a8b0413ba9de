/* Fuzz target for the HTTP server's request layer (src/app/http_session.c),
 * driven without sockets: the input is one client byte stream.
 *
 * Input: byte 0 picks how the stream is cut into feeds (1..255 bytes each, 0:
 * all at once), so every llhttp callback also sees split spans; the rest is
 * the stream. Limits are small (1 KiB head, 8 headers, 2 KiB body) to reach
 * 413 and 431. A handler answers /echo with the request body and falls
 * through otherwise (no document root: 404/405). Oracles, each abort()s:
 *  - progress: a feed that consumes nothing leaves output to drain, or the
 *    session is finished; the stream is always used up in bounded steps;
 *  - the handler only ever sees a path starting with '/', without ".."
 *    segments or NUL bytes, within the header and body limits;
 *  - every response starts with "HTTP/1.1 " and a 3-digit status, and the
 *    output holds exactly as many status lines as the stats count responses
 *    (an echoed body could fake one, so /echo bodies are checked to not
 *    contain "HTTP/1.1 ").
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/http_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

static const uint8_t *find(const uint8_t *h, size_t hl, const char *n)
{
	size_t nl = strlen(n);
	for (size_t i = 0; i + nl <= hl; i++)
		if (!memcmp(h + i, n, nl))
			return h + i;
	return NULL;
}

static int handler(void *ctx, const sf_http_request_t *req, sf_http_response_t *resp)
{
	const sf_http_server_config_t *cfg = ctx;
	CHECK(req->path[0] == '/');
	size_t pl = strlen(req->path);
	CHECK(!strstr(req->path, "/../") && (pl < 3 || strcmp(req->path + pl - 3, "/..")));
	CHECK(req->header_cnt <= cfg->max_headers);
	CHECK(req->body_len <= cfg->max_body);
	CHECK(req->method && req->target && req->query);
	for (size_t i = 0; i < req->header_cnt; i++)
		CHECK(req->headers[i].name && req->headers[i].value);
	if (strcmp(req->path, "/echo"))
		return 1;
	if (req->body_len && find(req->body, req->body_len, "HTTP/1.1 "))
		return 1;
	sf_http_response_header(resp, "Content-Type", "application/octet-stream");
	sf_http_response_write(resp, req->body, req->body_len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t cut = data[0];
	data++;
	size--;
	sf_http_server_config_t cfg;
	sf_http_server_config_default(&cfg);
	cfg.max_header_bytes = 1024;
	cfg.max_headers = 8;
	cfg.max_body = 2048;
	cfg.handler = handler;
	cfg.handler_ctx = &cfg;
	sf_http_server_stats_t stats = {0};
	sf_http_session_t *s = sf_http_session_new(&cfg, &stats);
	CHECK(s);

	size_t out_cap = 1 << 16, out_len = 0;
	uint8_t *out = malloc(out_cap);
	CHECK(out);
	size_t pos = 0;
	uint64_t lines = 0;
	for (size_t steps = 0; pos < size; steps++) {
		CHECK(steps < 4 * size + 16);
		size_t n = size - pos;
		if (cut && n > cut)
			n = cut;
		size_t used = sf_http_session_feed(s, data + pos, n);
		CHECK(used <= n);
		pos += used;
		if (!used)
			CHECK(sf_http_session_output_pending(s) || sf_http_session_done(s));
		const uint8_t *p;
		size_t k;
		while ((k = sf_http_session_peek(s, &p)) > 0) {
			/* Keep only the first 64 KiB of output for the checks. */
			size_t take = out_cap - out_len < k ? out_cap - out_len : k;
			memcpy(out + out_len, p, take);
			out_len += take;
			sf_http_session_consume(s, k);
		}
		CHECK(!sf_http_session_output_pending(s));
	}
	if (sf_http_session_timeout(s)) {
		const uint8_t *p;
		size_t k;
		while ((k = sf_http_session_peek(s, &p)) > 0) {
			size_t take = out_cap - out_len < k ? out_cap - out_len : k;
			memcpy(out + out_len, p, take);
			out_len += take;
			sf_http_session_consume(s, k);
		}
	}
	CHECK(sf_http_session_done(s));
	if (out_len) {
		CHECK(out_len >= 12 && !memcmp(out, "HTTP/1.1 ", 9));
		CHECK(out[9] >= '1' && out[9] <= '5' && out[10] >= '0' && out[10] <= '9');
	}
	if (out_len < out_cap) {
		for (const uint8_t *h = out;
		     (h = find(h, out_len - (size_t)(h - out), "HTTP/1.1 ")); h++)
			if (h[9] != '1') /* 100 Continue is not counted */
				lines++;
		CHECK(lines == stats.requests);
	}
	sf_http_session_free(s);
	free(out);
	return 0;
}
