/* lwIP as a benchmark peer, in memory: Debian's liblwip (2.1.3, linked, not
 * copied) driven single-threaded. lwip_init() runs, the tcpip thread is never
 * started, timers run from sys_check_timeouts() on every iteration. Each node
 * is a netif with its own IPv4 address; its output copies the datagram into
 * the queue of the netif it is addressed to, and one iteration of the driver
 * hands every queued datagram to its netif's input (a fresh pbuf, as a
 * driver would), then runs the application. Every connection is bound to
 * its netif (tcp_bind_netif) so traffic between two local addresses does not
 * take lwIP's loopback shortcut. Checksums are computed and checked in
 * software (lwIP's build has no offload). Same MSS (1460), buffers (lwIP's
 * compiled TCP_SND_BUF = TCP_WND = 65535), request and response sizes as the
 * synfin benchmark.
 *
 *   bench_lwip bulk [--size 1G] [--verify]
 *   bench_lwip crr  [--secs 10] [--clients 1] [--ports 16] [--inflight 4] [--rst]
 *   bench_lwip rr   [--secs 5]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#include "common.h"

#define NET_BASE  0xC6120001u /* 198.18.0.1, as in bench_synfin */
#define MAX_NODES 64

typedef struct lnode {
	struct netif nif;
	bench_fq_t q[2];
	int fill;
} lnode_t;

static lnode_t nodes[MAX_NODES];
static int nnodes;
static uint64_t frames, misrouted;

static err_t node_output(struct netif *n, struct pbuf *p, const ip4_addr_t *dst)
{
	(void)n;
	uint32_t i = lwip_ntohl(ip4_addr_get_u32(dst)) - NET_BASE;
	if (i >= (uint32_t)nnodes) {
		misrouted++;
		return ERR_OK;
	}
	lnode_t *to = &nodes[i];
	uint8_t *buf = bench_fq_reserve(&to->q[to->fill], p->tot_len);
	pbuf_copy_partial(p, buf, p->tot_len, 0);
	frames++;
	return ERR_OK;
}

static err_t node_init(struct netif *n)
{
	n->output = node_output;
	n->mtu = 1500;
	n->name[0] = 'b';
	n->name[1] = 'n';
	return ERR_OK;
}

static void add_node(int i)
{
	ip4_addr_t ip, mask, gw;
	ip4_addr_set_u32(&ip, lwip_htonl(NET_BASE + (uint32_t)i));
	ip4_addr_set_u32(&mask, lwip_htonl(0xFFFE0000u));
	ip4_addr_set_zero(&gw);
	bench_check(netif_add(&nodes[i].nif, &ip, &mask, &gw, &nodes[i], node_init, ip_input) !=
	                    NULL,
	            "netif_add");
	netif_set_up(&nodes[i].nif);
	netif_set_link_up(&nodes[i].nif);
	if (i >= nnodes)
		nnodes = i + 1;
}

/* Hands every queued datagram to its netif. Returns how many. */
static uint64_t deliver(void)
{
	uint64_t n = 0;
	for (int i = 0; i < nnodes; i++) {
		lnode_t *nd = &nodes[i];
		bench_fq_t *q = &nd->q[nd->fill];
		if (!q->cnt)
			continue;
		nd->fill ^= 1;
		const uint8_t *f;
		uint32_t len;
		for (size_t off = 0; off < q->len;) {
			off = bench_fq_next(q, off, &f, &len);
			struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
			if (!p)
				continue;
			pbuf_take(p, f, (u16_t)len);
			if (nd->nif.input(p, &nd->nif) != ERR_OK)
				pbuf_free(p);
			n++;
		}
		q->len = 0;
		q->cnt = 0;
	}
	return n;
}

static ip_addr_t node_addr(int i)
{
	ip_addr_t a;
	IP_ADDR4(&a, 198, 18, (uint8_t)((1 + i) >> 8), (uint8_t)((1 + i) & 0xff));
	return a;
}

static struct tcp_pcb *listen_on(int node, uint16_t port, tcp_accept_fn fn, void *arg)
{
	struct tcp_pcb *p = tcp_new();
	bench_check(p != NULL, "tcp_new");
	tcp_bind_netif(p, &nodes[node].nif);
	ip_addr_t a = node_addr(node);
	bench_check(tcp_bind(p, &a, port) == ERR_OK, "tcp_bind (listener)");
	struct tcp_pcb *l = tcp_listen_with_backlog(p, 255);
	bench_check(l != NULL, "tcp_listen");
	tcp_arg(l, arg);
	tcp_accept(l, fn);
	return l;
}

/* ---- 1. bulk ---- */

#define PAT 251

typedef struct bulk {
	struct tcp_pcb *tx, *rx;
	uint64_t sent, rcvd, bad;
	bool verify;
	uint8_t *src, *dst;
} bulk_t;

static err_t bulk_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)err;
	bulk_t *b = arg;
	if (!p)
		return ERR_OK;
	/* The application reads the bytes, as sf_recv/recv(2) do. */
	u16_t len = p->tot_len;
	pbuf_copy_partial(p, b->dst, len, 0);
	if (b->verify)
		for (u16_t i = 0; i < len; i++)
			b->bad += b->dst[i] != (uint8_t)((b->rcvd + i) % PAT);
	b->rcvd += len;
	tcp_recved(pcb, len);
	pbuf_free(p);
	return ERR_OK;
}

static err_t bulk_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	bulk_t *b = arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	b->rx = pcb;
	tcp_arg(pcb, b);
	tcp_recv(pcb, bulk_recv);
	return ERR_OK;
}

/* Fills the send buffer; called from the loop and from lwIP's sent
 * callback (the idiomatic raw-API sender), so it refills as ACKs arrive. */
static void bulk_fill(bulk_t *b, uint64_t size)
{
	while (b->sent < size) {
		u16_t room = tcp_sndbuf(b->tx);
		uint64_t want = size - b->sent;
		if (want > room)
			want = room;
		if (want == 0 || tcp_write(b->tx, b->src + b->sent % PAT, (u16_t)want,
		                           TCP_WRITE_FLAG_COPY) != ERR_OK)
			break;
		b->sent += want;
	}
}

static uint64_t bulk_size;

static err_t bulk_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	(void)len;
	bulk_fill(arg, bulk_size);
	return ERR_OK;
}

static err_t bulk_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	(void)pcb;
	(void)err;
	return ERR_OK;
}

static int run_bulk(int argc, char **argv)
{
	bulk_t b = {0};
	uint64_t size = bench_opt_size(argc, argv, "--size", 1ull << 30);
	b.verify = bench_flag(argc, argv, "--verify");
	b.src = malloc(65536 + PAT); /* lwIP writes at most 65535 bytes at once */
	b.dst = malloc(65536);
	bench_check(b.src && b.dst, "out of memory");
	for (int i = 0; i < 65536 + PAT; i++)
		b.src[i] = (uint8_t)(i % PAT);
	add_node(0);
	add_node(1);
	listen_on(1, 5001, bulk_accept, &b);
	b.tx = tcp_new();
	tcp_bind_netif(b.tx, &nodes[0].nif);
	ip_addr_t a0 = node_addr(0), a1 = node_addr(1);
	tcp_bind(b.tx, &a0, 0);
	tcp_arg(b.tx, &b);
	bench_check(tcp_connect(b.tx, &a1, 5001, bulk_connected) == ERR_OK, "tcp_connect");
	for (int i = 0; i < 100 && !b.rx; i++) {
		deliver();
		sys_check_timeouts();
	}
	bench_check(b.rx != NULL, "lwIP connection did not open");
	uint64_t frames0 = frames, iters = 0;
	double t0 = bench_now_s();
	bulk_size = size;
	tcp_sent(b.tx, bulk_sent);
	bulk_fill(&b, size);
	tcp_output(b.tx);
	while (b.rcvd < size && iters < 100000000) {
		deliver();
		if ((iters & 63) == 0)
			sys_check_timeouts(); /* it reads the clock: not every round */
		iters++;
	}
	double dt = bench_now_s() - t0;
	bench_check(b.rcvd == size, "lwIP bulk transfer stalled");
	bench_check(b.bad == 0, "lwIP bulk: received bytes differ from those sent");
	bench_result("bulk", "lwip", "gbps", (double)size * 8 / dt / 1e9, "Gbit/s");
	bench_info("bulk", "lwip", "setup",
	           "TCP_SND_BUF=TCP_WND=%d mss=%d wscale=%d frames=%llu iters=%llu verified=%d",
	           TCP_SND_BUF, TCP_MSS, TCP_RCV_SCALE, (unsigned long long)(frames - frames0),
	           (unsigned long long)iters, b.verify);
	free(b.src);
	free(b.dst);
	return 0;
}

/* ---- 2. connection lives ---- */

typedef struct lslot {
	struct tcp_pcb *pcb;
	uint32_t got;
	int node;
} lslot_t;

static struct {
	int clients, ports, inflight;
	bool rst, open;
	lslot_t *slots;
	uint32_t *lport, *sport_idx;
	bool wrapped;
	uint64_t lives, errors, server_errors, pending_done;
	uint8_t req[BENCH_REQ_LEN], resp[BENCH_RESP_LEN];
} C;

static err_t srv_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)err;
	if (!p)
		return ERR_OK; /* the client's FIN after our close: lwIP handles it */
	u16_t len = p->tot_len;
	uintptr_t was = (uintptr_t)arg, got = was + len;
	uint8_t buf[256];
	pbuf_copy_partial(p, buf, len < sizeof buf ? len : sizeof buf, 0);
	tcp_recved(pcb, len);
	pbuf_free(p);
	tcp_arg(pcb, (void *)got);
	if (got >= BENCH_REQ_LEN && was < BENCH_REQ_LEN) {
		if (tcp_write(pcb, C.resp, sizeof C.resp, TCP_WRITE_FLAG_COPY) != ERR_OK)
			C.server_errors++;
		tcp_close(pcb); /* the server closes first: TIME-WAIT is held here */
	}
	return ERR_OK;
}

static void srv_err(void *arg, err_t err)
{
	(void)arg;
	(void)err;
}

static err_t srv_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	tcp_arg(pcb, (void *)(uintptr_t)0);
	tcp_recv(pcb, srv_recv);
	tcp_err(pcb, srv_err);
	return ERR_OK;
}

static err_t cli_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)err;
	lslot_t *sl = arg;
	if (p) {
		uint8_t buf[256];
		sl->got += p->tot_len;
		pbuf_copy_partial(p, buf, p->tot_len < sizeof buf ? p->tot_len : sizeof buf, 0);
		tcp_recved(pcb, p->tot_len);
		pbuf_free(p);
		if (C.rst && sl->got >= BENCH_RESP_LEN) {
			tcp_arg(pcb, NULL);
			tcp_err(pcb, NULL);
			tcp_abort(pcb); /* SO_LINGER 0 */
			sl->pcb = NULL;
			C.pending_done++;
			return ERR_ABRT;
		}
		return ERR_OK;
	}
	if (sl->got == BENCH_RESP_LEN)
		C.pending_done++;
	else
		C.errors++;
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_err(pcb, NULL);
	tcp_close(pcb);
	sl->pcb = NULL;
	return ERR_OK;
}

static void cli_err(void *arg, err_t err)
{
	(void)err;
	lslot_t *sl = arg;
	if (sl) {
		sl->pcb = NULL; /* already freed by lwIP */
		C.errors++;
	}
}

static err_t cli_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK)
		return err;
	if (tcp_write(pcb, C.req, sizeof C.req, TCP_WRITE_FLAG_COPY) != ERR_OK)
		C.errors++;
	tcp_output(pcb);
	return ERR_OK;
}

static void cli_open(lslot_t *sl)
{
	int ci = sl->node - 1;
	struct tcp_pcb *pcb = tcp_new();
	if (!pcb) {
		C.errors++;
		return;
	}
	uint16_t lport = (uint16_t)C.lport[ci];
	uint16_t sport = (uint16_t)(7000 + C.sport_idx[ci]);
	if (++C.lport[ci] > 65535) {
		C.lport[ci] = 1024;
		if (++C.sport_idx[ci] == (uint32_t)C.ports) {
			C.sport_idx[ci] = 0;
			C.wrapped = true;
		}
	}
	tcp_bind_netif(pcb, &nodes[sl->node].nif);
	ip_addr_t me = node_addr(sl->node), srv = node_addr(0);
	sl->got = 0;
	sl->pcb = pcb;
	tcp_arg(pcb, sl);
	tcp_recv(pcb, cli_recv);
	tcp_err(pcb, cli_err);
	if (tcp_bind(pcb, &me, lport) != ERR_OK ||
	    tcp_connect(pcb, &srv, sport, cli_connected) != ERR_OK) {
		C.errors++;
		tcp_arg(pcb, NULL);
		tcp_abort(pcb);
		sl->pcb = NULL;
	}
}

static uint64_t count_list(struct tcp_pcb *p)
{
	uint64_t n = 0;
	for (; p; p = p->next)
		n++;
	return n;
}

static int run_crr(int argc, char **argv)
{
	double secs = bench_opt_num(argc, argv, "--secs", 10);
	/* lwIP demultiplexes by walking its pcb lists: few connections in
	 * flight suit it best (1 x 4 was its fastest setting here). */
	C.clients = (int)bench_opt_num(argc, argv, "--clients", 1);
	C.ports = (int)bench_opt_num(argc, argv, "--ports", 16);
	C.inflight = (int)bench_opt_num(argc, argv, "--inflight", 4);
	C.rst = bench_flag(argc, argv, "--rst");
	bench_check(C.clients + 1 <= MAX_NODES, "too many clients");
	const char *peer = C.rst ? "lwip-rst" : "lwip";
	memset(C.req, 'q', sizeof C.req);
	memset(C.resp, 'r', sizeof C.resp);
	for (int i = 0; i <= C.clients; i++)
		add_node(i);
	for (int p = 0; p < C.ports; p++)
		listen_on(0, (uint16_t)(7000 + p), srv_accept, NULL);
	int nslots = C.clients * C.inflight;
	C.slots = calloc((size_t)nslots, sizeof *C.slots);
	C.lport = calloc((size_t)C.clients, sizeof *C.lport);
	C.sport_idx = calloc((size_t)C.clients, sizeof *C.sport_idx);
	bench_check(C.slots && C.lport && C.sport_idx, "out of memory");
	for (int i = 0; i < C.clients; i++)
		C.lport[i] = 1024;
	for (int k = 0; k < nslots; k++)
		C.slots[k].node = 1 + k / C.inflight;
	bench_rate_t rate;
	int64_t start = bench_now_us(), end = start + (int64_t)(secs * 1e6);
	bench_rate_init(&rate, start, (int)secs + 1);
	uint64_t iters = 0;
	for (;;) {
		int64_t now = bench_now_us();
		if (now >= end)
			break;
		C.pending_done = 0;
		deliver();
		for (int k = 0; k < nslots; k++)
			if (!C.slots[k].pcb)
				cli_open(&C.slots[k]);
		sys_check_timeouts();
		C.lives += C.pending_done;
		bench_rate_add(&rate, now, C.pending_done);
		iters++;
	}
	double dt = (double)(bench_now_us() - start) / 1e6;
	int last = (int)secs - 1;
	if (last < 0)
		last = 0;
	uint64_t tw = count_list(tcp_tw_pcbs);
	bench_result("crr", peer, "lives_per_s", (double)C.lives / dt, "/s");
	bench_result("crr", peer, "first_s", (double)rate.per_s[0], "/s");
	bench_result("crr", peer, "last_s", (double)rate.per_s[last], "/s");
	bench_result("crr", peer, "timewait_end", (double)tw, "entries");
	bench_info("crr", peer, "setup",
	           "secs=%.1f clients=%d server_ports=%d inflight=%d (x%d) lives=%llu errors=%llu "
	           "server_errors=%llu iters=%llu tuples_wrapped=%d active_pcbs=%llu "
	           "TIME-WAIT=2*TCP_MSL=%lus",
	           secs, C.clients, C.ports, C.inflight, C.clients, (unsigned long long)C.lives,
	           (unsigned long long)C.errors, (unsigned long long)C.server_errors,
	           (unsigned long long)iters, C.wrapped,
	           (unsigned long long)count_list(tcp_active_pcbs), 2 * TCP_MSL / 1000);
	{
		char line[256];
		size_t off = 0;
		for (int s = 0; s < rate.secs - 2 && off < sizeof line - 16; s++)
			off += (size_t)snprintf(line + off, sizeof line - off, "%llu ",
			                        (unsigned long long)rate.per_s[s]);
		bench_info("crr", peer, "per_second", "%s", line);
	}
	bench_info("crr", peer, "vmhwm_kb", "%ld", bench_vmhwm_kb());
	bench_rate_fini(&rate);
	return 0;
}

/* ---- 5. request/response ---- */

static struct {
	struct tcp_pcb *cli, *srv;
	uint64_t trans;
	uint8_t x;
} R;

static err_t rr_srv_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg;
	(void)err;
	if (!p)
		return ERR_OK;
	uint8_t buf[16];
	u16_t n = pbuf_copy_partial(p, buf, sizeof buf, 0);
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	tcp_write(pcb, buf, n, TCP_WRITE_FLAG_COPY);
	tcp_output(pcb);
	return ERR_OK;
}

static err_t rr_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	R.srv = pcb;
	tcp_nagle_disable(pcb);
	tcp_recv(pcb, rr_srv_recv);
	return ERR_OK;
}

static err_t rr_cli_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg;
	(void)err;
	if (!p)
		return ERR_OK;
	uint8_t buf[16];
	pbuf_copy_partial(p, buf, sizeof buf, 0);
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	R.trans++;
	tcp_write(pcb, &R.x, 1, TCP_WRITE_FLAG_COPY);
	tcp_output(pcb);
	return ERR_OK;
}

static int run_rr(int argc, char **argv)
{
	double secs = bench_opt_num(argc, argv, "--secs", 5);
	add_node(0);
	add_node(1);
	listen_on(1, 5002, rr_accept, NULL);
	R.cli = tcp_new();
	tcp_bind_netif(R.cli, &nodes[0].nif);
	ip_addr_t a0 = node_addr(0), a1 = node_addr(1);
	tcp_bind(R.cli, &a0, 0);
	tcp_recv(R.cli, rr_cli_recv);
	tcp_nagle_disable(R.cli);
	bench_check(tcp_connect(R.cli, &a1, 5002, bulk_connected) == ERR_OK, "tcp_connect");
	for (int i = 0; i < 100 && !R.srv; i++) {
		deliver();
		sys_check_timeouts();
	}
	bench_check(R.srv != NULL, "lwIP connection did not open");
	deliver();
	R.x = 'x';
	tcp_write(R.cli, &R.x, 1, TCP_WRITE_FLAG_COPY);
	tcp_output(R.cli);
	int64_t start = bench_now_us(), end = start + (int64_t)(secs * 1e6);
	for (uint64_t it = 0;; it++) {
		if ((it & 63) == 0) {
			if (bench_now_us() >= end)
				break;
			sys_check_timeouts();
		}
		deliver();
	}
	double dt = (double)(bench_now_us() - start) / 1e6;
	bench_result("rr", "lwip", "trans_per_s", (double)R.trans / dt, "/s");
	bench_info("rr", "lwip", "setup", "1-byte request, 1-byte response, nagle off, secs=%.1f",
	           secs);
	return 0;
}

int main(int argc, char **argv)
{
	lwip_init();
	const char *what = argc > 1 ? argv[1] : "";
	if (strcmp(what, "bulk") == 0)
		return run_bulk(argc, argv);
	if (strcmp(what, "crr") == 0)
		return run_crr(argc, argv);
	if (strcmp(what, "rr") == 0)
		return run_rr(argc, argv);
	fprintf(stderr, "usage: bench_lwip bulk|crr|rr [options] (see the source)\n");
	return 2;
}
