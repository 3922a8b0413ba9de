/* Send-window checker for simulated pairs (see wincheck.h). */
#include "wincheck.h"

#include <string.h>

static void observe(wincheck_t *wc, int side, const sf_event_t *ev)
{
	if (ev->kind == SF_EV_TIMER) {
		if (ev->u.timer.timer == SF_TIMER_RTO)
			wc->rtos[side]++;
		else if (ev->u.timer.timer == SF_TIMER_PERSIST)
			wc->persist[side]++;
		return;
	}
	if (ev->kind != SF_EV_SEG_TX)
		return;
	const sf_tcp_t *h = &ev->u.seg.tcp;
	if (h->flags & SF_TCP_RST)
		return;
	if (h->flags & SF_TCP_SYN) {
		wc->have_iss[side] = true;
		wc->iss[side] = h->seq;
		wc->ws_offered[side] = h->opt.has_wscale;
		wc->wscale[side] = h->opt.has_wscale ? h->opt.wscale : 0;
		/* RFC 7323 §2.2: the window of a SYN is not scaled. */
		if (h->flags & SF_TCP_ACK) {
			wc->edge[side] = h->ack + h->wnd;
			wc->have_edge[side] = true;
		}
		return;
	}
	if (!(h->flags & SF_TCP_ACK))
		return;
	/* Scaling applies only when both sides offered it. */
	uint8_t ws = wc->ws_offered[0] && wc->ws_offered[1] ? wc->wscale[side] : 0;
	uint32_t edge = h->ack + ((uint32_t)h->wnd << ws);
	if (!wc->have_edge[side] || sf_seq_gt(edge, wc->edge[side]))
		wc->edge[side] = edge;
	wc->have_edge[side] = true;
	if (h->wnd == 0)
		wc->zero_wnd[side]++;
	if (h->payload_len) {
		wc->data_segs[side]++;
		int peer = 1 - side;
		uint32_t end = h->seq + h->payload_len;
		if (wc->have_edge[peer] && sf_seq_gt(end, wc->edge[peer])) {
			uint32_t excess = end - wc->edge[peer];
			if (!wc->violations) {
				wc->first_side = side;
				wc->first_us = ev->now_us;
				wc->first_seq = h->seq - wc->iss[side];
				wc->first_len = h->payload_len;
				wc->first_edge = wc->edge[peer] - wc->iss[side];
			}
			wc->violations++;
			if (excess > wc->worst_excess)
				wc->worst_excess = excess;
		}
	}
}

static void sink0(void *ctx, const sf_event_t *ev)
{
	wincheck_t *wc = ctx;
	observe(wc, 0, ev);
	if (wc->next[0].fn)
		wc->next[0].fn(wc->next[0].ctx, ev);
}

static void sink1(void *ctx, const sf_event_t *ev)
{
	wincheck_t *wc = ctx;
	observe(wc, 1, ev);
	if (wc->next[1].fn)
		wc->next[1].fn(wc->next[1].ctx, ev);
}

void wincheck_attach(wincheck_t *wc, simpair_t *sp)
{
	sf_trace_sink_t next0 = sp->sink[0], next1 = sp->sink[1];
	memset(wc, 0, sizeof *wc);
	wc->next[0] = next0;
	wc->next[1] = next1;
	sp->sink[0] = (sf_trace_sink_t){sink0, wc};
	sp->sink[1] = (sf_trace_sink_t){sink1, wc};
}
