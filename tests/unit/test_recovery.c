/* SACK arithmetic (src/core/recovery.c: the scoreboard from SACK blocks,
 * RFC 6675 pipe and next hole) and both congestion controllers
 * (cc_newreno.c, RFC 5681 / RFC 3465; cc_cubic.c, RFC 9438) on a bare
 * connection block, without a stack. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/stack.h"

#define MSS 1000u

static void tcb(sf_tcb_t *t, uint32_t una, uint32_t max)
{
	memset(t, 0, sizeof *t);
	t->snd_mss = MSS;
	t->snd_una = t->high_rxt = una;
	t->snd_max = t->snd_nxt = max;
	sf_ranges_init(&t->sacked, SF_MAX_SACKED);
}

static void sack(sf_tcb_t *t, uint32_t l, uint32_t r)
{
	sf_tcp_opts_t o = {.sack_cnt = 1};
	o.sack[0].left = l;
	o.sack[0].right = r;
	sf_sack_update(t, &o);
}

/* RFC 2018 §5 / RFC 2883: blocks outside (SND.UNA, SND.MAX] are ignored,
 * a block straddling SND.UNA is cut there. */
static void sack_blocks_checked(void **state)
{
	(void)state;
	sf_tcb_t t;
	tcb(&t, 10000, 20000);
	sack(&t, 5000, 9000);   /* D-SACK below SND.UNA */
	sack(&t, 21000, 22000); /* never sent */
	sack(&t, 15000, 14000); /* empty / inverted */
	assert_int_equal(t.sacked.cnt, 0);
	sack(&t, 9000, 11000);
	assert_int_equal(t.sacked.cnt, 1);
	assert_int_equal(t.sacked.r[0].left, 10000);
	assert_int_equal(sf_ranges_bytes_from(&t.sacked, 10000), 1000);
	/* Wrap-around sequence space. */
	tcb(&t, 0xfffff000u, 0x1000);
	sack(&t, 0xfffffc00u, 0x400);
	assert_int_equal(sf_ranges_bytes_from(&t.sacked, t.snd_una), 0x800);
}

/* RFC 6675 §4 SetPipe as recovery.c simplifies it: outstanding, less what
 * is SACKed, less the holes below the highest SACK not retransmitted. */
static void pipe_estimate(void **state)
{
	(void)state;
	sf_tcb_t t;
	tcb(&t, 0, 10000);
	assert_int_equal(sf_pipe(&t), 10000); /* no SACK: all in flight */
	sack(&t, 3000, 4000);
	/* [0, 3000) taken as lost, [3000, 4000) held: 6000 left in flight. */
	assert_int_equal(sf_pipe(&t), 6000);
	t.high_rxt = 1000; /* [0, 1000) retransmitted: in flight again */
	assert_int_equal(sf_pipe(&t), 7000);
	sack(&t, 6000, 8000);
	/* Lost now [1000, 3000) and [4000, 6000); held 3000. */
	assert_int_equal(sf_pipe(&t), 10000 - 3000 - 4000);
}

/* RFC 6675 §4 NextSeg rule 1: the first byte neither SACKed nor
 * retransmitted, below the highest SACK; the hole ends at the next SACK. */
static void next_hole(void **state)
{
	(void)state;
	sf_tcb_t t;
	tcb(&t, 0, 10000);
	uint32_t seq, len;
	assert_false(sf_next_hole(&t, &seq, &len));
	sack(&t, 3000, 4000);
	sack(&t, 6000, 7000);
	assert_true(sf_next_hole(&t, &seq, &len));
	assert_int_equal(seq, 0);
	assert_int_equal(len, 3000);
	t.high_rxt = 3500; /* inside a SACKed range: skip past it */
	assert_true(sf_next_hole(&t, &seq, &len));
	assert_int_equal(seq, 4000);
	assert_int_equal(len, 2000);
	t.high_rxt = 7000; /* nothing below the highest SACK is left */
	assert_false(sf_next_hole(&t, &seq, &len));
}

/* ---- congestion control ---- */

static void newreno_slow_start_and_avoidance(void **state)
{
	(void)state;
	const sf_cc_ops_t *cc = sf_cc_ops(SF_CC_NEWRENO);
	sf_tcb_t t;
	tcb(&t, 0, 0);
	t.cwnd = 10 * MSS;
	t.ssthresh = UINT32_MAX;
	cc->init(&t, 0);
	/* RFC 3465 with L = 2 SMSS: a stretch ACK adds two SMSS at most. */
	cc->on_ack(&t, 3 * MSS, 0);
	assert_int_equal(t.cwnd, 12 * MSS);
	cc->on_ack(&t, 100, 0);
	assert_int_equal(t.cwnd, 12 * MSS + 100);
	/* RFC 3465 §2.3: L = 1 SMSS going back after a timeout (SND.UNA
	 * below the recovery point, no fast recovery). */
	t.recover = t.snd_una + 10 * MSS;
	cc->on_ack(&t, 3 * MSS, 0);
	assert_int_equal(t.cwnd, 13 * MSS + 100);
	t.recover = t.snd_una;
	/* Congestion avoidance: about one SMSS per window acknowledged. */
	t.cwnd = 20 * MSS;
	t.ssthresh = 10 * MSS;
	for (int i = 0; i < 20; i++)
		cc->on_ack(&t, MSS, 0);
	assert_true(t.cwnd >= 20 * MSS + 900 && t.cwnd <= 21 * MSS);
	/* RFC 5681 (4): ssthresh = max(FlightSize / 2, 2 SMSS). */
	tcb(&t, 0, 30 * MSS);
	cc->on_loss(&t, 0);
	assert_int_equal(t.ssthresh, 15 * MSS);
	tcb(&t, 0, 3 * MSS);
	cc->on_timeout(&t, 0);
	assert_int_equal(t.ssthresh, 2 * MSS);
}

/* One window of MSS-sized ACKs per RTT for `secs` seconds. */
static void run_rtts(const sf_cc_ops_t *cc, sf_tcb_t *t, int64_t *now, int64_t rtt_us, int n)
{
	for (int r = 0; r < n; r++) {
		uint32_t segs = t->cwnd / MSS;
		for (uint32_t i = 0; i < segs; i++)
			cc->on_ack(t, MSS, *now + (int64_t)i * rtt_us / segs);
		*now += rtt_us;
	}
}

/* RFC 9438: beta 0.7, K = cbrt(W_max (1 - beta) / C), concave up to W_max
 * by K, convex beyond it. */
static void cubic_window_curve(void **state)
{
	(void)state;
	const sf_cc_ops_t *cc = sf_cc_ops(SF_CC_CUBIC);
	sf_tcb_t t;
	tcb(&t, 0, 100 * MSS);
	t.cwnd = 100 * MSS;
	t.ssthresh = UINT32_MAX;
	t.srtt_us = 100000;
	cc->init(&t, 0);
	int64_t now = 1000000;
	cc->on_loss(&t, now);
	assert_int_equal(t.ssthresh, 70 * MSS); /* §4.6 */
	assert_int_equal(t.cubic.w_max, 100 * MSS);
	t.cwnd = t.ssthresh;
	run_rtts(cc, &t, &now, 100000, 1);
	/* K = cbrt(100 * 0.3 / 0.4) s = 4.217 s. */
	assert_true(t.cubic.k_ms >= 4210 && t.cubic.k_ms <= 4222);
	/* At 2 s: W = 0.4 (2 - 4.217)^3 + 100 = 95.6 segments. */
	run_rtts(cc, &t, &now, 100000, 19);
	assert_true(t.cwnd >= 90 * MSS && t.cwnd <= 100 * MSS);
	/* Near K: close to W_max, not far past it. */
	run_rtts(cc, &t, &now, 100000, 22);
	assert_true(t.cwnd >= 97 * MSS && t.cwnd <= 103 * MSS);
	/* At 7 s, convex: W = 0.4 (7 - 4.217)^3 + 100 = 108.6. */
	run_rtts(cc, &t, &now, 100000, 28);
	assert_true(t.cwnd >= 104 * MSS && t.cwnd <= 115 * MSS);
}

/* RFC 9438 §4.7 fast convergence: a loss below the last maximum aims
 * lower, W_max = cwnd (1 + beta) / 2. Like Linux (bictcp_recalc_ssthresh)
 * synfin keeps that reduced value as the maximum the next loss compares
 * against, where the RFC's pseudo-code keeps the unreduced cwnd. */
static void cubic_fast_convergence(void **state)
{
	(void)state;
	const sf_cc_ops_t *cc = sf_cc_ops(SF_CC_CUBIC);
	sf_tcb_t t;
	tcb(&t, 0, 0);
	t.cwnd = 100 * MSS;
	cc->init(&t, 0);
	cc->on_loss(&t, 0);
	assert_int_equal(t.cubic.w_last_max, 100 * MSS);
	assert_int_equal(t.cubic.w_max, 100 * MSS);
	t.cwnd = 80 * MSS;
	cc->on_loss(&t, 0);
	assert_int_equal(t.cubic.w_max, 68 * MSS);
	assert_int_equal(t.cubic.w_last_max, 68 * MSS);
	assert_int_equal(t.ssthresh, 56 * MSS);
	/* A loss at or above the last maximum: no reduction of W_max. */
	t.cwnd = 70 * MSS;
	cc->on_loss(&t, 0);
	assert_int_equal(t.cubic.w_max, 70 * MSS);
}

/* §4.3: with a short RTT the Reno-friendly estimate grows faster than the
 * cubic curve near W_max, and cwnd follows it. */
static void cubic_reno_friendly(void **state)
{
	(void)state;
	const sf_cc_ops_t *cc = sf_cc_ops(SF_CC_CUBIC);
	sf_tcb_t t;
	tcb(&t, 0, 0);
	t.cwnd = 100 * MSS;
	t.srtt_us = 1000;
	cc->init(&t, 0);
	int64_t now = 1000000;
	cc->on_loss(&t, now);
	t.cwnd = t.ssthresh;
	/* 1 ms RTTs: after 400 RTTs (0.4 s) the cubic curve has grown by a
	 * few segments; Reno-friendly alpha = 0.53 per RTT gives ~200. */
	run_rtts(cc, &t, &now, 1000, 400);
	assert_true(t.cwnd >= 150 * MSS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(sack_blocks_checked),
	        cmocka_unit_test(pipe_estimate),
	        cmocka_unit_test(next_hole),
	        cmocka_unit_test(newreno_slow_start_and_avoidance),
	        cmocka_unit_test(cubic_window_curve),
	        cmocka_unit_test(cubic_fast_convergence),
	        cmocka_unit_test(cubic_reno_friendly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
