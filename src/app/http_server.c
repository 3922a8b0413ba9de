/* The HTTP/1.1 server's socket side: a listener on a synfin stack and, per
 * accepted connection, a session (http_session.c) fed from sf_recv and
 * drained into sf_send. Everything is non-blocking and driven by
 * sf_http_server_poll(); time comes from the caller.
 *
 * Persistence follows RFC 9112 §9.3: connections stay open after a response
 * unless the request or the response said close. Closing follows §9.6: after
 * the last response we half-close (FIN) and keep reading, discarding, until
 * the client closes too or send_timeout passes, so a client's late bytes
 * cannot turn our FIN into a reset that destroys the response.
 *
 * Deadlines, so slow or silent clients cannot hold the server (each phase
 * has its own, counted apart in the stats):
 *   - the request head must be complete header_timeout after its first byte
 *     (after the connection opened, for the first request): any number of
 *     one-byte dribbles does not extend it (slowloris);
 *   - a body must keep up min_body_rate after a grace of body_timeout;
 *   - between requests a connection may idle keepalive_timeout;
 *   - a response the client does not read for send_timeout is aborted.
 * A request cut off mid-way gets 408 (RFC 9110 §15.5.9); the others close.
 *
 * Fairness: when all max_conns slots are taken and a client waits in the
 * accept queue, the connection idle longest (between requests, or silent
 * since it opened) is closed to let it in. Those connections sit on a list
 * in the order they became idle, so the choice costs O(1). With none idle,
 * the request head that began longest ago (over 1 s) is reset instead.
 *
 * Work per poll is what changed, not how many connections are open: a
 * connection is stepped when the stack lists it ready (sf_ready_take: a
 * segment arrived, its state changed), when it was just accepted, or when
 * its last step made progress; the whole table is walked only when the
 * earliest deadline has passed. Thousands of idle or dribbling connections
 * thus cost nothing while a busy one is served. The server is the stack's
 * one reader of its readiness list.
 *
 * Memory: one read buffer for all connections; a connection keeps its own
 * copy of input only while a pipelined request waits for the response
 * before it to drain.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "app/http_int.h"

#define INBUF_CAP 16384
/* After our FIN, how long the client's late bytes are read and dropped
 * before the connection is closed anyway (nginx: lingering_timeout). */
#define LINGER_US 5000000LL

enum conn_state {
	CONN_OPEN,  /* reading requests, writing responses */
	CONN_DRAIN, /* our FIN is queued; discarding input until the peer's FIN */
};

typedef struct conn {
	struct conn *next, *prev;           /* all connections */
	struct conn *step_prev, *step_next; /* on the step list while on_step */
	bool on_step;
	struct conn *idle_prev, *idle_next; /* on the idle list while idle */
	bool on_idle;
	sf_sock_t sock;
	sf_http_session_t *sess;
	enum conn_state state;
	bool peer_eof;
	enum sf_http_phase phase; /* as of the last step */
	uint32_t served;          /* requests answered, as of the last step */
	int64_t phase_us;         /* when the current phase began */
	int64_t out_us;           /* last output progress, or when output became pending */
	bool out_pending;
	uint8_t *in; /* unparsed input kept between polls (pipelining); NULL: none */
	size_t in_off, in_len;
} conn_t;

struct sf_http_server {
	sf_stack_t *st;
	sf_http_server_config_t cfg;
	char *docroot; /* resolved, owned */
	sf_sock_t lsn;
	conn_t *conns;
	uint32_t conn_cnt;
	conn_t **by_slot; /* by sf_sock_slot, slot_cap entries */
	uint32_t slot_cap;
	conn_t *step_head, *step_tail; /* to step at the next poll, in order */
	int64_t scan_at;               /* the earliest deadline: walk the table then */
	conn_t *idle_head, *idle_tail; /* oldest idle first */
	uint8_t *rbuf;                 /* shared read buffer, INBUF_CAP */
	int64_t next_deadline;
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
	s->next_deadline = s->scan_at = INT64_MAX;
	if (cfg)
		s->cfg = *cfg;
	sf_http_config_fill(&s->cfg);
	s->rbuf = malloc(INBUF_CAP);
	if (!s->rbuf) {
		free(s);
		return NULL;
	}
	if (cfg && cfg->docroot) {
		s->docroot = realpath(cfg->docroot, NULL);
		if (!s->docroot) {
			free(s->rbuf);
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
		free(s->rbuf);
		free(s);
		return NULL;
	}
	return s;
}

/* ---- the idle list ---- */

static void idle_remove(sf_http_server_t *s, conn_t *c)
{
	if (!c->on_idle)
		return;
	if (c->idle_prev)
		c->idle_prev->idle_next = c->idle_next;
	else
		s->idle_head = c->idle_next;
	if (c->idle_next)
		c->idle_next->idle_prev = c->idle_prev;
	else
		s->idle_tail = c->idle_prev;
	c->idle_prev = c->idle_next = NULL;
	c->on_idle = false;
}

static void idle_append(sf_http_server_t *s, conn_t *c)
{
	c->idle_prev = s->idle_tail;
	c->idle_next = NULL;
	if (s->idle_tail)
		s->idle_tail->idle_next = c;
	else
		s->idle_head = c;
	s->idle_tail = c;
	c->on_idle = true;
}

/* ---- the step list: connections to look at at the next poll ---- */

static void step_add(sf_http_server_t *s, conn_t *c)
{
	if (c->on_step)
		return;
	c->on_step = true;
	c->step_next = NULL;
	c->step_prev = s->step_tail;
	if (s->step_tail)
		s->step_tail->step_next = c;
	else
		s->step_head = c;
	s->step_tail = c;
}

static conn_t *step_pop(sf_http_server_t *s)
{
	conn_t *c = s->step_head;
	if (!c)
		return NULL;
	s->step_head = c->step_next;
	if (s->step_head)
		s->step_head->step_prev = NULL;
	else
		s->step_tail = NULL;
	c->on_step = false;
	return c;
}

/* Takes c off the step list, in O(1) like idle_remove: eviction may free
 * a connection that is on it. */
static void step_remove(sf_http_server_t *s, conn_t *c)
{
	if (!c->on_step)
		return;
	if (c->step_prev)
		c->step_prev->step_next = c->step_next;
	else
		s->step_head = c->step_next;
	if (c->step_next)
		c->step_next->step_prev = c->step_prev;
	else
		s->step_tail = c->step_prev;
	c->on_step = false;
}

static void free_conn(sf_http_server_t *s, conn_t *c, bool abort)
{
	idle_remove(s, c);
	step_remove(s, c);
	int slot = sf_sock_slot(s->st, c->sock);
	if (slot >= 0 && (uint32_t)slot < s->slot_cap && s->by_slot[slot] == c)
		s->by_slot[slot] = NULL;
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

/* Unlinks c from the connection list and frees it. */
static void drop_conn(sf_http_server_t *s, conn_t *c, bool abort)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free_conn(s, c, abort);
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
	free(s->by_slot);
	free(s->docroot);
	free(s->rbuf);
	free(s);
}

void sf_http_server_stats(const sf_http_server_t *s, sf_http_server_stats_t *out)
{
	*out = s->stats;
	out->conns_open = s->conn_cnt;
}

int64_t sf_http_server_next_deadline(const sf_http_server_t *s)
{
	return s->next_deadline;
}

/* ---- deadlines ---- */

/* When c's current phase runs out of time. */
static int64_t conn_deadline(const sf_http_server_t *s, const conn_t *c)
{
	const sf_http_server_config_t *cfg = &s->cfg;
	if (c->out_pending)
		return c->out_us + cfg->send_timeout_us;
	if (c->state == CONN_DRAIN)
		return c->out_us +
		       (cfg->send_timeout_us < LINGER_US ? cfg->send_timeout_us : LINGER_US);
	switch (c->phase) {
	case SF_HTTP_HEAD:
		return c->phase_us + cfg->header_timeout_us;
	case SF_HTTP_BODY: {
		uint64_t got = sf_http_session_body_bytes(c->sess);
		/* 1 s more for every min_body_rate bytes (got < 2^44: no overflow). */
		int64_t earned = (int64_t)(got * 1000000ULL / cfg->min_body_rate);
		return c->phase_us + cfg->body_timeout_us + earned;
	}
	case SF_HTTP_IDLE:
	default:
		/* A connection that never sent a byte has the head's deadline. */
		return c->phase_us +
		       (c->served ? cfg->keepalive_timeout_us : cfg->header_timeout_us);
	}
}

/* Notes where c stands after a step: phase changes restart the phase's
 * clock; the idle list holds exactly the connections waiting for a request. */
static void note_progress(sf_http_server_t *s, conn_t *c, int64_t now_us, bool sent)
{
	enum sf_http_phase ph = sf_http_session_phase(c->sess);
	uint32_t served = sf_http_session_served(c->sess);
	if (ph != c->phase || served != c->served) {
		c->phase = ph;
		c->served = served;
		c->phase_us = now_us;
	}
	bool pending = sf_http_session_output_pending(c->sess);
	if (sent || (pending && !c->out_pending))
		c->out_us = now_us;
	c->out_pending = pending;
	bool idle = c->state == CONN_OPEN && ph == SF_HTTP_IDLE && !pending && !c->in_len &&
	            !sf_http_session_done(c->sess) && !c->peer_eof;
	if (idle && !c->on_idle)
		idle_append(s, c);
	else if (!idle)
		idle_remove(s, c);
}

/* ---- accepting, with eviction of idle connections when full ---- */

static bool accept_waiting(sf_http_server_t *s)
{
	sf_pollfd_t pf = {.sock = s->lsn, .events = SF_POLLIN};
	return sf_poll(s->st, &pf, 1) > 0 && (pf.revents & SF_POLLIN);
}

/* With no idle connection to give up, the slowest request head: the one
 * that began longest ago, if that is over SLOW_HEAD_US (a client that is not
 * dribbling sends its head in one round trip). O(connections), and only
 * when the table is full of unfinished heads: slowloris at full scale. */
#define SLOW_HEAD_US 1000000LL

static conn_t *slowest_head(sf_http_server_t *s, int64_t now_us)
{
	conn_t *v = NULL;
	for (conn_t *c = s->conns; c; c = c->next)
		if (c->state == CONN_OPEN && c->phase == SF_HTTP_HEAD && !c->out_pending &&
		    now_us - c->phase_us >= SLOW_HEAD_US && (!v || c->phase_us < v->phase_us))
			v = c;
	return v;
}

/* Makes by_slot hold slot (grown by doubling; not per packet: per accept
 * of a slot higher than any before). */
static bool slot_room(sf_http_server_t *s, uint32_t slot)
{
	if (slot < s->slot_cap)
		return true;
	uint32_t cap = s->slot_cap ? s->slot_cap : 64;
	while (cap <= slot)
		cap *= 2;
	conn_t **n = realloc(s->by_slot, cap * sizeof *n);
	if (!n)
		return false;
	memset(n + s->slot_cap, 0, (cap - s->slot_cap) * sizeof *n);
	s->by_slot = n;
	s->slot_cap = cap;
	return true;
}

static void accept_conns(sf_http_server_t *s, int64_t now_us)
{
	for (;;) {
		if (s->conn_cnt >= s->cfg.max_conns) {
			/* Full: make room only for a client that is really waiting:
			 * close the connection idle longest (FIN), else reset the
			 * slowest request head. */
			if (!accept_waiting(s))
				return;
			conn_t *v = s->idle_head;
			bool abort = false;
			if (!v) {
				v = slowest_head(s, now_us);
				abort = true;
			}
			if (!v)
				return;
			s->stats.conns_evicted++;
			drop_conn(s, v, abort);
		}
		uint32_t peer_addr = 0;
		uint16_t peer_port = 0;
		sf_sock_t a = sf_accept(s->st, s->lsn, &peer_addr, &peer_port);
		if (a < 0)
			return;
		conn_t *c = calloc(1, sizeof *c);
		if (c)
			c->sess = sf_http_session_new(&s->cfg, &s->stats);
		int slot = sf_sock_slot(s->st, a);
		if (!c || !c->sess || slot < 0 || !slot_room(s, (uint32_t)slot)) {
			if (c)
				sf_http_session_free(c->sess);
			free(c);
			sf_abort(s->st, a);
			continue;
		}
		s->by_slot[slot] = c;
		c->sock = a;
		sf_http_session_set_peer(c->sess, sf_sock_conn_id(s->st, a), peer_addr, peer_port);
		c->phase = SF_HTTP_IDLE;
		c->phase_us = c->out_us = now_us;
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->conn_cnt++;
		s->stats.conns_accepted++;
		idle_append(s, c);
		step_add(s, c); /* what arrived before the accept listed nothing */
		int64_t d = conn_deadline(s, c);
		if (d < s->scan_at)
			s->scan_at = d;
	}
}

enum step_result { STEP_IDLE, STEP_PROGRESS, STEP_CLOSE, STEP_ABORT };

/* Keeps what the session did not take yet: at most one read's worth. */
static bool keep_input(conn_t *c, const uint8_t *p, size_t n)
{
	if (!c->in && !(c->in = malloc(INBUF_CAP)))
		return false;
	memmove(c->in, p, n);
	c->in_off = 0;
	c->in_len = n;
	return true;
}

/* Moves one connection forward as far as it can go without waiting; *sent
 * tells whether response bytes left. */
static enum step_result step_conn(sf_http_server_t *s, conn_t *c, bool *sent)
{
	bool progress = false;
	*sent = false;
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
			progress = *sent = true;
		}
		if (sf_http_session_output_pending(c->sess))
			break;
		/* 2. The last response is out: half-close and drain. */
		if (c->state == CONN_OPEN && sf_http_session_done(c->sess)) {
			sf_shutdown(s->st, c->sock, SF_SHUT_WR);
			c->state = CONN_DRAIN;
			c->in_len = 0;
			progress = *sent = true;
		}
		if (c->state == CONN_DRAIN) {
			long r;
			while ((r = sf_recv(s->st, c->sock, s->rbuf, INBUF_CAP)) > 0) {
				s->stats.bytes_in += (uint64_t)r;
				progress = true;
			}
			if (r == SF_EAGAIN)
				break;
			return STEP_CLOSE; /* the peer's FIN, or an error */
		}
		/* 3. Parse what was kept from before. */
		if (c->in_len) {
			size_t used = sf_http_session_feed(c->sess, c->in + c->in_off, c->in_len);
			c->in_off += used;
			c->in_len -= used;
			if (!used && !sf_http_session_output_pending(c->sess))
				return STEP_ABORT; /* cannot happen; never spin */
			if (!c->in_len) {
				free(c->in);
				c->in = NULL;
			}
			progress = true;
			continue;
		}
		/* 4. Read more, straight into the session. */
		if (c->peer_eof)
			return STEP_CLOSE; /* everything answered */
		long r = sf_recv(s->st, c->sock, s->rbuf, INBUF_CAP);
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
		size_t used = sf_http_session_feed(c->sess, s->rbuf, (size_t)r);
		if (used < (size_t)r && !keep_input(c, s->rbuf + used, (size_t)r - used))
			return STEP_ABORT;
	}
	return progress ? STEP_PROGRESS : STEP_IDLE;
}

/* c's deadline passed: 408 to a request cut off mid-way, else close. */
static enum step_result expire(sf_http_server_t *s, conn_t *c)
{
	s->stats.conns_timed_out++;
	if (c->out_pending) {
		s->stats.timeouts_send++;
		return STEP_ABORT; /* the client stopped reading */
	}
	if (c->state == CONN_DRAIN) {
		s->stats.timeouts_send++;
		return STEP_CLOSE;
	}
	if (c->phase == SF_HTTP_HEAD)
		s->stats.timeouts_header++;
	else if (c->phase == SF_HTTP_BODY)
		s->stats.timeouts_body++;
	else if (c->served)
		s->stats.timeouts_keepalive++;
	else
		s->stats.timeouts_header++; /* silent since it opened */
	if (c->phase == SF_HTTP_IDLE)
		return STEP_CLOSE; /* nothing to answer: FIN, and the slot is free */
	/* RFC 9110 §15.5.9: 408 to a request that stalled, then close. */
	sf_http_session_timeout(c->sess);
	free(c->in);
	c->in = NULL;
	c->in_len = 0;
	bool sent;
	enum step_result r = step_conn(s, c, &sent);
	return r == STEP_IDLE ? STEP_PROGRESS : r;
}

/* Steps c, and expires it when it is stuck past its deadline. Returns 1 if
 * it made progress or ended, else 0; c is freed when it ended. Keeps
 * scan_at no later than c's deadline. */
static int visit(sf_http_server_t *s, conn_t *c, int64_t now_us)
{
	s->stats.conn_steps++;
	bool sent;
	enum step_result r = step_conn(s, c, &sent);
	if (r == STEP_PROGRESS || r == STEP_IDLE)
		note_progress(s, c, now_us, sent);
	if (r == STEP_IDLE && now_us >= conn_deadline(s, c)) {
		r = expire(s, c);
		if (r == STEP_PROGRESS)
			note_progress(s, c, now_us, true);
	}
	if (r == STEP_CLOSE || r == STEP_ABORT) {
		drop_conn(s, c, r == STEP_ABORT);
		return 1;
	}
	int64_t d = conn_deadline(s, c);
	if (d < s->scan_at)
		s->scan_at = d;
	if (r == STEP_PROGRESS) {
		step_add(s, c); /* until it stops: the bounded step may have more */
		return 1;
	}
	return 0;
}

#define READY_BATCH 64

int sf_http_server_poll(sf_http_server_t *s, int64_t now_us)
{
	if (!s)
		return SF_EINVAL;
	accept_conns(s, now_us);
	int progressed = 0;
	/* 1. What the stack says changed, then what was left from before. */
	sf_sock_t ready[READY_BATCH];
	int n;
	while ((n = sf_ready_take(s->st, ready, READY_BATCH)) > 0)
		for (int i = 0; i < n; i++) {
			int slot = sf_sock_slot(s->st, ready[i]);
			if (slot >= 0 && (uint32_t)slot < s->slot_cap && s->by_slot[slot] &&
			    s->by_slot[slot]->sock == ready[i])
				step_add(s, s->by_slot[slot]);
		}
	conn_t *last = s->step_tail, *c;
	while (last && (c = step_pop(s)) != NULL) {
		bool end = c == last;
		progressed += visit(s, c, now_us);
		if (end)
			break; /* those added again wait for the next poll */
	}
	/* 2. A deadline passed: walk the table, and learn the next one. */
	if (now_us >= s->scan_at) {
		s->scan_at = INT64_MAX;
		for (conn_t *x = s->conns, *nx; x; x = nx) {
			nx = x->next;
			progressed += visit(s, x, now_us);
		}
	}
	/* Slots freed above let waiting connections in. */
	accept_conns(s, now_us);
	s->next_deadline = s->step_head ? now_us : s->scan_at;
	return progressed;
}
