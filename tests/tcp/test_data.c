/* Data transfer, segment by segment (RFC 9293 §3.8, §3.10.7.4; RFC 6298;
 * RFC 5681): in-order and out-of-order data, trimming to the window,
 * retransmission timeout with backoff and Karn's rule, R2 (user timeout),
 * fast retransmit, PSH, Nagle, zero-window probing, delayed and coalesced
 * ACKs, and window updates. */
#include <string.h>

#include "pkt.h"

/* Byte i of the stream is i % 251, so a misplaced byte shows. */
static uint8_t pattern[16384];

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (uint8_t)(i % 251);
	return 0;
}

static void cfg_default(sf_config_t *c)
{
	sf_config_default(c);
	c->delack_ms = 0;
	c->seed = 1;
}

/* Passive open where the peer announces MSS `mss` (0: none), SACK-permitted
 * when `sack`; no timestamps, so payload sizes are the MSS exactly. */
static sf_sock_t open_mss(pkt_t *p, uint16_t mss, bool sack)
{
	sf_tcp_opts_t o = {.has_mss = mss != 0, .mss = mss, .sack_perm = sack};
	return pkt_open_passive_opt(p, &o, NULL, NULL);
}

/* Peer's data at relative sequence seq, taken from the pattern. */
static void peer_data(pkt_t *p, uint32_t seq, uint32_t ack, uint32_t len)
{
	pkt_in(p, "P.", seq, ack, pattern + seq - 1, len);
}

static void expect_read(pkt_t *p, sf_sock_t s, uint32_t from, size_t len)
{
	static uint8_t buf[sizeof pattern];
	assert_int_equal(sf_recv(p->st, s, buf, sizeof buf), (long)len);
	assert_memory_equal(buf, pattern + from - 1, len);
}

static void in_order_data(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = open_mss(&p, 1460, false);
	for (uint32_t i = 0; i < 3; i++) {
		peer_data(&p, 1 + 100 * i, 1, 100);
		pkt_expect(&p, ".", 1, 101 + 100 * i, 0);
	}
	pkt_expect_none(&p);
	expect_read(&p, s, 1, 300);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.bytes_received, 300);
	pkt_finish(&p, s);
}

/* RFC 9293 §3.10.7.4 (seventh step) and RFC 5681 §4.2: out-of-order
 * segments are kept; each gets an immediate duplicate ACK carrying SACK
 * blocks (RFC 2018 §4); when the hole fills, one ACK covers everything. */
static void out_of_order_reassembly(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = open_mss(&p, 1460, true);
	peer_data(&p, 201, 1, 100);
	pkt_seg_t *a = pkt_expect(&p, ".", 1, 1, 0);
	assert_int_equal(a->tcp.opt.sack_cnt, 1);
	assert_int_equal(a->tcp.opt.sack[0].left, p.irs + 201);
	assert_int_equal(a->tcp.opt.sack[0].right, p.irs + 301);
	char b[8];
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), SF_EAGAIN);
	peer_data(&p, 101, 1, 100);
	a = pkt_expect(&p, ".", 1, 1, 0);
	assert_int_equal(a->tcp.opt.sack_cnt, 1);
	assert_int_equal(a->tcp.opt.sack[0].left, p.irs + 101);
	assert_int_equal(a->tcp.opt.sack[0].right, p.irs + 301);
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), SF_EAGAIN);
	peer_data(&p, 1, 1, 100);
	a = pkt_expect(&p, ".", 1, 301, 0);
	assert_int_equal(a->tcp.opt.sack_cnt, 0);
	pkt_expect_none(&p);
	expect_read(&p, s, 1, 300);
	pkt_finish(&p, s);
}

/* RFC 9293 §3.10.7.4: overlapping segments are trimmed to the new part;
 * a complete duplicate is unacceptable and answered with an ACK. */
static void overlap_and_duplicate(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = open_mss(&p, 1460, false);
	peer_data(&p, 1, 1, 100);
	pkt_expect(&p, ".", 1, 101, 0);
	peer_data(&p, 51, 1, 100);
	pkt_expect(&p, ".", 1, 151, 0);
	peer_data(&p, 1, 1, 100);
	pkt_expect(&p, ".", 1, 151, 0);
	assert_int_equal(pkt_drops(&p, SF_DROP_TCP_OUT_OF_WINDOW), 1);
	peer_data(&p, 141, 1, 60);
	pkt_expect(&p, ".", 1, 201, 0);
	pkt_expect_none(&p);
	expect_read(&p, s, 1, 200);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.bytes_received, 200);
	pkt_finish(&p, s);
}

/* RFC 9293 §3.10.7.4: data beyond the receive window is cut off; when the
 * application drains the buffer the window reopens. */
static void data_beyond_window_trimmed(void **state)
{
	(void)state;
	sf_config_t c;
	cfg_default(&c);
	c.rcvbuf = 1000;
	pkt_t p;
	pkt_init(&p, &c);
	sf_sock_t s = open_mss(&p, 1460, false);
	peer_data(&p, 1, 1, 1200);
	pkt_seg_t *a = pkt_expect(&p, ".", 1, 1001, 0);
	assert_int_equal(a->tcp.wnd, 0);
	expect_read(&p, s, 1, 1000);
	pkt_poll(&p);
	a = pkt_expect(&p, ".", 1, 1001, 0);
	assert_int_equal(a->tcp.wnd, 1000);
	peer_data(&p, 1001, 1, 200);
	pkt_expect(&p, ".", 1, 1201, 0);
	expect_read(&p, s, 1001, 200);
	pkt_finish(&p, s);
}

/* Handshake with a 100 ms RTT: SRTT 100 ms, RTTVAR 50 ms, RTO 300 ms. */
static sf_sock_t open_rtt100(pkt_t *p)
{
	sf_sock_t l = sf_socket(p->st);
	sf_bind(p->st, l, 80);
	sf_listen(p->st, l, 4);
	pkt_in(p, "S", 0, 0, NULL, 0);
	p->iss = 0;
	pkt_expect(p, "S.", 0, 1, 0);
	pkt_advance(p, 100000);
	pkt_in(p, ".", 1, 1, NULL, 0);
	sf_sock_t s = sf_accept(p->st, l, NULL, NULL);
	assert_true(s > 0);
	sf_close(p->st, l);
	sf_tcp_info_t ti;
	sf_tcp_info(p->st, s, &ti);
	assert_int_equal(ti.srtt_us, 100000);
	assert_int_equal(ti.rto_us, 300000);
	return s;
}

/* RFC 6298 (5.4)-(5.6): the RTO doubles on each expiry; MUST-18 (Karn): the
 * ACK of a retransmitted segment gives no RTT sample. */
static void rto_backoff_and_karn(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c;
	cfg_default(&c);
	c.rack = false; /* the RTO's backoff alone; with TLP the first resend is a probe */
	pkt_init(&p, &c);
	sf_sock_t s = open_rtt100(&p);
	int64_t t1 = p.now;
	assert_int_equal(sf_send(p.st, s, pattern, 100), 100);
	pkt_poll(&p);
	pkt_expect(&p, "P.", 1, 1, 100);
	static const int64_t at_ms[] = {300, 900, 2100, 4500};
	for (size_t i = 0; i < 4; i++) {
		p.now = t1 + at_ms[i] * 1000 - 1000;
		pkt_poll(&p);
		pkt_expect_none(&p);
		p.now = t1 + at_ms[i] * 1000;
		pkt_poll(&p);
		pkt_seg_t *r = pkt_expect(&p, "P.", 1, 1, 100);
		assert_memory_equal(r->payload, pattern, 100);
	}
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.backoff, 4);
	assert_int_equal(ti.retransmits, 4);
	p.now = t1 + 4600000;
	pkt_in(&p, ".", 1, 101, NULL, 0);
	pkt_expect_none(&p);
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.srtt_us, 100000); /* no sample from the retransmission */
	assert_int_equal(ti.rttvar_us, 50000);
	assert_int_equal(ti.backoff, 0);
	assert_int_equal(ti.bytes_acked, 100);
	assert_int_equal(pkt_run_next_deadline(&p), -1);
	pkt_finish(&p, s);
}

/* MUST-20/21: retransmissions go on until the user timeout (R2) has
 * passed, then the connection is closed and SF_ETIMEDOUT reported. */
static void user_timeout_gives_up(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = open_mss(&p, 1460, false);
	uint32_t id = sf_sock_conn_id(p.st, s);
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_USER_TIMEOUT, 5000), 0);
	int64_t t1 = p.now;
	sf_send(p.st, s, pattern, 10);
	pkt_poll(&p);
	pkt_expect(&p, "P.", 1, 1, 10);
	int64_t closed_at = -1;
	for (int i = 0; i < 40 && closed_at < 0; i++) {
		int64_t t = pkt_run_next_deadline(&p);
		assert_true(t > 0);
		while (pkt_pending(&p))
			pkt_expect(&p, "P.", 1, 1, 10);
		if (pkt_state(&p, id) == SF_CLOSED)
			closed_at = t;
	}
	assert_true(closed_at >= t1 + 5000000);
	assert_true(closed_at <= t1 + 15000000);
	pkt_expect_none(&p);
	assert_int_equal(sf_send(p.st, s, "x", 1), SF_ETIMEDOUT);
	sf_close(p.st, s);
	pkt_fini(&p);
}

/* RFC 5681 §3.2: the third duplicate ACK resends the one segment at
 * SND.UNA, not the whole window. */
static void fast_retransmit_one_segment(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = open_mss(&p, 1000, false);
	assert_int_equal(sf_send(p.st, s, pattern, 5000), 5000);
	pkt_poll(&p);
	for (uint32_t i = 0; i < 4; i++)
		pkt_expect(&p, ".", 1 + 1000 * i, 1, 1000);
	pkt_expect(&p, "P.", 4001, 1, 1000);
	pkt_in(&p, ".", 1, 1001, NULL, 0);
	pkt_expect_none(&p);
	pkt_in(&p, ".", 1, 1001, NULL, 0);
	pkt_in(&p, ".", 1, 1001, NULL, 0);
	pkt_expect_none(&p);
	pkt_in(&p, ".", 1, 1001, NULL, 0);
	pkt_seg_t *r = pkt_expect(&p, ".", 1001, 1, 1000);
	assert_memory_equal(r->payload, pattern + 1000, 1000);
	pkt_expect_none(&p);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.retransmits, 1);
	pkt_finish(&p, s);
}

/* MUST-61: PSH on the last segment of what is queued. */
static void psh_on_last_segment(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = open_mss(&p, 1460, false);
	sf_setsockopt(p.st, s, SF_SO_NODELAY, 1);
	assert_int_equal(sf_send(p.st, s, pattern, 3000), 3000);
	pkt_poll(&p);
	pkt_expect(&p, ".", 1, 1, 1460);
	pkt_expect(&p, ".", 1461, 1, 1460);
	pkt_expect(&p, "P.", 2921, 1, 80);
	pkt_expect_none(&p);
	pkt_finish(&p, s);
}

/* RFC 9293 §3.7.4 (Nagle): a second small write waits while data is
 * unacknowledged, then goes out as one segment with the ACK. */
static void nagle_holds_small_segment(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = open_mss(&p, 1460, false);
	sf_send(p.st, s, "a", 1);
	pkt_poll(&p);
	pkt_expect(&p, "P.", 1, 1, 1);
	sf_send(p.st, s, "b", 1);
	pkt_poll(&p);
	sf_send(p.st, s, "c", 1);
	pkt_poll(&p);
	pkt_expect_none(&p);
	pkt_in(&p, ".", 1, 2, NULL, 0);
	pkt_seg_t *d = pkt_expect(&p, "P.", 2, 1, 2);
	assert_memory_equal(d->payload, "bc", 2);
	pkt_expect_none(&p);
	pkt_finish(&p, s);
}

/* MUST-17: with Nagle off, each small write leaves at once. */
static void nodelay_sends_at_once(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = open_mss(&p, 1460, false);
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_NODELAY, 1), 0);
	int v = 0;
	sf_getsockopt(p.st, s, SF_SO_NODELAY, &v);
	assert_int_equal(v, 1);
	sf_send(p.st, s, "a", 1);
	pkt_poll(&p);
	pkt_expect(&p, "P.", 1, 1, 1);
	sf_send(p.st, s, "b", 1);
	pkt_poll(&p);
	pkt_expect(&p, "P.", 2, 1, 1);
	pkt_expect_none(&p);
	pkt_finish(&p, s);
}

/* Closes the peer's window and queues 100 bytes; returns the time. */
static int64_t zero_window_with_data(pkt_t *p, sf_sock_t s)
{
	p->wnd = 0;
	pkt_in(p, ".", 1, 1, NULL, 0);
	sf_tcp_info_t ti;
	sf_tcp_info(p->st, s, &ti);
	assert_int_equal(ti.snd_wnd, 0);
	assert_int_equal(sf_send(p->st, s, pattern, 100), 100);
	pkt_poll(p);
	pkt_expect_none(p); /* nothing into a zero window */
	return p->now;
}

/* MUST-35/36/37: no data into a zero window; probes (a documented choice:
 * SEQ = SND.UNA - 1, no data) at RTO, then doubling intervals up to the
 * 60 s maximum, and never giving up. */
static void zero_window_probes_back_off(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = open_mss(&p, 1460, false);
	uint32_t id = sf_sock_conn_id(p.st, s);
	int64_t t = zero_window_with_data(&p, s);
	int64_t start = t;
	int64_t gap = 200000; /* the RTO after a zero-RTT handshake */
	/* Unanswered probes back off exponentially ... */
	for (int i = 0; i < 4; i++) {
		p.now = t + gap - 1000;
		pkt_poll(&p);
		pkt_expect_none(&p);
		p.now = t + gap;
		pkt_poll(&p);
		pkt_expect(&p, ".", 0, 1, 0);
		pkt_expect_none(&p);
		t += gap;
		gap *= 2;
	}
	assert_int_equal(pkt_state(&p, id), SF_ESTABLISHED);
	/* The window opens: the data goes, the probing stops. */
	p.wnd = 65535;
	pkt_in(&p, ".", 1, 1, NULL, 0);
	pkt_expect(&p, "P.", 1, 1, 100);
	pkt_in(&p, ".", 1, 101, NULL, 0);
	pkt_expect_none(&p);
	assert_int_equal(pkt_run_next_deadline(&p), -1);
	(void)start;
	pkt_finish(&p, s);
}

/* A peer that shuts its window and then falls silent is not probed forever:
 * after R2 (cfg.r2_ms) without a word from it the connection times out
 * (RFC 9293 §3.8.3); MUST-37 only protects a peer that keeps answering. */
static void zero_window_silent_peer_times_out(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = open_mss(&p, 1460, false);
	uint32_t id = sf_sock_conn_id(p.st, s);
	int64_t last_heard = p.now;
	zero_window_with_data(&p, s);
	int probes = 0;
	while (pkt_run_next_deadline(&p) >= 0 && pkt_state(&p, id) == SF_ESTABLISHED) {
		probes += (int)pkt_pending(&p);
		pkt_discard(&p);
		assert_true(p.now - last_heard <= (int64_t)p.cfg.r2_ms * 1000 + 60000000);
	}
	assert_int_equal(pkt_state(&p, id), SF_CLOSED);
	assert_true(p.now - last_heard >= (int64_t)p.cfg.r2_ms * 1000);
	assert_true(probes >= 8);
	assert_int_equal(sf_sock_error(p.st, s), SF_ETIMEDOUT);
	sf_close(p.st, s);
	pkt_fini(&p);
}

/* MUST-37 and RFC 9293 §3.8.6.1 (SHLD-30): the peer answers every probe
 * with a zero window; probing goes on, the interval still doubling. */
static void zero_window_probes_while_peer_answers(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = open_mss(&p, 1460, false);
	int64_t t = zero_window_with_data(&p, s);
	int64_t gap = 200000;
	for (int i = 0; i < 6; i++) {
		p.now = t + gap - 1000;
		pkt_poll(&p);
		if (pkt_pending(&p))
			fail_msg("probe %d came before %lld ms (SHLD-30: the interval doubles)",
			         i + 1, (long long)gap / 1000);
		p.now = t + gap;
		pkt_poll(&p);
		pkt_expect(&p, ".", 0, 1, 0);
		pkt_in(&p, ".", 1, 1, NULL, 0); /* still zero */
		pkt_expect_none(&p);
		t += gap;
		gap *= 2;
	}
	p.wnd = 65535;
	pkt_in(&p, ".", 1, 1, NULL, 0);
	pkt_expect(&p, "P.", 1, 1, 100);
	pkt_finish(&p, s);
}

/* MUST-40/58: with delayed ACKs (40 ms) one segment is ACKed 40 ms later;
 * a second full-sized segment gets its ACK at once. */
static void delayed_ack(void **state)
{
	(void)state;
	sf_config_t c;
	cfg_default(&c);
	c.delack_ms = 40;
	pkt_t p;
	pkt_init(&p, &c);
	sf_sock_t s = open_mss(&p, 1460, false);
	peer_data(&p, 1, 1, 100);
	pkt_expect_none(&p);
	pkt_advance(&p, 39000);
	pkt_expect_none(&p);
	pkt_advance(&p, 1000);
	pkt_expect(&p, ".", 1, 101, 0);
	peer_data(&p, 101, 1, 1460);
	pkt_expect_none(&p);
	peer_data(&p, 1561, 1, 1460);
	pkt_expect(&p, ".", 1, 3021, 0);
	pkt_advance(&p, 100000);
	pkt_expect_none(&p);
	pkt_finish(&p, s);
}

/* MUST-40: a delayed-ACK time of 0.5 s or more is refused. */
static void delack_limit(void **state)
{
	(void)state;
	sf_config_t c;
	cfg_default(&c);
	c.delack_ms = 500;
	sf_stack_t *st = NULL;
	assert_int_equal(sf_stack_create(&c, 0, &st), SF_EINVAL);
	c.delack_ms = 499;
	assert_int_equal(sf_stack_create(&c, 0, &st), 0);
	sf_stack_destroy(st);
}

/* MUST-58/59: several segments in one batch get one ACK, after all of
 * them were processed. */
static void one_ack_per_batch(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = open_mss(&p, 1460, false);
	pkt_in_nopoll(&p, "P.", 1, 1, pattern, 100);
	pkt_in_nopoll(&p, "P.", 101, 1, pattern + 100, 100);
	pkt_in_nopoll(&p, "P.", 201, 1, pattern + 200, 100);
	pkt_poll(&p);
	pkt_expect(&p, ".", 1, 301, 0);
	pkt_expect_none(&p);
	expect_read(&p, s, 1, 300);
	pkt_finish(&p, s);
}

/* RFC 9293 §3.8.6.2.2 (MUST-39): a full receive buffer advertises zero; a
 * small read does not reopen it (receiver SWS avoidance); draining it
 * sends a window update at once. */
static void window_update_after_drain(void **state)
{
	(void)state;
	sf_config_t c;
	cfg_default(&c);
	c.rcvbuf = 4096;
	pkt_t p;
	pkt_init(&p, &c);
	sf_sock_t s = open_mss(&p, 1460, false);
	peer_data(&p, 1, 1, 1460);
	assert_int_equal(pkt_expect(&p, ".", 1, 1461, 0)->tcp.wnd, 4096 - 1460);
	peer_data(&p, 1461, 1, 1460);
	assert_int_equal(pkt_expect(&p, ".", 1, 2921, 0)->tcp.wnd, 4096 - 2920);
	peer_data(&p, 2921, 1, 1176);
	assert_int_equal(pkt_expect(&p, ".", 1, 4097, 0)->tcp.wnd, 0);
	uint8_t buf[4096];
	assert_int_equal(sf_recv(p.st, s, buf, 100), 100);
	pkt_poll(&p);
	pkt_expect_none(&p);
	assert_int_equal(sf_recv(p.st, s, buf + 100, sizeof buf - 100), 3996);
	assert_memory_equal(buf, pattern, 4096);
	pkt_poll(&p);
	assert_int_equal(pkt_expect(&p, ".", 1, 4097, 0)->tcp.wnd, 4096);
	pkt_expect_none(&p);
	pkt_finish(&p, s);
}

/* RFC 5681 §4.2: each out-of-order segment gets its own immediate duplicate
 * ACK, even when several arrive in one batch (the sender counts them). */
static void dup_ack_per_ooo_segment_in_a_batch(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	char d[100] = {0};
	pkt_in_nopoll(&p, "P.", 101, 1, d, 100); /* 1..101 is missing */
	pkt_in_nopoll(&p, "P.", 201, 1, d, 100);
	pkt_poll(&p);
	pkt_expect(&p, ".", 1, 1, 0);
	pkt_expect(&p, ".", 1, 1, 0);
	pkt_expect_none(&p);
	pkt_finish(&p, s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(in_order_data),
	        cmocka_unit_test(out_of_order_reassembly),
	        cmocka_unit_test(overlap_and_duplicate),
	        cmocka_unit_test(data_beyond_window_trimmed),
	        cmocka_unit_test(rto_backoff_and_karn),
	        cmocka_unit_test(user_timeout_gives_up),
	        cmocka_unit_test(fast_retransmit_one_segment),
	        cmocka_unit_test(psh_on_last_segment),
	        cmocka_unit_test(nagle_holds_small_segment),
	        cmocka_unit_test(nodelay_sends_at_once),
	        cmocka_unit_test(dup_ack_per_ooo_segment_in_a_batch),
	        cmocka_unit_test(zero_window_probes_back_off),
	        cmocka_unit_test(zero_window_silent_peer_times_out),
	        cmocka_unit_test(zero_window_probes_while_peer_answers),
	        cmocka_unit_test(delayed_ack),
	        cmocka_unit_test(delack_limit),
	        cmocka_unit_test(one_ack_per_batch),
	        cmocka_unit_test(window_update_after_drain),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
