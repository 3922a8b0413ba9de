/* synfin over TUN against the kernel, inside the network namespace this
 * program runs in (bench/run.sh runs it under `unshare -n`): a synfin server
 * on sf_loop (one thread per stack, one TUN queue each, MTU 1500) and kernel clients in other
 * threads of the same process, connecting to synfin's address through the TUN
 * device. Same protocols as bench_kernel (kpeer.h), so its veth run is the
 * kernel-to-kernel comparison.
 *
 *   bench_tun crr  [--secs 10] [--ports 16] [--threads 2] [--rst]
 *   bench_tun bulk [--size 1G]
 *   --offload on|off: the TUN's virtio-net header offloads (default on);
 *   the peer label is then synfin-tun or synfin-tun-plain.
 *   --stacks N: one multiqueue TUN device, N stacks each on its own queue
 *   and thread with listeners on every one (peer label ...-Nstacks).
 *
 * bulk runs both ways (kpeer.h): the kernel sends to synfin (tun_bulk), then
 * synfin sends to the kernel (tun_bulk_down); for each, the CPU seconds per
 * GB of this process (getrusage: synfin's thread and the kernel client's,
 * with the kernel's TCP work done in their system calls).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "common.h"
#include "kpeer.h"
#include "synfin/loop.h"
#include "synfin/synfin.h"

#define MAX_LISTEN 64

typedef struct conn {
	sf_sock_t s;
	uint32_t got;
	bool bulk, down;
	uint8_t req[8];
	uint64_t left; /* bulk down: bytes still to send */
} conn_t;

#define MAX_STACKS 16

/* One server: a stack on its own TUN queue and thread (--stacks N). */
typedef struct srv {
	sf_loop_t *loop;
	sf_sock_t ls[MAX_LISTEN];
	bool bulk_l[MAX_LISTEN], down_l[MAX_LISTEN];
	int nl;
	conn_t *c;
	size_t n, cap;
	uint64_t bulk_bytes, served, errors;
	uint8_t *buf;
	pthread_t th;
} srv_t;

static struct {
	srv_t v[MAX_STACKS];
	atomic_bool stop;
	uint8_t resp[BENCH_RESP_LEN];
	uint8_t *down; /* 256 KiB of bulk down data */
} S;

static int64_t server_app(void *ctx, sf_loop_t *loop, int64_t now_us)
{
	srv_t *v = ctx;
	sf_stack_t *st = sf_loop_stack(loop);
	for (int i = 0; i < v->nl; i++) {
		sf_sock_t c;
		while ((c = sf_accept(st, v->ls[i], NULL, NULL)) >= 0) {
			if (v->n == v->cap) {
				v->cap = v->cap ? 2 * v->cap : 1024;
				v->c = realloc(v->c, v->cap * sizeof *v->c);
				bench_check(v->c != NULL, "out of memory");
			}
			v->c[v->n++] = (conn_t){.s = c, .bulk = v->bulk_l[i], .down = v->down_l[i]};
		}
	}
	size_t keep = 0;
	for (size_t i = 0; i < v->n; i++) {
		conn_t *c = &v->c[i];
		long n;
		bool done = false;
		while ((n = sf_recv(st, c->s, v->buf, 256 * 1024)) > 0) {
			if (c->down && c->got < 8) { /* the size asked for */
				size_t k = (size_t)n < 8 - c->got ? (size_t)n : 8 - c->got;
				memcpy(c->req + c->got, v->buf, k);
				if (c->got + k == 8)
					for (int b = 0; b < 8; b++)
						c->left |= (uint64_t)c->req[b] << (8 * b);
			}
			c->got += (uint32_t)n;
			if (c->bulk)
				v->bulk_bytes += (uint64_t)n;
		}
		if (c->down && c->got >= 8) {
			long w = 1;
			while (c->left && w > 0) {
				size_t k = c->left < 256 * 1024 ? (size_t)c->left : 256 * 1024;
				w = sf_send(st, c->s, S.down, k);
				if (w > 0)
					c->left -= (uint64_t)w;
			}
			if (!c->left) {
				sf_close(st, c->s); /* FIN after the last byte */
				continue;
			}
			if (w < 0 && w != SF_EAGAIN) {
				v->errors++;
				sf_close(st, c->s);
				continue;
			}
		}
		if (!c->bulk && c->got >= BENCH_REQ_LEN) {
			sf_send(st, c->s, S.resp, sizeof S.resp);
			v->served++;
			done = true; /* the server closes first */
		} else if (n == 0 || (n < 0 && n != SF_EAGAIN)) {
			if (n < 0)
				v->errors++;
			done = true;
		}
		if (done) {
			sf_close(st, c->s);
			continue;
		}
		v->c[keep++] = *c;
	}
	v->n = keep;
	if (atomic_load(&S.stop))
		sf_loop_stop(loop);
	return now_us + 100000; /* wake now and then to see the stop flag */
}

static void *loop_thread(void *arg)
{
	char name[16]; /* per-thread CPU: the stacks apart from the clients */
	snprintf(name, sizeof name, "synfin-%d", (int)((srv_t *)arg - S.v));
	prctl(PR_SET_NAME, name, 0, 0, 0);
	sf_loop_run(((srv_t *)arg)->loop, -1);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	bool bulk = strcmp(what, "bulk") == 0;
	if (!bulk && strcmp(what, "crr") != 0) {
		fprintf(stderr, "usage: bench_tun crr|bulk [options] (see the source)\n");
		return 2;
	}
	double secs = bench_opt_num(argc, argv, "--secs", 10);
	int ports = (int)bench_opt_num(argc, argv, "--ports", 16);
	bool rst = bench_flag(argc, argv, "--rst");
	bench_check(ports < MAX_LISTEN, "too many ports");
	bool offload = strcmp(bench_opt(argc, argv, "--offload", "on"), "off") != 0;
	sf_config_t cfg;
	sf_config_default(&cfg);
	cfg.max_conns = 65536;
	cfg.max_timewait = 1u << 22;
	cfg.syn_backlog = 65535;
	if (bulk) /* one connection: buffers of the size the kernel autotunes to */
		cfg.sndbuf = cfg.rcvbuf = (uint32_t)bench_opt_size(argc, argv, "--buf", 1u << 20);
	int nst = (int)bench_opt_num(argc, argv, "--stacks", 1);
	bench_check(nst >= 1 && nst <= MAX_STACKS, "--stacks: 1 to 16");
	sf_loop_tun_opts_t o = {.cfg = &cfg, .offload = offload ? 1 : -1};
	sf_loop_t *loops[MAX_STACKS];
	char err[160];
	int rc = sf_loop_open_tun_multi(&o, (unsigned)nst, loops, err, sizeof err);
	if (rc < 0) {
		fprintf(stderr, "bench_tun: %s\n", err);
		return 77;
	}
	S.down = malloc(256 * 1024);
	memset(S.resp, 'r', sizeof S.resp);
	bench_check(S.down != NULL, "out of memory");
	memset(S.down, 'd', 256 * 1024);
	for (int k = 0; k < nst; k++) {
		srv_t *v = &S.v[k];
		v->loop = loops[k];
		v->buf = malloc(256 * 1024);
		bench_check(v->buf != NULL, "out of memory");
		sf_stack_t *st = sf_loop_stack(v->loop);
		/* Listeners on every stack: the kernel picks the queue. */
		for (int p = 0; p < (bulk ? 2 : ports); p++) {
			sf_sock_t l = sf_socket(st);
			bench_check(l >= 0 &&
			                    sf_bind(st, l,
			                            (uint16_t)(bulk ? 5001 + p : 7000 + p)) == 0 &&
			                    sf_listen(st, l, 65535) == 0,
			            "listen");
			v->bulk_l[v->nl] = bulk;
			v->down_l[v->nl] = bulk && p == 1;
			v->ls[v->nl++] = l;
		}
		sf_loop_set_app(v->loop, server_app, v);
		bench_check(pthread_create(&v->th, NULL, loop_thread, v) == 0, "pthread_create");
	}

	char peer[64];
	snprintf(peer, sizeof peer, "synfin-tun%s%s", offload ? "" : "-plain", rst ? "-rst" : "");
	if (nst > 1)
		snprintf(peer + strlen(peer), sizeof peer - strlen(peer), "-%dstacks", nst);
	if (bulk) {
		uint64_t size = bench_opt_size(argc, argv, "--size", 1ull << 30);
		double c0 = kpeer_cpu_s();
		double dt = kpeer_bulk_client("192.0.2.2", 5001, size, 0);
		double c1 = kpeer_cpu_s();
		bench_check(dt > 0, "bulk over TUN failed");
		double dt2 = kpeer_bulk_down_client("192.0.2.2", 5002, size);
		double c2 = kpeer_cpu_s();
		bench_check(dt2 > 0, "bulk down over TUN failed");
		double gb = (double)size / 1e9;
		bench_result("tun_bulk", peer, "gbps", (double)size * 8 / dt / 1e9, "Gbit/s");
		bench_result("tun_bulk_down", peer, "gbps", (double)size * 8 / dt2 / 1e9, "Gbit/s");
		bench_result("tun_bulk", peer, "cpu_s_per_gb", (c1 - c0) / gb, "CPU-s/GB");
		bench_result("tun_bulk_down", peer, "cpu_s_per_gb", (c2 - c1) / gb, "CPU-s/GB");
	} else {
		kcrr_t k = {.addr = "192.0.2.2",
		            .port0 = 7000,
		            .ports = ports,
		            .threads = (int)bench_opt_num(argc, argv, "--threads", 2),
		            .secs = secs,
		            .rst = rst};
		kpeer_crr_client(&k);
		int last = (int)secs - 1 < 0 ? 0 : (int)secs - 1;
		bench_result("tun_crr", peer, "lives_per_s", (double)k.lives / k.elapsed_s, "/s");
		bench_result("tun_crr", peer, "first_s", (double)k.rate.per_s[0], "/s");
		bench_result("tun_crr", peer, "last_s", (double)k.rate.per_s[last], "/s");
		bench_info("tun_crr", peer, "setup",
		           "secs=%.1f server_ports=%d client_threads=%d lives=%llu errors=%llu",
		           secs, ports, k.threads, (unsigned long long)k.lives,
		           (unsigned long long)k.errors);
		bench_rate_fini(&k.rate);
	}
	atomic_store(&S.stop, true);
	sf_stack_stats_t ss = {0};
	sf_loop_stats_t ls = {0};
	uint64_t served = 0, errors = 0;
	char per[256] = "";
	size_t pl = 0;
	for (int k = 0; k < nst; k++) {
		srv_t *v = &S.v[k];
		pthread_join(v->th, NULL);
		sf_stack_stats_t s1;
		sf_stack_stats(sf_loop_stack(v->loop), &s1);
		sf_loop_stats_t l1;
		sf_loop_stats(v->loop, &l1);
		ss.timewait_open += s1.timewait_open;
		ss.retransmits += s1.retransmits;
		ls.iterations += l1.iterations;
		ls.frames_in += l1.frames_in;
		ls.frames_out += l1.frames_out;
		ls.max_batch = l1.max_batch > ls.max_batch ? l1.max_batch : ls.max_batch;
		ls.full_batches += l1.full_batches;
		ls.tx_errors += l1.tx_errors;
		ls.super_in += l1.super_in;
		ls.super_out += l1.super_out;
		served += v->served;
		errors += v->errors;
		if (pl < sizeof per)
			pl += (size_t)snprintf(per + pl, sizeof per - pl, "%s%llu", k ? "," : "",
			                       (unsigned long long)v->served);
	}
	if (!bulk)
		bench_result("tun_crr", peer, "timewait_end", (double)ss.timewait_open, "entries");
	bench_info(bulk ? "tun_bulk" : "tun_crr", peer, "loop",
	           "stacks=%d iterations=%llu frames_in=%llu frames_out=%llu max_batch=%llu "
	           "full_batches=%llu tx_errors=%llu retransmits=%llu served=%llu (per stack %s) "
	           "errors=%llu super_in=%llu super_out=%llu offloads=0x%x",
	           nst, (unsigned long long)ls.iterations, (unsigned long long)ls.frames_in,
	           (unsigned long long)ls.frames_out, (unsigned long long)ls.max_batch,
	           (unsigned long long)ls.full_batches, (unsigned long long)ls.tx_errors,
	           (unsigned long long)ss.retransmits, (unsigned long long)served, per,
	           (unsigned long long)errors, (unsigned long long)ls.super_in,
	           (unsigned long long)ls.super_out, sf_loop_netdev(loops[0])->offloads);
	for (int k = 0; k < nst; k++) {
		sf_loop_destroy(S.v[k].loop);
		free(S.v[k].buf);
		free(S.v[k].c);
	}
	free(S.down);
	return 0;
}
