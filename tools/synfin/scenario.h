/* The scenarios of `synfin demo`: small applications on the socket API that
 * drive two simulated stacks through one particular TCP life (a handshake,
 * an HTTP fetch, each way of closing, a reset, a loss...). demo.c owns the
 * command line and the output; scenario.c owns what the applications do.
 */
#ifndef SYNFIN_TOOL_SCENARIO_H
#define SYNFIN_TOOL_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#include "synfin/simnet.h"
#include "synfin/synfin.h"

#define DEMO_SERVER_PORT 80
#define DEMO_CLIENT_PORT 40000 /* for scenarios that bind the client's port */
#define DEMO_MAX_CONNS   4

/* One connection to draw: its trace id on each side (0: let the ladder
 * choose). */
typedef struct demo_conn {
	uint32_t id[2];
} demo_conn_t;

typedef struct demo {
	sf_simnet_t *net;
	sf_stack_t *st[2];
	void *app;           /* the scenario's own state */
	bool done;           /* the applications have finished (timers may still run) */
	const char *failure; /* set when the scenario could not do its part */
	uint64_t bytes[2];   /* application bytes each side handed to sf_send */
	uint64_t rcvd[2];    /* application bytes each side read with sf_recv */
	demo_conn_t conn[DEMO_MAX_CONNS];
	int conn_cnt;
	/* data-loss: the client's data segment at this relative offset is lost
	 * once (0: none). */
	uint32_t lose_data_at;
	bool lost_once;
	uint32_t client_iss;
	bool client_iss_known;
	int64_t delay_us; /* the link's one-way delay (--delay-ms) */
} demo_t;

typedef struct scenario {
	const char *name;
	const char *about_en, *about_zh; /* one line: what it shows */
	/* Optional: adjusts the link before it is made (blackouts, filters). */
	void (*prepare)(demo_t *d, sf_simnet_opts_t *o, sf_impair_t imp[2]);
	/* Opens the sockets at the start; returns 0 or an SF_E* code. */
	int (*start)(demo_t *d);
	/* Called at every instant something happened; does the applications'
	 * next steps and sets d->done when they are finished. */
	void (*pump)(demo_t *d);
	void (*cleanup)(demo_t *d); /* optional: frees d->app */
} scenario_t;

extern const scenario_t demo_scenarios[];
extern const int demo_scenario_cnt;
/* The scenario called `name`, or NULL. */
const scenario_t *demo_scenario_find(const char *name);

#endif
