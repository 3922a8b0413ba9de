/* RACK-TLP (RFC 8985) and D-SACK (RFC 2883), segment by segment: a lost
 * retransmission found without the RTO, a tail loss repaired by a probe,
 * reordering waited out instead of retransmitted, D-SACK blocks sent for
 * duplicate data, and a congestion response undone when D-SACKs show the
 * retransmission was spurious. The peer (the test) announces MSS 1000 and
 * SACK, no timestamps, and answers after 100 ms: SRTT 100 ms, RTO 300 ms. */
#include <string.h>

#include "pkt.h"

#define MS        1000
#define WC_DELACK (200 * MS) /* RFC 8985 §7.2 WCDelAckT */

static uint8_t pattern[32768];

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (uint8_t)(i % 251);
	return 0;
}

static sf_config_t base_cfg(void)
{
	sf_config_t c;
	sf_config_default(&c);
	c.delack_ms = 0;
	c.seed = 1;
	c.congestion = SF_CC_NEWRENO;
	return c;
}

static sf_sock_t open_sack(pkt_t *p, const sf_config_t *cfg)
{
	return pkt_open_sack(p, cfg, pattern);
}

/* The peer's ACK of `ack` with SACK blocks [l, r) (relative), n of them. */
static void sack_in(pkt_t *p, uint32_t ack, const uint32_t (*blocks)[2], uint8_t n)
{
	p->opt.sack_cnt = n;
	for (uint8_t i = 0; i < n; i++) {
		p->opt.sack[i].left = p->iss + blocks[i][0];
		p->opt.sack[i].right = p->iss + blocks[i][1];
	}
	pkt_in(p, ".", 1, ack, NULL, 0);
	p->opt.sack_cnt = 0;
}

/* The peer's three ACKs of `una` that SACK one, two and three segments
 * past a hole at una: [una + 1000, una + 2000 / 3000 / 4000). */
static void sack_three_past(pkt_t *p, uint32_t una)
{
	for (uint32_t k = 2; k <= 4; k++)
		sack_in(p, una, (const uint32_t[][2]){{una + 1000, una + 1000 * k}}, 1);
}

/* Sends pattern[0, n), drops the segments that leave (the caller does not
 * check them) and moves the clock one RTT (100 ms) on, to when the peer's
 * answers come. Returns the send time. */
static int64_t send_and_wait_rtt(pkt_t *p, sf_sock_t s, size_t n)
{
	int64_t t0 = p->now;
	assert_int_equal(sf_send(p->st, s, pattern, n), n);
	pkt_poll(p);
	pkt_discard(p);
	p->now = t0 + 100 * MS;
	return t0;
}

/* Timer events of kind k recorded so far. */
static size_t timers(const pkt_t *p, sf_timer_kind_t k)
{
	size_t n = 0;
	for (size_t i = 0; i < p->ev_cnt; i++)
		n += p->ev[i].kind == SF_EV_TIMER && p->ev[i].u.timer.timer == k;
	return n;
}

/* The cause traced on the n-th retransmission (0-based). */
static sf_retx_cause_t retx_cause(const pkt_t *p, size_t n)
{
	for (size_t i = 0; i < p->ev_cnt; i++)
		if (p->ev[i].kind == SF_EV_SEG_TX && p->ev[i].u.seg.retx != SF_RETX_NONE && !n--)
			return p->ev[i].u.seg.retx;
	return SF_RETX_NONE;
}

/* Runs the stack's deadlines (the wheel may report one early) until it
 * sends something; returns that time. */
static int64_t run_until_sent(pkt_t *p)
{
	for (int i = 0; i < 100 && !pkt_pending(p); i++)
		assert_true(pkt_run_next_deadline(p) >= 0);
	assert_true(pkt_pending(p) > 0);
	return p->now;
}

static sf_stack_stats_t stats(const pkt_t *p)
{
	sf_stack_stats_t s;
	sf_stack_stats(p->st, &s);
	return s;
}

/* Sends pattern[0, 3000) and checks it leaves at once as three 1000-byte
 * segments from relative sequence `at`, the last pushed. */
static void send_three(pkt_t *p, sf_sock_t s, uint32_t at)
{
	assert_int_equal(sf_send(p->st, s, pattern, 3000), 3000);
	pkt_poll(p);
	pkt_expect(p, ".", at, 1, 1000);
	pkt_expect(p, ".", at + 1000, 1, 1000);
	pkt_expect(p, "P.", at + 2000, 1, 1000);
}

/* A tail loss: three segments from 1001 are sent at t0 and only the first
 * is acknowledged 100 ms later ([2001, 4001) lost); nothing is sent in
 * reply. Returns t0. */
static int64_t send_three_lose_tail(pkt_t *p, sf_sock_t s)
{
	int64_t t0 = p->now;
	send_three(p, s, 1001);
	p->now = t0 + 100 * MS;
	pkt_in(p, ".", 1, 2001, NULL, 0); /* [2001, 4001) lost */
	pkt_expect_none(p);
	return t0;
}

/* RFC 8985 §6 (and its §3.3.1 example): a retransmission that is lost
 * again is found when data sent after it is SACKed, one RTT later, not by
 * the RTO. DupThresh counting cannot see it: no new duplicate ACKs arrive
 * for a hole already being repaired. */
static void lost_retransmission_detected_without_rto(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	sf_sock_t s = open_sack(&p, &c);
	int64_t t0 = p.now;
	assert_int_equal(sf_send(p.st, s, pattern, 6000), 6000);
	pkt_poll(&p);
	for (uint32_t i = 0; i < 6; i++)
		pkt_expect(&p, i == 5 ? "P." : ".", 1001 + 1000 * i, 1, 1000);
	/* [1001, 2001) is lost; the next three arrive and are SACKed. */
	p.now = t0 + 100 * MS;
	sack_in(&p, 1001, (const uint32_t[][2]){{2001, 3001}}, 1);
	pkt_expect_none(&p); /* one SACKed segment: within the reordering window */
	sack_in(&p, 1001, (const uint32_t[][2]){{2001, 4001}}, 1);
	sack_in(&p, 1001, (const uint32_t[][2]){{2001, 5001}}, 1);
	/* Three SACKed and no reordering seen: lost now (RFC 8985 §6.2 step 4). */
	pkt_expect(&p, ".", 1001, 1, 1000);
	pkt_expect_none(&p);
	assert_int_equal(retx_cause(&p, 0), SF_RETX_RACK);
	sack_in(&p, 1001, (const uint32_t[][2]){{2001, 7001}}, 1);
	pkt_expect_none(&p);
	/* New data goes out 10 ms after the retransmission ... */
	p.now = t0 + 110 * MS;
	assert_int_equal(sf_send(p.st, s, pattern + 6000, 2000), 2000);
	pkt_poll(&p);
	pkt_expect(&p, ".", 7001, 1, 1000);
	pkt_expect(&p, "P.", 8001, 1, 1000);
	pkt_expect_none(&p);
	/* ... and is SACKed while the retransmission is lost again: RACK
	 * marks the retransmission lost and sends it a third time. */
	p.now = t0 + 210 * MS;
	sack_in(&p, 1001, (const uint32_t[][2]){{2001, 8001}}, 1);
	pkt_seg_t *r = pkt_expect(&p, ".", 1001, 1, 1000);
	assert_memory_equal(r->payload, pattern, 1000);
	assert_true(r->at_us < t0 + 400 * MS);
	assert_int_equal(retx_cause(&p, 1), SF_RETX_RACK);
	sack_in(&p, 1001, (const uint32_t[][2]){{2001, 9001}}, 1);
	pkt_expect_none(&p);
	p.now = t0 + 310 * MS;
	pkt_in(&p, ".", 1, 9001, NULL, 0);
	pkt_expect_none(&p);
	assert_int_equal(timers(&p, SF_TIMER_RTO), 0);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.retransmits, 2);
	assert_int_equal(ti.bytes_acked, 9000);
	assert_true(stats(&p).rack_lost >= 2);
	assert_int_equal(pkt_run_next_deadline(&p), -1);
	pkt_finish(&p, s);
}

/* RFC 8985 §6.2 step 3: reordering is seen when an original segment is
 * delivered below RACK.fack, which has a value only once something has
 * been delivered. Over sixteen connections (their ISSs spread over the
 * sequence space by the seed), the first segment SACKed never counts as
 * reordered: with no reordering seen, three SACKed segments above a hole
 * mark it lost at once (step 4: DupThresh), whatever the ISS. */
static void three_sacked_lost_at_once_whatever_the_iss(void **state)
{
	(void)state;
	bool upper = false, lower = false;
	for (uint64_t seed = 1; seed <= 16; seed++) {
		pkt_t p;
		sf_config_t c = base_cfg();
		c.seed = seed;
		sf_sock_t s = open_sack(&p, &c);
		if (p.iss + 1001u >= 0x80000000u)
			upper = true;
		else
			lower = true;
		send_and_wait_rtt(&p, s, 6000);
		sack_three_past(&p, 1001);
		pkt_expect(&p, ".", 1001, 1, 1000);
		assert_int_equal(retx_cause(&p, 0), SF_RETX_RACK);
		assert_int_equal(timers(&p, SF_TIMER_RACK), 0);
		pkt_finish(&p, s);
	}
	assert_true(upper && lower); /* both halves of sequence space were tried */
}

/* A link with TSO (as the TUN's virtio-net header offers): super-segments
 * are cut at gso_size here and queued as the segments the wire carries,
 * so the test sees, and loses, them one by one. */
static size_t supers;
static int tso_link(void *ctx, const uint8_t *frame, size_t len, const sf_offload_t *off,
                    int64_t now_us)
{
	if (!off->gso_size)
		return pkt_on_tx(ctx, frame, len, now_us);
	supers++;
	sf_ipv4_t ip;
	assert_int_equal(sf_ipv4_parse(frame, len, &ip), 0);
	sf_tcp_t h;
	assert_int_equal(sf_tcp_parse(frame + ip.hdr_len, ip.total_len - ip.hdr_len, ip.src, ip.dst,
	                              false, &h),
	                 0);
	size_t hdr = ip.hdr_len + h.payload_off;
	static uint8_t piece[2048];
	for (uint32_t at = 0; at < h.payload_len; at += off->gso_size) {
		uint32_t n =
		        h.payload_len - at < off->gso_size ? h.payload_len - at : off->gso_size;
		memcpy(piece, frame, hdr);
		memcpy(piece + hdr, frame + hdr + at, n);
		sf_put32(piece + ip.hdr_len + 4, h.seq + at);
		sf_put16(piece + 2, (uint16_t)(hdr + n));
		sf_put16(piece + 10, 0);
		sf_put16(piece + 10, sf_csum(piece, ip.hdr_len));
		assert_int_equal(sf_tcp_csum_fill(piece, hdr + n), 0);
		assert_int_equal(pkt_on_tx(ctx, piece, hdr + n, now_us), 0);
	}
	return 0;
}

/* RFC 8985 keeps its state per segment. Six segments leave as one TSO
 * super-segment; the first is lost and the peer SACKs the other five.
 * Those five are delivered, sent no earlier than the first, which has
 * waited an RTT: RACK finds it lost on that ACK (not the probe, not the
 * RTO), though it left in the same super-segment as what was SACKed. */
static void lost_segment_of_super_segment_detected(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	c.transmit_off = tso_link;
	c.tso_max = 65535;
	supers = 0;
	sf_sock_t s = open_sack(&p, &c);
	int64_t t0 = p.now;
	assert_int_equal(sf_send(p.st, s, pattern, 6000), 6000);
	pkt_poll(&p);
	assert_int_equal(supers, 1);
	for (uint32_t i = 0; i < 6; i++)
		pkt_next(&p);
	pkt_expect_none(&p);
	p.now = t0 + 100 * MS;
	sack_in(&p, 1001, (const uint32_t[][2]){{2001, 3001}}, 1);
	sack_in(&p, 1001, (const uint32_t[][2]){{2001, 5001}}, 1);
	sack_in(&p, 1001, (const uint32_t[][2]){{2001, 7001}}, 1);
	pkt_seg_t *r = pkt_expect(&p, ".", 1001, 1, 1000);
	assert_memory_equal(r->payload, pattern, 1000);
	assert_int_equal(retx_cause(&p, 0), SF_RETX_RACK);
	pkt_expect_none(&p);
	p.now = t0 + 200 * MS;
	pkt_in(&p, ".", 1, 7001, NULL, 0);
	pkt_expect_none(&p);
	assert_int_equal(timers(&p, SF_TIMER_TLP), 0);
	assert_int_equal(timers(&p, SF_TIMER_RTO), 0);
	assert_int_equal(stats(&p).rack_lost, 1);
	pkt_finish(&p, s);
}

/* Segments synfin sent since the last call (popped). */
static size_t sent_now(pkt_t *p)
{
	size_t n = pkt_pending(p);
	pkt_discard(p);
	return n;
}

/* PRR (RFC 9937 §4; the example of RFC 6937 §5): eleven segments in
 * flight (cwnd 11000), the first lost, the others SACKed: three on the
 * first ACK (RACK's DupThresh: recovery starts), then one per ACK.
 * NewReno sets ssthresh to half the flight, 5500; RecoverFS is 11000.
 * The fast retransmit goes on the first ACK though pipe (7000) is above
 * ssthresh (the old "pipe < cwnd = ssthresh" rule held it two more
 * ACKs). While pipe > ssthresh PRR allows ssthresh/RecoverFS = 1/2 of
 * what is delivered, less what it sent, in whole segments: one segment
 * on every other ACK. Once pipe is at ssthresh, each delivered segment
 * is replaced by one (PRR-CRB). Ten delivered, six sent: the flight ends
 * near ssthresh, and cwnd is ssthresh once the full ACK ends recovery. */
static void prr_sends_in_proportion_during_recovery(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	sf_sock_t s = open_sack(&p, &c);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_true(ti.cwnd >= 10000);
	int64_t t0 = p.now;
	assert_int_equal(ti.cwnd, 11000);
	assert_int_equal(sf_send(p.st, s, pattern, 20000), 20000);
	pkt_poll(&p);
	assert_int_equal(sent_now(&p), 11); /* [1001, 12001) */
	p.now = t0 + 100 * MS;
	size_t per_ack[8];
	for (uint32_t k = 0; k < 8; k++) {
		sack_in(&p, 1001, (const uint32_t[][2]){{2001, 5001 + 1000 * k}}, 1);
		if (k == 0) {
			pkt_expect(&p, ".", 1001, 1, 1000); /* the fast retransmit */
			per_ack[k] = 1 + sent_now(&p);
		} else {
			per_ack[k] = sent_now(&p);
		}
	}
	const size_t want[8] = {2, 0, 1, 0, 1, 0, 1, 1};
	assert_memory_equal(per_ack, want, sizeof want);
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.ssthresh, 5500);
	assert_int_equal(ti.retransmits, 1);
	assert_int_equal(ti.bytes_sent, 1000 + 11000 + 5000);
	/* The retransmission arrives: everything to 12001 is acknowledged,
	 * the end of recovery (RFC 6582 recover); cwnd = ssthresh. */
	p.now = t0 + 200 * MS;
	pkt_in(&p, ".", 1, 12001, NULL, 0);
	pkt_discard(&p);
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.cwnd, 5500);
	assert_int_equal(stats(&p).fast_recoveries, 1);
	assert_int_equal(timers(&p, SF_TIMER_RTO), 0);
	pkt_finish(&p, s);
}

/* RFC 3042 in a batch: the peer's three SACK ACKs (one, two, three
 * segments past a hole) arrive together and are processed before output
 * runs, as sf_stack_input_batch does with a TUN read. The third begins
 * recovery; the room the first two opened under cwnd is sent too, as new
 * data, beside the fast retransmit (as a stack sending after every ACK
 * would have sent it). Then the ACK of the retransmission is lost: the
 * ACKs of the new segments end recovery, with no RTO. */
static void sacks_in_one_batch_keep_limited_transmit(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	sf_sock_t s = open_sack(&p, &c);
	int64_t t0 = p.now;
	assert_int_equal(sf_send(p.st, s, pattern, 20000), 20000);
	pkt_poll(&p);
	assert_int_equal(sent_now(&p), 11); /* [1001, 12001), cwnd 11000 */
	p.now = t0 + 100 * MS;
	for (uint32_t k = 2; k <= 4; k++) {
		p.opt.sack_cnt = 1;
		p.opt.sack[0].left = p.iss + 2001;
		p.opt.sack[0].right = p.iss + 1001 + 1000 * k;
		pkt_in_nopoll(&p, ".", 1, 1001, NULL, 0);
	}
	p.opt.sack_cnt = 0;
	pkt_poll(&p);
	pkt_expect(&p, ".", 1001, 1, 1000);  /* the fast retransmit */
	pkt_expect(&p, ".", 12001, 1, 1000); /* and what the first two ACKs let go */
	pkt_expect(&p, ".", 13001, 1, 1000);
	pkt_expect_none(&p);
	/* The retransmission's ACK is lost; the new segments' ACK arrives. */
	p.now = t0 + 200 * MS;
	pkt_in(&p, ".", 1, 14001, NULL, 0);
	pkt_discard(&p);
	assert_int_equal(stats(&p).fast_recoveries, 1);
	assert_int_equal(stats(&p).rto_timeouts, 0);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.bytes_acked, 14000); /* [1, 14001) */
	pkt_finish(&p, s);
}

/* RFC 8985 §7: the last two segments of a flight are lost, so no SACK or
 * duplicate ACK can report them. Two RTTs after the last ACK a probe
 * resends the last segment; its SACK lets RACK find the other loss. The
 * whole repair takes about 4 RTTs, where the RTO alone would have waited
 * 3 RTTs for the first retransmission and one more per lost segment. */
static void tail_loss_recovered_by_probe(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	sf_sock_t s = open_sack(&p, &c);
	int64_t t0 = send_three_lose_tail(&p, s);
	/* PTO = 2 * SRTT (+ 2 ms with more than one segment in flight). */
	sf_tcp_info_t ti;
	int64_t at = run_until_sent(&p);
	assert_int_equal(at, t0 + 302 * MS);
	pkt_seg_t *probe = pkt_expect(&p, "P.", 3001, 1, 1000);
	assert_memory_equal(probe->payload, pattern + 2000, 1000);
	pkt_expect_none(&p);
	assert_int_equal(retx_cause(&p, 0), SF_RETX_TLP);
	assert_int_equal(timers(&p, SF_TIMER_TLP), 1);
	/* The probe is SACKed: [2001, 3001) was sent before it and is lost. */
	p.now = at + 100 * MS;
	sack_in(&p, 2001, (const uint32_t[][2]){{3001, 4001}}, 1);
	pkt_expect(&p, ".", 2001, 1, 1000);
	pkt_expect_none(&p);
	assert_int_equal(retx_cause(&p, 1), SF_RETX_RACK);
	p.now = at + 200 * MS;
	pkt_in(&p, ".", 1, 4001, NULL, 0);
	pkt_expect_none(&p);
	assert_int_equal(timers(&p, SF_TIMER_RTO), 0);
	assert_int_equal(stats(&p).tlp_probes, 1);
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.bytes_acked, 4000);
	assert_int_equal(ti.retransmits, 2);
	pkt_finish(&p, s);
}

/* Without SACK, TLP still repairs a lost last segment: the probe is
 * acknowledged cumulatively, and the congestion window is not collapsed
 * as after an RTO. With two segments in flight PTO = 2 * SRTT + 2 ms; with
 * one, the peer's worst-case delayed-ACK time (200 ms) is added and the
 * PTO is clamped to the RTO: the probe then goes at the RTO's time in its
 * place (RFC 8985 §7.2). */
static void tail_loss_probe_without_sack(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	c.sack = false;
	sf_sock_t s = open_sack(&p, &c);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_false(ti.sack_ok);
	int64_t t0 = p.now;
	assert_int_equal(sf_send(p.st, s, pattern, 2000), 2000);
	pkt_poll(&p);
	pkt_expect(&p, ".", 1001, 1, 1000);
	pkt_expect(&p, "P.", 2001, 1, 1000); /* lost */
	p.now = t0 + 100 * MS;
	pkt_in(&p, ".", 1, 2001, NULL, 0);
	sf_tcp_info(p.st, s, &ti);
	int64_t at = run_until_sent(&p);
	/* 2 * SRTT + WCDelAckT = 400 ms > RTO: the probe goes at the RTO. */
	assert_true(2 * (int64_t)ti.srtt_us + WC_DELACK > (int64_t)ti.rto_us);
	assert_true(at >= t0 + 100 * MS + (int64_t)ti.rto_us);
	assert_true(at < t0 + 100 * MS + (int64_t)ti.rto_us + 2 * MS); /* wheel tick */
	pkt_expect(&p, "P.", 2001, 1, 1000);
	assert_int_equal(retx_cause(&p, 0), SF_RETX_TLP);
	p.now = at + 100 * MS;
	pkt_in(&p, ".", 1, 3001, NULL, 0);
	pkt_expect_none(&p);
	/* Two segments in flight, the second lost: PTO = 2 * SRTT + 2 ms. */
	t0 = p.now;
	assert_int_equal(sf_send(p.st, s, pattern + 2000, 2000), 2000);
	pkt_poll(&p);
	pkt_expect(&p, ".", 3001, 1, 1000);
	pkt_expect(&p, "P.", 4001, 1, 1000); /* lost */
	p.now = t0 + 100 * MS;
	pkt_in(&p, ".", 1, 4001, NULL, 0);
	sf_tcp_info(p.st, s, &ti);
	at = run_until_sent(&p);
	int64_t pto = 2 * (int64_t)ti.srtt_us + 2 * MS;
	if (pto > (int64_t)ti.rto_us)
		pto = ti.rto_us;
	assert_true(at >= t0 + 100 * MS + pto);
	assert_true(at < t0 + 100 * MS + pto + 2 * MS); /* wheel tick */
	pkt_expect(&p, "P.", 4001, 1, 1000);
	assert_int_equal(retx_cause(&p, 1), SF_RETX_TLP);
	p.now = at + 100 * MS;
	pkt_in(&p, ".", 1, 5001, NULL, 0);
	pkt_expect_none(&p);
	assert_int_equal(timers(&p, SF_TIMER_RTO), 0);
	assert_int_equal(timers(&p, SF_TIMER_TLP), 2);
	sf_tcp_info(p.st, s, &ti);
	assert_true(ti.cwnd >= 2000); /* no collapse to one segment */
	pkt_finish(&p, s);
}

/* RFC 8985 §6.2 step 4: one or two segments SACKed past a hole may be
 * reordering: RACK waits a quarter of the min RTT before calling the hole
 * lost, and the late segment arriving in that time costs nothing. Once
 * reordering has been seen, even three SACKed segments (DupThresh, which
 * RFC 6675 alone would retransmit on) are waited out. */
static void reordering_tolerated_without_spurious_retransmission(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	sf_sock_t s = open_sack(&p, &c);
	int64_t t0 = send_and_wait_rtt(&p, s, 3000);
	sack_in(&p, 1001, (const uint32_t[][2]){{2001, 3001}}, 1);
	pkt_expect_none(&p);
	/* The reordering timer is armed for min_rtt / 4 = 25 ms. */
	assert_true(sf_stack_next_deadline(p.st) <= t0 + 125 * MS);
	p.now = t0 + 124 * MS;
	pkt_poll(&p);
	pkt_expect_none(&p);
	pkt_in(&p, ".", 1, 4001, NULL, 0); /* the late segment arrived */
	pkt_expect_none(&p);
	/* Second flight: the first segment is 3 places late. */
	t0 = p.now;
	assert_int_equal(sf_send(p.st, s, pattern + 3000, 4000), 4000);
	pkt_poll(&p);
	assert_int_equal(pkt_pending(&p), 4);
	pkt_discard(&p);
	p.now = t0 + 100 * MS;
	sack_three_past(&p, 4001);
	pkt_expect_none(&p);
	p.now = t0 + 120 * MS;
	pkt_poll(&p);
	pkt_expect_none(&p);
	pkt_in(&p, ".", 1, 8001, NULL, 0);
	pkt_expect_none(&p);
	p.now = t0 + 1000 * MS;
	pkt_poll(&p);
	pkt_expect_none(&p);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.retransmits, 0);
	assert_int_equal(ti.bytes_acked, 8000);
	assert_int_equal(stats(&p).rack_lost, 0);
	pkt_finish(&p, s);
}

/* The same second flight with RACK off: RFC 6675 retransmits on three
 * SACKed segments, the spurious retransmission the test above avoids. */
static void reordering_without_rack_retransmits(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	c.rack = false;
	sf_sock_t s = open_sack(&p, &c);
	send_and_wait_rtt(&p, s, 4000);
	sack_three_past(&p, 1001);
	pkt_expect(&p, ".", 1001, 1, 1000);
	assert_int_equal(retx_cause(&p, 0), SF_RETX_DUPACK);
	pkt_finish(&p, s);
}

/* RFC 2018 §8: a receiver should not forget what it has SACKed, or the
 * sender waits for a timeout to resend it. With a 128 KiB receive buffer
 * synfin keeps an out-of-order range per four segments of it (22 here:
 * beyond the block's own 8, a pool block taken at the ninth hole and put
 * back when the last is filled). Twenty segments arrive, each after a
 * hole: every ACK reports the newest first, and as the holes fill in
 * order, each cumulative ACK moves past the segment held beyond it, all
 * twenty of them (with 8 ranges the older twelve were forgotten). The
 * second time round the pool's block is reused: nothing is allocated. */
static void twenty_holes_all_kept(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	c.rcvbuf = 128 * 1024;
	sf_sock_t s = open_sack(&p, &c);
	static uint8_t data[40000], got[40000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i % 251);
	uint64_t allocated = 0;
	for (uint32_t round = 0; round < 2; round++) {
		uint32_t base = round * 40000;
		for (uint32_t k = 0; k < 20; k++) {
			uint32_t at = 1 + 1000 * (2 * k + 1);
			pkt_in(&p, "P.", base + at, 1001, data + at - 1, 1000);
			pkt_seg_t *a = pkt_expect(&p, ".", 1001, base + 1, 0);
			assert_true(a->tcp.opt.sack_cnt >= 1);
			assert_int_equal(a->tcp.opt.sack[0].left, p.irs + base + at);
			assert_int_equal(a->tcp.opt.sack[0].right, p.irs + base + at + 1000);
		}
		for (uint32_t k = 0; k < 20; k++) {
			uint32_t at = 1 + 1000 * 2 * k;
			pkt_in(&p, "P.", base + at, 1001, data + at - 1, 1000);
			pkt_seg_t *a = pkt_expect(&p, ".", 1001, base + at + 2000, 0);
			/* The held ranges above are still reported, newest first. */
			assert_int_equal(a->tcp.opt.sack_cnt, k < 16 ? 4 : 19 - k); /* 4 fit */
		}
		assert_int_equal(sf_recv(p.st, s, got, sizeof got), (int)sizeof got);
		assert_memory_equal(got, data, sizeof got);
		if (round == 0)
			allocated = stats(&p).bytes_allocated;
	}
	assert_int_equal(stats(&p).bytes_allocated, allocated);
	pkt_finish(&p, s);
}

/* RFC 2883 §4: a duplicate segment is reported in the first SACK block of
 * the ACK it causes: below RCV.NXT alone, above it followed by the
 * out-of-order block that holds it. Reported once. */
static void dsack_reports_duplicate_data(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	sf_sock_t s = open_sack(&p, &c);
	pkt_in(&p, "P.", 1, 1001, pattern, 500);
	pkt_expect(&p, ".", 1001, 501, 0);
	pkt_in(&p, "P.", 1, 1001, pattern, 500); /* again */
	pkt_seg_t *a = pkt_expect(&p, ".", 1001, 501, 0);
	assert_int_equal(a->tcp.opt.sack_cnt, 1);
	assert_int_equal(a->tcp.opt.sack[0].left, p.irs + 1);
	assert_int_equal(a->tcp.opt.sack[0].right, p.irs + 501);
	/* Out of order, then that again. */
	pkt_in(&p, "P.", 1001, 1001, pattern + 1000, 500);
	a = pkt_expect(&p, ".", 1001, 501, 0);
	assert_int_equal(a->tcp.opt.sack_cnt, 1);
	pkt_in(&p, "P.", 1001, 1001, pattern + 1000, 500);
	a = pkt_expect(&p, ".", 1001, 501, 0);
	assert_int_equal(a->tcp.opt.sack_cnt, 2);
	assert_int_equal(a->tcp.opt.sack[0].left, p.irs + 1001);
	assert_int_equal(a->tcp.opt.sack[0].right, p.irs + 1501);
	assert_int_equal(a->tcp.opt.sack[1].left, p.irs + 1001);
	assert_int_equal(a->tcp.opt.sack[1].right, p.irs + 1501);
	/* The hole fills: no D-SACK is repeated. */
	pkt_in(&p, "P.", 501, 1001, pattern + 500, 500);
	a = pkt_expect(&p, ".", 1001, 1501, 0);
	assert_int_equal(a->tcp.opt.sack_cnt, 0);
	assert_int_equal(stats(&p).dsacks_sent, 2);
	pkt_finish(&p, s);
}

/* A segment delayed past three SACKed ones is retransmitted (RACK's
 * verdict with no reordering seen), then the original arrives and the
 * peer reports the retransmission as a duplicate (D-SACK). Leaves the
 * connection with nothing in flight, 5000 bytes acknowledged. */
static void spurious_episode(pkt_t *p, sf_sock_t s, sf_tcp_info_t *before, sf_tcp_info_t *during)
{
	sf_tcp_info(p->st, s, before);
	int64_t t0 = send_and_wait_rtt(p, s, 4000);
	sack_three_past(p, 1001);
	pkt_expect(p, ".", 1001, 1, 1000);
	sf_tcp_info(p->st, s, during);
	assert_true(during->cwnd < before->cwnd);
	/* The original arrives, then the retransmission: a D-SACK. */
	p->now = t0 + 105 * MS;
	pkt_in(p, ".", 1, 5001, NULL, 0);
	p->now = t0 + 200 * MS;
	sack_in(p, 5001, (const uint32_t[][2]){{1001, 2001}}, 1);
	pkt_expect_none(p);
}

/* RFC 3708 with D-SACK (RFC 8985 §9.3): when every retransmission of an
 * episode is reported spurious, its congestion response is undone. */
static void dsack_undoes_spurious_retransmission(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	sf_sock_t s = open_sack(&p, &c);
	sf_tcp_info_t before, during, after;
	spurious_episode(&p, s, &before, &during);
	sf_tcp_info(p.st, s, &after);
	assert_true(after.cwnd >= before.cwnd);
	assert_int_equal(after.ssthresh, before.ssthresh);
	assert_int_equal(stats(&p).dsacks_rcvd, 1);
	assert_int_equal(stats(&p).spurious_retx, 1);
	assert_int_equal(stats(&p).undos, 1);
	pkt_finish(&p, s);
}

/* A connection with timestamps and SACK (RACK on) and 1000 bytes
 * sent and acknowledged (segments of 1000 bytes); the peer echoes what it
 * is told in p->opt.ts_ecr. */
static sf_sock_t open_ts(pkt_t *p)
{
	sf_config_t c = base_cfg();
	pkt_init(p, &c);
	/* 1012: 1000 bytes of data beside the 12 of the timestamp option */
	sf_tcp_opts_t o = {.has_mss = true, .mss = 1012, .sack_perm = true, .has_ts = true};
	sf_tcp_t synack;
	sf_sock_t s = pkt_open_passive_opt(p, &o, &synack, NULL);
	assert_true(synack.opt.has_ts);
	assert_int_equal(sf_send(p->st, s, pattern, 1000), 1000);
	pkt_poll(p);
	pkt_seg_t *d = pkt_expect(p, "P.", 1, 1, 1000);
	p->opt.ts_ecr = d->tcp.opt.ts_val;
	pkt_advance(p, 100 * MS);
	pkt_in(p, ".", 1, 1001, NULL, 0);
	pkt_expect_none(p);
	return s;
}

/* Four segments leave; every ACK the peer sends for them is lost, so the
 * RTO resends the first. Returns the TSval the originals carried (the
 * last's) and, in *retx_ts, the retransmission's. */
static uint32_t rto_after_lost_acks(pkt_t *p, sf_sock_t s, uint32_t *retx_ts)
{
	assert_int_equal(sf_send(p->st, s, pattern, 4000), 4000);
	pkt_poll(p);
	uint32_t orig_ts = 0;
	for (int k = 0; k < 4; k++)
		orig_ts = pkt_expect(p, k == 3 ? "P." : ".", 1001 + 1000u * (uint32_t)k, 1, 1000)
		                  ->tcp.opt.ts_val;
	pkt_expect_none(p);
	/* The probe (RFC 8985 §7) goes first; its ACK is lost as well. */
	run_until_sent(p);
	pkt_expect(p, "P.", 4001, 1, 1000);
	run_until_sent(p);
	pkt_seg_t *rx = pkt_expect(p, ".", 1001, 1, 1000);
	pkt_expect_none(p);
	*retx_ts = rx->tcp.opt.ts_val;
	assert_int_equal(stats(p).rto_timeouts, 1);
	assert_true(sf_seq_lt(orig_ts, *retx_ts));
	return orig_ts;
}

/* RFC 3522 and RFC 4015: the ACK that finally arrives echoes the
 * originals' timestamp, older than the timeout: the data had arrived and
 * only its ACKs were lost. The timeout is undone: the window from before
 * it is back, and nothing the peer holds is sent again (no go-back-N). */
static void spurious_rto_undone_by_timestamps(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t s = open_ts(&p);
	sf_tcp_info_t before, after;
	sf_tcp_info(p.st, s, &before);
	uint32_t retx_ts, orig_ts = rto_after_lost_acks(&p, s, &retx_ts);
	p.opt.ts_ecr = orig_ts;
	pkt_in(&p, ".", 1, 2001, NULL, 0); /* the first ACK gets through */
	sf_tcp_info(p.st, s, &after);
	assert_int_equal(stats(&p).spurious_rtos, 1);
	assert_int_equal(stats(&p).undos, 1);
	assert_true(after.cwnd >= before.cwnd);
	assert_int_equal(after.ssthresh, before.ssthresh);
	/* [2001, 5001) is not resent: the peer has it. */
	pkt_expect_none(&p);
	pkt_in(&p, ".", 1, 5001, NULL, 0);
	pkt_expect_none(&p);
	sf_tcp_info(p.st, s, &after);
	assert_int_equal(after.retransmits, 2); /* the probe and the RTO's one */
	pkt_finish(&p, s);
}

/* The contrast: the ACK echoes the retransmission's timestamp, so it was
 * the retransmission that filled the hole: a real loss, the timeout's
 * response stands (one segment of window, and [2001, 5001) resent). */
static void real_loss_keeps_rto_response(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t s = open_ts(&p);
	sf_tcp_info_t before, after;
	sf_tcp_info(p.st, s, &before);
	uint32_t retx_ts;
	(void)rto_after_lost_acks(&p, s, &retx_ts);
	p.opt.ts_ecr = retx_ts;
	pkt_in(&p, ".", 1, 2001, NULL, 0);
	sf_tcp_info(p.st, s, &after);
	assert_int_equal(stats(&p).spurious_rtos, 0);
	assert_int_equal(stats(&p).undos, 0);
	assert_true(after.cwnd < before.cwnd);
	pkt_expect(&p, ".", 2001, 1, 1000); /* go-back-N goes on */
	pkt_finish(&p, s);
}

/* An undo says the retransmission was spurious, not that segments were
 * delivered out of order: RFC 8985 §6.2 step 3 sees reordering only when
 * an original (never resent) segment is delivered below RACK.fack, and
 * here the late original was resent first. So the next hole with three
 * segments SACKed above it is lost at once (step 4's DupThresh rule), as
 * Linux does (its DSACK undo leaves reord_seen alone), instead of waiting
 * out a reordering window on every loss from then on. */
static void undo_is_not_reordering(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	sf_sock_t s = open_sack(&p, &c);
	sf_tcp_info_t before, during;
	spurious_episode(&p, s, &before, &during);
	assert_int_equal(stats(&p).undos, 1);
	send_and_wait_rtt(&p, s, 4000);
	sack_three_past(&p, 5001);
	pkt_expect(&p, ".", 5001, 1, 1000);
	assert_int_equal(retx_cause(&p, 1), SF_RETX_RACK);
	pkt_finish(&p, s);
}

/* RFC 3708 §3.2 undoes an episode when its own retransmissions prove
 * spurious. A D-SACK that arrives late, for a retransmission of an earlier
 * episode, says nothing of the current one, whose retransmission repaired
 * a real loss: its response stays (Linux: undo_marker). */
static void dsack_of_earlier_episode_keeps_this_one(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	sf_sock_t s = open_sack(&p, &c);
	/* Episode 1: [1001, 2001) is late and resent; the original arrives
	 * first, and the D-SACK for the resend is lost. */
	int64_t t0 = send_and_wait_rtt(&p, s, 4000);
	sack_three_past(&p, 1001);
	pkt_expect(&p, ".", 1001, 1, 1000);
	p.now = t0 + 105 * MS;
	pkt_in(&p, ".", 1, 5001, NULL, 0);
	pkt_discard(&p);
	/* Episode 2: [5001, 6001) is lost; RACK resends it (the timer: one
	 * segment SACKed) and the resend repairs it. */
	t0 = p.now;
	assert_int_equal(sf_send(p.st, s, pattern, 2000), 2000);
	pkt_poll(&p);
	assert_int_equal(pkt_pending(&p), 2);
	pkt_discard(&p);
	p.now = t0 + 100 * MS;
	sack_in(&p, 5001, (const uint32_t[][2]){{6001, 7001}}, 1);
	run_until_sent(&p);
	pkt_expect(&p, ".", 5001, 1, 1000);
	assert_int_equal(stats(&p).fast_recoveries, 2);
	p.now += 100 * MS;
	pkt_in(&p, ".", 1, 7001, NULL, 0);
	pkt_discard(&p);
	sf_tcp_info_t reduced, after;
	sf_tcp_info(p.st, s, &reduced);
	/* Now the D-SACK of episode 1's resend arrives. */
	sack_in(&p, 7001, (const uint32_t[][2]){{1001, 2001}}, 1);
	pkt_discard(&p);
	sf_tcp_info(p.st, s, &after);
	assert_int_equal(stats(&p).dsacks_rcvd, 1);
	assert_int_equal(stats(&p).undos, 0);
	assert_int_equal(after.cwnd, reduced.cwnd);
	assert_int_equal(after.ssthresh, reduced.ssthresh);
	pkt_finish(&p, s);
}

/* RFC 8985 §6.2 step 4 widens the reordering window on D-SACKs; synfin,
 * as Linux, only once reordering has been seen (step 3). Until then every
 * late segment has arrived after RACK resent it, so the window was never
 * what decided, and a wider one (up to SRTT) would only delay the repair
 * of each real loss. After a D-SACK with no reordering seen, a lone loss
 * (one segment SACKed above it) waits RACK.rtt + min_rtt / 4 (25 ms), not
 * twice that. */
static void dsack_without_reordering_keeps_window(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	sf_sock_t s = open_sack(&p, &c);
	sf_tcp_info_t before, during;
	spurious_episode(&p, s, &before, &during);
	assert_int_equal(stats(&p).undos, 1);
	int64_t t0 = send_and_wait_rtt(&p, s, 2000);
	sack_in(&p, 5001, (const uint32_t[][2]){{6001, 7001}}, 1);
	pkt_expect_none(&p);
	assert_int_equal(run_until_sent(&p), t0 + 125 * MS);
	pkt_expect(&p, ".", 5001, 1, 1000);
	assert_int_equal(stats(&p).reo_wnd_grown, 0);
	pkt_finish(&p, s);
}

/* RACK's segment records are a pool block held while data is in flight
 * (rack.h), and out-of-order ranges beyond eight one held while there are
 * holes (twenty_holes_all_kept), not part of the connection block: a
 * connection slot stays under 1 KiB (the bench's bound for an idle
 * connection, bench/README.md) even with a 4 MiB receive buffer, and a
 * connection sending flight after flight reuses the pool's block instead
 * of allocating. */
static uint64_t slot_bytes(uint32_t conns, uint32_t rcvbuf)
{
	sf_config_t c = base_cfg();
	c.max_conns = conns;
	c.rcvbuf = rcvbuf;
	c.max_timewait = 16;
	sf_stack_t *st;
	assert_int_equal(sf_stack_create(&c, 0, &st), 0);
	sf_stack_stats_t s;
	sf_stack_stats(st, &s);
	sf_stack_destroy(st);
	return s.bytes_allocated;
}

static void records_held_only_while_in_flight(void **state)
{
	(void)state;
	for (uint32_t rcvbuf = 64 * 1024; rcvbuf <= 4 * 1024 * 1024; rcvbuf *= 64) {
		uint64_t per_slot = (slot_bytes(1001, rcvbuf) - slot_bytes(1, rcvbuf)) / 1000;
		assert_true(per_slot < 1024);
	}

	pkt_t p;
	sf_config_t c = base_cfg();
	sf_sock_t s = open_sack(&p, &c);
	uint64_t before = stats(&p).bytes_allocated;
	for (int round = 0; round < 3; round++) {
		uint32_t at = 1001 + (uint32_t)round * 3000;
		send_three(&p, s, at);
		pkt_advance(&p, 100 * MS);
		pkt_in(&p, ".", 1, at + 3000, NULL, 0);
		pkt_expect_none(&p);
	}
	assert_int_equal(stats(&p).bytes_allocated, before);
	pkt_finish(&p, s);
}

/* With no room left in cfg.buf_budget for a record block, the connection
 * goes on without RACK's loss detection: after a tail loss the probe (TLP
 * needs no records) is SACKed, but nothing can tell that [2001, 3001) went
 * before it, so the hole waits for the RTO (RFC 6675: one SACKed segment is
 * under DupThresh) where tail_loss_recovered_by_probe resends it at once;
 * every byte still arrives. The budget holds the 4 KiB send ring alone. */
static void budget_without_records_goes_on_without_rack(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	c.sndbuf = 4096;
	c.buf_budget = 4096;
	sf_sock_t s = open_sack(&p, &c);
	int64_t t0 = send_three_lose_tail(&p, s);
	int64_t at = run_until_sent(&p);
	assert_int_equal(at, t0 + 302 * MS);
	pkt_expect(&p, "P.", 3001, 1, 1000);
	assert_int_equal(retx_cause(&p, 0), SF_RETX_TLP);
	p.now = at + 100 * MS;
	sack_in(&p, 2001, (const uint32_t[][2]){{3001, 4001}}, 1);
	pkt_expect_none(&p);
	at = run_until_sent(&p);
	pkt_expect(&p, ".", 2001, 1, 1000);
	assert_int_equal(retx_cause(&p, 1), SF_RETX_RTO);
	p.now = at + 100 * MS;
	pkt_in(&p, ".", 1, 4001, NULL, 0);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.bytes_acked, 4000);
	pkt_finish(&p, s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(lost_retransmission_detected_without_rto),
	        cmocka_unit_test(three_sacked_lost_at_once_whatever_the_iss),
	        cmocka_unit_test(lost_segment_of_super_segment_detected),
	        cmocka_unit_test(prr_sends_in_proportion_during_recovery),
	        cmocka_unit_test(sacks_in_one_batch_keep_limited_transmit),
	        cmocka_unit_test(tail_loss_recovered_by_probe),
	        cmocka_unit_test(tail_loss_probe_without_sack),
	        cmocka_unit_test(reordering_tolerated_without_spurious_retransmission),
	        cmocka_unit_test(reordering_without_rack_retransmits),
	        cmocka_unit_test(twenty_holes_all_kept),
	        cmocka_unit_test(dsack_reports_duplicate_data),
	        cmocka_unit_test(dsack_undoes_spurious_retransmission),
	        cmocka_unit_test(undo_is_not_reordering),
	        cmocka_unit_test(dsack_of_earlier_episode_keeps_this_one),
	        cmocka_unit_test(dsack_without_reordering_keeps_window),
	        cmocka_unit_test(spurious_rto_undone_by_timestamps),
	        cmocka_unit_test(real_loss_keeps_rto_response),
	        cmocka_unit_test(records_held_only_while_in_flight),
	        cmocka_unit_test(budget_without_records_goes_on_without_rack),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
