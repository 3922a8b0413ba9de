/* The readiness list (sf_ready_take, sf_sock_slot): what an application
 * with many sockets is told, driven segment by segment (tests/support/pkt).
 *
 *   - the listener is listed when a connection joins its accept queue;
 *   - a connection is listed once for any number of segments, and not
 *     again until something new happens; the application's reads and
 *     sends list nothing;
 *   - FIN, RST and a timer giving up list it; a socket closed by the
 *     application is left out; max bounds a call, the rest waits;
 *   - sf_sock_slot numbers open sockets apart and refuses stale handles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pkt.h"

/* The sockets sf_ready_take lists now (at most 8), into out; returns
 * how many. */
static int take(pkt_t *p, sf_sock_t *out)
{
	int n = sf_ready_take(p->st, out, 8);
	assert_true(n >= 0);
	return n;
}

static void listener_listed_on_accept_queue(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t l = sf_socket(p.st), got[8];
	assert_int_equal(sf_bind(p.st, l, p.port), 0);
	assert_int_equal(sf_listen(p.st, l, 16), 0);
	assert_int_equal(take(&p, got), 1); /* its own CLOSED -> LISTEN */
	pkt_in(&p, "S", 0, 0, NULL, 0);
	p.iss = pkt_next(&p)->tcp.seq;      /* the SYN,ACK */
	assert_int_equal(take(&p, got), 0); /* SYN-RECEIVED: nothing to accept */
	pkt_in(&p, ".", 1, 1, NULL, 0);
	assert_int_equal(take(&p, got), 1);
	assert_int_equal(got[0], l);
	sf_sock_t s = sf_accept(p.st, l, NULL, NULL);
	assert_true(s > 0);
	assert_int_equal(take(&p, got), 0);
	pkt_finish_listener(&p, s, l);
}

static void listed_once_per_change(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_active(&p), got[8];
	(void)take(&p, got); /* the handshake's own listing */
	assert_int_equal(take(&p, got), 0);
	pkt_in(&p, "P.", 1, 1, "abc", 3);
	pkt_in(&p, "P.", 4, 1, "def", 3);
	pkt_in(&p, "P.", 7, 1, "ghi", 3);
	pkt_discard(&p);
	assert_int_equal(take(&p, got), 1);
	assert_int_equal(got[0], s);
	assert_int_equal(take(&p, got), 0);
	/* Its own calls list nothing. */
	char buf[16];
	assert_int_equal(sf_recv(p.st, s, buf, sizeof buf), 9);
	assert_int_equal(sf_send(p.st, s, "x", 1), 1);
	pkt_poll(&p);
	pkt_discard(&p);
	assert_int_equal(take(&p, got), 0);
	/* The ACK of what it sent (room to send) lists it again. */
	pkt_in(&p, ".", 10, 2, NULL, 0);
	assert_int_equal(take(&p, got), 1);
	assert_int_equal(got[0], s);
	/* So does the FIN. */
	pkt_in(&p, "F.", 10, 2, NULL, 0);
	pkt_discard(&p);
	assert_int_equal(take(&p, got), 1);
	assert_int_equal(sf_recv(p.st, s, buf, sizeof buf), 0);
	pkt_finish(&p, s);
}

static void rst_and_timeout_listed_closed_left_out(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t l, a = pkt_open_passive(&p, &l), got[8];
	/* A second and third connection from other ports. */
	uint16_t port0 = p.peer_port;
	sf_sock_t more[2];
	for (int i = 0; i < 2; i++) {
		p.peer_port = (uint16_t)(port0 + 1 + i);
		pkt_in(&p, "S", 0, 0, NULL, 0);
		pkt_seg_t *sa = pkt_next(&p);
		p.iss = sa->tcp.seq;
		pkt_in(&p, ".", 1, 1, NULL, 0);
		more[i] = sf_accept(p.st, l, NULL, NULL);
		assert_true(more[i] > 0);
	}
	while (take(&p, got) > 0)
		;
	/* Data on all three; the application closes the second before it
	 * looks: it is left out. max = 1 takes one at a time, oldest first. */
	p.peer_port = port0;
	pkt_in(&p, "P.", 1, 1, "a", 1);
	p.peer_port = (uint16_t)(port0 + 1);
	pkt_in(&p, "P.", 1, 1, "b", 1);
	p.peer_port = (uint16_t)(port0 + 2);
	pkt_in(&p, "P.", 1, 1, "c", 1);
	pkt_discard(&p);
	assert_int_equal(sf_abort(p.st, more[0]), 0);
	pkt_discard(&p);
	assert_int_equal(sf_ready_take(p.st, got, 1), 1);
	assert_int_equal(got[0], a);
	assert_int_equal(sf_ready_take(p.st, got, 1), 1);
	assert_int_equal(got[0], more[1]);
	assert_int_equal(take(&p, got), 0);
	/* A stale handle has no slot; open ones have distinct slots. */
	assert_int_equal(sf_sock_slot(p.st, more[0]), SF_EBADF);
	int sa = sf_sock_slot(p.st, a), sb = sf_sock_slot(p.st, more[1]);
	assert_true(sa >= 0 && sb >= 0 && sa != sb);
	assert_true(sa < (int)p.cfg.max_conns && sb < (int)p.cfg.max_conns);
	/* An RST lists its connection. */
	p.peer_port = (uint16_t)(port0 + 2);
	pkt_in(&p, "R", 2, 0, NULL, 0);
	assert_int_equal(take(&p, got), 1);
	assert_int_equal(got[0], more[1]);
	assert_int_equal(sf_sock_error(p.st, more[1]), SF_ECONNRESET);
	assert_int_equal(sf_close(p.st, more[1]), 0);
	/* A retransmission timer that gives up lists it too (R2). */
	p.peer_port = port0;
	assert_int_equal(sf_send(p.st, a, "z", 1), 1);
	pkt_poll(&p);
	while (pkt_run_next_deadline(&p) >= 0 && take(&p, got) == 0)
		pkt_discard(&p);
	assert_int_equal(got[0], a);
	sf_tcp_info_t ti;
	assert_int_equal(sf_tcp_info(p.st, a, &ti), 0);
	assert_int_equal(ti.state, SF_CLOSED);
	assert_int_equal(sf_sock_error(p.st, a), SF_ETIMEDOUT);
	assert_int_equal(sf_close(p.st, a), 0);
	pkt_finish_close(&p, l);
}

static void bad_arguments(void **state)
{
	(void)state;
	sf_sock_t out[1];
	assert_int_equal(sf_ready_take(NULL, out, 1), SF_EINVAL);
	pkt_t p;
	pkt_init(&p, NULL);
	assert_int_equal(sf_ready_take(p.st, NULL, 1), SF_EINVAL);
	assert_int_equal(sf_ready_take(p.st, out, -1), SF_EINVAL);
	assert_int_equal(sf_ready_take(p.st, out, 0), 0);
	pkt_fini(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(listener_listed_on_accept_queue),
	        cmocka_unit_test(listed_once_per_change),
	        cmocka_unit_test(rst_and_timeout_listed_closed_left_out),
	        cmocka_unit_test(bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
