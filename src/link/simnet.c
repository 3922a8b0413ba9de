/* The simnet driver (include/synfin/simnet.h): two stacks, one simulated
 * link, one virtual clock. Each step delivers every frame that is due to its
 * stack as one input batch, polls both stacks (timers and output), then
 * jumps the clock to the earliest deadline of either stack or either
 * direction of the link. Output of a poll lands in the link at the current
 * instant, so with zero delay a whole exchange happens at one instant and
 * the loop simply runs until nothing is due any more.
 *
 * The drivers know time; the stacks never read a clock (DESIGN.md, Layers).
 */
#include "synfin/simnet.h"

#include <stdlib.h>
#include <string.h>

#include "synfin/error.h"

/* Upper bound on consecutive steps at one instant before a run gives up:
 * a stack that always has work "now" would otherwise spin forever. */
#define MAX_SPINS 1000000

/* A netdev wrapper that asks the filter whether each transmitted frame may
 * reach the link. */
typedef struct filter_dev {
	sf_netdev_t dev; /* first: the netdev pointer is the wrapper pointer */
	sf_netdev_t *inner;
	sf_simnet_t *net;
	int side;
} filter_dev_t;

typedef struct side_ctx {
	sf_simnet_t *net;
	int side;
} side_ctx_t;

struct sf_simnet {
	sf_sim_link_t *link;
	sf_stack_t *st[SF_SIMNET_SIDES];
	sf_netdev_t *dev[SF_SIMNET_SIDES]; /* outermost wrapper of each endpoint */
	side_ctx_t ctx[SF_SIMNET_SIDES];
	uint32_t addr[SF_SIMNET_SIDES];
	uint64_t frames[SF_SIMNET_SIDES];
	sf_simnet_filter_fn filter;
	void *filter_ctx;
	int64_t now;
	int64_t wake_us;    /* the application's wake-up, INT64_MAX: none */
	uint8_t buf[65536]; /* one received frame at a time */
};

/* ---- the filter wrapper ---- */

static int filter_transmit(sf_netdev_t *dev, const uint8_t *frame, size_t len, int64_t now_us)
{
	filter_dev_t *f = (filter_dev_t *)dev;
	if (!f->net->filter(f->net->filter_ctx, f->side, frame, len, now_us))
		return 0; /* lost on the wire: the sender cannot tell */
	return sf_netdev_transmit(f->inner, frame, len, now_us);
}

static int filter_receive(sf_netdev_t *dev, uint8_t *buf, size_t cap, int64_t now_us)
{
	return sf_netdev_receive(((filter_dev_t *)dev)->inner, buf, cap, now_us);
}

static int64_t filter_next_deadline(sf_netdev_t *dev)
{
	return sf_netdev_next_deadline(((filter_dev_t *)dev)->inner);
}

static void filter_destroy(sf_netdev_t *dev)
{
	filter_dev_t *f = (filter_dev_t *)dev;
	sf_netdev_destroy(f->inner);
	free(f);
}

static sf_netdev_t *wrap_filter(sf_simnet_t *net, int side, sf_netdev_t *inner)
{
	filter_dev_t *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->inner = inner;
	f->net = net;
	f->side = side;
	f->dev.name = "filter";
	f->dev.mtu = inner->mtu;
	f->dev.transmit = filter_transmit;
	f->dev.receive = filter_receive;
	f->dev.next_deadline = filter_next_deadline;
	f->dev.destroy = filter_destroy;
	return &f->dev;
}

/* ---- creation ---- */

static int on_transmit(void *ctx, const uint8_t *frame, size_t len, int64_t now_us)
{
	side_ctx_t *c = ctx;
	return sf_netdev_transmit(c->net->dev[c->side], frame, len, now_us);
}

/* Builds the netdev chain of one side: endpoint <- filter <- pcap tap. */
static int make_dev(sf_simnet_t *net, const sf_simnet_opts_t *o, int s)
{
	net->dev[s] = sf_sim_link_endpoint(net->link, s);
	if (o->filter) {
		sf_netdev_t *f = wrap_filter(net, s, net->dev[s]);
		if (!f)
			return SF_ENOMEM;
		net->dev[s] = f;
	}
	if (o->pcap[s]) {
		int err = 0;
		sf_netdev_t *tap = sf_pcap_tap_wrap(net->dev[s], o->pcap[s], &err);
		if (!tap)
			return err < 0 ? err : SF_EINVAL;
		net->dev[s] = tap;
	}
	return 0;
}

int sf_simnet_create(const sf_simnet_opts_t *o, sf_simnet_t **out)
{
	if (!o || !out)
		return SF_EINVAL;
	*out = NULL;
	sf_simnet_t *net = calloc(1, sizeof *net);
	if (!net)
		return SF_ENOMEM;
	net->now = o->start_us ? o->start_us : SF_SIMNET_START_US;
	net->wake_us = INT64_MAX;
	net->filter = o->filter;
	net->filter_ctx = o->filter_ctx;

	sf_config_t base[SF_SIMNET_SIDES];
	for (int s = 0; s < SF_SIMNET_SIDES; s++) {
		if (o->cfg[s])
			base[s] = *o->cfg[s];
		else
			sf_config_default(&base[s]);
	}
	uint16_t mtu = o->mtu ? o->mtu : base[0].mtu;
	net->link = sf_sim_link_create(o->seed, mtu, o->impair[0], o->impair[1]);
	if (!net->link) {
		free(net);
		return SF_ENOMEM;
	}
	int rc = 0;
	for (int s = 0; s < SF_SIMNET_SIDES && rc == 0; s++) {
		rc = make_dev(net, o, s);
		if (rc < 0)
			break;
		net->addr[s] =
		        o->addr[s] ? o->addr[s] : (s == 0 ? SF_SIMNET_ADDR0 : SF_SIMNET_ADDR1);
		net->ctx[s] = (side_ctx_t){net, s};
		sf_config_t c = base[s];
		c.addr = net->addr[s];
		if (c.seed == 0 || !o->cfg[s])
			c.seed = o->seed * 2 + (uint64_t)s + 1;
		c.transmit = on_transmit;
		c.transmit_ctx = &net->ctx[s];
		c.trace = o->trace[s];
		rc = sf_stack_create(&c, net->now, &net->st[s]);
	}
	if (rc < 0) {
		sf_simnet_destroy(net);
		return rc;
	}
	*out = net;
	return 0;
}

void sf_simnet_destroy(sf_simnet_t *net)
{
	if (!net)
		return;
	for (int s = 0; s < SF_SIMNET_SIDES; s++) {
		sf_stack_destroy(net->st[s]);
		/* Wrappers free themselves and what they wrap; the endpoint
		 * itself belongs to the link and ignores destroy. */
		sf_netdev_destroy(net->dev[s]);
	}
	sf_sim_link_destroy(net->link);
	free(net);
}

/* ---- accessors ---- */

static bool side_ok(int side)
{
	return side >= 0 && side < SF_SIMNET_SIDES;
}

sf_stack_t *sf_simnet_stack(sf_simnet_t *net, int side)
{
	return net && side_ok(side) ? net->st[side] : NULL;
}

sf_netdev_t *sf_simnet_dev(sf_simnet_t *net, int side)
{
	return net && side_ok(side) ? net->dev[side] : NULL;
}

sf_sim_link_t *sf_simnet_link(sf_simnet_t *net)
{
	return net ? net->link : NULL;
}

uint32_t sf_simnet_addr(const sf_simnet_t *net, int side)
{
	return net && side_ok(side) ? net->addr[side] : 0;
}

int64_t sf_simnet_now(const sf_simnet_t *net)
{
	return net->now;
}

void sf_simnet_set_now(sf_simnet_t *net, int64_t t_us)
{
	if (t_us > net->now)
		net->now = t_us;
}

uint64_t sf_simnet_frames(const sf_simnet_t *net, int side)
{
	return net && side_ok(side) ? net->frames[side] : 0;
}

void sf_simnet_wake(sf_simnet_t *net, int64_t t_us)
{
	if (t_us < net->wake_us)
		net->wake_us = t_us;
}

int64_t sf_simnet_next_deadline(sf_simnet_t *net)
{
	int64_t d = net->wake_us;
	for (int s = 0; s < SF_SIMNET_SIDES; s++) {
		int64_t a = sf_stack_next_deadline(net->st[s]);
		int64_t b = sf_netdev_next_deadline(net->dev[s]);
		if (a < d)
			d = a;
		if (b < d)
			d = b;
	}
	return d;
}

/* ---- running ---- */

bool sf_simnet_step(sf_simnet_t *net, int64_t limit)
{
	if (net->wake_us <= net->now)
		net->wake_us = INT64_MAX; /* reached: the application runs now */
	/* Input first, as one batch per side, so each connection sends at
	 * most one ACK for everything that arrived at this instant
	 * (RFC 9293 §3.10.7.4, MUST-58). */
	for (int s = 0; s < SF_SIMNET_SIDES; s++) {
		int n;
		while ((n = sf_netdev_receive(net->dev[s], net->buf, sizeof net->buf, net->now)) >
		       0) {
			net->frames[s]++;
			sf_stack_input(net->st[s], net->buf, (size_t)n, net->now);
		}
	}
	for (int s = 0; s < SF_SIMNET_SIDES; s++)
		sf_stack_poll(net->st[s], net->now);
	int64_t d = sf_simnet_next_deadline(net);
	if (d <= net->now)
		return true; /* more work at this instant */
	if (d == INT64_MAX || d > limit) {
		if (net->now < limit && limit != INT64_MAX)
			net->now = limit;
		return false;
	}
	net->now = d;
	return true;
}

bool sf_simnet_run(sf_simnet_t *net, bool (*cond)(sf_simnet_t *net, void *ctx), void *ctx,
                   int64_t max_us)
{
	int64_t end = max_us > INT64_MAX - net->now ? INT64_MAX : net->now + max_us;
	uint64_t spins = 0;
	for (;;) {
		if (cond(net, ctx))
			return true;
		int64_t d = sf_simnet_next_deadline(net);
		if (d <= net->now) {
			/* Work at this instant: process it without moving the
			 * clock, so cond sees (and answers) it at the same time. */
			sf_simnet_step(net, net->now);
			if (++spins > MAX_SPINS)
				return false;
			continue;
		}
		spins = 0;
		if (d > end) {
			if (end != INT64_MAX)
				net->now = end;
			return cond(net, ctx);
		}
		/* Jump, and let the stacks see the new time before cond does:
		 * what the application does then is stamped with it. */
		net->now = d;
		sf_simnet_step(net, net->now);
	}
}
