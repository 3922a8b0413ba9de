/* The HTTP/1.1 server's per-connection session, without sockets: request
 * bytes in, response bytes out.
 *
 * llhttp parses the stream (RFC 9112 message syntax: request line, header
 * fields, Content-Length and chunked bodies). The callbacks copy the target
 * and header fields into one arena bounded by max_header_bytes and the body
 * into a buffer bounded by max_body. When a request is complete it is
 * answered at once (handler, static file, or an error) and parsing pauses
 * until the response has been drained, so pipelined requests are answered
 * strictly in order (RFC 9112 §9.3.2) and a client that does not read cannot
 * make us buffer more than one response. Static file bodies are streamed from
 * the file in 16 KiB blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "llhttp.h"

#include "app/http_int.h"

#define STAGE_CAP   16384
#define VALUE_UNSET SIZE_MAX

struct sf_http_response {
	int status;
	char *hdr; /* extra header lines, each "Name: value\r\n" */
	size_t hdr_len, hdr_cap;
	uint8_t *body;
	size_t body_len, body_cap;
	bool has_type;
};

typedef struct hdr_ref {
	size_t name, value; /* offsets into the arena */
} hdr_ref_t;

struct sf_http_session {
	const sf_http_server_config_t *cfg;
	sf_http_server_stats_t *stats;
	uint32_t conn_id, peer_addr; /* the connection, when known */
	uint16_t peer_port;
	llhttp_t parser;

	/* The request being received. */
	char *arena; /* target, then header names and values, NUL-terminated */
	size_t arena_len, arena_cap;
	hdr_ref_t *hdrs;
	uint32_t hdr_cnt, hdr_cap;
	bool in_field;            /* inside a header name (a new one starts otherwise) */
	bool in_message, in_head; /* a request has begun / its head is not complete */
	bool begun_here;          /* the request began in the current feed */
	bool target_done;         /* the request-target is complete (414 before, 431 after) */
	const char *head_start;   /* its first target byte, when in the current feed */
	size_t head_raw;          /* head bytes seen in earlier feeds */
	size_t trailer_bytes;     /* chunked trailer fields (counted, not kept) */
	uint8_t *body;
	size_t body_len, body_cap;
	int reject; /* status a callback refused the request with (413, 431) */
	bool paused, done;
	uint32_t served;

	/* Output: response heads and in-memory bodies, then a file body. */
	uint8_t *out;
	size_t out_len, out_off, out_cap;
	int fd;
	uint64_t file_left;
	uint8_t *stage;
	size_t stage_len, stage_off;
};

void sf_http_config_fill(sf_http_server_config_t *cfg)
{
	if (!cfg->port)
		cfg->port = 80;
	if (!cfg->index)
		cfg->index = "index.html";
	if (!cfg->max_header_bytes)
		cfg->max_header_bytes = 8192;
	if (!cfg->max_headers)
		cfg->max_headers = 64;
	if (!cfg->max_body)
		cfg->max_body = 1u << 20;
	if (!cfg->max_conns)
		cfg->max_conns = 10000;
	if (cfg->backlog <= 0)
		cfg->backlog = 1024;
	if (cfg->header_timeout_us <= 0)
		cfg->header_timeout_us = 10 * 1000000LL;
	if (cfg->body_timeout_us <= 0)
		cfg->body_timeout_us = 10 * 1000000LL;
	if (!cfg->min_body_rate)
		cfg->min_body_rate = 1024;
	if (cfg->keepalive_timeout_us <= 0)
		cfg->keepalive_timeout_us = 15 * 1000000LL;
	if (cfg->send_timeout_us <= 0)
		cfg->send_timeout_us = 30 * 1000000LL;
	if (!cfg->max_keepalive)
		cfg->max_keepalive = 1000;
}

void sf_http_server_config_default(sf_http_server_config_t *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	sf_http_config_fill(cfg);
}

/* ---- response objects (the handler's side) ---- */

static bool grow(void **buf, size_t *cap, size_t need, size_t limit)
{
	if (need <= *cap)
		return true;
	if (need > limit)
		return false;
	size_t n = *cap ? *cap : 256;
	while (n < need)
		n = n > SIZE_MAX / 2 ? need : n * 2;
	if (n > limit)
		n = limit;
	void *p = realloc(*buf, n);
	if (!p)
		return false;
	*buf = p;
	*cap = n;
	return true;
}

int sf_http_response_status(sf_http_response_t *resp, int status)
{
	if (!resp || status < 200 || status > 599)
		return SF_EINVAL;
	resp->status = status;
	return 0;
}

static bool token_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s == ':' || *s == 0x7f)
			return false;
	return true;
}

int sf_http_response_header(sf_http_response_t *resp, const char *name, const char *value)
{
	if (!resp || !name || !value || !token_ok(name) || strpbrk(value, "\r\n"))
		return SF_EINVAL;
	/* The server owns message framing (RFC 9112 §6). */
	if (!strcasecmp(name, "Content-Length") || !strcasecmp(name, "Transfer-Encoding") ||
	    !strcasecmp(name, "Connection"))
		return SF_EINVAL;
	size_t nl = strlen(name), vl = strlen(value);
	if (!grow((void **)&resp->hdr, &resp->hdr_cap, resp->hdr_len + nl + vl + 4, SIZE_MAX))
		return SF_ENOMEM;
	char *p = resp->hdr + resp->hdr_len;
	memcpy(p, name, nl);
	memcpy(p + nl, ": ", 2);
	memcpy(p + nl + 2, value, vl);
	memcpy(p + nl + 2 + vl, "\r\n", 2);
	resp->hdr_len += nl + vl + 4;
	if (!strcasecmp(name, "Content-Type"))
		resp->has_type = true;
	return 0;
}

int sf_http_response_write(sf_http_response_t *resp, const void *data, size_t len)
{
	if (!resp || (!data && len))
		return SF_EINVAL;
	if (!len)
		return 0;
	if (!grow((void **)&resp->body, &resp->body_cap, resp->body_len + len, SIZE_MAX))
		return SF_ENOMEM;
	memcpy(resp->body + resp->body_len, data, len);
	resp->body_len += len;
	return 0;
}

const char *sf_http_request_header(const sf_http_request_t *req, const char *name)
{
	for (size_t i = 0; req && i < req->header_cnt; i++)
		if (!strcasecmp(req->headers[i].name, name))
			return req->headers[i].value;
	return NULL;
}

/* ---- output ---- */

static const char *reason_phrase(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 206:
		return "Partial Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 416:
		return "Range Not Satisfiable";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return status < 300   ? "OK"
		       : status < 400 ? "Redirect"
		       : status < 500 ? "Error"
		                      : "Server Error";
	}
}

static bool out_add(sf_http_session_t *s, const void *p, size_t n)
{
	if (!grow((void **)&s->out, &s->out_cap, s->out_len + n, SIZE_MAX))
		return false;
	memcpy(s->out + s->out_len, p, n);
	s->out_len += n;
	return true;
}

static void count_status(sf_http_session_t *s, int status)
{
	sf_http_server_stats_t *st = s->stats;
	st->requests++;
	if (status < 300)
		st->status_2xx++;
	else if (status < 400)
		st->status_3xx++;
	else if (status < 500)
		st->status_4xx++;
	else
		st->status_5xx++;
	switch (status) {
	case 400:
		st->status_400++;
		break;
	case 404:
		st->status_404++;
		break;
	case 405:
		st->status_405++;
		break;
	case 206:
		st->status_206++;
		break;
	case 304:
		st->status_304++;
		break;
	case 416:
		st->status_416++;
		break;
	case 408:
		st->status_408++;
		break;
	case 413:
		st->status_413++;
		break;
	case 431:
		st->status_431++;
		break;
	case 414:
		st->status_414++;
		break;
	default:
		break;
	}
}

/* Queues one response: status line, our headers, extra lines, and body
 * (unless head_only). clen is the body length a GET would carry; body may be
 * NULL when a file descriptor supplies it. Closes the session on OOM. */
static bool emit(sf_http_session_t *s, int status, const char *ctype, const char *extra,
                 size_t extra_len, const uint8_t *body, uint64_t clen, bool head_only,
                 bool keep_alive)
{
	size_t mark = s->out_len;
	char line[256];
	int n = snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\nServer: synfin\r\n", status,
	                 reason_phrase(status));
	bool ok = out_add(s, line, (size_t)n);
	/* RFC 9110 §6.6.1: an origin server with a clock sends Date. */
	if (!s->cfg->no_date) {
		char date[SF_HTTP_DATE_LEN];
		size_t dl = sf_http_date(date, (int64_t)time(NULL));
		ok = ok && (!dl || (out_add(s, "Date: ", 6) && out_add(s, date, dl) &&
		                    out_add(s, "\r\n", 2)));
	}
	/* RFC 9110 §8.6: no Content-Length in 1xx and 204; 304 repeats no body. */
	bool bodyless = status == 204 || status == 304;
	if (!bodyless) {
		n = snprintf(line, sizeof line, "Content-Length: %llu\r\n",
		             (unsigned long long)clen);
		ok = ok && out_add(s, line, (size_t)n);
		if (ctype) {
			n = snprintf(line, sizeof line, "Content-Type: %s\r\n", ctype);
			ok = ok && out_add(s, line, (size_t)n);
		}
	}
	if (extra_len)
		ok = ok && out_add(s, extra, extra_len);
	/* RFC 9112 §9.6 close; §9.3 HTTP/1.0 persistence needs keep-alive said. */
	if (!keep_alive)
		ok = ok && out_add(s, "Connection: close\r\n", 19);
	else if (s->parser.http_major == 1 && s->parser.http_minor == 0)
		ok = ok && out_add(s, "Connection: keep-alive\r\n", 24);
	ok = ok && out_add(s, "\r\n", 2);
	if (body && !head_only && !bodyless)
		ok = ok && out_add(s, body, (size_t)clen);
	if (!ok) {
		s->out_len = mark;
		s->done = true;
		return false;
	}
	count_status(s, status);
	if (!keep_alive)
		s->done = true;
	return true;
}

static void emit_error(sf_http_session_t *s, int status, const char *extra, bool head_only,
                       bool keep_alive)
{
	char page[160];
	int n = snprintf(page, sizeof page,
	                 "<!doctype html>\n<title>%d %s</title>\n<h1>%d %s</h1>\n", status,
	                 reason_phrase(status), status, reason_phrase(status));
	emit(s, status, "text/html; charset=utf-8", extra, extra ? strlen(extra) : 0,
	     (const uint8_t *)page, (uint64_t)n, head_only, keep_alive);
}

/* A request the parser or a limit refused: answer and close (RFC 9112 §9.6,
 * the stream can no longer be framed). */
static void fail(sf_http_session_t *s, int status)
{
	if (s->done)
		return;
	emit_error(s, status, NULL, false, false);
	s->done = true;
	s->in_message = false;
}

/* ---- the request path ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Splits the target into a decoded path (malloc'd) and the query. Returns the
 * status to refuse the request with, or 0. RFC 9112 §3.2: origin-form or
 * absolute-form; RFC 3986 §2.1 percent-encoding. */
static int split_target(const char *target, char **path_out, const char **query)
{
	const char *p = target;
	if (!strncasecmp(p, "http://", 7) || !strncasecmp(p, "https://", 8)) {
		p = strstr(p, "//") + 2;
		p += strcspn(p, "/?#");
	}
	if (*p != '/' && *p != '\0')
		return !strcmp(p, "*") ? 405 : 400;
	size_t plen = strcspn(p, "?#");
	*query = p[plen] == '?' ? p + plen + 1 : "";
	char *out = malloc(plen + 2);
	if (!out)
		return 500;
	size_t o = 0;
	if (*p != '/')
		out[o++] = '/';
	for (size_t i = 0; i < plen; i++) {
		char c = p[i];
		if (c == '%') {
			int hi = i + 2 < plen ? hexval(p[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(p[i + 2]) : -1;
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return 400;
			}
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	/* Path traversal: no ".." segment after decoding (RFC 3986 §5.2.4 would
	 * resolve it above the root; we refuse instead). Backslashes likewise. */
	for (const char *seg = out; seg; seg = strchr(seg + 1, '/')) {
		const char *b = seg + 1;
		size_t sl = strcspn(b, "/");
		if (sl == 2 && b[0] == '.' && b[1] == '.') {
			free(out);
			return 400;
		}
	}
	if (strchr(out, '\\')) {
		free(out);
		return 400;
	}
	*path_out = out;
	return 0;
}

/* "Location: <path>/[?query]\r\n" with the path percent-encoded again (RFC
 * 3986 §2.1) and the query as received; out holds 3 bytes per path byte
 * plus the query plus 16. Returns the length. */
static size_t encode_location(char *out, const char *path, const char *query)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	memcpy(out, "Location: ", 10);
	o = 10;
	for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || strchr("/-._~", *c)) {
			out[o++] = (char)*c;
		} else {
			out[o++] = '%';
			out[o++] = hex[*c >> 4];
			out[o++] = hex[*c & 15];
		}
	}
	out[o++] = '/';
	if (*query) {
		/* RFC 9110 §10.2.2: the redirect names the same resource; keep its query. */
		size_t ql = strlen(query);
		out[o++] = '?';
		memcpy(out + o, query, ql);
		o += ql;
	}
	memcpy(out + o, "\r\n", 2);
	return o + 2;
}

/* Refuses a name under the root that is not a regular file (a FIFO, a
 * device, a socket: opening or reading one could block the whole server) or
 * that leads out of the root. */
static void refuse_file(sf_http_session_t *s, int status, bool head_only, bool keep_alive)
{
	s->stats->files_refused++;
	emit_error(s, status, NULL, head_only, keep_alive);
}

/* Static files: only regular files under the document root are served, and
 * the checks come before open(), which never blocks: stat() first (a FIFO or
 * a device is refused unopened), then O_NONBLOCK | O_NOFOLLOW and fstat() to
 * be sure the opened file is the one checked. Validators (RFC 9110 §8.8):
 * Last-Modified and a strong ETag from size and mtime; conditional GET
 * (§13.1.2 If-None-Match, else §13.1.3 If-Modified-Since) answers 304;
 * one byte range (§14) answers 206, or 416 when it cannot be satisfied. */
static void serve_file(sf_http_session_t *s, const sf_http_request_t *req, bool head_only,
                       bool keep_alive)
{
	const sf_http_server_config_t *cfg = s->cfg;
	const char *path = req->path;
	size_t rl = strlen(cfg->docroot), pl = strlen(path), il = strlen(cfg->index);
	bool dir_req = path[pl - 1] == '/';
	if (rl + pl + il + 1 > PATH_MAX) {
		emit_error(s, 404, NULL, head_only, keep_alive);
		return;
	}
	char full[PATH_MAX + 1];
	memcpy(full, cfg->docroot, rl);
	memcpy(full + rl, path, pl + 1);
	if (dir_req)
		memcpy(full + rl + pl, cfg->index, il + 1);
	/* Symbolic links must not lead out of the document root either. */
	char *real = realpath(full, NULL);
	if (!real) {
		emit_error(s, errno == EACCES ? 403 : 404, NULL, head_only, keep_alive);
		return;
	}
	struct stat sb;
	if (strncmp(real, cfg->docroot, rl) != 0 || (real[rl] != '/' && real[rl]) ||
	    stat(real, &sb) < 0) {
		free(real);
		refuse_file(s, 403, head_only, keep_alive);
		return;
	}
	if (S_ISDIR(sb.st_mode) && !dir_req) {
		/* RFC 9110 §15.4.2: the directory's URI ends with a slash. */
		free(real);
		size_t ql = strlen(req->query);
		char *loc = malloc(3 * pl + ql + 16);
		if (!loc) {
			emit_error(s, 500, NULL, head_only, false);
			return;
		}
		size_t n = encode_location(loc, path, req->query);
		emit(s, 301, "text/html; charset=utf-8", loc, n, (const uint8_t *)"", 0, head_only,
		     keep_alive);
		free(loc);
		return;
	}
	if (!S_ISREG(sb.st_mode)) {
		free(real);
		refuse_file(s, 403, head_only, keep_alive);
		return;
	}
	int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	struct stat fb;
	if (fd < 0 || fstat(fd, &fb) < 0 || !S_ISREG(fb.st_mode) || fb.st_ino != sb.st_ino ||
	    fb.st_dev != sb.st_dev) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		free(real);
		if (fd >= 0)
			refuse_file(s, 403, head_only, keep_alive);
		else
			emit_error(s, err == EACCES ? 403 : 404, NULL, head_only, keep_alive);
		return;
	}
	uint64_t size = (uint64_t)fb.st_size;
	char lm[SF_HTTP_DATE_LEN], etag[64], extra[256];
	sf_http_date(lm, (int64_t)fb.st_mtime);
	snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)fb.st_mtime,
	         (unsigned long long)size);
	int xl = snprintf(extra, sizeof extra,
	                  "Last-Modified: %s\r\nETag: %s\r\nAccept-Ranges: bytes\r\n", lm, etag);
	const char *ctype = sf_http_mime_type(real);
	free(real);
	/* RFC 9110 §13.2.2: If-None-Match first; If-Modified-Since only without it. */
	const char *inm = sf_http_request_header(req, "If-None-Match");
	const char *ims = sf_http_request_header(req, "If-Modified-Since");
	int64_t since;
	bool not_modified =
	        inm ? sf_http_etag_match(inm, etag)
	            : ims && sf_http_parse_date(ims, &since) && (int64_t)fb.st_mtime <= since;
	if (not_modified) {
		close(fd);
		emit(s, 304, NULL, extra, (size_t)xl, NULL, 0, head_only, keep_alive);
		return;
	}
	/* RFC 9110 §13.1.5: a Range under If-Range applies only while the
	 * validator still matches (strong comparison; a date must be exact). */
	const char *range = sf_http_request_header(req, "Range");
	const char *if_range = sf_http_request_header(req, "If-Range");
	if (range && if_range && strcmp(if_range, etag) != 0 && strcmp(if_range, lm) != 0)
		range = NULL;
	uint64_t first = 0, last = size ? size - 1 : 0;
	int rr = range ? sf_http_parse_range(range, size, &first, &last) : 0;
	if (rr < 0) {
		close(fd);
		char cr[64];
		snprintf(cr, sizeof cr, "Content-Range: bytes */%llu\r\n",
		         (unsigned long long)size);
		emit_error(s, 416, cr, head_only, keep_alive);
		return;
	}
	int status = 200;
	uint64_t len = size;
	if (rr > 0) {
		status = 206;
		len = last - first + 1;
		xl += snprintf(extra + xl, sizeof extra - (size_t)xl,
		               "Content-Range: bytes %llu-%llu/%llu\r\n", (unsigned long long)first,
		               (unsigned long long)last, (unsigned long long)size);
	}
	bool ok = emit(s, status, ctype, extra, (size_t)xl, NULL, len, head_only, keep_alive);
	if (head_only || !len || !ok || (first && lseek(fd, (off_t)first, SEEK_SET) < 0)) {
		if (ok && !head_only && len)
			s->done = true; /* the seek failed after the head went out */
		close(fd);
		return;
	}
	s->fd = fd;
	s->file_left = len;
}

/* Answers the complete request in the session's buffers. */
static void dispatch(sf_http_session_t *s)
{
	llhttp_t *p = &s->parser;
	const char *method = llhttp_method_name((llhttp_method_t)p->method);
	bool is_get = p->method == HTTP_GET, is_head = p->method == HTTP_HEAD;
	/* A request to switch protocols (RFC 9110 §7.8) or CONNECT ends the
	 * connection after our answer: we speak only HTTP/1.1. */
	bool keep_alive =
	        llhttp_should_keep_alive(p) && !p->upgrade && s->served + 1 < s->cfg->max_keepalive;
	if (p->http_major != 1) {
		/* RFC 9110 §15.6.6 */
		emit_error(s, 505, NULL, is_head, false);
		return;
	}
	const char *target = s->arena;
	char *path = NULL;
	const char *query = "";
	int refuse = split_target(target, &path, &query);
	if (refuse == 405) {
		emit_error(s, 405, "Allow: GET, HEAD\r\n", is_head, keep_alive);
		return;
	}
	if (refuse) {
		emit_error(s, refuse, NULL, is_head, refuse == 500 ? false : keep_alive);
		return;
	}
	/* RFC 9112 §3.2: a 1.1 request carries exactly one Host, a 1.0 request
	 * at most one; otherwise 400. */
	uint32_t hosts = 0;
	for (uint32_t i = 0; i < s->hdr_cnt; i++)
		hosts += !strcasecmp(s->arena + s->hdrs[i].name, "Host");
	if (hosts > 1 || (hosts == 0 && p->http_minor >= 1)) {
		free(path);
		emit_error(s, 400, NULL, is_head, false);
		return;
	}
	sf_http_header_t *hv = NULL;
	if (s->hdr_cnt) {
		hv = malloc(s->hdr_cnt * sizeof *hv);
		if (!hv) {
			free(path);
			emit_error(s, 500, NULL, is_head, false);
			return;
		}
	}
	for (uint32_t i = 0; i < s->hdr_cnt; i++) {
		char *v = s->arena + s->hdrs[i].value;
		/* RFC 9110 §5.5: surrounding whitespace is not part of the value. */
		size_t vl = strlen(v);
		while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			v[--vl] = '\0';
		hv[i].name = s->arena + s->hdrs[i].name;
		hv[i].value = v;
	}
	sf_http_request_t req = {
	        .method = method,
	        .target = target,
	        .path = path,
	        .query = query,
	        .version_major = p->http_major,
	        .version_minor = p->http_minor,
	        .headers = hv,
	        .header_cnt = s->hdr_cnt,
	        .body = s->body_len ? s->body : NULL,
	        .body_len = s->body_len,
	        .keep_alive = keep_alive,
	        .conn_id = s->conn_id,
	        .peer_addr = s->peer_addr,
	        .peer_port = s->peer_port,
	};
	int handled = 1;
	if (s->cfg->handler) {
		struct sf_http_response resp = {.status = 200};
		handled = s->cfg->handler(s->cfg->handler_ctx, &req, &resp);
		if (handled == 0)
			emit(s, resp.status, resp.has_type ? NULL : "text/html; charset=utf-8",
			     resp.hdr, resp.hdr_len, resp.body ? resp.body : (const uint8_t *)"",
			     resp.body_len, is_head, keep_alive);
		else if (handled != 1)
			emit_error(s, 500, NULL, is_head, keep_alive);
		free(resp.hdr);
		free(resp.body);
	}
	if (handled == 1) {
		if (!is_get && !is_head)
			/* RFC 9110 §15.5.6: 405 carries Allow. */
			emit_error(s, 405, "Allow: GET, HEAD\r\n", is_head, keep_alive);
		else if (!s->cfg->docroot)
			emit_error(s, 404, NULL, is_head, keep_alive);
		else
			serve_file(s, &req, is_head, keep_alive);
	}
	free(hv);
	free(path);
}

/* ---- llhttp callbacks ---- */

static sf_http_session_t *session_of(llhttp_t *p)
{
	return p->data;
}

static int refuse(sf_http_session_t *s, int status)
{
	s->reject = status;
	return -1;
}

static int arena_add(sf_http_session_t *s, const char *at, size_t len)
{
	size_t limit = s->cfg->max_header_bytes;
	/* The head's size: stored bytes plus ~2 per field for ": " / CRLF. */
	if (s->arena_len + len + 2u * s->hdr_cnt + 12 > limit)
		return refuse(s, 431);
	if (!grow((void **)&s->arena, &s->arena_cap, s->arena_len + len + 1, limit + 64))
		return refuse(s, 500);
	memcpy(s->arena + s->arena_len, at, len);
	s->arena_len += len;
	return 0;
}

static int on_message_begin(llhttp_t *p)
{
	sf_http_session_t *s = session_of(p);
	s->arena_len = 0;
	s->hdr_cnt = 0;
	s->in_field = false;
	s->in_message = true;
	s->in_head = true;
	s->begun_here = true;
	s->head_start = NULL;
	s->head_raw = 0;
	s->trailer_bytes = 0;
	s->body_len = 0;
	s->target_done = false;
	return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
	sf_http_session_t *s = session_of(p);
	if (s->begun_here && !s->head_start)
		s->head_start = at;
	/* RFC 9110 §15.5.15: a target longer than the head may be is 414. */
	if (s->arena_len + len + 12 > s->cfg->max_header_bytes)
		return refuse(s, 414);
	return arena_add(s, at, len);
}

static int on_terminate(llhttp_t *p);

static int on_url_complete(llhttp_t *p)
{
	session_of(p)->target_done = true;
	return on_terminate(p);
}

static int on_terminate(llhttp_t *p)
{
	sf_http_session_t *s = session_of(p);
	if (!s->in_head)
		return 0;
	s->in_field = false;
	return arena_add(s, "", 1);
}

static int count_trailer(sf_http_session_t *s, size_t len)
{
	/* RFC 9112 §7.1.2: trailer fields are read and discarded, within the head limit. */
	s->trailer_bytes += len + 2;
	return s->trailer_bytes > s->cfg->max_header_bytes ? refuse(s, 431) : 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
	sf_http_session_t *s = session_of(p);
	if (!s->in_head)
		return count_trailer(s, len);
	if (!s->in_field) {
		if (s->hdr_cnt >= s->cfg->max_headers)
			return refuse(s, 431);
		if (s->hdr_cnt == s->hdr_cap) {
			size_t cap = s->hdr_cap;
			if (!grow((void **)&s->hdrs, &cap, (s->hdr_cap + 8) * sizeof *s->hdrs,
			          (size_t)s->cfg->max_headers * sizeof *s->hdrs +
			                  8 * sizeof *s->hdrs))
				return refuse(s, 500);
			s->hdr_cap = (uint32_t)(cap / sizeof *s->hdrs);
		}
		s->hdrs[s->hdr_cnt].name = s->arena_len;
		s->hdrs[s->hdr_cnt].value = VALUE_UNSET;
		s->hdr_cnt++;
		s->in_field = true;
	}
	/* RFC 9112 §5.1: no whitespace in a field name or between it and the
	 * colon ("Host : x", "X Y: z"); §2.2: nor before the first one. 400. */
	if (memchr(at, ' ', len) || memchr(at, '\t', len))
		return refuse(s, 400);
	return arena_add(s, at, len);
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
	sf_http_session_t *s = session_of(p);
	if (!s->in_head)
		return count_trailer(s, len);
	if (!s->hdr_cnt)
		return -1;
	if (s->hdrs[s->hdr_cnt - 1].value == VALUE_UNSET)
		s->hdrs[s->hdr_cnt - 1].value = s->arena_len;
	return arena_add(s, at, len);
}

static int on_header_value_complete(llhttp_t *p)
{
	sf_http_session_t *s = session_of(p);
	if (!s->in_head || !s->hdr_cnt)
		return 0;
	if (s->hdrs[s->hdr_cnt - 1].value == VALUE_UNSET)
		s->hdrs[s->hdr_cnt - 1].value = s->arena_len;
	return on_terminate(p);
}

static const char *find_header(const sf_http_session_t *s, const char *name)
{
	for (uint32_t i = 0; i < s->hdr_cnt; i++)
		if (!strcasecmp(s->arena + s->hdrs[i].name, name))
			return s->arena + s->hdrs[i].value;
	return NULL;
}

static int on_headers_complete(llhttp_t *p)
{
	sf_http_session_t *s = session_of(p);
	s->in_head = false;
	bool chunked = p->flags & F_CHUNKED;
	/* RFC 9110 §15.5.14: refuse a body larger than we take, before reading it. */
	if (!chunked && (p->flags & F_CONTENT_LENGTH) && p->content_length > s->cfg->max_body)
		return refuse(s, 413);
	/* RFC 9110 §10.1.1: answer Expect: 100-continue before the body is sent. */
	const char *expect = find_header(s, "Expect");
	if (expect && p->http_major == 1 && p->http_minor >= 1 &&
	    !strncasecmp(expect, "100-continue", 12) && (chunked || p->content_length > 0))
		if (!out_add(s, "HTTP/1.1 100 Continue\r\n\r\n", 25))
			return refuse(s, 500);
	return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
	sf_http_session_t *s = session_of(p);
	size_t max = s->cfg->max_body;
	if (len > max - s->body_len)
		return refuse(s, 413);
	if (!grow((void **)&s->body, &s->body_cap, s->body_len + len, max))
		return refuse(s, 500);
	memcpy(s->body + s->body_len, at, len);
	s->body_len += len;
	return 0;
}

/* Between requests a connection keeps small buffers only, so the memory of
 * thousands of idle connections does not depend on how large their last
 * requests and responses were. */
#define KEEP_CAP 4096

static void shed(void *bufp, size_t *cap)
{
	void **buf = bufp;
	if (*cap > KEEP_CAP) {
		free(*buf);
		*buf = NULL;
		*cap = 0;
	}
}

static int on_message_complete(llhttp_t *p)
{
	sf_http_session_t *s = session_of(p);
	s->in_message = false;
	s->in_head = false;
	dispatch(s);
	s->served++;
	s->body_len = 0;
	shed(&s->body, &s->body_cap);
	shed(&s->arena, &s->arena_cap);
	/* Stop after each request: the next is parsed once this answer is out. */
	return HPE_PAUSED;
}

static const llhttp_settings_t request_settings = {
        .on_message_begin = on_message_begin,
        .on_url = on_url,
        .on_url_complete = on_url_complete,
        .on_header_field = on_header_field,
        .on_header_field_complete = on_terminate,
        .on_header_value = on_header_value,
        .on_header_value_complete = on_header_value_complete,
        .on_headers_complete = on_headers_complete,
        .on_body = on_body,
        .on_message_complete = on_message_complete,
};

/* ---- session API ---- */

sf_http_session_t *sf_http_session_new(const sf_http_server_config_t *cfg,
                                       sf_http_server_stats_t *stats)
{
	sf_http_session_t *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->cfg = cfg;
	s->stats = stats;
	s->fd = -1;
	llhttp_init(&s->parser, HTTP_REQUEST, &request_settings);
	s->parser.data = s;
	return s;
}

void sf_http_session_free(sf_http_session_t *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->arena);
	free(s->hdrs);
	free(s->body);
	free(s->out);
	free(s->stage);
	free(s);
}

size_t sf_http_session_feed(sf_http_session_t *s, const uint8_t *data, size_t len)
{
	if (s->done)
		return len;
	if (!len || sf_http_session_output_pending(s))
		return 0;
	if (s->paused) {
		llhttp_resume(&s->parser);
		s->paused = false;
	}
	s->begun_here = false;
	s->head_start = NULL;
	llhttp_errno_t err = llhttp_execute(&s->parser, (const char *)data, len);
	size_t used = len;
	switch (err) {
	case HPE_OK:
		break;
	case HPE_PAUSED:
		used = (size_t)(llhttp_get_error_pos(&s->parser) - (const char *)data);
		s->paused = true;
		break;
	case HPE_PAUSED_UPGRADE:
		/* RFC 9110 §7.8: we do not switch protocols; CONNECT is not for us. */
		if (s->in_message)
			emit_error(s, 405, "Allow: GET, HEAD\r\n", false, false);
		s->done = true;
		s->in_message = false;
		break;
	default:
		fail(s, s->reject ? s->reject : 400);
		break;
	}
	if (s->in_head && !s->done) {
		/* Bytes of an unfinished head, wherever they fell (whitespace and
		 * all), also count against the limit. */
		if (s->begun_here)
			s->head_raw += s->head_start
			                       ? (size_t)((const char *)data + len - s->head_start)
			                       : 0;
		else
			s->head_raw += len;
		if (s->head_raw > s->cfg->max_header_bytes)
			fail(s, s->target_done ? 431 : 414);
	}
	return used;
}

bool sf_http_session_output_pending(const sf_http_session_t *s)
{
	return s->out_off < s->out_len || s->stage_off < s->stage_len ||
	       (s->fd >= 0 && s->file_left > 0);
}

size_t sf_http_session_peek(sf_http_session_t *s, const uint8_t **p)
{
	if (s->out_off < s->out_len) {
		*p = s->out + s->out_off;
		return s->out_len - s->out_off;
	}
	if (s->stage_off < s->stage_len) {
		*p = s->stage + s->stage_off;
		return s->stage_len - s->stage_off;
	}
	if (s->fd < 0 || !s->file_left)
		return 0;
	if (!s->stage)
		s->stage = malloc(STAGE_CAP);
	ssize_t r = -1;
	if (s->stage) {
		size_t want = s->file_left < STAGE_CAP ? (size_t)s->file_left : STAGE_CAP;
		do
			r = read(s->fd, s->stage, want);
		while (r < 0 && errno == EINTR);
	}
	if (r <= 0) {
		/* The file shrank or failed: the promised length cannot be kept,
		 * so the connection must end (RFC 9112 §6.3, incomplete message). */
		close(s->fd);
		s->fd = -1;
		s->file_left = 0;
		s->done = true;
		return 0;
	}
	s->file_left -= (uint64_t)r;
	if (!s->file_left) {
		close(s->fd);
		s->fd = -1;
	}
	s->stage_off = 0;
	s->stage_len = (size_t)r;
	*p = s->stage;
	return s->stage_len;
}

void sf_http_session_consume(sf_http_session_t *s, size_t n)
{
	if (s->out_off < s->out_len) {
		s->out_off += n;
		if (s->out_off >= s->out_len) {
			s->out_off = s->out_len = 0;
			shed(&s->out, &s->out_cap);
		}
	} else if (s->stage_off < s->stage_len) {
		s->stage_off += n;
		if (s->stage_off >= s->stage_len) {
			s->stage_off = s->stage_len = 0;
			if (s->fd < 0) {
				free(s->stage); /* the file is done */
				s->stage = NULL;
			}
		}
	}
}

bool sf_http_session_done(const sf_http_session_t *s)
{
	return s->done;
}

bool sf_http_session_mid_request(const sf_http_session_t *s)
{
	return s->in_message && !s->done;
}

enum sf_http_phase sf_http_session_phase(const sf_http_session_t *s)
{
	if (!s->in_message || s->done)
		return SF_HTTP_IDLE;
	return s->in_head ? SF_HTTP_HEAD : SF_HTTP_BODY;
}

uint32_t sf_http_session_served(const sf_http_session_t *s)
{
	return s->served;
}

size_t sf_http_session_body_bytes(const sf_http_session_t *s)
{
	return s->body_len;
}

bool sf_http_session_timeout(sf_http_session_t *s)
{
	if (s->done)
		return false;
	if (s->in_message && !sf_http_session_output_pending(s)) {
		fail(s, 408);
		return true;
	}
	s->done = true;
	return false;
}

void sf_http_session_set_peer(sf_http_session_t *s, uint32_t conn_id, uint32_t addr, uint16_t port)
{
	s->conn_id = conn_id;
	s->peer_addr = addr;
	s->peer_port = port;
}
