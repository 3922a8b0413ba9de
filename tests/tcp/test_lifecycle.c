/* The life of one connection, segment by segment (RFC 9293 §3.5, §3.6):
 * both opens, data both ways, and every close variant down to CLOSED. */
#include <string.h>

#include "pkt.h"

static void passive_open(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t l = sf_socket(p.st);
	assert_int_equal(sf_bind(p.st, l, 80), 0);
	assert_int_equal(sf_listen(p.st, l, 4), 0);
	pkt_in(&p, "S", 0, 0, NULL, 0);
	pkt_seg_t *sa = pkt_next(&p);
	assert_int_equal(sa->tcp.flags, SF_TCP_SYN | SF_TCP_ACK);
	assert_int_equal(sa->tcp.ack, p.irs + 1);
	/* MUST-15/16: no MSS from the peer -> we still announce ours. */
	assert_true(sa->tcp.opt.has_mss);
	assert_int_equal(sa->tcp.opt.mss, 1460);
	/* The peer offered nothing: no window scale, SACK or timestamps back. */
	assert_false(sa->tcp.opt.has_wscale);
	assert_false(sa->tcp.opt.sack_perm);
	assert_false(sa->tcp.opt.has_ts);
	p.iss = sa->tcp.seq;
	assert_int_equal(sf_accept(p.st, l, NULL, NULL), SF_EAGAIN);
	pkt_in(&p, ".", 1, 1, NULL, 0);
	pkt_expect_none(&p);
	uint32_t peer;
	uint16_t port;
	sf_sock_t s = sf_accept(p.st, l, &peer, &port);
	assert_true(s > 0);
	assert_int_equal(peer, PKT_PEER);
	assert_int_equal(port, 40000);
	assert_string_equal(pkt_state_path(&p, sf_sock_conn_id(p.st, s)),
	                    "SYN-RECEIVED,ESTABLISHED");
	sf_tcp_info_t ti;
	assert_int_equal(sf_tcp_info(p.st, s, &ti), 0);
	assert_int_equal(ti.state, SF_ESTABLISHED);
	assert_int_equal(ti.snd_mss, 536); /* MUST-15: no MSS option received */
	assert_int_equal(sf_abort(p.st, s), 0);
	pkt_poll(&p);
	pkt_expect(&p, "R.", 1, 1, 0);
	sf_close(p.st, l);
	pkt_fini(&p);
}

static void active_open_and_data(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_active(&p);
	assert_string_equal(pkt_state_path(&p, sf_sock_conn_id(p.st, s)), "SYN-SENT,ESTABLISHED");
	sf_pollfd_t pf = {s, SF_POLLOUT | SF_POLLIN, 0};
	assert_int_equal(sf_poll(p.st, &pf, 1), 1);
	assert_int_equal(pf.revents, SF_POLLOUT);

	/* synfin -> peer: PSH on the last segment (MUST-61). */
	assert_int_equal(sf_send(p.st, s, "hello", 5), 5);
	pkt_poll(&p);
	pkt_expect(&p, "P.", 1, 1, 5);
	pkt_in(&p, ".", 1, 6, NULL, 0);
	pkt_expect_none(&p);

	/* peer -> synfin: ACKed at once (delack 0 in this harness). */
	pkt_in(&p, "P.", 1, 6, "world!", 6);
	pkt_expect(&p, ".", 6, 7, 0);
	char buf[16];
	assert_int_equal(sf_recv(p.st, s, buf, sizeof buf), 6);
	assert_memory_equal(buf, "world!", 6);
	assert_int_equal(sf_recv(p.st, s, buf, sizeof buf), SF_EAGAIN);
	assert_int_equal(sf_abort(p.st, s), 0);
	pkt_poll(&p);
	pkt_expect(&p, "R.", 6, 7, 0);
	pkt_fini(&p);
}

/* Data queued in SYN-SENT leaves after the handshake's own ACK: the third
 * segment of the handshake is always a segment of its own. */
static void handshake_ack_before_queued_data(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = sf_socket(p.st);
	assert_int_equal(sf_connect(p.st, s, PKT_PEER, 80), SF_EINPROGRESS);
	assert_int_equal(sf_send(p.st, s, "GET /", 5), 5);
	pkt_poll(&p);
	pkt_seg_t *syn = pkt_next(&p);
	p.iss = syn->tcp.seq;
	p.port = syn->tcp.sport;
	p.peer_port = 80;
	pkt_expect_none(&p); /* nothing but the SYN before the handshake */
	pkt_in(&p, "S.", 0, 1, NULL, 0);
	pkt_expect(&p, ".", 1, 1, 0);
	pkt_expect(&p, "P.", 1, 1, 5);
	pkt_expect_none(&p);
	pkt_finish(&p, s);
}

/* Active close: ESTABLISHED -> FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT ->
 * CLOSED after 2*MSL (MUST-13). */
static void active_close(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_active(&p);
	uint32_t id = sf_sock_conn_id(p.st, s);
	assert_int_equal(sf_close(p.st, s), 0);
	pkt_poll(&p);
	pkt_expect(&p, "F.", 1, 1, 0);
	pkt_in(&p, ".", 1, 2, NULL, 0);
	assert_int_equal(pkt_state(&p, id), SF_FIN_WAIT_2);
	pkt_in(&p, "F.", 1, 2, NULL, 0);
	pkt_expect(&p, ".", 2, 2, 0);
	assert_int_equal(pkt_state(&p, id), SF_TIME_WAIT);
	sf_stack_stats_t ss;
	sf_stack_stats(p.st, &ss);
	assert_int_equal(ss.timewait_open, 1);
	/* Just before 2*MSL: still waiting. */
	pkt_advance(&p, 59999000);
	assert_int_equal(pkt_state(&p, id), SF_TIME_WAIT);
	pkt_advance(&p, 2000);
	assert_int_equal(pkt_state(&p, id), SF_CLOSED);
	assert_string_equal(pkt_state_path(&p, id),
	                    "SYN-SENT,ESTABLISHED,FIN-WAIT-1,FIN-WAIT-2,TIME-WAIT,CLOSED");
	sf_stack_stats(p.st, &ss);
	assert_int_equal(ss.timewait_open, 0);
	assert_int_equal(ss.conns_open, 0);
	pkt_expect_none(&p);
	pkt_fini(&p);
}

/* FIN-WAIT-1 -> TIME-WAIT when the peer's FIN also ACKs ours. */
static void active_close_finack_together(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_active(&p);
	uint32_t id = sf_sock_conn_id(p.st, s);
	sf_close(p.st, s);
	pkt_poll(&p);
	pkt_expect(&p, "F.", 1, 1, 0);
	pkt_in(&p, "F.", 1, 2, NULL, 0);
	pkt_expect(&p, ".", 2, 2, 0);
	assert_string_equal(pkt_state_path(&p, id), "SYN-SENT,ESTABLISHED,FIN-WAIT-1,TIME-WAIT");
	pkt_advance(&p, 60001000);
	assert_int_equal(pkt_state(&p, id), SF_CLOSED);
	pkt_fini(&p);
}

/* Passive close: CLOSE-WAIT -> LAST-ACK -> CLOSED; recv returns 0 at EOF. */
static void passive_close(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	uint32_t id = sf_sock_conn_id(p.st, s);
	pkt_in(&p, "F.", 1, 1, NULL, 0);
	pkt_expect(&p, ".", 1, 2, 0);
	assert_int_equal(pkt_state(&p, id), SF_CLOSE_WAIT);
	char b[4];
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), 0);
	/* Half-closed: we can still send. */
	assert_int_equal(sf_send(p.st, s, "bye", 3), 3);
	pkt_poll(&p);
	pkt_expect(&p, "P.", 1, 2, 3);
	sf_close(p.st, s);
	pkt_poll(&p);
	pkt_expect(&p, "F.", 4, 2, 0);
	assert_int_equal(pkt_state(&p, id), SF_LAST_ACK);
	pkt_in(&p, ".", 2, 5, NULL, 0);
	assert_string_equal(pkt_state_path(&p, id),
	                    "SYN-RECEIVED,ESTABLISHED,CLOSE-WAIT,LAST-ACK,CLOSED");
	sf_stack_stats_t ss;
	sf_stack_stats(p.st, &ss);
	assert_int_equal(ss.conns_open, 0);
	pkt_fini(&p);
}

/* Simultaneous close: FIN-WAIT-1 -> CLOSING -> TIME-WAIT. */
static void simultaneous_close(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_active(&p);
	uint32_t id = sf_sock_conn_id(p.st, s);
	sf_close(p.st, s);
	pkt_poll(&p);
	pkt_expect(&p, "F.", 1, 1, 0);
	/* The peer's FIN crosses ours: it does not ACK our FIN. */
	pkt_in(&p, "F.", 1, 1, NULL, 0);
	pkt_expect(&p, ".", 2, 2, 0);
	assert_int_equal(pkt_state(&p, id), SF_CLOSING);
	pkt_in(&p, ".", 2, 2, NULL, 0);
	assert_int_equal(pkt_state(&p, id), SF_TIME_WAIT);
	pkt_expect_none(&p); /* the ACK that ends CLOSING is not answered */
	assert_string_equal(pkt_state_path(&p, id),
	                    "SYN-SENT,ESTABLISHED,FIN-WAIT-1,CLOSING,TIME-WAIT");
	pkt_fini(&p);
}

/* SYN to a port nobody listens on: RST,ACK (RFC 9293 §3.10.7.1). */
static void syn_to_closed_port(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	pkt_in(&p, "S", 0, 0, NULL, 0);
	pkt_expect(&p, "R.", 0, 1, 0);
	/* An ACK gets a RST with seq = its ack. */
	p.iss = 0;
	pkt_in(&p, ".", 5, 77, NULL, 0);
	pkt_seg_t *r = pkt_next(&p);
	assert_int_equal(r->tcp.flags, SF_TCP_RST);
	assert_int_equal(r->tcp.seq, 77);
	/* A RST is never answered. */
	pkt_in(&p, "R", 5, 0, NULL, 0);
	pkt_expect_none(&p);
	assert_int_equal(pkt_drops(&p, SF_DROP_TCP_NO_SOCKET), 3);
	pkt_fini(&p);
}

/* CLOSED, a segment without ACK (RFC 9293 §3.10.7.1): RST,ACK with
 * seq 0 and ack = SEG.SEQ + SEG.LEN, where SYN and FIN count one each and
 * text its length; nothing is created. SYN+FIN (and SYN+RST) to no
 * connection is the documented exception: dropped as bad flags, no reply
 * (docs/CONFORMANCE.md, choices). */
static void closed_port_rst_acks_segment_length(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	static const struct {
		const char *flags;
		size_t len;
		uint32_t ack; /* SEG.SEQ (5) + SEG.LEN; 0: no reply */
	} cases[] = {
	        {"", 0, 5},   {"P", 3, 8}, {"F", 0, 6},  {"FP", 3, 9},
	        {"SP", 3, 9}, {"U", 0, 5}, {"SF", 0, 0}, {"SFP", 3, 0},
	};
	size_t rsts = 0, bad = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		print_message("CLOSED <- \"%s\" len %zu\n", cases[i].flags, cases[i].len);
		pkt_in(&p, cases[i].flags, 5, 0, cases[i].len ? "abc" : NULL, cases[i].len);
		if (cases[i].ack) {
			pkt_expect(&p, "R.", 0, cases[i].ack, 0);
			rsts++;
		} else {
			bad++;
		}
		pkt_expect_none(&p);
	}
	sf_stack_stats_t ss;
	sf_stack_stats(p.st, &ss);
	assert_int_equal(ss.conns_open, 0);
	assert_int_equal(pkt_drops(&p, SF_DROP_TCP_NO_SOCKET), rsts);
	assert_int_equal(pkt_drops(&p, SF_DROP_TCP_BAD_FLAGS), bad);
	pkt_fini(&p);
}

/* The fixture the TIME-WAIT and conformance tests stand on (pkt_goto):
 * for every state it leaves exactly one connection block in that state (a
 * TIME-WAIT record for TIME-WAIT), nothing else open but the listener, and
 * nothing waiting to be sent. */
static void goto_reaches_every_state(void **state)
{
	(void)state;
	for (sf_state_t want = SF_SYN_SENT; want < SF_STATE_COUNT; want++) {
		print_message("pkt_goto %s\n", sf_state_name(want));
		pkt_t p;
		pkt_init(&p, NULL);
		sf_sock_t l = 0;
		sf_sock_t s = pkt_goto(&p, want, &l);
		pkt_expect_none(&p);
		uint32_t by[SF_STATE_COUNT];
		sf_stack_conns_by_state(p.st, by);
		sf_stack_stats_t ss;
		sf_stack_stats(p.st, &ss);
		for (sf_state_t st = SF_LISTEN; st < SF_STATE_COUNT; st++) {
			uint32_t expect = st == want && want != SF_TIME_WAIT ? 1 : 0;
			if (st == SF_LISTEN && want != SF_SYN_SENT)
				expect = 1; /* the listener the passive states came through */
			assert_int_equal(by[st], expect);
		}
		assert_int_equal(ss.timewait_open, want == SF_TIME_WAIT ? 1 : 0);
		if (s > 0)
			sf_abort(p.st, s);
		if (l > 0)
			sf_close(p.st, l);
		pkt_poll(&p);
		pkt_discard(&p);
		pkt_fini(&p);
	}
}

/* Connection refused: our SYN answered by RST,ACK. */
static void connect_refused(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = sf_socket(p.st);
	assert_int_equal(sf_connect(p.st, s, PKT_PEER, 81), SF_EINPROGRESS);
	pkt_poll(&p);
	pkt_seg_t *syn = pkt_next(&p);
	p.iss = syn->tcp.seq;
	p.port = syn->tcp.sport;
	p.peer_port = 81;
	pkt_in(&p, "R.", 0, 1, NULL, 0);
	sf_pollfd_t pf = {s, SF_POLLOUT, 0};
	assert_int_equal(sf_poll(p.st, &pf, 1), 1);
	assert_true(pf.revents & SF_POLLERR);
	assert_int_equal(sf_sock_error(p.st, s), SF_ECONNREFUSED);
	sf_close(p.st, s);
	pkt_expect_none(&p);
	pkt_fini(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(passive_open),
	        cmocka_unit_test(active_open_and_data),
	        cmocka_unit_test(handshake_ack_before_queued_data),
	        cmocka_unit_test(active_close),
	        cmocka_unit_test(active_close_finack_together),
	        cmocka_unit_test(passive_close),
	        cmocka_unit_test(simultaneous_close),
	        cmocka_unit_test(syn_to_closed_port),
	        cmocka_unit_test(closed_port_rst_acks_segment_length),
	        cmocka_unit_test(goto_reaches_every_state),
	        cmocka_unit_test(connect_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
