/* The HTTP server on synfin's API, without a network: a server stack with
 * sf_http_server and a handler for dynamic pages, a client stack with
 * sf_http_get, joined by memory as in memory_pair.c. The client asks for
 * /hello and prints the answer.
 *
 *   cc http_memory.c $(pkg-config --cflags --libs synfin-http) && ./a.out
 */
#include <stdio.h>
#include <string.h>

#include <synfin/http.h>
#include <synfin/synfin.h>

#define SLOTS 64
static struct {
	uint8_t data[1500];
	size_t len;
} wire[2][SLOTS];
static int head[2], count[2];
static int ids[2] = {0, 1};

static int transmit(void *ctx, const uint8_t *frame, size_t len, int64_t now_us)
{
	int to = *(int *)ctx == 0 ? 1 : 0;
	(void)now_us;
	if (count[to] == SLOTS || len > sizeof wire[0][0].data)
		return SF_ENOBUFS;
	int slot = (head[to] + count[to]++) % SLOTS;
	memcpy(wire[to][slot].data, frame, len);
	wire[to][slot].len = len;
	return 0;
}

/* Dynamic pages: everything under /hello; the rest falls through (404). */
static int handler(void *ctx, const sf_http_request_t *req, sf_http_response_t *resp)
{
	(void)ctx;
	if (strncmp(req->path, "/hello", 6) != 0)
		return 1;
	char body[128];
	int n = snprintf(body, sizeof body, "hello from synfin, you asked for %s\n", req->path);
	sf_http_response_header(resp, "Content-Type", "text/plain");
	sf_http_response_write(resp, body, (size_t)n);
	return 0;
}

int main(void)
{
	sf_stack_t *st[2];
	int64_t now = 0;
	for (int i = 0; i < 2; i++) {
		sf_config_t cfg;
		sf_config_default(&cfg);
		cfg.addr = i == 0 ? 0xC0000201u : 0xC0000202u;
		cfg.seed = 7 + (uint64_t)i;
		cfg.transmit = transmit;
		cfg.transmit_ctx = &ids[i];
		if (sf_stack_create(&cfg, now, &st[i]) < 0)
			return 1;
	}
	sf_http_server_config_t hc;
	sf_http_server_config_default(&hc);
	hc.port = 80;
	hc.handler = handler;
	sf_http_server_t *srv = sf_http_server_new(st[1], &hc);
	sf_http_client_t *get = sf_http_get_start(st[0], 0xC0000202u, 80, "example", "/hello");
	if (!srv || !get)
		return 1;
	int rc = SF_EAGAIN;
	for (int iter = 0; iter < 10000 && rc == SF_EAGAIN; iter++) {
		for (int i = 0; i < 2; i++)
			while (count[i]) {
				int slot = head[i];
				head[i] = (head[i] + 1) % SLOTS;
				count[i]--;
				sf_stack_input(st[i], wire[i][slot].data, wire[i][slot].len, now);
			}
		sf_http_server_poll(srv, now);
		rc = sf_http_client_poll(get, now);
		for (int i = 0; i < 2; i++)
			sf_stack_poll(st[i], now);
		if (!count[0] && !count[1]) { /* idle: jump to the next deadline */
			int64_t next = sf_stack_next_deadline(st[0]);
			if (sf_stack_next_deadline(st[1]) < next)
				next = sf_stack_next_deadline(st[1]);
			if (next != INT64_MAX && next > now)
				now = next;
		}
	}
	size_t len = 0;
	const uint8_t *body = sf_http_client_body(get, &len);
	int status = sf_http_client_status(get);
	printf("HTTP %d, %s: %.*s", status, sf_http_client_header(get, "Content-Type"), (int)len,
	       (const char *)body);
	int ok = rc == 0 && status == 200 && len > 0 && memcmp(body, "hello from synfin", 17) == 0;
	sf_http_client_free(get);
	sf_http_server_free(srv);
	sf_stack_destroy(st[0]);
	sf_stack_destroy(st[1]);
	return ok ? 0 : 1;
}
