/* sfpeer: one scripted synfin TCP connection over a TUN device, for the
 * interop tests (the .sh files in tests/interop) that need exact control of who closes
 * when: simultaneous close (both FINs in flight at once, made reliable by a
 * one-way delay on synfin's link), half-close, and a connection refused.
 *
 *   sfpeer [options] connect A.B.C.D PORT     active open to the kernel
 *   sfpeer [options] listen PORT              passive open, one connection
 *
 * After the connection opens it sends --send bytes, then (with
 * --close-after-ms) closes W ms after ESTABLISHED, or with --shutdown
 * half-closes and reads until the peer's FIN. Without either it waits for
 * the peer's FIN and then closes (passive close). It reads and counts
 * everything the peer sends. It runs until the connection is CLOSED
 * (through TIME-WAIT, made short with --msl-ms) and then prints, from the
 * stack's own trace events:
 *
 *   states: SYN-SENT ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT CLOSED
 *   received: N
 *
 * Exit status: 0 the connection reached CLOSED, 3 connection refused, 1
 * anything else (timeout, reset, bad usage: 2).
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synfin/loop.h"

#define MAX_STATES 64

typedef struct peer {
	/* options */
	bool active;
	uint32_t addr;
	uint16_t port;
	long close_after_ms; /* -1: never */
	uint64_t send_total;
	bool shutdown_wr;
	/* run */
	sf_sock_t lsn, sock;
	uint32_t conn_id;
	int64_t est_us; /* 0: not yet established */
	uint64_t sent, received;
	bool closed_by_us, eof, shut, done;
	int error;
	/* trace */
	struct {
		uint32_t conn_id;
		sf_state_t to;
	} states[MAX_STATES];
	int state_cnt;
	bool reached_closed;
} peer_t;

static sf_loop_t *loop;

static void on_signal(int sig)
{
	(void)sig;
	sf_loop_stop(loop);
}

static void on_event(void *ctx, const sf_event_t *ev)
{
	peer_t *p = ctx;
	if (ev->kind != SF_EV_STATE || p->state_cnt == MAX_STATES)
		return;
	p->states[p->state_cnt].conn_id = ev->conn_id;
	p->states[p->state_cnt].to = ev->u.state.to;
	p->state_cnt++;
	if (p->conn_id && ev->conn_id == p->conn_id && ev->u.state.to == SF_CLOSED)
		p->reached_closed = true;
}

static void close_once(peer_t *p, sf_stack_t *st)
{
	if (p->sock > 0 && !p->closed_by_us) {
		sf_close(st, p->sock);
		p->closed_by_us = true;
		p->sock = 0;
	}
}

static int64_t on_ready(void *ctx, sf_loop_t *lp, int64_t now)
{
	peer_t *p = ctx;
	sf_stack_t *st = sf_loop_stack(lp);
	if (!p->active && p->sock == 0 && !p->closed_by_us) {
		sf_sock_t s = sf_accept(st, p->lsn, NULL, NULL);
		if (s > 0) {
			p->sock = s;
			p->conn_id = sf_sock_conn_id(st, s);
		}
	}
	if (p->sock <= 0)
		return INT64_MAX;
	sf_pollfd_t pf = {.sock = p->sock, .events = SF_POLLIN | SF_POLLOUT};
	sf_poll(st, &pf, 1);
	if (!p->est_us && (pf.revents & SF_POLLOUT))
		p->est_us = now;
	if (p->est_us) {
		static const char pattern[4096] = "synfin interop pattern ";
		while (p->sent < p->send_total) {
			uint64_t n = p->send_total - p->sent;
			long r = sf_send(st, p->sock, pattern,
			                 n < sizeof pattern ? n : sizeof pattern);
			if (r <= 0)
				break;
			p->sent += (uint64_t)r;
		}
	}
	char buf[16384];
	long r;
	while ((r = sf_recv(st, p->sock, buf, sizeof buf)) > 0)
		p->received += (uint64_t)r;
	if (r == 0)
		p->eof = true;
	else if (r != SF_EAGAIN) {
		p->error = (int)r;
		sf_abort(st, p->sock);
		p->sock = 0;
		p->done = true;
		return INT64_MAX;
	}
	int64_t wake = INT64_MAX;
	if (p->est_us && p->sent == p->send_total) {
		if (p->shutdown_wr && !p->shut) {
			sf_shutdown(st, p->sock, SF_SHUT_WR);
			p->shut = true;
		} else if (p->close_after_ms >= 0 && !p->shutdown_wr) {
			int64_t at = p->est_us + p->close_after_ms * 1000;
			if (now >= at)
				close_once(p, st);
			else
				wake = at;
		}
	}
	if (p->eof && p->sock > 0 && p->sent == p->send_total &&
	    (p->shutdown_wr || p->close_after_ms < 0 || p->shut))
		close_once(p, st); /* the peer finished: close our side (passive close) */
	return wake;
}

static bool finished(void *ctx)
{
	peer_t *p = ctx;
	return p->done || p->reached_closed;
}

static int usage(void)
{
	fprintf(stderr, "usage: sfpeer [--pcap F] [--delay-ms D] [--loss P] [--msl-ms M] "
	                "[--send N] [--close-after-ms W] [--shutdown] [--timeout-s T]\n"
	                "              connect A.B.C.D PORT | listen PORT\n");
	return 2;
}

int main(int argc, char **argv)
{
	peer_t p = {.close_after_ms = -1};
	sf_impair_t imp = {0};
	const char *pcap = NULL;
	long msl_ms = 250, timeout_s = 20;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "--shutdown")) {
			p.shutdown_wr = true;
			i--;
			continue;
		}
		if (i + 1 >= argc)
			return usage();
		const char *v = argv[i + 1];
		if (!strcmp(argv[i], "--pcap"))
			pcap = v;
		else if (!strcmp(argv[i], "--delay-ms"))
			imp.delay_us = atol(v) * 1000;
		else if (!strcmp(argv[i], "--loss"))
			imp.loss = atof(v);
		else if (!strcmp(argv[i], "--msl-ms"))
			msl_ms = atol(v);
		else if (!strcmp(argv[i], "--send"))
			p.send_total = strtoull(v, NULL, 10);
		else if (!strcmp(argv[i], "--close-after-ms"))
			p.close_after_ms = atol(v);
		else if (!strcmp(argv[i], "--timeout-s"))
			timeout_s = atol(v);
		else
			return usage();
	}
	struct in_addr a;
	if (i + 3 == argc && !strcmp(argv[i], "connect") && inet_pton(AF_INET, argv[i + 1], &a)) {
		p.active = true;
		p.addr = ntohl(a.s_addr);
		p.port = (uint16_t)atoi(argv[i + 2]);
	} else if (i + 2 == argc && !strcmp(argv[i], "listen")) {
		p.port = (uint16_t)atoi(argv[i + 1]);
	} else {
		return usage();
	}

	sf_config_t cfg;
	sf_config_default(&cfg);
	cfg.msl_ms = (uint32_t)msl_ms;
	cfg.trace = (sf_trace_sink_t){.fn = on_event, .ctx = &p};
	bool impaired = imp.delay_us || imp.loss > 0;
	sf_loop_tun_opts_t o = {.cfg = &cfg,
	                        .pcap_path = pcap,
	                        .impair_tx = impaired ? &imp : NULL,
	                        .impair_rx = impaired ? &imp : NULL,
	                        .impair_seed = 7};
	char err[160];
	if (sf_loop_open_tun(&o, &loop, err, sizeof err) < 0) {
		fprintf(stderr, "sfpeer: %s\n", err);
		return 1;
	}
	sf_stack_t *st = sf_loop_stack(loop);
	if (p.active) {
		p.sock = sf_socket(st);
		sf_connect(st, p.sock, p.addr, p.port);
		p.conn_id = sf_sock_conn_id(st, p.sock);
	} else {
		p.lsn = sf_socket(st);
		if (sf_bind(st, p.lsn, p.port) < 0 || sf_listen(st, p.lsn, 4) < 0) {
			fprintf(stderr, "sfpeer: cannot listen on %u\n", p.port);
			return 1;
		}
		printf("listening\n");
		fflush(stdout);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	sf_loop_set_app(loop, on_ready, &p);
	int rc = sf_loop_run_until(loop, finished, &p, timeout_s * 1000000);
	sf_loop_set_app(loop, NULL, NULL);
	sf_loop_run(loop, 50000); /* a last ACK, a RST for a late segment */

	printf("states:");
	for (int k = 0; k < p.state_cnt; k++)
		if (p.states[k].conn_id == p.conn_id)
			printf(" %s", sf_state_name(p.states[k].to));
	printf("\nreceived: %llu\n", (unsigned long long)p.received);
	if (p.error)
		printf("error: %s\n", sf_strerror(p.error));
	else if (rc == SF_ETIMEDOUT)
		printf("error: timed out\n");
	sf_loop_destroy(loop);
	if (p.error == SF_ECONNREFUSED)
		return 3;
	return p.reached_closed && !p.error ? 0 : 1;
}
