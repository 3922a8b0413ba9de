/* synfin HTTP/1.1: a small server and client on the synfin socket API.
 *
 * Both are event-driven state machines over non-blocking sf_* sockets: no
 * threads, no blocking, no clock of their own. The driver passes its clock
 * into every poll call and orders the calls like this:
 *
 *   sf_stack_input(st, frame, len, now);   // any received frames
 *   sf_stack_poll(st, now);                // deliver into sockets
 *   sf_http_server_poll(srv, now);         // accept, read, parse, answer
 *   sf_http_client_poll(cli, now);         // (or a client)
 *   sf_stack_poll(st, now);                // send what they queued
 *
 * and sleeps until min(sf_stack_next_deadline, sf_http_server_next_deadline,
 * frame readable). Messages follow RFC 9110 (semantics) and RFC 9112 (HTTP/1.1
 * syntax); parsing is done by llhttp. Memory comes from malloc and is bounded
 * by the limits in the configs.
 */
#ifndef SYNFIN_HTTP_H
#define SYNFIN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synfin/synfin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- server ---- */

typedef struct sf_http_server sf_http_server_t;

/* One request header; both strings NUL-terminated, as received (the name
 * keeps its case; compare with strcasecmp). */
typedef struct sf_http_header {
	const char *name;
	const char *value;
} sf_http_header_t;

/* A parsed request, valid only during the handler call. */
typedef struct sf_http_request {
	const char *method; /* "GET", "HEAD", "POST", ... */
	const char *target; /* the request-target as sent: "/a%20b?x=1" */
	const char *path;   /* target's path, percent-decoded, without the query: "/a b" */
	const char *query;  /* after '?', not decoded; "" when there is none */
	int version_major, version_minor;
	const sf_http_header_t *headers;
	size_t header_cnt;
	const uint8_t *body; /* de-chunked body; NULL when body_len is 0 */
	size_t body_len;
	bool keep_alive; /* the connection stays open after the response */
	/* The connection the request came on: its trace id (sf_sock_conn_id)
	 * and the client's address; 0 when the session runs without one. */
	uint32_t conn_id;
	uint32_t peer_addr;
	uint16_t peer_port;
} sf_http_request_t;

/* The first header named `name` (case-insensitive), or NULL. */
const char *sf_http_request_header(const sf_http_request_t *req, const char *name);

/* A response being built by a handler. The server adds Server, Content-Length
 * and Connection itself; for HEAD it sends the headers only. */
typedef struct sf_http_response sf_http_response_t;
/* Sets the status code (default 200). Returns 0 or SF_EINVAL (not 200..599:
 * interim responses are the server's business). */
int sf_http_response_status(sf_http_response_t *resp, int status);
/* Adds a header line (copied). Returns 0, SF_EINVAL (a name that is not a
 * token, CR/LF in the value, or Content-Length / Transfer-Encoding /
 * Connection, which the server sets itself), or SF_ENOMEM. "Content-Type"
 * replaces the default text/html. */
int sf_http_response_header(sf_http_response_t *resp, const char *name, const char *value);
/* Appends len bytes to the body (copied). Returns 0 or SF_ENOMEM. */
int sf_http_response_write(sf_http_response_t *resp, const void *data, size_t len);

/* Called for every complete request before static files are looked up.
 * Return 0 when resp holds the answer, 1 to fall through to the document
 * root (or a built-in 404 when there is none). resp is only valid during the
 * call; the handler must not call sf_http_server_* functions. */
typedef int (*sf_http_handler_fn)(void *ctx, const sf_http_request_t *req,
                                  sf_http_response_t *resp);

typedef struct sf_http_server_config {
	uint16_t port;              /* listening port; default 80 */
	const char *docroot;        /* static files from this directory (copied); NULL: none */
	const char *index;          /* file served for a directory; default "index.html" */
	sf_http_handler_fn handler; /* optional dynamic pages */
	void *handler_ctx;
	size_t max_header_bytes; /* request line + headers; default 8 KiB, beyond: 431 */
	uint32_t max_headers;    /* header lines; default 64, beyond: 431 */
	size_t max_body;         /* request body bytes; default 1 MiB, beyond: 413 */
	/* Limits and deadlines. Memory per connection is bounded by
	 * max_header_bytes + max_body + one response head + 16 KiB of file
	 * staging; an idle connection costs its bookkeeping (~1 KiB) and the
	 * stack's TCB. */
	uint32_t max_conns;        /* open connections; default 10000. When every slot is taken and
	                              a client waits in the backlog, the connection idle longest
	                              (between requests, or silent since it opened) is closed */
	int backlog;               /* listen backlog; default 1024 */
	int64_t header_timeout_us; /* the whole request head must arrive within this from
	                              its first byte (or from the connection's opening); 10 s.
	                              A partial request gets 408 (RFC 9110 §15.5.9) */
	int64_t body_timeout_us;   /* a request body gets this long, plus 1 s for every
	                              min_body_rate bytes received; default 10 s */
	uint32_t min_body_rate;    /* bytes/s, see body_timeout_us; default 1024 */
	int64_t keepalive_timeout_us; /* idle between requests; default 15 s, closed silently */
	int64_t send_timeout_us;      /* a response the client does not read for this long
	                                 is aborted (RST); also the wait for the client's FIN
	                                 after ours; default 30 s */
	uint32_t max_keepalive;       /* requests per connection; default 1000; 0 = default */
	bool no_date;                 /* omit Date (RFC 9110 §6.6.1: no reliable clock) */
} sf_http_server_config_t;

/* Fills *cfg with the defaults above. */
void sf_http_server_config_default(sf_http_server_config_t *cfg);

/* Creates a server listening on cfg->port of st (cfg NULL: defaults; fields
 * left 0 take their defaults). The server owns its sockets and closes them in
 * sf_http_server_free(); the stack must outlive it. Returns NULL when the port
 * cannot be bound, the document root does not resolve (realpath), or memory
 * runs out. Request paths with a ".." segment (also percent-encoded) get 400;
 * files that resolve outside the root (symbolic links) get 403. The server
 * is the reader of st's readiness list (sf_ready_take): one server, and no
 * other reader, per stack. */
sf_http_server_t *sf_http_server_new(sf_stack_t *st, const sf_http_server_config_t *cfg);

/* Does all work that is ready without blocking: accepts connections, reads,
 * parses, answers (pipelined requests in order), writes, closes, and expires
 * idle connections against now_us (the driver's clock, as passed to the
 * stack). Call after each sf_stack_poll(), then sf_stack_poll() again to send
 * what it queued. Returns the number of connections that made progress (>= 0),
 * or SF_EINVAL for a NULL server. */
int sf_http_server_poll(sf_http_server_t *s, int64_t now_us);

/* The time at which the next idle timeout falls due (INT64_MAX: none). */
int64_t sf_http_server_next_deadline(const sf_http_server_t *s);

/* Aborts open connections (RST), closes the listener, frees everything. NULL is a no-op. */
void sf_http_server_free(sf_http_server_t *s);

typedef struct sf_http_server_stats {
	uint64_t requests; /* responses sent (including error responses) */
	uint64_t status_2xx, status_3xx, status_4xx, status_5xx;
	uint64_t status_400, status_404, status_405, status_408, status_413, status_414, status_431;
	uint64_t status_206, status_304, status_416;
	uint64_t conns_accepted, conns_closed, conns_timed_out;
	/* timeouts by kind (their sum is conns_timed_out) and evictions */
	uint64_t timeouts_header, timeouts_body, timeouts_keepalive, timeouts_send;
	uint64_t conns_evicted; /* idle connections closed to let a waiting one in */
	uint64_t files_refused; /* not regular files (FIFO, device, ...) or links out of root */
	uint32_t conns_open;
	uint64_t bytes_in, bytes_out; /* at the socket API */
	/* Connections stepped, summed over polls: the server's work, which
	 * follows what changed (sf_ready_take), not how many are open. */
	uint64_t conn_steps;
} sf_http_server_stats_t;
void sf_http_server_stats(const sf_http_server_t *s, sf_http_server_stats_t *out);

/* The Content-Type for a file name by its extension (html, css, js, json,
 * svg, png, jpg/jpeg, txt, pcap, ...); "application/octet-stream" otherwise. */
const char *sf_http_mime_type(const char *path);

/* ---- client: one connection, one request at a time ---- */

typedef struct sf_http_client sf_http_client_t;

/* Receives body bytes as they arrive (de-chunked), in order; return 0, or
 * non-zero to give up (the poll then returns SF_ECONNABORTED). */
typedef int (*sf_http_body_fn)(void *ctx, const uint8_t *data, size_t len);

typedef struct sf_http_client_options {
	const char *method;    /* "GET" (default) or "HEAD" */
	bool connection_close; /* send "Connection: close" (the server then closes) */
	size_t max_body;       /* give up with SF_ENOMEM beyond this; default 64 MiB; not
	                          applied when on_body takes the body */
	int64_t timeout_us;    /* no progress for this long: SF_ETIMEDOUT; default 30 s; <0 none */
	sf_http_body_fn on_body; /* stream the body here instead of keeping it */
	void *body_ctx;
	bool keep_open; /* after a complete response the server keeps open, leave the
	                   connection open for sf_http_client_again() */
} sf_http_client_options_t;

/* Starts `GET path` to addr:port (host order) with "Host: host" (NULL: the
 * dotted address, with ":port" unless the port is 80, RFC 9110 §7.2).
 * Connects at once (the SYN leaves at the next sf_stack_poll); the request
 * is sent when the connection opens. Returns NULL if the socket cannot be
 * created or the arguments are bad (path must start with '/' and hold no
 * whitespace or control bytes). Free with sf_http_client_free(). */
sf_http_client_t *sf_http_get_start(sf_stack_t *st, uint32_t addr, uint16_t port, const char *host,
                                    const char *path);
/* The same with options (opt NULL: defaults; copied). */
sf_http_client_t *sf_http_get_start_ex(sf_stack_t *st, uint32_t addr, uint16_t port,
                                       const char *host, const char *path,
                                       const sf_http_client_options_t *opt);

/* True after a response completed (poll returned 0) on a connection that
 * stays open: opt.keep_open was set and the server did not say close. */
bool sf_http_client_reusable(const sf_http_client_t *c);
/* Sends another request (method NULL: as before) for path on the same
 * connection (RFC 9112 §9.3); the previous response's headers and body are
 * forgotten. Returns 0, SF_ENOTCONN when not reusable, SF_EINVAL for a bad
 * path, SF_ENOMEM. Then poll as before. */
int sf_http_client_again(sf_http_client_t *c, const char *method, const char *path);

/* Body bytes received for the current response and the length it announced
 * (Content-Length; -1 when chunked or delimited by the close): after
 * SF_ETRUNCATED they tell how much is missing. */
uint64_t sf_http_client_received(const sf_http_client_t *c);
int64_t sf_http_client_expected(const sf_http_client_t *c);

/* Drives the exchange. Returns SF_EAGAIN while in progress, 0 once the whole
 * response has arrived (Content-Length, chunked, or delimited by the
 * server's FIN), or a negative SF_E* code: the connection's error,
 * SF_EMALFORMED for an unparsable response, SF_ETRUNCATED when the server
 * closed before the body was complete, SF_ETIMEDOUT, SF_ENOMEM. Once
 * it returned 0 or an error it keeps returning that. On completion the
 * client closes its socket (FIN; a FIN from the server is answered), so the
 * connection finishes in the background. */
int sf_http_client_poll(sf_http_client_t *c, int64_t now_us);

/* Response accessors; meaningful after sf_http_client_poll returned 0. */
int sf_http_client_status(const sf_http_client_t *c); /* 0 before the status line */
/* The status line's reason phrase as received (at most 63 bytes; "" before
 * it), and its HTTP version (0.0 before it). For display only. */
const char *sf_http_client_reason(const sf_http_client_t *c);
void sf_http_client_version(const sf_http_client_t *c, int *major, int *minor);
/* The first response header named `name` (case-insensitive), or NULL. */
const char *sf_http_client_header(const sf_http_client_t *c, const char *name);
size_t sf_http_client_header_count(const sf_http_client_t *c);
/* Header i (0-based), or {NULL, NULL} when out of range. */
sf_http_header_t sf_http_client_header_at(const sf_http_client_t *c, size_t i);
/* The de-chunked body; *len gets its length. NULL when empty. Owned by c. */
const uint8_t *sf_http_client_body(const sf_http_client_t *c, size_t *len);
/* The connection's socket handle. It stays valid until the client closes it
 * (when sf_http_client_poll first returns 0 or an error); after that the stack
 * reports it as SF_EBADF. */
sf_sock_t sf_http_client_sock(const sf_http_client_t *c);
/* The connection id of the socket (sf_sock_conn_id), remembered at start so it
 * stays available after the socket is closed. */
uint32_t sf_http_client_conn_id(const sf_http_client_t *c);

/* Closes a kept-open connection between requests (FIN), aborts one still
 * busy (RST), and frees the client. NULL is a no-op. */
void sf_http_client_free(sf_http_client_t *c);

#ifdef __cplusplus
}
#endif
#endif
