/* Blind in-window attacks (RFC 5961) and the zero-window allowances of
 * RFC 9293 §3.4 (MUST-66): only an exactly matching RST resets; an
 * in-window one or a SYN draws a rate-limited challenge ACK; ACKs outside
 * [SND.UNA - MAX.SND.WND, SND.NXT] are dropped with an ACK in reply. */
#include <string.h>

#include "pkt.h"

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
	pkt_advance(&p, 500 * 1000); /* past the per-connection reply interval */
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
	pkt_finish(&p, s);
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
	pkt_advance(&p, 500 * 1000);
	pkt_in(&p, "S", 0, 0, NULL, 0);
	pkt_expect(&p, ".", 1, 1, 0);
	pkt_advance(&p, 500 * 1000);
	pkt_in(&p, "S", 1, 0, NULL, 0);
	pkt_expect(&p, ".", 1, 1, 0);
	pkt_expect_none(&p);
	assert_int_equal(pkt_state(&p, id), SF_ESTABLISHED);
	assert_true(challenge_acks(&p) >= 2);
	/* Data still flows with the old numbers. */
	pkt_in(&p, "P.", 1, 1, "ok", 2);
	pkt_expect(&p, ".", 1, 3, 0);
	pkt_finish(&p, s);
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
	/* Segments with data are exempt from the per-connection interval. */
	pkt_in(&p, "P.", 1, 1 - 65535 - 1, "xyz", 3);
	pkt_expect(&p, ".", 1, 1, 0);
	assert_int_equal(pkt_drops(&p, SF_DROP_TCP_BAD_ACK), 2);
	char b[8];
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), SF_EAGAIN);
	pkt_in(&p, "P.", 1, 1 - 65535, "xyz", 3);
	pkt_expect(&p, ".", 1, 4, 0);
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), 3);
	pkt_finish(&p, s);
}

/* RFC 5961 §7, per connection: segments without data that draw a reply
 * (here in-window RSTs) get one reply per cfg.reply_interval_ms (500 ms),
 * however many arrive. */
static void reply_limit_per_connection(void **state)
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
	assert_int_equal(acks, 1);
	assert_int_equal(challenge_acks(&p), 1);
	pkt_advance(&p, 499 * 1000);
	pkt_in(&p, "R", 100, 0, NULL, 0);
	pkt_expect_none(&p);
	pkt_advance(&p, 1000);
	pkt_in(&p, "R", 100, 0, NULL, 0);
	pkt_expect(&p, ".", 1, 1, 0);
	pkt_finish(&p, s);
}

/* RFC 5961 §7, all connections: the budget of a second is drawn afresh
 * from [budget/2, budget/2 + budget) (Linux since CVE-2016-5696), so its
 * edge tells an observer nothing it can carry to the next second. */
static void reply_budget_randomised_per_second(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c;
	sf_config_default(&c);
	c.delack_ms = 0;
	c.seed = 7;
	c.reply_interval_ms = 0; /* the global budget alone */
	pkt_init(&p, &c);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	size_t counts[4];
	for (int sec = 0; sec < 4; sec++) {
		pkt_advance(&p, 1000 * 1000);
		counts[sec] = 0;
		for (int i = 0; i < 1600; i++) {
			pkt_in(&p, "R", 100 + (uint32_t)i, 0, NULL, 0);
			counts[sec] += pkt_pending(&p);
			pkt_discard(&p);
		}
		assert_true(counts[sec] >= 500 && counts[sec] < 1500);
	}
	assert_false(counts[0] == counts[1] && counts[1] == counts[2] && counts[2] == counts[3]);
	pkt_finish(&p, s);
}

/* Sends n copies of one segment at one instant; returns the replies. */
static size_t spray(pkt_t *p, int n, const char *flags, uint32_t seq, uint32_t ack)
{
	size_t replies = 0;
	for (int i = 0; i < n; i++) {
		pkt_in(p, flags, seq, ack, NULL, 0);
		replies += pkt_pending(p);
		pkt_discard(p);
	}
	return replies;
}

/* No reply to an unacceptable segment is unlimited: out-of-window, bad
 * ACK, PAWS failure, SYN and RST challenges, TIME-WAIT, closed port. */
static void every_reply_type_is_limited(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_tcp_opts_t syn = {.has_ts = true, .ts_val = 5000};
	sf_sock_t s = pkt_open_passive_opt(&p, &syn, NULL, NULL);
	const int64_t gap = 500 * 1000;
	assert_int_equal(spray(&p, 200, ".", 1 + 200000, 1), 1); /* out of window */
	pkt_advance(&p, gap);
	assert_int_equal(spray(&p, 200, ".", 1, 9999), 1); /* ACK of data never sent */
	pkt_advance(&p, gap);
	p.peer_ts = 4000; /* older than TS.Recent: PAWS */
	assert_int_equal(spray(&p, 200, ".", 1, 1), 1);
	p.peer_ts = 6000;
	pkt_advance(&p, gap);
	assert_int_equal(spray(&p, 200, "S", 77, 0), 1);
	pkt_advance(&p, gap);
	assert_int_equal(spray(&p, 200, "R", 50, 0), 1);
	assert_true(pkt_drops(&p, SF_DROP_TCP_PAWS) > 0);
	/* A closed port: RSTs within the global budget ([500, 1500) a second). */
	uint16_t port = p.port;
	p.port = 9;
	size_t rsts = spray(&p, 2000, "S", 0, 0);
	assert_true(rsts >= 500 && rsts < 1500);
	p.port = port;
	/* TIME-WAIT: a storm of retransmitted FINs draws one ACK. */
	pkt_advance(&p, 1000 * 1000);
	assert_int_equal(sf_close(p.st, s), 0);
	pkt_poll(&p);
	pkt_expect(&p, "F.", 1, 1, 0);
	pkt_in(&p, "F.", 1, 2, NULL, 0);
	pkt_expect(&p, ".", 2, 2, 0);
	sf_stack_stats_t ss;
	sf_stack_stats(p.st, &ss);
	assert_int_equal(ss.timewait_open, 1);
	assert_int_equal(spray(&p, 200, "F.", 1, 2), 1);
	pkt_advance(&p, gap);
	assert_int_equal(spray(&p, 200, "F.", 1, 2), 1);
	pkt_fini(&p);
}

/* The CVE-2016-5696 probe, replayed: in a fresh second an off-path host
 * sends one spoofed RST at a victim connection, then 1,000 in-window RSTs
 * on a connection of its own, and watches which draw challenge ACKs. With
 * a fixed global budget the last answer told whether the spoofed RST was in
 * the victim's window. Here every answer is the same either way. */
static void probe(uint64_t seed, bool spoof_in_window, bool answers[1000])
{
	pkt_t p;
	sf_config_t c;
	sf_config_default(&c);
	c.delack_ms = 0;
	c.seed = seed;
	pkt_init(&p, &c);
	/* The victim's connection (192.0.2.1:40000), then the attacker's. */
	sf_sock_t victim = pkt_open_passive(&p, NULL);
	uint32_t v_iss = p.iss, v_irs = p.irs;
	uint16_t v_port = p.peer_port;
	p.peer_addr = 0xC0000209u; /* 192.0.2.9 */
	p.peer_port = 41000;
	sf_sock_t own = pkt_open_passive(&p, NULL);
	uint32_t a_iss = p.iss, a_irs = p.irs;
	pkt_advance(&p, 1000 * 1000);
	/* The spoofed RST, as from the victim's peer. */
	p.peer_addr = PKT_PEER;
	p.peer_port = v_port;
	p.iss = v_iss;
	p.irs = v_irs;
	pkt_in(&p, "R", spoof_in_window ? 1 + 1000 : 1 + 0x40000000u, 0, NULL, 0);
	/* The victim's challenge ACK goes to its peer, not to the attacker. */
	assert_int_equal(pkt_pending(&p), spoof_in_window ? 1 : 0);
	pkt_discard(&p);
	p.peer_addr = 0xC0000209u;
	p.peer_port = 41000;
	p.iss = a_iss;
	p.irs = a_irs;
	for (int i = 0; i < 1000; i++) {
		pkt_in(&p, "R", 1 + 100 + (uint32_t)i, 0, NULL, 0);
		answers[i] = pkt_pending(&p) > 0;
		pkt_discard(&p);
	}
	sf_tcp_info_t ti;
	assert_int_equal(sf_tcp_info(p.st, victim, &ti), 0);
	assert_int_equal(ti.state, SF_ESTABLISHED);
	sf_abort(p.st, own);
	pkt_finish(&p, victim);
}

static void off_path_probe_learns_nothing(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 4; seed++) {
		bool in[1000], out[1000];
		probe(seed, true, in);
		probe(seed, false, out);
		assert_memory_equal(in, out, sizeof in);
		assert_true(in[0]); /* its own connection is still answered */
	}
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
	pkt_finish(&p, s);
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
	pkt_finish(&p, s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(rst_exact_resets),
	        cmocka_unit_test(rst_in_window_challenged),
	        cmocka_unit_test(rst_out_of_window_ignored),
	        cmocka_unit_test(syn_in_established_challenged),
	        cmocka_unit_test(ack_outside_range_dropped),
	        cmocka_unit_test(reply_limit_per_connection),
	        cmocka_unit_test(reply_budget_randomised_per_second),
	        cmocka_unit_test(every_reply_type_is_limited),
	        cmocka_unit_test(off_path_probe_learns_nothing),
	        cmocka_unit_test(zero_window_rst_processed),
	        cmocka_unit_test(zero_window_ack_processed),
	        cmocka_unit_test(zero_window_urg_processed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
