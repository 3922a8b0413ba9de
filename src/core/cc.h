/* Congestion control behind a small interface, one file per algorithm.
 *
 * The engine owns the loss-recovery mechanics (fast retransmit, NewReno
 * partial ACKs, the SACK scoreboard, timeouts: src/core/recovery.c); an
 * algorithm only decides how cwnd grows on new ACKs and where ssthresh
 * goes when a loss is detected. Units are bytes; time is the stack clock.
 */
#ifndef SF_CORE_CC_H
#define SF_CORE_CC_H

#include <stdint.h>

struct sf_tcb;

typedef struct sf_cc_ops {
	const char *name;
	/* A new connection (or a restart after idle) with cwnd already set. */
	void (*init)(struct sf_tcb *t, int64_t now_us);
	/* `acked` bytes of new data acknowledged outside loss recovery. */
	void (*on_ack)(struct sf_tcb *t, uint32_t acked, int64_t now_us);
	/* A loss was detected (third duplicate ACK or SACK): set ssthresh. */
	void (*on_loss)(struct sf_tcb *t, int64_t now_us);
	/* The retransmission timer expired: set ssthresh (cwnd is set to the
	 * loss window by the caller, RFC 5681 (4)). */
	void (*on_timeout)(struct sf_tcb *t, int64_t now_us);
} sf_cc_ops_t;

extern const sf_cc_ops_t sf_cc_newreno;
extern const sf_cc_ops_t sf_cc_cubic;

/* The algorithm for an SF_CC_* value (unknown values: CUBIC). */
const sf_cc_ops_t *sf_cc_ops(int algo);

/* RFC 5681 (4): ssthresh = max(FlightSize / 2, 2 * SMSS). */
uint32_t sf_cc_half_flight(const struct sf_tcb *t);
/* Slow start on an ACK of `acked` new bytes, for every algorithm. */
void sf_cc_slow_start(struct sf_tcb *t, uint32_t acked);

#endif
