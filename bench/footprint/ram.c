/* The smallest RAM configuration, shown to work: two synfin stacks in one
 * program over a lossy, reordering, duplicating memory link, with the
 * configuration of a small device on the server side (5 connection blocks:
 * one listener and 4 connections; 2 KiB send and receive buffers; 4
 * TIME-WAIT records; no reassembly). Four clients connect one after the
 * other (the listener keeps at most two half-open), each sends 24 KiB,
 * the server echoes every byte back, each client checks its echo byte for
 * byte, then both sides close down to CLOSED (TIME-WAIT expired) and every
 * allocation is returned.
 *
 * It prints the server stack's heap at creation (listener included), at its
 * peak and at the end, as RESULT lines. It needs nothing but the core
 * library and the C library, so bench/footprint.sh also builds it for the
 * Cortex-M4 and runs it under qemu-arm (the figures in bench/README.md);
 * on the host it is the CTest test sim.small_ram.
 *
 * Exit status 0 when every byte came back and everything closed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synfin/synfin.h"

#define CONNS      4
#define BYTES      (24 * 1024)
#define LINK_SLOTS 64
#define MTU        1500
#define LIMIT_US   (600ll * 1000000) /* virtual time */

/* ---- a counting allocator: live and peak bytes per stack ---- */

typedef struct heap {
	long live, bytes, peak;
} heap_t;

static void *h_alloc(void *ctx, size_t n)
{
	heap_t *h = ctx;
	void *p = malloc(n);
	if (p) {
		h->live++;
		h->bytes += (long)n;
		if (h->bytes > h->peak)
			h->peak = h->bytes;
	}
	return p;
}

static void h_free(void *ctx, void *p, size_t n)
{
	heap_t *h = ctx;
	if (p) {
		h->live--;
		h->bytes -= (long)n;
	}
	free(p);
}

/* ---- the link: per direction a bounded set of frames in flight ---- */

typedef struct frame {
	int64_t due_us; /* 0: free slot */
	uint16_t len;
	uint8_t data[MTU];
} frame_t;

typedef struct link {
	frame_t slot[2][LINK_SLOTS]; /* [to side] */
	uint64_t rng;
	unsigned long sent, lost, dup, full;
} link_t;

static link_t net;
static int64_t now;
static sf_stack_t *st[2]; /* 0: clients, 1: the small server */

static uint32_t rnd(void)
{
	net.rng ^= net.rng << 13;
	net.rng ^= net.rng >> 7;
	net.rng ^= net.rng << 17;
	return (uint32_t)(net.rng >> 16);
}

static void put(int to, const uint8_t *f, size_t len, int64_t due)
{
	for (int i = 0; i < LINK_SLOTS; i++) {
		frame_t *s = &net.slot[to][i];
		if (s->due_us == 0) {
			s->due_us = due;
			s->len = (uint16_t)len;
			memcpy(s->data, f, len);
			return;
		}
	}
	net.full++; /* a full queue drops, as a router would */
}

/* 2% loss, 1% duplicates, 1-3 ms of delay with jitter (which reorders). */
static int transmit(void *ctx, const uint8_t *f, size_t len, int64_t t)
{
	int to = ctx == &st[0] ? 1 : 0;
	net.sent++;
	if (len > MTU || rnd() % 100 < 2) {
		net.lost++;
		return 0;
	}
	put(to, f, len, t + 1000 + rnd() % 2000);
	if (rnd() % 100 == 0) {
		net.dup++;
		put(to, f, len, t + 1000 + rnd() % 2000);
	}
	return 0;
}

static int64_t link_next(void)
{
	int64_t d = INT64_MAX;
	for (int s = 0; s < 2; s++)
		for (int i = 0; i < LINK_SLOTS; i++)
			if (net.slot[s][i].due_us && net.slot[s][i].due_us < d)
				d = net.slot[s][i].due_us;
	return d;
}

static void deliver(void)
{
	for (int s = 0; s < 2; s++)
		for (int i = 0; i < LINK_SLOTS; i++) {
			frame_t *f = &net.slot[s][i];
			if (f->due_us && f->due_us <= now) {
				f->due_us = 0;
				(void)sf_stack_input(st[s], f->data, f->len, now);
			}
		}
}

/* ---- the application: echo clients and an echo server ---- */

static uint8_t byte_at(int conn, uint32_t i)
{
	uint32_t x = (i + 1) * 2654435761u ^ (uint32_t)conn * 40503u;
	return (uint8_t)(x ^ (x >> 13));
}

typedef struct client {
	sf_sock_t s;
	uint32_t sent, rcvd;
	int closed, bad;
} client_t;

static client_t cl[CONNS];
static sf_sock_t lsn, srv[CONNS];
static int srv_closed[CONNS];
static uint8_t pend[CONNS][512];
static size_t pend_len[CONNS];
static uint8_t buf[2048];

static void run_apps(void)
{
	for (int i = 0; i < CONNS; i++) {
		client_t *c = &cl[i];
		if (c->s == 0) {
			/* One handshake at a time: a small listener keeps at most
			 * max_conns / 2 half-open connections (RFC 4987 §3.4). */
			sf_pollfd_t p = {.sock = i ? cl[i - 1].s : 0, .events = SF_POLLOUT};
			if (i && (sf_poll(st[0], &p, 1) == 0 && !cl[i - 1].closed))
				break;
			c->s = sf_socket(st[0]);
			if (sf_connect(st[0], c->s, 0xC0000202u, 7) != SF_EINPROGRESS)
				exit(1);
			break;
		}
		while (c->sent < BYTES) {
			uint32_t n = BYTES - c->sent < sizeof buf ? BYTES - c->sent : sizeof buf;
			for (uint32_t k = 0; k < n; k++)
				buf[k] = byte_at(i, c->sent + k);
			long w = sf_send(st[0], c->s, buf, n);
			if (w <= 0)
				break;
			c->sent += (uint32_t)w;
		}
		long r;
		while ((r = sf_recv(st[0], c->s, buf, sizeof buf)) > 0)
			for (long k = 0; k < r; k++)
				c->bad |= buf[k] != byte_at(i, c->rcvd++);
		if (c->rcvd == BYTES && !c->closed) {
			sf_close(st[0], c->s);
			c->closed = 1;
		}
	}
	sf_sock_t a;
	while ((a = sf_accept(st[1], lsn, NULL, NULL)) > 0)
		for (int i = 0; i < CONNS; i++)
			if (srv[i] == 0) {
				srv[i] = a;
				break;
			}
	for (int i = 0; i < CONNS; i++) {
		if (srv[i] <= 0 || srv_closed[i])
			continue;
		/* Echo: what was read and not yet taken by sf_send waits in
		 * pend[i]; read more only when it is empty. */
		for (;;) {
			if (pend_len[i]) {
				long w = sf_send(st[1], srv[i], pend[i], pend_len[i]);
				if (w <= 0)
					break;
				memmove(pend[i], pend[i] + w, pend_len[i] - (size_t)w);
				pend_len[i] -= (size_t)w;
				continue;
			}
			long r = sf_recv(st[1], srv[i], pend[i], sizeof pend[i]);
			if (r == 0) {
				sf_close(st[1], srv[i]);
				srv_closed[i] = 1;
			}
			if (r <= 0)
				break;
			pend_len[i] = (size_t)r;
		}
	}
}

static int all_done(void)
{
	sf_stack_stats_t a, b;
	sf_stack_stats(st[0], &a);
	sf_stack_stats(st[1], &b);
	for (int i = 0; i < CONNS; i++)
		if (!cl[i].closed || !srv_closed[i])
			return 0;
	return a.conns_open == 0 && b.conns_open == 1 && a.timewait_open == 0 &&
	       b.timewait_open == 0;
}

int main(void)
{
	heap_t heap[2] = {{0}, {0}};
	net.rng = 0x9e3779b97f4a7c15ull;
	for (int side = 0; side < 2; side++) {
		sf_config_t c;
		sf_config_default(&c);
		c.addr = side ? 0xC0000202u : 0xC0000201u;
		c.seed = 1234 + (uint64_t)side;
		c.msl_ms = 2000; /* TIME-WAIT 4 s of virtual time */
		c.mtu = MTU;
		c.max_conns = CONNS + 1; /* the listener and four connections */
		c.max_timewait = CONNS;
		c.sndbuf = c.rcvbuf = 2048;
		c.frag_slots = 0;
		c.syn_backlog = CONNS;
		c.allocator = (sf_allocator_t){h_alloc, h_free, &heap[side]};
		c.transmit = transmit;
		c.transmit_ctx = &st[side];
		if (sf_stack_create(&c, now, &st[side]) < 0) {
			printf("ram: cannot create stack %d\n", side);
			return 1;
		}
	}
	lsn = sf_socket(st[1]);
	if (sf_bind(st[1], lsn, 7) < 0 || sf_listen(st[1], lsn, CONNS) < 0)
		return 1;
	long heap_create = heap[1].bytes;
	while (!all_done()) {
		deliver();
		for (int s = 0; s < 2; s++)
			sf_stack_poll(st[s], now);
		run_apps();
		for (int s = 0; s < 2; s++)
			sf_stack_poll(st[s], now);
		int64_t next = link_next();
		for (int s = 0; s < 2; s++) {
			int64_t d = sf_stack_next_deadline(st[s]);
			if (d < next)
				next = d;
		}
		if (all_done())
			break;
		if (next == INT64_MAX || next > LIMIT_US) {
			sf_stack_stats_t a, b;
			sf_stack_stats(st[0], &a);
			sf_stack_stats(st[1], &b);
			printf("ram: stuck at %lld us: open %u/%u, TIME-WAIT %u/%u\n",
			       (long long)now, (unsigned)a.conns_open, (unsigned)b.conns_open,
			       (unsigned)a.timewait_open, (unsigned)b.timewait_open);
			for (int i = 0; i < CONNS; i++) {
				sf_tcp_info_t ti = {0}, si = {0};
				sf_tcp_info(st[0], cl[i].s, &ti);
				if (srv[i] > 0)
					sf_tcp_info(st[1], srv[i], &si);
				printf("  client %d: state %d, sent %u, echoed %u; server %d: "
				       "state %d, "
				       "pending %u\n",
				       i, (int)ti.state, (unsigned)cl[i].sent, (unsigned)cl[i].rcvd,
				       i, (int)si.state, (unsigned)pend_len[i]);
			}
			return 1;
		}
		if (next > now)
			now = next;
	}
	int bad = 0;
	for (int i = 0; i < CONNS; i++)
		bad |= cl[i].bad || cl[i].rcvd != BYTES;
	sf_close(st[1], lsn);
	sf_stack_poll(st[1], now);
	long heap_end = heap[1].bytes;
	sf_stack_destroy(st[0]);
	sf_stack_destroy(st[1]);
	printf("ram: %d connections x %d bytes echoed through 2 KiB windows in %ld ms of "
	       "virtual time; link: %lu frames, %lu lost, %lu duplicated, %lu queue drops\n",
	       CONNS, BYTES, (long)(now / 1000), net.sent, net.lost, net.dup, net.full);
	printf("RESULT footprint small heap_create %ld B\n", heap_create);
	printf("RESULT footprint small heap_peak %ld B\n", heap[1].peak);
	printf("RESULT footprint small heap_idle %ld B\n", heap_end);
	printf("RESULT footprint small sizeof_ptr %d B\n", (int)sizeof(void *));
	if (bad) {
		printf("ram: FAILED: echoed bytes differ\n");
		return 1;
	}
	if (heap[0].live || heap[1].live || heap[0].bytes || heap[1].bytes) {
		printf("ram: FAILED: allocations left behind\n");
		return 1;
	}
	printf("ram: OK\n");
	return 0;
}
