/* synfin netdevs: the one interface every link implements.
 *
 * A netdev moves whole IPv4 datagrams (no link-layer header), or, when its
 * `link` is SF_LINK_ETHERNET (a TAP device), whole Ethernet frames for an
 * sf_eth_t (include/synfin/eth.h) to frame and resolve. Links compose:
 * an impairment wrapper or a pcap tap wraps any other netdev. Netdevs are
 * driven by their owner (a loop, the simulator, a test); they never call into
 * a stack by themselves.
 */
#ifndef SYNFIN_NETDEV_H
#define SYNFIN_NETDEV_H

#include <stddef.h>
#include <stdint.h>

#include "synfin/trace.h"
#include "synfin/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SF_NO_DEADLINE INT64_MAX

typedef struct sf_netdev sf_netdev_t;

/* What a netdev's frames are. */
enum sf_link_kind {
	SF_LINK_IP = 0,       /* IPv4 datagrams (TUN, the simulator) */
	SF_LINK_ETHERNET = 1, /* Ethernet II frames without FCS (TAP) */
};

struct sf_netdev {
	const char *name;
	uint16_t mtu; /* largest frame: the IPv4 MTU, plus 14 on Ethernet */
	uint8_t link; /* enum sf_link_kind; wrappers take their inner netdev's */
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
	/* Offloads (the virtio-net header of a TUN device): what the link
	 * takes and delivers, SF_NETDEV_OFF_* bits; 0 for a plain link. A
	 * wrapper that carries them through sets them from its inner netdev. */
	uint32_t offloads;
	/* Like transmit, with what the link still has to do to the datagram:
	 * complete a partial TCP checksum (SF_NETDEV_OFF_CSUM), cut a TSO
	 * super-segment at off->gso_size (SF_NETDEV_OFF_TSO). NULL without
	 * offloads. */
	int (*transmit_off)(sf_netdev_t *dev, const uint8_t *frame, size_t len,
	                    const sf_offload_t *off, int64_t now_us);
	/* Like receive, and fills *off: a super-segment the kernel did not cut
	 * (gso_size, segs), a checksum it left partial or found valid. NULL
	 * without offloads (receive() then hands over only plain datagrams
	 * with complete checksums, larger ones whole). */
	int (*receive_off)(sf_netdev_t *dev, uint8_t *buf, size_t cap, sf_offload_t *off,
	                   int64_t now_us);
};

#define SF_NETDEV_OFF_CSUM 1u /* partial TCP checksums both ways (TUN_F_CSUM) */
#define SF_NETDEV_OFF_TSO  2u /* TCP super-segments both ways (TUN_F_TSO4) */

static inline int sf_netdev_transmit(sf_netdev_t *d, const uint8_t *f, size_t n, int64_t now)
{
	return d->transmit(d, f, n, now);
}
static inline int sf_netdev_receive(sf_netdev_t *d, uint8_t *b, size_t cap, int64_t now)
{
	return d->receive(d, b, cap, now);
}
/* transmit_off when the netdev has it, else transmit (`off` must then ask
 * for nothing: the caller only asks for offloads d->offloads names). */
static inline int sf_netdev_transmit_off(sf_netdev_t *d, const uint8_t *f, size_t n,
                                         const sf_offload_t *off, int64_t now)
{
	return d->transmit_off ? d->transmit_off(d, f, n, off, now) : d->transmit(d, f, n, now);
}
/* receive_off when the netdev has it, else receive with *off zeroed. */
static inline int sf_netdev_receive_off(sf_netdev_t *d, uint8_t *b, size_t cap, sf_offload_t *off,
                                        int64_t now)
{
	if (d->receive_off)
		return d->receive_off(d, b, cap, off, now);
	*off = (sf_offload_t){0};
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

/* Writes LINKTYPE_RAW (IPv4) records (LINKTYPE_ETHERNET for an Ethernet
 * netdev) with now_us timestamps. Takes ownership
 * of `inner`; returns NULL (and sets *err) if the file cannot be opened. */
sf_netdev_t *sf_pcap_tap_wrap(sf_netdev_t *inner, const char *path, int *err);

/* ---- TUN (Linux /dev/net/tun, IFF_TUN | IFF_NO_PI [| IFF_VNET_HDR]) ---- */

typedef struct sf_tun_config {
	const char *name;   /* interface name, "" or NULL for the kernel's choice */
	uint32_t peer_addr; /* address of the kernel side (host order), 0: leave down */
	int prefix_len;     /* route prefix for the kernel side */
	uint16_t mtu;       /* 0: 1500 */
	/* Ask for the virtio-net header offloads (IFF_VNET_HDR, TUNSETOFFLOAD
	 * with TUN_F_CSUM | TUN_F_TSO4): super-segments and partial checksums
	 * both ways. When the kernel refuses, the device is a plain TUN
	 * (offloads 0): nothing else changes. */
	bool offload;
} sf_tun_config_t;

/* Opens a TUN device, sets the kernel side's address, MTU and link up, and
 * the kernel's transmit queue toward us to 10,000 frames (its default of
 * 500 overflows when a thousand clients send at once; best effort).
 * Needs CAP_NET_ADMIN. Returns NULL and sets *err on failure. */
sf_netdev_t *sf_tun_open(const sf_tun_config_t *cfg, int *err);
/* Queues of one multiqueue TUN device at most. */
#define SF_TUN_MAX_QUEUES 64
/* Opens one TUN device with n queues (IFF_MULTI_QUEUE when n > 1): devs[i]
 * is queue i, a netdev with its own fd, for one thread (and one stack)
 * each; the kernel spreads flows over the queues by their hash and keeps
 * a flow on the queue it is answered from. The kernel side is configured
 * as sf_tun_open does. Each netdev is destroyed on its own; the device
 * disappears with the last. Returns 0 or a negative SF_E* code (nothing
 * is left open). */
int sf_tun_open_multi(const sf_tun_config_t *cfg, unsigned n, sf_netdev_t **devs);
/* Opens a TAP device (IFF_TAP | IFF_NO_PI, one queue, no offloads): the
 * same configuration, but the netdev carries Ethernet frames (link
 * SF_LINK_ETHERNET, mtu cfg->mtu + 14) and the kernel side answers ARP with
 * its own MAC. */
sf_netdev_t *sf_tap_open(const sf_tun_config_t *cfg, int *err);
/* The interface name the kernel gave a TUN or TAP device. */
const char *sf_tun_name(sf_netdev_t *dev);

#ifdef __cplusplus
}
#endif
#endif
