/* HyStart++ (RFC 9406): leaving the initial slow start on rising delay.
 *
 * Slow start doubles cwnd every round trip until a loss. Behind a drop-tail
 * queue that means the last round sends twice what the path holds and
 * loses up to half of it: over the loss benchmark's relay (a 500-frame
 * queue) synfin lost ~1,300 segments of each 20 MB transfer that way, the
 * kernel (which leaves slow start early, HyStart) 0-70. HyStart++ watches
 * the smallest RTT of each round: when it has risen by RttThresh over the
 * last round's, the queue is building, and slow start becomes Conservative
 * Slow Start (CSS: a quarter of the growth) for CSS_ROUNDS rounds before
 * congestion avoidance. A CSS round whose smallest RTT falls below the one
 * that triggered it was a false alarm: slow start resumes.
 *
 * Only the initial slow start (ssthresh still "infinite", RFC 9406 §4.3
 * SHOULD); a loss, an RTO or an ECN response sets ssthresh and ends it.
 * Rounds: a round ends when SND.UNA reaches the SND.MAX of its start
 * (windowEnd, §4.2). RTT samples are RFC 6298's (sf_rtt_sample: timestamps,
 * else a timed segment). Growth L is the shared slow start's (RFC 3465,
 * cc_newreno.c); RFC 9406 §4.3's L = 8 for unpaced senders is a bound a
 * L = 2 sender already keeps. */
#include "core/stack.h"

#if SF_HAVE_HYSTART

/* RFC 9406 §4.3, the recommended constants. */
#define MIN_RTT_THRESH_US 4000
#define MAX_RTT_THRESH_US 16000
#define MIN_RTT_DIVISOR   8
#define N_RTT_SAMPLE      8
#define CSS_ROUNDS        5
#define NO_RTT            UINT32_MAX

static bool active(const sf_stack_t *st, const sf_tcb_t *t)
{
	return st->cfg.hystart && t->ssthresh == UINT32_MAX && !(t->flags & F_IN_RECOVERY);
}

void sf_hystart_init(sf_tcb_t *t)
{
	t->hs.window_end = t->snd_max;
	t->hs.last_min_us = t->hs.cur_min_us = t->hs.css_base_us = NO_RTT;
	t->hs.samples = 0;
	t->hs.css_rounds = 0;
}

void sf_hystart_rtt(sf_stack_t *st, sf_tcb_t *t, uint32_t rtt_us)
{
	if (!active(st, t))
		return;
	sf_hystart_t *h = &t->hs;
	if (rtt_us < h->cur_min_us)
		h->cur_min_us = rtt_us;
	if (h->samples < UINT8_MAX)
		h->samples++;
	if (h->samples < N_RTT_SAMPLE || h->cur_min_us == NO_RTT)
		return;
	if (h->css_rounds) {
		/* The delay rise was not a queue after all: slow start again. */
		if (h->cur_min_us < h->css_base_us) {
			h->css_base_us = NO_RTT;
			h->css_rounds = 0;
			st->stats.hystart_resumes++;
		}
		return;
	}
	if (h->last_min_us == NO_RTT)
		return;
	uint32_t thresh = h->last_min_us / MIN_RTT_DIVISOR;
	if (thresh > MAX_RTT_THRESH_US)
		thresh = MAX_RTT_THRESH_US;
	if (thresh < MIN_RTT_THRESH_US)
		thresh = MIN_RTT_THRESH_US;
	if (h->cur_min_us >= h->last_min_us + thresh) {
		h->css_base_us = h->cur_min_us;
		h->css_rounds = 1; /* this partial round counts (§4.2) */
		st->stats.hystart_css++;
	}
}

void sf_hystart_on_ack(sf_stack_t *st, sf_tcb_t *t)
{
	if (!active(st, t))
		return;
	sf_hystart_t *h = &t->hs;
	if (sf_seq_lt(t->snd_una, h->window_end))
		return;
	/* A round ended. */
	if (h->css_rounds && ++h->css_rounds > CSS_ROUNDS) {
		t->ssthresh = t->cwnd; /* congestion avoidance from here */
		st->stats.hystart_exits++;
		return;
	}
	h->last_min_us = h->cur_min_us;
	h->cur_min_us = NO_RTT;
	h->samples = 0;
	h->window_end = t->snd_max;
}

#endif
