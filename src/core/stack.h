/* Internal structures of the synfin engine: the stack, the connection block
 * (TCB) with RFC 9293 §3.3.1 variable names, and the compact TIME-WAIT
 * record. Shared by the files of src/core and src/api; never installed.
 */
#ifndef SF_CORE_STACK_H
#define SF_CORE_STACK_H

#include "base/alloc.h"
#include "core/cc.h"
#include "core/rack.h"
#include "core/ranges.h"
#include "core/ring.h"
#include "core/siphash.h"
#include "core/wheel.h"
#include "synfin/synfin.h"

#define SF_NIL        UINT32_MAX /* "no index" in intrusive index links */
#define SF_MAX_OOO    8          /* out-of-order ranges per connection, at least */
#define SF_MAX_SACKED 6          /* SACKed ranges remembered per connection */
#define SF_FRAME_MAX  65535

/* Firmware build options (docs/PORTING.md, "Build options") that take a
 * connection flag away: the flag is 0, so every test of it folds away.
 * SF_NO_KEEPALIVE: no keepalives (RFC 9293 §3.8.4 makes them optional);
 * SF_SO_KEEPALIVE on is refused (SF_ENOTSUP). SF_NO_DSACK: duplicate data
 * is not reported in D-SACK blocks (RFC 2883); SACK itself is unchanged. */
#ifdef SF_NO_KEEPALIVE
#define SF_HAVE_KEEPALIVE 0
#define SF_KA_BIT         0u
#else
#define SF_HAVE_KEEPALIVE 1
#define SF_KA_BIT         (1u << 6)
#endif
#ifdef SF_NO_DSACK
#define SF_DSACK_BIT 0u
#else
#define SF_DSACK_BIT (1u << 26)
#endif
/* SF_NO_READY: no readiness list; sf_ready_take answers SF_ENOTSUP and
 * an application steps its sockets itself (sf_poll). */
#ifdef SF_NO_READY
#define SF_HAVE_READY 0
#else
#define SF_HAVE_READY 1
#endif
/* SF_NO_HYSTART: no HyStart++ (hystart.c). */
#ifdef SF_NO_HYSTART
#define SF_HAVE_HYSTART 0
#else
#define SF_HAVE_HYSTART 1
/* HyStart++ state (RFC 9406 §4.2's variables), microseconds. */
typedef struct sf_hystart {
	uint32_t window_end;              /* the round ends when SND.UNA reaches it */
	uint32_t last_min_us, cur_min_us; /* lastRoundMinRTT, currentRoundMinRTT */
	uint32_t css_base_us;             /* cssBaselineMinRtt */
	uint8_t samples;                  /* rttSampleCount (saturating) */
	uint8_t css_rounds;               /* 0: slow start; 1..CSS_ROUNDS: in CSS */
} sf_hystart_t;
#endif

/* Per-connection deadlines multiplexed on one wheel entry. */
enum { T_RTO, T_DELACK, T_PERSIST, T_KEEPALIVE, T_LINGER2, T_REO, T_TLP, T_COUNT };

/* Connection flags. */
enum {
	F_ACK_NOW = 1u << 0,    /* send an ACK at the next output */
	F_FIN_QUEUED = 1u << 1, /* the application closed its sending side */
	F_FIN_SENT = 1u << 2,   /* our FIN has a sequence number (snd_max covers it) */
	F_FIN_RCVD = 1u << 3,   /* the peer's FIN was consumed: end of stream */
	F_ORPHAN = 1u << 4,     /* no handle: the application closed it */
	F_NODELAY = 1u << 5,    /* Nagle off */
	F_KEEPALIVE = SF_KA_BIT,
	F_SACK_OK = 1u << 7,       /* both offered SACK-permitted */
	F_TS_OK = 1u << 8,         /* both offered timestamps */
	F_WS_OK = 1u << 9,         /* both offered window scaling */
	F_DIRTY = 1u << 10,        /* on the stack's output list */
	F_IN_ACCEPTQ = 1u << 11,   /* completed, waiting in the listener's accept queue */
	F_RD_SHUT = 1u << 12,      /* SHUT_RD: acknowledge and discard what arrives */
	F_RTT_TIMING = 1u << 13,   /* an RTT sample is running (Karn: not on retransmits) */
	F_HANDLE = 1u << 14,       /* the application holds a handle */
	F_ACTIVE = 1u << 15,       /* opened actively (for statistics) */
	F_FROM_LISTEN = 1u << 16,  /* SYN-RECEIVED entered from LISTEN (MUST-11) */
	F_IN_RECOVERY = 1u << 17,  /* fast recovery (RFC 6582) */
	F_RST_ON_CLOSE = 1u << 18, /* SO_LINGER 0 */
	F_SYN_RETX = 1u << 19,     /* our SYN was retransmitted (RFC 6298 (5.7)) */
	F_FIN_ACKED = 1u << 20,    /* the peer acknowledged our FIN */
	F_URG_VALID = 1u << 21,    /* up_rcv holds a received urgent pointer */
	F_SWS_OVERRIDE = 1u << 23, /* the override timer fired: send the held tail */
	F_HS_ACK = 1u << 24,       /* the ACK that completes an active open is owed */
	F_URG_SEND = 1u << 22,     /* snd_up marks urgent data not yet acknowledged */
	F_RACK = SF_RACK_BIT,      /* RACK loss detection (SACK negotiated, cfg.rack) */
	F_DSACK = SF_DSACK_BIT,    /* dsack holds a D-SACK block for the next ACK */
	F_ECE_SEND = 1u << 27,     /* classic ECN: CE seen, ECE on ACKs until CWR */
	F_CWR_SEND = 1u << 28,     /* classic ECN: CWR on the next new data segment */
	F_ECN_HS_ECHO = 1u << 29,  /* AccECN: the handshake ACK echoes the SYN,ACK's IP-ECN */
	F_CORK = 1u << 30,         /* SF_SO_CORK: hold segments shorter than full */
	F_READY = 1u << 31,        /* on the stack's readiness list (sf_ready_take) */
};

typedef struct sf_tcb {
	uint32_t hash_next;    /* chain in the 4-tuple table or free list */
	uint32_t dirty_next;   /* chain in the output list */
	uint32_t id;           /* connection id for traces (never reused) */
	uint32_t listener;     /* index of the listener a child came from, or SF_NIL */
	uint32_t acceptq_next; /* accept queue chain (listener: head) */
	uint32_t flags;
	uint16_t gen;  /* handle generation */
	uint8_t state; /* sf_state_t */
	uint8_t ttl, tos;
	int8_t error;       /* pending error for the application, 0 if none */
	uint8_t timer_hold; /* deadline[] changes wait for sf_tcb_timers_sync */

	uint32_t raddr;
	uint16_t lport, rport;

	/* send sequence variables (RFC 9293 §3.3.1) */
	uint32_t iss, snd_una, snd_nxt, snd_max; /* snd_max: highest ever sent */
	uint32_t snd_head;                       /* sequence number of the send ring's first byte */
	uint32_t snd_up; /* first byte after our urgent data (with F_URG_SEND) */
	uint32_t snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
	uint16_t snd_mss; /* effective send MSS (MUST-16) without options */
	uint8_t snd_wscale, rcv_wscale;
	/* receive sequence variables */
	uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge we advertised */
	uint32_t up_rcv;                /* urgent pointer received (valid with F_URG) */
	uint16_t rcv_mss;               /* the MSS we announced */
	uint8_t dupacks_owed;           /* out-of-order arrivals this batch: one ACK each */
	uint8_t acks_owed;              /* full segments received since our last ACK */

	/* timestamps (RFC 7323) */
	uint32_t ts_recent, last_ack_sent;
	uint32_t reply_stamp_ms; /* last rate-limited reply (gate.c), 0: never */
	uint32_t ts_rto;         /* our timestamp clock at the last timeout */
	/* RTT (RFC 6298), microseconds */
	int32_t srtt_us, rttvar_us;
	uint32_t rto_us;
	uint32_t rtt_seq;
	int64_t rtt_start_us;
	uint8_t backoff; /* consecutive RTO expirations */
	uint8_t dupacks;
	uint8_t probes;        /* zero-window probes sent while the window stays shut */
	uint8_t ka_probes;     /* keepalive probes unanswered */
	int8_t soft_error;     /* last soft ICMP error (MUST-54), reported on demand */
	int64_t first_retx_us; /* when the current retransmission series began */
	int64_t last_rx_us;    /* last segment from the peer (keepalive idle) */
	/* congestion control (src/core/cc.h) and loss recovery (recovery.c) */
	uint32_t cwnd, ssthresh, recover;
	uint32_t high_rxt; /* next hole to retransmit in SACK recovery */
	/* PRR (RFC 9937) in SACK recovery: bytes delivered to the peer and
	 * sent by us since recovery began, and the flight it began with */
	uint32_t prr_delivered, prr_out, recover_fs;
	int64_t last_send_us; /* restart after idle (RFC 5681 §4.1) */
	uint8_t cc_algo;      /* SF_CC_* */
	sf_ranges_t sacked;   /* the peer's SACK scoreboard above snd_una */
#if SF_HAVE_HYSTART
	sf_hystart_t hs; /* HyStart++ in the initial slow start (hystart.c) */
#endif
	struct {
		uint32_t w_max, w_last_max; /* bytes */
		uint32_t w_est;             /* Reno-friendly estimate, bytes */
		uint32_t k_ms;              /* time to reach w_max again */
		int64_t epoch_us;           /* start of this congestion avoidance epoch */
	} cubic;
#if SF_HAVE_RACK
	sf_rack_t rack; /* RACK-TLP and D-SACK state (rack.h) */
#endif
	/* ECN (ecn.c) */
	uint8_t ecn_mode;      /* SF_ECN_* negotiated */
	uint8_t ecn_syn_ipecn; /* AccECN: IP-ECN of the SYN or SYN,ACK received */
	uint32_t ecn_recover;  /* no new response before SND.UNA passes this */
	uint32_t r_cep, s_cep; /* AccECN: CE packets received / reported by the peer */

	/* sf_tuple_hash of raddr, rport, lport while in the 4-tuple table
	 * (kept here, where the rings' alignment left a hole) */
	uint32_t hash;

	/* buffers: snd holds [snd_una, snd_una + len); rcv holds bytes the
	 * application has not read, then out-of-order bytes at their offsets */
	sf_ring_t snd, rcv;
	uint32_t sndbuf, rcvbuf;
	sf_ranges_t ooo;  /* out-of-order ranges held in rcv, most recent first */
	sf_range_t dsack; /* duplicate data to report (RFC 2883), with F_DSACK */

	/* listener only */
	uint16_t backlog, acceptq_len, synq_len;
	uint32_t acceptq_tail;
	uint32_t synq_head, synq_tail; /* half-open children, oldest first */

	/* per-connection settings */
	uint32_t user_timeout_ms;
	uint32_t keepidle_s, keepintvl_s, keepcnt;
	uint16_t user_mss; /* SF_SO_MAXSEG, 0: none */

	/* statistics */
	uint32_t retransmits;
	uint64_t bytes_sent, bytes_acked, bytes_received;
#if SF_HAVE_READY
	uint32_t ready_prev, ready_next; /* the readiness list (F_READY) */
#endif
	/* The timers last, with their 80 bytes: ahead of everything else they
	 * put the fields every segment reads (flags, state, the sequence
	 * variables) beyond Thumb-2's 16-bit load/store offsets, which cost
	 * 378 B of code in the firmware build. */
	sf_timer_t timer;          /* one wheel entry: min of deadline[] */
	int64_t deadline[T_COUNT]; /* INT64_MAX when off */
} sf_tcb_t;

/* TIME-WAIT: a compact record instead of a whole TCB (RFC 9293 §3.6.1). */
typedef struct sf_tw {
	uint32_t raddr;
	uint16_t lport, rport;
	uint32_t snd_nxt, rcv_nxt;
	uint32_t ts_recent;
	uint32_t expire_ms;      /* stack-relative milliseconds */
	uint32_t hash_next;      /* chain in the TIME-WAIT table, or free list */
	uint32_t prev, next;     /* expiry FIFO (all records live 2*MSL) */
	uint32_t id;             /* connection id, for traces */
	uint32_t reply_stamp_ms; /* last rate-limited reply (gate.c), 0: never */
	uint16_t wnd;            /* raw window to advertise in ACKs */
	uint8_t flags;           /* TW_TS */
	uint8_t pad;
} sf_tw_t;
enum { TW_TS = 1 };

/* A control segment queued by a socket call (the RST of an abort), sent by
 * the next output pass: socket calls never transmit. */
typedef struct sf_ctl {
	uint32_t raddr, seq, ack, id;
	uint32_t ts_ecr; /* with has_ts: the connection's TS.Recent */
	uint16_t lport, rport;
	uint8_t flags;
	bool has_ts; /* RFC 7323 §3.2: timestamps were in use */
} sf_ctl_t;
#define SF_CTL_MAX 256

typedef struct sf_frag_slot sf_frag_slot_t; /* ipfrag.c */
struct sf_seg;

/* A free list of ring blocks of one size (bufpool.c). */
#define SF_BUF_CLASSES 4
typedef struct sf_bufclass {
	uint32_t size, free_cnt;
	void *head;
} sf_bufclass_t;

typedef struct sf_listener {
	uint16_t port;
	uint32_t tcb;
} sf_listener_t;

/* Member order is for a 32-bit microcontroller's code size: the small
 * fields used on every segment first, within reach of Thumb-2's short
 * load/store offsets (16-bit forms: 124 bytes; ldrd/strd: 1 KiB); then the
 * keys, the config and the counters; the wheel's 3 KiB of list heads last.
 * The order cost 524 B of code in the firmware build (bench/README.md). */
struct sf_stack {
	sf_allocator_t al;
	int64_t now_us, epoch_us;

	sf_tcb_t *tcbs;
	uint32_t max_conns, free_head, next_conn_id;
	uint32_t tcb_fresh, tw_fresh; /* first never-used block / record */
	uint32_t *buckets;            /* 4-tuple hash heads (tcb indices) */
	uint32_t bucket_mask;

	sf_listener_t *listeners;
	uint32_t listener_cnt, listener_cap;

	sf_tw_t *tw;
	uint32_t *tw_buckets;
	uint32_t tw_mask, tw_free, tw_head, tw_tail, tw_cnt, max_tw;

	uint32_t dirty_head, dirty_tail;
	uint32_t port_counter;
	/* The reply limiter's global budget (gate.c, RFC 5961 §7). */
	int64_t reply_epoch_us;
	uint32_t reply_left;
	bool reply_epoch_set;
	int64_t cookie_sent_us; /* last SYN cookie sent (syncookie.c) */
	bool cookie_sent;

	sf_frag_slot_t *frags; /* cfg.frag_slots reassembly slots */
	sf_bufclass_t pool[SF_BUF_CLASSES];
	uint64_t buf_bytes; /* ring storage allocated, pooled included */

	sf_ctl_t *ctl; /* ctl_cap entries: min(SF_CTL_MAX, max(16, 2 * max_conns)) */
	uint32_t ctl_cnt, ctl_cap;

	sf_sipkey_t isn_key, hash_key, port_key;
	uint64_t rng;
	sf_config_t cfg;
	sf_stack_stats_t stats;
	/* The datagram being built: frame_cap bytes, the MTU, or SF_FRAME_MAX
	 * when reassembly or TSO is on (an echo reply is as long as its
	 * request; a super-segment up to 64 KiB). */
	uint8_t *frame;
	uint32_t frame_cap;
	/* Out-of-order ranges a connection may hold, sized from cfg.rcvbuf at
	 * creation (stack.c): SF_MAX_OOO in the block itself, more in a pool
	 * block while there are holes (sf_tcb_ooo_grow). */
	uint16_t ooo_cap;
	/* SYN-SENT input (sf_syn_sent_input), set by the first active open:
	 * a firmware that never calls sf_connect links none of it. */
	void (*syn_sent_input)(struct sf_stack *st, sf_tcb_t *t, struct sf_seg *s);
#if SF_HAVE_READY
	uint32_t ready_head, ready_tail; /* the readiness list, oldest first */
#endif
	sf_wheel_t wheel; /* last (see above) */
};

/* ---- helpers shared by src/core and src/api ---- */

static inline uint32_t tcb_index(const sf_stack_t *st, const sf_tcb_t *t)
{
	return (uint32_t)(t - st->tcbs);
}
static inline int64_t now_ms_rel(const sf_stack_t *st)
{
	return (st->now_us - st->epoch_us) / 1000;
}
/* The right edge of the peer's window: SND.WL2 + SND.WND, the edge it
 * advertised, which stays put when a segment too old to update the window
 * (RFC 9293 §3.10.7.4) still moves SND.UNA. */
static inline uint32_t snd_right(const sf_tcb_t *t)
{
	return t->snd_wl2 + t->snd_wnd;
}
/* When a retransmission timer started now expires: RTO << backoff, capped
 * at cfg.rto_max_ms (RFC 6298 (5.1), (5.5)). */
static inline int64_t rto_deadline(const sf_stack_t *st, const sf_tcb_t *t)
{
	uint64_t rto = (uint64_t)t->rto_us << t->backoff;
	if (rto > st->cfg.rto_max_ms * 1000ull)
		rto = st->cfg.rto_max_ms * 1000ull;
	return st->now_us + (int64_t)rto;
}
/* The peer's window leaves no room past SND.UNA. */
static inline bool snd_window_shut(const sf_tcb_t *t)
{
	return !sf_seq_gt(snd_right(t), t->snd_una);
}
static inline bool keepalive_state(const sf_tcb_t *t)
{
	return t->state == SF_ESTABLISHED || t->state == SF_CLOSE_WAIT ||
	       t->state == SF_FIN_WAIT_1 || t->state == SF_FIN_WAIT_2;
}
/* The receive window we advertised: RCV.ADV - RCV.NXT, never negative. */
static inline uint32_t rcv_wnd(const sf_tcb_t *t)
{
	return sf_seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
}
/* Receive space: the ring's free bytes (the whole size while no storage
 * is held). */
static inline uint32_t rcv_space(const sf_tcb_t *t)
{
	return sf_ring_free(&t->rcv);
}

/* Allocation through the hook, counted. The memory is not zeroed. */
void *sf_core_alloc(sf_stack_t *st, size_t size);
void sf_core_free(sf_stack_t *st, void *p, size_t size);
/* Tracing is on unless the core is built with SF_NO_TRACE (firmware that
 * never sets a sink): every event is then compiled out, and the drop
 * counters stay. sf_core_trace() hands one event to the sink, if any. */
#ifdef SF_NO_TRACE
#define sf_tracing(st) ((void)(st), false)
#else
#define sf_tracing(st) ((st)->cfg.trace.fn != NULL)
#endif
void sf_core_trace_emit(sf_stack_t *st, const sf_event_t *ev);
static inline void sf_core_trace(sf_stack_t *st, const sf_event_t *ev)
{
	if (sf_tracing(st))
		sf_core_trace_emit(st, ev);
}
void sf_core_drop(sf_stack_t *st, sf_drop_reason_t why, uint32_t conn_id, const sf_ipv4_t *ip,
                  const sf_tcp_t *tcp);

/* tcb.c: pool, demux, state machine, TIME-WAIT table */
sf_tcb_t *sf_tcb_alloc(sf_stack_t *st);
/* Takes a connection out of the tables, its listener's queues and the
 * timer wheel (before it is freed or becomes a TIME-WAIT record). */
void sf_tcb_detach(sf_stack_t *st, sf_tcb_t *t);
void sf_tcb_free(sf_stack_t *st, sf_tcb_t *t);
/* bufpool.c: ring storage held only while a ring has bytes. acquire sets
 * r->buf for r->cap bytes (0 or SF_ENOMEM); release returns it (r empty). */
/* A block of `size` bytes from the stack's pool (bufpool.c; through the
 * allocator hook within cfg.buf_budget when the pool has none: NULL), and
 * back. */
void *sf_block_get(sf_stack_t *st, uint32_t size);
/* Before an out-of-order range is added to a full set of the block's own
 * SF_MAX_OOO: moves it to a pool block of st->ooo_cap ranges (when the pool
 * has none within cfg.buf_budget, the set stays and evicts its oldest). */
void sf_tcb_ooo_grow(sf_stack_t *st, sf_tcb_t *t);
/* Puts such a block back once the set is empty, or at once with `all`
 * (the connection is freed). */
void sf_tcb_ooo_shrink(sf_stack_t *st, sf_tcb_t *t, bool all);
void sf_block_put(sf_stack_t *st, void *p, uint32_t size);
int sf_ring_acquire(sf_stack_t *st, sf_ring_t *r);
void sf_ring_release(sf_stack_t *st, sf_ring_t *r);
void sf_bufpool_fini(sf_stack_t *st);
sf_tcb_t *sf_tcb_lookup(sf_stack_t *st, uint32_t raddr, uint16_t rport, uint16_t lport);
/* The keyed 4-tuple hash both tables use: computed once per segment and
 * passed to the _h lookups (and to sf_tuple_prefetch ahead of a batch). */
uint32_t sf_tuple_hash(const sf_stack_t *st, uint32_t raddr, uint16_t rport, uint16_t lport);
sf_tcb_t *sf_tcb_lookup_h(sf_stack_t *st, uint32_t hash, uint32_t raddr, uint16_t rport,
                          uint16_t lport);
/* Prefetches the connection and TIME-WAIT buckets of `hash`. */
void sf_tuple_prefetch(const sf_stack_t *st, uint32_t hash);
void sf_tcb_hash_insert(sf_stack_t *st, sf_tcb_t *t);
/* The same with the 4-tuple's hash known (sf_tuple_hash). */
void sf_tcb_hash_insert_h(sf_stack_t *st, sf_tcb_t *t, uint32_t hash);
void sf_tcb_hash_remove(sf_stack_t *st, sf_tcb_t *t);
sf_tcb_t *sf_listener_find(sf_stack_t *st, uint16_t port);
int sf_listener_add(sf_stack_t *st, sf_tcb_t *t);
void sf_listener_remove(sf_stack_t *st, sf_tcb_t *t);
bool sf_port_in_use(sf_stack_t *st, uint16_t lport, uint32_t raddr, uint16_t rport);
/* Changes state through the RFC 9293 Figure 5 edge table; illegal edges
 * are a bug (assert). Emits SF_EV_STATE. */
void sf_tcb_set_state(sf_stack_t *st, sf_tcb_t *t, sf_state_t to, sf_cause_t cause);
bool sf_state_edge_legal(sf_state_t from, sf_state_t to);
/* A listener's queues of children (intrusive via acceptq_next): the SYN
 * queue of half-open ones and the accept queue of established ones. */
void sf_listener_enqueue(sf_stack_t *st, sf_tcb_t *l, sf_tcb_t *c, bool accepted);
/* LISTEN (RFC 9293 §3.10.1) on a bound connection block; 0 or an error. */
int sf_tcb_listen(sf_stack_t *st, sf_tcb_t *t, int backlog);
/* The oldest established child of listener l, out of its accept queue and
 * handed to the application (F_HANDLE), or NULL when none waits. */
sf_tcb_t *sf_listener_accept(sf_stack_t *st, sf_tcb_t *l);
/* RFC 6056 §3.3.3 (Algorithm 3): an ephemeral port for a connection to
 * raddr:rport that no connection, listener or TIME-WAIT record uses; 0 or
 * SF_EADDRINUSE. */
int sf_ephemeral_port(sf_stack_t *st, uint32_t raddr, uint16_t rport, uint16_t *out);
/* CONNECT (RFC 9293 §3.10.1) of a closed block to raddr:rport (checked by
 * the caller): an ephemeral port unless bound, the ISS, SYN-SENT, the SYN
 * queued. Returns SF_EINPROGRESS or SF_EADDRINUSE. */
int sf_tcb_connect(sf_stack_t *st, sf_tcb_t *t, uint32_t raddr, uint16_t rport);
/* Ends a connection: reports `err` to a handle holder, or frees an orphan. */
void sf_tcb_close(sf_stack_t *st, sf_tcb_t *t, int err, sf_cause_t cause);
/* Moves a connection already in TIME-WAIT into a compact record and frees
 * its TCB (done by the output pass, after the last ACK left). */
void sf_tcb_to_timewait(sf_stack_t *st, sf_tcb_t *t);
/* timewait.c: the records, their table and expiry, their input. */
sf_tw_t *sf_tw_lookup(sf_stack_t *st, uint32_t raddr, uint16_t rport, uint16_t lport);
/* A segment for a record. Returns true when a new SYN reopened it (the
 * record is gone; the caller hands the SYN to the listener) and sets
 * *old_snd_nxt to the old connection's SND.NXT. */
bool sf_tw_input(sf_stack_t *st, sf_tw_t *w, const sf_ipv4_t *ip, const sf_tcp_t *h,
                 uint32_t *old_snd_nxt);
/* The ISS for a connection reopened from TIME-WAIT: iss, or past the old
 * SND.NXT when iss is not above it. */
uint32_t sf_tw_reopen_iss(uint32_t iss, uint32_t old_snd_nxt);
sf_tw_t *sf_tw_lookup_h(sf_stack_t *st, uint32_t hash, uint32_t raddr, uint16_t rport,
                        uint16_t lport);
void sf_tw_free(sf_stack_t *st, sf_tw_t *tw);
/* Ends a TIME-WAIT record: traces TIME-WAIT -> CLOSED with `cause`, frees it. */
void sf_tw_close(sf_stack_t *st, sf_tw_t *w, sf_cause_t cause);
void sf_tw_restart(sf_stack_t *st, sf_tw_t *tw);
void sf_tw_expire(sf_stack_t *st);
uint32_t sf_isn(sf_stack_t *st, uint32_t raddr, uint16_t lport, uint16_t rport);

/* The readiness list (stack.c): sockets the application should look at
 * again, each at most once. sf_tcb_mark_ready puts t there when it holds
 * a handle (a segment arrived for it, its state changed), or its listener
 * when t joins the accept queue; sf_tcb_ready_unlink takes t off (freed);
 * sf_tcb_ready_pop takes the oldest, NULL when none. */
#if SF_HAVE_READY
void sf_tcb_mark_ready(sf_stack_t *st, sf_tcb_t *t);
void sf_tcb_ready_unlink(sf_stack_t *st, sf_tcb_t *t);
sf_tcb_t *sf_tcb_ready_pop(sf_stack_t *st);
#else
static inline void sf_tcb_mark_ready(sf_stack_t *st, sf_tcb_t *t)
{
	(void)st, (void)t;
}
static inline void sf_tcb_ready_unlink(sf_stack_t *st, sf_tcb_t *t)
{
	(void)st, (void)t;
}
#endif

/* timers: per-connection deadlines */
void sf_tcb_timer_set(sf_stack_t *st, sf_tcb_t *t, int which, int64_t at_us);
/* Brings the wheel entry to the earliest of deadline[] after a stretch
 * with t->timer_hold set (one wheel operation for many deadline moves);
 * clears timer_hold. */
void sf_tcb_timers_sync(sf_stack_t *st, sf_tcb_t *t);
void sf_tcb_timer_clear(sf_stack_t *st, sf_tcb_t *t, int which);
void sf_tcb_timers_fire(sf_stack_t *st, sf_tcb_t *t);
/* (Re)arms or clears the keepalive deadline from the flag, the state and
 * keepidle_s (tcb.c). */
#if SF_HAVE_KEEPALIVE
void sf_tcb_keepalive_arm(sf_stack_t *st, sf_tcb_t *t);
#else
static inline void sf_tcb_keepalive_arm(sf_stack_t *st, sf_tcb_t *t)
{
	(void)st, (void)t;
}
#endif

/* The application consumed received bytes (read or discarded): queue a
 * window update when the window grew enough to matter (RFC 9293
 * §3.8.6.2.2, min(buffer/2, MSS)); releases empty ring storage. */
void sf_tcb_rcv_consumed(sf_stack_t *st, sf_tcb_t *t);
/* SF_SHUT_RD: discards unread data; later data is acknowledged and
 * discarded (see sf_shutdown). */
void sf_tcb_shutdown_read(sf_stack_t *st, sf_tcb_t *t);
/* SF_SO_MAXSEG: returns 0 or SF_EINVAL. */
int sf_tcb_set_maxseg(sf_stack_t *st, sf_tcb_t *t, int mss);

/* output.c */
/* Link offloads (cfg.transmit_off: TSO with cfg.tso_max, checksums with
 * cfg.csum_tx; on input, what sf_stack_input_off is told of a datagram).
 * SF_NO_OFFLOAD (firmware build option, docs/PORTING.md): none; that code
 * folds away, cfg.transmit_off and cfg.tso_max must be unset (the
 * defaults; else SF_ENOTSUP), and what a driver says of a received
 * datagram is ignored: it is taken as a plain one, its checksums checked. */
#ifdef SF_NO_OFFLOAD
#define SF_HAVE_OFFLOAD 0
#else
#define SF_HAVE_OFFLOAD 1
#endif
static inline bool sf_offload_tx(const sf_stack_t *st)
{
	return SF_HAVE_OFFLOAD && st->cfg.transmit_off;
}
static inline bool sf_tso_on(const sf_stack_t *st)
{
	return sf_offload_tx(st) && st->cfg.tso_max;
}
void sf_tcb_mark_dirty(sf_stack_t *st, sf_tcb_t *t);
void sf_tcp_output(sf_stack_t *st, sf_tcb_t *t);
void sf_send_ack(sf_stack_t *st, sf_tcb_t *t);
/* Our RFC 7323 timestamp clock (1 ms ticks). */
uint32_t sf_ts_now(const sf_stack_t *st);
void sf_send_probe(sf_stack_t *st, sf_tcb_t *t);
void sf_send_rst_for(sf_stack_t *st, const sf_ipv4_t *ip, const sf_tcp_t *tcp);
void sf_send_rst(sf_stack_t *st, sf_tcb_t *t);
void sf_send_ctl_queue(sf_stack_t *st);
void sf_send_raw(sf_stack_t *st, uint32_t raddr, uint16_t lport, uint16_t rport, uint32_t seq,
                 uint32_t ack, uint8_t flags, uint16_t wnd, const sf_tcp_opts_t *opt,
                 uint32_t conn_id);
void sf_tcp_retransmit_timeout(sf_stack_t *st, sf_tcb_t *t);
/* Resends one segment's worth of data (and the FIN if it is there) from
 * seq, without moving SND.NXT. */
void sf_retransmit_one(sf_stack_t *st, sf_tcb_t *t, uint32_t seq, uint8_t cause);
/* RFC 8985 §7.3: a probe of new data, one segment at SND.NXT past cwnd and
 * Nagle when the peer's window takes it. False when there is none. */
bool sf_send_new_probe(sf_stack_t *st, sf_tcb_t *t);
/* Payload bytes a data segment may carry now (MSS less the options). */
uint32_t sf_seg_payload_max(sf_stack_t *st, sf_tcb_t *t);
void sf_rtt_sample(sf_stack_t *st, sf_tcb_t *t, int64_t rtt_us);
uint16_t sf_rcv_wnd_raw(sf_stack_t *st, sf_tcb_t *t);
void sf_ip_output(sf_stack_t *st, uint32_t dst, uint8_t proto, uint8_t ttl, uint8_t tos,
                  size_t payload_len);

/* recovery.c */
void sf_sack_update(sf_tcb_t *t, const sf_tcp_opts_t *o);
uint32_t sf_pipe(const sf_tcb_t *t);
bool sf_next_hole(const sf_tcb_t *t, uint32_t *seq, uint32_t *len);
/* After an ACK: acked = bytes of new data it acknowledged (0 if none), dup
 * = it is a duplicate ACK (RFC 5681 §2). Runs fast retransmit/recovery and
 * the congestion control algorithm. */
void sf_recovery_on_ack(sf_stack_t *st, sf_tcb_t *t, uint32_t acked, bool dup,
                        const sf_tcp_opts_t *opt);
void sf_recovery_on_timeout(sf_stack_t *st, sf_tcb_t *t);
/* RACK marked segments lost outside an ACK (the reordering timer). */
void sf_recovery_on_rack_loss(sf_stack_t *st, sf_tcb_t *t);

/* hystart.c (RFC 9406). SF_NO_HYSTART (firmware build option,
 * docs/PORTING.md): the initial slow start runs until the first loss, as
 * RFC 5681 has it; the hooks are empty stubs, cfg.hystart is false by
 * default and true is refused (SF_ENOTSUP). */
#if SF_HAVE_HYSTART
/* A new connection's first round starts at SND.MAX. */
void sf_hystart_init(sf_tcb_t *t);
/* An RTT sample (RFC 6298's) in the initial slow start: the round's
 * minimum; enters CSS on a rise, leaves it on a fall. */
void sf_hystart_rtt(sf_stack_t *st, sf_tcb_t *t, uint32_t rtt_us);
/* An ACK that moved SND.UNA outside recovery, before the congestion
 * control grows cwnd: ends rounds, and CSS after CSS_ROUNDS of them. */
void sf_hystart_on_ack(sf_stack_t *st, sf_tcb_t *t);
/* In CSS: slow start grows cwnd by a quarter (CSS_GROWTH_DIVISOR). */
static inline bool sf_hystart_css(const sf_tcb_t *t)
{
	return t->hs.css_rounds != 0;
}
#else
static inline void sf_hystart_init(sf_tcb_t *t)
{
	(void)t;
}
static inline void sf_hystart_rtt(sf_stack_t *st, sf_tcb_t *t, uint32_t rtt_us)
{
	(void)st, (void)t, (void)rtt_us;
}
static inline void sf_hystart_on_ack(sf_stack_t *st, sf_tcb_t *t)
{
	(void)st, (void)t;
}
static inline bool sf_hystart_css(const sf_tcb_t *t)
{
	(void)t;
	return false;
}
#endif

/* ecn.c (RFC 3168, RFC 9768). SF_NO_ECN (firmware build option,
 * docs/PORTING.md): ECN is never negotiated, the hooks are empty stubs and
 * ecn.c compiles to nothing; a peer's ECN-setup SYN or SYN,ACK is answered
 * as by a host without ECN (no ECE, CWR or AE: RFC 3168 §6.1.1, RFC 9768
 * §3.1.2), nothing is sent ECT and CE marks are not reported. cfg.ecn is
 * SF_ECN_OFF by default and anything else is refused (SF_ENOTSUP). */
#ifdef SF_NO_ECN
#define SF_HAVE_ECN 0
static inline void sf_ecn_on_syn(sf_stack_t *st, sf_tcb_t *t, const sf_ipv4_t *ip,
                                 const sf_tcp_t *syn)
{
	(void)st, (void)t, (void)ip, (void)syn;
}
static inline void sf_ecn_on_synack(sf_stack_t *st, sf_tcb_t *t, const sf_ipv4_t *ip,
                                    const sf_tcp_t *sa)
{
	(void)st, (void)t, (void)ip, (void)sa;
}
static inline void sf_ecn_tx(const sf_stack_t *st, sf_tcb_t *t, sf_tcp_t *h, bool data, bool retx,
                             uint8_t *tos)
{
	(void)st, (void)t, (void)h, (void)data, (void)retx, (void)tos;
}
static inline void sf_ecn_rx(sf_stack_t *st, sf_tcb_t *t, const sf_ipv4_t *ip, const sf_tcp_t *h)
{
	(void)st, (void)t, (void)ip, (void)h;
}
#else
#define SF_HAVE_ECN 1
/* A SYN we take (listener child or simultaneous open): what the peer asked. */
void sf_ecn_on_syn(sf_stack_t *st, sf_tcb_t *t, const sf_ipv4_t *ip, const sf_tcp_t *syn);
/* The SYN,ACK of our active open: what the peer answered. */
void sf_ecn_on_synack(sf_stack_t *st, sf_tcb_t *t, const sf_ipv4_t *ip, const sf_tcp_t *sa);
/* A segment about to leave: ECN flags on h, ECT in *tos (data: it carries
 * payload; retx: it is a retransmission). */
void sf_ecn_tx(const sf_stack_t *st, sf_tcb_t *t, sf_tcp_t *h, bool data, bool retx, uint8_t *tos);
/* An acceptable segment arrived: CE feedback (receiver) and ECE/ACE
 * (sender). */
void sf_ecn_rx(sf_stack_t *st, sf_tcb_t *t, const sf_ipv4_t *ip, const sf_tcp_t *h);
#endif

/* syncookie.c (RFC 4987 §3.6). SF_NO_SYNCOOKIE (firmware build option,
 * docs/PORTING.md): no cookies; a full SYN queue gives up its oldest
 * half-open entry for the new SYN (RFC 4987 §3.4, counted as
 * syn_queue_full drops), as with cfg.syncookies false, which is the
 * default there (true is refused, SF_ENOTSUP). syncookie.c compiles to
 * nothing; the stubs never find a cookie. */
#ifdef SF_NO_SYNCOOKIE
#define SF_HAVE_SYNCOOKIE 0
static inline void sf_syncookie_send(sf_stack_t *st, sf_tcb_t *l, const sf_ipv4_t *ip,
                                     const sf_tcp_t *syn)
{
	(void)st, (void)l, (void)ip, (void)syn;
}
static inline bool sf_syncookie_recent(const sf_stack_t *st)
{
	(void)st;
	return false;
}
static inline bool sf_syncookie_check(sf_stack_t *st, const sf_ipv4_t *ip, const sf_tcp_t *ack,
                                      sf_tcp_opts_t *syn_opt)
{
	(void)st, (void)ip, (void)ack, (void)syn_opt;
	return false;
}
#else
#define SF_HAVE_SYNCOOKIE 1
/* Answers the SYN with a SYN,ACK whose ISS (and TSval) carry its state. */
void sf_syncookie_send(sf_stack_t *st, sf_tcb_t *l, const sf_ipv4_t *ip, const sf_tcp_t *syn);
/* A cookie was sent within the last two periods (so an ACK to a listener
 * may carry one). */
bool sf_syncookie_recent(const sf_stack_t *st);
/* Checks the cookie in an ACK to a listener (counting a bad one); on
 * success fills *syn_opt with the options the SYN had that were kept. */
bool sf_syncookie_check(sf_stack_t *st, const sf_ipv4_t *ip, const sf_tcp_t *ack,
                        sf_tcp_opts_t *syn_opt);
#endif
/* input.c: the window scale we announce for a receive buffer. */
uint8_t sf_pick_wscale(const sf_stack_t *st, uint32_t rcvbuf);

/* gate.c: the one limiter for replies to unacceptable segments (RFC 5961
 * §7). sf_reply_allowed: true when a reply may go (and counts it); stamp
 * is the flow's last-reply time (TCB or TIME-WAIT record), NULL when there
 * is no flow; per_flow applies the per-flow interval (segments without
 * data). sf_reply_ack queues an ACK on t if allowed; sf_reply_rst sends
 * the RFC 9293 §3.10.7.1 reset for a segment if allowed. */
bool sf_reply_allowed(sf_stack_t *st, uint32_t *stamp_ms, bool per_flow);
void sf_reply_ack(sf_stack_t *st, sf_tcb_t *t, bool has_data);
void sf_reply_rst(sf_stack_t *st, const sf_ipv4_t *ip, const sf_tcp_t *tcp);
/* A segment in input processing (input.c, gate.c): the parsed header and
 * what is left of it after trimming to the window. */
typedef struct sf_seg {
	const sf_ipv4_t *ip;
	sf_tcp_t h;
	const uint8_t *data; /* payload, possibly trimmed */
	uint32_t seq;        /* sequence number of data[0] (after trimming) */
	uint32_t len;        /* payload bytes left after trimming */
	uint32_t hash;       /* sf_tuple_hash of its 4-tuple (computed once) */
	uint16_t segs;       /* wire segments it stands for (a link's GRO: > 1) */
	bool syn, fin;       /* after trimming */
} sf_seg_t;
/* Drops s: counted and traced with its reason. */
static inline void sf_seg_drop(sf_stack_t *st, sf_drop_reason_t why, uint32_t id, const sf_seg_t *s)
{
	sf_core_drop(st, why, id, s->ip, &s->h);
}
/* Traces s as received by connection id. */
static inline void sf_seg_trace_rx(sf_stack_t *st, uint32_t id, const sf_seg_t *s)
{
	if (!sf_tracing(st))
		return;
	sf_event_t ev = {.kind = SF_EV_SEG_RX, .now_us = st->now_us, .conn_id = id};
	ev.u.seg.ip = *s->ip;
	ev.u.seg.tcp = s->h;
	ev.u.seg.segs = s->segs;
	sf_core_trace(st, &ev);
}
/* A data-less segment (or a SYN) can be part of an ACK loop; one with data
 * is the peer's retransmission (the per-flow limit spares it, gate.c). */
static inline bool sf_seg_has_data(const sf_seg_t *s)
{
	return s->h.payload_len && !(s->h.flags & SF_TCP_SYN);
}
/* RFC 2883: data that arrived twice is reported in the next ACK's first
 * SACK block (a D-SACK), so the sender can tell a spurious retransmission
 * or a duplicating network from a loss. */
static inline void sf_note_dsack(sf_tcb_t *t, uint32_t left, uint32_t right)
{
	if (!F_DSACK || !(t->flags & F_SACK_OK) || !sf_seq_lt(left, right))
		return;
	t->dsack = (sf_range_t){left, right};
	t->flags |= F_DSACK;
}
/* gate.c: the acceptance gate of a synchronized connection, RFC 9293
 * §3.10.7.4 first to fifth checks in that order: PAWS (RFC 7323 §5.3),
 * sequence (trimming s to the window), RST (RFC 5961 §3), SYN (RFC 5961
 * §4; synack_ok lets the SYN,ACK of a simultaneous open through), ACK bit,
 * ACK range (RFC 5961 §5.2; in SYN-RECEIVED the handshake's). Every reply
 * goes through the reply limiter. Returns true when processing goes on;
 * false when the segment was dropped or reset the connection (t may then
 * be gone). */
bool sf_gate_accept(sf_stack_t *st, sf_tcb_t *t, sf_seg_t *s, bool synack_ok);

/* stack.c: the stack's seeded random source (never for secrets). */
uint64_t sf_random(sf_stack_t *st);

/* ipfrag.c. SF_NO_IPFRAG (firmware build option, docs/PORTING.md): no
 * IPv4 reassembly; every fragment is dropped and counted (ip_fragment), as
 * with cfg.frag_slots 0, which is the default there (more is refused,
 * SF_ENOTSUP). ipfrag.c compiles to nothing. */
#ifdef SF_NO_IPFRAG
#define SF_HAVE_IPFRAG 0
static inline int sf_frag_init(sf_stack_t *st)
{
	(void)st;
	return 0;
}
static inline void sf_frag_fini(sf_stack_t *st)
{
	(void)st;
}
static inline void sf_frag_expire(sf_stack_t *st)
{
	(void)st;
}
static inline bool sf_frag_input(sf_stack_t *st, sf_ipv4_t *ip, const uint8_t **payload,
                                 size_t *len)
{
	(void)payload, (void)len;
	sf_core_drop(st, SF_DROP_IP_FRAGMENT, 0, ip, NULL);
	return false;
}
#else
#define SF_HAVE_IPFRAG 1
int sf_frag_init(sf_stack_t *st);
void sf_frag_fini(sf_stack_t *st);
void sf_frag_expire(sf_stack_t *st);
bool sf_frag_input(sf_stack_t *st, sf_ipv4_t *ip, const uint8_t **payload, size_t *len);
#endif

/* input.c */
void sf_tcb_connect_init(sf_stack_t *st, sf_tcb_t *t);
/* A segment for a connection in SYN-SENT (RFC 9293 §3.10.7.3); reached
 * through st->syn_sent_input only, which sf_tcb_connect sets. */
void sf_syn_sent_input(sf_stack_t *st, sf_tcb_t *t, sf_seg_t *s);
/* off: what an offloading link said about the datagram, or NULL. */
void sf_tcp_input(sf_stack_t *st, const sf_ipv4_t *ip, const uint8_t *seg, size_t len,
                  const sf_offload_t *off, const uint32_t *hash);
void sf_icmp_input(sf_stack_t *st, const sf_ipv4_t *ip, const uint8_t *msg, size_t len);

#endif
