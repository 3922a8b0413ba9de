/* The smallest complete synfin program: two stacks in one process, joined by
 * memory instead of a network. The client connects, sends a line, the server
 * echoes it, both close, and the program runs until both ends are CLOSED.
 *
 * It needs only the core library (pkg-config synfin-core): no TUN, no event
 * loop, no clock. Time is virtual and jumps to the next deadline, the way a
 * test or a simulator drives synfin.
 *
 *   cc memory_pair.c $(pkg-config --cflags --libs synfin-core) && ./a.out
 */
#include <stdio.h>
#include <string.h>

#include <synfin/synfin.h>

#define CLIENT_ADDR 0xC0000201u /* 192.0.2.1 */
#define SERVER_ADDR 0xC0000202u /* 192.0.2.2 */

/* The wire: frames in flight, per receiving side, delivered in order. */
#define SLOTS 32
static struct {
	uint8_t data[1500];
	size_t len;
} wire[2][SLOTS];
static int head[2], count[2];
static sf_stack_t *stack[2];

/* Each stack's transmit callback: the frame is copied onto the wire. */
static int transmit(void *ctx, const uint8_t *frame, size_t len, int64_t now_us)
{
	int to = *(int *)ctx == 0 ? 1 : 0;
	(void)now_us;
	if (count[to] == SLOTS || len > sizeof wire[0][0].data)
		return SF_ENOBUFS; /* lost, as on a real wire */
	int slot = (head[to] + count[to]++) % SLOTS;
	memcpy(wire[to][slot].data, frame, len);
	wire[to][slot].len = len;
	return 0;
}

int main(void)
{
	static int side_id[2] = {0, 1};
	int64_t now = 0;
	for (int i = 0; i < 2; i++) {
		sf_config_t cfg;
		sf_config_default(&cfg);
		cfg.addr = i == 0 ? CLIENT_ADDR : SERVER_ADDR;
		cfg.seed = 42 + (uint64_t)i; /* a real program passes entropy here */
		cfg.transmit = transmit;
		cfg.transmit_ctx = &side_id[i];
		if (sf_stack_create(&cfg, now, &stack[i]) < 0)
			return 1;
	}
	sf_stack_t *cli = stack[0], *srv = stack[1];

	sf_sock_t lsn = sf_socket(srv);
	sf_bind(srv, lsn, 7);
	sf_listen(srv, lsn, 4);
	sf_sock_t c = sf_socket(cli);
	sf_connect(cli, c, SERVER_ADDR, 7); /* SF_EINPROGRESS */

	const char *msg = "hello over memory\n";
	char echo[64] = {0};
	size_t got = 0;
	int sent = 0, done = 0;
	sf_sock_t s = -1;
	while (!done) {
		/* 1. deliver every frame on the wire */
		for (int i = 0; i < 2; i++)
			while (count[i]) {
				int slot = head[i];
				head[i] = (head[i] + 1) % SLOTS;
				count[i]--;
				sf_stack_input(stack[i], wire[i][slot].data, wire[i][slot].len,
				               now);
			}
		/* 2. the applications */
		if (s < 0)
			s = sf_accept(srv, lsn, NULL, NULL);
		if (s >= 0) {
			char buf[64];
			long n = sf_recv(srv, s, buf, sizeof buf);
			if (n > 0)
				sf_send(srv, s, buf, (size_t)n); /* echo */
			else if (n == 0)
				sf_close(srv, s); /* the client closed: close too */
			if (n == 0)
				s = -2;
		}
		if (!sent && sf_send(cli, c, msg, strlen(msg)) > 0)
			sent = 1;
		long n = sf_recv(cli, c, echo + got, sizeof echo - 1 - got);
		if (n > 0) {
			got += (size_t)n;
			if (got == strlen(msg))
				sf_close(cli, c); /* FIN; TIME-WAIT follows */
		}
		/* 3. timers and output, then jump to the next deadline */
		for (int i = 0; i < 2; i++)
			sf_stack_poll(stack[i], now);
		if (count[0] || count[1])
			continue;
		int64_t next = sf_stack_next_deadline(cli);
		if (sf_stack_next_deadline(srv) < next)
			next = sf_stack_next_deadline(srv);
		if (next == INT64_MAX)
			done = 1; /* nothing left to happen: both ends are closed */
		else if (next > now)
			now = next;
	}
	sf_stack_stats_t a, b;
	sf_stack_stats(cli, &a);
	sf_stack_stats(srv, &b);
	printf("echoed: %s", echo);
	printf("after %lld ms (TIME-WAIT included): client connections %u, server %u "
	       "(the listener)\n",
	       (long long)(now / 1000), (unsigned)a.conns_open, (unsigned)b.conns_open);
	sf_stack_destroy(cli);
	sf_stack_destroy(srv);
	return strcmp(echo, msg) == 0 && a.conns_open == 0 && b.conns_open == 1 ? 0 : 1;
}
