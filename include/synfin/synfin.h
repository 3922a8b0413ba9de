/* synfin: a userspace TCP/IPv4 stack — the embedding API.
 *
 * A stack is created from a runtime config (sf_config_default() fills the
 * documented defaults). It never owns a thread, never reads a clock and never
 * makes a system call: the application drives it.
 *
 *   for (;;) {
 *       while ((n = read_frame(buf)) > 0)
 *           sf_stack_input(st, buf, n, now_us());   // process, queue replies
 *       sf_stack_poll(st, now_us());                // timers + all output
 *       sleep_until(min(sf_stack_next_deadline(st), fd readable));
 *   }
 *
 * Frames leave through cfg.transmit: connection output from inside
 * sf_stack_poll(); from inside sf_stack_input() only immediate replies that
 * belong to no connection (RST to a closed port, ICMP echo replies). Socket calls (sf_connect,
 * sf_send, sf_close, ...) change state and queue output; the next sf_stack_poll() sends it
 * (sf_stack_next_deadline() then returns a time <= now). Input is batched the same way: every frame
 * of one wake-up is processed first, and each connection then sends at most one ACK for the whole
 * batch (RFC 9293 §3.10.7.4, MUST-58/MUST-59).
 *
 * Threads: a stack and every handle on it belong to one thread at a time.
 * Different stacks share nothing and may run on different threads.
 */
#ifndef SYNFIN_SYNFIN_H
#define SYNFIN_SYNFIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synfin/error.h"
#include "synfin/trace.h"
#include "synfin/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sf_stack sf_stack_t;

/* Congestion control algorithms (per stack, or per connection). */
enum sf_cc_algo {
	SF_CC_CUBIC = 0,   /* RFC 9438 */
	SF_CC_NEWRENO = 1, /* RFC 5681 + RFC 6582 */
};

/* ECN per connection (sf_config_t.ecn, sf_tcp_info_t.ecn). */
enum {
	SF_ECN_OFF = 0,
	SF_ECN_CLASSIC = 1, /* RFC 3168 */
	SF_ECN_ACCECN = 2,  /* RFC 9768 */
	SF_ECN_PASSIVE = 3, /* config only: answer either, never ask */
};

/* Allocation hook: every allocation the stack makes goes through it, so
 * tests count leaks and inject out-of-memory. `size` is passed to free too. */
typedef struct sf_allocator {
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *ptr, size_t size);
	void *ctx;
} sf_allocator_t;

typedef struct sf_config {
	uint32_t addr;         /* our IPv4 address (host order); default 192.0.2.2 */
	int prefix_len;        /* our subnet, for directed-broadcast checks; default 24 */
	uint16_t mtu;          /* link MTU; our MSS is mtu - 40 (MUST-67); default 1500 */
	uint32_t max_conns;    /* connection blocks (listeners included); default 1024 */
	uint32_t max_timewait; /* TIME-WAIT records; default 4 * max_conns */
	uint32_t sndbuf;       /* send buffer bytes per connection; default 64 KiB */
	uint32_t rcvbuf;       /* receive buffer bytes per connection; default 64 KiB */
	uint64_t buf_budget;   /* total buffer bytes for all connections; default unlimited (0) */
	uint32_t msl_ms;       /* maximum segment lifetime; TIME-WAIT is 2*MSL; default 30000 */
	uint32_t rto_init_ms;  /* RFC 6298 (2.1): 1000 */
	uint32_t rto_min_ms;   /* 200 */
	uint32_t rto_max_ms;   /* 60000 */
	uint32_t r1;           /* retransmissions of one segment before negative advice
	                        * to IP (MUST-20): counted in stats.r1_advice; 3 */
	uint32_t r2_ms;        /* give up on data after this long (MUST-20/21); 100 s */
	uint32_t r2_syn_ms;    /* give up on a SYN after this long (MUST-22/23); 180 s */
	uint32_t delack_ms;    /* delayed-ACK time, < 500 (MUST-40); 40; 0 = ACK at once */
	uint32_t finwait2_ms;  /* orphaned FIN-WAIT-2 timeout; 60000 */
	uint32_t keepidle_s;   /* keepalive idle time when enabled; 7200 (MUST-28) */
	uint32_t keepintvl_s;  /* keepalive probe interval; 75 */
	uint32_t keepcnt;      /* unanswered probes before giving up; 9 */
	uint32_t syn_backlog;  /* half-open connections per listener at most; 256 */
	uint8_t ttl;           /* IPv4 TTL of our datagrams (MUST-49); 64 */
	uint32_t frag_slots;   /* IPv4 datagrams reassembled at once (64 KiB each); 4; 0 drops
	                          fragments [opt] */
	uint32_t frag_timeout_ms; /* give up on an incomplete datagram after this; 30000 */
	bool wscale;              /* offer window scaling (RFC 7323); true */
	bool sack;                /* offer SACK (RFC 2018); true */
	bool timestamps;          /* offer timestamps (RFC 7323); true */
	bool rack;                /* RACK-TLP loss detection (RFC 8985); true [opt] */
	bool hystart;    /* HyStart++ (RFC 9406): leave the initial slow start on rising delay; true
	                    [opt] */
	bool syncookies; /* SYN cookies when a SYN queue is full (RFC 4987); true [opt] */
	/* ECN: SF_ECN_PASSIVE (default, like Linux's tcp_ecn=2: take classic ECN,
	 * RFC 3168, or AccECN, RFC 9768, when a peer's SYN asks, never ask),
	 * SF_ECN_CLASSIC (ask for classic ECN), SF_ECN_ACCECN (ask for AccECN,
	 * falling back to classic or none as the peer answers), SF_ECN_OFF [opt] */
	uint8_t ecn;
	bool verify_checksums;       /* check IPv4/TCP/ICMP checksums on input; true */
	uint8_t congestion;          /* SF_CC_CUBIC (default, RFC 9438) or SF_CC_NEWRENO */
	uint64_t seed;               /* secret for ISNs, hashing, ports; 0: the caller must
	                                supply entropy (tests pass fixed seeds) */
	uint16_t port_min, port_max; /* ephemeral range; 49152..65535 (RFC 6056) */
	/* Replies to unacceptable segments (challenge ACKs, ACKs for
	 * out-of-window, bad-ACK and PAWS-failed segments, TIME-WAIT ACKs,
	 * RSTs for closed ports) are rate-limited (RFC 5961 §7): */
	uint32_t reply_interval_ms; /* per connection, one reply per interval to a
	                               segment without data; 500; 0: no limit */
	uint32_t reply_budget;      /* all connections: about this many per second,
	                               the exact budget drawn at random each second
	                               from [n/2, 3n/2); 1000; 0: no limit */
	/* Called for every outgoing datagram (a complete IPv4 packet), from
	 * inside sf_stack_poll() or sf_stack_input(), never from socket calls.
	 * The frame is valid during the call only. */
	int (*transmit)(void *ctx, const uint8_t *frame, size_t len, int64_t now_us);
	void *transmit_ctx;
	/* Link offloads, for a driver whose link takes them (the loop over a TUN
	 * device with the virtio-net header). When transmit_off is set it is
	 * called instead of transmit, with what the link must still do to the
	 * datagram (off is never NULL):
	 * - tso_max > 0 (TSO): new data may leave as one super-segment of up to
	 *   tso_max payload bytes (whole segments, at most 64 KiB in all); the
	 *   link cuts it at off->gso_size bytes, each piece with a copy of the
	 *   header (the kernel's TSO: FIN/PSH only on the last). Traces show it
	 *   as one segment with u.seg.segs > 1. Retransmissions and urgent data
	 *   never use it;
	 * - csum_tx: TCP checksums are left to the link (off->csum_partial). */
	int (*transmit_off)(void *ctx, const uint8_t *frame, size_t len, const sf_offload_t *off,
	                    int64_t now_us); /* [opt] */
	uint32_t tso_max;                    /* [opt] */
	bool csum_tx;
	sf_trace_sink_t trace;    /* optional event sink */
	sf_allocator_t allocator; /* optional; default malloc/free */
} sf_config_t;

/* Fills *cfg with the documented defaults above.
 * [opt] A core built for small firmware may leave features out (the
 * SF_NO_... build options, docs/PORTING.md "Build options": SF_NO_RACK, SF_NO_ECN,
 * SF_NO_SYNCOOKIE, SF_NO_IPFRAG, SF_NO_OFFLOAD, ...). There the default of the
 * field marked [opt] is off (false, SF_ECN_OFF, 0), and sf_stack_create
 * refuses a config that turns it on with SF_ENOTSUP. */
void sf_config_default(sf_config_t *cfg);

/* Creates a stack. `now_us` is the driver's monotonic clock. Returns 0 and
 * sets *out, or SF_EINVAL / SF_ENOMEM, or SF_ENOTSUP when cfg asks for a
 * feature this core was built without (see sf_config_default). Free with
 * sf_stack_destroy(). */
int sf_stack_create(const sf_config_t *cfg, int64_t now_us, sf_stack_t **out);
/* Frees the stack and every connection on it without sending anything. */
void sf_stack_destroy(sf_stack_t *st);

/* Hands one received IPv4 datagram to the stack. The frame is only read
 * during the call. Replies are queued for the next sf_stack_poll().
 * Returns 0, or the negative reason it was dropped (informational). */
int sf_stack_input(sf_stack_t *st, const uint8_t *frame, size_t len, int64_t now_us);
/* The same for a datagram a link with offloads delivered, with what the
 * link said about it (NULL: nothing, as sf_stack_input). A TCP super-segment
 * (GRO/LRO: off->gso_size, off->segs) is taken whole, as the segments it
 * stands for: one trace row with u.seg.segs, and the ACK decision counts
 * every segment in it (RFC 9293 §3.8.6.3, RFC 5681 §4.2: an ACK at least
 * every second full-sized segment), made once for the batch. A TCP checksum
 * marked csum_partial or csum_valid is not verified. */
int sf_stack_input_off(sf_stack_t *st, const uint8_t *frame, size_t len, const sf_offload_t *off,
                       int64_t now_us);
/* One received datagram of a batch. */
typedef struct sf_frame {
	const uint8_t *data;
	size_t len;
	const sf_offload_t *off; /* what the link said about it; NULL: nothing */
} sf_frame_t;
/* Hands n datagrams to the stack, processed in order exactly as
 * sf_stack_input_off would, but parsed ahead: the 4-tuple of each TCP
 * segment is hashed once and its connection and TIME-WAIT buckets are
 * prefetched before the segments are processed (a driver that drains
 * several frames per wake-up should prefer it). Frames are only read
 * during the call. Returns how many passed the IP layer (sf_stack_input
 * returned 0 for them); what TCP dropped is in the statistics, as ever. */
int sf_stack_input_batch(sf_stack_t *st, const sf_frame_t *frames, size_t n, int64_t now_us);
/* Runs due timers and sends every queued segment. Call after a batch of
 * input, after socket calls, and when sf_stack_next_deadline() is reached. */
void sf_stack_poll(sf_stack_t *st, int64_t now_us);
/* The time by which sf_stack_poll() must be called next: <= the current
 * time when output is queued, INT64_MAX when nothing is pending. */
int64_t sf_stack_next_deadline(const sf_stack_t *st);

/* Stack-wide counters. */
typedef struct sf_stack_stats {
	uint64_t ip_in, ip_out, tcp_in, tcp_out, icmp_in, icmp_out;
	uint64_t retransmits, rst_out, challenge_acks;
	uint64_t replies_limited; /* replies the RFC 5961 §7 limiter held back */
	uint64_t r1_advice;       /* times a connection's retransmissions reached cfg.r1 */
	/* What set retransmissions off: retransmission timeouts that fired
	 * (RFC 6298 (5.4)), and entries into fast recovery on duplicate ACKs
	 * or SACK (RFC 5681 §3.2, RFC 6675 §5). */
	uint64_t rto_timeouts, fast_recoveries;
	/* loss recovery: segments RACK marked lost, tail loss probes sent and
	 * those that repaired a loss, D-SACKs received and sent, congestion
	 * responses undone because D-SACKs showed the retransmissions spurious */
	uint64_t rack_lost, tlp_probes, tlp_recoveries, dsacks_rcvd, dsacks_sent, undos;
	/* D-SACK detail (RFC 2883, RFC 3708, RFC 8985 §6.2 step 4): segments
	 * D-SACKs reported received twice (our retransmissions that proved
	 * spurious, unless the network duplicated them; Linux's
	 * TCPDSACKRecvSegs); times RACK's reordering window grew on a D-SACK;
	 * and the sum over undos of cwnd after each, in segments (divide by
	 * undos for the mean). */
	uint64_t spurious_retx, reo_wnd_grown, undo_cwnd_segs;
	/* Retransmission timeouts shown spurious by a timestamp echo older
	 * than the timeout (RFC 3522) and undone (RFC 4015; also in undos). */
	uint64_t spurious_rtos;
	/* HyStart++ (RFC 9406): initial slow starts that turned conservative
	 * on a delay rise (CSS), CSS phases that ended in congestion avoidance
	 * without a loss, and CSS phases undone (the delay fell again) */
	uint64_t hystart_css, hystart_exits, hystart_resumes;
	/* SYN cookies sent, and ACKs whose cookie verified or did not */
	uint64_t syncookies_sent, syncookies_ok, syncookies_bad;
	/* ECN: CE-marked segments received; congestion responses to ECE/ACE */
	uint64_t ecn_ce_rcvd, ecn_responses;
	uint64_t conns_active, conns_passive, conns_failed;
	uint32_t conns_open, timewait_open;
	uint64_t bytes_allocated, allocs_live;
	uint64_t drops[SF_DROP_COUNT];
} sf_stack_stats_t;
void sf_stack_stats(const sf_stack_t *st, sf_stack_stats_t *out);
/* Connection blocks in each state now, into out[SF_STATE_COUNT] (CLOSED:
 * 0; the compact TIME-WAIT records are stats.timewait_open). Counted when
 * asked, by a walk over the blocks in use: O(connections), for monitoring,
 * not for every loop iteration. */
void sf_stack_conns_by_state(const sf_stack_t *st, uint32_t out[SF_STATE_COUNT]);

/* ---- sockets ----
 * Handles are small positive ints carrying a generation: a handle whose
 * connection was freed is reported as SF_EBADF, never followed. Every call
 * is non-blocking. */

typedef int sf_sock_t;

/* A new TCP socket in CLOSED state. Returns a handle or SF_ENOMEM. */
sf_sock_t sf_socket(sf_stack_t *st);
/* Binds the local port (0: an ephemeral port at connect). The local address
 * is always the stack's address (MUST-43/44/45). */
int sf_bind(sf_stack_t *st, sf_sock_t s, uint16_t port);
/* Passive OPEN: LISTEN with a backlog of completed connections (accept
 * queue). Several connections on one port are told apart by 4-tuple
 * (MUST-41, MUST-42). Returns 0, SF_EADDRINUSE, SF_EINVAL. */
int sf_listen(sf_stack_t *st, sf_sock_t s, int backlog);
/* Takes one established connection from the accept queue. Returns its
 * handle (owned by the caller; free with sf_close/sf_abort), or SF_EAGAIN. */
sf_sock_t sf_accept(sf_stack_t *st, sf_sock_t s, uint32_t *peer_addr, uint16_t *peer_port);
/* Active OPEN: queues a SYN (sent by the next sf_stack_poll). Returns
 * SF_EINPROGRESS; completion shows as writable in sf_poll, failure as an
 * error (SF_ECONNREFUSED, SF_ETIMEDOUT, SF_EUNREACH) from sf_sock_error /
 * sf_send / sf_recv. SF_EADDRNOTAVAIL for broadcast/multicast/invalid
 * destinations (MUST-46). */
int sf_connect(sf_stack_t *st, sf_sock_t s, uint32_t addr, uint16_t port);
/* Copies up to len bytes into the send buffer. Returns bytes taken (maybe
 * fewer than len), SF_EAGAIN when the buffer is full, SF_EPIPE after
 * shutdown/close, or the connection's error. */
long sf_send(sf_stack_t *st, sf_sock_t s, const void *buf, size_t len);
/* Like sf_send, and marks the data as urgent: segments carry URG and an
 * urgent pointer to the byte after it until it is acknowledged (RFC 9293
 * §3.8.5, MUST-30/62). Returns as sf_send. */
long sf_send_urgent(sf_stack_t *st, sf_sock_t s, const void *buf, size_t len);
/* Urgent data in the receive stream (MUST-32/33): returns 1 and sets
 * *bytes to how many bytes from the current read position up to the end
 * of the urgent data (the peer's urgent pointer), or 0 when none is
 * pending. Urgent data stays in line: sf_recv reads it in order. Readiness
 * reports SF_POLLPRI while it is pending. */
int sf_urgent_pending(sf_stack_t *st, sf_sock_t s, uint32_t *bytes);
/* Reads up to len bytes. Returns bytes read, 0 at end of stream (the peer's
 * FIN, after all data), SF_EAGAIN when nothing is there yet, or the
 * connection's error (SF_ECONNRESET, ...). */
long sf_recv(sf_stack_t *st, sf_sock_t s, void *buf, size_t len);
#define SF_SHUT_RD   1
#define SF_SHUT_WR   2
#define SF_SHUT_RDWR 3
/* SF_SHUT_WR sends FIN after the buffered data; receiving goes on
 * (half-close). SF_SHUT_RD ends the receiving side for the application
 * only (BSD semantics): unread data is discarded, sf_recv returns 0 (end
 * of file; a pending connection error first) from then on, and data that
 * still arrives is acknowledged and discarded, so the peer can finish
 * sending and close normally. (TCP has no way to tell the peer; RFC 9293
 * §3.6's reset is for data reaching a fully closed connection.) */
int sf_shutdown(sf_stack_t *st, sf_sock_t s, int how);
/* CLOSE: the handle is released; the connection finishes in the
 * background (FIN after buffered data, TIME-WAIT as due). If unread data
 * is pending, or arrives later, the connection is reset instead (RFC 9293
 * §3.6, RFC 2525 §2.17). */
int sf_close(sf_stack_t *st, sf_sock_t s);
/* ABORT: sends RST (when synchronized), frees the connection at once. */
int sf_abort(sf_stack_t *st, sf_sock_t s);

/* The pending error of a connection (and clears it), 0 if none. */
int sf_sock_error(sf_stack_t *st, sf_sock_t s);
int sf_getsockname(sf_stack_t *st, sf_sock_t s, uint32_t *addr, uint16_t *port);
int sf_getpeername(sf_stack_t *st, sf_sock_t s, uint32_t *addr, uint16_t *port);
/* The connection id used in trace events. */
uint32_t sf_sock_conn_id(sf_stack_t *st, sf_sock_t s);
/* A small number for an application's per-socket table: in [0,
 * cfg.max_conns), never the same for two sockets open at once (a closed
 * socket's number is reused). SF_EBADF for a stale handle. */
int sf_sock_slot(sf_stack_t *st, sf_sock_t s);

enum sf_sockopt {
	SF_SO_NODELAY = 1,  /* bool: disable Nagle (MUST-17) */
	SF_SO_KEEPALIVE,    /* bool: keepalives (off by default, MUST-24/25; SF_ENOTSUP
	                       to turn on in a core built with SF_NO_KEEPALIVE) */
	SF_SO_KEEPIDLE,     /* seconds */
	SF_SO_KEEPINTVL,    /* seconds */
	SF_SO_KEEPCNT,      /* probes */
	SF_SO_USER_TIMEOUT, /* ms: R2 for this connection (MUST-21) */
	SF_SO_LINGER,       /* int: -1 off; 0: close aborts with RST */
	SF_SO_TTL,          /* IPv4 TTL (MUST-49) */
	SF_SO_TOS,          /* DSCP<<2 | ECN (MUST-48) */
	SF_SO_CONGESTION,   /* SF_CC_CUBIC or SF_CC_NEWRENO */
	SF_SO_SNDBUF,       /* send buffer bytes, before the connection opens */
	SF_SO_RCVBUF,       /* receive buffer bytes, before the connection opens */
	/* int 88..65535: the largest segment (TCP_MAXSEG-like). Before the
	 * connection opens it also lowers the MSS we announce; on an open
	 * connection it lowers the send MSS from then on. Reads back the
	 * effective send MSS once synchronized. A listener's children
	 * inherit it. */
	SF_SO_MAXSEG,
	/* bool (TCP_CORK-like): hold segments shorter than a full one until
	 * the option is cleared, a full segment's worth is queued, or the
	 * sending side is shut (the FIN goes with the tail). Clearing it
	 * sends what was held. */
	SF_SO_CORK,
};
int sf_setsockopt(sf_stack_t *st, sf_sock_t s, int opt, int value);
int sf_getsockopt(sf_stack_t *st, sf_sock_t s, int opt, int *value);

/* Readiness, as poll(2). */
#define SF_POLLIN  0x01 /* data, end of stream, or a connection to accept */
#define SF_POLLPRI 0x02 /* urgent data pending (sf_urgent_pending) */
#define SF_POLLOUT 0x04 /* send buffer has room (and the connection is open) */
#define SF_POLLERR 0x08 /* an error is pending */
#define SF_POLLHUP 0x10 /* both directions are closed */
typedef struct sf_pollfd {
	sf_sock_t sock;
	short events, revents;
} sf_pollfd_t;
/* Fills revents of each entry; returns the number with revents != 0.
 * Never blocks: wait on the driver's side, then call again. */
int sf_poll(sf_stack_t *st, sf_pollfd_t *fds, size_t n);

/* Readiness changes, edge-triggered (as epoll's EPOLLET), for servers with
 * many sockets of which few are busy: writes to out[0..max) the sockets on
 * which something happened since they were last taken — a segment arrived
 * (data, an ACK that makes room to send, FIN, RST), the state changed
 * (including a timer giving up), a connection joined a listener's accept
 * queue — and returns how many. Each socket is listed once however many
 * events it had, oldest first; what max leaves is kept for the next call.
 * The application's reads and sends list nothing (a state change its
 * calls make, as listen or shutdown, does). After a socket is listed, read
 * (or accept) until SF_EAGAIN and send until SF_EAGAIN: a socket that is
 * not listed again has had nothing new. Sockets closed since are left out.
 * One reader per stack: a socket taken is gone for any other caller (an
 * sf_http_server reads its stack's list).
 * No allocation, O(returned). Returns SF_EINVAL (NULL, max < 0), or
 * SF_ENOTSUP in a build with SF_NO_READY. */
int sf_ready_take(sf_stack_t *st, sf_sock_t *out, int max);

/* Connection statistics, like Linux TCP_INFO. */
typedef struct sf_tcp_info {
	sf_state_t state;
	uint32_t srtt_us, rttvar_us, rto_us;
	uint32_t snd_mss, rcv_mss;
	uint32_t cwnd, ssthresh;   /* bytes */
	uint32_t snd_wnd, rcv_wnd; /* bytes */
	uint32_t retransmits;      /* total segments retransmitted */
	uint32_t backoff;          /* current RTO backoff count */
	uint64_t bytes_sent, bytes_acked, bytes_received;
	bool sack_ok, ts_ok;
	uint8_t ecn;                    /* SF_ECN_* negotiated */
	uint8_t snd_wscale, rcv_wscale; /* meaningful when wscale_ok */
	bool wscale_ok;
} sf_tcp_info_t;
int sf_tcp_info(sf_stack_t *st, sf_sock_t s, sf_tcp_info_t *out);

#ifdef __cplusplus
}
#endif
#endif
