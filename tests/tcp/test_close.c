/* Closing connections, segment by segment (RFC 9293 §3.6, §3.10.4,
 * §3.10.7.4; RFC 1337; RFC 6191; RFC 2525 §2.17): FIN with data, FIN
 * retransmission, the orphaned FIN-WAIT-2 timeout, half-close, resets on
 * close with unread data and on data after close, ABORT, LAST-ACK and
 * CLOSING retransmissions, and TIME-WAIT (2·MSL, restart, RST ignored,
 * reopening by a new SYN). */
#include <string.h>

#include "pkt.h"

static void cfg_default(sf_config_t *c)
{
	sf_config_default(c);
	c->delack_ms = 0;
	c->seed = 1;
}

/* Active close of an open connection down to TIME-WAIT. */
static uint32_t close_to_timewait(pkt_t *p, sf_sock_t s)
{
	uint32_t id = sf_sock_conn_id(p->st, s);
	assert_int_equal(sf_close(p->st, s), 0);
	pkt_poll(p);
	pkt_expect(p, "F.", 1, 1, 0);
	pkt_in(p, ".", 1, 2, NULL, 0);
	pkt_in(p, "F.", 1, 2, NULL, 0);
	pkt_expect(p, ".", 2, 2, 0);
	assert_int_equal(pkt_state(p, id), SF_TIME_WAIT);
	return id;
}

/* RFC 9293 §3.10.4: buffered data goes first; the FIN rides on the last
 * data segment. */
static void fin_carries_data(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	uint32_t id = sf_sock_conn_id(p.st, s);
	assert_int_equal(sf_send(p.st, s, "bye", 3), 3);
	assert_int_equal(sf_close(p.st, s), 0);
	pkt_poll(&p);
	pkt_seg_t *f = pkt_expect(&p, "FP.", 1, 1, 3);
	assert_memory_equal(f->payload, "bye", 3);
	pkt_expect_none(&p);
	pkt_in(&p, ".", 1, 5, NULL, 0);
	assert_int_equal(pkt_state(&p, id), SF_FIN_WAIT_2);
	pkt_in(&p, "F.", 1, 5, NULL, 0);
	pkt_expect(&p, ".", 5, 2, 0);
	assert_int_equal(pkt_state(&p, id), SF_TIME_WAIT);
	pkt_fini(&p);
}

/* RFC 9293 §3.8.1: an unacknowledged FIN is retransmitted on RTO (200 ms
 * here), with backoff. */
static void fin_retransmitted(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c;
	sf_config_default(&c);
	c.delack_ms = 0;
	c.seed = 1;
	c.rack = false; /* the RTO's backoff alone; with TLP the first resend is a probe */
	pkt_init(&p, &c);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	int64_t t = p.now;
	sf_close(p.st, s);
	pkt_poll(&p);
	pkt_expect(&p, "F.", 1, 1, 0);
	p.now = t + 199000;
	pkt_poll(&p);
	pkt_expect_none(&p);
	p.now = t + 200000;
	pkt_poll(&p);
	pkt_expect(&p, "F.", 1, 1, 0);
	p.now = t + 599000;
	pkt_poll(&p);
	pkt_expect_none(&p);
	p.now = t + 600000;
	pkt_poll(&p);
	pkt_expect(&p, "F.", 1, 1, 0);
	pkt_in(&p, ".", 1, 2, NULL, 0);
	pkt_expect_none(&p);
	pkt_fini(&p);
}

/* An orphaned connection (the application closed it) does not wait in
 * FIN-WAIT-2 forever: cfg.finwait2_ms later it is gone. */
static void finwait2_orphan_timeout(void **state)
{
	(void)state;
	sf_config_t c;
	cfg_default(&c);
	c.finwait2_ms = 5000;
	pkt_t p;
	pkt_init(&p, &c);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	uint32_t id = sf_sock_conn_id(p.st, s);
	sf_close(p.st, s);
	pkt_poll(&p);
	pkt_expect(&p, "F.", 1, 1, 0);
	pkt_in(&p, ".", 1, 2, NULL, 0);
	int64_t t = p.now;
	assert_int_equal(pkt_state(&p, id), SF_FIN_WAIT_2);
	p.now = t + 4999000;
	pkt_poll(&p);
	assert_int_equal(pkt_state(&p, id), SF_FIN_WAIT_2);
	p.now = t + 5000000;
	pkt_poll(&p);
	assert_string_equal(pkt_state_path(&p, id),
	                    "SYN-RECEIVED,ESTABLISHED,FIN-WAIT-1,FIN-WAIT-2,CLOSED");
	sf_stack_stats_t ss;
	sf_stack_stats(p.st, &ss);
	assert_int_equal(ss.conns_open, 0);
	pkt_expect_none(&p);
	pkt_fini(&p);
}

/* Half-close (RFC 9293 §3.6): after SHUT_WR the application keeps
 * receiving until the peer's FIN, which reads as end of stream. A
 * connection still held by the application has no FIN-WAIT-2 timeout. */
static void half_close(void **state)
{
	(void)state;
	sf_config_t c;
	cfg_default(&c);
	c.finwait2_ms = 5000;
	pkt_t p;
	pkt_init(&p, &c);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	uint32_t id = sf_sock_conn_id(p.st, s);
	assert_int_equal(sf_shutdown(p.st, s, SF_SHUT_WR), 0);
	pkt_poll(&p);
	pkt_expect(&p, "F.", 1, 1, 0);
	assert_int_equal(sf_send(p.st, s, "x", 1), SF_EPIPE);
	pkt_in(&p, ".", 1, 2, NULL, 0);
	assert_int_equal(pkt_state(&p, id), SF_FIN_WAIT_2);
	pkt_advance(&p, 10000000);
	assert_int_equal(pkt_state(&p, id), SF_FIN_WAIT_2);
	pkt_in(&p, "P.", 1, 2, "hello", 5);
	pkt_expect(&p, ".", 2, 6, 0);
	char b[16];
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), 5);
	assert_memory_equal(b, "hello", 5);
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), SF_EAGAIN);
	pkt_in(&p, "F.", 6, 2, NULL, 0);
	pkt_expect(&p, ".", 2, 7, 0);
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), 0);
	assert_int_equal(pkt_state(&p, id), SF_TIME_WAIT);
	sf_close(p.st, s);
	pkt_fini(&p);
}

/* RFC 9293 §3.6 / RFC 2525 §2.17: CLOSE with unread data resets. */
static void close_with_unread_data_resets(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	uint32_t id = sf_sock_conn_id(p.st, s);
	pkt_in(&p, "P.", 1, 1, "hello", 5);
	pkt_expect(&p, ".", 1, 6, 0);
	assert_int_equal(sf_close(p.st, s), 0);
	pkt_poll(&p);
	pkt_expect(&p, "R.", 1, 6, 0);
	pkt_expect_none(&p);
	assert_int_equal(pkt_state(&p, id), SF_CLOSED);
	sf_stack_stats_t ss;
	sf_stack_stats(p.st, &ss);
	assert_int_equal(ss.conns_open, 0);
	pkt_fini(&p);
}

/* RFC 2525 §2.17: data arriving for a fully closed connection (no reader
 * any more) is answered with a reset. */
static void data_after_close_resets(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	uint32_t id = sf_sock_conn_id(p.st, s);
	sf_close(p.st, s);
	pkt_poll(&p);
	pkt_expect(&p, "F.", 1, 1, 0);
	pkt_in(&p, ".", 1, 2, NULL, 0);
	pkt_in(&p, "P.", 1, 2, "late", 4);
	pkt_expect(&p, "R.", 2, 1, 0);
	pkt_expect_none(&p);
	assert_int_equal(pkt_state(&p, id), SF_CLOSED);
	pkt_fini(&p);
}

/* MUST-12: ABORT sends a RST and ends the handle; a reset from the peer is
 * reported to the application (SF_ECONNRESET, POLLERR). */
static void abort_and_reset_reported(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	sf_send(p.st, s, "data", 4);
	pkt_poll(&p);
	pkt_expect(&p, "P.", 1, 1, 4);
	assert_int_equal(sf_abort(p.st, s), 0);
	pkt_poll(&p);
	pkt_expect(&p, "R.", 5, 1, 0);
	pkt_expect_none(&p);
	assert_int_equal(sf_send(p.st, s, "x", 1), SF_EBADF);
	sf_stack_stats_t ss;
	sf_stack_stats(p.st, &ss);
	assert_int_equal(ss.conns_open, 0);

	s = pkt_open_active(&p);
	uint32_t id = sf_sock_conn_id(p.st, s);
	pkt_in(&p, "R.", 1, 1, NULL, 0);
	pkt_expect_none(&p);
	assert_int_equal(pkt_state(&p, id), SF_CLOSED);
	sf_pollfd_t pf = {s, SF_POLLIN | SF_POLLOUT, 0};
	assert_int_equal(sf_poll(p.st, &pf, 1), 1);
	assert_true(pf.revents & SF_POLLERR);
	char b[4];
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), SF_ECONNRESET);
	sf_close(p.st, s);
	pkt_fini(&p);
}

/* RFC 9293 §3.10.7.4: LAST-ACK keeps retransmitting the FIN until it is
 * acknowledged, then CLOSED. */
static void last_ack_retransmits_fin(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	uint32_t id = sf_sock_conn_id(p.st, s);
	pkt_in(&p, "F.", 1, 1, NULL, 0);
	pkt_expect(&p, ".", 1, 2, 0);
	int64_t t = p.now;
	sf_close(p.st, s);
	pkt_poll(&p);
	pkt_expect(&p, "F.", 1, 2, 0);
	assert_int_equal(pkt_state(&p, id), SF_LAST_ACK);
	p.now = t + 200000;
	pkt_poll(&p);
	pkt_expect(&p, "F.", 1, 2, 0);
	p.now = t + 600000;
	pkt_poll(&p);
	pkt_expect(&p, "F.", 1, 2, 0);
	pkt_in(&p, ".", 2, 2, NULL, 0);
	pkt_expect_none(&p);
	assert_string_equal(pkt_state_path(&p, id),
	                    "SYN-RECEIVED,ESTABLISHED,CLOSE-WAIT,LAST-ACK,CLOSED");
	pkt_fini(&p);
}

/* Simultaneous close: in CLOSING our FIN is still retransmitted until
 * ACKed; the ACK moves to TIME-WAIT. */
static void closing_retransmits_fin(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	uint32_t id = sf_sock_conn_id(p.st, s);
	int64_t t = p.now;
	sf_close(p.st, s);
	pkt_poll(&p);
	pkt_expect(&p, "F.", 1, 1, 0);
	pkt_in(&p, "F.", 1, 1, NULL, 0);
	pkt_expect(&p, ".", 2, 2, 0);
	assert_int_equal(pkt_state(&p, id), SF_CLOSING);
	p.now = t + 200000;
	pkt_poll(&p);
	pkt_expect(&p, "F.", 1, 2, 0);
	pkt_in(&p, ".", 2, 2, NULL, 0);
	assert_string_equal(pkt_state_path(&p, id),
	                    "SYN-RECEIVED,ESTABLISHED,FIN-WAIT-1,CLOSING,TIME-WAIT");
	/* RFC 9293 §3.10.7.4 (CLOSING): the ACK of our FIN is not answered. */
	if (pkt_pending(&p))
		fail_msg("CLOSING -> TIME-WAIT on a pure ACK sent a segment back");
	pkt_fini(&p);
}

/* MUST-13 and RFC 9293 §3.10.7.4 (TIME-WAIT): a retransmitted FIN is ACKed
 * again and restarts the 2·MSL wait. */
static void timewait_fin_restarts(void **state)
{
	(void)state;
	sf_config_t c;
	cfg_default(&c);
	c.msl_ms = 1000;
	pkt_t p;
	pkt_init(&p, &c);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	uint32_t id = close_to_timewait(&p, s);
	int64_t t = p.now;
	p.now = t + 1500000;
	pkt_in(&p, "F.", 1, 2, NULL, 0);
	pkt_expect(&p, ".", 2, 2, 0);
	p.now = t + 3499000;
	pkt_poll(&p);
	assert_int_equal(pkt_state(&p, id), SF_TIME_WAIT);
	p.now = t + 3500000;
	pkt_poll(&p);
	assert_int_equal(pkt_state(&p, id), SF_CLOSED);
	pkt_expect_none(&p);
	/* Gone: a FIN now meets the closed port's reset. */
	pkt_in(&p, "F.", 1, 2, NULL, 0);
	pkt_expect(&p, "R", 2, 0, 0);
	pkt_fini(&p);
}

/* RFC 1337: a RST in TIME-WAIT is ignored (no assassination). */
static void timewait_ignores_rst(void **state)
{
	(void)state;
	sf_config_t c;
	cfg_default(&c);
	c.msl_ms = 1000;
	pkt_t p;
	pkt_init(&p, &c);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	uint32_t id = close_to_timewait(&p, s);
	int64_t t = p.now;
	pkt_in(&p, "R", 2, 0, NULL, 0);
	pkt_in(&p, "R.", 2, 2, NULL, 0);
	pkt_expect_none(&p);
	assert_int_equal(pkt_state(&p, id), SF_TIME_WAIT);
	assert_int_equal(pkt_drops(&p, SF_DROP_TCP_RST_IGNORED), 2);
	p.now = t + 1999000;
	pkt_poll(&p);
	assert_int_equal(pkt_state(&p, id), SF_TIME_WAIT);
	p.now = t + 2000000;
	pkt_poll(&p);
	assert_int_equal(pkt_state(&p, id), SF_CLOSED);
	pkt_fini(&p);
}

/* MUST-13: TIME-WAIT lasts exactly 2·MSL (here MSL 500 ms). */
static void timewait_lasts_2msl(void **state)
{
	(void)state;
	sf_config_t c;
	cfg_default(&c);
	c.msl_ms = 500;
	pkt_t p;
	pkt_init(&p, &c);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	uint32_t id = close_to_timewait(&p, s);
	int64_t t = p.now;
	sf_stack_stats_t ss;
	sf_stack_stats(p.st, &ss);
	assert_int_equal(ss.timewait_open, 1);
	assert_int_equal(pkt_run_next_deadline(&p), t + 1000000);
	assert_int_equal(pkt_state(&p, id), SF_CLOSED);
	sf_stack_stats(p.st, &ss);
	assert_int_equal(ss.timewait_open, 0);
	pkt_fini(&p);
}

/* RFC 6191 §2 / RFC 9293 §3.10.7.4 without timestamps: a SYN whose
 * sequence number is above RCV.NXT reopens a TIME-WAIT connection (with a
 * higher ISS); one at or below it does not (it gets an ACK). */
static void timewait_reopen_by_sequence(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t l;
	sf_sock_t s = pkt_open_passive(&p, &l);
	uint32_t old_iss = p.iss;
	uint32_t id = close_to_timewait(&p, s);
	pkt_advance(&p, 1000000);
	pkt_in(&p, "S", 1, 0, NULL, 0);
	pkt_expect(&p, ".", 2, 2, 0);
	assert_int_equal(pkt_state(&p, id), SF_TIME_WAIT);
	pkt_in(&p, "S", 100000, 0, NULL, 0);
	pkt_seg_t *sa = pkt_next(&p);
	assert_int_equal(sa->tcp.flags, SF_TCP_SYN | SF_TCP_ACK);
	assert_int_equal(sa->tcp.ack, p.irs + 100001);
	assert_true(sf_seq_gt(sa->tcp.seq, old_iss + 2));
	assert_int_equal(pkt_state(&p, id), SF_CLOSED);
	p.irs += 100000;
	p.iss = sa->tcp.seq;
	pkt_in(&p, ".", 1, 1, NULL, 0);
	pkt_expect_none(&p);
	sf_sock_t s2 = sf_accept(p.st, l, NULL, NULL);
	assert_true(s2 > 0);
	pkt_finish_listener(&p, s2, l);
}

/* RFC 6191 §2 with timestamps: a SYN with a newer TSval reopens even with
 * a lower sequence number; one with an old TSval does not. */
static void timewait_reopen_by_timestamp(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t l;
	sf_tcp_opts_t o = {.has_ts = true};
	sf_sock_t s = pkt_open_passive_opt(&p, &o, NULL, &l);
	uint32_t id = sf_sock_conn_id(p.st, s);
	sf_close(p.st, s);
	pkt_poll(&p);
	pkt_expect(&p, "F.", 1, 1, 0);
	pkt_in(&p, "F.", 1, 2, NULL, 0);
	pkt_expect(&p, ".", 2, 2, 0);
	assert_int_equal(pkt_state(&p, id), SF_TIME_WAIT);
	pkt_advance(&p, 1000000);
	p.opt.ts_ecr = 0;
	p.peer_ts = 4000; /* older than the 5000 of the old connection */
	pkt_in(&p, "S", 100000, 0, NULL, 0);
	pkt_expect(&p, ".", 2, 2, 0);
	assert_int_equal(pkt_state(&p, id), SF_TIME_WAIT);
	p.peer_ts = 6000;
	pkt_in(&p, "S", 0, 0, NULL, 0); /* lower sequence, newer timestamp */
	pkt_seg_t *sa = pkt_next(&p);
	assert_int_equal(sa->tcp.flags, SF_TCP_SYN | SF_TCP_ACK);
	assert_int_equal(sa->tcp.ack, p.irs + 1);
	assert_int_equal(sa->tcp.opt.ts_ecr, 6000);
	assert_int_equal(pkt_state(&p, id), SF_CLOSED);
	pkt_finish_close(&p, l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(fin_carries_data),
	        cmocka_unit_test(fin_retransmitted),
	        cmocka_unit_test(finwait2_orphan_timeout),
	        cmocka_unit_test(half_close),
	        cmocka_unit_test(close_with_unread_data_resets),
	        cmocka_unit_test(data_after_close_resets),
	        cmocka_unit_test(abort_and_reset_reported),
	        cmocka_unit_test(last_ack_retransmits_fin),
	        cmocka_unit_test(closing_retransmits_fin),
	        cmocka_unit_test(timewait_fin_restarts),
	        cmocka_unit_test(timewait_ignores_rst),
	        cmocka_unit_test(timewait_lasts_2msl),
	        cmocka_unit_test(timewait_reopen_by_sequence),
	        cmocka_unit_test(timewait_reopen_by_timestamp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
