/* The scenarios of `synfin demo` (scenario.h). Each is a small pair of
 * applications on the socket API, run inside the simulator, whose choices
 * (who connects, who closes first, who aborts, when) give one particular
 * life of a TCP connection as RFC 9293 §3.3.2 (Figure 5) draws it:
 *
 *   handshake           CLOSED -> SYN-SENT / LISTEN -> SYN-RECEIVED -> ESTABLISHED
 *   http                a GET / on HTTP/1.1; the client closes once the response is in
 *   active-close        the client closes first: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT
 *   passive-close       the server closes first; the client goes CLOSE-WAIT, LAST-ACK
 *   simultaneous-open   SYNs cross: SYN-SENT -> SYN-RECEIVED on both sides (§3.5, Figure 8)
 *   simultaneous-close  FINs cross: FIN-WAIT-1 -> CLOSING -> TIME-WAIT on both (§3.6, Figure 13)
 *   half-close          the client shuts down sending and still receives (§3.6)
 *   reset               the server aborts mid-transfer: RST (§3.10.5 ABORT)
 *   syn-loss            the first SYN is lost and sent again after RTO = 1 s (RFC 6298 (2.1))
 *   data-loss           one data segment is lost and retransmitted (RFC 6298 (5))
 *   time-wait-reuse     a new SYN on the 4-tuple of a TIME-WAIT (RFC 6191, RFC 9293 §3.6.1)
 *
 * Most of them share one request/response application (struct rr below)
 * that differs only in sizes and in how it ends.
 */
#include "scenario.h"

#include <stdlib.h>
#include <string.h>

#include "synfin/wire.h"

#ifdef SYNFIN_HAVE_HTTP
#include "synfin/http.h"
#endif

/* ---- the request/response application ---- */

enum close_mode {
	CLOSE_CLIENT, /* the client closes after reading the response */
	CLOSE_SERVER, /* the server closes once its response is acknowledged */
	CLOSE_BOTH,   /* both close at the same instant once the exchange is over */
	CLOSE_HALF,   /* the client shuts down sending after its request; the server
	                 answers after the end of stream, then closes */
};

typedef struct rr {
	/* what to do */
	size_t req_len, resp_len;
	enum close_mode mode;
	uint64_t abort_after; /* the server aborts after reading this much (0: never) */
	bool simultaneous_open;
	/* progress of the current connection */
	sf_sock_t lsn, cs, ss;
	uint64_t c_sent, c_rcvd, s_sent, s_rcvd;
	bool c_eof, s_eof, c_closed, s_closed, c_shut, aborted;
	bool finished;
	/* time-wait-reuse: connections still to open after this one */
	int again;
	int64_t reconnect_at;
	int busy_retries; /* reconnections put off while the old port was taken */
} rr_t;

/* The byte at offset i of what side s sends: readable text, so a capture
 * of the demo shows a request and a response. */
static uint8_t payload_byte(int side, uint64_t i)
{
	static const char req[] = "hello, server\n";
	static const char resp[] = "hello, client\n";
	const char *p = side == 0 ? req : resp;
	size_t n = sizeof(req) - 1;
	return (uint8_t)p[i % n];
}

/* Sends what is left of `total` bytes; returns true when all went. */
static bool push(demo_t *d, int side, sf_sock_t s, uint64_t *sent, uint64_t total)
{
	uint8_t buf[4096];
	while (*sent < total) {
		size_t n = total - *sent < sizeof buf ? (size_t)(total - *sent) : sizeof buf;
		for (size_t k = 0; k < n; k++)
			buf[k] = payload_byte(side, *sent + k);
		long w = sf_send(d->st[side], s, buf, n);
		if (w <= 0)
			return false;
		*sent += (uint64_t)w;
		d->bytes[side] += (uint64_t)w;
	}
	return true;
}

/* Reads everything there is; sets *eof at the end of stream. Returns the
 * connection's error (reset, ...) or 0. */
static int pull(demo_t *d, int side, sf_sock_t s, uint64_t *rcvd, bool *eof)
{
	uint8_t buf[4096];
	for (;;) {
		long r = sf_recv(d->st[side], s, buf, sizeof buf);
		if (r > 0) {
			*rcvd += (uint64_t)r;
			d->rcvd[side] += (uint64_t)r;
			continue;
		}
		if (r == 0)
			*eof = true;
		return r == SF_EAGAIN || r == 0 ? 0 : (int)r;
	}
}

static bool connected(demo_t *d, int side, sf_sock_t s)
{
	sf_tcp_info_t ti;
	if (sf_tcp_info(d->st[side], s, &ti) < 0)
		return false;
	return ti.state == SF_ESTABLISHED || ti.state == SF_CLOSE_WAIT;
}

/* True when everything `side` sent on s has been acknowledged. */
static bool all_acked(demo_t *d, int side, sf_sock_t s, uint64_t sent)
{
	sf_tcp_info_t ti;
	return sf_tcp_info(d->st[side], s, &ti) == 0 && ti.bytes_acked >= sent;
}

static void note_conn(demo_t *d, int side, sf_sock_t s, int index)
{
	if (index < DEMO_MAX_CONNS) {
		d->conn[index].id[side] = sf_sock_conn_id(d->st[side], s);
		if (d->conn_cnt < index + 1)
			d->conn_cnt = index + 1;
	}
}

/* Opens the client side of a new connection (and for simultaneous open the
 * server side too). */
static int rr_open(demo_t *d, rr_t *a, bool bind_client)
{
	int index = d->conn_cnt;
	a->cs = sf_socket(d->st[0]);
	if (a->cs < 0)
		return a->cs;
	if (bind_client) {
		int rc = sf_bind(d->st[0], a->cs, DEMO_CLIENT_PORT);
		if (rc < 0)
			return rc;
	}
	uint32_t srv = sf_simnet_addr(d->net, 1), cli = sf_simnet_addr(d->net, 0);
	if (a->simultaneous_open) {
		/* RFC 9293 §3.5, Figure 8: both ends send a SYN at the same
		 * instant, each to the other's bound port. */
		a->ss = sf_socket(d->st[1]);
		if (a->ss < 0)
			return a->ss;
		int rc = sf_bind(d->st[1], a->ss, DEMO_SERVER_PORT);
		if (rc < 0)
			return rc;
		rc = sf_connect(d->st[0], a->cs, srv, DEMO_SERVER_PORT);
		if (rc < 0 && rc != SF_EINPROGRESS)
			return rc;
		rc = sf_connect(d->st[1], a->ss, cli, DEMO_CLIENT_PORT);
		if (rc < 0 && rc != SF_EINPROGRESS)
			return rc;
		note_conn(d, 1, a->ss, index);
	} else {
		int rc = sf_connect(d->st[0], a->cs, srv, DEMO_SERVER_PORT);
		if (rc < 0 && rc != SF_EINPROGRESS)
			return rc;
	}
	note_conn(d, 0, a->cs, index);
	a->c_sent = a->c_rcvd = a->s_sent = a->s_rcvd = 0;
	a->c_eof = a->s_eof = a->c_closed = a->s_closed = a->c_shut = a->aborted = false;
	a->finished = false;
	if (!a->simultaneous_open)
		a->ss = 0;
	return 0;
}

static int rr_start(demo_t *d, rr_t *a)
{
	d->app = a;
	if (!a->simultaneous_open) {
		a->lsn = sf_socket(d->st[1]);
		if (a->lsn < 0)
			return a->lsn;
		int rc = sf_bind(d->st[1], a->lsn, DEMO_SERVER_PORT);
		if (rc < 0)
			return rc;
		rc = sf_listen(d->st[1], a->lsn, 8);
		if (rc < 0)
			return rc;
	}
	return rr_open(d, a, a->simultaneous_open || a->again > 0);
}

static void client_close(demo_t *d, rr_t *a)
{
	if (!a->c_closed) {
		sf_close(d->st[0], a->cs);
		a->c_closed = true;
	}
}

static void server_close(demo_t *d, rr_t *a)
{
	if (!a->s_closed) {
		sf_close(d->st[1], a->ss);
		a->s_closed = true;
	}
}

static void rr_client(demo_t *d, rr_t *a)
{
	if (a->c_closed || !a->cs)
		return;
	int err = pull(d, 0, a->cs, &a->c_rcvd, &a->c_eof);
	if (err < 0) {
		client_close(d, a); /* reset by the peer: release the handle */
		return;
	}
	if (connected(d, 0, a->cs) && push(d, 0, a->cs, &a->c_sent, a->req_len) &&
	    a->mode == CLOSE_HALF && !a->c_shut) {
		/* RFC 9293 §3.6: CLOSE means "I have no more to send". */
		sf_shutdown(d->st[0], a->cs, SF_SHUT_WR);
		a->c_shut = true;
	}
	switch (a->mode) {
	case CLOSE_CLIENT:
		if (a->c_rcvd >= a->resp_len && a->c_sent >= a->req_len)
			client_close(d, a);
		break;
	case CLOSE_SERVER:
	case CLOSE_HALF:
		if (a->c_eof)
			client_close(d, a);
		break;
	case CLOSE_BOTH:
		break;
	}
}

static void rr_server(demo_t *d, rr_t *a)
{
	if (!a->ss) {
		sf_sock_t s = sf_accept(d->st[1], a->lsn, NULL, NULL);
		if (s <= 0)
			return;
		a->ss = s;
		note_conn(d, 1, s, d->conn_cnt - 1);
	}
	if (a->s_closed)
		return;
	int err = pull(d, 1, a->ss, &a->s_rcvd, &a->s_eof);
	if (err < 0) {
		server_close(d, a);
		return;
	}
	if (a->abort_after && a->s_rcvd >= a->abort_after) {
		/* RFC 9293 §3.10.5: ABORT sends a RST and forgets the connection. */
		sf_abort(d->st[1], a->ss);
		a->s_closed = a->aborted = true;
		return;
	}
	bool request_in = a->s_rcvd >= a->req_len && (a->mode != CLOSE_HALF || a->s_eof);
	bool replied = false;
	if (request_in && connected(d, 1, a->ss))
		replied = push(d, 1, a->ss, &a->s_sent, a->resp_len);
	switch (a->mode) {
	case CLOSE_CLIENT:
		if (a->s_eof && replied)
			server_close(d, a);
		break;
	case CLOSE_SERVER:
	case CLOSE_HALF:
		if (replied && all_acked(d, 1, a->ss, a->s_sent))
			server_close(d, a);
		break;
	case CLOSE_BOTH:
		break;
	}
}

static void rr_pump(demo_t *d)
{
	rr_t *a = d->app;
	if (a->finished) {
		if (a->again > 0 && sf_simnet_now(d->net) >= a->reconnect_at) {
			a->again--;
			int rc = rr_open(d, a, true);
			if (rc == SF_EADDRINUSE && a->busy_retries < 600) {
				/* The client's old connection is still in LAST-ACK: on
				 * a slow link (--delay-ms 700 and more) the ACK of its
				 * FIN is more than the second away, and the port is
				 * its until then. Try again 100 ms later (at most a
				 * minute). */
				sf_close(d->st[0], a->cs);
				a->again++;
				a->busy_retries++;
				a->reconnect_at = sf_simnet_now(d->net) + 100000;
				sf_simnet_wake(d->net, a->reconnect_at);
				return;
			}
			if (rc < 0) {
				d->failure = "could not open the next connection";
				d->done = true;
			}
		}
		return;
	}
	rr_client(d, a);
	rr_server(d, a);
	if (a->mode == CLOSE_BOTH && !a->c_closed && !a->s_closed && a->c_rcvd >= a->resp_len &&
	    a->s_rcvd >= a->req_len && a->s_sent >= a->resp_len &&
	    all_acked(d, 1, a->ss, a->s_sent) && all_acked(d, 0, a->cs, a->c_sent)) {
		/* RFC 9293 §3.6, Figure 13: both CLOSE at the same instant. */
		client_close(d, a);
		server_close(d, a);
	}
	bool client_over = a->c_closed;
	bool server_over = a->s_closed;
	if (client_over && server_over) {
		a->finished = true;
		if (a->again > 0) {
			/* Connect again a second later, while the server still
			 * holds the old connection in TIME-WAIT. */
			a->reconnect_at = sf_simnet_now(d->net) + 1000000;
			sf_simnet_wake(d->net, a->reconnect_at);
		} else {
			d->done = true;
		}
	}
}

static rr_t *rr_new(void)
{
	return calloc(1, sizeof(rr_t));
}

static void rr_cleanup(demo_t *d)
{
	free(d->app);
	d->app = NULL;
}

#define MSG_LEN 14 /* "hello, server\n", "hello, client\n" */

/* ---- handshake: connect and accept, nothing more ---- */

typedef struct hs {
	sf_sock_t lsn, cs, ss;
} hs_t;

static int handshake_start(demo_t *d)
{
	hs_t *h = calloc(1, sizeof *h);
	if (!h)
		return SF_ENOMEM;
	d->app = h;
	h->lsn = sf_socket(d->st[1]);
	int rc = sf_bind(d->st[1], h->lsn, DEMO_SERVER_PORT);
	if (rc == 0)
		rc = sf_listen(d->st[1], h->lsn, 8);
	if (rc < 0)
		return rc;
	h->cs = sf_socket(d->st[0]);
	rc = sf_connect(d->st[0], h->cs, sf_simnet_addr(d->net, 1), DEMO_SERVER_PORT);
	if (rc < 0 && rc != SF_EINPROGRESS)
		return rc;
	note_conn(d, 0, h->cs, 0);
	return 0;
}

static void handshake_pump(demo_t *d)
{
	hs_t *h = d->app;
	if (!h->ss) {
		sf_sock_t s = sf_accept(d->st[1], h->lsn, NULL, NULL);
		if (s > 0) {
			h->ss = s;
			note_conn(d, 1, s, 0);
		}
	}
	if (h->ss && connected(d, 0, h->cs))
		d->done = true;
}

/* ---- the request/response scenarios ---- */

static int active_close_start(demo_t *d)
{
	rr_t *a = rr_new();
	if (!a)
		return SF_ENOMEM;
	*a = (rr_t){.req_len = MSG_LEN, .resp_len = MSG_LEN, .mode = CLOSE_CLIENT};
	return rr_start(d, a);
}

static int passive_close_start(demo_t *d)
{
	rr_t *a = rr_new();
	if (!a)
		return SF_ENOMEM;
	*a = (rr_t){.req_len = MSG_LEN, .resp_len = MSG_LEN, .mode = CLOSE_SERVER};
	return rr_start(d, a);
}

static int simultaneous_open_start(demo_t *d)
{
	rr_t *a = rr_new();
	if (!a)
		return SF_ENOMEM;
	*a = (rr_t){.req_len = MSG_LEN,
	            .resp_len = MSG_LEN,
	            .mode = CLOSE_CLIENT,
	            .simultaneous_open = true};
	return rr_start(d, a);
}

static int simultaneous_close_start(demo_t *d)
{
	rr_t *a = rr_new();
	if (!a)
		return SF_ENOMEM;
	*a = (rr_t){.req_len = MSG_LEN, .resp_len = MSG_LEN, .mode = CLOSE_BOTH};
	return rr_start(d, a);
}

static int half_close_start(demo_t *d)
{
	rr_t *a = rr_new();
	if (!a)
		return SF_ENOMEM;
	/* The answer takes three segments, all sent in CLOSE-WAIT and
	 * received in FIN-WAIT-2. */
	*a = (rr_t){.req_len = MSG_LEN, .resp_len = 3000, .mode = CLOSE_HALF};
	return rr_start(d, a);
}

static int reset_start(demo_t *d)
{
	rr_t *a = rr_new();
	if (!a)
		return SF_ENOMEM;
	/* A 64 KiB upload; the server aborts once it has read 8 KiB. The
	 * client would only close at the end of the stream: it is still
	 * ESTABLISHED when the RST arrives. */
	*a = (rr_t){.req_len = 65536, .resp_len = 0, .mode = CLOSE_SERVER, .abort_after = 8192};
	return rr_start(d, a);
}

static int syn_loss_start(demo_t *d)
{
	return active_close_start(d);
}

/* The first SYN falls into a blackout of the client-to-server direction
 * that covers only the very first instant. */
static void syn_loss_prepare(demo_t *d, sf_simnet_opts_t *o, sf_impair_t imp[2])
{
	(void)d;
	int64_t t0 = o->start_us ? o->start_us : SF_SIMNET_START_US;
	imp[0].blackout_start_us = t0;
	imp[0].blackout_end_us = t0 + 1;
}

static int data_loss_start(demo_t *d)
{
	rr_t *a = rr_new();
	if (!a)
		return SF_ENOMEM;
	/* Four full-sized segments of request; the second is lost. */
	*a = (rr_t){.req_len = 4 * 1448, .resp_len = MSG_LEN, .mode = CLOSE_CLIENT};
	return rr_start(d, a);
}

/* Drops the client's data segment that starts at relative offset
 * d->lose_data_at, the first time it is sent. */
static bool lose_one_segment(void *ctx, int side, const uint8_t *frame, size_t len, int64_t now_us)
{
	(void)now_us;
	demo_t *d = ctx;
	if (side != 0 || d->lost_once)
		return true;
	sf_ipv4_t ip;
	sf_tcp_t tcp;
	if (sf_ipv4_parse(frame, len, &ip) < 0 || ip.proto != 6 ||
	    sf_tcp_parse(frame + ip.hdr_len, ip.total_len - ip.hdr_len, ip.src, ip.dst, false,
	                 &tcp) < 0)
		return true;
	if ((tcp.flags & SF_TCP_SYN) && !(tcp.flags & SF_TCP_ACK)) {
		d->client_iss = tcp.seq;
		d->client_iss_known = true;
		return true;
	}
	/* Relative offset 1 is the first data byte (the SYN took the ISN). */
	if (d->client_iss_known && tcp.payload_len > 0 &&
	    tcp.seq - d->client_iss == d->lose_data_at) {
		d->lost_once = true;
		return false;
	}
	return true;
}

static void data_loss_prepare(demo_t *d, sf_simnet_opts_t *o, sf_impair_t imp[2])
{
	(void)imp;
	d->lose_data_at = 1 + 1448; /* the second segment */
	o->filter = lose_one_segment;
	o->filter_ctx = d;
}

static int time_wait_reuse_start(demo_t *d)
{
	rr_t *a = rr_new();
	if (!a)
		return SF_ENOMEM;
	/* The server closes first, so it holds TIME-WAIT; the client comes
	 * back from the same port a second later (one more connection). */
	*a = (rr_t){.req_len = MSG_LEN, .resp_len = MSG_LEN, .mode = CLOSE_SERVER, .again = 1};
	return rr_start(d, a);
}

/* ---- http: GET / from the HTTP/1.1 server ---- */

#ifdef SYNFIN_HAVE_HTTP
typedef struct http_app {
	sf_http_server_t *srv;
	sf_http_client_t *cli;
	bool got; /* the client has the whole response */
} http_app_t;

static const char page[] = "<!DOCTYPE html>\n"
                           "<title>synfin</title>\n"
                           "<p>Hello from synfin, a userspace TCP/IPv4 stack.</p>\n";

static int http_page(void *ctx, const sf_http_request_t *req, sf_http_response_t *resp)
{
	(void)ctx;
	if (strcmp(req->path, "/") != 0)
		return 1; /* the built-in 404 */
	return sf_http_response_write(resp, page, sizeof page - 1);
}

static int http_start(demo_t *d)
{
	http_app_t *h = calloc(1, sizeof *h);
	if (!h)
		return SF_ENOMEM;
	d->app = h;
	sf_http_server_config_t cfg;
	sf_http_server_config_default(&cfg);
	cfg.port = DEMO_SERVER_PORT;
	cfg.handler = http_page;
	/* The simulation's clock is virtual: no Date (RFC 9110 §6.6.1 lets a
	 * server without a reliable clock omit it), so a demo's bytes, pcap
	 * included, are the same every run. */
	cfg.no_date = true;
	h->srv = sf_http_server_new(d->st[1], &cfg);
	if (!h->srv)
		return SF_ENOMEM;
	/* HTTP/1.1 keeps the connection open; the client closes it once the
	 * response is complete, so the client is the active closer. */
	/* The client gives up after 30 s without progress; the answer comes
	 * two round trips after the SYN, so a slow link (--delay-ms past 5 s)
	 * gets longer. */
	sf_http_client_options_t co = {0};
	if (d->delay_us > 5000000)
		co.timeout_us = 10000000 + 4 * d->delay_us;
	h->cli = sf_http_get_start_ex(d->st[0], sf_simnet_addr(d->net, 1), DEMO_SERVER_PORT, NULL,
	                              "/", &co);
	if (!h->cli)
		return SF_ENOMEM;
	/* The server's connection is found by its 4-tuple. */
	d->conn[0].id[0] = sf_http_client_conn_id(h->cli);
	d->conn_cnt = 1;
	return 0;
}

static void http_pump(demo_t *d)
{
	http_app_t *h = d->app;
	int64_t now = sf_simnet_now(d->net);
	sf_http_server_poll(h->srv, now);
	if (!h->got) {
		int rc = sf_http_client_poll(h->cli, now);
		if (rc != SF_EAGAIN) {
			h->got = true;
			if (rc < 0 || sf_http_client_status(h->cli) != 200)
				d->failure = "the GET / did not get 200 OK";
		}
	}
	int64_t due = sf_http_server_next_deadline(h->srv);
	if (due != INT64_MAX)
		sf_simnet_wake(d->net, due);
	sf_http_server_stats_t ss;
	sf_http_server_stats(h->srv, &ss);
	d->rcvd[1] = ss.bytes_in;  /* the request, as the server read it */
	d->rcvd[0] = ss.bytes_out; /* the response, as the server wrote it */
	if (h->got && ss.conns_open == 0)
		d->done = true;
}

static void http_cleanup(demo_t *d)
{
	http_app_t *h = d->app;
	if (h) {
		sf_http_client_free(h->cli);
		sf_http_server_free(h->srv);
		free(h);
	}
	d->app = NULL;
}
#endif

/* ---- the table ---- */

const scenario_t demo_scenarios[] = {
#ifdef SYNFIN_HAVE_HTTP
        {"http", "GET / over HTTP/1.1: handshake, request, response, close, TIME-WAIT",
         "HTTP/1.1 的 GET /：三次握手、请求、响应、四次挥手、TIME-WAIT", NULL, http_start,
         http_pump, http_cleanup},
#endif
        {"handshake", "the three-way handshake alone", "只有三次握手", NULL, handshake_start,
         handshake_pump, rr_cleanup},
        {"active-close", "the client closes first: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT",
         "客户端先关闭：FIN-WAIT-1、FIN-WAIT-2、TIME-WAIT", NULL, active_close_start, rr_pump,
         rr_cleanup},
        {"passive-close", "the server closes first; the client is the passive closer",
         "服务器先关闭；客户端被动关闭：CLOSE-WAIT、LAST-ACK", NULL, passive_close_start, rr_pump,
         rr_cleanup},
        {"simultaneous-open", "both ends send a SYN at the same instant (RFC 9293 Figure 8)",
         "双方同时发送 SYN（RFC 9293 图 8）", NULL, simultaneous_open_start, rr_pump, rr_cleanup},
        {"simultaneous-close", "both ends close at the same instant: CLOSING (RFC 9293 Figure 13)",
         "双方同时关闭：CLOSING（RFC 9293 图 13）", NULL, simultaneous_close_start, rr_pump,
         rr_cleanup},
        {"half-close", "the client stops sending and still receives the answer",
         "半关闭：客户端停止发送，仍然接收服务器的数据", NULL, half_close_start, rr_pump,
         rr_cleanup},
        {"reset", "the server aborts in the middle of an upload: RST",
         "服务器在上传中途中止连接：RST", NULL, reset_start, rr_pump, rr_cleanup},
        {"syn-loss", "the first SYN is lost and retransmitted after 1 s",
         "第一个 SYN 丢失，1 秒后重传", syn_loss_prepare, syn_loss_start, rr_pump, rr_cleanup},
        {"data-loss", "a data segment is lost and retransmitted", "一个数据报文段丢失并被重传",
         data_loss_prepare, data_loss_start, rr_pump, rr_cleanup},
        {"time-wait-reuse", "a new SYN reopens the 4-tuple of a TIME-WAIT (RFC 6191)",
         "新的 SYN 重新使用处于 TIME-WAIT 的四元组（RFC 6191）", NULL, time_wait_reuse_start,
         rr_pump, rr_cleanup},
};

const int demo_scenario_cnt = (int)(sizeof demo_scenarios / sizeof demo_scenarios[0]);

const scenario_t *demo_scenario_find(const char *name)
{
	for (int i = 0; i < demo_scenario_cnt; i++)
		if (!strcmp(demo_scenarios[i].name, name))
			return &demo_scenarios[i];
	return NULL;
}
