/* The simulated link: two netdev endpoints in one process joined by two
 * independent impairment engines (impair_engine.c), one per direction.
 * Endpoint 0 transmits into the a_to_b engine and endpoint 1 receives from
 * it; b_to_a is the mirror image. Time is whatever the caller passes as
 * now_us, so a test or the simulator drives the clock and jumps it to
 * next_deadline(). Each direction preallocates its own frame pool (see
 * SF_IMP_MAX_SLOTS: 4096 frames of `mtu` bytes, fewer for MTUs above 4 KiB);
 * nothing is allocated per frame.
 */
#include <stdlib.h>

#include "link/impair_engine.h"
#include "synfin/error.h"
#include "synfin/netdev.h"

/* Mixed into the seed of the b_to_a direction so the two directions do
 * not draw the same numbers. */
#define SIM_B_TO_A_SALT 0xb5ad4eceda1ce2a9ull

typedef struct sim_endpoint {
	sf_netdev_t dev; /* first: the netdev pointer is the endpoint pointer */
	sf_sim_link_t *link;
	int side;
} sim_endpoint_t;

struct sf_sim_link {
	sf_imp_t dir[2]; /* dir[s] carries frames sent by endpoint s */
	sim_endpoint_t ep[2];
};

static sim_endpoint_t *endpoint_of(sf_netdev_t *dev)
{
	return (sim_endpoint_t *)dev;
}

static int sim_transmit(sf_netdev_t *dev, const uint8_t *frame, size_t len, int64_t now_us)
{
	sim_endpoint_t *ep = endpoint_of(dev);
	return sf_imp_submit(&ep->link->dir[ep->side], frame, len, now_us);
}

static int sim_receive(sf_netdev_t *dev, uint8_t *buf, size_t cap, int64_t now_us)
{
	sim_endpoint_t *ep = endpoint_of(dev);
	return sf_imp_pop(&ep->link->dir[1 - ep->side], buf, cap, now_us);
}

static int64_t sim_next_deadline(sf_netdev_t *dev)
{
	sim_endpoint_t *ep = endpoint_of(dev);
	return sf_imp_next_deadline(&ep->link->dir[1 - ep->side]);
}

static int sim_fd(sf_netdev_t *dev)
{
	(void)dev;
	return -1;
}

/* The endpoints belong to the link: destroying one alone does nothing. */
static void sim_destroy(sf_netdev_t *dev)
{
	(void)dev;
}

sf_sim_link_t *sf_sim_link_create(uint64_t seed, uint16_t mtu, const sf_impair_t *a_to_b,
                                  const sf_impair_t *b_to_a)
{
	sf_sim_link_t *link = calloc(1, sizeof(*link));
	if (!link)
		return NULL;
	if (sf_imp_init(&link->dir[0], seed, mtu, a_to_b) < 0 ||
	    sf_imp_init(&link->dir[1], seed ^ SIM_B_TO_A_SALT, mtu, b_to_a) < 0) {
		sf_sim_link_destroy(link);
		return NULL;
	}
	static const char *const names[2] = {"sim0", "sim1"};
	for (int s = 0; s < 2; s++) {
		sim_endpoint_t *ep = &link->ep[s];
		ep->link = link;
		ep->side = s;
		ep->dev.name = names[s];
		ep->dev.mtu = mtu;
		ep->dev.transmit = sim_transmit;
		ep->dev.receive = sim_receive;
		ep->dev.next_deadline = sim_next_deadline;
		ep->dev.fd = sim_fd;
		ep->dev.destroy = sim_destroy;
	}
	return link;
}

sf_netdev_t *sf_sim_link_endpoint(sf_sim_link_t *link, int side)
{
	if (!link || (side != 0 && side != 1))
		return NULL;
	return &link->ep[side].dev;
}

/* Counters of the direction whose frames endpoint `side` sends: `sent`
 * counts that endpoint's transmissions and `delivered` what the other
 * endpoint has received of them. */
void sf_sim_link_stats(const sf_sim_link_t *link, int side, sf_sim_stats_t *out)
{
	*out = (sf_sim_stats_t){0};
	if (link && (side == 0 || side == 1))
		*out = link->dir[side].stats;
}

void sf_sim_link_destroy(sf_sim_link_t *link)
{
	if (!link)
		return;
	sf_imp_fini(&link->dir[0]);
	sf_imp_fini(&link->dir[1]);
	free(link);
}
