/* The Linux kernel's TCP as a benchmark peer, in the network namespace this
 * program runs in (bench/run.sh creates one with `unshare -n` for loopback,
 * and two joined by a veth pair for kernel-to-kernel runs).
 *
 *   bench_kernel bulk --addr A [--size 1G] [--sndbuf N] [--rcvbuf N] --peer LABEL
 *   bench_kernel crr  --addr A [--secs 10] [--ports 16] [--threads 2]
 *                     [--server-threads 2] [--rst] --peer LABEL
 *   --role both (default: servers and clients in this process) | server | client
 *
 * With --role server the program serves for --secs seconds, then prints the
 * namespace's TIME-WAIT count and exits.
 *
 * --server-netns NAME (with --role both): the servers' sockets are created
 * in the named network namespace (/var/run/netns/NAME, `ip netns add`) and
 * the clients' in the current one, so one process holds both ends of a veth
 * pair and getrusage counts the CPU of both (bulk: cpu_s_per_gb, each way).
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "kpeer.h"

static void print_sysctls(const char *bench, const char *peer)
{
	char a[128], b[128], c[128];
	bench_info(bench, peer, "sysctl", "tcp_rmem=[%s] tcp_wmem=[%s] tcp_max_tw_buckets=%s",
	           kpeer_sysctl("net.ipv4.tcp_rmem", a, sizeof a),
	           kpeer_sysctl("net.ipv4.tcp_wmem", b, sizeof b),
	           kpeer_sysctl("net.ipv4.tcp_max_tw_buckets", c, sizeof c));
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	const char *addr = bench_opt(argc, argv, "--addr", "127.0.0.1");
	const char *peer = bench_opt(argc, argv, "--peer", "kernel");
	const char *role = bench_opt(argc, argv, "--role", "both");
	bool serve = strcmp(role, "client") != 0, run_client = strcmp(role, "server") != 0;
	double secs = bench_opt_num(argc, argv, "--secs", 10);
	int sndbuf = (int)bench_opt_size(argc, argv, "--sndbuf", 0);
	int rcvbuf = (int)bench_opt_size(argc, argv, "--rcvbuf", 0);
	int ports = (int)bench_opt_num(argc, argv, "--ports", 16);
	bool bulk = strcmp(what, "bulk") == 0;
	if (!bulk && strcmp(what, "crr") != 0) {
		fprintf(stderr, "usage: bench_kernel bulk|crr [options] (see the source)\n");
		return 2;
	}
	if (serve) {
		const char *sns = bench_opt(argc, argv, "--server-netns", NULL);
		int home = -1;
		if (sns) {
			char path[256];
			snprintf(path, sizeof path, "/var/run/netns/%s", sns);
			home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			bench_check(home >= 0 && fd >= 0 && setns(fd, CLONE_NEWNET) == 0,
			            "--server-netns: cannot enter the namespace");
			close(fd);
		}
		int st = (int)bench_opt_num(argc, argv, "--server-threads", 2);
		bench_check(kpeer_servers_start(7000, bulk ? 0 : ports, st, bulk ? 5001 : 0,
		                                rcvbuf) == 0,
		            "kernel servers did not start");
		if (home >= 0) {
			bench_check(setns(home, CLONE_NEWNET) == 0,
			            "--server-netns: cannot return");
			close(home);
		}
		usleep(20000);
	}
	if (!run_client) {
		usleep((useconds_t)(secs * 1e6));
		if (!bulk)
			bench_result("crr", peer, "timewait_end", (double)kpeer_timewait_count(),
			             "entries");
		return 0;
	}
	if (bulk) {
		uint64_t size = bench_opt_size(argc, argv, "--size", 1ull << 30);
		double c0 = kpeer_cpu_s();
		double dt = kpeer_bulk_client(addr, 5001, size, sndbuf);
		double c1 = kpeer_cpu_s();
		bench_check(dt > 0, "kernel bulk transfer failed");
		bench_result("bulk", peer, "gbps", (double)size * 8 / dt / 1e9, "Gbit/s");
		double dt2 = kpeer_bulk_down_client(addr, 5002, size);
		double c2 = kpeer_cpu_s();
		bench_check(dt2 > 0, "kernel bulk down transfer failed");
		bench_result("bulk_down", peer, "gbps", (double)size * 8 / dt2 / 1e9, "Gbit/s");
		if (serve) { /* both ends in this process: the CPU of both */
			bench_result("bulk", peer, "cpu_s_per_gb", (c1 - c0) / ((double)size / 1e9),
			             "CPU-s/GB");
			bench_result("bulk_down", peer, "cpu_s_per_gb",
			             (c2 - c1) / ((double)size / 1e9), "CPU-s/GB");
		}
		bench_info("bulk", peer, "setup",
		           "64 KiB writes, 1 sender + 1 receiver thread, SO_SNDBUF=%s SO_RCVBUF=%s",
		           sndbuf ? bench_opt(argc, argv, "--sndbuf", "") : "default(autotuned)",
		           rcvbuf ? bench_opt(argc, argv, "--rcvbuf", "") : "default(autotuned)");
		print_sysctls("bulk", peer);
		return 0;
	}
	kcrr_t k = {.addr = addr,
	            .port0 = 7000,
	            .ports = ports,
	            .threads = (int)bench_opt_num(argc, argv, "--threads", 2),
	            .secs = secs,
	            .rst = bench_flag(argc, argv, "--rst")};
	kpeer_crr_client(&k);
	int last = (int)secs - 1 < 0 ? 0 : (int)secs - 1;
	bench_result("crr", peer, "lives_per_s", (double)k.lives / k.elapsed_s, "/s");
	bench_result("crr", peer, "first_s", (double)k.rate.per_s[0], "/s");
	bench_result("crr", peer, "last_s", (double)k.rate.per_s[last], "/s");
	if (serve)
		bench_result("crr", peer, "timewait_end", (double)kpeer_timewait_count(),
		             "entries");
	bench_info("crr", peer, "setup",
	           "secs=%.1f server_ports=%d client_threads=%d lives=%llu errors=%llu", secs,
	           ports, k.threads, (unsigned long long)k.lives, (unsigned long long)k.errors);
	print_sysctls("crr", peer);
	bench_rate_fini(&k.rate);
	return 0;
}
