/* Two synfin stacks in one process over the seeded simulated link, with a
 * virtual clock that jumps to the next deadline (a stack timer or a frame
 * due on the link); a thin test-side face of sf_simnet (synfin/simnet.h). Side 0 is the client
 * (192.0.2.1), side 1 the server (192.0.2.2). Both stacks' trace events can be collected for
 * ladders.
 */
#ifndef SF_TEST_SIMPAIR_H
#define SF_TEST_SIMPAIR_H

#include <stdbool.h>
#include <stdint.h>

#include "synfin/netdev.h"
#include "synfin/synfin.h"

#define SP_CLIENT 0xC0000201u
#define SP_SERVER 0xC0000202u

typedef struct simpair {
	sf_stack_t *st[2];
	sf_sim_link_t *link;
	sf_netdev_t *dev[2];
	int64_t now;
	sf_trace_sink_t sink[2];    /* optional: set before simpair_init */
	uint64_t frames[2];         /* frames each side received */
	uint64_t window_violations; /* data sent beyond the peer's window */
	struct sf_simnet *net;      /* private: the driver (synfin/simnet.h) */
} simpair_t;

/* Creates both stacks with cfg (NULL: defaults, seed from `seed`) and a link
 * with the given impairments (NULL: perfect). Returns 0 or an SF_E* code. */
int simpair_init(simpair_t *sp, uint64_t seed, const sf_config_t *cfg, const sf_impair_t *c2s,
                 const sf_impair_t *s2c);
void simpair_fini(simpair_t *sp);
/* Delivers every due frame, polls both stacks, then jumps the clock to the
 * earliest next deadline, but never past `limit`. Returns false when there
 * is nothing left to do before `limit`. */
bool simpair_step(simpair_t *sp, int64_t limit);
/* Runs steps until cond(ctx) is true or the clock passes now+max_us.
 * Returns true if cond became true. */
bool simpair_run(simpair_t *sp, bool (*cond)(simpair_t *sp, void *ctx), void *ctx, int64_t max_us);

/* A one-way transfer of data[0, len) from side 0 to side 1, checked byte
 * for byte as it arrives. */
typedef struct simpair_xfer {
	const uint8_t *data;
	uint64_t len;
	sf_sock_t lsn, cli, srv;
	uint64_t sent, rcvd;
	bool bad; /* a byte arrived that differs from data */
} simpair_xfer_t;
/* A listener on `port` at side 1 and a connect to it from side 0. Returns 0
 * or an SF_E* code. */
int simpair_xfer_open(simpair_t *sp, simpair_xfer_t *x, const uint8_t *data, uint64_t len,
                      uint16_t port);
/* The simpair_run condition of a transfer (ctx: the simpair_xfer_t):
 * accepts, sends what fits, reads what came, polls both stacks; true once
 * everything arrived or a byte differed. */
bool simpair_xfer_pump(simpair_t *sp, void *ctx);

#endif
