/* An HTTP/1.1 client on the synfin socket API: one connection, one request
 * at a time, and more on the same connection when asked (keep_open +
 * sf_http_client_again, RFC 9112 §9.3).
 *
 * sf_http_get_start() opens the connection and queues the request at once
 * (sf_send buffers it while the handshake runs); sf_http_client_poll() reads
 * and parses the response with llhttp. The body's end is found as RFC 9112
 * §6.3 says: no body for HEAD, 1xx, 204 and 304; else chunked, else
 * Content-Length, else the server's FIN. Interim 1xx responses are skipped
 * (RFC 9110 §15.2). The body is kept, or handed to on_body as it arrives;
 * a connection closed before the announced end is SF_ETRUNCATED, with the
 * byte counts kept. When the response is complete the socket is closed
 * unless it is to be reused.
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
	bool keep_open, reusable;
	bool conn_close; /* we asked for Connection: close */
	char *host;      /* Host field value, owned */
	sf_http_body_fn on_body;
	void *body_ctx;
	bool body_refused;
	uint64_t received; /* body bytes of the current response */
	size_t max_body;
	int64_t timeout_us;
	int64_t last_us;
	bool clock_set;
	int result;

	char *req;
	size_t req_len, req_off;

	llhttp_t parser;
	int status;
	uint8_t ver_major, ver_minor; /* of the status line, as received */
	char reason[64];              /* its reason phrase, cut at 63 bytes */
	size_t reason_len;
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
	size_t pend_off, pend_len; /* bytes read past the last response */
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
	c->received = 0;
	c->reason_len = 0;
	c->reason[0] = '\0';
	return 0;
}

/* The reason phrase may come in pieces; it is kept for display only
 * (RFC 9112 §4: a client should ignore its content). */
static int on_status(llhttp_t *p, const char *at, size_t len)
{
	sf_http_client_t *c = client_of(p);
	size_t room = sizeof c->reason - 1 - c->reason_len;
	if (len > room)
		len = room;
	memcpy(c->reason + c->reason_len, at, len);
	c->reason_len += len;
	c->reason[c->reason_len] = '\0';
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
	c->ver_major = p->http_major;
	c->ver_minor = p->http_minor;
	/* RFC 9112 §6.3 (1): a response to HEAD has no body whatever it says. */
	if (c->head_method && c->status >= 200)
		return 1;
	if (!c->on_body && (p->flags & F_CONTENT_LENGTH) && p->content_length > c->max_body) {
		c->reject = SF_ENOMEM;
		return -1;
	}
	return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
	sf_http_client_t *c = client_of(p);
	c->received += len;
	if (c->on_body) {
		/* Interim responses carry no body; the final one streams out. */
		if (c->on_body(c->body_ctx, (const uint8_t *)at, len) != 0) {
			c->body_refused = true;
			return -1;
		}
		return 0;
	}
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
        .on_status = on_status,
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

/* Builds the request in c->req. Returns 0 or SF_EINVAL / SF_ENOMEM. */
static int build_request(sf_http_client_t *c, const char *method, const char *path)
{
	if (!path || path[0] != '/' || !text_ok(path) ||
	    (strcmp(method, "GET") && strcmp(method, "HEAD")))
		return SF_EINVAL;
	/* RFC 9112 §3: request line; RFC 9110 §7.2: Host is required in 1.1. */
	const char *conn = c->conn_close ? "Connection: close\r\n" : "";
	size_t cap = strlen(method) + strlen(path) + strlen(c->host) + strlen(conn) + 96;
	char *req = malloc(cap);
	if (!req)
		return SF_ENOMEM;
	int n = snprintf(req, cap, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: synfin\r\n%s\r\n",
	                 method, path, c->host, conn);
	if (n < 0 || (size_t)n >= cap) {
		free(req);
		return SF_EINVAL;
	}
	free(c->req);
	c->req = req;
	c->req_len = (size_t)n;
	c->req_off = 0;
	c->head_method = !strcmp(method, "HEAD");
	return 0;
}

sf_http_client_t *sf_http_get_start_ex(sf_stack_t *st, uint32_t addr, uint16_t port,
                                       const char *host, const char *path,
                                       const sf_http_client_options_t *opt)
{
	const char *method = opt && opt->method ? opt->method : "GET";
	if (!st || (host && !text_ok(host)))
		return NULL;
	sf_http_client_t *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->st = st;
	c->result = SF_EAGAIN;
	c->max_body = opt && opt->max_body ? opt->max_body : (size_t)64 << 20;
	c->timeout_us = opt && opt->timeout_us ? opt->timeout_us : 30 * 1000000LL;
	c->on_body = opt ? opt->on_body : NULL;
	c->body_ctx = opt ? opt->body_ctx : NULL;
	c->keep_open = opt && opt->keep_open;
	c->conn_close = opt && opt->connection_close;
	char dotted[32];
	if (!host) {
		/* RFC 9110 §7.2: Host is uri-host [":" port]; the port goes when
		 * it is not the scheme's default. */
		int n = snprintf(dotted, sizeof dotted, "%u.%u.%u.%u", addr >> 24,
		                 (addr >> 16) & 255, (addr >> 8) & 255, addr & 255);
		if (port != 80)
			snprintf(dotted + n, sizeof dotted - (size_t)n, ":%u", port);
		host = dotted;
	}
	c->host = strdup(host);
	c->rbuf = malloc(RECV_CHUNK);
	if (!c->host || !c->rbuf || build_request(c, method, path) < 0)
		goto fail;
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

bool sf_http_client_reusable(const sf_http_client_t *c)
{
	return c && c->reusable && c->sock_open;
}

int sf_http_client_again(sf_http_client_t *c, const char *method, const char *path)
{
	if (!sf_http_client_reusable(c))
		return SF_ENOTCONN;
	int rc = build_request(c, method ? method : (c->head_method ? "HEAD" : "GET"), path);
	if (rc < 0)
		return rc;
	c->result = SF_EAGAIN;
	c->reusable = false;
	c->complete = false;
	c->status = 0;
	c->arena_len = c->hdr_cnt = c->body_len = 0;
	c->received = 0;
	c->clock_set = false;
	llhttp_init(&c->parser, HTTP_RESPONSE, &response_settings);
	c->parser.data = c;
	return 0;
}

uint64_t sf_http_client_received(const sf_http_client_t *c)
{
	return c ? c->received : 0;
}

int64_t sf_http_client_expected(const sf_http_client_t *c)
{
	if (!c || !c->status || c->head_method || !(c->parser.flags & F_CONTENT_LENGTH))
		return -1;
	/* llhttp counts content_length down as the body arrives. */
	return (int64_t)(c->received + c->parser.content_length);
}

sf_http_client_t *sf_http_get_start(sf_stack_t *st, uint32_t addr, uint16_t port, const char *host,
                                    const char *path)
{
	return sf_http_get_start_ex(st, addr, port, host, path, NULL);
}

static int finish(sf_http_client_t *c, int result)
{
	c->result = result;
	/* RFC 9112 §9.3: the connection persists unless either side said close. */
	if (result == 0 && c->keep_open && !c->conn_close && c->sock_open &&
	    llhttp_should_keep_alive(&c->parser)) {
		c->reusable = true;
		return 0;
	}
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
		const uint8_t *data = c->rbuf;
		long r;
		if (c->pend_len) {
			/* Bytes that came after the previous response. */
			data = c->rbuf + c->pend_off;
			r = (long)c->pend_len;
			c->pend_len = 0;
		} else {
			r = sf_recv(c->st, c->sock, c->rbuf, RECV_CHUNK);
			if (r == SF_EAGAIN)
				break;
			if (r < 0)
				return finish(c, c->status ? SF_ETRUNCATED : (int)r);
		}
		progress = true;
		llhttp_errno_t e;
		if (r == 0)
			/* RFC 9112 §6.3 (8): the FIN ends a close-delimited body. */
			e = llhttp_finish(&c->parser);
		else
			e = llhttp_execute(&c->parser, (const char *)data, (size_t)r);
		if (c->complete) {
			if (e == HPE_PAUSED && r > 0) {
				const uint8_t *stop =
				        (const uint8_t *)llhttp_get_error_pos(&c->parser);
				if (stop >= data && stop < data + r) {
					c->pend_off = (size_t)(stop - c->rbuf);
					c->pend_len = (size_t)(data + r - stop);
				}
			}
			return finish(c, 0);
		}
		if (c->body_refused)
			return finish(c, SF_ECONNABORTED);
		if (e != HPE_OK)
			return finish(c, c->reject             ? c->reject
			                 : r == 0 && c->status ? SF_ETRUNCATED
			                                       : SF_EMALFORMED);
		if (r == 0)
			/* The server closed before a complete response. */
			return finish(c, c->status ? SF_ETRUNCATED : SF_ECONNRESET);
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

const char *sf_http_client_reason(const sf_http_client_t *c)
{
	return c && c->status ? c->reason : "";
}

void sf_http_client_version(const sf_http_client_t *c, int *major, int *minor)
{
	*major = c && c->status ? c->ver_major : 0;
	*minor = c && c->status ? c->ver_minor : 0;
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
	/* A kept-open connection between requests closes politely (FIN);
	 * anything else is aborted. */
	if (c->sock_open && c->reusable && c->result == 0)
		sf_close(c->st, c->sock);
	else if (c->sock_open)
		sf_abort(c->st, c->sock);
	free(c->req);
	free(c->host);
	free(c->rbuf);
	free(c->arena);
	free(c->hdrs);
	free(c->body);
	free(c);
}
