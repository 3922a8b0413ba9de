/* Flow control, loss recovery and timers, segment by segment against a
 * scripted peer (tests/support/pkt.h), for failure modes that shipped in
 * other stacks: fast retransmit resending a whole window, window updates
 * held back by delayed ACK, silly windows on either side (MUST-38/39), a
 * shrinking offered window (MUST-34), delayed ACK limits (MUST-40/58),
 * keepalives (MUST-24..29), zero-window probing for an hour (MUST-35..37),
 * per-connection TTL and DSCP (MUST-48/49), and the stalls the simulation
 * grid (tests/sim/test_grid.c) found: a window that grows from a small
 * non-zero value, and a small window whose update is lost.
 *
 * Unless a test says otherwise the peer announces MSS 1000 and no other
 * option, so synfin's segments carry 1000 bytes and sequence arithmetic
 * stays readable: synfin's byte k (from 0) has relative sequence k + 1.
 */
#include <string.h>

#include "pkt.h"

#define MS  1000ll
#define SEC 1000000ll

static uint8_t pattern[65536];

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (uint8_t)(i * 7 + (i >> 8));
	return 0;
}

static sf_config_t base_cfg(void)
{
	sf_config_t c;
	sf_config_default(&c);
	c.delack_ms = 0;
	c.seed = 1;
	/* These tests ask for the window with many probes at one instant;
	 * the RFC 5961 §7 per-connection reply limit is tested elsewhere. */
	c.reply_interval_ms = 0;
	return c;
}

/* Passive open with the peer announcing only MSS 1000 (and window p->wnd). */
static sf_sock_t open_mss(pkt_t *p, const sf_config_t *cfg)
{
	pkt_init(p, cfg);
	sf_tcp_opts_t o = {.has_mss = true, .mss = 1000};
	return pkt_open_passive_opt(p, &o, NULL, NULL);
}

/* Pops the next segment: data at relative seq with len bytes, ACK set,
 * PSH as synfin likes. */
static pkt_seg_t *expect_data(pkt_t *p, uint32_t seq, size_t len)
{
	pkt_seg_t *s = pkt_next(p);
	uint32_t rel = s->tcp.seq - p->iss;
	if (!(s->tcp.flags & SF_TCP_ACK) ||
	    (s->tcp.flags & (SF_TCP_SYN | SF_TCP_FIN | SF_TCP_RST)) || rel != seq ||
	    s->tcp.payload_len != len)
		fail_msg("expected data seq %u len %zu, got seq %u len %u flags 0x%x", seq, len,
		         rel, s->tcp.payload_len, s->tcp.flags);
	return s;
}

/* Pops the next segment and checks it is a pure ACK; returns it. */
static pkt_seg_t *expect_ack(pkt_t *p, uint32_t ack)
{
	pkt_seg_t *s = pkt_next(p);
	if (s->tcp.flags != SF_TCP_ACK || s->tcp.payload_len != 0 || s->tcp.ack != p->irs + ack)
		fail_msg("expected a pure ACK of %u, got flags 0x%x ack %u len %u", ack,
		         s->tcp.flags, s->tcp.ack - p->irs, s->tcp.payload_len);
	return s;
}

/* Runs timers (deadline after deadline: the wheel may wake early to
 * cascade) until synfin sends something or `limit_us` from now passes.
 * Returns the time of the output, or -1 when nothing came. */
static int64_t run_until_output(pkt_t *p, int64_t limit_us)
{
	int64_t end = p->now + limit_us;
	for (int i = 0; i < 100000 && !pkt_pending(p); i++) {
		int64_t d = sf_stack_next_deadline(p->st);
		if (d == INT64_MAX || d > end)
			return -1;
		pkt_run_next_deadline(p);
	}
	return pkt_pending(p) ? p->now : -1;
}

static uint32_t rel_seq(const pkt_t *p, const pkt_seg_t *s)
{
	return s->tcp.seq - p->iss;
}

/* ---- fast retransmit: one segment, not the window (RFC 5681 §3.2) ---- */

static void fast_retransmit_resends_one_segment(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	c.congestion = SF_CC_NEWRENO;
	sf_sock_t s = open_mss(&p, &c);
	assert_int_equal(sf_send(p.st, s, pattern, 30000), 30000);
	pkt_poll(&p);
	/* RFC 6928: an initial window of 10 segments. */
	for (uint32_t k = 0; k < 10; k++)
		expect_data(&p, 1 + k * 1000, 1000);
	pkt_expect_none(&p);
	/* Segment 1 is lost: the peer answers each later one with ACK 1. The
	 * first two duplicates release one new segment each (limited
	 * transmit, RFC 3042). */
	pkt_in(&p, ".", 1, 1, NULL, 0);
	expect_data(&p, 10001, 1000);
	pkt_expect_none(&p);
	pkt_in(&p, ".", 1, 1, NULL, 0);
	expect_data(&p, 11001, 1000);
	pkt_expect_none(&p);
	/* The third: exactly one retransmission, of segment 1. */
	pkt_in(&p, ".", 1, 1, NULL, 0);
	expect_data(&p, 1, 1000);
	pkt_expect_none(&p);
	sf_tcp_info_t ti;
	assert_int_equal(sf_tcp_info(p.st, s, &ti), 0);
	assert_int_equal(ti.retransmits, 1);
	/* ssthresh = FlightSize / 2 = 6 segments, cwnd = ssthresh + 3 (RFC 5681
	 * §3.2 (2)-(3)); each further duplicate inflates cwnd by one segment,
	 * and new data goes only once cwnd exceeds the 12 in flight. */
	assert_int_equal(ti.ssthresh, 6000);
	for (int k = 4; k <= 6; k++) {
		pkt_in(&p, ".", 1, 1, NULL, 0);
		pkt_expect_none(&p);
	}
	pkt_in(&p, ".", 1, 1, NULL, 0);
	expect_data(&p, 12001, 1000);
	pkt_expect_none(&p);
	/* The ACK of everything up to the recovery point ends recovery; what
	 * follows is new data within ssthresh, no retransmission. */
	pkt_in(&p, ".", 1, 12001, NULL, 0);
	size_t n = pkt_pending(&p);
	assert_true(n >= 1 && n <= 6);
	uint32_t next = 13001;
	for (size_t k = 0; k < n; k++) {
		expect_data(&p, next, 1000);
		next += 1000;
	}
	assert_int_equal(sf_tcp_info(p.st, s, &ti), 0);
	assert_int_equal(ti.retransmits, 1);
	pkt_finish(&p, s);
}

/* RFC 6582 §3.2 (3): the full ACK that ends recovery sets cwnd to
 * min(ssthresh, max(FlightSize, SMSS) + SMSS): with nothing left in flight
 * that is two segments, not one. With one segment the receiver's delayed
 * ACK holds every restart for its full delay (the grid: NewReno, 16 KiB,
 * 1 ms, 1 % loss lost ~40 ms twice after each recovery). */
static void full_ack_leaves_two_segments(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	c.congestion = SF_CC_NEWRENO;
	sf_sock_t s = open_mss(&p, &c);
	assert_int_equal(sf_send(p.st, s, pattern, 12000), 12000);
	pkt_poll(&p);
	pkt_discard(&p);
	for (int k = 0; k < 3; k++)
		pkt_in(&p, ".", 1, 1, NULL, 0);
	pkt_discard(&p); /* limited transmit, then the retransmission */
	assert_int_equal(sf_send(p.st, s, pattern, 5000), 5000);
	/* The retransmission fills the hole: everything sent is acknowledged. */
	pkt_in(&p, ".", 1, 12001, NULL, 0);
	sf_tcp_info_t ti;
	assert_int_equal(sf_tcp_info(p.st, s, &ti), 0);
	assert_true(ti.cwnd >= 2000);
	expect_data(&p, 12001, 1000);
	expect_data(&p, 13001, 1000);
	pkt_finish(&p, s);
}

/* ---- window updates are not held back by delayed ACK ---- */

static void window_update_not_delayed(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	c.delack_ms = 40;
	c.rcvbuf = 8000;
	sf_sock_t s = open_mss(&p, &c);
	/* The peer fills the buffer: 8 segments, ACKed every second one. */
	for (uint32_t k = 0; k < 8; k++)
		pkt_in(&p, ".", 1 + k * 1000, 1, pattern, 1000);
	pkt_seg_t *last = NULL;
	while (pkt_pending(&p))
		last = pkt_next(&p);
	assert_non_null(last);
	assert_int_equal(last->tcp.ack, p.irs + 8001);
	assert_int_equal(last->tcp.wnd, 0);
	/* The application drains it all: the window update leaves in this
	 * very output pass, not 40 ms later (RFC 9293 §3.8.6.2.2). */
	uint8_t buf[8000];
	assert_int_equal(sf_recv(p.st, s, buf, sizeof buf), 8000);
	assert_memory_equal(buf, pattern, 1000);
	int64_t t = p.now;
	pkt_poll(&p);
	pkt_seg_t *u = expect_ack(&p, 8001);
	assert_int_equal(u->at_us, t);
	assert_int_equal(u->tcp.wnd, 8000);
	pkt_expect_none(&p);
	pkt_finish(&p, s);
}

/* ---- receiver SWS avoidance (MUST-39, RFC 9293 §3.8.6.2.2) ----
 * The window reopens only in steps of min(buffer / 2, MSS): with a 4000
 * byte buffer and MSS 1460, reading 1459 bytes keeps it shut. */

static uint16_t probe_window(pkt_t *p, uint32_t rcv_nxt)
{
	/* A zero-window probe one below RCV.NXT makes synfin say its window. */
	pkt_in(p, ".", rcv_nxt - 1, 1, NULL, 0);
	pkt_seg_t *a = expect_ack(p, rcv_nxt);
	pkt_expect_none(p);
	return a->tcp.wnd;
}

static void receiver_sws_avoidance(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	c.rcvbuf = 4000;
	sf_sock_t s = open_mss(&p, &c);
	for (uint32_t k = 0; k < 4; k++)
		pkt_in(&p, ".", 1 + k * 1000, 1, pattern, 1000);
	pkt_discard(&p);
	assert_int_equal(probe_window(&p, 4001), 0);
	uint8_t buf[4000];
	/* 1000 read: less than one MSS (1460) freed, nothing to announce. */
	assert_int_equal(sf_recv(p.st, s, buf, 1000), 1000);
	pkt_poll(&p);
	pkt_expect_none(&p);
	assert_int_equal(probe_window(&p, 4001), 0);
	assert_int_equal(sf_recv(p.st, s, buf, 459), 459);
	pkt_poll(&p);
	pkt_expect_none(&p);
	assert_int_equal(probe_window(&p, 4001), 0);
	/* One more byte: a full MSS is free, the window opens by all of it. */
	assert_int_equal(sf_recv(p.st, s, buf, 1), 1);
	pkt_poll(&p);
	pkt_discard(&p); /* an update may go out now; the probe tells for sure */
	assert_true(probe_window(&p, 4001) >= 1460);
	pkt_finish(&p, s);
}

/* ---- sender SWS avoidance and Nagle (MUST-38, RFC 9293 §3.8.6.2.1) ---- */

static void sender_sws_small_remainder_waits(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	/* A tail loss probe would send the held bytes as new data after two
	 * RTTs without an ACK (RFC 8985 §7.3); this test is about Nagle. */
	c.rack = false;
	sf_sock_t s = open_mss(&p, &c);
	assert_int_equal(sf_send(p.st, s, pattern, 2500), 2500);
	pkt_poll(&p);
	expect_data(&p, 1, 1000);
	expect_data(&p, 1001, 1000);
	/* 500 bytes with data in flight: Nagle holds them. */
	pkt_expect_none(&p);
	pkt_advance(&p, 100 * MS);
	pkt_in(&p, ".", 1, 1001, NULL, 0);
	pkt_expect_none(&p);
	/* Everything acknowledged: the remainder goes. */
	pkt_in(&p, ".", 1, 2001, NULL, 0);
	expect_data(&p, 2001, 500);
	pkt_expect_none(&p);
	pkt_in(&p, ".", 1, 2501, NULL, 0);
	/* A window far below what the peer once offered (300 of 65535) is not
	 * worth a segment while more is queued. */
	p.wnd = 300;
	pkt_in(&p, ".", 1, 2501, NULL, 0);
	assert_int_equal(sf_send(p.st, s, pattern, 1000), 1000);
	pkt_poll(&p);
	pkt_expect_none(&p);
	pkt_finish(&p, s);
}

/* ---- the stalls the grid found ---- */

/* A window that grows from a small non-zero value must restart output by
 * itself (grid: NewReno, no SACK, 16 KiB, 10 ms, 1 % loss, seed 20241711:
 * the update arrived and 16 KiB stayed queued for good). */
static void window_growth_restarts_output(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	sf_sock_t s = open_mss(&p, &c);
	assert_int_equal(sf_send(p.st, s, pattern, 1000), 1000);
	pkt_poll(&p);
	expect_data(&p, 1, 1000);
	p.wnd = 300;
	pkt_in(&p, ".", 1, 1001, NULL, 0);
	assert_int_equal(sf_send(p.st, s, pattern, 3000), 3000);
	pkt_poll(&p);
	pkt_expect_none(&p); /* held: 300 bytes are a silly window */
	/* A pure window update: same ACK, the window opens. */
	p.wnd = 10000;
	pkt_in(&p, ".", 1, 1001, NULL, 0);
	expect_data(&p, 1001, 1000);
	expect_data(&p, 2001, 1000);
	expect_data(&p, 3001, 1000);
	pkt_expect_none(&p);
	pkt_finish(&p, s);
}

/* Data held back by sender SWS avoidance behind a small window, nothing in
 * flight: if the peer's window update is lost, only a timer can help. RFC
 * 1122 4.2.3.4 asks for an override timeout (0.1-1 s) and RFC 9293
 * §3.8.6.1 for probing a window too small to use (grid: NewReno, SACK on,
 * 16 KiB, 100 ms, 5 % loss, seed 6003, stalled for good). */
static void small_window_held_data_is_probed(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	sf_sock_t s = open_mss(&p, &c);
	p.wnd = 300;
	pkt_in(&p, ".", 1, 1, NULL, 0);
	assert_int_equal(sf_send(p.st, s, pattern, 3000), 3000);
	pkt_poll(&p);
	pkt_expect_none(&p);
	/* The peer's update (window 10000) is lost: within a minute (the RTO
	 * maximum) synfin must send something, a probe or the data. */
	int64_t t0 = p.now;
	int64_t t = run_until_output(&p, 60 * SEC);
	assert_true(t > 0 && t - t0 <= 60 * SEC);
	pkt_seg_t *q = pkt_next(&p);
	/* Nothing beyond the 300-byte window. */
	assert_true(rel_seq(&p, q) + q->tcp.payload_len <= 301);
	pkt_finish(&p, s);
}

/* ---- a shrinking window (MUST-34, RFC 9293 §3.8.6) ---- */

static void shrinking_window(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	pkt_init(&p, &c);
	p.wnd = 8000;
	sf_tcp_opts_t o = {.has_mss = true, .mss = 1000};
	sf_sock_t s = pkt_open_passive_opt(&p, &o, NULL, NULL);
	assert_int_equal(sf_send(p.st, s, pattern, 20000), 20000);
	pkt_poll(&p);
	for (uint32_t k = 0; k < 8; k++)
		expect_data(&p, 1 + k * 1000, 1000);
	pkt_expect_none(&p);
	/* The peer takes back most of its offer: right edge 2001 < 8001. */
	p.wnd = 1000;
	pkt_in(&p, ".", 1, 1001, NULL, 0);
	pkt_expect_none(&p);
	/* Then acknowledges everything with a zero window. */
	p.wnd = 0;
	pkt_in(&p, ".", 1, 8001, NULL, 0);
	pkt_expect_none(&p);
	/* synfin probes, sending nothing beyond the edge (8001). */
	for (int k = 0; k < 3; k++) {
		assert_true(run_until_output(&p, 3 * 3600 * SEC) > 0);
		pkt_seg_t *q = pkt_next(&p);
		assert_true(rel_seq(&p, q) + q->tcp.payload_len <= 8001);
		pkt_expect_none(&p);
		pkt_in(&p, ".", 1, 8001, NULL, 0);
		pkt_expect_none(&p);
	}
	/* The window reopens: data resumes where it stopped. */
	p.wnd = 3000;
	pkt_in(&p, ".", 1, 8001, NULL, 0);
	expect_data(&p, 8001, 1000);
	expect_data(&p, 9001, 1000);
	expect_data(&p, 10001, 1000);
	pkt_expect_none(&p);
	sf_tcp_info_t ti;
	assert_int_equal(sf_tcp_info(p.st, s, &ti), 0);
	assert_int_equal(ti.state, SF_ESTABLISHED);
	assert_int_equal(ti.retransmits, 0);
	pkt_finish(&p, s);
}

/* ---- delayed ACK (MUST-40, MUST-58; RFC 9293 §3.8.6.3) ---- */

static void delayed_ack_limits(void **state)
{
	(void)state;
	/* The delay must stay below 0.5 s (MUST-40): larger is refused. */
	sf_config_t bad = base_cfg();
	bad.delack_ms = 500;
	sf_stack_t *st = NULL;
	assert_int_equal(sf_stack_create(&bad, 0, &st), SF_EINVAL);

	pkt_t p;
	sf_config_t c = base_cfg();
	c.delack_ms = 40;
	sf_sock_t s = open_mss(&p, &c);
	/* One full segment: its ACK waits, but no longer than the delay. */
	pkt_in(&p, ".", 1, 1, pattern, 1000);
	pkt_expect_none(&p);
	pkt_advance(&p, 39 * MS);
	pkt_expect_none(&p);
	pkt_advance(&p, 1 * MS);
	expect_ack(&p, 1001);
	pkt_expect_none(&p);
	/* Every second full-sized segment is ACKed at once (MUST-58). */
	for (uint32_t k = 0; k < 6; k++) {
		pkt_in(&p, ".", 1001 + k * 1000, 1, pattern, 1000);
		if (k % 2 == 1)
			expect_ack(&p, 1001 + (k + 1) * 1000);
		pkt_expect_none(&p);
	}
	/* Four segments in one batch: one ACK for all (MUST-59 coalescing). */
	for (uint32_t k = 0; k < 4; k++)
		pkt_in_nopoll(&p, ".", 7001 + k * 1000, 1, pattern, 1000);
	pkt_poll(&p);
	expect_ack(&p, 11001);
	pkt_expect_none(&p);
	pkt_finish(&p, s);
}

/* ---- keepalive (MUST-24..29, RFC 9293 §3.8.4) ---- */

static void keepalive_off_by_default(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	/* MUST-28: the default idle time is at least two hours. */
	assert_true(c.keepidle_s >= 7200);
	sf_sock_t s = open_mss(&p, &c);
	int v = -1;
	assert_int_equal(sf_getsockopt(p.st, s, SF_SO_KEEPALIVE, &v), 0);
	assert_int_equal(v, 0);
	/* MUST-25: an idle connection sends nothing, for hours. */
	assert_int_equal(sf_stack_next_deadline(p.st), INT64_MAX);
	pkt_advance(&p, 3 * 3600 * SEC);
	pkt_expect_none(&p);
	sf_tcp_info_t ti;
	assert_int_equal(sf_tcp_info(p.st, s, &ti), 0);
	assert_int_equal(ti.state, SF_ESTABLISHED);
	pkt_finish(&p, s);
}

/* A keepalive is an ACK one below SND.NXT with no data (RFC 9293 §3.8.4). */
static void expect_keepalive(pkt_t *p)
{
	pkt_seg_t *k = pkt_next(p);
	if (k->tcp.flags != SF_TCP_ACK || rel_seq(p, k) != 0 || k->tcp.ack != p->irs + 1 ||
	    k->tcp.payload_len > 1)
		fail_msg("expected a keepalive (seq 0, ack 1), got flags 0x%x seq %u len %u",
		         k->tcp.flags, rel_seq(p, k), k->tcp.payload_len);
}

static void keepalive_default_idle_two_hours(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	sf_sock_t s = open_mss(&p, &c);
	int64_t t0 = p.now;
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_KEEPALIVE, 1), 0);
	pkt_poll(&p);
	pkt_expect_none(&p);
	/* MUST-26/28: the first probe after 7200 s idle, not earlier. */
	assert_int_equal(run_until_output(&p, 3 * 3600 * SEC), t0 + 7200 * SEC);
	expect_keepalive(&p);
	pkt_expect_none(&p);
	pkt_finish(&p, s);
}

static void keepalive_probes_and_gives_up(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	sf_sock_t s = open_mss(&p, &c);
	int64_t t0 = p.now;
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_KEEPIDLE, 10), 0);
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_KEEPINTVL, 5), 0);
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_KEEPCNT, 3), 0);
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_KEEPALIVE, 1), 0);
	/* MUST-24/27: probes after the idle time, then every interval. */
	assert_int_equal(run_until_output(&p, 3 * 3600 * SEC), t0 + 10 * SEC);
	expect_keepalive(&p);
	assert_int_equal(run_until_output(&p, 3 * 3600 * SEC), t0 + 15 * SEC);
	expect_keepalive(&p);
	assert_int_equal(run_until_output(&p, 3 * 3600 * SEC), t0 + 20 * SEC);
	expect_keepalive(&p);
	/* keepcnt probes unanswered: the connection is dead (MUST-29 allows
	 * giving up only after several). */
	pkt_expect_none(&p);
	pkt_advance(&p, t0 + 25 * SEC - 1 - p.now);
	sf_tcp_info_t ti;
	assert_int_equal(sf_tcp_info(p.st, s, &ti), 0);
	assert_int_equal(ti.state, SF_ESTABLISHED);
	pkt_advance(&p, 1);
	uint8_t b[8];
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), SF_ETIMEDOUT);
	pkt_discard(&p);
	pkt_finish_close(&p, s);
}

/* MUST-29: keepalive ACKs are not delivered reliably, so losing
 * keepcnt - 1 of them must not kill the connection. */
static void keepalive_tolerates_lost_acks(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	sf_sock_t s = open_mss(&p, &c);
	int64_t t0 = p.now;
	sf_setsockopt(p.st, s, SF_SO_KEEPIDLE, 10);
	sf_setsockopt(p.st, s, SF_SO_KEEPINTVL, 5);
	sf_setsockopt(p.st, s, SF_SO_KEEPCNT, 3);
	sf_setsockopt(p.st, s, SF_SO_KEEPALIVE, 1);
	for (int round = 0; round < 3; round++) {
		/* Two probes go unanswered (their ACKs lost) ... */
		assert_int_equal(run_until_output(&p, 3 * 3600 * SEC), t0 + 10 * SEC);
		expect_keepalive(&p);
		assert_int_equal(run_until_output(&p, 3 * 3600 * SEC), t0 + 15 * SEC);
		expect_keepalive(&p);
		/* ... the third is answered: alive, idle timing starts again. */
		assert_int_equal(run_until_output(&p, 3 * 3600 * SEC), t0 + 20 * SEC);
		expect_keepalive(&p);
		pkt_in(&p, ".", 1, 1, NULL, 0);
		pkt_expect_none(&p);
		t0 = p.now;
	}
	sf_tcp_info_t ti;
	assert_int_equal(sf_tcp_info(p.st, s, &ti), 0);
	assert_int_equal(ti.state, SF_ESTABLISHED);
	assert_int_equal(sf_sock_error(p.st, s), 0);
	/* Data still flows. */
	assert_int_equal(sf_send(p.st, s, pattern, 10), 10);
	pkt_poll(&p);
	expect_data(&p, 1, 10);
	pkt_finish(&p, s);
}

/* RFC 7323 §3.2: once timestamps are negotiated, every segment but a RST
 * carries them, keepalives and window probes included (a peer may drop a
 * segment without them). */
static void probes_carry_timestamps(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	pkt_init(&p, &c);
	sf_tcp_opts_t o = {.has_mss = true, .mss = 1000, .has_ts = true};
	sf_sock_t s = pkt_open_passive_opt(&p, &o, NULL, NULL);
	sf_setsockopt(p.st, s, SF_SO_KEEPIDLE, 10);
	sf_setsockopt(p.st, s, SF_SO_KEEPALIVE, 1);
	assert_true(run_until_output(&p, 3 * 3600 * SEC) > 0);
	pkt_seg_t *k = pkt_next(&p);
	assert_int_equal(k->tcp.payload_len, 0);
	assert_true(k->tcp.opt.has_ts);
	pkt_finish(&p, s);
}

/* ---- zero-window probing for an hour (MUST-35, MUST-36, MUST-37) ---- */

static void zero_window_probes_for_an_hour(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	pkt_init(&p, &c);
	p.wnd = 2000;
	sf_tcp_opts_t o = {.has_mss = true, .mss = 1000};
	sf_sock_t s = pkt_open_passive_opt(&p, &o, NULL, NULL);
	assert_int_equal(sf_send(p.st, s, pattern, 5000), 5000);
	pkt_poll(&p);
	expect_data(&p, 1, 1000);
	expect_data(&p, 1001, 1000);
	pkt_expect_none(&p);
	p.wnd = 0;
	pkt_in(&p, ".", 1, 2001, NULL, 0);
	pkt_expect_none(&p);
	sf_tcp_info_t ti;
	assert_int_equal(sf_tcp_info(p.st, s, &ti), 0);
	int64_t start = p.now, last = p.now;
	uint32_t probes = 0;
	int64_t max_gap = 0;
	while (p.now - start < 3600 * SEC) {
		int64_t t = run_until_output(&p, 3 * 3600 * SEC);
		assert_true(t > 0);
		pkt_seg_t *q = pkt_next(&p);
		/* A probe: nothing beyond the (zero) window but at most one byte. */
		assert_true(rel_seq(&p, q) + q->tcp.payload_len <= 2002);
		pkt_expect_none(&p);
		if (probes == 0) {
			/* MUST-36: the first after about one RTO of zero window. */
			assert_true(t - start >= (int64_t)ti.rto_us);
			assert_true(t - start <= 2 * (int64_t)ti.rto_us + 1);
		}
		if (t - last > max_gap)
			max_gap = t - last;
		last = t;
		probes++;
		/* The peer answers: still window 0 (MUST-37: keep probing). */
		pkt_in(&p, ".", 1, 2001, NULL, 0);
		pkt_expect_none(&p);
	}
	/* Backed off, but never beyond the RTO maximum (60 s). */
	assert_true(max_gap <= 60 * SEC);
	assert_true(probes >= 60);
	assert_int_equal(sf_tcp_info(p.st, s, &ti), 0);
	assert_int_equal(ti.state, SF_ESTABLISHED);
	assert_int_equal(sf_sock_error(p.st, s), 0);
	/* The window opens: the rest goes. */
	p.wnd = 10000;
	pkt_in(&p, ".", 1, 2001, NULL, 0);
	expect_data(&p, 2001, 1000);
	expect_data(&p, 3001, 1000);
	expect_data(&p, 4001, 1000);
	pkt_expect_none(&p);
	pkt_finish(&p, s);
}

/* ---- TTL and DSCP per connection (MUST-48, MUST-49) ---- */

static void check_ip(const pkt_seg_t *q, uint8_t ttl, uint8_t dscp, const char *what)
{
	if (q->ip.ttl != ttl || q->ip.dscp != dscp)
		fail_msg("%s: TTL %u DSCP %u, want TTL %u DSCP %u", what, q->ip.ttl, q->ip.dscp,
		         ttl, dscp);
}

static void ttl_and_dscp_per_connection(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	pkt_init(&p, &c);
	sf_sock_t s = sf_socket(p.st);
	assert_true(s > 0);
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_TTL, 7), 0);
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_TOS, 46 << 2), 0); /* DSCP EF */
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_TTL, 0), SF_EINVAL);
	assert_int_equal(sf_connect(p.st, s, PKT_PEER, 80), SF_EINPROGRESS);
	pkt_poll(&p);
	pkt_seg_t *syn = pkt_next(&p);
	assert_int_equal(syn->tcp.flags, SF_TCP_SYN);
	check_ip(syn, 7, 46, "SYN");
	p.iss = syn->tcp.seq;
	p.peer_port = 80;
	p.port = syn->tcp.sport;
	p.opt = (sf_tcp_opts_t){.has_mss = true, .mss = 1000};
	pkt_in(&p, "S.", 0, 1, NULL, 0);
	p.opt = (sf_tcp_opts_t){0};
	check_ip(expect_ack(&p, 1), 7, 46, "ACK");
	assert_int_equal(sf_send(p.st, s, pattern, 100), 100);
	pkt_poll(&p);
	check_ip(expect_data(&p, 1, 100), 7, 46, "data");
	/* Another connection on the same stack keeps the defaults. */
	pkt_t q;
	pkt_init(&q, &c);
	sf_sock_t s2 = pkt_open_active(&q);
	assert_int_equal(sf_send(q.st, s2, pattern, 10), 10);
	pkt_poll(&q);
	check_ip(expect_data(&q, 1, 10), 64, 0, "default connection");
	pkt_finish(&q, s2);
	/* Changed on an open connection, it applies to what follows. */
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_TTL, 200), 0);
	pkt_in(&p, "P.", 1, 101, pattern, 10);
	check_ip(expect_ack(&p, 11), 200, 46, "ACK after change");
	pkt_finish(&p, s);
}

/* Every segment of the connection carries them: keepalives and window
 * probes too, which are built apart from the ordinary output path. */
static void ttl_and_dscp_on_probes(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	pkt_init(&p, &c);
	sf_sock_t l = sf_socket(p.st);
	sf_setsockopt(p.st, l, SF_SO_TTL, 9);
	sf_setsockopt(p.st, l, SF_SO_TOS, 10 << 2); /* AF11 */
	assert_int_equal(sf_bind(p.st, l, 80), 0);
	assert_int_equal(sf_listen(p.st, l, 4), 0);
	p.opt = (sf_tcp_opts_t){.has_mss = true, .mss = 1000};
	pkt_in(&p, "S", 0, 0, NULL, 0);
	pkt_seg_t *sa = pkt_next(&p);
	check_ip(sa, 9, 10, "SYN,ACK (inherited from the listener)");
	p.iss = sa->tcp.seq;
	p.opt = (sf_tcp_opts_t){0};
	p.wnd = 1000;
	pkt_in(&p, ".", 1, 1, NULL, 0);
	sf_sock_t s = sf_accept(p.st, l, NULL, NULL);
	assert_true(s > 0);
	sf_close(p.st, l);
	/* A zero-window probe. */
	assert_int_equal(sf_send(p.st, s, pattern, 3000), 3000);
	pkt_poll(&p);
	check_ip(expect_data(&p, 1, 1000), 9, 10, "data");
	p.wnd = 0;
	pkt_in(&p, ".", 1, 1001, NULL, 0);
	assert_true(run_until_output(&p, 3 * 3600 * SEC) > 0);
	check_ip(pkt_next(&p), 9, 10, "zero-window probe");
	pkt_discard(&p);
	/* A keepalive. */
	p.wnd = 65535;
	pkt_in(&p, ".", 1, 1001, NULL, 0);
	pkt_discard(&p);
	pkt_in(&p, ".", 1, 3001, NULL, 0);
	pkt_discard(&p);
	sf_setsockopt(p.st, s, SF_SO_KEEPIDLE, 10);
	sf_setsockopt(p.st, s, SF_SO_KEEPALIVE, 1);
	assert_true(run_until_output(&p, 3 * 3600 * SEC) > 0);
	check_ip(pkt_next(&p), 9, 10, "keepalive");
	pkt_finish(&p, s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(fast_retransmit_resends_one_segment),
	        cmocka_unit_test(full_ack_leaves_two_segments),
	        cmocka_unit_test(window_update_not_delayed),
	        cmocka_unit_test(receiver_sws_avoidance),
	        cmocka_unit_test(sender_sws_small_remainder_waits),
	        cmocka_unit_test(window_growth_restarts_output),
	        cmocka_unit_test(small_window_held_data_is_probed),
	        cmocka_unit_test(shrinking_window),
	        cmocka_unit_test(delayed_ack_limits),
	        cmocka_unit_test(keepalive_off_by_default),
	        cmocka_unit_test(keepalive_default_idle_two_hours),
	        cmocka_unit_test(keepalive_probes_and_gives_up),
	        cmocka_unit_test(keepalive_tolerates_lost_acks),
	        cmocka_unit_test(probes_carry_timestamps),
	        cmocka_unit_test(zero_window_probes_for_an_hour),
	        cmocka_unit_test(ttl_and_dscp_per_connection),
	        cmocka_unit_test(ttl_and_dscp_on_probes),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
