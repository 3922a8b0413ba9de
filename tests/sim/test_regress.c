/* Regression tests between two synfin stacks over the simulated link, for
 * failure modes that shipped in other stacks: connections that stall when
 * both receive windows close (an echo whose client stops reading), tiny
 * writes flooding into a closed window, a receive buffer so small that the
 * reader drains 3 bytes at a time. (The window-update stalls the grid found
 * are pinned down segment by segment in tests/tcp/test_flow.c.) Every test checks that no data
 * segment ever goes beyond the window its peer advertised (tests/support/wincheck.h, RFC 9293
 * §3.8.6) and that every byte arrives once and in order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "simpair.h"
#include "synfin/simnet.h"
#include "wincheck.h"

#define SEC 1000000ll
#define MS  1000ll

/* Byte i of the client's stream: position-derived, so a receiver checks
 * every byte without a copy. */
static uint8_t stream_byte(uint64_t i)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull;
	x ^= x >> 29;
	return (uint8_t)(x ^ (x >> 17));
}

static void fill(uint8_t *buf, uint64_t off, size_t n)
{
	for (size_t k = 0; k < n; k++)
		buf[k] = stream_byte(off + k);
}

static bool check(const uint8_t *buf, uint64_t off, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (buf[k] != stream_byte(off + k))
			return false;
	return true;
}

typedef struct pair {
	simpair_t sp;
	wincheck_t wc;
	sf_sock_t lsn, cli, srv;
} pair_t;

static void open_pair(pair_t *p, uint64_t seed, const sf_config_t *cfg, const sf_impair_t *imp)
{
	memset(p, 0, sizeof *p);
	wincheck_attach(&p->wc, &p->sp);
	assert_int_equal(simpair_init(&p->sp, seed, cfg, imp, imp), 0);
	p->lsn = sf_socket(p->sp.st[1]);
	assert_int_equal(sf_bind(p->sp.st[1], p->lsn, 7), 0);
	assert_int_equal(sf_listen(p->sp.st[1], p->lsn, 4), 0);
	p->cli = sf_socket(p->sp.st[0]);
}

static void connect_pair(pair_t *p)
{
	assert_int_equal(sf_connect(p->sp.st[0], p->cli, SP_SERVER, 7), SF_EINPROGRESS);
}

static void accept_pending(pair_t *p)
{
	if (p->srv <= 0) {
		sf_sock_t s = sf_accept(p->sp.st[1], p->lsn, NULL, NULL);
		if (s > 0)
			p->srv = s;
	}
}

static void poll_both(pair_t *p)
{
	for (int i = 0; i < 2; i++)
		sf_stack_poll(p->sp.st[i], p->sp.now);
}

static void close_pair(pair_t *p)
{
	if (p->wc.violations)
		print_message("%llu segment(s) beyond the peer's window, up to %u bytes; first: "
		              "side %d at %lld us, seq %u len %u, edge %u\n",
		              (unsigned long long)p->wc.violations, p->wc.worst_excess,
		              p->wc.first_side, (long long)p->wc.first_us, p->wc.first_seq,
		              p->wc.first_len, p->wc.first_edge);
	assert_int_equal(p->wc.violations, 0);
	simpair_fini(&p->sp);
}

/* ---- 1 MiB echo with both windows closed for a while ---- */

typedef struct echo {
	pair_t *p;
	uint64_t total, sent, echoed_rcvd;
	/* the server's bytes read but not yet written back */
	uint8_t pend[4096];
	size_t pend_len, pend_off;
	uint64_t srv_in, srv_out;
	int64_t pause_from, pause_until; /* client stops reading in between */
	int64_t next_read;               /* then reads slowly: one chunk per tick */
	size_t slow_chunk;
	int64_t tick;
	bool bad, saw_both_zero;
} echo_t;

static bool echo_pump(simpair_t *sp, void *ctx)
{
	echo_t *e = ctx;
	pair_t *p = e->p;
	accept_pending(p);
	uint8_t buf[8192];
	/* client: write the stream */
	while (e->sent < e->total) {
		size_t n =
		        e->total - e->sent < sizeof buf ? (size_t)(e->total - e->sent) : sizeof buf;
		fill(buf, e->sent, n);
		long w = sf_send(sp->st[0], p->cli, buf, n);
		if (w <= 0)
			break;
		e->sent += (uint64_t)w;
	}
	/* server: echo, reading only what it can write back */
	if (p->srv > 0) {
		for (;;) {
			if (e->pend_off == e->pend_len) {
				long r = sf_recv(sp->st[1], p->srv, e->pend, sizeof e->pend);
				if (r <= 0)
					break;
				e->pend_len = (size_t)r;
				e->pend_off = 0;
				e->srv_in += (uint64_t)r;
			}
			long w = sf_send(sp->st[1], p->srv, e->pend + e->pend_off,
			                 e->pend_len - e->pend_off);
			if (w <= 0)
				break;
			e->pend_off += (size_t)w;
			e->srv_out += (uint64_t)w;
		}
	}
	/* client: read, except while paused; slowly after the pause */
	if (e->pause_from == 0 && e->echoed_rcvd >= e->total / 4) {
		e->pause_from = sp->now;
		e->pause_until = sp->now + 5 * SEC;
		e->next_read = e->pause_until;
		sf_simnet_wake(sp->net, e->pause_until);
	}
	bool paused = e->pause_from != 0 && sp->now < e->pause_until;
	if (!paused) {
		bool slow = e->pause_from != 0;
		size_t budget = slow ? e->slow_chunk : SIZE_MAX;
		if (slow && sp->now < e->next_read)
			budget = 0;
		while (budget > 0) {
			size_t want = budget < sizeof buf ? budget : sizeof buf;
			long r = sf_recv(sp->st[0], p->cli, buf, want);
			if (r <= 0)
				break;
			if (!check(buf, e->echoed_rcvd, (size_t)r))
				e->bad = true;
			e->echoed_rcvd += (uint64_t)r;
			budget -= (size_t)r;
		}
		if (slow && sp->now >= e->next_read) {
			e->next_read = sp->now + e->tick;
			sf_simnet_wake(sp->net, e->next_read);
		}
	}
	if (p->wc.zero_wnd[0] && p->wc.zero_wnd[1])
		e->saw_both_zero = true;
	poll_both(p);
	return e->echoed_rcvd == e->total || e->bad;
}

static void run_echo(uint64_t seed, double loss)
{
	pair_t p;
	sf_impair_t imp = {.loss = loss, .delay_us = 2 * MS};
	open_pair(&p, seed, NULL, &imp);
	connect_pair(&p);
	echo_t e = {.p = &p, .total = 1024 * 1024, .slow_chunk = 4096, .tick = 10 * MS};
	bool ok = simpair_run(&p.sp, echo_pump, &e, 120 * SEC);
	if (!ok)
		print_message(
		        "seed %llu loss %.2f: sent %llu, server in %llu out %llu, echoed %llu, "
		        "t=%lld us\n",
		        (unsigned long long)seed, loss, (unsigned long long)e.sent,
		        (unsigned long long)e.srv_in, (unsigned long long)e.srv_out,
		        (unsigned long long)e.echoed_rcvd, (long long)p.sp.now);
	assert_true(ok);
	assert_false(e.bad);
	assert_int_equal(e.echoed_rcvd, e.total);
	/* Both receive windows really closed: the client stopped reading, the
	 * server stopped reading because it could not write back. */
	assert_true(e.saw_both_zero);
	/* Probes ran while the windows were shut. */
	assert_true(p.wc.persist[0] + p.wc.persist[1] > 0);
	close_pair(&p);
}

static void echo_1mib_both_windows_zero(void **state)
{
	(void)state;
	run_echo(11, 0.0);
}

static void echo_1mib_both_windows_zero_lossy(void **state)
{
	(void)state;
	/* The same with 2 % loss both ways: window updates and probes get
	 * lost too, and the connection must still finish. */
	for (uint64_t seed = 21; seed < 25; seed++)
		run_echo(seed, 0.02);
}

/* ---- 1-byte writes (NODELAY) into a zero window ---- */

typedef struct tiny {
	pair_t *p;
	uint64_t total, sent, rcvd;
	int64_t read_from; /* the server reads nothing before this */
	uint64_t writes_blocked;
	bool bad;
} tiny_t;

static bool tiny_pump(simpair_t *sp, void *ctx)
{
	tiny_t *t = ctx;
	pair_t *p = t->p;
	accept_pending(p);
	/* One byte per write, each followed by an output pass, until the send
	 * buffer refuses: with Nagle off every write may become a segment. */
	for (int i = 0; i < 64 && t->sent < t->total; i++) {
		uint8_t b = stream_byte(t->sent);
		long w = sf_send(sp->st[0], p->cli, &b, 1);
		if (w != 1) {
			t->writes_blocked++;
			break;
		}
		t->sent++;
		sf_stack_poll(sp->st[0], sp->now);
	}
	if (t->sent < t->total)
		sf_simnet_wake(sp->net, sp->now + MS); /* keep writing */
	if (p->srv > 0 && sp->now >= t->read_from) {
		uint8_t buf[4096];
		long r;
		while ((r = sf_recv(sp->st[1], p->srv, buf, sizeof buf)) > 0) {
			if (!check(buf, t->rcvd, (size_t)r))
				t->bad = true;
			t->rcvd += (uint64_t)r;
		}
	}
	poll_both(p);
	return t->rcvd == t->total || t->bad;
}

static void tiny_writes_into_zero_window(void **state)
{
	(void)state;
	pair_t p;
	sf_config_t cfg;
	sf_config_default(&cfg);
	cfg.sndbuf = 8192;
	cfg.rcvbuf = 4096;
	sf_impair_t imp = {.delay_us = 1 * MS};
	open_pair(&p, 5, &cfg, &imp);
	assert_int_equal(sf_setsockopt(p.sp.st[0], p.cli, SF_SO_NODELAY, 1), 0);
	connect_pair(&p);
	tiny_t t = {.p = &p, .total = 20000, .read_from = p.sp.now + 3 * SEC};
	bool ok = simpair_run(&p.sp, tiny_pump, &t, 60 * SEC);
	if (!ok)
		print_message("sent %llu rcvd %llu t=%lld\n", (unsigned long long)t.sent,
		              (unsigned long long)t.rcvd, (long long)p.sp.now);
	assert_true(ok);
	assert_false(t.bad);
	assert_int_equal(t.rcvd, t.total);
	/* The window did close, the writer was held back by the full send
	 * buffer, and nothing went beyond the window (close_pair). */
	assert_true(p.wc.zero_wnd[1] > 0);
	assert_true(t.writes_blocked > 0);
	close_pair(&p);
}

/* ---- a 1 KiB receive buffer drained 3 bytes at a time ---- */

typedef struct drip {
	pair_t *p;
	uint64_t total, sent, rcvd;
	size_t chunk;
	int64_t tick, next_read;
	bool bad;
} drip_t;

static bool drip_pump(simpair_t *sp, void *ctx)
{
	drip_t *d = ctx;
	pair_t *p = d->p;
	accept_pending(p);
	uint8_t buf[2048];
	while (d->sent < d->total) {
		size_t n =
		        d->total - d->sent < sizeof buf ? (size_t)(d->total - d->sent) : sizeof buf;
		fill(buf, d->sent, n);
		long w = sf_send(sp->st[0], p->cli, buf, n);
		if (w <= 0)
			break;
		d->sent += (uint64_t)w;
	}
	if (p->srv > 0 && sp->now >= d->next_read) {
		long r = sf_recv(sp->st[1], p->srv, buf, d->chunk);
		if (r > 0) {
			if (!check(buf, d->rcvd, (size_t)r))
				d->bad = true;
			d->rcvd += (uint64_t)r;
		}
		d->next_read = sp->now + d->tick;
	}
	if (d->rcvd < d->total)
		sf_simnet_wake(sp->net, d->next_read > sp->now ? d->next_read : sp->now + d->tick);
	poll_both(p);
	return d->rcvd == d->total || d->bad;
}

static void run_drip(uint64_t seed, double loss)
{
	pair_t p;
	sf_config_t cfg;
	sf_config_default(&cfg);
	cfg.rcvbuf = 1024;
	cfg.sndbuf = 4096;
	sf_impair_t imp = {.loss = loss, .delay_us = 2 * MS};
	open_pair(&p, seed, &cfg, &imp);
	connect_pair(&p);
	drip_t d = {.p = &p, .total = 12000, .chunk = 3, .tick = 1 * MS};
	/* 4000 reads of 3 bytes, one per millisecond: 4 s of reading. A stall
	 * shows as a run far longer than that. */
	bool ok = simpair_run(&p.sp, drip_pump, &d, 60 * SEC);
	if (!ok)
		print_message("seed %llu: sent %llu rcvd %llu t=%lld\n", (unsigned long long)seed,
		              (unsigned long long)d.sent, (unsigned long long)d.rcvd,
		              (long long)p.sp.now);
	assert_true(ok);
	assert_false(d.bad);
	assert_int_equal(d.rcvd, d.total);
	close_pair(&p);
}

static void three_byte_reader_clean(void **state)
{
	(void)state;
	run_drip(31, 0.0);
}

static void three_byte_reader_lossy(void **state)
{
	(void)state;
	for (uint64_t seed = 41; seed < 45; seed++)
		run_drip(seed, 0.05);
}

/* ---- RTT from timestamps (RFC 7323 §4, RFC 6298) ----
 * Request and response, 100 bytes each way, over a 25 ms + 25 ms path: the
 * response carries the ACK at once, so every sample is the path's RTT and
 * SRTT must settle on 50 ms (the timestamp clock ticks in 1 ms). */

typedef struct pingpong {
	pair_t *p;
	int rounds, done;
	uint64_t cli_sent, cli_rcvd, srv_rcvd;
	bool bad;
} pingpong_t;

static bool pingpong_pump(simpair_t *sp, void *ctx)
{
	pingpong_t *g = ctx;
	pair_t *p = g->p;
	accept_pending(p);
	uint8_t buf[256];
	long r;
	while ((r = sf_recv(sp->st[0], p->cli, buf, sizeof buf)) > 0) {
		if (!check(buf, g->cli_rcvd, (size_t)r))
			g->bad = true;
		g->cli_rcvd += (uint64_t)r;
		if (g->cli_rcvd == g->cli_sent)
			g->done++;
	}
	if (g->cli_sent == g->cli_rcvd && g->done < g->rounds) {
		fill(buf, g->cli_sent, 100);
		assert_int_equal(sf_send(sp->st[0], p->cli, buf, 100), 100);
		g->cli_sent += 100;
	}
	if (p->srv > 0) {
		while ((r = sf_recv(sp->st[1], p->srv, buf, sizeof buf)) > 0) {
			if (!check(buf, g->srv_rcvd, (size_t)r))
				g->bad = true;
			g->srv_rcvd += (uint64_t)r;
			assert_int_equal(sf_send(sp->st[1], p->srv, buf, (size_t)r), r);
		}
	}
	poll_both(p);
	return g->done == g->rounds || g->bad;
}

static void timestamps_measure_rtt(void **state)
{
	(void)state;
	pair_t p;
	sf_impair_t imp = {.delay_us = 25 * MS};
	open_pair(&p, 3, NULL, &imp);
	connect_pair(&p);
	pingpong_t g = {.p = &p, .rounds = 40};
	assert_true(simpair_run(&p.sp, pingpong_pump, &g, 60 * SEC));
	assert_false(g.bad);
	for (int side = 0; side < 2; side++) {
		sf_tcp_info_t ti;
		assert_int_equal(sf_tcp_info(p.sp.st[side], side ? p.srv : p.cli, &ti), 0);
		assert_true(ti.ts_ok);
		if (ti.srtt_us < 49 * MS || ti.srtt_us > 52 * MS)
			fail_msg("side %d: srtt %u us, the path's RTT is 50000 us", side,
			         ti.srtt_us);
		/* RFC 6298 (2.3): a steady RTT drives RTTVAR down; the RTO is
		 * then its floor (200 ms), not the 1 s initial value. */
		assert_int_equal(ti.rto_us, 200 * MS);
	}
	close_pair(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(echo_1mib_both_windows_zero),
	        cmocka_unit_test(echo_1mib_both_windows_zero_lossy),
	        cmocka_unit_test(tiny_writes_into_zero_window),
	        cmocka_unit_test(three_byte_reader_clean),
	        cmocka_unit_test(three_byte_reader_lossy),
	        cmocka_unit_test(timestamps_measure_rtt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
