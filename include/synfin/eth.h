/* synfin Ethernet: an Ethernet II interface with ARP (RFC 826) in front of a
 * stack, for MAC drivers and TAP devices.
 *
 * The stack itself moves IPv4 datagrams. An Ethernet interface owns one stack
 * and sits between it and the driver: datagrams the stack sends get an
 * Ethernet header addressed to the next hop's MAC, found in a bounded ARP
 * cache (or asked for with an ARP request while the datagram waits in a
 * bounded queue); frames the driver receives are checked (our MAC or
 * broadcast, a unicast sender, IPv4 or ARP) and either handed to the stack or
 * answered (ARP requests for our address). The interface announces itself
 * with gratuitous ARP (RFC 5227 §2.3) when it starts.
 *
 * Like the stack it never reads a clock and never makes a system call: the
 * driver passes now_us and drives the interface instead of the stack:
 *
 *   sf_eth_create(&ecfg, &cfg, now_us(), &eth);   // ecfg.transmit: the MAC
 *   sf_stack_t *st = sf_eth_stack(eth);           // sockets as usual
 *   for (;;) {
 *       while ((n = mac_receive(buf)) > 0)
 *           sf_eth_input(eth, buf, n, now_us());
 *       sf_eth_poll(eth, now_us());               // ARP timers, then the stack
 *       sleep_until(sf_eth_next_deadline(eth));
 *   }
 *
 * All memory (the cache, the waiting datagrams) is taken at creation; the
 * per-frame path does not allocate. Malformed or unwanted frames are
 * dropped, counted in sf_eth_stats_t and traced (SF_EV_DROP with an
 * SF_DROP_ETH_* / SF_DROP_ARP_* reason) to the stack config's trace sink.
 */
#ifndef SYNFIN_ETH_H
#define SYNFIN_ETH_H

#include <stddef.h>
#include <stdint.h>

#include "synfin/synfin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sf_eth sf_eth_t;

typedef struct sf_eth_config {
	uint8_t mac[SF_ETH_ADDR_LEN];  /* our MAC: unicast, not all zero; default
	                                  02:00:00:00:00:01 (locally administered) */
	uint32_t gateway;              /* next hop for destinations outside our subnet (host
	                                  order); 0: every destination is resolved directly */
	uint32_t arp_entries;          /* ARP cache entries; default 8 */
	uint32_t arp_queue;            /* datagrams waiting for resolution, in all; default 4 */
	uint32_t arp_timeout_ms;       /* a resolved entry is forgotten after this; 60000 */
	uint32_t arp_retry_ms;         /* between two requests for one address; 1000
	                                  (RFC 1122 §2.3.2.1: at most one per second) */
	uint32_t arp_retries;          /* requests before the address is given up; 3 */
	uint32_t announce_cnt;         /* gratuitous ARPs at start (RFC 5227 ANNOUNCE_NUM); 2 */
	uint32_t announce_interval_ms; /* between them (ANNOUNCE_INTERVAL); 2000 */
	/* Sends one Ethernet frame (header included, at least SF_ETH_MIN_FRAME
	 * bytes, no FCS). Called from inside sf_eth_poll() and sf_eth_input()
	 * only; the frame is valid during the call only. Returns 0 or a negative
	 * SF_E* code (the frame is lost, as on a wire). */
	int (*transmit)(void *ctx, const uint8_t *frame, size_t len, int64_t now_us);
	void *transmit_ctx;
} sf_eth_config_t;

/* Fills *cfg with the defaults above (transmit NULL: must be set). */
void sf_eth_config_default(sf_eth_config_t *cfg);

/* Creates an Ethernet interface and its stack. `stack_cfg` is the stack's
 * config as for sf_stack_create(): its address and prefix are the ones ARP
 * answers for, its mtu the largest IPv4 datagram (frames are 14 bytes
 * longer), and its trace sink and allocator serve the interface too; its
 * transmit fields are replaced by the interface's. Returns 0 and sets *out,
 * SF_EINVAL (no transmit, a group or zero MAC, zero entries or queue) or
 * SF_ENOMEM. Free with sf_eth_destroy(). */
int sf_eth_create(const sf_eth_config_t *cfg, const sf_config_t *stack_cfg, int64_t now_us,
                  sf_eth_t **out);
/* Frees the interface, its stack and every datagram still waiting. */
void sf_eth_destroy(sf_eth_t *eth);
/* The stack on the interface (owned by it). */
sf_stack_t *sf_eth_stack(sf_eth_t *eth);

/* Hands one received Ethernet frame (no FCS) to the interface: IPv4 goes to
 * the stack (sf_stack_input), ARP is answered or learnt from. The frame is
 * only read during the call. Returns 0, or the negative reason it was
 * dropped (informational). */
int sf_eth_input(sf_eth_t *eth, const uint8_t *frame, size_t len, int64_t now_us);
/* Sends due gratuitous ARPs and ARP retries, forgets expired entries (and
 * drops the datagrams of addresses given up), then runs sf_stack_poll(). Use
 * it instead of sf_stack_poll(). */
void sf_eth_poll(sf_eth_t *eth, int64_t now_us);
/* The earliest of the stack's deadline and the interface's own. */
int64_t sf_eth_next_deadline(const sf_eth_t *eth);

/* The MAC cached for `addr`: returns 0 and fills mac, or SF_EAGAIN while it
 * is being resolved, or SF_EUNREACH when there is no entry. */
int sf_eth_arp_lookup(const sf_eth_t *eth, uint32_t addr, uint8_t mac[SF_ETH_ADDR_LEN]);

typedef struct sf_eth_stats {
	uint64_t frames_in, frames_out; /* every frame received / transmitted */
	uint64_t arp_requests_in, arp_replies_in;
	uint64_t arp_requests_out, arp_replies_out, arp_announces_out;
	uint64_t queued;               /* datagrams that waited for resolution */
	uint64_t cache_evictions;      /* entries replaced while still valid */
	uint64_t tx_errors;            /* frames the driver refused */
	uint64_t drops[SF_DROP_COUNT]; /* the SF_DROP_ETH_* / SF_DROP_ARP_* counts */
	uint64_t bytes_allocated;      /* held by the interface (not its stack) */
} sf_eth_stats_t;
void sf_eth_stats(const sf_eth_t *eth, sf_eth_stats_t *out);

#ifdef __cplusplus
}
#endif
#endif
