/* A one-request HTTP/1.1 client on the synfin socket API.
 *
 * sf_http_get_start() opens the connection and queues the request at once
 * (sf_send buffers it while the handshake runs); sf_http_client_poll() reads
 * and parses the response with llhttp. The body's end is found as RFC 9112
 * §6.3 says: no body for HEAD, 1xx, 204 and 304; else chunked, else
 * Content-Length, else the server's FIN. Interim 1xx responses are skipped
 * (RFC 9110 §15.2). When the response is complete the socket is closed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "llhttp.h"

#include "synfin/http.h"

#define RECV_CHUNK     16384
#define MAX_HEAD_BYTES 65536
#define MAX_HEADERS    256

typedef struct hdr_ref {
	size_t name, value;
} hdr_ref_t;

struct sf_http_client {
	sf_stack_t *st;
	sf_sock_t sock;
	uint32_t conn_id;
	bool sock_open;
	bool head_method;
	size_t max_body;
	int64_t timeout_us;
	int64_t last_us;
	bool clock_set;
	int result;

	char *req;
	size_t req_len, req_off;

	llhttp_t parser;
	int status;
	char *arena; /* header names and values, NUL-terminated */
	size_t arena_len, arena_cap;
	hdr_ref_t *hdrs;
	size_t hdr_cnt, hdr_cap;
	bool in_field;
	bool in_head;         /* trailer fields come after it and are not kept */
	size_t trailer_bytes; /* ... only counted (RFC 9110 §6.5.1) */
	uint8_t *body;
	size_t body_len, body_cap;
	int reject;
	bool complete;
	uint8_t *rbuf;
};

static bool grow(void **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return true;
	size_t n = *cap ? *cap : 256;
	while (n < need)
		n *= 2;
	void *p = realloc(*buf, n);
	if (!p)
		return false;
	*buf = p;
	*cap = n;
	return true;
}

static sf_http_client_t *client_of(llhttp_t *p)
{
	return p->data;
}

static int arena_add(sf_http_client_t *c, const char *at, size_t len)
{
	if (c->arena_len + len + 1 > MAX_HEAD_BYTES) {
		c->reject = SF_EMALFORMED;
		return -1;
	}
	if (!grow((void **)&c->arena, &c->arena_cap, c->arena_len + len + 1)) {
		c->reject = SF_ENOMEM;
		return -1;
	}
	memcpy(c->arena + c->arena_len, at, len);
	c->arena_len += len;
	return 0;
}

static int on_message_begin(llhttp_t *p)
{
	sf_http_client_t *c = client_of(p);
	c->arena_len = 0;
	c->hdr_cnt = 0;
	c->in_field = false;
	c->in_head = true;
	c->trailer_bytes = 0;
	c->body_len = 0;
	return 0;
}

/* Trailer fields are read and discarded, within the head limit. */
static int skip_trailer(sf_http_client_t *c, size_t len)
{
	c->trailer_bytes += len;
	if (c->trailer_bytes > MAX_HEAD_BYTES) {
		c->reject = SF_EMALFORMED;
		return -1;
	}
	return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
	sf_http_client_t *c = client_of(p);
	if (!c->in_head)
		return skip_trailer(c, len);
	if (!c->in_field) {
		if (c->hdr_cnt >= MAX_HEADERS) {
			c->reject = SF_EMALFORMED;
			return -1;
		}
		size_t cap = c->hdr_cap * sizeof *c->hdrs;
		if (!grow((void **)&c->hdrs, &cap, (c->hdr_cnt + 1) * sizeof *c->hdrs)) {
			c->reject = SF_ENOMEM;
			return -1;
		}
		c->hdr_cap = cap / sizeof *c->hdrs;
		c->hdrs[c->hdr_cnt].name = c->arena_len;
		c->hdrs[c->hdr_cnt].value = SIZE_MAX;
		c->hdr_cnt++;
		c->in_field = true;
	}
	return arena_add(c, at, len);
}

static int on_header_field_complete(llhttp_t *p)
{
	sf_http_client_t *c = client_of(p);
	if (!c->in_head)
		return 0;
	c->in_field = false;
	return arena_add(c, "", 1);
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
	sf_http_client_t *c = client_of(p);
	if (!c->in_head)
		return skip_trailer(c, len);
	if (!c->hdr_cnt)
		return -1;
	if (c->hdrs[c->hdr_cnt - 1].value == SIZE_MAX)
		c->hdrs[c->hdr_cnt - 1].value = c->arena_len;
	return arena_add(c, at, len);
}

static int on_header_value_complete(llhttp_t *p)
{
	sf_http_client_t *c = client_of(p);
	if (!c->in_head)
		return 0;
	if (!c->hdr_cnt)
		return -1;
	hdr_ref_t *h = &c->hdrs[c->hdr_cnt - 1];
	if (h->value == SIZE_MAX)
		h->value = c->arena_len;
	/* RFC 9110 §5.5: trailing whitespace is not part of the value. */
	while (c->arena_len > h->value &&
	       (c->arena[c->arena_len - 1] == ' ' || c->arena[c->arena_len - 1] == '\t'))
		c->arena_len--;
	return arena_add(c, "", 1);
}

static int on_headers_complete(llhttp_t *p)
{
	sf_http_client_t *c = client_of(p);
	c->in_head = false;
	c->status = p->status_code;
	/* RFC 9112 §6.3 (1): a response to HEAD has no body whatever it says. */
	if (c->head_method && c->status >= 200)
		return 1;
	if ((p->flags & F_CONTENT_LENGTH) && p->content_length > c->max_body) {
		c->reject = SF_ENOMEM;
		return -1;
	}
	return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
	sf_http_client_t *c = client_of(p);
	if (len > c->max_body - c->body_len) {
		c->reject = SF_ENOMEM;
		return -1;
	}
	if (!grow((void **)&c->body, &c->body_cap, c->body_len + len)) {
		c->reject = SF_ENOMEM;
		return -1;
	}
	memcpy(c->body + c->body_len, at, len);
	c->body_len += len;
	return 0;
}

static int on_message_complete(llhttp_t *p)
{
	sf_http_client_t *c = client_of(p);
	/* RFC 9110 §15.2: an interim response; the final one follows. */
	if (p->status_code < 200)
		return 0;
	c->complete = true;
	return HPE_PAUSED;
}

static const llhttp_settings_t response_settings = {
        .on_message_begin = on_message_begin,
        .on_header_field = on_header_field,
        .on_header_field_complete = on_header_field_complete,
        .on_header_value = on_header_value,
        .on_header_value_complete = on_header_value_complete,
        .on_headers_complete = on_headers_complete,
        .on_body = on_body,
        .on_message_complete = on_message_complete,
};

static bool text_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

sf_http_client_t *sf_http_get_start_ex(sf_stack_t *st, uint32_t addr, uint16_t port,
                                       const char *host, const char *path,
                                       const sf_http_client_options_t *opt)
{
	const char *method = opt && opt->method ? opt->method : "GET";
	if (!st || !path || path[0] != '/' || !text_ok(path) || (host && !text_ok(host)) ||
	    (strcmp(method, "GET") && strcmp(method, "HEAD")))
		return NULL;
	sf_http_client_t *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->st = st;
	c->result = SF_EAGAIN;
	c->head_method = !strcmp(method, "HEAD");
	c->max_body = opt && opt->max_body ? opt->max_body : (size_t)64 << 20;
	c->timeout_us = opt && opt->timeout_us ? opt->timeout_us : 30 * 1000000LL;
	char dotted[16];
	if (!host) {
		snprintf(dotted, sizeof dotted, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255,
		         (addr >> 8) & 255, addr & 255);
		host = dotted;
	}
	/* RFC 9112 §3: request line; RFC 9110 §7.2: Host is required in 1.1. */
	const char *conn = opt && opt->connection_close ? "Connection: close\r\n" : "";
	size_t cap = strlen(method) + strlen(path) + strlen(host) + strlen(conn) + 96;
	c->req = malloc(cap);
	c->rbuf = malloc(RECV_CHUNK);
	if (!c->req || !c->rbuf)
		goto fail;
	int n = snprintf(c->req, cap, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: synfin\r\n%s\r\n",
	                 method, path, host, conn);
	if (n < 0 || (size_t)n >= cap)
		goto fail;
	c->req_len = (size_t)n;
	llhttp_init(&c->parser, HTTP_RESPONSE, &response_settings);
	c->parser.data = c;
	c->sock = sf_socket(st);
	if (c->sock < 0)
		goto fail;
	c->sock_open = true;
	int rc = sf_connect(st, c->sock, addr, port);
	if (rc < 0 && rc != SF_EINPROGRESS)
		goto fail;
	c->conn_id = sf_sock_conn_id(st, c->sock);
	return c;
fail:
	sf_http_client_free(c);
	return NULL;
}

sf_http_client_t *sf_http_get_start(sf_stack_t *st, uint32_t addr, uint16_t port, const char *host,
                                    const char *path)
{
	return sf_http_get_start_ex(st, addr, port, host, path, NULL);
}

static int finish(sf_http_client_t *c, int result)
{
	c->result = result;
	if (c->sock_open) {
		/* Done: FIN (or, after a failure, RST so nothing lingers). */
		if (result == 0)
			sf_close(c->st, c->sock);
		else
			sf_abort(c->st, c->sock);
		c->sock_open = false;
	}
	return result;
}

int sf_http_client_poll(sf_http_client_t *c, int64_t now_us)
{
	if (!c)
		return SF_EINVAL;
	if (c->result != SF_EAGAIN)
		return c->result;
	if (!c->clock_set) {
		c->clock_set = true;
		c->last_us = now_us;
	}
	bool progress = false;
	while (c->req_off < c->req_len) {
		long w = sf_send(c->st, c->sock, c->req + c->req_off, c->req_len - c->req_off);
		if (w == SF_EAGAIN)
			break;
		if (w < 0)
			return finish(c, (int)w);
		c->req_off += (size_t)w;
		progress = true;
	}
	for (int i = 0; i < 1024; i++) {
		long r = sf_recv(c->st, c->sock, c->rbuf, RECV_CHUNK);
		if (r == SF_EAGAIN)
			break;
		if (r < 0)
			return finish(c, (int)r);
		progress = true;
		llhttp_errno_t e;
		if (r == 0)
			/* RFC 9112 §6.3 (8): the FIN ends a close-delimited body. */
			e = llhttp_finish(&c->parser);
		else
			e = llhttp_execute(&c->parser, (const char *)c->rbuf, (size_t)r);
		if (c->complete)
			return finish(c, 0);
		if (e != HPE_OK)
			return finish(c, c->reject ? c->reject : SF_EMALFORMED);
		if (r == 0)
			/* The server closed before a complete response. */
			return finish(c, c->status ? SF_EMALFORMED : SF_ECONNRESET);
	}
	if (progress)
		c->last_us = now_us;
	else if (c->timeout_us > 0 && now_us - c->last_us >= c->timeout_us)
		return finish(c, SF_ETIMEDOUT);
	return SF_EAGAIN;
}

int sf_http_client_status(const sf_http_client_t *c)
{
	return c ? c->status : 0;
}

const char *sf_http_client_header(const sf_http_client_t *c, const char *name)
{
	for (size_t i = 0; c && i < c->hdr_cnt; i++)
		if (!strcasecmp(c->arena + c->hdrs[i].name, name))
			return c->arena + c->hdrs[i].value;
	return NULL;
}

size_t sf_http_client_header_count(const sf_http_client_t *c)
{
	return c ? c->hdr_cnt : 0;
}

sf_http_header_t sf_http_client_header_at(const sf_http_client_t *c, size_t i)
{
	sf_http_header_t h = {NULL, NULL};
	if (c && i < c->hdr_cnt) {
		h.name = c->arena + c->hdrs[i].name;
		h.value = c->arena + c->hdrs[i].value;
	}
	return h;
}

const uint8_t *sf_http_client_body(const sf_http_client_t *c, size_t *len)
{
	if (len)
		*len = c ? c->body_len : 0;
	return c && c->body_len ? c->body : NULL;
}

sf_sock_t sf_http_client_sock(const sf_http_client_t *c)
{
	return c ? c->sock : SF_EBADF;
}

uint32_t sf_http_client_conn_id(const sf_http_client_t *c)
{
	return c ? c->conn_id : 0;
}

void sf_http_client_free(sf_http_client_t *c)
{
	if (!c)
		return;
	if (c->sock_open)
		sf_abort(c->st, c->sock);
	free(c->req);
	free(c->rbuf);
	free(c->arena);
	free(c->hdrs);
	free(c->body);
	free(c);
}
