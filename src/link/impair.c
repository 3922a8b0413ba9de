/* The impairment wrapper: puts the impairment engine (impair_engine.c) in
 * front of any netdev, one engine per direction.
 *
 * Transmit: a frame goes into the tx engine; frames it has made due are
 * handed to the inner netdev by the wrapper's own transmit() and receive()
 * calls, with the now_us of that call. Receive: frames the inner netdev
 * has ready are pulled into the rx engine (a bounded number per call), and
 * the earliest one due is returned. A NULL impairment passes that direction
 * straight through. next_deadline() is the earliest of the two engines and
 * the inner netdev's own. All memory is allocated by sf_impair_wrap().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link/impair_engine.h"
#include "synfin/error.h"
#include "synfin/netdev.h"
#include "synfin/trace.h"
#include "synfin/wire.h"

/* Inner frames pulled into the rx engine per receive() at most, so a busy
 * inner netdev cannot keep one call spinning. */
#define IMPAIR_PULL_MAX 256

typedef struct impair_dev {
	sf_netdev_t dev;       /* first: the netdev pointer is the wrapper pointer */
	sf_trace_sink_t trace; /* told of lost frames (sf_impair_set_trace) */
	sf_netdev_t *inner;
	bool has_tx, has_rx;
	sf_imp_t tx, rx;
	uint8_t *scratch; /* one frame of inner->mtu bytes */
	char name[64];
} impair_dev_t;

static impair_dev_t *impair_of(sf_netdev_t *dev)
{
	return (impair_dev_t *)dev;
}

/* Hands every tx frame due at now_us to the inner netdev. A frame the inner
 * netdev refuses is lost, as on a wire. */
static void release_tx(impair_dev_t *w, int64_t now_us)
{
	if (!w->has_tx)
		return;
	int n;
	while ((n = sf_imp_pop(&w->tx, w->scratch, w->inner->mtu, now_us)) > 0)
		(void)sf_netdev_transmit(w->inner, w->scratch, (size_t)n, now_us);
}

static int impair_transmit(sf_netdev_t *dev, const uint8_t *frame, size_t len, int64_t now_us)
{
	impair_dev_t *w = impair_of(dev);
	if (!w->has_tx)
		return sf_netdev_transmit(w->inner, frame, len, now_us);
	int rc = sf_imp_submit(&w->tx, frame, len, now_us);
	release_tx(w, now_us);
	return rc;
}

static int impair_receive(sf_netdev_t *dev, uint8_t *buf, size_t cap, int64_t now_us)
{
	impair_dev_t *w = impair_of(dev);
	release_tx(w, now_us);
	if (!w->has_rx)
		return sf_netdev_receive(w->inner, buf, cap, now_us);
	for (int i = 0; i < IMPAIR_PULL_MAX; i++) {
		int n = sf_netdev_receive(w->inner, w->scratch, w->inner->mtu, now_us);
		if (n <= 0)
			break;
		(void)sf_imp_submit(&w->rx, w->scratch, (size_t)n, now_us);
	}
	return sf_imp_pop(&w->rx, buf, cap, now_us);
}

static int64_t impair_next_deadline(sf_netdev_t *dev)
{
	impair_dev_t *w = impair_of(dev);
	int64_t d = sf_netdev_next_deadline(w->inner);
	if (w->has_tx && sf_imp_next_deadline(&w->tx) < d)
		d = sf_imp_next_deadline(&w->tx);
	if (w->has_rx && sf_imp_next_deadline(&w->rx) < d)
		d = sf_imp_next_deadline(&w->rx);
	return d;
}

static int impair_fd(sf_netdev_t *dev)
{
	impair_dev_t *w = impair_of(dev);
	return w->inner->fd ? w->inner->fd(w->inner) : -1;
}

static void free_wrapper(impair_dev_t *w)
{
	sf_imp_fini(&w->tx);
	sf_imp_fini(&w->rx);
	free(w->scratch);
	free(w);
}

static void impair_destroy(sf_netdev_t *dev)
{
	impair_dev_t *w = impair_of(dev);
	sf_netdev_destroy(w->inner);
	free_wrapper(w);
}

/* A frame one engine lost, as a drop event: the views draw it lost, the
 * way a wire would have lost it, instead of leaving a silent gap. */
static void trace_lost(impair_dev_t *w, const uint8_t *frame, size_t len, int64_t now_us,
                       sf_drop_reason_t why)
{
	if (!w->trace.fn)
		return;
	sf_event_t ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SF_EV_DROP;
	ev.now_us = now_us;
	ev.drop = why;
	if (sf_ipv4_parse(frame, len, &ev.u.seg.ip) == 0 && ev.u.seg.ip.proto == SF_IP_PROTO_TCP &&
	    !sf_ipv4_is_fragment(&ev.u.seg.ip) &&
	    sf_tcp_parse(frame + ev.u.seg.ip.hdr_len, ev.u.seg.ip.total_len - ev.u.seg.ip.hdr_len,
	                 ev.u.seg.ip.src, ev.u.seg.ip.dst, false, &ev.u.seg.tcp) == 0)
		ev.has_seg = true;
	w->trace.fn(w->trace.ctx, &ev);
}

static void tx_lost(void *ctx, const uint8_t *frame, size_t len, int64_t now_us)
{
	trace_lost(ctx, frame, len, now_us, SF_DROP_LINK_IMPAIR_TX);
}

static void rx_lost(void *ctx, const uint8_t *frame, size_t len, int64_t now_us)
{
	trace_lost(ctx, frame, len, now_us, SF_DROP_LINK_IMPAIR_RX);
}

void sf_impair_set_trace(sf_netdev_t *dev, sf_trace_sink_t sink)
{
	impair_dev_t *w = impair_of(dev);
	w->trace = sink;
	if (w->has_tx) {
		w->tx.on_lost = sink.fn ? tx_lost : NULL;
		w->tx.on_lost_ctx = w;
	}
	if (w->has_rx) {
		w->rx.on_lost = sink.fn ? rx_lost : NULL;
		w->rx.on_lost_ctx = w;
	}
}

/* On failure (NULL inner, zero MTU, bad impairment values, no memory) this
 * returns NULL and `inner` stays the caller's. The tx engine is seeded with
 * `seed`, the rx engine with a value derived from it. */
sf_netdev_t *sf_impair_wrap(sf_netdev_t *inner, uint64_t seed, const sf_impair_t *tx,
                            const sf_impair_t *rx)
{
	if (!inner || inner->mtu == 0)
		return NULL;
	impair_dev_t *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->inner = inner;
	w->has_tx = tx != NULL;
	w->has_rx = rx != NULL;
	w->scratch = malloc(inner->mtu);
	if (!w->scratch || (tx && sf_imp_init(&w->tx, seed, inner->mtu, tx) < 0) ||
	    (rx && sf_imp_init(&w->rx, ~seed, inner->mtu, rx) < 0)) {
		free_wrapper(w);
		return NULL;
	}
	snprintf(w->name, sizeof(w->name), "impair(%s)", inner->name ? inner->name : "?");
	w->dev.name = w->name;
	w->dev.mtu = inner->mtu;
	w->dev.link = inner->link;
	w->dev.transmit = impair_transmit;
	w->dev.receive = impair_receive;
	w->dev.next_deadline = impair_next_deadline;
	w->dev.fd = impair_fd;
	w->dev.destroy = impair_destroy;
	return &w->dev;
}
