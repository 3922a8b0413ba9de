/* synfin simnet: two synfin stacks in one process over the seeded simulated
 * link (sf_sim_link), driven by a virtual clock that jumps straight to the
 * next deadline — a stack timer or a frame due on the link. Nothing waits
 * for real time, so an hour of TCP life (TIME-WAIT, retransmission backoff)
 * runs in milliseconds, and the same options and seed give the same events,
 * frames and bytes on every run.
 *
 * It is the driver behind `synfin demo`, the simulation tests
 * (tests/support/simpair.c is a thin wrapper) and the benchmarks:
 *
 *   sf_simnet_opts_t o = {.seed = 1};
 *   o.trace[0] = my_client_sink;              // optional, per side
 *   sf_simnet_t *net;
 *   if (sf_simnet_create(&o, &net) < 0) ...
 *   sf_stack_t *cli = sf_simnet_stack(net, 0), *srv = sf_simnet_stack(net, 1);
 *   ... sf_listen on srv, sf_connect on cli ...
 *   sf_simnet_run(net, done, &app, 120 * 1000000ll);   // done() pumps the app
 *   sf_simnet_destroy(net);
 *
 * Side 0 is the client (SF_SIMNET_ADDR0, 192.0.2.1), side 1 the server
 * (SF_SIMNET_ADDR1, 192.0.2.2) unless addresses are given. Between each
 * stack and its link endpoint sit, in this order from the stack: an optional
 * pcap tap (what the stack sent and received), an optional drop filter
 * (frames it refuses are lost on the wire, after the tap saw them), then the
 * link with its impairments.
 *
 * Memory: plain malloc; everything is freed by sf_simnet_destroy. Not
 * thread-safe; one simnet belongs to one thread.
 */
#ifndef SYNFIN_SIMNET_H
#define SYNFIN_SIMNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synfin/netdev.h"
#include "synfin/synfin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SF_SIMNET_SIDES 2
#define SF_SIMNET_ADDR0 0xC0000201u /* 192.0.2.1, the client */
#define SF_SIMNET_ADDR1 0xC0000202u /* 192.0.2.2, the server */
/* The virtual clock at creation unless opts.start_us says otherwise (1 s, so
 * "time 0" never appears as a special value in traces). */
#define SF_SIMNET_START_US 1000000

typedef struct sf_simnet sf_simnet_t;

/* Decides the fate of one frame sent by `side` at `now_us`: return false to
 * lose it on the wire (it was still recorded by a pcap tap on that side). */
typedef bool (*sf_simnet_filter_fn)(void *ctx, int side, const uint8_t *frame, size_t len,
                                    int64_t now_us);

typedef struct sf_simnet_opts {
	/* Seeds the link's impairments; stack s gets seed*2 + s + 1 (unless
	 * its cfg already carries a non-zero seed). */
	uint64_t seed;
	/* Base configs of the two stacks (NULL: sf_config_default). addr,
	 * transmit, transmit_ctx and trace are set by the simnet. */
	const sf_config_t *cfg[SF_SIMNET_SIDES];
	uint32_t addr[SF_SIMNET_SIDES];             /* 0: SF_SIMNET_ADDR0 / ADDR1 */
	const sf_impair_t *impair[SF_SIMNET_SIDES]; /* [s]: frames sent by side s; NULL: none */
	sf_trace_sink_t trace[SF_SIMNET_SIDES];     /* each stack's trace sink (fn NULL: none) */
	const char *pcap[SF_SIMNET_SIDES]; /* pcap file around side s's endpoint, or NULL */
	sf_simnet_filter_fn filter;        /* optional drop filter, both sides */
	void *filter_ctx;
	uint16_t mtu;     /* link MTU; 0: cfg[0]'s mtu */
	int64_t start_us; /* virtual clock at creation; 0: SF_SIMNET_START_US */
} sf_simnet_opts_t;

/* Creates the link and both stacks. On success *out owns them and 0 is
 * returned; otherwise SF_EINVAL (NULL argument, or a pcap file that cannot
 * be created), SF_ENOMEM, or the error of sf_stack_create. `o` and the
 * configs it points to are only read during the call (the pcap paths too). */
int sf_simnet_create(const sf_simnet_opts_t *o, sf_simnet_t **out);
/* Destroys both stacks (sending nothing), the link, and closes pcap files.
 * NULL is allowed. */
void sf_simnet_destroy(sf_simnet_t *net);

/* The stack, and the netdev it transmits to and receives from (the
 * outermost wrapper), of side 0 or 1; NULL for a bad side. Owned by the
 * simnet. */
sf_stack_t *sf_simnet_stack(sf_simnet_t *net, int side);
sf_netdev_t *sf_simnet_dev(sf_simnet_t *net, int side);
sf_sim_link_t *sf_simnet_link(sf_simnet_t *net);
/* The address of side s (host order). */
uint32_t sf_simnet_addr(const sf_simnet_t *net, int side);

/* The virtual clock, in microseconds. */
int64_t sf_simnet_now(const sf_simnet_t *net);
/* Moves the clock forward to t (never back). Use it to let an application
 * act at a chosen instant; stacks see the new time at the next step. */
void sf_simnet_set_now(sf_simnet_t *net, int64_t t_us);
/* Asks the clock to stop at t_us: an application timer (e.g. "connect
 * again in one second"). It counts as a deadline until a step runs at or
 * after t_us; of several pending wake-ups the earliest is kept. */
void sf_simnet_wake(sf_simnet_t *net, int64_t t_us);
/* Frames side s has received from the link so far. */
uint64_t sf_simnet_frames(const sf_simnet_t *net, int side);
/* The earliest instant something is due: a stack deadline, a frame on the
 * link or a wake-up; INT64_MAX when nothing is pending. */
int64_t sf_simnet_next_deadline(sf_simnet_t *net);

/* One step: delivers every frame due now to its stack (a batch per side),
 * polls both stacks at the current time, then jumps the clock to the
 * earliest next deadline, but never past `limit`. Returns true when there
 * is more to do (the clock moved to a deadline, or work is due at the same
 * instant); false when nothing is due before `limit` (the clock then stands
 * at `limit`, unless `limit` is INT64_MAX or already past). */
bool sf_simnet_step(sf_simnet_t *net, int64_t limit);

/* Runs until cond(net, ctx) returns true or the clock would pass
 * now+max_us. cond is called at every instant something happened, after it
 * was processed and before the clock moves on (it may call socket
 * functions: that is how an application runs inside the simulation, and it
 * answers at the same virtual instant). Returns true if cond became true.
 * A stack that never stops asking to run at the same instant ends the run
 * with false after a bounded number of spins. */
bool sf_simnet_run(sf_simnet_t *net, bool (*cond)(sf_simnet_t *net, void *ctx), void *ctx,
                   int64_t max_us);

#ifdef __cplusplus
}
#endif
#endif
