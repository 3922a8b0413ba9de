/* The stack: creation from a config, the IPv4 input path, ICMP, the output
 * pass over connections with queued work, timers and the next deadline.
 *
 * Sans-IO: the driver passes now_us into every entry point; frames leave
 * through cfg.transmit. All memory comes from the allocator hook, sized at
 * creation except connection buffers, which are taken when a connection
 * first needs them.
 */
#include <string.h>

#include "core/stack.h"

void sf_config_default(sf_config_t *c)
{
	memset(c, 0, sizeof *c);
	c->addr = 0xC0000202; /* 192.0.2.2, TEST-NET-1 */
	c->prefix_len = 24;
	c->mtu = 1500;
	c->max_conns = 1024;
	c->sndbuf = 64 * 1024;
	c->rcvbuf = 64 * 1024;
	c->msl_ms = 30000;
	c->rto_init_ms = 1000;
	c->rto_min_ms = 200;
	c->rto_max_ms = 60000;
	c->r1 = 3;
	c->r2_ms = 100000;
	c->r2_syn_ms = 180000;
	c->delack_ms = 40;
	c->finwait2_ms = 60000;
	c->keepidle_s = 7200;
	c->keepintvl_s = 75;
	c->keepcnt = 9;
	c->syn_backlog = 256;
	c->ttl = 64;
	c->frag_slots = SF_HAVE_IPFRAG ? 4 : 0;
	c->frag_timeout_ms = 30000;
	c->wscale = c->sack = c->timestamps = true;
	/* What a build option compiled out is off (docs/PORTING.md). */
	c->rack = SF_HAVE_RACK;
	c->hystart = SF_HAVE_HYSTART;
	c->syncookies = SF_HAVE_SYNCOOKIE;
	c->ecn = SF_HAVE_ECN ? SF_ECN_PASSIVE : SF_ECN_OFF;
	c->verify_checksums = true;
	c->port_min = 49152;
	c->port_max = 65535;
	c->reply_interval_ms = 500;
	c->reply_budget = 1000;
}

/* ---- allocation hook ---- */

void *sf_core_alloc(sf_stack_t *st, size_t size)
{
	void *p = st->al.alloc(st->al.ctx, size);
	if (p) {
		st->stats.bytes_allocated += size;
		st->stats.allocs_live++;
	}
	return p;
}

void sf_core_free(sf_stack_t *st, void *p, size_t size)
{
	if (!p)
		return;
	st->stats.bytes_allocated -= size;
	st->stats.allocs_live--;
	st->al.free(st->al.ctx, p, size);
}

/* ---- tracing ---- */

void sf_core_trace_emit(sf_stack_t *st, const sf_event_t *ev)
{
	sf_event_t e = *ev;
	e.now_us = st->now_us;
	st->cfg.trace.fn(st->cfg.trace.ctx, &e);
}

void sf_core_drop(sf_stack_t *st, sf_drop_reason_t why, uint32_t conn_id, const sf_ipv4_t *ip,
                  const sf_tcp_t *tcp)
{
	st->stats.drops[why]++;
	if (!sf_tracing(st))
		return;
	sf_event_t ev = {.kind = SF_EV_DROP, .conn_id = conn_id, .drop = why};
	if (ip && tcp) {
		ev.has_seg = true;
		ev.u.seg.ip = *ip;
		ev.u.seg.tcp = *tcp;
	}
	sf_core_trace(st, &ev);
}

/* ---- creation ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t sf_random(sf_stack_t *st)
{
	return splitmix64(&st->rng);
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 16;
	while (p < n && p < (1u << 30))
		p <<= 1;
	return p;
}

static void free_tables(sf_stack_t *st);

/* A config asking for a feature this core was built without (the SF_NO_*
 * build options, docs/PORTING.md) is refused rather than quietly served
 * less: SF_ENOTSUP tells the application which build it runs on. */
static bool asks_missing_feature(const sf_config_t *c)
{
	return (c->rack && !SF_HAVE_RACK) || (c->hystart && !SF_HAVE_HYSTART) ||
	       (c->syncookies && !SF_HAVE_SYNCOOKIE) || (c->ecn != SF_ECN_OFF && !SF_HAVE_ECN) ||
	       (c->frag_slots && !SF_HAVE_IPFRAG) ||
	       ((c->transmit_off || c->tso_max) && !SF_HAVE_OFFLOAD);
}

int sf_stack_create(const sf_config_t *cfg, int64_t now_us, sf_stack_t **out)
{
	if (!cfg || !out || cfg->mtu < 68 + 40 || cfg->max_conns == 0 ||
	    cfg->max_conns > (1u << 22) - 1 || cfg->sndbuf == 0 || cfg->rcvbuf == 0 ||
	    cfg->port_min == 0 || cfg->port_min > cfg->port_max || cfg->delack_ms >= 500 ||
	    cfg->rto_min_ms == 0 || cfg->rto_min_ms > cfg->rto_max_ms)
		return SF_EINVAL;
	if (asks_missing_feature(cfg))
		return SF_ENOTSUP;
	sf_allocator_t al = cfg->allocator;
	if (!al.alloc || !al.free)
		al = sf_default_allocator();
	sf_stack_t *st = al.alloc(al.ctx, sizeof *st);
	if (!st)
		return SF_ENOMEM;
	memset(st, 0, sizeof *st);
	st->al = al;
	st->cfg = *cfg;
	st->cfg.allocator = al;
	st->stats.bytes_allocated = sizeof *st;
	st->stats.allocs_live = 1;
	st->now_us = st->epoch_us = now_us;
	st->rng = cfg->seed;
	st->isn_key = (sf_sipkey_t){splitmix64(&st->rng), splitmix64(&st->rng)};
	st->hash_key = (sf_sipkey_t){splitmix64(&st->rng), splitmix64(&st->rng)};
	st->port_key = (sf_sipkey_t){splitmix64(&st->rng), splitmix64(&st->rng)};
	st->port_counter = (uint32_t)splitmix64(&st->rng);
	st->next_conn_id = 1;
	st->dirty_head = st->dirty_tail = SF_NIL;
#if SF_HAVE_READY
	st->ready_head = st->ready_tail = SF_NIL;
#endif
	sf_wheel_init(&st->wheel, now_us);

	st->max_conns = cfg->max_conns;
	st->max_tw = cfg->max_timewait ? cfg->max_timewait : 4 * cfg->max_conns;
	uint32_t nb = pow2_at_least(cfg->max_conns);
	uint32_t ntb = pow2_at_least(st->max_tw);
	st->tcbs = sf_core_alloc(st, (size_t)st->max_conns * sizeof *st->tcbs);
	/* A receiver holds an out-of-order range per hole in its window: at
	 * 5 % loss a hole every twenty segments, with reordering more. One
	 * range per four full segments of cfg.rcvbuf covers that, so the SACK
	 * blocks keep describing what is held (RFC 2018 §8: a forgotten range
	 * costs the sender a timeout). Beyond the block's own SF_MAX_OOO they
	 * are a pool block of ooo_cap, held only while there are holes
	 * (sf_tcb_ooo_grow). */
	uint32_t per = 4u * (cfg->mtu > 80 ? cfg->mtu - 40u : 536u);
	uint32_t ooo = cfg->rcvbuf / per;
	st->ooo_cap = (uint16_t)(ooo <= SF_MAX_OOO         ? SF_MAX_OOO
	                         : ooo > SF_RANGES_EXT_MAX ? SF_RANGES_EXT_MAX
	                                                   : ooo);
	st->buckets = sf_core_alloc(st, (size_t)nb * sizeof *st->buckets);
	st->tw = sf_core_alloc(st, (size_t)st->max_tw * sizeof *st->tw);
	st->tw_buckets = sf_core_alloc(st, (size_t)ntb * sizeof *st->tw_buckets);
	/* An echo reply is as long as its (reassembled) request, and a TSO
	 * super-segment up to 64 KiB: the full size only when either can be. */
	st->frame_cap = cfg->frag_slots || sf_tso_on(st) ? SF_FRAME_MAX : cfg->mtu;
	st->frame = sf_core_alloc(st, st->frame_cap);
	st->ctl_cap = cfg->max_conns >= SF_CTL_MAX / 2 ? SF_CTL_MAX
	              : cfg->max_conns < 8             ? 16
	                                               : 2 * cfg->max_conns;
	st->ctl = sf_core_alloc(st, st->ctl_cap * sizeof *st->ctl);
	if (!st->tcbs || !st->buckets || !st->tw || !st->tw_buckets || !st->frame || !st->ctl ||
	    sf_frag_init(st) < 0) {
		free_tables(st);
		return SF_ENOMEM;
	}
	st->bucket_mask = nb - 1;
	st->tw_mask = ntb - 1;
	memset(st->buckets, 0xff, (size_t)nb * sizeof *st->buckets);
	memset(st->tw_buckets, 0xff, (size_t)ntb * sizeof *st->tw_buckets);
	/* Blocks and records are handed out fresh by a bump index, then
	 * recycled through free lists: a large table costs address space, not
	 * memory, until it is used (nothing here touches it). */
	st->free_head = st->tw_free = SF_NIL;
	st->tcb_fresh = st->tw_fresh = 0;
	st->tw_head = st->tw_tail = SF_NIL;
	*out = st;
	return 0;
}

/* Frees the tables sf_stack_create allocated (those still NULL are
 * skipped) and the stack itself: all a failed creation has to undo, so a
 * firmware that never destroys its stack links no more than this. */
static void free_tables(sf_stack_t *st)
{
	sf_core_free(st, st->tcbs, (size_t)st->max_conns * sizeof *st->tcbs);
	sf_core_free(st, st->buckets, (size_t)(st->bucket_mask + 1) * sizeof *st->buckets);
	sf_core_free(st, st->tw, (size_t)st->max_tw * sizeof *st->tw);
	sf_core_free(st, st->tw_buckets, (size_t)(st->tw_mask + 1) * sizeof *st->tw_buckets);
	sf_core_free(st, st->listeners, st->listener_cap * sizeof *st->listeners);
	sf_core_free(st, st->frame, st->frame_cap);
	sf_core_free(st, st->ctl, st->ctl_cap * sizeof *st->ctl);
	sf_frag_fini(st);
	sf_allocator_t al = st->al;
	al.free(al.ctx, st, sizeof *st);
}

void sf_stack_destroy(sf_stack_t *st)
{
	if (!st)
		return;
	for (uint32_t i = 0; i < st->tcb_fresh; i++) {
		sf_ring_release(st, &st->tcbs[i].snd);
		sf_ring_release(st, &st->tcbs[i].rcv);
		sf_rack_release(st, &st->tcbs[i]);
		sf_tcb_ooo_shrink(st, &st->tcbs[i], true);
	}
	sf_bufpool_fini(st);
	free_tables(st);
}

void sf_stack_stats(const sf_stack_t *st, sf_stack_stats_t *out)
{
	*out = st->stats;
}

void sf_stack_conns_by_state(const sf_stack_t *st, uint32_t out[SF_STATE_COUNT])
{
	memset(out, 0, SF_STATE_COUNT * sizeof out[0]);
	for (uint32_t i = 0; i < st->tcb_fresh; i++)
		if (st->tcbs[i].state != SF_CLOSED && st->tcbs[i].state < SF_STATE_COUNT)
			out[st->tcbs[i].state]++;
}

/* ---- the output list: connections with something to send ---- */

void sf_tcb_mark_dirty(sf_stack_t *st, sf_tcb_t *t)
{
	if (t->flags & F_DIRTY)
		return;
	t->flags |= F_DIRTY;
	t->dirty_next = SF_NIL;
	uint32_t me = tcb_index(st, t);
	if (st->dirty_tail == SF_NIL)
		st->dirty_head = me;
	else
		st->tcbs[st->dirty_tail].dirty_next = me;
	st->dirty_tail = me;
}

/* ---- the readiness list: what the application should look at again ---- */

#if SF_HAVE_READY
void sf_tcb_mark_ready(sf_stack_t *st, sf_tcb_t *t)
{
	if ((t->flags & (F_HANDLE | F_READY)) != F_HANDLE)
		return;
	t->flags |= F_READY;
	uint32_t me = tcb_index(st, t);
	t->ready_prev = st->ready_tail;
	t->ready_next = SF_NIL;
	if (st->ready_tail == SF_NIL)
		st->ready_head = me;
	else
		st->tcbs[st->ready_tail].ready_next = me;
	st->ready_tail = me;
}

void sf_tcb_ready_unlink(sf_stack_t *st, sf_tcb_t *t)
{
	if (!(t->flags & F_READY))
		return;
	t->flags &= ~(uint32_t)F_READY;
	if (t->ready_prev == SF_NIL)
		st->ready_head = t->ready_next;
	else
		st->tcbs[t->ready_prev].ready_next = t->ready_next;
	if (t->ready_next == SF_NIL)
		st->ready_tail = t->ready_prev;
	else
		st->tcbs[t->ready_next].ready_prev = t->ready_prev;
}

sf_tcb_t *sf_tcb_ready_pop(sf_stack_t *st)
{
	if (st->ready_head == SF_NIL)
		return NULL;
	sf_tcb_t *t = &st->tcbs[st->ready_head];
	sf_tcb_ready_unlink(st, t);
	return t;
}
#endif

static void flush(sf_stack_t *st)
{
	if (st->ctl_cnt)
		sf_send_ctl_queue(st);
	while (st->dirty_head != SF_NIL) {
		sf_tcb_t *t = &st->tcbs[st->dirty_head];
		st->dirty_head = t->dirty_next;
		if (st->dirty_head == SF_NIL)
			st->dirty_tail = SF_NIL;
		t->flags &= ~(uint32_t)F_DIRTY;
		if (t->state == SF_CLOSED) {
			if (!(t->flags & F_HANDLE))
				sf_tcb_free(st, t);
			continue;
		}
		if (t->state == SF_TIME_WAIT) {
			/* The ACK of the peer's FIN leaves (none is owed when the
			 * peer's ACK of our FIN ended CLOSING), then the TCB becomes
			 * a compact record. */
			if (t->flags & F_ACK_NOW)
				sf_send_ack(st, t);
			sf_tcb_to_timewait(st, t);
			continue;
		}
		/* An output pass moves several deadlines of t (the delayed ACK
		 * paid, the RTO started, the probe timeout armed): the wheel
		 * entry follows once, at the end. */
		t->timer_hold = 1;
		sf_tcp_output(st, t);
		if (t->state != SF_CLOSED)
			sf_tcb_timers_sync(st, t);
		else
			t->timer_hold = 0; /* closed: detached, no deadline left */
	}
}

/* ---- timers ---- */

static void timer_event(sf_stack_t *st, sf_tcb_t *t, sf_timer_kind_t k, uint32_t count)
{
	if (!sf_tracing(st))
		return;
	sf_event_t ev = {.kind = SF_EV_TIMER, .conn_id = t->id};
	ev.u.timer.timer = k;
	ev.u.timer.count = count;
	sf_core_trace(st, &ev);
}

void sf_tcb_timers_fire(sf_stack_t *st, sf_tcb_t *t)
{
	int64_t now = st->now_us;
	if (t->deadline[T_DELACK] <= now) {
		t->deadline[T_DELACK] = INT64_MAX;
		timer_event(st, t, SF_TIMER_DELACK, 0);
		t->flags |= F_ACK_NOW;
		sf_tcb_mark_dirty(st, t);
	}
	if (t->deadline[T_TLP] <= now) {
		t->deadline[T_TLP] = INT64_MAX;
		if (sf_rack_tlp_ready(t)) {
			timer_event(st, t, SF_TIMER_TLP, 0);
			sf_rack_tlp_timeout(st, t);
		} /* before the RTO it may replace */
	}
	if (t->deadline[T_RTO] <= now) {
		t->deadline[T_RTO] = INT64_MAX;
		timer_event(st, t, SF_TIMER_RTO, t->backoff + 1u);
		sf_tcp_retransmit_timeout(st, t);
		if (t->state == SF_CLOSED)
			return;
	}
	if (t->deadline[T_REO] <= now) {
		t->deadline[T_REO] = INT64_MAX;
		timer_event(st, t, SF_TIMER_RACK, 0);
		if (sf_rack_reo_timeout(st, t))
			sf_recovery_on_rack_loss(st, t);
	}
	if (t->deadline[T_PERSIST] <= now && !snd_window_shut(t)) {
		/* RFC 9293 §3.8.6.2.1: the override timeout of sender SWS
		 * avoidance: send what the (small) window takes. */
		t->deadline[T_PERSIST] = INT64_MAX;
		t->flags |= F_SWS_OVERRIDE;
		sf_tcb_mark_dirty(st, t);
	}
	if (t->deadline[T_PERSIST] <= now) {
		t->deadline[T_PERSIST] = INT64_MAX;
		/* MUST-37 lets the window stay shut forever while the peer
		 * answers; a peer silent for R2 is gone (RFC 9293 §3.8.3). */
		uint32_t r2 = t->user_timeout_ms ? t->user_timeout_ms : st->cfg.r2_ms;
		if (now - t->last_rx_us >= (int64_t)r2 * 1000) {
			sf_tcb_close(st, t, SF_ETIMEDOUT, SF_CAUSE_TIMEOUT);
			return;
		}
		t->probes++;
		timer_event(st, t, SF_TIMER_PERSIST, t->probes);
		/* MUST-37: probing goes on as long as the peer answers; the
		 * interval backs off to the RTO maximum. */
		sf_send_probe(st, t);
		sf_tcb_mark_dirty(st, t); /* output re-arms the persist timer */
	}
	if (SF_HAVE_KEEPALIVE && t->deadline[T_KEEPALIVE] <= now) {
		t->deadline[T_KEEPALIVE] = INT64_MAX;
		if (t->snd_una != t->snd_max || !keepalive_state(t)) {
			/* Data in flight: the retransmission timer watches the
			 * peer (RFC 9293 §3.8.4: probe only an idle connection). */
			if (keepalive_state(t))
				sf_tcb_timer_set(st, t, T_KEEPALIVE,
				                 now + (int64_t)t->keepidle_s * 1000000);
		} else if (t->ka_probes >= t->keepcnt) {
			sf_tcb_close(st, t, SF_ETIMEDOUT, SF_CAUSE_TIMEOUT);
			return;
		} else {
			t->ka_probes++;
			timer_event(st, t, SF_TIMER_KEEPALIVE, t->ka_probes);
			sf_send_probe(st, t);
			sf_tcb_timer_set(st, t, T_KEEPALIVE,
			                 now + (int64_t)t->keepintvl_s * 1000000);
		}
	}
	if (t->deadline[T_LINGER2] <= now) {
		t->deadline[T_LINGER2] = INT64_MAX;
		timer_event(st, t, SF_TIMER_FINWAIT2, 0);
		sf_tcb_close(st, t, SF_ETIMEDOUT, SF_CAUSE_FINWAIT2);
		return;
	}
	/* Re-arm the wheel entry for what is left. */
	int64_t m = INT64_MAX;
	for (int i = 0; i < T_COUNT; i++)
		if (t->deadline[i] < m)
			m = t->deadline[i];
	if (m != INT64_MAX && !sf_timer_armed(&t->timer))
		sf_wheel_arm(&st->wheel, &t->timer, m);
}

static void on_wheel(void *ctx, sf_timer_t *tm)
{
	sf_stack_t *st = ctx;
	sf_tcb_t *t = (sf_tcb_t *)((uint8_t *)tm - offsetof(sf_tcb_t, timer));
	sf_tcb_timers_fire(st, t);
}

static void advance(sf_stack_t *st, int64_t now_us)
{
	if (now_us > st->now_us)
		st->now_us = now_us;
}

void sf_stack_poll(sf_stack_t *st, int64_t now_us)
{
	advance(st, now_us);
	sf_wheel_expire(&st->wheel, st->now_us, on_wheel, st);
	sf_tw_expire(st);
	if (st->frags)
		sf_frag_expire(st);
	flush(st);
}

int64_t sf_stack_next_deadline(const sf_stack_t *st)
{
	if (st->dirty_head != SF_NIL || st->ctl_cnt)
		return st->now_us;
	int64_t d = sf_wheel_next_deadline(&st->wheel);
	if (st->tw_head != SF_NIL) {
		int64_t tw = st->epoch_us + (int64_t)st->tw[st->tw_head].expire_ms * 1000;
		if (tw < d)
			d = tw;
	}
	return d;
}

/* ---- IPv4 and ICMP input ---- */

static void icmp_echo_reply(sf_stack_t *st, const sf_ipv4_t *ip, const sf_icmp_t *ic,
                            const uint8_t *msg)
{
	sf_icmp_t r = {.type = SF_ICMP_ECHO_REPLY, .id = ic->id, .seq = ic->seq};
	int n = sf_icmp_emit(&r, msg + ic->data_off, ic->data_len, st->frame + SF_IPV4_HDR_LEN,
	                     st->frame_cap - SF_IPV4_HDR_LEN);
	if (n < 0)
		return;
	st->stats.icmp_out++;
	sf_ip_output(st, ip->src, SF_IP_PROTO_ICMP, st->cfg.ttl, 0, (size_t)n);
}

/* RFC 9293 §3.9.2.2, RFC 5927: ICMP errors for a connection. Hard errors
 * (protocol or port unreachable) abort only a connection still opening;
 * others are soft and never abort (MUST-56). Source quench is ignored
 * (MUST-55). Fragmentation-needed lowers the MSS (RFC 1191). */
void sf_icmp_input(sf_stack_t *st, const sf_ipv4_t *ip, const uint8_t *msg, size_t len)
{
	sf_icmp_t ic;
	int rc = sf_icmp_parse(msg, len, &ic);
	if (rc < 0) {
		sf_core_drop(st,
		             rc == SF_ECHECKSUM ? SF_DROP_ICMP_CHECKSUM : SF_DROP_ICMP_TRUNCATED, 0,
		             ip, NULL);
		return;
	}
	st->stats.icmp_in++;
	if (ic.type == SF_ICMP_ECHO) {
		icmp_echo_reply(st, ip, &ic, msg);
		return;
	}
	bool error = ic.type == SF_ICMP_UNREACH || ic.type == SF_ICMP_TIME_EXCEEDED ||
	             ic.type == SF_ICMP_PARAM_PROBLEM;
	if (!error || !ic.has_quote || ic.q_ip.proto != SF_IP_PROTO_TCP ||
	    ic.q_ip.src != st->cfg.addr) {
		sf_core_drop(st, SF_DROP_ICMP_IGNORED, 0, ip, NULL);
		return;
	}
	sf_tcb_t *t = sf_tcb_lookup(st, ic.q_ip.dst, ic.q_dport, ic.q_sport);
	/* RFC 5927 §4.1: the quoted sequence number must be in flight. */
	if (!t || sf_seq_lt(ic.q_seq, t->snd_una) || sf_seq_gt(ic.q_seq, t->snd_max)) {
		sf_core_drop(st, SF_DROP_ICMP_IGNORED, t ? t->id : 0, ip, NULL);
		return;
	}
	if (ic.type == SF_ICMP_UNREACH && ic.code == SF_ICMP_UNREACH_NEEDFRAG) {
		if (ic.mtu >= 68 + 40 && ic.mtu - 40u < t->snd_mss) {
			t->snd_mss = (uint16_t)(ic.mtu - 40u);
			sf_tcb_mark_dirty(st, t);
		}
		return;
	}
	bool hard = ic.type == SF_ICMP_UNREACH &&
	            (ic.code == SF_ICMP_UNREACH_PROTO || ic.code == SF_ICMP_UNREACH_PORT);
	if (hard && (t->state == SF_SYN_SENT || t->state == SF_SYN_RECEIVED)) {
		sf_tcb_close(st, t, SF_EUNREACH, SF_CAUSE_ICMP);
		return;
	}
	/* Soft error (MUST-54, MUST-56): kept for the application to ask for
	 * with sf_sock_error, and reported instead of a bare timeout if the
	 * connection later fails; sends and receives go on undisturbed. */
	t->soft_error = SF_EUNREACH;
}

static int input(sf_stack_t *st, const uint8_t *frame, size_t len, const sf_offload_t *off,
                 const uint32_t *hash);

int sf_stack_input(sf_stack_t *st, const uint8_t *frame, size_t len, int64_t now_us)
{
	advance(st, now_us);
	return input(st, frame, len, NULL, NULL);
}

int sf_stack_input_off(sf_stack_t *st, const uint8_t *frame, size_t len, const sf_offload_t *off,
                       int64_t now_us)
{
	advance(st, now_us);
	return input(st, frame, len, off, NULL);
}

/* Frames parsed ahead at a time: enough for the prefetches to land, few
 * enough for their lines to stay in the cache. */
#define BATCH_AHEAD 16

int sf_stack_input_batch(sf_stack_t *st, const sf_frame_t *frames, size_t n, int64_t now_us)
{
	advance(st, now_us);
	int taken = 0;
	uint32_t hash[BATCH_AHEAD];
	bool have[BATCH_AHEAD];
	for (size_t base = 0; base < n; base += BATCH_AHEAD) {
		size_t cnt = n - base < BATCH_AHEAD ? n - base : BATCH_AHEAD;
		/* Pass 1: the 4-tuple of each unfragmented TCP datagram, hashed
		 * once; its buckets prefetched. Nothing here is trusted: input()
		 * parses every frame in full, and uses the hash only for the
		 * same address and ports it reads itself. */
		for (size_t i = 0; i < cnt; i++) {
			const uint8_t *f = frames[base + i].data;
			size_t len = frames[base + i].len;
			size_t ihl = len >= SF_IPV4_HDR_LEN ? (size_t)(f[0] & 0x0f) * 4 : 0;
			have[i] = ihl >= SF_IPV4_HDR_LEN && len >= ihl + 4 &&
			          f[9] == SF_IP_PROTO_TCP && (sf_be16(f + 6) & 0x3fff) == 0;
			if (!have[i])
				continue;
			hash[i] = sf_tuple_hash(st, sf_be32(f + 12), sf_be16(f + ihl),
			                        sf_be16(f + ihl + 2));
			sf_tuple_prefetch(st, hash[i]);
		}
		/* Pass 2: in order, as sf_stack_input_off would. */
		for (size_t i = 0; i < cnt; i++) {
			const sf_frame_t *fr = &frames[base + i];
			if (input(st, fr->data, fr->len, fr->off, have[i] ? &hash[i] : NULL) == 0)
				taken++;
		}
	}
	return taken;
}

static int input(sf_stack_t *st, const uint8_t *frame, size_t len, const sf_offload_t *off,
                 const uint32_t *hash)
{
	sf_ipv4_t ip;
	/* Another IP version (the kernel's IPv6 on a TUN) is not malformed
	 * IPv4: it is counted apart, so ip_malformed means what it says. */
	if (len > 0 && frame[0] >> 4 != 4) {
		sf_core_drop(st, SF_DROP_IP_NOT_V4, 0, NULL, NULL);
		return SF_EMALFORMED;
	}
	int rc = sf_ipv4_parse(frame, len, &ip);
	if (rc < 0) {
		sf_drop_reason_t why = rc == SF_ECHECKSUM    ? SF_DROP_IP_CHECKSUM
		                       : rc == SF_ETRUNCATED ? SF_DROP_IP_TRUNCATED
		                                             : SF_DROP_IP_MALFORMED;
		sf_core_drop(st, why, 0, NULL, NULL);
		return rc;
	}
	st->stats.ip_in++;
	if (ip.dst != st->cfg.addr) {
		/* MUST-57: broadcast and multicast are discarded silently, as is
		 * anything else not addressed to us. */
		bool bcast = sf_ipv4_addr_is_special(ip.dst, st->cfg.addr, st->cfg.prefix_len);
		sf_core_drop(st, bcast ? SF_DROP_IP_BCAST_DEST : SF_DROP_IP_NOT_FOR_US, 0, &ip,
		             NULL);
		return SF_EINVAL;
	}
	if (sf_ipv4_addr_is_special(ip.src, st->cfg.addr, st->cfg.prefix_len) ||
	    ip.src == st->cfg.addr) {
		sf_core_drop(st, SF_DROP_IP_BAD_SOURCE, 0, &ip, NULL); /* MUST-63 */
		return SF_EINVAL;
	}
	const uint8_t *payload = frame + ip.hdr_len;
	size_t plen = (size_t)ip.total_len - ip.hdr_len;
	if (sf_ipv4_is_fragment(&ip)) {
		if (!sf_frag_input(st, &ip, &payload, &plen))
			return 0; /* held for reassembly, or dropped */
		off = NULL;       /* what a link says is about one fragment only */
		hash = NULL;      /* the ports came from the first fragment */
	}
	switch (ip.proto) {
	case SF_IP_PROTO_TCP:
		sf_tcp_input(st, &ip, payload, plen, off, hash);
		return 0;
	case SF_IP_PROTO_ICMP:
		sf_icmp_input(st, &ip, payload, plen);
		return 0;
	default:
		sf_core_drop(st, SF_DROP_IP_PROTO, 0, &ip, NULL);
		return SF_ENOTSUP;
	}
}
