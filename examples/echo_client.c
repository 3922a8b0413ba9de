/* echo_client: sends its standard input to a TCP server with synfin over a TUN
 * device and copies what comes back to standard output.
 *
 * synfin is 192.0.2.2, the kernel side of the TUN is 192.0.2.1: a server
 * listening there (e.g. `nc -l 192.0.2.1 7`) is reached through the kernel's
 * own TCP. At the end of the input the client half-closes (FIN) and goes on
 * reading until the server closes. stdin is one more fd in the loop.
 * Usage (as root, ideally in `unshare -n`): echo_client ADDR PORT [PCAP_FILE]
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <synfin/loop.h>
#include <sys/epoll.h>
#include <unistd.h>

static sf_sock_t sock;
static char out[65536];
static long out_len, out_off;               /* input read but not yet taken by sf_send */
static int in_eof, in_watched, status = -1; /* status: -1 running, then exit code */

static void on_stdin(void *ctx, sf_loop_t *lp, int fd, uint32_t events)
{
	(void)ctx, (void)events;
	out_len = read(fd, out, sizeof out), out_off = 0;
	if (out_len <= 0)
		in_eof = 1, out_len = 0;
	sf_loop_del_fd(lp, fd); /* until this chunk is sent */
	in_watched = 0;
}

static int64_t on_ready(void *ctx, sf_loop_t *lp, int64_t now_us)
{
	(void)ctx, (void)now_us;
	sf_stack_t *st = sf_loop_stack(lp);
	static char buf[65536];
	long n = 0;
	for (;;) {
		while (out_off < out_len &&
		       (n = sf_send(st, sock, out + out_off, out_len - out_off)) > 0)
			out_off += n;
		if (out_off < out_len)
			break; /* send buffer full */
		if (in_eof == 1 && (in_eof = 2))
			sf_shutdown(st, sock, SF_SHUT_WR); /* half-close: we still read */
		sf_pollfd_t p = {.sock = sock, .events = SF_POLLOUT};
		if (in_eof || in_watched || !sf_poll(st, &p, 1)) /* no input, or not connected */
			break;
		if ((in_watched = sf_loop_add_fd(lp, 0, EPOLLIN, on_stdin, NULL) == 0))
			break;
		on_stdin(NULL, lp, 0, EPOLLIN); /* a regular file: epoll cannot watch it */
	}
	while ((n = sf_recv(st, sock, buf, sizeof buf)) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	if (n != SF_EAGAIN) {
		if (n < 0)
			fprintf(stderr, "echo_client: %s\n", sf_strerror((int)n));
		status = n == 0 ? 0 : 1;
		sf_close(st, sock);
		sf_loop_stop(lp);
	}
	return INT64_MAX;
}

int main(int argc, char **argv)
{
	struct in_addr a;
	if (argc < 3 || inet_pton(AF_INET, argv[1], &a) != 1) {
		fprintf(stderr, "usage: echo_client ADDR PORT [PCAP_FILE]\n");
		return 2;
	}
	sf_loop_tun_opts_t o = {.pcap_path = argc > 3 ? argv[3] : NULL};
	sf_loop_t *loop;
	char err[160];
	if (sf_loop_open_tun(&o, &loop, err, sizeof err) < 0) {
		fprintf(stderr, "echo_client: %s\n", err);
		return 1;
	}
	sf_stack_t *st = sf_loop_stack(loop);
	sock = sf_socket(st);
	sf_connect(st, sock, ntohl(a.s_addr), (uint16_t)atoi(argv[2]));
	sf_loop_set_app(loop, on_ready, NULL);
	/* Bounded: a silent peer ends it through the stack's own timeouts. */
	sf_loop_run(loop, 600 * 1000000ll);
	sf_loop_set_app(loop, NULL, NULL); /* let a last ACK leave before the TUN goes */
	sf_loop_run(loop, 100000);
	sf_loop_destroy(loop);
	fflush(stdout);
	return status < 0 ? 1 : status;
}
