/* NewReno congestion control: slow start and congestion avoidance per
 * RFC 5681 §3.1 (with appropriate byte counting, L = 2 SMSS, RFC 3465);
 * the NewReno recovery itself (partial ACKs, RFC 6582) is in recovery.c. */
#include "core/stack.h"

uint32_t sf_cc_half_flight(const sf_tcb_t *t)
{
	uint32_t half = (t->snd_max - t->snd_una) / 2;
	return half > 2u * t->snd_mss ? half : 2u * t->snd_mss;
}

/* RFC 3465 §2.2-2.3 (appropriate byte counting): cwnd grows by the bytes
 * acknowledged, at most L = 2*SMSS per ACK, so a receiver that ACKs
 * every second segment (RFC 5681 §4.2; Linux does, and coalesces more)
 * still doubles cwnd each round trip, where L = 1*SMSS (RFC 5681's
 * recommendation) gives 1.5x. L is 1*SMSS while going back over data
 * after a timeout (SND.UNA below the recovery point with no fast recovery
 * running), as §2.3 asks: those ACKs may cover segments that were not
 * lost and arrive together. */
void sf_cc_slow_start(sf_tcb_t *t, uint32_t acked)
{
	uint32_t l = 2u * t->snd_mss;
	if (sf_seq_lt(t->snd_una, t->recover) && !(t->flags & F_IN_RECOVERY))
		l = t->snd_mss;
	uint32_t inc = acked < l ? acked : l;
	/* RFC 9406 §4.2: Conservative Slow Start grows by a quarter. */
	if (sf_hystart_css(t))
		inc = inc / 4 ? inc / 4 : 1;
	t->cwnd += inc;
}

static void reno_init(sf_tcb_t *t, int64_t now_us)
{
	(void)t;
	(void)now_us;
}

static void reno_on_ack(sf_tcb_t *t, uint32_t acked, int64_t now_us)
{
	(void)now_us;
	if (t->cwnd < t->ssthresh) {
		sf_cc_slow_start(t, acked);
		return;
	}
	/* RFC 5681 (3): about one SMSS per round trip. */
	uint32_t inc = (uint32_t)((uint64_t)t->snd_mss * t->snd_mss / t->cwnd);
	t->cwnd += inc ? inc : 1;
}

static void reno_on_loss(sf_tcb_t *t, int64_t now_us)
{
	(void)now_us;
	t->ssthresh = sf_cc_half_flight(t);
}

const sf_cc_ops_t sf_cc_newreno = {
        .name = "newreno",
        .init = reno_init,
        .on_ack = reno_on_ack,
        .on_loss = reno_on_loss,
        .on_timeout = reno_on_loss,
};

/* A core built with SF_NO_CUBIC (small firmware) has NewReno only: every
 * connection uses it, whatever the config or socket option asks for. */
const sf_cc_ops_t *sf_cc_ops(int algo)
{
#ifdef SF_NO_CUBIC
	(void)algo;
	return &sf_cc_newreno;
#else
	return algo == SF_CC_NEWRENO ? &sf_cc_newreno : &sf_cc_cubic;
#endif
}
