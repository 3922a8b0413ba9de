/* A trace sink for two simulated stacks that checks the send window: every
 * data segment a side sends must end at or before the right edge
 * (ACK + scaled window) that the other side has advertised so far (RFC 9293
 * §3.8.6: the sender never sends beyond the window; MUST-34 on the sender).
 * The largest edge ever sent by the peer bounds what the sender can have
 * received, so the check needs no knowledge of losses. It also counts
 * zero-window advertisements and RTO firings per side, and forwards every
 * event to an optional next sink.
 *
 *   wincheck_t wc = {0};
 *   wincheck_attach(&wc, &sp);   // before simpair_init: sets sp.sink[0..1]
 *   ... run ...
 *   assert_int_equal(wc.violations, 0);
 */
#ifndef SF_TEST_WINCHECK_H
#define SF_TEST_WINCHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "simpair.h"

typedef struct wincheck {
	/* per side: what that side sent */
	bool have_iss[2], have_edge[2];
	uint32_t iss[2];
	uint8_t wscale[2];     /* the shift that side announced in its SYN */
	bool ws_offered[2];    /* it offered window scaling */
	uint32_t edge[2];      /* highest right edge it advertised */
	uint64_t zero_wnd[2];  /* non-SYN segments it sent with window 0 */
	uint64_t data_segs[2]; /* data segments it sent */
	uint64_t rtos[2];      /* its retransmission timer fired */
	uint64_t persist[2];   /* its zero-window probe timer fired */
	uint64_t violations;   /* data sent beyond the peer's advertised edge */
	uint32_t worst_excess; /* bytes beyond, the largest seen */
	/* the first violation: sending side, time, segment (relative to that
	 * side's ISS) and the peer's edge then */
	int first_side;
	int64_t first_us;
	uint32_t first_seq, first_len, first_edge;
	sf_trace_sink_t next[2];
} wincheck_t;

/* Installs the sinks into sp->sink[] (call before simpair_init). Sinks
 * already in sp->sink[] are kept as `next`. */
void wincheck_attach(wincheck_t *wc, simpair_t *sp);

#endif
