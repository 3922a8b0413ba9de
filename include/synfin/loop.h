/* synfin loop: a ready-made event loop for applications that just want to run.
 *
 * A loop owns one netdev (usually a TUN device, possibly wrapped by an
 * impairment wrapper and a pcap tap) and one stack on it, and drives both in
 * real time (CLOCK_MONOTONIC): it sleeps in epoll until the earliest of the
 * stack's deadline, the netdev's deadline (delayed frames of an impairment),
 * the application's own deadline and any registered fd becoming readable;
 * then it drains up to SF_LOOP_BATCH frames into sf_stack_input(), calls
 * sf_stack_poll() once for the whole batch (one ACK per connection per batch),
 * calls the application, and polls again to send what the application queued.
 *
 *   sf_loop_tun_opts_t o = {0};                 // 192.0.2.2/24, kernel side 192.0.2.1
 *   char err[160];
 *   sf_loop_t *loop;
 *   if (sf_loop_open_tun(&o, &loop, err, sizeof err) < 0) { puts(err); exit(1); }
 *   sf_stack_t *st = sf_loop_stack(loop);
 *   ... sf_socket / sf_listen / sf_connect on st ...
 *   sf_loop_set_app(loop, my_app, &state);     // my_app: sf_poll + sf_recv/sf_send
 *   sf_loop_run(loop, -1);                      // until sf_loop_stop()
 *   sf_loop_destroy(loop);
 *
 * The application callback runs on the loop's thread, between two
 * sf_stack_poll() calls; it may make any socket call on the stack and may call
 * sf_loop_stop(). Nothing here is thread-safe: a loop, its stack and every
 * handle on it belong to one thread.
 */
#ifndef SYNFIN_LOOP_H
#define SYNFIN_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synfin/eth.h"
#include "synfin/netdev.h"
#include "synfin/synfin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Frames taken from the netdev per wake-up at most before the stack is polled. */
#define SF_LOOP_BATCH 256
/* Extra file descriptors a loop can watch. */
#define SF_LOOP_MAX_FDS 16

typedef struct sf_loop sf_loop_t;

/* Called once per iteration, after the received frames were processed and
 * the stack polled. Drive the sockets here (sf_poll, sf_accept, sf_recv,
 * sf_send, sf_close, ...). Returns the time (the loop's clock, now_us) by
 * which it wants to be called again even if nothing happens, or INT64_MAX. */
typedef int64_t (*sf_loop_app_fn)(void *ctx, sf_loop_t *loop, int64_t now_us);

/* Called when a registered fd reports `events` (EPOLLIN, EPOLLHUP, ... as
 * epoll(7)). The application callback runs afterwards in the same iteration. */
typedef void (*sf_loop_fd_fn)(void *ctx, sf_loop_t *loop, int fd, uint32_t events);

/* Creates a loop over `dev` with a stack configured from `cfg` (NULL:
 * sf_config_default with a random seed). The loop sets cfg's transmit and
 * transmit_ctx; a zero seed is replaced by random bytes (getrandom), and the
 * stack's MTU is capped at the netdev's. On an Ethernet netdev (TAP) the
 * stack sits behind an sf_eth_t (ARP, framing) with a locally administered
 * MAC drawn from the seed, and the MTU is the netdev's less 14. On success the loop owns `dev`
 * (sf_loop_destroy destroys it) and 0 is returned; on failure `dev` stays
 * the caller's and the error is SF_EINVAL, SF_ENOMEM or that of
 * sf_stack_create. Over a netdev with offloads (dev->offloads) the loop
 * also sets cfg's transmit_off, csum_tx and tso_max to use them. */
int sf_loop_create(sf_netdev_t *dev, const sf_config_t *cfg, sf_loop_t **out);

/* How sf_loop_open_tun builds the link, from the stack outwards:
 * stack <-> pcap tap (what the stack sent and received) <-> impairments <-> TUN. */
typedef struct sf_loop_tun_opts {
	const char *tun_name;         /* interface name; NULL or "": the kernel's choice (tunN) */
	uint32_t addr;                /* synfin's address (host order); 0: 192.0.2.2 */
	int prefix_len;               /* subnet of both sides; 0: 24 */
	uint32_t peer_addr;           /* the kernel side's address; 0: 192.0.2.1 */
	uint16_t mtu;                 /* 0: 1500 */
	const sf_impair_t *impair_tx; /* frames synfin sends; NULL: none */
	const sf_impair_t *impair_rx; /* frames synfin receives; NULL: none */
	uint64_t impair_seed;         /* seed of the impairments */
	const char *pcap_path;        /* pcap file of the stack's frames; NULL: none */
	const sf_config_t *cfg;       /* base stack config (NULL: defaults); addr, prefix
	                                 and mtu above override its fields */
	/* The TUN's virtio-net header offloads (TSO, GRO, checksums): 0 the
	 * default (on, unless the environment has SYNFIN_OFFLOAD=0|off|no),
	 * 1 on, -1 off. On means "when the kernel takes them": a kernel that
	 * refuses leaves a plain TUN. Impairments (which count frames) turn
	 * them off. */
	int offload;
	/* sf_loop_open_tun_multi: when not NULL, stack i's trace sink gets
	 * trace_ctx[i] as its ctx (cfg->trace.fn is the function). */
	void *const *trace_ctx;
	bool tap; /* a TAP device (Ethernet and ARP) instead of TUN */
} sf_loop_tun_opts_t;

/* Whether offloads are wanted for an `offload` value of sf_loop_tun_opts_t
 * (0: the environment's SYNFIN_OFFLOAD decides, default on). */
bool sf_loop_offload_wanted(int offload);

/* Opens a TUN device (the kernel side gets peer_addr/prefix_len, MTU, link
 * up), wraps it as asked and creates a loop on it. Needs CAP_NET_ADMIN.
 * Returns 0, or a negative SF_E* code and a one-line explanation in
 * errbuf (e.g. "creating a TUN device needs root (CAP_NET_ADMIN)",
 * "/dev/net/tun is not available (modprobe tun?)"). errbuf may be NULL. */
int sf_loop_open_tun(const sf_loop_tun_opts_t *opts, sf_loop_t **out, char *errbuf,
                     size_t errbuf_len);

/* One stack per core: opens one TUN device with n queues (multiqueue) and
 * a loop on each, out[0..n), each for a thread of its own. The stacks
 * share nothing but their config and secret (one seed, from cfg or random,
 * so ISNs agree whichever queue a flow lands on); the kernel spreads flows
 * over the queues. A listener must be opened on every stack. Ephemeral
 * ports of active opens are not coordinated between stacks: give each its
 * own port range (cfg) before connecting from several. With pcap_path,
 * queue i > 0 writes "<pcap_path>.<i>"; impairments are seeded
 * impair_seed + i. Returns as sf_loop_open_tun (nothing is left open on
 * failure). n = 1 is sf_loop_open_tun. */
int sf_loop_open_tun_multi(const sf_loop_tun_opts_t *opts, unsigned n, sf_loop_t **out,
                           char *errbuf, size_t errbuf_len);

/* Destroys the stack (sending nothing more), the netdev chain (flushing and
 * closing a pcap file, removing the TUN device) and the loop. NULL is a no-op. */
void sf_loop_destroy(sf_loop_t *loop);

/* The stack and the netdev the loop drives (owned by the loop). */
sf_stack_t *sf_loop_stack(sf_loop_t *loop);
sf_netdev_t *sf_loop_netdev(sf_loop_t *loop);
/* The interface name of the loop's TUN or TAP device, or NULL (neither). */
const char *sf_loop_tun_name(sf_loop_t *loop);
/* The Ethernet interface in front of the stack (an Ethernet netdev), or NULL. */
sf_eth_t *sf_loop_eth(sf_loop_t *loop);

/* The loop's clock: CLOCK_MONOTONIC in microseconds. */
int64_t sf_loop_now(void);

/* Sets the application callback (NULL: none). */
void sf_loop_set_app(sf_loop_t *loop, sf_loop_app_fn fn, void *ctx);

/* Watches `fd` for `events` (EPOLLIN, EPOLLOUT, ...; level-triggered) and
 * calls fn when it is ready. Returns 0, SF_EINVAL (bad fd or NULL fn, or fd
 * already watched), SF_ENOMEM (SF_LOOP_MAX_FDS reached). */
int sf_loop_add_fd(sf_loop_t *loop, int fd, uint32_t events, sf_loop_fd_fn fn, void *ctx);
/* Stops watching fd. Returns 0 or SF_EINVAL (not watched). */
int sf_loop_del_fd(sf_loop_t *loop, int fd);

/* Runs iterations until sf_loop_stop() is called (by the application
 * callback, an fd callback, or a signal handler) or `timeout_us` have passed
 * (< 0: no limit). Returns 0 when stopped, SF_ETIMEDOUT on timeout, or the
 * netdev's error when receiving failed for good. */
int sf_loop_run(sf_loop_t *loop, int64_t timeout_us);
/* Like sf_loop_run, and also stops (returning 0) as soon as done(ctx) is
 * true; done is checked before the first wait and after every iteration. */
int sf_loop_run_until(sf_loop_t *loop, bool (*done)(void *ctx), void *ctx, int64_t timeout_us);
/* One iteration: waits at most max_wait_us (0: not at all, < 0: until
 * something is due), then processes frames, timers and the application.
 * Returns 0 or the netdev's error. */
int sf_loop_once(sf_loop_t *loop, int64_t max_wait_us);
/* Makes sf_loop_run return after the current iteration. Safe to call from a
 * signal handler (it only sets a flag; the wait is interrupted by the signal
 * itself). */
void sf_loop_stop(sf_loop_t *loop);

typedef struct sf_loop_stats {
	uint64_t iterations;   /* loop iterations (wake-ups) */
	uint64_t frames_in;    /* frames handed to sf_stack_input */
	uint64_t frames_out;   /* frames the stack transmitted */
	uint64_t tx_errors;    /* frames the netdev refused (lost) */
	uint64_t max_batch;    /* most frames taken in one wake-up */
	uint64_t full_batches; /* wake-ups that hit SF_LOOP_BATCH */
	uint64_t super_in;     /* received frames that were super-segments (GRO) */
	uint64_t super_out;    /* transmitted frames that were super-segments (TSO) */
} sf_loop_stats_t;
/* The loop's counters. Unlike everything else here, this may be called
 * from any thread while the loop runs (one stack per core: a monitor sums
 * the loops without a lock on their packet path); each value is whole, the
 * set is not one instant. */
void sf_loop_stats(const sf_loop_t *loop, sf_loop_stats_t *out);

#ifdef __cplusplus
}
#endif
#endif
