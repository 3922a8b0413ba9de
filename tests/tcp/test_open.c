/* Opening connections, segment by segment (RFC 9293 §3.5, §3.10.7.2,
 * §3.10.7.3): the SYN queue and accept backlog of a listener, demux by
 * 4-tuple, a SYN carrying data, ephemeral ports (RFC 6056), SYN
 * retransmission with exponential backoff (RFC 6298) and the R2 give-up,
 * simultaneous open, the return of SYN-RECEIVED to LISTEN, unacceptable
 * ACKs, and initial sequence numbers (RFC 6528). */
#include <string.h>

#include "pkt.h"

static sf_sock_t listen_on(pkt_t *p, uint16_t port, int backlog)
{
	sf_sock_t l = sf_socket(p->st);
	assert_true(l > 0);
	assert_int_equal(sf_bind(p->st, l, port), 0);
	assert_int_equal(sf_listen(p->st, l, backlog), 0);
	return l;
}

/* The peer's SYN from peer_port; checks the SYN,ACK and returns our ISS. */
static uint32_t syn_from(pkt_t *p, uint16_t peer_port)
{
	p->peer_port = peer_port;
	p->iss = 0;
	pkt_in(p, "S", 0, 0, NULL, 0);
	pkt_expect(p, "S.", 0, 1, 0);
	return p->iss;
}

/* The id of the connection block created last. */
static uint32_t last_conn(const pkt_t *p)
{
	for (size_t i = p->ev_cnt; i-- > 0;)
		if (p->ev[i].kind == SF_EV_CONN_NEW)
			return p->ev[i].conn_id;
	fail_msg("no connection was created");
	return 0;
}

/* Starts an active open and pops the SYN; the harness plays port `port`. */
static sf_sock_t start_connect(pkt_t *p, uint16_t port)
{
	sf_sock_t s = sf_socket(p->st);
	assert_true(s > 0);
	assert_int_equal(sf_connect(p->st, s, PKT_PEER, port), SF_EINPROGRESS);
	pkt_poll(p);
	p->iss = 0;
	pkt_seg_t *syn = pkt_expect(p, "S", 0, 0, 0);
	p->port = syn->tcp.sport;
	p->peer_port = port;
	pkt_expect_none(p);
	return s;
}

/* A SYN beyond cfg.syn_backlog half-open connections is dropped and
 * counted; once one completes, the next SYN is taken. */
static void syn_queue_limit(void **state)
{
	(void)state;
	sf_config_t c;
	sf_config_default(&c);
	c.delack_ms = 0;
	c.seed = 1;
	c.syn_backlog = 2;
	c.syncookies = false; /* the eviction path (test_syncookie.c has the other) */
	pkt_t p;
	pkt_init(&p, &c);
	sf_sock_t l = listen_on(&p, 80, 16);
	uint32_t iss1 = syn_from(&p, 40001);
	uint32_t iss2 = syn_from(&p, 40002);
	/* RFC 4987 §3.4: the queue is full, so the oldest half-open entry
	 * (40001) is given up and the new SYN is answered. */
	uint32_t iss3 = syn_from(&p, 40003);
	assert_int_equal(pkt_drops(&p, SF_DROP_TCP_SYN_QUEUE_FULL), 1);
	sf_stack_stats_t ss;
	sf_stack_stats(p.st, &ss);
	assert_int_equal(ss.drops[SF_DROP_TCP_SYN_QUEUE_FULL], 1);
	/* 40001's ACK now meets the listener: a reset <SEQ=SEG.ACK>. */
	p.peer_port = 40001;
	p.iss = iss1;
	pkt_in(&p, ".", 1, 1, NULL, 0);
	pkt_seg_t *r = pkt_next(&p);
	assert_int_equal(r->tcp.flags, SF_TCP_RST);
	assert_int_equal(r->tcp.seq, iss1 + 1);
	/* The two younger ones complete. */
	p.peer_port = 40002;
	p.iss = iss2;
	pkt_in(&p, ".", 1, 1, NULL, 0);
	p.peer_port = 40003;
	p.iss = iss3;
	pkt_in(&p, ".", 1, 1, NULL, 0);
	pkt_expect_none(&p);
	for (int i = 0; i < 2; i++) {
		sf_sock_t a = sf_accept(p.st, l, NULL, NULL);
		assert_true(a > 0);
		sf_close(p.st, a);
	}
	assert_int_equal(sf_accept(p.st, l, NULL, NULL), SF_EAGAIN);
	pkt_poll(&p);
	pkt_discard(&p);
	pkt_finish_close(&p, l);
}

/* A SYN while the accept queue holds `backlog` connections is dropped. */
static void accept_backlog_limit(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t l = listen_on(&p, 80, 1);
	syn_from(&p, 40001);
	pkt_in(&p, ".", 1, 1, NULL, 0);
	p.peer_port = 40002;
	pkt_in(&p, "S", 0, 0, NULL, 0);
	pkt_expect_none(&p);
	assert_int_equal(pkt_drops(&p, SF_DROP_TCP_ACCEPT_QUEUE_FULL), 1);
	sf_sock_t a = sf_accept(p.st, l, NULL, NULL);
	assert_true(a > 0);
	/* The peer retries its SYN: now it is taken. */
	syn_from(&p, 40002);
	sf_close(p.st, a);
	sf_close(p.st, l);
	pkt_fini(&p);
}

/* MUST-41/42: several connections on one listening port, told apart by
 * their 4-tuple; data and a reset on one do not touch the other. */
static void demux_by_four_tuple(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t l = listen_on(&p, 80, 4);
	uint32_t iss_a = syn_from(&p, 40001);
	uint32_t iss_b = syn_from(&p, 40002);
	assert_int_not_equal(iss_a, iss_b);
	p.peer_port = 40002;
	p.iss = iss_b;
	pkt_in(&p, ".", 1, 1, NULL, 0);
	p.peer_port = 40001;
	p.iss = iss_a;
	pkt_in(&p, ".", 1, 1, NULL, 0);
	pkt_expect_none(&p);
	uint16_t port_b, port_a;
	sf_sock_t b = sf_accept(p.st, l, NULL, &port_b);
	sf_sock_t a = sf_accept(p.st, l, NULL, &port_a);
	assert_int_equal(port_b, 40002);
	assert_int_equal(port_a, 40001);

	pkt_in(&p, "P.", 1, 1, "aaaa", 4);
	pkt_expect(&p, ".", 1, 5, 0);
	p.peer_port = 40002;
	p.iss = iss_b;
	pkt_in(&p, "P.", 1, 1, "bbb", 3);
	pkt_expect(&p, ".", 1, 4, 0);
	char buf[8];
	assert_int_equal(sf_recv(p.st, a, buf, sizeof buf), 4);
	assert_memory_equal(buf, "aaaa", 4);
	assert_int_equal(sf_recv(p.st, b, buf, sizeof buf), 3);
	assert_memory_equal(buf, "bbb", 3);

	/* A reset of A leaves B alone. */
	p.peer_port = 40001;
	p.iss = iss_a;
	pkt_in(&p, "R", 5, 0, NULL, 0);
	assert_int_equal(sf_recv(p.st, a, buf, sizeof buf), SF_ECONNRESET);
	p.peer_port = 40002;
	p.iss = iss_b;
	pkt_in(&p, "P.", 4, 1, "more", 4);
	pkt_expect(&p, ".", 1, 8, 0);
	assert_int_equal(sf_recv(p.st, b, buf, sizeof buf), 4);
	pkt_expect_none(&p);
	sf_close(p.st, a);
	sf_abort(p.st, b);
	pkt_poll(&p);
	pkt_expect(&p, "R.", 1, 8, 0);
	sf_close(p.st, l);
	pkt_fini(&p);
}

/* Data on a SYN is not taken (a documented choice in input.c: the peer
 * resends it); the SYN itself is, and the resent data arrives. */
static void syn_with_data(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t l = listen_on(&p, 80, 4);
	pkt_in(&p, "S", 0, 0, "early", 5);
	p.iss = 0;
	pkt_expect(&p, "S.", 0, 1, 0);
	pkt_in(&p, ".", 1, 1, NULL, 0);
	pkt_expect_none(&p);
	sf_sock_t s = sf_accept(p.st, l, NULL, NULL);
	assert_true(s > 0);
	char buf[8];
	assert_int_equal(sf_recv(p.st, s, buf, sizeof buf), SF_EAGAIN);
	pkt_in(&p, "P.", 1, 1, "early", 5);
	pkt_expect(&p, ".", 1, 6, 0);
	assert_int_equal(sf_recv(p.st, s, buf, sizeof buf), 5);
	assert_memory_equal(buf, "early", 5);
	sf_abort(p.st, s);
	pkt_poll(&p);
	pkt_expect(&p, "R.", 1, 6, 0);
	sf_close(p.st, l);
	pkt_fini(&p);
}

/* RFC 6056: ephemeral ports come from 49152..65535; two connections to
 * the same destination get different ports. */
static void ephemeral_ports(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t a = start_connect(&p, 80);
	uint16_t pa = p.port;
	sf_sock_t b = start_connect(&p, 80);
	uint16_t pb = p.port;
	assert_in_range(pa, 49152, 65535);
	assert_in_range(pb, 49152, 65535);
	assert_int_not_equal(pa, pb);
	uint16_t port;
	uint32_t addr;
	assert_int_equal(sf_getsockname(p.st, a, &addr, &port), 0);
	assert_int_equal(port, pa);
	assert_int_equal(addr, PKT_US); /* MUST-44/45: the stack's address */
	assert_int_equal(sf_getsockname(p.st, b, NULL, &port), 0);
	assert_int_equal(port, pb);
	sf_close(p.st, a);
	sf_close(p.st, b);
	pkt_expect_none(&p);
	pkt_fini(&p);
}

/* RFC 6298 (5.5): the SYN is resent after 1 s, then 2, 4, 8, 16, 32 s, then
 * at the 60 s maximum; MUST-22/23: the give-up (R2 for SYNs) comes no
 * sooner than 3 minutes, and is reported as SF_ETIMEDOUT. */
static void syn_retransmit_backoff_and_give_up(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	int64_t t0 = p.now;
	sf_sock_t s = start_connect(&p, 80);
	uint32_t id = sf_sock_conn_id(p.st, s);
	static const int64_t at_s[] = {1, 3, 7, 15, 31, 63, 123};
	for (size_t i = 0; i < sizeof at_s / sizeof at_s[0]; i++) {
		p.now = t0 + at_s[i] * 1000000 - 1000;
		pkt_poll(&p);
		pkt_expect_none(&p);
		p.now = t0 + at_s[i] * 1000000;
		pkt_poll(&p);
		pkt_seg_t *syn = pkt_expect(&p, "S", 0, 0, 0);
		assert_true(syn->tcp.opt.has_mss);
		pkt_expect_none(&p);
		/* R1 = 3 (the default): negative advice once, at the third. */
		sf_stack_stats_t ss;
		sf_stack_stats(p.st, &ss);
		assert_int_equal(ss.r1_advice, i + 1 >= 3 ? 1 : 0);
	}
	sf_tcp_info_t ti;
	assert_int_equal(sf_tcp_info(p.st, s, &ti), 0);
	assert_int_equal(ti.retransmits, 7);
	/* Three minutes after the first SYN: still trying. */
	p.now = t0 + 180 * 1000000ll;
	pkt_poll(&p);
	assert_int_equal(pkt_state(&p, id), SF_SYN_SENT);
	/* The next timeout ends it, with nothing sent. */
	int64_t t = pkt_run_next_deadline(&p);
	for (int i = 0; i < 8 && pkt_state(&p, id) == SF_SYN_SENT; i++)
		t = pkt_run_next_deadline(&p);
	assert_int_equal(pkt_state(&p, id), SF_CLOSED);
	assert_true(t <= t0 + 183 * 1000000ll);
	pkt_expect_none(&p);
	sf_pollfd_t pf = {s, SF_POLLOUT, 0};
	assert_int_equal(sf_poll(p.st, &pf, 1), 1);
	assert_true(pf.revents & SF_POLLERR);
	assert_int_equal(sf_sock_error(p.st, s), SF_ETIMEDOUT);
	assert_string_equal(pkt_state_path(&p, id), "SYN-SENT,CLOSED");
	sf_close(p.st, s);
	pkt_fini(&p);
}

/* MUST-10: SYN-SENT receives a SYN -> SYN-RECEIVED and sends SYN,ACK with
 * its own ISS; the ACK of it -> ESTABLISHED. */
static void simultaneous_open(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = start_connect(&p, 80);
	uint32_t id = sf_sock_conn_id(p.st, s);
	pkt_in(&p, "S", 0, 0, NULL, 0);
	pkt_expect(&p, "S.", 0, 1, 0);
	pkt_expect_none(&p);
	assert_int_equal(pkt_state(&p, id), SF_SYN_RECEIVED);
	pkt_in(&p, ".", 1, 1, NULL, 0);
	pkt_expect_none(&p);
	assert_string_equal(pkt_state_path(&p, id), "SYN-SENT,SYN-RECEIVED,ESTABLISHED");
	sf_pollfd_t pf = {s, SF_POLLOUT, 0};
	assert_int_equal(sf_poll(p.st, &pf, 1), 1);
	assert_int_equal(pf.revents, SF_POLLOUT);
	assert_int_equal(sf_send(p.st, s, "hi", 2), 2);
	pkt_poll(&p);
	pkt_expect(&p, "P.", 1, 1, 2);
	pkt_in(&p, "P.", 1, 3, "yo", 2);
	pkt_expect(&p, ".", 3, 3, 0);
	sf_abort(p.st, s);
	pkt_poll(&p);
	pkt_expect(&p, "R.", 3, 3, 0);
	pkt_fini(&p);
}

/* MUST-11: a connection that reached SYN-RECEIVED from LISTEN and gets a
 * RST is gone; the listener is still listening and takes the next one. */
static void syn_received_rst_back_to_listen(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t l = listen_on(&p, 80, 4);
	uint32_t lid = sf_sock_conn_id(p.st, l);
	syn_from(&p, 40001);
	uint32_t child = last_conn(&p);
	pkt_in(&p, "R", 1, 0, NULL, 0);
	pkt_expect_none(&p);
	assert_string_equal(pkt_state_path(&p, child), "SYN-RECEIVED,CLOSED");
	assert_int_equal(pkt_state(&p, lid), SF_LISTEN);
	assert_int_equal(sf_accept(p.st, l, NULL, NULL), SF_EAGAIN);
	sf_stack_stats_t ss;
	sf_stack_stats(p.st, &ss);
	assert_int_equal(ss.conns_open, 1);
	/* The same peer port again, then another one: both complete. */
	syn_from(&p, 40001);
	pkt_in(&p, ".", 1, 1, NULL, 0);
	pkt_expect_none(&p);
	sf_sock_t a = sf_accept(p.st, l, NULL, NULL);
	assert_true(a > 0);
	syn_from(&p, 40002);
	pkt_in(&p, ".", 1, 1, NULL, 0);
	sf_sock_t b = sf_accept(p.st, l, NULL, NULL);
	assert_true(b > 0);
	sf_close(p.st, a);
	sf_close(p.st, b);
	pkt_poll(&p);
	pkt_discard(&p);
	sf_close(p.st, l);
	pkt_fini(&p);
}

/* RFC 9293 §3.10.7.3: in SYN-SENT, an ACK outside (ISS, SND.NXT] gets
 * <SEQ=SEG.ACK><CTL=RST> (none if the segment is itself a RST); the
 * connection goes on and completes with a good SYN,ACK. */
static void syn_sent_unacceptable_ack(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = start_connect(&p, 80);
	uint32_t id = sf_sock_conn_id(p.st, s);
	pkt_in(&p, "S.", 0, 1000, NULL, 0);
	pkt_expect(&p, "R", 1000, 0, 0);
	pkt_in(&p, ".", 0, 0, NULL, 0); /* SEG.ACK = ISS */
	pkt_expect(&p, "R", 0, 0, 0);
	pkt_in(&p, "R.", 0, 7, NULL, 0);
	pkt_expect_none(&p);
	assert_int_equal(pkt_state(&p, id), SF_SYN_SENT);
	pkt_in(&p, "S.", 0, 1, NULL, 0);
	pkt_expect(&p, ".", 1, 1, 0);
	assert_string_equal(pkt_state_path(&p, id), "SYN-SENT,ESTABLISHED");
	sf_abort(p.st, s);
	pkt_poll(&p);
	pkt_expect(&p, "R.", 1, 1, 0);
	pkt_fini(&p);
}

/* RFC 9293 §3.10.7.4 (fifth check, SYN-RECEIVED): an unacceptable ACK gets
 * <SEQ=SEG.ACK><CTL=RST>; the half-open connection stays. */
static void syn_received_unacceptable_ack(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t l = listen_on(&p, 80, 4);
	syn_from(&p, 40001);
	uint32_t child = last_conn(&p);
	pkt_in(&p, ".", 1, 5, NULL, 0);
	pkt_expect(&p, "R", 5, 0, 0);
	pkt_expect_none(&p);
	assert_int_equal(pkt_state(&p, child), SF_SYN_RECEIVED);
	pkt_in(&p, ".", 1, 1, NULL, 0);
	pkt_expect_none(&p);
	assert_int_equal(pkt_state(&p, child), SF_ESTABLISHED);
	sf_sock_t a = sf_accept(p.st, l, NULL, NULL);
	assert_true(a > 0);
	sf_close(p.st, a);
	pkt_finish_close(&p, l);
}

/* RFC 6528: ISN = M + F(4-tuple, secret). Different 4-tuples at the same
 * time give unrelated ISNs. */
static void isn_differs_per_tuple(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t l = listen_on(&p, 80, 4);
	uint32_t a = syn_from(&p, 40001);
	uint32_t b = syn_from(&p, 40002);
	uint32_t c = syn_from(&p, 40003);
	int32_t ab = (int32_t)(a - b), ac = (int32_t)(a - c);
	assert_true(ab > (1 << 20) || ab < -(1 << 20));
	assert_true(ac > (1 << 20) || ac < -(1 << 20));
	pkt_finish_close(&p, l);
}

/* MUST-8: the clock component: the same 4-tuple 4 s later gets an ISN
 * advanced by elapsed_us / 4 (RFC 6528's 4-microsecond timer). */
static void isn_clock_driven(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t l = listen_on(&p, 80, 4);
	uint32_t a = syn_from(&p, 40001);
	pkt_in(&p, "R", 1, 0, NULL, 0);
	pkt_advance(&p, 4000000);
	uint32_t b = syn_from(&p, 40001);
	assert_int_equal(b - a, 4000000 / 4);
	pkt_advance(&p, 1000);
	pkt_in(&p, "R", 1, 0, NULL, 0);
	pkt_advance(&p, 1000);
	uint32_t c = syn_from(&p, 40001);
	assert_int_equal(c - b, 2000 / 4);
	pkt_finish_close(&p, l);
}

static uint32_t first_isn(uint64_t seed)
{
	sf_config_t c;
	sf_config_default(&c);
	c.delack_ms = 0;
	c.seed = seed;
	pkt_t p;
	pkt_init(&p, &c);
	sf_sock_t l = listen_on(&p, 80, 4);
	uint32_t iss = syn_from(&p, 40001);
	pkt_finish_close(&p, l);
	return iss;
}

/* MUST-9: the ISN depends on a secret (the seed), so it cannot be computed
 * from outside: another seed, another ISN for the same tuple and time. */
static void isn_depends_on_secret(void **state)
{
	(void)state;
	uint32_t a = first_isn(1), b = first_isn(2), a2 = first_isn(1);
	assert_int_equal(a, a2);
	assert_int_not_equal(a, b);
	int32_t d = (int32_t)(a - b);
	assert_true(d > (1 << 20) || d < -(1 << 20));
}

/* MUST-46: no OPEN to broadcast, multicast or invalid addresses. */
static void connect_to_broadcast_refused(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	static const uint32_t bad[] = {0xC00002FFu, 0xFFFFFFFFu, 0xE0000001u, 0x00000000u, PKT_US};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sf_sock_t s = sf_socket(p.st);
		assert_int_equal(sf_connect(p.st, s, bad[i], 80), SF_EADDRNOTAVAIL);
		sf_close(p.st, s);
	}
	pkt_poll(&p);
	pkt_expect_none(&p);
	pkt_fini(&p);
}

/* MUST-48/49: the application sets the TTL and the DS field of what it
 * sends; accepted connections inherit the listener's. */
static void ttl_and_tos(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = sf_socket(p.st);
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_TTL, 17), 0);
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_TOS, 0xb8), 0);
	assert_int_equal(sf_connect(p.st, s, PKT_PEER, 80), SF_EINPROGRESS);
	pkt_poll(&p);
	pkt_seg_t *syn = pkt_next(&p);
	assert_int_equal(syn->ip.ttl, 17);
	assert_int_equal(syn->ip.dscp, 46);
	assert_int_equal(syn->ip.ecn, 0);
	sf_close(p.st, s);

	sf_sock_t l = sf_socket(p.st);
	assert_int_equal(sf_bind(p.st, l, 80), 0);
	assert_int_equal(sf_setsockopt(p.st, l, SF_SO_TTL, 5), 0);
	assert_int_equal(sf_listen(p.st, l, 4), 0);
	p.peer_port = 40001;
	pkt_in(&p, "S", 0, 0, NULL, 0);
	pkt_seg_t *sa = pkt_next(&p);
	assert_int_equal(sa->tcp.flags, SF_TCP_SYN | SF_TCP_ACK);
	assert_int_equal(sa->ip.ttl, 5);
	pkt_finish_close(&p, l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(syn_queue_limit),
	        cmocka_unit_test(accept_backlog_limit),
	        cmocka_unit_test(demux_by_four_tuple),
	        cmocka_unit_test(syn_with_data),
	        cmocka_unit_test(ephemeral_ports),
	        cmocka_unit_test(syn_retransmit_backoff_and_give_up),
	        cmocka_unit_test(simultaneous_open),
	        cmocka_unit_test(syn_received_rst_back_to_listen),
	        cmocka_unit_test(syn_sent_unacceptable_ack),
	        cmocka_unit_test(syn_received_unacceptable_ack),
	        cmocka_unit_test(isn_differs_per_tuple),
	        cmocka_unit_test(isn_clock_driven),
	        cmocka_unit_test(isn_depends_on_secret),
	        cmocka_unit_test(connect_to_broadcast_refused),
	        cmocka_unit_test(ttl_and_tos),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
