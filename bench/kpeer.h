/* The Linux kernel's TCP as a benchmark peer: blocking-socket clients and
 * servers in threads, for loopback, veth and TUN runs. They run inside the
 * network namespace their caller is in (bench/run.sh creates it).
 *
 * Protocols match the in-memory benchmarks: a connection life is connect,
 * a BENCH_REQ_LEN request, a BENCH_RESP_LEN response after which the server
 * closes first (it holds TIME-WAIT), the client reads to EOF and closes; with
 * `rst` the client closes with SO_LINGER 0 (RST) after the response. Bulk is
 * one connection: the client writes `size` bytes in 64 KiB writes, shuts down
 * its side, and waits for the server's EOF, which the server sends once it
 * has read everything. Bulk down is the other direction on the next port:
 * the client writes the size as 8 bytes (little-endian), the server sends
 * that many bytes in 64 KiB writes and closes; the client reads to EOF.
 */
#ifndef SF_BENCH_KPEER_H
#define SF_BENCH_KPEER_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

typedef struct kcrr {
	const char *addr; /* server address */
	int port0, ports; /* server ports port0 .. port0+ports-1 */
	int threads;      /* client threads */
	double secs;
	bool rst;
	/* results */
	uint64_t lives, errors;
	bench_rate_t rate;
	double elapsed_s;
} kcrr_t;

/* Runs the client side for k->secs; fills the results. */
void kpeer_crr_client(kcrr_t *k);

/* Bulk client: returns seconds from connect to the server's EOF, or -1.
 * sndbuf 0: the kernel's default (autotuning). */
double kpeer_bulk_client(const char *addr, int port, uint64_t size, int sndbuf);
/* Bulk down client: asks for `size` bytes, reads to EOF; returns seconds
 * from connect to EOF, or -1 (also when fewer bytes came). */
double kpeer_bulk_down_client(const char *addr, int port, uint64_t size);
/* CPU seconds (user + system) this process used so far (getrusage). */
double kpeer_cpu_s(void);

/* Starts server threads: crr listeners on port0.. (ports of them, served by
 * `threads` threads) and, if bulk_port, one bulk listener (rcvbuf 0: default)
 * and one bulk down listener on bulk_port + 1.
 * They run until the process exits. Returns 0 or -1. */
int kpeer_servers_start(int port0, int ports, int threads, int bulk_port, int rcvbuf);

/* TIME-WAIT sockets of this namespace (/proc/net/sockstat "tw"), -1 if unknown. */
long kpeer_timewait_count(void);

/* "net.ipv4.tcp_wmem" -> its value in /proc/sys, or "?" */
const char *kpeer_sysctl(const char *name, char *buf, int len);

#endif
