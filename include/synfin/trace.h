/* synfin trace events: one typed stream of everything that happens.
 *
 * Every segment sent or received, every state change (from, to, cause),
 * every timer that fires, every dropped packet (with a reason) and every
 * connection created or freed is an sf_event_t handed to one sink. The ladder
 * renderer, the pcap writer, the JSON-lines log and the tests all consume the
 * same stream. An event is only valid during the sink call: copy what you
 * keep. The format of the JSON-lines writer is in docs/TRACE_FORMAT.md.
 */
#ifndef SYNFIN_TRACE_H
#define SYNFIN_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#if __STDC_HOSTED__
#include <stdio.h>
#endif

#include "synfin/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* TCP connection states, RFC 9293 §3.3.2. */
typedef enum sf_state {
	SF_CLOSED = 0,
	SF_LISTEN,
	SF_SYN_SENT,
	SF_SYN_RECEIVED,
	SF_ESTABLISHED,
	SF_FIN_WAIT_1,
	SF_FIN_WAIT_2,
	SF_CLOSE_WAIT,
	SF_CLOSING,
	SF_LAST_ACK,
	SF_TIME_WAIT,
	SF_STATE_COUNT
} sf_state_t;

/* "CLOSED", "SYN-RECEIVED", "FIN-WAIT-1", ... (RFC spelling). */
const char *sf_state_name(sf_state_t s);

/* Why a state changed. */
typedef enum sf_cause {
	SF_CAUSE_APP_CONNECT = 0, /* active OPEN */
	SF_CAUSE_APP_LISTEN,      /* passive OPEN */
	SF_CAUSE_APP_CLOSE,       /* CLOSE / shutdown of the sending side */
	SF_CAUSE_APP_ABORT,       /* ABORT */
	SF_CAUSE_RCV_SYN,
	SF_CAUSE_RCV_SYNACK,
	SF_CAUSE_RCV_ACK,
	SF_CAUSE_RCV_FIN,
	SF_CAUSE_RCV_FINACK, /* FIN that also acknowledges our FIN */
	SF_CAUSE_RCV_RST,
	SF_CAUSE_TIMEOUT,  /* retransmission limit (R2), user timeout */
	SF_CAUSE_TIMEWAIT, /* 2*MSL expired */
	SF_CAUSE_FINWAIT2, /* orphaned FIN-WAIT-2 timed out */
	SF_CAUSE_ICMP,     /* ICMP hard error */
	SF_CAUSE_REUSE,    /* TIME-WAIT reopened by a new SYN (RFC 6191) */
	SF_CAUSE_EVICTED,  /* half-open entry given up for a new SYN (RFC 4987 §3.4) */
	SF_CAUSE_COUNT
} sf_cause_t;
const char *sf_cause_name(sf_cause_t c);

typedef enum sf_timer_kind {
	SF_TIMER_RTO = 0, /* retransmission (data, SYN or FIN) */
	SF_TIMER_DELACK,  /* delayed ACK */
	SF_TIMER_PERSIST, /* zero-window probe */
	SF_TIMER_KEEPALIVE,
	SF_TIMER_TIMEWAIT, /* 2*MSL */
	SF_TIMER_FINWAIT2,
	SF_TIMER_RACK, /* RACK reordering window passed (RFC 8985 §6.3) */
	SF_TIMER_TLP,  /* tail loss probe timeout (RFC 8985 §7) */
	SF_TIMER_COUNT
} sf_timer_kind_t;
const char *sf_timer_name(sf_timer_kind_t t);

/* What detected the loss that a retransmission repairs (SF_EV_SEG_TX). */
typedef enum sf_retx_cause {
	SF_RETX_NONE = 0, /* not a retransmission */
	SF_RETX_RTO,      /* the retransmission timer expired (RFC 6298) */
	SF_RETX_DUPACK,   /* duplicate ACKs / SACK DupThresh (RFC 5681, 6582, 6675) */
	SF_RETX_RACK,     /* RACK: a later segment was delivered (RFC 8985 §6) */
	SF_RETX_TLP,      /* a tail loss probe (RFC 8985 §7) */
	SF_RETX_COUNT
} sf_retx_cause_t;
/* "rto", "dupack", "rack", "tlp" ("" for SF_RETX_NONE). */
const char *sf_retx_cause_name(sf_retx_cause_t c);

/* Why a packet was dropped. Each stack-side reason has a counter in the
 * stack statistics. */
typedef enum sf_drop_reason {
	SF_DROP_IP_TRUNCATED = 0,
	SF_DROP_IP_MALFORMED,
	SF_DROP_IP_CHECKSUM,
	SF_DROP_IP_NOT_FOR_US, /* destination is not our address */
	SF_DROP_IP_BAD_SOURCE, /* broadcast/multicast/invalid source (MUST-63) */
	SF_DROP_IP_BCAST_DEST, /* to broadcast/multicast (MUST-57) */
	SF_DROP_IP_FRAGMENT,   /* fragment not reassembled */
	SF_DROP_IP_PROTO,      /* unsupported protocol */
	SF_DROP_TCP_TRUNCATED,
	SF_DROP_TCP_MALFORMED, /* bad data offset or option length (MUST-7) */
	SF_DROP_TCP_CHECKSUM,
	SF_DROP_TCP_BAD_FLAGS,     /* e.g. SYN+FIN, SYN+RST, no flags */
	SF_DROP_TCP_NO_SOCKET,     /* nothing listens; answered with RST */
	SF_DROP_TCP_OUT_OF_WINDOW, /* unacceptable sequence (ACKed) */
	SF_DROP_TCP_BAD_ACK,       /* ACK outside [SND.UNA - MAX.SND.WND, SND.NXT] */
	SF_DROP_TCP_RST_IGNORED,   /* RST out of window or in TIME-WAIT */
	SF_DROP_TCP_CHALLENGE,     /* answered with a challenge ACK (RFC 5961) */
	SF_DROP_TCP_SYN_QUEUE_FULL,
	SF_DROP_TCP_ACCEPT_QUEUE_FULL,
	SF_DROP_TCP_NO_MEMORY,  /* budget exhausted */
	SF_DROP_TCP_PAWS,       /* old timestamp (RFC 7323 §5) */
	SF_DROP_TCP_BAD_COOKIE, /* an ACK to a listener with a SYN cookie that fails */
	SF_DROP_ICMP_TRUNCATED,
	SF_DROP_ICMP_CHECKSUM,
	SF_DROP_ICMP_IGNORED, /* e.g. source quench (MUST-55), unknown type */
	/* Lost by synfin's own impairment layer (--loss, blackout, queue), not
	 * by the stack: counted in the link statistics, not the stack's. */
	SF_DROP_LINK_IMPAIR_TX, /* a frame the stack sent (after its seg_tx) */
	SF_DROP_LINK_IMPAIR_RX, /* a frame for the stack, before it saw it */
	/* The Ethernet/ARP link layer (include/synfin/eth.h), counted in
	 * sf_eth_stats_t rather than the stack statistics: */
	SF_DROP_ETH_TRUNCATED,  /* shorter than an Ethernet header */
	SF_DROP_ETH_NOT_FOR_US, /* destination neither our MAC nor broadcast */
	SF_DROP_ETH_BAD_SOURCE, /* broadcast/multicast source, or our own MAC */
	SF_DROP_ETH_TYPE,       /* neither IPv4 nor ARP (or an 802.3 length) */
	SF_DROP_ARP_MALFORMED,  /* truncated, or not Ethernet/IPv4, or bad opcode */
	SF_DROP_ARP_IGNORED,    /* not about us, or a sender we cannot accept */
	SF_DROP_ARP_QUEUE_FULL, /* a datagram waiting for resolution was displaced */
	SF_DROP_ARP_UNRESOLVED, /* the next hop never answered our requests */
	SF_DROP_IP_NOT_V4,      /* another IP version (IPv6) on the link: not malformed */
	SF_DROP_COUNT
} sf_drop_reason_t;
/* "ip_checksum", "tcp_out_of_window", ... (stable identifiers). */
const char *sf_drop_name(sf_drop_reason_t r);

typedef enum sf_event_kind {
	SF_EV_SEG_TX = 0, /* a segment left the stack */
	SF_EV_SEG_RX,     /* a valid segment arrived for a connection/listener */
	SF_EV_STATE,      /* a connection changed state */
	SF_EV_TIMER,      /* a timer fired */
	SF_EV_DROP,       /* a packet was dropped */
	SF_EV_CONN_NEW,   /* a connection block was created */
	SF_EV_CONN_FREE,  /* a connection block was freed */
	SF_EV_COUNT
} sf_event_kind_t;
const char *sf_event_kind_name(sf_event_kind_t k);

typedef struct sf_event {
	sf_event_kind_t kind;
	int64_t now_us;   /* the stack's clock at the event */
	uint32_t conn_id; /* connection id, 0 when none (e.g. a dropped packet) */
	union {
		struct {
			sf_ipv4_t ip;
			sf_tcp_t tcp; /* payload_len is the data length */
			/* SF_EV_SEG_TX: what detected the loss this segment
			 * repairs; SF_RETX_NONE for a first transmission */
			sf_retx_cause_t retx;
			/* Wire segments this one stands for: > 1 for a TSO/GRO
			 * super-segment of an offloading link, each of the MSS
			 * (the last maybe shorter); 0 or 1: one. */
			uint16_t segs;
		} seg; /* SF_EV_SEG_TX, SF_EV_SEG_RX, and SF_EV_DROP when parsed */
		struct {
			sf_state_t from, to;
			sf_cause_t cause;
		} state;
		struct {
			sf_timer_kind_t timer;
			uint32_t count; /* retransmission/probe count after firing */
		} timer;
	} u;
	sf_drop_reason_t drop; /* SF_EV_DROP only */
	bool has_seg;          /* SF_EV_DROP: u.seg holds the parsed headers */
	/* SF_EV_SEG_TX of a connection (has_tcb): the engine's numbers as it
	 * sent the segment, for views that step through a connection. */
	bool has_tcb;
	struct sf_event_tcb {
		uint32_t cwnd, ssthresh;   /* bytes */
		uint32_t srtt_us, rto_us;  /* 0 srtt: no sample yet */
		uint32_t in_flight;        /* SND.MAX - SND.UNA, bytes */
		uint32_t rcv_wnd, snd_wnd; /* bytes */
	} tcb;
} sf_event_t;

/* A trace sink. `fn` is called synchronously from inside the stack; it must
 * not call back into the stack. */
typedef struct sf_trace_sink {
	void (*fn)(void *ctx, const sf_event_t *ev);
	void *ctx;
} sf_trace_sink_t;

#if __STDC_HOSTED__ /* the JSON writer is in the host library (libsynfin) */
/* Writes one event as one JSON object and a newline (docs/TRACE_FORMAT.md).
 * Returns the number of bytes written, or a negative value on I/O error. */
int sf_trace_json_write(FILE *out, const sf_event_t *ev);
/* A sink whose ctx is a FILE* and writes JSON lines. */
void sf_trace_json_sink(void *file, const sf_event_t *ev);
#endif

#ifdef __cplusplus
}
#endif
#endif
