/* The HTTP/1.1 server's socket side: a listener on a synfin stack and, per
 * accepted connection, a session (http_session.c) fed from sf_recv and
 * drained into sf_send. Everything is non-blocking and driven by
 * sf_http_server_poll(); time comes from the caller.
 *
 * Persistence follows RFC 9112 §9.3: connections stay open after a response
 * unless the request or the response said close. Closing follows §9.6: after
 * the last response we half-close (FIN) and keep reading, discarding, until
 * the client closes too or the idle timeout passes, so a client's late bytes
 * cannot turn our FIN into a reset that destroys the response. A connection
 * that makes no progress for idle_timeout_us is answered 408 when it is in
 * the middle of a request (slow clients) and closed.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "app/http_int.h"

#define INBUF_CAP 16384

enum conn_state {
	CONN_OPEN,  /* reading requests, writing responses */
	CONN_DRAIN, /* our FIN is queued; discarding input until the peer's FIN */
};

typedef struct conn {
	struct conn *next;
	sf_sock_t sock;
	sf_http_session_t *sess;
	enum conn_state state;
	bool peer_eof;
	int64_t last_us; /* last progress */
	uint8_t *in;
	size_t in_off, in_len; /* unparsed input: in[in_off .. in_off+in_len) */
} conn_t;

struct sf_http_server {
	sf_stack_t *st;
	sf_http_server_config_t cfg;
	char *docroot; /* resolved, owned */
	sf_sock_t lsn;
	conn_t *conns;
	uint32_t conn_cnt;
	sf_http_server_stats_t stats;
};

sf_http_server_t *sf_http_server_new(sf_stack_t *st, const sf_http_server_config_t *cfg)
{
	if (!st)
		return NULL;
	sf_http_server_t *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->st = st;
	if (cfg)
		s->cfg = *cfg;
	sf_http_config_fill(&s->cfg);
	if (cfg && cfg->docroot) {
		s->docroot = realpath(cfg->docroot, NULL);
		if (!s->docroot) {
			free(s);
			return NULL;
		}
		/* "/" as the root: keep prefix checks simple with no trailing slash. */
		size_t n = strlen(s->docroot);
		if (n == 1)
			s->docroot[0] = '\0';
	}
	s->cfg.docroot = s->docroot;
	s->lsn = sf_socket(st);
	if (s->lsn < 0 || sf_bind(st, s->lsn, s->cfg.port) < 0 ||
	    sf_listen(st, s->lsn, s->cfg.backlog) < 0) {
		if (s->lsn >= 0)
			sf_close(st, s->lsn);
		free(s->docroot);
		free(s);
		return NULL;
	}
	return s;
}

static void free_conn(sf_http_server_t *s, conn_t *c, bool abort)
{
	if (abort)
		sf_abort(s->st, c->sock);
	else
		sf_close(s->st, c->sock);
	sf_http_session_free(c->sess);
	free(c->in);
	free(c);
	s->conn_cnt--;
	s->stats.conns_closed++;
}

void sf_http_server_free(sf_http_server_t *s)
{
	if (!s)
		return;
	while (s->conns) {
		conn_t *c = s->conns;
		s->conns = c->next;
		free_conn(s, c, true);
	}
	sf_close(s->st, s->lsn);
	free(s->docroot);
	free(s);
}

void sf_http_server_stats(const sf_http_server_t *s, sf_http_server_stats_t *out)
{
	*out = s->stats;
	out->conns_open = s->conn_cnt;
}

int64_t sf_http_server_next_deadline(const sf_http_server_t *s)
{
	int64_t t = INT64_MAX;
	for (const conn_t *c = s->conns; c; c = c->next)
		if (c->last_us + s->cfg.idle_timeout_us < t)
			t = c->last_us + s->cfg.idle_timeout_us;
	return t;
}

static void accept_conns(sf_http_server_t *s, int64_t now_us)
{
	while (s->conn_cnt < s->cfg.max_conns) {
		uint32_t peer_addr = 0;
		uint16_t peer_port = 0;
		sf_sock_t a = sf_accept(s->st, s->lsn, &peer_addr, &peer_port);
		if (a < 0)
			return;
		conn_t *c = calloc(1, sizeof *c);
		if (c)
			c->sess = sf_http_session_new(&s->cfg, &s->stats);
		if (c)
			c->in = malloc(INBUF_CAP);
		if (!c || !c->sess || !c->in) {
			if (c) {
				sf_http_session_free(c->sess);
				free(c->in);
				free(c);
			}
			sf_abort(s->st, a);
			continue;
		}
		c->sock = a;
		sf_http_session_set_peer(c->sess, sf_sock_conn_id(s->st, a), peer_addr, peer_port);
		c->last_us = now_us;
		c->next = s->conns;
		s->conns = c;
		s->conn_cnt++;
		s->stats.conns_accepted++;
	}
}

enum step_result { STEP_IDLE, STEP_PROGRESS, STEP_CLOSE, STEP_ABORT };

/* Moves one connection forward as far as it can go without waiting. */
static enum step_result step_conn(sf_http_server_t *s, conn_t *c)
{
	bool progress = false;
	/* Bounded: every round either makes progress or returns. */
	for (int round = 0; round < 1024; round++) {
		/* 1. Send what is ready. */
		const uint8_t *p;
		size_t n;
		while ((n = sf_http_session_peek(c->sess, &p)) > 0) {
			long w = sf_send(s->st, c->sock, p, n);
			if (w == SF_EAGAIN)
				break;
			if (w < 0)
				return STEP_ABORT;
			sf_http_session_consume(c->sess, (size_t)w);
			s->stats.bytes_out += (uint64_t)w;
			progress = true;
		}
		if (sf_http_session_output_pending(c->sess))
			break;
		/* 2. The last response is out: half-close and drain. */
		if (c->state == CONN_OPEN && sf_http_session_done(c->sess)) {
			sf_shutdown(s->st, c->sock, SF_SHUT_WR);
			c->state = CONN_DRAIN;
			c->in_len = 0;
			progress = true;
		}
		if (c->state == CONN_DRAIN) {
			long r;
			while ((r = sf_recv(s->st, c->sock, c->in, INBUF_CAP)) > 0) {
				s->stats.bytes_in += (uint64_t)r;
				progress = true;
			}
			if (r == SF_EAGAIN)
				break;
			return STEP_CLOSE; /* the peer's FIN, or an error */
		}
		/* 3. Parse what was read before. */
		if (c->in_len) {
			size_t used = sf_http_session_feed(c->sess, c->in + c->in_off, c->in_len);
			c->in_off += used;
			c->in_len -= used;
			if (!used && !sf_http_session_output_pending(c->sess))
				return STEP_ABORT; /* cannot happen; never spin */
			progress = true;
			continue;
		}
		/* 4. Read more. */
		if (c->peer_eof)
			return STEP_CLOSE; /* everything answered */
		long r = sf_recv(s->st, c->sock, c->in, INBUF_CAP);
		if (r == SF_EAGAIN)
			break;
		if (r < 0)
			return STEP_ABORT;
		progress = true;
		if (r == 0) {
			/* RFC 9112 §9.6: the client closed; answer what it sent. */
			c->peer_eof = true;
			continue;
		}
		s->stats.bytes_in += (uint64_t)r;
		c->in_off = 0;
		c->in_len = (size_t)r;
	}
	return progress ? STEP_PROGRESS : STEP_IDLE;
}

int sf_http_server_poll(sf_http_server_t *s, int64_t now_us)
{
	if (!s)
		return SF_EINVAL;
	accept_conns(s, now_us);
	int progressed = 0;
	for (conn_t **pp = &s->conns; *pp;) {
		conn_t *c = *pp;
		enum step_result r = step_conn(s, c);
		if (r == STEP_IDLE && now_us - c->last_us >= s->cfg.idle_timeout_us) {
			s->stats.conns_timed_out++;
			if (sf_http_session_output_pending(c->sess)) {
				r = STEP_ABORT; /* the client stopped reading */
			} else if (c->state == CONN_DRAIN) {
				r = STEP_CLOSE;
			} else {
				/* RFC 9110 §15.5.9: 408 to a request that stalled, then close. */
				sf_http_session_timeout(c->sess);
				c->in_len = 0;
				r = step_conn(s, c);
				if (r == STEP_IDLE)
					r = STEP_PROGRESS;
			}
		}
		if (r == STEP_CLOSE || r == STEP_ABORT) {
			*pp = c->next;
			free_conn(s, c, r == STEP_ABORT);
			progressed++;
			continue;
		}
		if (r == STEP_PROGRESS) {
			c->last_us = now_us;
			progressed++;
		}
		pp = &c->next;
	}
	/* Slots freed above let waiting connections in. */
	if (progressed)
		accept_conns(s, now_us);
	return progressed;
}
