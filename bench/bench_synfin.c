/* synfin in memory: several stacks in one process, handing frames to each
 * other directly (no simulated link, no delays), driven by the real monotonic
 * clock. A stack's cfg.transmit copies each frame into the queue of the stack
 * it is addressed to; one iteration of the driver hands every queued frame to
 * its stack (sf_stack_input), runs the application, then polls every stack
 * (sf_stack_poll), which emits the next frames. Checksums are computed and
 * verified for real (verify_checksums stays on).
 *
 *   bench_synfin bulk [--size 1G] [--buf 64K] [--verify]
 *   bench_synfin crr  [--secs 10] [--clients 16] [--ports 16] [--inflight 16] [--rst]
 *                     [--hugepages on|off] (the server's tables on huge pages, default on)
 *   bench_synfin rr   [--secs 5]
 *   bench_synfin mem  [--conns 100000]
 *   bench_synfin tw   [--count 100000]
 *
 * Addresses come from 198.18.0.0/15 (RFC 2544, benchmarking); nothing here
 * touches a real interface.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "core/stack.h" /* sizeof(sf_tcb_t), sizeof(sf_tw_t) for the memory report */
#include "synfin/synfin.h"

#define NET_BASE 0xC6120001u /* 198.18.0.1: node i has NET_BASE + i */

typedef struct net net_t;
typedef struct node {
	sf_stack_t *st;
	uint32_t addr;
	bench_fq_t q[2]; /* q[fill] collects frames for this node */
	int fill;
	net_t *net;
} node_t;

struct net {
	node_t *nodes;
	int n;
	uint64_t frames, misrouted;
};

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int transmit_frame(void *ctx, const uint8_t *frame, size_t len, int64_t now_us)
{
	(void)now_us;
	node_t *from = ctx;
	net_t *net = from->net;
	uint32_t i = len >= 20 ? get_be32(frame + 16) - NET_BASE : UINT32_MAX;
	if (i >= (uint32_t)net->n) {
		net->misrouted++;
		return 0;
	}
	node_t *to = &net->nodes[i];
	memcpy(bench_fq_reserve(&to->q[to->fill], len), frame, len);
	net->frames++;
	return 0;
}

static void config_node(sf_config_t *c, int i)
{
	sf_config_default(c);
	c->addr = NET_BASE + (uint32_t)i;
	c->prefix_len = 15;
	c->mtu = 1500;
	c->seed = 0x5eed0000u + (uint64_t)i;
}

static void net_init(net_t *net, int n)
{
	memset(net, 0, sizeof *net);
	net->n = n;
	net->nodes = calloc((size_t)n, sizeof *net->nodes);
	bench_check(net->nodes != NULL, "out of memory");
}

static void net_add(net_t *net, int i, sf_config_t *cfg, int64_t now)
{
	node_t *nd = &net->nodes[i];
	nd->net = net;
	nd->addr = cfg->addr;
	cfg->transmit = transmit_frame;
	cfg->transmit_ctx = nd;
	int rc = sf_stack_create(cfg, now, &nd->st);
	if (rc < 0) {
		fprintf(stderr, "bench: sf_stack_create: %d\n", rc);
		exit(1);
	}
}

static void net_fini(net_t *net)
{
	for (int i = 0; i < net->n; i++) {
		sf_stack_destroy(net->nodes[i].st);
		bench_fq_free(&net->nodes[i].q[0]);
		bench_fq_free(&net->nodes[i].q[1]);
	}
	free(net->nodes);
}

/* Hands every queued frame to its stack, in batches of up to 256
 * (sf_stack_input_batch, as a driver draining a NIC ring would). Frames a
 * stack emits while taking input (immediate replies) go to the other
 * queue, for the next round. */
/* The driver loop's parts stay out of line, so callgrind can count the loop
 * alone, LTO or not (bench/README.md: --toggle-collect=net_input,
 * net_poll, crr_server, crr_clients). */
#define LOOP_PART __attribute__((noinline))

static LOOP_PART void net_input(net_t *net, int64_t now)
{
	static sf_frame_t batch[256];
	for (int i = 0; i < net->n; i++) {
		node_t *nd = &net->nodes[i];
		bench_fq_t *q = &nd->q[nd->fill];
		if (!q->cnt)
			continue;
		nd->fill ^= 1;
		const uint8_t *f;
		uint32_t len;
		size_t nb = 0;
		for (size_t off = 0; off < q->len;) {
			off = bench_fq_next(q, off, &f, &len);
			batch[nb++] = (sf_frame_t){.data = f, .len = len};
			if (nb == sizeof batch / sizeof batch[0]) {
				sf_stack_input_batch(nd->st, batch, nb, now);
				nb = 0;
			}
		}
		if (nb)
			sf_stack_input_batch(nd->st, batch, nb, now);
		q->len = 0;
		q->cnt = 0;
	}
}

static LOOP_PART void net_poll(net_t *net, int64_t now)
{
	for (int i = 0; i < net->n; i++)
		sf_stack_poll(net->nodes[i].st, now);
}

/* Drop counters of every stack of the net, as "reason=count ..." (INFO). */
static void print_drops(const char *bench, const char *peer, net_t *net)
{
	char line[1024];
	size_t off = 0;
	line[0] = 0;
	for (int r = 0; r < SF_DROP_COUNT; r++) {
		uint64_t n = 0;
		for (int i = 0; i < net->n; i++) {
			sf_stack_stats_t s;
			sf_stack_stats(net->nodes[i].st, &s);
			n += s.drops[r];
		}
		if (n && off < sizeof line - 64)
			off += (size_t)snprintf(line + off, sizeof line - off, "%s=%llu ",
			                        sf_drop_name((sf_drop_reason_t)r),
			                        (unsigned long long)n);
	}
	bench_info(bench, peer, "drops", "%s", off ? line : "none");
}

static void net_step(net_t *net)
{
	int64_t now = bench_now_us();
	net_input(net, now);
	net_poll(net, now);
}

static sf_sock_t listen_on(sf_stack_t *st, uint16_t port, int backlog)
{
	sf_sock_t l = sf_socket(st);
	bench_check(l >= 0, "sf_socket");
	bench_check(sf_bind(st, l, port) == 0, "sf_bind");
	bench_check(sf_listen(st, l, backlog) == 0, "sf_listen");
	return l;
}

/* Opens one connection from node c to node s:port and returns both ends. */
static void open_pair(net_t *net, int c, int s, uint16_t port, sf_sock_t *cs, sf_sock_t *ss)
{
	sf_stack_t *cst = net->nodes[c].st, *sst = net->nodes[s].st;
	sf_sock_t l = listen_on(sst, port, 16);
	*cs = sf_socket(cst);
	bench_check(*cs >= 0, "sf_socket");
	bench_check(sf_connect(cst, *cs, net->nodes[s].addr, port) == SF_EINPROGRESS, "sf_connect");
	*ss = SF_EAGAIN;
	for (int i = 0; i < 100 && *ss < 0; i++) {
		net_step(net);
		*ss = sf_accept(sst, l, NULL, NULL);
	}
	bench_check(*ss >= 0, "connection did not open");
	sf_close(sst, l);
	net_step(net);
}

/* ---- 1. bulk ---- */

#define PAT 251 /* the stream byte at offset p is p % 251 */

static int run_bulk(int argc, char **argv)
{
	uint64_t size = bench_opt_size(argc, argv, "--size", 1ull << 30);
	uint32_t buf = (uint32_t)bench_opt_size(argc, argv, "--buf", 64 * 1024);
	bool verify = bench_flag(argc, argv, "--verify");
	net_t net;
	net_init(&net, 2);
	int64_t now = bench_now_us();
	for (int i = 0; i < 2; i++) {
		sf_config_t c;
		config_node(&c, i);
		c.sndbuf = c.rcvbuf = buf;
		c.max_conns = 16;
		net_add(&net, i, &c, now);
	}
	sf_sock_t cs, ss;
	open_pair(&net, 0, 1, 5001, &cs, &ss);
	sf_stack_t *a = net.nodes[0].st, *b = net.nodes[1].st;

	size_t chunk = 256 * 1024;
	uint8_t *src = malloc(chunk + PAT), *dst = malloc(chunk);
	bench_check(src && dst, "out of memory");
	for (size_t i = 0; i < chunk + PAT; i++)
		src[i] = (uint8_t)(i % PAT);
	uint64_t sent = 0, rcvd = 0, iters = 0, bad = 0;
	uint64_t frames0 = net.frames;
	double t0 = bench_now_s();
	while (rcvd < size) {
		now = bench_now_us();
		net_input(&net, now);
		while (sent < size) {
			uint64_t want = size - sent < chunk ? size - sent : chunk;
			long n = sf_send(a, cs, src + sent % PAT, want);
			if (n <= 0)
				break;
			sent += (uint64_t)n;
		}
		for (;;) {
			long n = sf_recv(b, ss, dst, chunk);
			if (n <= 0) {
				bench_check(n == SF_EAGAIN, "receive error");
				break;
			}
			if (verify)
				for (long i = 0; i < n; i++)
					bad += dst[i] != (uint8_t)((rcvd + (uint64_t)i) % PAT);
			rcvd += (uint64_t)n;
		}
		net_poll(&net, now);
		if (++iters > 100000000)
			break;
	}
	double dt = bench_now_s() - t0;
	bench_check(rcvd == size, "bulk transfer stalled");
	bench_check(bad == 0, "bulk: received bytes differ from those sent");
	sf_tcp_info_t ti;
	sf_tcp_info(a, cs, &ti);
	bench_result("bulk", "synfin", "gbps", (double)size * 8 / dt / 1e9, "Gbit/s");
	bench_info("bulk", "synfin", "setup",
	           "sndbuf=rcvbuf=%u mss=%u ts=%d sack=%d frames=%llu iters=%llu retx=%u "
	           "verified=%d",
	           buf, ti.snd_mss, ti.ts_ok, ti.sack_ok,
	           (unsigned long long)(net.frames - frames0), (unsigned long long)iters,
	           ti.retransmits, verify);
	free(src);
	free(dst);
	net_fini(&net);
	return 0;
}

/* ---- 2. connection lives ---- */

typedef struct cslot {
	sf_sock_t s; /* -1: idle */
	uint32_t got;
} cslot_t;

typedef struct client {
	cslot_t *slots;
	uint32_t lport;     /* next local port */
	uint32_t sport_idx; /* next server port index */
	bool wrapped;       /* every 4-tuple was used once: reuse from here on */
} client_t;

typedef struct crr {
	net_t net;
	int clients, ports, inflight;
	bool rst, open;
	uint64_t opens, max_opens; /* max_opens 0: no limit */
	uint16_t port0;
	sf_sock_t *listeners;
	sf_sock_t *pending; /* accepted, request not complete yet */
	uint32_t *pending_got;
	size_t npending, cap_pending;
	client_t *cl;
	uint64_t lives, errors, server_errors;
	uint8_t req[BENCH_REQ_LEN], resp[BENCH_RESP_LEN];
} crr_t;

static LOOP_PART void crr_server(crr_t *b)
{
	sf_stack_t *st = b->net.nodes[0].st;
	for (int p = 0; p < b->ports; p++) {
		sf_sock_t c;
		while ((c = sf_accept(st, b->listeners[p], NULL, NULL)) >= 0) {
			if (b->npending == b->cap_pending) {
				b->cap_pending = b->cap_pending ? 2 * b->cap_pending : 1024;
				b->pending =
				        realloc(b->pending, b->cap_pending * sizeof *b->pending);
				b->pending_got = realloc(b->pending_got,
				                         b->cap_pending * sizeof *b->pending_got);
				bench_check(b->pending && b->pending_got, "out of memory");
			}
			b->pending[b->npending] = c;
			b->pending_got[b->npending++] = 0;
		}
	}
	uint8_t buf[256];
	size_t keep = 0;
	for (size_t i = 0; i < b->npending; i++) {
		sf_sock_t c = b->pending[i];
		uint32_t got = b->pending_got[i];
		long n;
		while (got < BENCH_REQ_LEN && (n = sf_recv(st, c, buf, sizeof buf)) > 0)
			got += (uint32_t)n;
		if (got >= BENCH_REQ_LEN) {
			if (sf_send(st, c, b->resp, sizeof b->resp) != (long)sizeof b->resp)
				b->server_errors++;
			sf_close(st, c); /* the server closes first: TIME-WAIT is held here */
			continue;
		}
		if (n != SF_EAGAIN) {
			b->server_errors++;
			sf_close(st, c);
			continue;
		}
		b->pending[keep] = c;
		b->pending_got[keep++] = got;
	}
	b->npending = keep;
}

static void client_open(crr_t *b, int ci, cslot_t *sl)
{
	sf_stack_t *st = b->net.nodes[1 + ci].st;
	client_t *cl = &b->cl[ci];
	if (b->max_opens && b->opens >= b->max_opens)
		return;
	b->opens++;
	sl->s = sf_socket(st);
	sl->got = 0;
	if (sl->s < 0) {
		b->errors++;
		return;
	}
	/* Explicit ports: every 4-tuple is fresh until all (port, server port)
	 * pairs were used, so no SYN meets a TIME-WAIT record of the server. */
	uint16_t lport = (uint16_t)cl->lport;
	uint16_t sport = (uint16_t)(b->port0 + cl->sport_idx);
	if (++cl->lport > 65535) {
		cl->lport = 1024;
		if (++cl->sport_idx == (uint32_t)b->ports) {
			cl->sport_idx = 0;
			cl->wrapped = true;
		}
	}
	if (sf_bind(st, sl->s, lport) < 0 ||
	    sf_connect(st, sl->s, b->net.nodes[0].addr, sport) != SF_EINPROGRESS ||
	    sf_send(st, sl->s, b->req, sizeof b->req) != (long)sizeof b->req) {
		b->errors++;
		sf_abort(st, sl->s);
		sl->s = -1;
	}
}

static LOOP_PART uint64_t crr_clients(crr_t *b)
{
	uint64_t done = 0;
	uint8_t buf[256];
	for (int ci = 0; ci < b->clients; ci++) {
		sf_stack_t *st = b->net.nodes[1 + ci].st;
		for (int k = 0; k < b->inflight; k++) {
			cslot_t *sl = &b->cl[ci].slots[k];
			if (sl->s < 0) {
				if (b->open)
					client_open(b, ci, sl);
				continue;
			}
			for (;;) {
				long n = sf_recv(st, sl->s, buf, sizeof buf);
				if (n > 0) {
					sl->got += (uint32_t)n;
					if (b->rst && sl->got >= BENCH_RESP_LEN) {
						sf_abort(st, sl->s); /* SO_LINGER 0 */
						done++;
						sl->s = -1;
						break;
					}
					continue;
				}
				if (n == SF_EAGAIN)
					break;
				if (n == 0 && sl->got == BENCH_RESP_LEN)
					done++;
				else
					b->errors++;
				sf_close(st, sl->s);
				sl->s = -1;
				break;
			}
			if (sl->s < 0 && b->open)
				client_open(b, ci, sl);
		}
	}
	return done;
}

static int run_crr(int argc, char **argv)
{
	crr_t b = {0};
	double secs = bench_opt_num(argc, argv, "--secs", 10);
	b.clients = (int)bench_opt_num(argc, argv, "--clients", 16);
	b.ports = (int)bench_opt_num(argc, argv, "--ports", 16);
	b.inflight = (int)bench_opt_num(argc, argv, "--inflight", 16);
	b.rst = bench_flag(argc, argv, "--rst");
	uint64_t twmax = bench_opt_size(argc, argv, "--tw-max", 0);
	if (!twmax) {
		twmax = (uint64_t)(secs * 3e6);
		if (twmax > (1u << 25))
			twmax = 1u << 25;
		if (twmax < 4096)
			twmax = 4096;
	}
	const char *peer = b.rst ? "synfin-rst" : "synfin";
	b.port0 = 7000;
	memset(b.req, 'q', sizeof b.req);
	memset(b.resp, 'r', sizeof b.resp);
	net_init(&b.net, 1 + b.clients);
	int64_t now = bench_now_us();
	sf_config_t c;
	config_node(&c, 0);
	c.max_conns = (uint32_t)(b.clients * b.inflight * 4 + b.ports + 64);
	c.max_timewait = (uint32_t)twmax;
	c.syn_backlog = 65535;
	/* --hugepages off: the tables on 4 KiB pages (the default allocator). */
	if (strcmp(bench_opt(argc, argv, "--hugepages", "on"), "off") != 0)
		bench_huge_allocator(&c.allocator);
	/* --trace FILE: the server's events as JSON lines (debugging only). */
	const char *trace = bench_opt(argc, argv, "--trace", NULL);
	FILE *tf = trace ? fopen(trace, "w") : NULL;
	if (tf)
		c.trace = (sf_trace_sink_t){.fn = sf_trace_json_sink, .ctx = tf};
	net_add(&b.net, 0, &c, now);
	for (int i = 1; i <= b.clients; i++) {
		config_node(&c, i);
		c.max_conns = (uint32_t)b.inflight * 4 + 16; /* LAST-ACK ones linger */
		c.max_timewait = 64;
		if (tf && i == 1 && bench_flag(argc, argv, "--trace-client"))
			c.trace = (sf_trace_sink_t){.fn = sf_trace_json_sink, .ctx = tf};
		net_add(&b.net, i, &c, now);
	}
	b.listeners = calloc((size_t)b.ports, sizeof *b.listeners);
	b.cl = calloc((size_t)b.clients, sizeof *b.cl);
	bench_check(b.listeners && b.cl, "out of memory");
	for (int p = 0; p < b.ports; p++)
		b.listeners[p] = listen_on(b.net.nodes[0].st, (uint16_t)(b.port0 + p), 65535);
	for (int i = 0; i < b.clients; i++) {
		b.cl[i].slots = malloc((size_t)b.inflight * sizeof *b.cl[i].slots);
		bench_check(b.cl[i].slots != NULL, "out of memory");
		for (int k = 0; k < b.inflight; k++)
			b.cl[i].slots[k].s = -1;
		b.cl[i].lport = 1024;
	}

	bench_rate_t rate;
	int64_t start = bench_now_us(), end = start + (int64_t)(secs * 1e6);
	bench_rate_init(&rate, start, (int)secs + 1);
	b.open = true;
	uint64_t iters = 0;
	for (;;) {
		now = bench_now_us();
		if (now >= end)
			break;
		net_input(&b.net, now);
		crr_server(&b);
		uint64_t done = crr_clients(&b);
		b.lives += done;
		bench_rate_add(&rate, now, done);
		net_poll(&b.net, now);
		iters++;
	}
	double dt = (double)(bench_now_us() - start) / 1e6;
	sf_stack_stats_t ss;
	sf_stack_stats(b.net.nodes[0].st, &ss);
	int last = (int)secs - 1;
	if (last < 0)
		last = 0;
	bool wrapped = false;
	for (int i = 0; i < b.clients; i++)
		wrapped |= b.cl[i].wrapped;
	bench_result("crr", peer, "lives_per_s", (double)b.lives / dt, "/s");
	bench_result("crr", peer, "first_s", (double)rate.per_s[0], "/s");
	bench_result("crr", peer, "last_s", (double)rate.per_s[last], "/s");
	bench_result("crr", peer, "timewait_end", (double)ss.timewait_open, "entries");
	bench_info("crr", peer, "setup",
	           "secs=%.1f clients=%d server_ports=%d inflight=%d (x%d) max_timewait=%llu "
	           "lives=%llu errors=%llu server_errors=%llu iters=%llu tuples_wrapped=%d "
	           "rst_out=%llu retransmits=%llu conns_open=%u",
	           secs, b.clients, b.ports, b.inflight, b.clients, (unsigned long long)twmax,
	           (unsigned long long)b.lives, (unsigned long long)b.errors,
	           (unsigned long long)b.server_errors, (unsigned long long)iters, wrapped,
	           (unsigned long long)ss.rst_out, (unsigned long long)ss.retransmits,
	           ss.conns_open);
	bench_info("crr", peer, "vmhwm_kb", "%ld", bench_vmhwm_kb());
	print_drops("crr", peer, &b.net);
	bench_rate_fini(&rate);
	for (int i = 0; i < b.clients; i++)
		free(b.cl[i].slots);
	free(b.cl);
	free(b.listeners);
	free(b.pending);
	free(b.pending_got);
	net_fini(&b.net);
	if (tf)
		fclose(tf);
	return b.errors || b.server_errors ? 1 : 0;
}

/* ---- 5. request/response on one connection ---- */

static int run_rr(int argc, char **argv)
{
	double secs = bench_opt_num(argc, argv, "--secs", 5);
	net_t net;
	net_init(&net, 2);
	int64_t now = bench_now_us();
	for (int i = 0; i < 2; i++) {
		sf_config_t c;
		config_node(&c, i);
		c.max_conns = 16;
		net_add(&net, i, &c, now);
	}
	sf_sock_t cs, ss;
	open_pair(&net, 0, 1, 5002, &cs, &ss);
	sf_stack_t *a = net.nodes[0].st, *b = net.nodes[1].st;
	sf_setsockopt(a, cs, SF_SO_NODELAY, 1);
	sf_setsockopt(b, ss, SF_SO_NODELAY, 1);
	uint8_t x = 'x', buf[16];
	uint64_t trans = 0;
	int64_t start = bench_now_us(), end = start + (int64_t)(secs * 1e6);
	bench_check(sf_send(a, cs, &x, 1) == 1, "rr send");
	for (;;) {
		now = bench_now_us();
		if (now >= end)
			break;
		net_input(&net, now);
		if (sf_recv(b, ss, buf, sizeof buf) == 1)
			bench_check(sf_send(b, ss, buf, 1) == 1, "rr echo");
		if (sf_recv(a, cs, buf, sizeof buf) == 1) {
			trans++;
			bench_check(sf_send(a, cs, &x, 1) == 1, "rr send");
		}
		net_poll(&net, now);
	}
	double dt = (double)(bench_now_us() - start) / 1e6;
	bench_result("rr", "synfin", "trans_per_s", (double)trans / dt, "/s");
	bench_info("rr", "synfin", "setup", "1-byte request, 1-byte response, NODELAY, secs=%.1f",
	           secs);
	net_fini(&net);
	return 0;
}

/* ---- 4. memory ---- */

/* N idle established connections between a client stack and a server
 * stack; bytes_allocated of the server stack per connection (all its
 * tables sized for N, TIME-WAIT table minimal) and the process's peak RSS. */
static int run_mem(int argc, char **argv)
{
	uint32_t n = (uint32_t)bench_opt_num(argc, argv, "--conns", 100000);
	int ports = (int)((n + 64511) / 64512);
	net_t net;
	net_init(&net, 2);
	int64_t now = bench_now_us();
	sf_config_t c;
	config_node(&c, 0);
	c.max_conns = n + (uint32_t)ports + 16;
	c.max_timewait = 16;
	c.syn_backlog = 65535;
	/* Baseline: an empty stack of the same shape but one connection. */
	sf_config_t c1 = c;
	c1.max_conns = 1;
	c1.transmit = transmit_frame;
	sf_stack_t *empty;
	bench_check(sf_stack_create(&c1, now, &empty) == 0, "sf_stack_create");
	sf_stack_stats_t es;
	sf_stack_stats(empty, &es);
	sf_stack_destroy(empty);
	net_add(&net, 0, &c, now);
	config_node(&c, 1);
	c.max_conns = n + 16;
	c.max_timewait = 16;
	net_add(&net, 1, &c, now);
	sf_stack_t *srv = net.nodes[0].st, *cli = net.nodes[1].st;
	sf_sock_t *ls = calloc((size_t)ports, sizeof *ls);
	sf_sock_t *acc = malloc((size_t)n * sizeof *acc);
	sf_sock_t *con = malloc((size_t)n * sizeof *con);
	bench_check(ls && acc && con, "out of memory");
	for (int p = 0; p < ports; p++)
		ls[p] = listen_on(srv, (uint16_t)(7000 + p), 65535);
	sf_stack_stats_t before;
	sf_stack_stats(srv, &before);
	uint32_t opened = 0, accepted = 0;
	double t0 = bench_now_s();
	for (int it = 0; accepted < n && it < 10000000; it++) {
		now = bench_now_us();
		net_input(&net, now);
		/* half-open connections per listener are capped at max_conns / 2 */
		for (uint32_t k = 0; k < 16384 && k < n / 4 + 1 && opened < n; k++, opened++) {
			sf_sock_t s = sf_socket(cli);
			bench_check(s >= 0, "sf_socket (client)");
			uint16_t lport = (uint16_t)(1024 + opened % 64512);
			uint16_t sport = (uint16_t)(7000 + opened / 64512);
			bench_check(sf_bind(cli, s, lport) == 0, "sf_bind");
			bench_check(sf_connect(cli, s, net.nodes[0].addr, sport) == SF_EINPROGRESS,
			            "sf_connect");
			con[opened] = s;
		}
		for (int p = 0; p < ports; p++) {
			sf_sock_t a;
			while ((a = sf_accept(srv, ls[p], NULL, NULL)) >= 0)
				acc[accepted++] = a;
		}
		net_poll(&net, now);
	}
	bench_check(accepted == n, "not every connection was accepted");
	print_drops("mem", "synfin", &net);
	for (int i = 0; i < 4; i++)
		net_step(&net);
	double dt = bench_now_s() - t0;
	sf_stack_stats_t ss, cs;
	sf_stack_stats(srv, &ss);
	sf_stack_stats(cli, &cs);
	char peer[32];
	snprintf(peer, sizeof peer, "synfin-%u", n);
	double per = (double)(ss.bytes_allocated - es.bytes_allocated) / n;
	double marginal = (double)(ss.bytes_allocated - before.bytes_allocated) / n;
	long hwm = bench_vmhwm_kb();
	bench_result("mem", peer, "bytes_per_conn", per, "B");
	bench_result("mem", peer, "vmhwm", (double)hwm / 1024, "MiB");
	bench_result("mem", peer, "open_rate", n / dt, "/s");
	bench_info("mem", peer, "setup",
	           "conns=%u server_ports=%d server conns_open=%u client conns_open=%u "
	           "server bytes_allocated=%llu (empty stack %llu, marginal per conn %.1f) "
	           "client bytes_allocated=%llu rss_per_conn_both_ends=%.0f sizeof(tcb)=%zu",
	           n, ports, ss.conns_open, cs.conns_open, (unsigned long long)ss.bytes_allocated,
	           (unsigned long long)es.bytes_allocated, marginal,
	           (unsigned long long)cs.bytes_allocated, (double)hwm * 1024 / n,
	           sizeof(sf_tcb_t));
	free(ls);
	free(acc);
	free(con);
	net_fini(&net);
	return 0;
}

/* Bytes per TIME-WAIT entry: a server stack that closed `count`
 * connections first holds them all in TIME-WAIT; compared with the same
 * stack whose TIME-WAIT table is minimal. */
static int run_tw(int argc, char **argv)
{
	uint32_t count = (uint32_t)bench_opt_num(argc, argv, "--count", 100000);
	crr_t b = {0};
	b.clients = 1;
	b.ports = (int)((count + 64511) / 64512);
	b.inflight = 1024;
	b.port0 = 7000;
	net_init(&b.net, 2);
	int64_t now = bench_now_us();
	sf_config_t c;
	config_node(&c, 0);
	c.max_conns = 4096;
	c.syn_backlog = 65535;
	c.max_timewait = 16;
	c.transmit = transmit_frame;
	sf_stack_t *small;
	bench_check(sf_stack_create(&c, now, &small) == 0, "sf_stack_create");
	sf_stack_stats_t es;
	sf_stack_stats(small, &es);
	sf_stack_destroy(small);
	c.max_timewait = count;
	net_add(&b.net, 0, &c, now);
	sf_stack_stats_t fresh;
	sf_stack_stats(b.net.nodes[0].st, &fresh);
	config_node(&c, 1);
	c.max_conns = (uint32_t)b.inflight * 4 + 16;
	net_add(&b.net, 1, &c, now);
	b.listeners = calloc((size_t)b.ports, sizeof *b.listeners);
	b.cl = calloc(1, sizeof *b.cl);
	b.cl[0].slots = malloc((size_t)b.inflight * sizeof *b.cl[0].slots);
	b.cl[0].lport = 1024;
	for (int k = 0; k < b.inflight; k++)
		b.cl[0].slots[k].s = -1;
	for (int p = 0; p < b.ports; p++)
		b.listeners[p] = listen_on(b.net.nodes[0].st, (uint16_t)(b.port0 + p), 65535);
	b.open = true;
	b.max_opens = count;
	for (int it = 0; it < 10000000 && b.lives + b.errors < count; it++) {
		now = bench_now_us();
		net_input(&b.net, now);
		crr_server(&b);
		b.lives += crr_clients(&b);
		net_poll(&b.net, now);
	}
	for (int i = 0; i < 4; i++)
		net_step(&b.net);
	sf_stack_stats_t ss;
	sf_stack_stats(b.net.nodes[0].st, &ss);
	/* The TIME-WAIT table is allocated whole at creation: its cost per
	 * entry is the difference between two fresh stacks that differ only in
	 * max_timewait. Holding the entries must allocate nothing more; what
	 * the run did allocate is ring storage kept in the stack's pool. */
	double per = (double)(fresh.bytes_allocated - es.bytes_allocated) / count;
	bench_result("mem", "synfin", "bytes_per_timewait", per, "B");
	bench_info("mem", "synfin", "timewait",
	           "count=%u timewait_open=%u lives=%llu errors=%llu conns_open=%u "
	           "sizeof(sf_tw_t)=%zu bytes_allocated fresh=%llu (max_timewait=16: %llu) "
	           "after the run=%llu (ring pool)",
	           count, ss.timewait_open, (unsigned long long)b.lives,
	           (unsigned long long)(b.errors + b.server_errors), ss.conns_open, sizeof(sf_tw_t),
	           (unsigned long long)fresh.bytes_allocated,
	           (unsigned long long)es.bytes_allocated, (unsigned long long)ss.bytes_allocated);
	bench_check(ss.timewait_open == count, "TIME-WAIT count differs from connections closed");
	free(b.cl[0].slots);
	free(b.cl);
	free(b.listeners);
	free(b.pending);
	free(b.pending_got);
	net_fini(&b.net);
	return 0;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	if (strcmp(what, "bulk") == 0)
		return run_bulk(argc, argv);
	if (strcmp(what, "crr") == 0)
		return run_crr(argc, argv);
	if (strcmp(what, "rr") == 0)
		return run_rr(argc, argv);
	if (strcmp(what, "mem") == 0)
		return run_mem(argc, argv);
	if (strcmp(what, "tw") == 0)
		return run_tw(argc, argv);
	fprintf(stderr, "usage: bench_synfin bulk|crr|rr|mem|tw [options] (see the source)\n");
	return 2;
}
