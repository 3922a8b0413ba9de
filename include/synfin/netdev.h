/* synfin netdevs: the one interface every link implements.
 *
 * A netdev moves whole IPv4 datagrams (no link-layer header). Links compose:
 * an impairment wrapper or a pcap tap wraps any other netdev. Netdevs are
 * driven by their owner (a loop, the simulator, a test); they never call into
 * a stack by themselves.
 */
#ifndef SYNFIN_NETDEV_H
#define SYNFIN_NETDEV_H

#include <stddef.h>
#include <stdint.h>

#include "synfin/trace.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SF_NO_DEADLINE INT64_MAX

typedef struct sf_netdev sf_netdev_t;

struct sf_netdev {
	const char *name;
	uint16_t mtu;
	/* Sends one datagram. The frame is copied or written out before the
	 * call returns. Returns 0, or a negative SF_E* code (the frame is lost,
	 * as on a real wire). */
	int (*transmit)(sf_netdev_t *dev, const uint8_t *frame, size_t len, int64_t now_us);
	/* Receives one datagram into buf if one is due at now_us. Returns its
	 * length, 0 when none is ready, or a negative SF_E* code. */
	int (*receive)(sf_netdev_t *dev, uint8_t *buf, size_t cap, int64_t now_us);
	/* When the next datagram becomes receivable without outside input
	 * (simulated delay); SF_NO_DEADLINE when that depends on an fd or on
	 * nothing. May be NULL. */
	int64_t (*next_deadline)(sf_netdev_t *dev);
	/* A file descriptor that becomes readable when receive() may return
	 * data, or -1. May be NULL. */
	int (*fd)(sf_netdev_t *dev);
	/* Frees the netdev (and, for wrappers, the netdev it wraps). */
	void (*destroy)(sf_netdev_t *dev);
};

static inline int sf_netdev_transmit(sf_netdev_t *d, const uint8_t *f, size_t n, int64_t now)
{
	return d->transmit(d, f, n, now);
}
static inline int sf_netdev_receive(sf_netdev_t *d, uint8_t *b, size_t cap, int64_t now)
{
	return d->receive(d, b, cap, now);
}
static inline int64_t sf_netdev_next_deadline(sf_netdev_t *d)
{
	return d->next_deadline ? d->next_deadline(d) : SF_NO_DEADLINE;
}
static inline void sf_netdev_destroy(sf_netdev_t *d)
{
	if (d)
		d->destroy(d);
}

/* ---- impairments (seeded, deterministic, composable per direction) ---- */

typedef struct sf_impair {
	double loss;         /* probability a frame is lost, 0..1 */
	uint32_t loss_every; /* additionally lose every Nth frame (0: off) */
	double dup;          /* probability a frame is delivered twice */
	double reorder;      /* probability a frame is held back by reorder_us */
	int64_t reorder_us;
	double corrupt;       /* probability one bit of a frame is flipped */
	int64_t delay_us;     /* one-way delay */
	int64_t jitter_us;    /* uniform extra delay 0..jitter_us (may reorder) */
	uint64_t rate_bps;    /* bandwidth limit in bits/s (0: unlimited) */
	uint32_t queue_limit; /* frames queued at most behind the rate limit (0: 1000) */
	int64_t blackout_start_us, blackout_end_us; /* link down in [start, end) */
	/* ECN marking (RFC 3168 §5), of IPv4 frames sent ECT(0) or ECT(1) only:
	 * a frame that finds ce_threshold frames or more waiting at the
	 * bottleneck is marked CE, as a simple AQM would (0: off; needs
	 * rate_bps), and any such frame is marked with probability ce_mark. */
	uint32_t ce_threshold;
	double ce_mark;
} sf_impair_t;

/* ---- simulated link: two endpoints in one process ---- */

typedef struct sf_sim_link sf_sim_link_t;

/* Creates a link between endpoint 0 and endpoint 1. `a_to_b` impairs frames
 * sent by endpoint 0, `b_to_a` those sent by endpoint 1 (NULL: perfect).
 * The same seed gives the same losses, every run. */
sf_sim_link_t *sf_sim_link_create(uint64_t seed, uint16_t mtu, const sf_impair_t *a_to_b,
                                  const sf_impair_t *b_to_a);
/* The netdev of endpoint 0 or 1. Owned by the link: do not destroy it. */
sf_netdev_t *sf_sim_link_endpoint(sf_sim_link_t *link, int side);
/* Counters: frames sent, delivered, lost, duplicated, corrupted, reordered. */
typedef struct sf_sim_stats {
	uint64_t sent, delivered, lost, duplicated, corrupted, reordered, queue_drops;
	uint64_t ce_marked; /* ECT frames marked CE */
} sf_sim_stats_t;
void sf_sim_link_stats(const sf_sim_link_t *link, int side, sf_sim_stats_t *out);
void sf_sim_link_destroy(sf_sim_link_t *link);

/* Wraps `inner` so frames it transmits and receives are impaired. Takes
 * ownership of `inner`. tx/rx may be NULL for no impairment. */
sf_netdev_t *sf_impair_wrap(sf_netdev_t *inner, uint64_t seed, const sf_impair_t *tx,
                            const sf_impair_t *rx);
/* Tells `sink` of every frame the wrapper `dev` (from sf_impair_wrap) loses:
 * an SF_EV_DROP with reason SF_DROP_LINK_IMPAIR_TX (a frame the stack sent)
 * or SF_DROP_LINK_IMPAIR_RX (one for the stack), with its headers when it
 * is TCP/IPv4, at the time it was lost, connection id 0. It is called from
 * the wrapper's transmit and receive, so it may be the stack's own sink
 * (which must not call back into the stack anyway). A sink with a NULL fn
 * turns it off. */
void sf_impair_set_trace(sf_netdev_t *dev, sf_trace_sink_t sink);

/* ---- pcap tap: every frame through `inner`, both ways, to a pcap file ---- */

/* Writes LINKTYPE_RAW (IPv4) records with now_us timestamps. Takes ownership
 * of `inner`; returns NULL (and sets *err) if the file cannot be opened. */
sf_netdev_t *sf_pcap_tap_wrap(sf_netdev_t *inner, const char *path, int *err);

/* ---- TUN (Linux /dev/net/tun, IFF_TUN | IFF_NO_PI) ---- */

typedef struct sf_tun_config {
	const char *name;   /* interface name, "" or NULL for the kernel's choice */
	uint32_t peer_addr; /* address of the kernel side (host order), 0: leave down */
	int prefix_len;     /* route prefix for the kernel side */
	uint16_t mtu;       /* 0: 1500 */
} sf_tun_config_t;

/* Opens a TUN device, sets the kernel side's address, MTU and link up.
 * Needs CAP_NET_ADMIN. Returns NULL and sets *err on failure. */
sf_netdev_t *sf_tun_open(const sf_tun_config_t *cfg, int *err);
/* The interface name the kernel gave it. */
const char *sf_tun_name(sf_netdev_t *dev);

#ifdef __cplusplus
}
#endif
#endif
