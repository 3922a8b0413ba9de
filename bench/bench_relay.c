/* An impairing relay between two TUN devices: every IPv4 frame read from
 * one is handed to synfin's impairment engine (src/link/impair_engine.c,
 * the same code as `synfin serve --loss ...` and the simulator's link) and
 * written to the other when it is due. With each TUN moved into its own
 * network namespace, two kernels (or synfin and a kernel) talk through the
 * same lossy, reordering path: the loss benchmark (bench/loss.sh) compares
 * them there, since the kernel's netem is not available here.
 *
 *   bench_relay --a NAME --b NAME [--loss P] [--reorder P] [--reorder-ms MS]
 *               [--delay-ms MS] [--seed N] [--seconds S]
 *
 * The devices are created here (IFF_TUN | IFF_NO_PI); the caller moves and
 * configures them. Prints "ready" once both are open, and on exit (SIGTERM,
 * SIGINT or --seconds) the frames relayed and lost per direction.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "link/impair_engine.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int tun_open(const char *name)
{
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static const char *opt(int argc, char **argv, const char *name, const char *def)
{
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return argv[i + 1];
	return def;
}

int main(int argc, char **argv)
{
	const char *a = opt(argc, argv, "--a", NULL), *b = opt(argc, argv, "--b", NULL);
	if (!a || !b) {
		fprintf(stderr, "usage: bench_relay --a NAME --b NAME [--loss P] [--reorder P] "
		                "[--reorder-ms MS] [--delay-ms MS] [--seed N] [--seconds S]\n");
		return 2;
	}
	sf_impair_t imp = {
	        .loss = atof(opt(argc, argv, "--loss", "0")),
	        .reorder = atof(opt(argc, argv, "--reorder", "0")),
	        .reorder_us = (int64_t)(atof(opt(argc, argv, "--reorder-ms", "2")) * 1000),
	        .delay_us = (int64_t)(atof(opt(argc, argv, "--delay-ms", "0")) * 1000),
	};
	uint64_t seed = strtoull(opt(argc, argv, "--seed", "1"), NULL, 0);
	double seconds = atof(opt(argc, argv, "--seconds", "0"));
	int fd[2] = {tun_open(a), tun_open(b)};
	if (fd[0] < 0 || fd[1] < 0) {
		fprintf(stderr, "bench_relay: cannot open TUN devices %s, %s: %s\n", a, b,
		        strerror(errno));
		return 1;
	}
	/* engine d carries frames read from fd[d] to fd[1 - d] */
	sf_imp_t e[2];
	if (sf_imp_init(&e[0], seed, 1500, &imp) < 0 ||
	    sf_imp_init(&e[1], seed + 1, 1500, &imp) < 0) {
		fprintf(stderr, "bench_relay: bad impairment settings\n");
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready\n");
	fflush(stdout);
	int64_t end = seconds > 0 ? now_us() + (int64_t)(seconds * 1e6) : INT64_MAX;
	uint8_t buf[2048];
	uint64_t relayed[2] = {0, 0};
	while (!stop && now_us() < end) {
		int64_t now = now_us();
		for (int d = 0; d < 2; d++) {
			int n;
			while ((n = sf_imp_pop(&e[d], buf, sizeof buf, now)) > 0) {
				if (write(fd[1 - d], buf, (size_t)n) == n)
					relayed[d]++;
			}
		}
		int64_t next = sf_imp_next_deadline(&e[0]);
		int64_t n1 = sf_imp_next_deadline(&e[1]);
		if (n1 < next)
			next = n1;
		int timeout = 100;
		if (next != INT64_MAX)
			timeout = next <= now ? 0 : (int)((next - now + 999) / 1000);
		if (timeout > 100)
			timeout = 100;
		struct pollfd p[2] = {{fd[0], POLLIN, 0}, {fd[1], POLLIN, 0}};
		if (poll(p, 2, timeout) < 0 && errno != EINTR)
			break;
		now = now_us();
		for (int d = 0; d < 2; d++) {
			if (!(p[d].revents & POLLIN))
				continue;
			for (int k = 0; k < 256; k++) {
				ssize_t n = read(fd[d], buf, sizeof buf);
				if (n <= 0)
					break;
				sf_imp_submit(&e[d], buf, (size_t)n, now);
			}
		}
	}
	printf("relayed a->b %llu b->a %llu; lost a->b %llu b->a %llu\n",
	       (unsigned long long)relayed[0], (unsigned long long)relayed[1],
	       (unsigned long long)e[0].stats.lost, (unsigned long long)e[1].stats.lost);
	sf_imp_fini(&e[0]);
	sf_imp_fini(&e[1]);
	close(fd[0]);
	close(fd[1]);
	return 0;
}
