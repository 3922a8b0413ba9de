/* echo_server: a TCP echo server (RFC 862) on synfin over a TUN device.
 *
 * synfin answers at 192.0.2.2 (the kernel side of the TUN is 192.0.2.1): try
 * `nc 192.0.2.2 7`. Every byte is sent back; after the client's FIN the rest
 * is echoed and the server closes too. sf_loop waits; on_ready() is the app.
 * Usage (as root, ideally in `unshare -n`): echo_server [PORT [PCAP_FILE]]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <synfin/loop.h>

#define MAX_CONNS 64
typedef struct conn {
	sf_sock_t s; /* 0: free slot */
	long len, off;
	int eof;
	char buf[16384];
} conn_t;
static conn_t conns[MAX_CONNS];
static sf_sock_t listener;
static sf_loop_t *loop;

static void on_signal(int sig)
{
	(void)sig;
	sf_loop_stop(loop);
}

/* Echoes what is there; closes after the peer's FIN, aborts on an error. */
static void serve(sf_stack_t *st, conn_t *c)
{
	long n = 0;
	while (n >= 0 && !(c->eof && c->off == c->len)) {
		if (c->off < c->len) {
			if ((n = sf_send(st, c->s, c->buf + c->off, (size_t)(c->len - c->off))) > 0)
				c->off += n;
		} else if ((n = sf_recv(st, c->s, c->buf, sizeof c->buf)) >= 0) {
			c->eof = n == 0;
			c->len = n, c->off = 0;
		}
	}
	if (n == SF_EAGAIN)
		return; /* wait for readiness */
	if (n >= 0)
		sf_close(st, c->s); /* our FIN follows the echoed data */
	else
		sf_abort(st, c->s);
	c->s = 0;
}

static int64_t on_ready(void *ctx, sf_loop_t *lp, int64_t now_us)
{
	(void)ctx, (void)now_us;
	sf_stack_t *st = sf_loop_stack(lp);
	sf_pollfd_t pfd[MAX_CONNS + 1] = {{.sock = listener, .events = SF_POLLIN}};
	for (int i = 0; i < MAX_CONNS; i++)
		pfd[i + 1] = (sf_pollfd_t){.sock = conns[i].s, .events = SF_POLLIN | SF_POLLOUT};
	sf_poll(st, pfd, MAX_CONNS + 1);
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i].s && pfd[i + 1].revents)
			serve(st, &conns[i]);
	for (int i = 0; i < MAX_CONNS && (pfd[0].revents & SF_POLLIN); i++) {
		if (conns[i].s)
			continue;
		sf_sock_t s = sf_accept(st, listener, NULL, NULL);
		if (s < 0)
			break;
		conns[i] = (conn_t){.s = s};
		serve(st, &conns[i]);
	}
	return INT64_MAX; /* no timers of our own */
}

int main(int argc, char **argv)
{
	char *end = NULL;
	long port = argc > 1 ? strtol(argv[1], &end, 10) : 7;
	if (argc > 3 || (end && (*end || end == argv[1])) || port < 1 || port > 65535) {
		fprintf(stderr,
		        "usage: echo_server [PORT [PCAP_FILE]]   (PORT 1..65535, default 7)\n");
		return 2;
	}
	sf_loop_tun_opts_t o = {.pcap_path = argc > 2 ? argv[2] : NULL};
	char err[160];
	if (sf_loop_open_tun(&o, &loop, err, sizeof err) < 0) {
		fprintf(stderr, "echo_server: %s\n", err);
		return 1;
	}
	sf_stack_t *st = sf_loop_stack(loop);
	listener = sf_socket(st);
	if (sf_bind(st, listener, (uint16_t)port) < 0 || sf_listen(st, listener, 64) < 0) {
		fprintf(stderr, "echo_server: cannot listen on port %ld\n", port);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("echo server on 192.0.2.2:%ld via %s; try: nc 192.0.2.2 %ld\n", port,
	       sf_loop_tun_name(loop), port);
	fflush(stdout);
	sf_loop_set_app(loop, on_ready, NULL);
	sf_loop_run(loop, -1);
	sf_loop_destroy(loop);
	return 0;
}
