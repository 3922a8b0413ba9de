/* SYN cookies (RFC 4987 §3.6, src/core/syncookie.c): with the SYN queue
 * full, a SYN is answered statelessly and the handshake's ACK recreates the
 * connection with its MSS, window scale, SACK and timestamps; a forged or
 * stale cookie is refused, counted and traced; and under a flood of
 * spoofed SYNs legitimate clients still connect, in bounded memory. */
#include <string.h>

#include "pkt.h"

#define SEC 1000000ll

static sf_config_t cookie_cfg(uint32_t backlog)
{
	sf_config_t c;
	sf_config_default(&c);
	c.delack_ms = 0;
	c.seed = 7;
	c.syn_backlog = backlog;
	return c;
}

static sf_sock_t listen_on(pkt_t *p, uint16_t port, int backlog)
{
	sf_sock_t l = sf_socket(p->st);
	assert_int_equal(sf_bind(p->st, l, port), 0);
	assert_int_equal(sf_listen(p->st, l, backlog), 0);
	return l;
}

/* The next segment synfin sent to peer port `port`, skipping others (the
 * half-open children's SYN,ACK retransmissions). */
static pkt_seg_t *next_to(pkt_t *p, uint16_t port)
{
	for (;;) {
		pkt_seg_t *s = pkt_next(p);
		if (s->tcp.dport == port)
			return s;
	}
}

/* A SYN from peer_port with options o; returns synfin's SYN,ACK. */
static pkt_seg_t *syn_from(pkt_t *p, uint16_t peer_port, const sf_tcp_opts_t *o)
{
	p->peer_port = peer_port;
	p->opt = o ? *o : (sf_tcp_opts_t){0};
	pkt_in(p, "S", 0, 0, NULL, 0);
	pkt_seg_t *sa = next_to(p, peer_port);
	assert_int_equal(sa->tcp.flags, SF_TCP_SYN | SF_TCP_ACK);
	assert_int_equal(sa->tcp.ack, p->irs + 1);
	return sa;
}

/* The ACK completing the handshake to the SYN,ACK sa (timestamps echoed
 * when it carried them). */
static void ack_synack(pkt_t *p, const pkt_seg_t *sa)
{
	p->iss = sa->tcp.seq;
	memset(&p->opt, 0, sizeof p->opt);
	if (sa->tcp.opt.has_ts) {
		p->opt.has_ts = true;
		p->opt.ts_ecr = sa->tcp.opt.ts_val;
	}
	pkt_in(p, ".", 1, 1, NULL, 0);
}

static sf_stack_stats_t stats(const pkt_t *p)
{
	sf_stack_stats_t s;
	sf_stack_stats(p->st, &s);
	return s;
}

/* Fills the SYN queue (backlog 2) with two half-open connections. */
static void fill_queue(pkt_t *p)
{
	syn_from(p, 30001, NULL);
	syn_from(p, 30002, NULL);
	pkt_expect_none(p);
}

/* A stack with a SYN queue of 2, listening on port 80 with the queue
 * already full, so the next SYN is answered with a cookie; returns the
 * listener. */
static sf_sock_t listen_full(pkt_t *p)
{
	sf_config_t c = cookie_cfg(2);
	pkt_init(p, &c);
	sf_sock_t l = listen_on(p, 80, 16);
	fill_queue(p);
	return l;
}

/* The third SYN gets a cookie: no connection block, a SYN,ACK with our MSS,
 * window scale, SACK-permitted and timestamps as a queued child would send;
 * the ACK brings back the peer's MSS (1460 is in the table), window scale
 * and SACK from the timestamp, and the connection is accepted. */
static void cookie_when_syn_queue_full(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t l = listen_full(&p);
	uint32_t open_before = stats(&p).conns_open;
	p.now += 100000; /* the timestamp clock is past its first 64 ticks */
	sf_tcp_opts_t o = {.has_mss = true,
	                   .mss = 1460,
	                   .has_wscale = true,
	                   .wscale = 7,
	                   .sack_perm = true,
	                   .has_ts = true};
	pkt_seg_t *sa = syn_from(&p, 40000, &o);
	assert_int_equal(stats(&p).syncookies_sent, 1);
	assert_int_equal(stats(&p).conns_open, open_before); /* nothing kept */
	assert_true(sa->tcp.opt.has_mss && sa->tcp.opt.has_wscale && sa->tcp.opt.sack_perm);
	assert_true(sa->tcp.opt.has_ts);
	assert_int_equal(sa->tcp.opt.ts_ecr, p.peer_ts);
	assert_true(sa->tcp.opt.ts_val <= (uint32_t)((p.now - 1 * SEC) / 1000) + 1);
	assert_true(sa->tcp.opt.ts_val + 64 > (uint32_t)((p.now - 1 * SEC) / 1000) + 1);
	ack_synack(&p, sa);
	pkt_expect_none(&p);
	assert_int_equal(stats(&p).syncookies_ok, 1);
	sf_sock_t a = sf_accept(p.st, l, NULL, NULL);
	assert_true(a > 0);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, a, &ti);
	assert_int_equal(ti.state, SF_ESTABLISHED);
	assert_int_equal(ti.snd_mss, 1460);
	assert_true(ti.sack_ok);
	assert_true(ti.ts_ok);
	assert_true(ti.wscale_ok);
	assert_int_equal(ti.snd_wscale, 7);
	/* Data both ways over it, with our ISS the cookie. */
	p.opt.ts_val = p.peer_ts;
	pkt_in(&p, "P.", 1, 1, "ping", 4);
	pkt_expect(&p, ".", 1, 5, 0);
	assert_int_equal(sf_send(p.st, a, "pong", 4), 4);
	pkt_poll(&p);
	pkt_expect(&p, "P.", 1, 5, 4);
	pkt_finish_listener(&p, a, l);
}

/* Without timestamps only the MSS survives, rounded down to the table
 * (1000 -> 536): no window scaling, no SACK, as with Linux. */
static void cookie_without_timestamps_keeps_mss(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t l = listen_full(&p);
	sf_tcp_opts_t o = {
	        .has_mss = true, .mss = 1000, .has_wscale = true, .wscale = 7, .sack_perm = true};
	pkt_seg_t *sa = syn_from(&p, 40000, &o);
	assert_false(sa->tcp.opt.has_wscale);
	assert_false(sa->tcp.opt.sack_perm);
	ack_synack(&p, sa);
	sf_sock_t a = sf_accept(p.st, l, NULL, NULL);
	assert_true(a > 0);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, a, &ti);
	assert_int_equal(ti.snd_mss, 536);
	assert_false(ti.sack_ok);
	assert_false(ti.wscale_ok);
	pkt_finish_listener(&p, a, l);
}

/* A forged ACK (wrong cookie), an ACK for another 4-tuple and a cookie two
 * periods old are refused with a RST, counted and traced; the listener
 * still serves the next client. */
static void bad_cookies_refused_and_counted(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t l = listen_full(&p);
	pkt_seg_t *sa = syn_from(&p, 40000, NULL);
	uint32_t cookie = sa->tcp.seq;
	/* Forged: one off. */
	p.iss = cookie + 1;
	pkt_in(&p, ".", 1, 1, NULL, 0);
	pkt_seg_t *r = pkt_next(&p);
	assert_int_equal(r->tcp.flags, SF_TCP_RST);
	/* The right cookie from another port. */
	p.peer_port = 40001;
	p.iss = cookie;
	pkt_in(&p, ".", 1, 1, NULL, 0);
	assert_int_equal(pkt_next(&p)->tcp.flags, SF_TCP_RST);
	/* The right cookie, too late (more than two 64 s periods). */
	p.peer_port = 40000;
	p.now += 130 * SEC;
	/* keep cookies "recent": another SYN is answered with one */
	syn_from(&p, 40009, NULL);
	p.peer_port = 40000;
	pkt_in(&p, ".", 1, 1, NULL, 0);
	assert_int_equal(next_to(&p, 40000)->tcp.flags, SF_TCP_RST);
	pkt_discard(&p);
	assert_int_equal(stats(&p).syncookies_bad, 3);
	assert_int_equal(pkt_drops(&p, SF_DROP_TCP_BAD_COOKIE), 3);
	assert_int_equal(stats(&p).drops[SF_DROP_TCP_BAD_COOKIE], 3);
	assert_int_equal(sf_accept(p.st, l, NULL, NULL), SF_EAGAIN);
	/* A fresh client is served. */
	sa = syn_from(&p, 40002, NULL);
	ack_synack(&p, sa);
	sf_sock_t a = sf_accept(p.st, l, NULL, NULL);
	assert_true(a > 0);
	pkt_finish_listener(&p, a, l);
}

/* Drives `spoofed` SYNs from addresses that never answer, interleaved
 * with `legit` clients that complete their handshake after `gap` more
 * spoofed SYNs arrived; returns how many legitimate clients were accepted
 * and checks memory stays bounded meanwhile. */
static unsigned flood(bool cookies, unsigned spoofed, unsigned legit, unsigned gap)
{
	pkt_t p;
	sf_config_t c = cookie_cfg(64);
	c.syncookies = cookies;
	c.max_conns = 256;
	pkt_init(&p, &c);
	sf_sock_t l = listen_on(&p, 80, 64);
	int64_t bytes0 = p.mem.bytes, live0 = p.mem.live;
	int64_t peak = bytes0;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned every = spoofed / legit, accepted = 0;
	/* A legitimate client's SYN,ACK waiting for its ACK. */
	struct {
		uint32_t iss;
		uint16_t port;
		bool ts;
		uint32_t ts_val;
		unsigned due;
	} pend[64];
	unsigned npend = 0, sent_legit = 0;
	for (unsigned i = 0; i < spoofed + gap + 1; i++) {
		if (i < spoofed) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			p.peer_addr = 0xCB007100u | (uint32_t)(x & 0xff); /* 203.0.113.x */
			p.peer_port = (uint16_t)(1024 + (x >> 8) % 60000);
			p.irs = (uint32_t)(x >> 32);
			p.opt = (sf_tcp_opts_t){.has_mss = true, .mss = 1460};
			pkt_in(&p, "S", 0, 0, NULL, 0);
			pkt_discard(&p);
		}
		if (i % every == 0 && sent_legit < legit && npend < 64) {
			p.peer_addr = PKT_PEER;
			p.peer_port = (uint16_t)(10000 + sent_legit);
			p.irs = 1000;
			p.opt = (sf_tcp_opts_t){.has_mss = true, .mss = 1460, .has_ts = true};
			pkt_in(&p, "S", 0, 0, NULL, 0);
			pkt_seg_t *sa = NULL;
			while (pkt_pending(&p)) {
				pkt_seg_t *s = pkt_next(&p);
				if (s->ip.dst == PKT_PEER && s->tcp.dport == p.peer_port)
					sa = s;
			}
			if (sa) {
				pend[npend].iss = sa->tcp.seq;
				pend[npend].port = p.peer_port;
				pend[npend].ts = sa->tcp.opt.has_ts;
				pend[npend].ts_val = sa->tcp.opt.ts_val;
				pend[npend].due = i + gap;
				npend++;
			}
			sent_legit++;
		}
		for (unsigned k = 0; k < npend;) {
			if (pend[k].due > i) {
				k++;
				continue;
			}
			p.peer_addr = PKT_PEER;
			p.peer_port = pend[k].port;
			p.irs = 1000;
			p.iss = pend[k].iss;
			p.opt = (sf_tcp_opts_t){.has_ts = pend[k].ts,
			                        .ts_val = p.peer_ts,
			                        .ts_ecr = pend[k].ts_val};
			pkt_in(&p, ".", 1, 1, NULL, 0);
			pkt_discard(&p);
			sf_sock_t a = sf_accept(p.st, l, NULL, NULL);
			if (a > 0) {
				accepted++;
				sf_abort(p.st, a);
				pkt_poll(&p);
				pkt_discard(&p);
			}
			pend[k] = pend[--npend];
		}
		if (p.mem.bytes > peak)
			peak = p.mem.bytes;
		if (i % 1000 == 0)
			p.now += 1000; /* a millisecond per thousand SYNs */
	}
	/* Bounded: the half-open entries live in the connection blocks made
	 * at creation; a cookie costs nothing. */
	assert_true(peak <= bytes0 + 256 * 1024);
	assert_true(p.mem.live <= live0 + 8);
	sf_stack_stats_t ss = stats(&p);
	if (cookies) {
		assert_true(ss.syncookies_sent >= spoofed - 64);
		assert_int_equal(ss.syncookies_bad, 0);
	}
	print_message("%u spoofed SYNs, cookies %s: %u of %u legitimate clients connected, "
	              "peak memory %lld bytes over the start\n",
	              spoofed, cookies ? "on" : "off", accepted, legit, (long long)(peak - bytes0));
	pkt_finish_close(&p, l);
	return accepted;
}

/* RFC 4987 §3.6: 20,000 spoofed SYNs, 200 legitimate clients each
 * answering after 100 more spoofed SYNs (the whole queue turns over in
 * between): at least 99 % connect. */
static void flood_keeps_listener_serving(void **state)
{
	(void)state;
	unsigned ok = flood(true, 20000, 200, 100);
	assert_true(ok >= 198);
}

/* The same flood without cookies: the queue's eviction (RFC 4987 §3.4)
 * gives each legitimate half-open entry up before its ACK comes. */
static void flood_without_cookies_loses_clients(void **state)
{
	(void)state;
	unsigned ok = flood(false, 2000, 20, 100);
	assert_true(ok < 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(cookie_when_syn_queue_full),
	        cmocka_unit_test(cookie_without_timestamps_keeps_mss),
	        cmocka_unit_test(bad_cookies_refused_and_counted),
	        cmocka_unit_test(flood_keeps_listener_serving),
	        cmocka_unit_test(flood_without_cookies_loses_clients),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
