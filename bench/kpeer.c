/* Kernel TCP peers for the benchmarks (see kpeer.h): blocking sockets, one
 * thread per client or server worker.
 */
#include "kpeer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static int make_addr(const char *addr, int port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, addr, &sa->sin_addr) == 1 ? 0 : -1;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- connection lives: clients ---- */

typedef struct kthread {
	kcrr_t *k;
	int idx;
	pthread_t th;
	uint64_t lives, errors;
	bench_rate_t rate;
} kthread_t;

static void *crr_client_thread(void *arg)
{
	kthread_t *t = arg;
	kcrr_t *k = t->k;
	/* Named, so per-thread CPU (top -H, /proc/PID/task) tells the load
	 * generator from the server. */
	char name[16];
	snprintf(name, sizeof name, "kclient-%d", t->idx);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	uint8_t req[BENCH_REQ_LEN], buf[512];
	memset(req, 'q', sizeof req);
	struct sockaddr_in sa;
	int64_t end = t->rate.start_us + (int64_t)(k->secs * 1e6);
	int port = t->idx % k->ports;
	for (;;) {
		int64_t now = bench_now_us();
		if (now >= end)
			break;
		make_addr(k->addr, k->port0 + port, &sa);
		port = (port + 1) % k->ports;
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0) {
			t->errors++;
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
		    write_all(fd, req, sizeof req) < 0) {
			t->errors++;
			close(fd);
			continue;
		}
		size_t got = 0;
		bool ok = false;
		for (;;) {
			ssize_t n = read(fd, buf, sizeof buf);
			if (n > 0) {
				got += (size_t)n;
				if (k->rst && got >= BENCH_RESP_LEN) {
					ok = true;
					break;
				}
				continue;
			}
			ok = n == 0 && got == BENCH_RESP_LEN;
			break;
		}
		if (k->rst) {
			struct linger lg = {.l_onoff = 1, .l_linger = 0};
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		}
		close(fd);
		if (ok) {
			t->lives++;
			bench_rate_add(&t->rate, bench_now_us(), 1);
		} else {
			t->errors++;
		}
	}
	return NULL;
}

void kpeer_crr_client(kcrr_t *k)
{
	kthread_t *ts = calloc((size_t)k->threads, sizeof *ts);
	bench_check(ts != NULL, "out of memory");
	int64_t start = bench_now_us();
	bench_rate_init(&k->rate, start, (int)k->secs + 1);
	for (int i = 0; i < k->threads; i++) {
		ts[i].k = k;
		ts[i].idx = i;
		bench_rate_init(&ts[i].rate, start, (int)k->secs + 1);
		bench_check(pthread_create(&ts[i].th, NULL, crr_client_thread, &ts[i]) == 0,
		            "pthread_create");
	}
	k->lives = k->errors = 0;
	for (int i = 0; i < k->threads; i++) {
		pthread_join(ts[i].th, NULL);
		k->lives += ts[i].lives;
		k->errors += ts[i].errors;
		for (int s = 0; s < k->rate.secs; s++)
			k->rate.per_s[s] += ts[i].rate.per_s[s];
		bench_rate_fini(&ts[i].rate);
	}
	k->elapsed_s = (double)(bench_now_us() - start) / 1e6;
	free(ts);
}

/* ---- bulk client ---- */

double kpeer_bulk_client(const char *addr, int port, uint64_t size, int sndbuf)
{
	struct sockaddr_in sa;
	if (make_addr(addr, port, &sa) < 0)
		return -1;
	size_t chunk = 64 * 1024;
	uint8_t *buf = malloc(chunk);
	bench_check(buf != NULL, "out of memory");
	memset(buf, 'b', chunk);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (sndbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	double t0 = bench_now_s();
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("bench: connect");
		close(fd);
		free(buf);
		return -1;
	}
	uint64_t sent = 0;
	while (sent < size) {
		size_t n = size - sent < chunk ? (size_t)(size - sent) : chunk;
		if (write_all(fd, buf, n) < 0) {
			close(fd);
			free(buf);
			return -1;
		}
		sent += n;
	}
	shutdown(fd, SHUT_WR);
	ssize_t r;
	while ((r = read(fd, buf, chunk)) > 0)
		;
	double dt = bench_now_s() - t0;
	close(fd);
	free(buf);
	return r == 0 ? dt : -1;
}

double kpeer_bulk_down_client(const char *addr, int port, uint64_t size)
{
	struct sockaddr_in sa;
	if (make_addr(addr, port, &sa) < 0)
		return -1;
	size_t chunk = 256 * 1024;
	uint8_t *buf = malloc(chunk);
	bench_check(buf != NULL, "out of memory");
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	double t0 = bench_now_s();
	uint8_t req[8];
	for (int i = 0; i < 8; i++)
		req[i] = (uint8_t)(size >> (8 * i));
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || write_all(fd, req, 8) < 0) {
		perror("bench: bulk down");
		close(fd);
		free(buf);
		return -1;
	}
	uint64_t got = 0;
	ssize_t r;
	while ((r = read(fd, buf, chunk)) > 0)
		got += (uint64_t)r;
	double dt = bench_now_s() - t0;
	close(fd);
	free(buf);
	return r == 0 && got == size ? dt : -1;
}

double kpeer_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* ---- servers ---- */

typedef struct kserver {
	int *lfds;
	int nl;
	bool bulk, down;
	int rcvbuf;
} kserver_t;

static void serve_crr(int fd)
{
	uint8_t buf[512], resp[BENCH_RESP_LEN];
	memset(resp, 'r', sizeof resp);
	size_t got = 0;
	while (got < BENCH_REQ_LEN) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got >= BENCH_REQ_LEN)
		write_all(fd, resp, sizeof resp);
	close(fd); /* the server closes first */
}

static void serve_bulk(int fd)
{
	size_t cap = 256 * 1024;
	uint8_t *buf = malloc(cap);
	if (buf)
		while (read(fd, buf, cap) > 0)
			;
	free(buf);
	close(fd);
}

static void serve_bulk_down(int fd)
{
	size_t chunk = 64 * 1024;
	uint8_t *buf = malloc(chunk);
	uint8_t req[8];
	size_t got = 0;
	while (buf && got < 8) {
		ssize_t n = read(fd, req + got, 8 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (buf && got == 8) {
		uint64_t size = 0;
		for (int i = 0; i < 8; i++)
			size |= (uint64_t)req[i] << (8 * i);
		memset(buf, 'd', chunk);
		while (size) {
			size_t n = size < chunk ? (size_t)size : chunk;
			if (write_all(fd, buf, n) < 0)
				break;
			size -= n;
		}
	}
	free(buf);
	close(fd);
}

static void *server_thread(void *arg)
{
	kserver_t *s = arg;
	struct pollfd *p = calloc((size_t)s->nl, sizeof *p);
	if (!p)
		return NULL;
	for (int i = 0; i < s->nl; i++) {
		p[i].fd = s->lfds[i];
		p[i].events = POLLIN;
	}
	for (;;) {
		if (poll(p, (nfds_t)s->nl, -1) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < s->nl; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			for (;;) {
				int c = accept4(p[i].fd, NULL, NULL, 0);
				if (c < 0)
					break;
				if (s->down)
					serve_bulk_down(c);
				else if (s->bulk)
					serve_bulk(c);
				else
					serve_crr(c);
				if (s->bulk)
					break;
			}
		}
	}
	free(p);
	return NULL;
}

static int listen_port(int port, int rcvbuf, bool nonblock)
{
	int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	struct sockaddr_in sa;
	make_addr("0.0.0.0", port, &sa);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4096) < 0) {
		perror("bench: bind/listen");
		close(fd);
		return -1;
	}
	return fd;
}

int kpeer_servers_start(int port0, int ports, int threads, int bulk_port, int rcvbuf)
{
	/* Each crr worker polls every listener; accepted sockets are blocking. */
	for (int t = 0; t < threads && ports > 0; t++) {
		kserver_t *s = calloc(1, sizeof *s);
		s->lfds = calloc((size_t)ports, sizeof *s->lfds);
		bench_check(s && s->lfds, "out of memory");
		for (int p = t; p < ports; p += threads) {
			int fd = listen_port(port0 + p, 0, true);
			if (fd < 0)
				return -1;
			s->lfds[s->nl++] = fd;
		}
		pthread_t th;
		if (pthread_create(&th, NULL, server_thread, s) != 0)
			return -1;
		pthread_detach(th);
	}
	if (bulk_port) {
		kserver_t *s = calloc(1, sizeof *s);
		s->lfds = calloc(1, sizeof *s->lfds);
		bench_check(s && s->lfds, "out of memory");
		s->lfds[0] = listen_port(bulk_port, rcvbuf, false);
		if (s->lfds[0] < 0)
			return -1;
		s->nl = 1;
		s->bulk = true;
		pthread_t th;
		if (pthread_create(&th, NULL, server_thread, s) != 0)
			return -1;
		pthread_detach(th);
		kserver_t *d = calloc(1, sizeof *d);
		d->lfds = calloc(1, sizeof *d->lfds);
		bench_check(d && d->lfds, "out of memory");
		d->lfds[0] = listen_port(bulk_port + 1, 0, false);
		if (d->lfds[0] < 0)
			return -1;
		d->nl = 1;
		d->bulk = d->down = true;
		if (pthread_create(&th, NULL, server_thread, d) != 0)
			return -1;
		pthread_detach(th);
	}
	return 0;
}

long kpeer_timewait_count(void)
{
	FILE *f = fopen("/proc/net/sockstat", "r");
	if (!f)
		return -1;
	char line[256];
	long tw = -1;
	while (fgets(line, sizeof line, f)) {
		char *p = strstr(line, " tw ");
		if (strncmp(line, "TCP:", 4) == 0 && p)
			tw = strtol(p + 4, NULL, 10);
	}
	fclose(f);
	return tw;
}

const char *kpeer_sysctl(const char *name, char *buf, int len)
{
	char path[256];
	snprintf(path, sizeof path, "/proc/sys/%s", name);
	for (char *p = path + 10; *p; p++)
		if (*p == '.')
			*p = '/';
	FILE *f = fopen(path, "r");
	if (!f || !fgets(buf, len, f)) {
		if (f)
			fclose(f);
		snprintf(buf, (size_t)len, "?");
		return buf;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	for (char *p = buf; *p; p++)
		if (*p == '\t')
			*p = ' ';
	return buf;
}
