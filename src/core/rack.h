/* RACK-TLP loss detection (RFC 8985) and D-SACK use (RFC 2883, RFC 3708).
 *
 * RACK decides that a segment is lost by time, not by counting: once a
 * segment sent later than it has been delivered (cumulatively ACKed or
 * SACKed) and a reordering window has passed, it is lost. That finds lost
 * retransmissions and losses with too few duplicate ACKs, which the
 * DupThresh rule (RFC 5681, RFC 6675) leaves to the retransmission timer.
 * TLP sends one probe when an ACK is overdue, so a loss at the tail of a
 * flight is reported by the peer (SACK or cumulative ACK) instead of waiting
 * for the RTO.
 *
 * The state lives in the connection block (sf_tcb_t.rack), but for its
 * bounded array of transmission records, one per segment sent, ordered by
 * sequence: a 1 KiB block from the stack's buffer pool (bufpool.c), taken
 * when a segment leaves with nothing in flight and put back when the last
 * record is acknowledged, so an idle connection holds none. When the array
 * is full the two oldest adjacent records merge (keeping the later send
 * time, which can only delay a loss verdict, never bring one early: the RTO
 * still covers them). When cfg.buf_budget leaves no room for a block, the
 * connection goes on without RACK (RFC 6675 or NewReno recovery, the RTO).
 *
 * Hooks: output.c reports every data segment sent (sf_rack_on_send);
 * recovery.c hands each ACK over (sf_rack_on_ack) and asks for the lost
 * segments to resend (sf_rack_next_lost) and the pipe (sf_rack_pipe); the
 * timer code fires the reordering timer and the probe timeout.
 */
#ifndef SF_CORE_RACK_H
#define SF_CORE_RACK_H

#include <stdbool.h>
#include <stdint.h>

#include "synfin/wire.h"

struct sf_tcb;
struct sf_stack;

/* SF_NO_RACK (firmware build option, docs/PORTING.md): no RACK-TLP and no
 * use of received D-SACKs. Loss recovery is then RFC 6675's (SACK) or
 * NewReno's (RFC 6582) on duplicate ACKs, and the RTO; no probe is sent.
 * The hooks below become empty inline stubs, the TCB carries no sf_rack_t
 * (about 100 bytes less per connection, and no 1 KiB record block per
 * connection with data in flight), F_RACK is 0, and cfg.rack is false by
 * default and refused (SF_ENOTSUP) when set. D-SACKs are still sent. */
#ifndef SF_NO_RACK
#define SF_HAVE_RACK 1
#define SF_RACK_BIT  (1u << 25) /* F_RACK (stack.h) */

#define SF_RACK_SEGS 64 /* transmission records per connection */

/* Record flags. */
enum {
	RS_RETX = 1u << 0,      /* retransmitted at least once */
	RS_LOST = 1u << 1,      /* marked lost and not yet resent */
	RS_DELIVERED = 1u << 2, /* SACKed (cumulatively ACKed records are gone) */
	RS_MERGED = 1u << 3,    /* two or more segments (rs_make_room) */
};

typedef struct sf_rseg {
	uint32_t start, end; /* [start, end) in sequence space, a FIN included */
	uint32_t xmit;       /* last send time: stack microseconds, low 32 bits */
	uint32_t flags;
} sf_rseg_t;

/* Connection flags of RACK (sf_rack_t.flags). */
enum {
	RK_VALID = 1u << 0,     /* xmit/end_seq name a delivered segment */
	RK_REORD = 1u << 1,     /* the peer has been seen to reorder */
	RK_DSACK_RND = 1u << 2, /* dsack_round holds a value */
	RK_TLP_OUT = 1u << 3,   /* a probe is outstanding (tlp_end_seq valid) */
	RK_TLP_RETX = 1u << 4,  /* ... and it was a retransmission */
	RK_UNDO = 1u << 5,      /* a loss episode whose retransmissions may prove spurious */
	RK_TLP_SCHED = 1u << 6, /* tlp_una holds SND.UNA when the PTO was last armed */
	RK_FACK = 1u << 7,      /* fack holds a value (a segment has been delivered) */
	RK_RTO = 1u << 8,       /* the episode began with a timeout: Eifel may undo it */
};

typedef struct sf_rack {
	uint32_t xmit, end_seq;    /* RACK.xmit_ts, RACK.end_seq (RFC 8985 §6.1) */
	uint32_t fack;             /* highest end of a delivered segment (RACK.fack) */
	uint32_t rtt_us;           /* RACK.rtt: of the most recently delivered segment */
	uint32_t min_rtt_us;       /* lowest unambiguous RTT seen; 0 when none */
	uint32_t dsack_round;      /* RACK.dsack_round */
	uint32_t tlp_end_seq;      /* TLP.end_seq (RFC 8985 §7.1) */
	uint32_t tlp_una, tlp_max; /* SND.UNA and SND.MAX when the PTO was last armed */
	uint32_t undo_retrans;     /* retransmissions of this episode not shown spurious */
	uint32_t undo_marker;      /* SND.UNA when the episode began */
	uint32_t prior_cwnd, prior_ssthresh; /* before the episode (undo) */
	uint8_t reo_wnd_mult, reo_wnd_persist;
	uint16_t flags;
	uint8_t cnt;
	sf_rseg_t *seg; /* SF_RACK_SEGS records while cnt > 0 (a pool block); else NULL */
} sf_rack_t;

/* A data segment [seq, seq + len) left (len counts a FIN); `cause` is the
 * SF_RETX_* reason for a retransmission, SF_RETX_NONE for new data. */
void sf_rack_on_send(struct sf_stack *st, struct sf_tcb *t, uint32_t seq, uint32_t len,
                     uint8_t cause);
/* An acceptable ACK was processed: SND.UNA and the SACK scoreboard are up
 * to date. Takes D-SACK news, delivers records, ends a TLP episode, runs
 * RACK loss detection and arms the reordering timer. Returns true when a
 * segment was newly marked lost. `acked`: bytes SND.UNA moved. */
bool sf_rack_on_ack(struct sf_stack *st, struct sf_tcb *t, uint32_t acked,
                    const sf_tcp_opts_t *opt);
/* The reordering timer fired: detect again. True when something is lost. */
bool sf_rack_reo_timeout(struct sf_stack *st, struct sf_tcb *t);
/* A probe may be sent now (the timer code traces the timer only then). */
bool sf_rack_tlp_ready(const struct sf_tcb *t);
/* The probe timeout fired (RFC 8985 §7.3): new data or the last segment. */
void sf_rack_tlp_timeout(struct sf_stack *st, struct sf_tcb *t);
/* After an output pass: arm, re-arm or cancel the probe timeout (§7.2). */
void sf_rack_schedule_tlp(struct sf_stack *st, struct sf_tcb *t);
/* The RTO fired: marks are void (everything is resent from SND.UNA), a
 * probe is no longer outstanding; the episode may still be undone. */
void sf_rack_on_timeout(struct sf_stack *st, struct sf_tcb *t);
/* A loss episode begins (fast recovery, or an RTO: rto): remember cwnd
 * for undo. */
void sf_rack_episode_begin(struct sf_tcb *t, bool rto);
/* The first ACK that moves SND.UNA after a timeout (RFC 3522, Eifel
 * detection): when it echoes a timestamp older than the timeout, what it
 * acknowledges was sent before it, so the timeout was spurious; undoes its
 * congestion response and resumes with new data (RFC 4015). True if so. */
bool sf_rack_eifel(struct sf_stack *st, struct sf_tcb *t, const sf_tcp_opts_t *opt);
/* Fast recovery ended (RFC 8985 §6.2 step 4: reo_wnd_persist). */
void sf_rack_recovery_end(struct sf_tcb *t);
/* The connection is freed: its record block goes back to the pool. */
void sf_rack_release(struct sf_stack *st, struct sf_tcb *t);
/* Bytes in flight: records neither delivered nor marked lost (RFC 6675
 * pipe, as RACK's marks define lost). */
uint32_t sf_rack_pipe(const struct sf_tcb *t);
/* The first segment marked lost and not yet resent: its undelivered bytes
 * from *seq, *len of them. False when none. */
bool sf_rack_next_lost(const struct sf_tcb *t, uint32_t *seq, uint32_t *len);

#else /* SF_NO_RACK: what the callers see of a RACK that never runs */
#define SF_HAVE_RACK 0
#define SF_RACK_BIT  0u /* F_RACK is never set: its branches fold away */

static inline void sf_rack_on_send(struct sf_stack *st, struct sf_tcb *t, uint32_t seq,
                                   uint32_t len, uint8_t cause)
{
	(void)st, (void)t, (void)seq, (void)len, (void)cause;
}
static inline bool sf_rack_on_ack(struct sf_stack *st, struct sf_tcb *t, uint32_t acked,
                                  const sf_tcp_opts_t *opt)
{
	(void)st, (void)t, (void)acked, (void)opt;
	return false;
}
static inline bool sf_rack_reo_timeout(struct sf_stack *st, struct sf_tcb *t)
{
	(void)st, (void)t;
	return false;
}
static inline bool sf_rack_tlp_ready(const struct sf_tcb *t)
{
	(void)t;
	return false;
}
static inline void sf_rack_tlp_timeout(struct sf_stack *st, struct sf_tcb *t)
{
	(void)st, (void)t;
}
static inline void sf_rack_schedule_tlp(struct sf_stack *st, struct sf_tcb *t)
{
	(void)st, (void)t;
}
static inline void sf_rack_on_timeout(struct sf_stack *st, struct sf_tcb *t)
{
	(void)st, (void)t;
}
static inline void sf_rack_episode_begin(struct sf_tcb *t, bool rto)
{
	(void)t, (void)rto;
}
static inline bool sf_rack_eifel(struct sf_stack *st, struct sf_tcb *t, const sf_tcp_opts_t *opt)
{
	(void)st, (void)t, (void)opt;
	return false;
}
static inline void sf_rack_release(struct sf_stack *st, struct sf_tcb *t)
{
	(void)st, (void)t;
}
static inline void sf_rack_recovery_end(struct sf_tcb *t)
{
	(void)t;
}
static inline uint32_t sf_rack_pipe(const struct sf_tcb *t)
{
	(void)t;
	return 0;
}
static inline bool sf_rack_next_lost(const struct sf_tcb *t, uint32_t *seq, uint32_t *len)
{
	(void)t, (void)seq, (void)len;
	return false;
}

#endif /* SF_NO_RACK */

#endif
