/* Blind in-window attacks (RFC 5961) and the zero-window allowances of
 * RFC 9293 §3.4 (MUST-66): only an exactly matching RST resets; an
 * in-window one or a SYN draws a rate-limited challenge ACK; ACKs outside
 * [SND.UNA - MAX.SND.WND, SND.NXT] are dropped with an ACK in reply. */
#include <string.h>

#include "pkt.h"

static void finish(pkt_t *p, sf_sock_t s)
{
	sf_abort(p->st, s);
	pkt_poll(p);
	pkt_discard(p);
	pkt_fini(p);
}

static uint64_t challenge_acks(pkt_t *p)
{
	sf_stack_stats_t ss;
	sf_stack_stats(p->st, &ss);
	return ss.challenge_acks;
}

/* RFC 5961 §3.2: SEG.SEQ == RCV.NXT resets the connection. */
static void rst_exact_resets(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	uint32_t id = sf_sock_conn_id(p.st, s);
	pkt_in(&p, "P.", 1, 1, "abc", 3);
	pkt_expect(&p, ".", 1, 4, 0);
	pkt_in(&p, "R", 4, 0, NULL, 0);
	pkt_expect_none(&p);
	assert_int_equal(pkt_state(&p, id), SF_CLOSED);
	char b[8];
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), 3); /* data already there */
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), SF_ECONNRESET);
	sf_close(p.st, s);
	pkt_fini(&p);
}

/* RFC 5961 §3.2: a RST inside the window but not at RCV.NXT draws a
 * challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT>; the connection stays. */
static void rst_in_window_challenged(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	uint32_t id = sf_sock_conn_id(p.st, s);
	pkt_in(&p, "R", 1000, 0, NULL, 0);
	pkt_expect(&p, ".", 1, 1, 0);
	pkt_expect_none(&p);
	pkt_in(&p, "R.", 2, 1, NULL, 0);
	pkt_expect(&p, ".", 1, 1, 0);
	assert_int_equal(pkt_state(&p, id), SF_ESTABLISHED);
	assert_int_equal(challenge_acks(&p), 2);
	/* The peer's real RST (from the challenge ACK's numbers) works. */
	pkt_in(&p, "R", 1, 0, NULL, 0);
	assert_int_equal(pkt_state(&p, id), SF_CLOSED);
	sf_close(p.st, s);
	pkt_fini(&p);
}

/* RFC 5961 §3.2 / RFC 9293 §3.10.7.4: a RST outside the window is dropped
 * silently. */
static void rst_out_of_window_ignored(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	uint32_t id = sf_sock_conn_id(p.st, s);
	pkt_in(&p, "R", 1 + 70000, 0, NULL, 0);
	pkt_in(&p, "R", 0, 0, NULL, 0);
	pkt_in(&p, "R.", (uint32_t)-5000, 1, NULL, 0);
	pkt_expect_none(&p);
	assert_int_equal(pkt_state(&p, id), SF_ESTABLISHED);
	assert_int_equal(pkt_drops(&p, SF_DROP_TCP_RST_IGNORED), 3);
	assert_int_equal(challenge_acks(&p), 0);
	finish(&p, s);
}

/* RFC 5961 §4.2: a SYN in a synchronized state, whatever its sequence
 * number, gets an ACK and nothing else happens. */
static void syn_in_established_challenged(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	uint32_t id = sf_sock_conn_id(p.st, s);
	pkt_in(&p, "S", 500, 0, NULL, 0);
	pkt_expect(&p, ".", 1, 1, 0);
	pkt_in(&p, "S", 0, 0, NULL, 0);
	pkt_expect(&p, ".", 1, 1, 0);
	pkt_in(&p, "S", 1, 0, NULL, 0);
	pkt_expect(&p, ".", 1, 1, 0);
	pkt_expect_none(&p);
	assert_int_equal(pkt_state(&p, id), SF_ESTABLISHED);
	assert_true(challenge_acks(&p) >= 2);
	/* Data still flows with the old numbers. */
	pkt_in(&p, "P.", 1, 1, "ok", 2);
	pkt_expect(&p, ".", 1, 3, 0);
	finish(&p, s);
}

/* RFC 5961 §5.2: an ACK above SND.NXT or below SND.UNA - MAX.SND.WND is
 * dropped (data included) and answered with an ACK; one just inside the
 * lower edge is acceptable. */
static void ack_outside_range_dropped(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_passive(&p, NULL); /* MAX.SND.WND = 65535 */
	pkt_in(&p, "P.", 1, 5000, "xyz", 3);
	pkt_expect(&p, ".", 1, 1, 0);
	pkt_in(&p, "P.", 1, 1 - 65535 - 1, "xyz", 3);
	pkt_expect(&p, ".", 1, 1, 0);
	assert_int_equal(pkt_drops(&p, SF_DROP_TCP_BAD_ACK), 2);
	char b[8];
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), SF_EAGAIN);
	pkt_in(&p, "P.", 1, 1 - 65535, "xyz", 3);
	pkt_expect(&p, ".", 1, 4, 0);
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), 3);
	finish(&p, s);
}

/* RFC 5961 §7: challenge ACKs are limited per second (synfin: 1000); the
 * budget comes back the next second. */
static void challenge_ack_rate_limit(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	size_t acks = 0;
	for (int i = 0; i < 1100; i++) {
		pkt_in(&p, "R", 100 + (uint32_t)i, 0, NULL, 0);
		acks += pkt_pending(&p);
		pkt_discard(&p);
	}
	assert_int_equal(acks, 1000);
	assert_int_equal(challenge_acks(&p), 1000);
	pkt_advance(&p, 1000000);
	pkt_in(&p, "R", 100, 0, NULL, 0);
	pkt_expect(&p, ".", 1, 1, 0);
	finish(&p, s);
}

/* Fills a 1000-byte receive buffer so the window is zero; 10 bytes of ours
 * are in flight. */
static sf_sock_t zero_rcv_window(pkt_t *p)
{
	sf_config_t c;
	sf_config_default(&c);
	c.delack_ms = 0;
	c.seed = 1;
	c.rcvbuf = 1000;
	pkt_init(p, &c);
	sf_sock_t s = pkt_open_passive(p, NULL);
	static uint8_t fill[1000];
	pkt_in(p, "P.", 1, 1, fill, sizeof fill);
	assert_int_equal(pkt_expect(p, ".", 1, 1001, 0)->tcp.wnd, 0);
	sf_setsockopt(p->st, s, SF_SO_NODELAY, 1);
	assert_int_equal(sf_send(p->st, s, "0123456789", 10), 10);
	pkt_poll(p);
	pkt_expect(p, "P.", 1, 1001, 10);
	return s;
}

/* MUST-66: with a zero receive window, a RST at RCV.NXT still resets. */
static void zero_window_rst_processed(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t s = zero_rcv_window(&p);
	uint32_t id = sf_sock_conn_id(p.st, s);
	pkt_in(&p, "R", 1001, 0, NULL, 0);
	pkt_expect_none(&p);
	assert_int_equal(pkt_state(&p, id), SF_CLOSED);
	sf_close(p.st, s);
	pkt_fini(&p);
}

/* MUST-66: with a zero receive window, the ACK of a segment is processed
 * though its text is not taken; the segment was not acceptable, so an ACK
 * goes back (RFC 9293 §3.10.7.4 first check). */
static void zero_window_ack_processed(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t s = zero_rcv_window(&p);
	pkt_in(&p, "P.", 1001, 11, "z", 1);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.bytes_acked, 10);
	assert_int_equal(ti.bytes_received, 1000);
	pkt_expect(&p, ".", 11, 1001, 0);
	pkt_expect_none(&p);
	finish(&p, s);
}

/* MUST-66: URG with a zero window: the urgent pointer is taken (the
 * segment's ACK too), the text is not. */
static void zero_window_urg_processed(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t s = zero_rcv_window(&p);
	p.urg = 1;
	pkt_in(&p, "U.", 1001, 11, "u", 1);
	p.urg = 0;
	pkt_discard(&p);
	uint32_t bytes = 0;
	assert_int_equal(sf_urgent_pending(p.st, s, &bytes), 1);
	assert_int_equal(bytes, 1001); /* 1000 unread bytes + the urgent one */
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.bytes_acked, 10);
	assert_int_equal(ti.bytes_received, 1000);
	finish(&p, s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(rst_exact_resets),
	        cmocka_unit_test(rst_in_window_challenged),
	        cmocka_unit_test(rst_out_of_window_ignored),
	        cmocka_unit_test(syn_in_established_challenged),
	        cmocka_unit_test(ack_outside_range_dropped),
	        cmocka_unit_test(challenge_ack_rate_limit),
	        cmocka_unit_test(zero_window_rst_processed),
	        cmocka_unit_test(zero_window_ack_processed),
	        cmocka_unit_test(zero_window_urg_processed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
