/* synfin over TUN against the kernel, inside the network namespace this
 * program runs in (bench/run.sh runs it under `unshare -n`): a synfin server
 * on sf_loop (one thread, one TUN queue, MTU 1500) and kernel clients in other
 * threads of the same process, connecting to synfin's address through the TUN
 * device. Same protocols as bench_kernel (kpeer.h), so its veth run is the
 * kernel-to-kernel comparison.
 *
 *   bench_tun crr  [--secs 10] [--ports 16] [--threads 2] [--rst]
 *   bench_tun bulk [--size 1G]
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "kpeer.h"
#include "synfin/loop.h"
#include "synfin/synfin.h"

#define MAX_LISTEN 64

typedef struct conn {
	sf_sock_t s;
	uint32_t got;
	bool bulk;
} conn_t;

static struct {
	sf_sock_t ls[MAX_LISTEN];
	bool bulk_l[MAX_LISTEN];
	int nl;
	conn_t *c;
	size_t n, cap;
	uint64_t bulk_bytes, served, errors;
	atomic_bool stop;
	uint8_t resp[BENCH_RESP_LEN];
	uint8_t *buf;
} S;

static int64_t server_app(void *ctx, sf_loop_t *loop, int64_t now_us)
{
	(void)ctx;
	sf_stack_t *st = sf_loop_stack(loop);
	for (int i = 0; i < S.nl; i++) {
		sf_sock_t c;
		while ((c = sf_accept(st, S.ls[i], NULL, NULL)) >= 0) {
			if (S.n == S.cap) {
				S.cap = S.cap ? 2 * S.cap : 1024;
				S.c = realloc(S.c, S.cap * sizeof *S.c);
				bench_check(S.c != NULL, "out of memory");
			}
			S.c[S.n++] = (conn_t){.s = c, .bulk = S.bulk_l[i]};
		}
	}
	size_t keep = 0;
	for (size_t i = 0; i < S.n; i++) {
		conn_t *c = &S.c[i];
		long n;
		bool done = false;
		while ((n = sf_recv(st, c->s, S.buf, 256 * 1024)) > 0) {
			c->got += (uint32_t)n;
			if (c->bulk)
				S.bulk_bytes += (uint64_t)n;
		}
		if (!c->bulk && c->got >= BENCH_REQ_LEN) {
			sf_send(st, c->s, S.resp, sizeof S.resp);
			S.served++;
			done = true; /* the server closes first */
		} else if (n == 0 || (n < 0 && n != SF_EAGAIN)) {
			if (n < 0)
				S.errors++;
			done = true;
		}
		if (done) {
			sf_close(st, c->s);
			continue;
		}
		S.c[keep++] = *c;
	}
	S.n = keep;
	if (atomic_load(&S.stop))
		sf_loop_stop(loop);
	return now_us + 100000; /* wake now and then to see the stop flag */
}

static void *loop_thread(void *arg)
{
	sf_loop_run(arg, -1);
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
	sf_config_t cfg;
	sf_config_default(&cfg);
	cfg.max_conns = 65536;
	cfg.max_timewait = 1u << 22;
	cfg.syn_backlog = 65535;
	sf_loop_tun_opts_t o = {.cfg = &cfg};
	sf_loop_t *loop;
	char err[160];
	int rc = sf_loop_open_tun(&o, &loop, err, sizeof err);
	if (rc < 0) {
		fprintf(stderr, "bench_tun: %s\n", err);
		return 77;
	}
	sf_stack_t *st = sf_loop_stack(loop);
	S.buf = malloc(256 * 1024);
	memset(S.resp, 'r', sizeof S.resp);
	bench_check(S.buf != NULL, "out of memory");
	for (int p = 0; p < (bulk ? 1 : ports); p++) {
		sf_sock_t l = sf_socket(st);
		bench_check(l >= 0 && sf_bind(st, l, (uint16_t)(bulk ? 5001 : 7000 + p)) == 0 &&
		                    sf_listen(st, l, 65535) == 0,
		            "listen");
		S.bulk_l[S.nl] = bulk;
		S.ls[S.nl++] = l;
	}
	sf_loop_set_app(loop, server_app, NULL);
	pthread_t th;
	bench_check(pthread_create(&th, NULL, loop_thread, loop) == 0, "pthread_create");

	const char *peer = rst ? "synfin-tun-rst" : "synfin-tun";
	if (bulk) {
		uint64_t size = bench_opt_size(argc, argv, "--size", 1ull << 30);
		double dt = kpeer_bulk_client("192.0.2.2", 5001, size, 0);
		bench_check(dt > 0, "bulk over TUN failed");
		bench_result("tun_bulk", "synfin-tun", "gbps", (double)size * 8 / dt / 1e9,
		             "Gbit/s");
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
	pthread_join(th, NULL);
	sf_stack_stats_t ss;
	sf_stack_stats(st, &ss);
	sf_loop_stats_t ls;
	sf_loop_stats(loop, &ls);
	if (!bulk)
		bench_result("tun_crr", peer, "timewait_end", (double)ss.timewait_open, "entries");
	bench_info(bulk ? "tun_bulk" : "tun_crr", peer, "loop",
	           "iterations=%llu frames_in=%llu frames_out=%llu max_batch=%llu "
	           "full_batches=%llu tx_errors=%llu retransmits=%llu served=%llu errors=%llu",
	           (unsigned long long)ls.iterations, (unsigned long long)ls.frames_in,
	           (unsigned long long)ls.frames_out, (unsigned long long)ls.max_batch,
	           (unsigned long long)ls.full_batches, (unsigned long long)ls.tx_errors,
	           (unsigned long long)ss.retransmits, (unsigned long long)S.served,
	           (unsigned long long)S.errors);
	sf_loop_destroy(loop);
	free(S.buf);
	free(S.c);
	return 0;
}
