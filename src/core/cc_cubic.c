/* CUBIC congestion control (RFC 9438).
 *
 * After a loss the window follows W_cubic(t) = C (t - K)^3 + W_max, with
 * C = 0.4 and beta = 0.7, so it regrows fast far from the last loss and
 * slowly near it; where Reno would be faster (short RTTs), the Reno-friendly
 * estimate W_est wins (§4.3). Slow start is shared (sf_cc_slow_start). Windows
 * are in bytes here; the RFC's formulas in segments are scaled by SMSS.
 * Fixed-point arithmetic only: no libm, no floating point in the core.
 */
#include "core/stack.h"

#define BETA_NUM 7 /* beta_cubic = 0.7 (§4.6) */
#define BETA_DEN 10

/* Integer cube root of x (floor), by Newton's method. */
static uint64_t icbrt(uint64_t x)
{
	if (x == 0)
		return 0;
	uint64_t r = 1;
	while (r * r * r <= x && r < 2642245) /* 2642245^3 < 2^64 */
		r <<= 1;
	for (int i = 0; i < 64; i++) {
		uint64_t nr = (2 * r + x / (r * r)) / 3;
		if (nr >= r)
			break;
		r = nr;
	}
	while (r * r * r > x)
		r--;
	while ((r + 1) * (r + 1) * (r + 1) <= x)
		r++;
	return r;
}

static void cubic_init(sf_tcb_t *t, int64_t now_us)
{
	(void)now_us;
	t->cubic.w_max = t->cubic.w_last_max = 0;
	t->cubic.epoch_us = 0;
}

/* K = cbrt(W_max (1 - beta) / C) seconds (§4.2), W_max in segments.
 * In milliseconds: K_ms = cbrt(W_max_seg * 0.3 / 0.4 * 1e9). */
static uint32_t compute_k_ms(const sf_tcb_t *t)
{
	uint64_t w_seg_x1000 = (uint64_t)t->cubic.w_max * 1000 / t->snd_mss;
	uint64_t arg = w_seg_x1000 * 3 / 4 * 1000000; /* (W*0.75) * 1e9 / 1000 */
	return (uint32_t)icbrt(arg);
}

static void cubic_on_ack(sf_tcb_t *t, uint32_t acked, int64_t now_us)
{
	if (t->cwnd < t->ssthresh) {
		sf_cc_slow_start(t, acked);
		return;
	}
	if (t->cubic.epoch_us == 0) {
		/* A new epoch (§4.2): after a loss, or first avoidance phase. */
		t->cubic.epoch_us = now_us;
		if (t->cubic.w_max <= t->cwnd) {
			t->cubic.w_max = t->cwnd;
			t->cubic.k_ms = 0;
		} else {
			t->cubic.k_ms = compute_k_ms(t);
		}
		t->cubic.w_est = t->cwnd;
	}
	uint32_t mss = t->snd_mss;
	uint64_t rtt_us = t->srtt_us > 0 ? (uint64_t)t->srtt_us : 100000;
	/* W_cubic(t + RTT) (§4.2 target), in bytes. */
	int64_t tms = (now_us - t->cubic.epoch_us + (int64_t)rtt_us) / 1000;
	int64_t d = tms - (int64_t)t->cubic.k_ms; /* ms */
	/* C (d/1000)^3 segments = 0.4 d^3 / 1e9 segments. */
	if (d > 2000000)
		d = 2000000; /* |d| <= 2e6 ms keeps d^3 inside int64 */
	if (d < -2000000)
		d = -2000000;
	int64_t d3 = d * d * d;
	int64_t delta_bytes = d3 / 1000000 * 4 / 10 * (int64_t)mss / 1000;
	int64_t target = (int64_t)t->cubic.w_max + delta_bytes;
	if (target < (int64_t)t->cwnd)
		target = t->cwnd;
	if (target > (int64_t)t->cwnd * 3 / 2)
		target = (int64_t)t->cwnd * 3 / 2;
	/* Reno-friendly region (§4.3): W_est grows by alpha per cwnd acked,
	 * alpha = 3 (1 - beta) / (1 + beta) = 0.9 / 1.7. */
	t->cubic.w_est += (uint32_t)((uint64_t)acked * mss * 9 / 17 / t->cwnd);
	if (t->cubic.w_est > (uint32_t)target) {
		uint32_t inc = (uint32_t)((uint64_t)mss * acked / t->cwnd);
		t->cwnd =
		        t->cubic.w_est > t->cwnd + inc ? t->cwnd + (inc ? inc : 1) : t->cubic.w_est;
		return;
	}
	/* Concave/convex region: cwnd += (target - cwnd) / cwnd per SMSS acked. */
	uint64_t inc = (uint64_t)((uint64_t)target - t->cwnd) * acked / t->cwnd;
	t->cwnd += (uint32_t)(inc ? inc : 1);
}

static void cubic_on_loss(sf_tcb_t *t, int64_t now_us)
{
	(void)now_us;
	uint32_t cwnd = t->cwnd;
	/* Fast convergence (§4.7): release bandwidth to newer flows. */
	if (cwnd < t->cubic.w_last_max)
		t->cubic.w_last_max =
		        (uint32_t)((uint64_t)cwnd * (BETA_DEN + BETA_NUM) / (2 * BETA_DEN));
	else
		t->cubic.w_last_max = cwnd;
	t->cubic.w_max = t->cubic.w_last_max;
	uint32_t ss = (uint32_t)((uint64_t)cwnd * BETA_NUM / BETA_DEN); /* §4.6 */
	t->ssthresh = ss > 2u * t->snd_mss ? ss : 2u * t->snd_mss;
	t->cubic.epoch_us = 0;
}

static void cubic_on_timeout(sf_tcb_t *t, int64_t now_us)
{
	cubic_on_loss(t, now_us);
}

const sf_cc_ops_t sf_cc_cubic = {
        .name = "cubic",
        .init = cubic_init,
        .on_ack = cubic_on_ack,
        .on_loss = cubic_on_loss,
        .on_timeout = cubic_on_timeout,
};
