/* Two stacks over the simulated link (see simpair.h): the test-side face of
 * the library's simnet driver (src/link/simnet.c), which holds the logic.
 * The public fields of simpair_t mirror the driver after every step; a test
 * that moves sp->now forward moves the virtual clock with it.
 */
#include "simpair.h"

#include <string.h>

#include "synfin/simnet.h"

/* Copies the driver's clock and counters into the public fields. */
static void mirror(simpair_t *sp)
{
	sp->now = sf_simnet_now(sp->net);
	for (int i = 0; i < 2; i++)
		sp->frames[i] = sf_simnet_frames(sp->net, i);
}

int simpair_init(simpair_t *sp, uint64_t seed, const sf_config_t *cfg, const sf_impair_t *c2s,
                 const sf_impair_t *s2c)
{
	sf_trace_sink_t sinks[2] = {sp->sink[0], sp->sink[1]};
	memset(sp, 0, sizeof *sp);
	sp->sink[0] = sinks[0];
	sp->sink[1] = sinks[1];
	sf_config_t base;
	if (cfg)
		base = *cfg;
	else
		sf_config_default(&base);
	base.seed = 0; /* each stack's seed derives from `seed` */
	sf_simnet_opts_t o = {.seed = seed,
	                      .cfg = {&base, &base},
	                      .addr = {SP_CLIENT, SP_SERVER},
	                      .impair = {c2s, s2c},
	                      .trace = {sinks[0], sinks[1]}};
	int rc = sf_simnet_create(&o, &sp->net);
	if (rc < 0)
		return rc;
	sp->link = sf_simnet_link(sp->net);
	for (int i = 0; i < 2; i++) {
		sp->st[i] = sf_simnet_stack(sp->net, i);
		sp->dev[i] = sf_simnet_dev(sp->net, i);
	}
	mirror(sp);
	return 0;
}

void simpair_fini(simpair_t *sp)
{
	sf_simnet_destroy(sp->net);
	sp->net = NULL;
	memset(sp->st, 0, sizeof sp->st);
	memset(sp->dev, 0, sizeof sp->dev);
	sp->link = NULL;
}

bool simpair_step(simpair_t *sp, int64_t limit)
{
	sf_simnet_set_now(sp->net, sp->now);
	bool more = sf_simnet_step(sp->net, limit);
	mirror(sp);
	return more;
}

typedef struct run_ctx {
	simpair_t *sp;
	bool (*cond)(simpair_t *sp, void *ctx);
	void *ctx;
} run_ctx_t;

static bool run_cond(sf_simnet_t *net, void *ctx)
{
	(void)net;
	run_ctx_t *r = ctx;
	mirror(r->sp);
	bool done = r->cond(r->sp, r->ctx);
	sf_simnet_set_now(r->sp->net, r->sp->now);
	return done;
}

bool simpair_run(simpair_t *sp, bool (*cond)(simpair_t *sp, void *ctx), void *ctx, int64_t max_us)
{
	run_ctx_t r = {sp, cond, ctx};
	bool ok = sf_simnet_run(sp->net, run_cond, &r, max_us);
	mirror(sp);
	return ok;
}

int simpair_xfer_open(simpair_t *sp, simpair_xfer_t *x, const uint8_t *data, uint64_t len,
                      uint16_t port)
{
	*x = (simpair_xfer_t){.data = data, .len = len};
	x->lsn = sf_socket(sp->st[1]);
	if (x->lsn < 0)
		return x->lsn;
	int rc = sf_bind(sp->st[1], x->lsn, port);
	if (rc == 0)
		rc = sf_listen(sp->st[1], x->lsn, 4);
	if (rc != 0)
		return rc;
	x->cli = sf_socket(sp->st[0]);
	if (x->cli < 0)
		return x->cli;
	rc = sf_connect(sp->st[0], x->cli, SP_SERVER, port);
	return rc == SF_EINPROGRESS ? 0 : rc;
}

bool simpair_xfer_pump(simpair_t *sp, void *ctx)
{
	simpair_xfer_t *x = ctx;
	if (x->srv <= 0) {
		sf_sock_t s = sf_accept(sp->st[1], x->lsn, NULL, NULL);
		if (s > 0)
			x->srv = s;
	}
	while (x->sent < x->len) {
		long w = sf_send(sp->st[0], x->cli, x->data + x->sent, (size_t)(x->len - x->sent));
		if (w <= 0)
			break;
		x->sent += (uint64_t)w;
	}
	if (x->srv > 0) {
		uint8_t buf[16384];
		long r;
		while ((r = sf_recv(sp->st[1], x->srv, buf, sizeof buf)) > 0) {
			if (x->rcvd + (uint64_t)r > x->len ||
			    memcmp(buf, x->data + x->rcvd, (size_t)r) != 0)
				x->bad = true;
			x->rcvd += (uint64_t)r;
		}
	}
	for (int i = 0; i < 2; i++)
		sf_stack_poll(sp->st[i], sp->now);
	return x->rcvd >= x->len || x->bad;
}
