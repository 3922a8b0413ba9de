/* Internal to src/app: the HTTP server's per-connection session, with no
 * socket in it. A session takes request bytes (sf_http_session_feed), parses
 * them with llhttp, answers each complete request (handler, static file or
 * error) and hands out the response bytes (peek/consume). The server
 * (http_server.c) moves bytes between sessions and sockets; the fuzz target
 * (fuzz/fuzz_http.c) drives a session straight from a buffer.
 */
#ifndef SF_APP_HTTP_INT_H
#define SF_APP_HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synfin/http.h"

typedef struct sf_http_session sf_http_session_t;

/* Fills the zero fields of *cfg with their defaults. */
void sf_http_config_fill(sf_http_server_config_t *cfg);

/* A new session. cfg (defaults filled) and stats must outlive it; stats are
 * updated as responses are made. Returns NULL when out of memory. */
sf_http_session_t *sf_http_session_new(const sf_http_server_config_t *cfg,
                                       sf_http_server_stats_t *stats);
void sf_http_session_free(sf_http_session_t *s);
/* Names the connection a session serves (reported in each request). */
void sf_http_session_set_peer(sf_http_session_t *s, uint32_t conn_id, uint32_t addr, uint16_t port);

/* Parses up to len bytes. Returns how many were consumed: fewer than len when
 * a request completed and its response must be drained first (feed again
 * with the rest once sf_http_session_output_pending() is false), 0 while
 * output is pending. After an error response or a request that ends the
 * connection, further bytes are consumed and ignored. */
size_t sf_http_session_feed(sf_http_session_t *s, const uint8_t *data, size_t len);

/* Response bytes ready to send: sets *p and returns how many are contiguous
 * there (0: none right now). Reads the next block of a file when needed. */
size_t sf_http_session_peek(sf_http_session_t *s, const uint8_t **p);
/* Marks n bytes of the last peek as sent. */
void sf_http_session_consume(sf_http_session_t *s, size_t n);
/* True while response bytes remain. */
bool sf_http_session_output_pending(const sf_http_session_t *s);
/* True once the connection is to be closed after the pending output. */
bool sf_http_session_done(const sf_http_session_t *s);
/* True while a request has started but not completed. */
bool sf_http_session_mid_request(const sf_http_session_t *s);
/* The peer stalled: queues 408 and ends the session when a request is
 * partially received (returns true), else ends it silently (false). */
bool sf_http_session_timeout(sf_http_session_t *s);

/* Where a session is in the request it is receiving. */
enum sf_http_phase {
	SF_HTTP_IDLE, /* between requests (no byte of the next one yet) */
	SF_HTTP_HEAD, /* request line and header fields */
	SF_HTTP_BODY, /* the message body */
};
enum sf_http_phase sf_http_session_phase(const sf_http_session_t *s);
/* Requests completed so far, and body bytes of the current one. */
uint32_t sf_http_session_served(const sf_http_session_t *s);
size_t sf_http_session_body_bytes(const sf_http_session_t *s);

/* ---- field values (http_fields.c) ---- */

#define SF_HTTP_DATE_LEN 32
/* Writes t (seconds since the epoch) as an IMF-fixdate (RFC 9110 §5.6.7):
 * "Sun, 06 Nov 1994 08:49:37 GMT". Returns its length (29), 0 if t does
 * not fit. */
size_t sf_http_date(char out[SF_HTTP_DATE_LEN], int64_t t);
/* Parses any of the three HTTP-date forms; false when it is none. */
bool sf_http_parse_date(const char *s, int64_t *out);
/* A Range field value against a representation of `size` bytes (RFC 9110
 * §14.1.2): 1 and [*first, *last] for one satisfiable byte range; -1 when
 * it is unsatisfiable (416); 0 when it is to be ignored (several ranges,
 * another unit, a syntax error). */
int sf_http_parse_range(const char *v, uint64_t size, uint64_t *first, uint64_t *last);
/* True when the If-None-Match list matches etag by the weak comparison
 * (RFC 9110 §8.8.3.2), or is "*". */
bool sf_http_etag_match(const char *list, const char *etag);

#endif
