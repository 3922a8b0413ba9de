/* TCP options, negotiated with and without each one (RFC 9293 §3.1, §3.2,
 * §3.7.1; RFC 7323 window scale and timestamps; RFC 2018 SACK): MSS caps
 * what we send and is only sent on SYNs, a scale is used only when both
 * offered it, SACK blocks only when SACK-permitted was exchanged,
 * timestamps are echoed and old ones dropped (PAWS), and odd, unknown or
 * illegal options are handled as MUST-6/7/64 say. */
#include <string.h>

#include "pkt.h"

/* A data pattern whose byte i is the stream offset i (mod 251). */
static uint8_t pattern[8192];

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (uint8_t)(i % 251);
	return 0;
}

static void no_mss_on(const pkt_seg_t *s)
{
	if (!(s->tcp.flags & SF_TCP_SYN) && s->tcp.opt.has_mss)
		fail_msg("MSS option on a non-SYN segment (MUST-65)");
}

/* MUST-14/16: the peer's MSS (smaller than ours) caps our segments; we
 * still announce our own (MTU 1500 - 40, MUST-67). */
static void peer_mss_caps_payload(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_tcp_opts_t o = {.has_mss = true, .mss = 500};
	sf_tcp_t sa;
	sf_sock_t s = pkt_open_passive_opt(&p, &o, &sa, NULL);
	assert_true(sa.opt.has_mss);
	assert_int_equal(sa.opt.mss, 1460);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.snd_mss, 500);
	assert_int_equal(sf_send(p.st, s, pattern, 1000), 1000);
	pkt_poll(&p);
	pkt_expect(&p, ".", 1, 1, 500);
	pkt_seg_t *b = pkt_expect(&p, "P.", 501, 1, 500);
	assert_memory_equal(b->payload, pattern + 500, 500);
	pkt_expect_none(&p);
	pkt_finish(&p, s);
}

/* MUST-67: the MSS we announce comes from our MTU (MMS_R = MTU - 20,
 * less the 20-byte TCP header), and caps what we send as well (MUST-16). */
static void mss_from_mtu(void **state)
{
	(void)state;
	sf_config_t c;
	sf_config_default(&c);
	c.delack_ms = 0;
	c.seed = 1;
	c.mtu = 1000;
	pkt_t p;
	pkt_init(&p, &c);
	sf_tcp_opts_t o = {.has_mss = true, .mss = 1460};
	sf_tcp_t sa;
	sf_sock_t s = pkt_open_passive_opt(&p, &o, &sa, NULL);
	assert_int_equal(sa.opt.mss, 960);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.snd_mss, 960);
	assert_int_equal(ti.rcv_mss, 960);
	assert_int_equal(sf_send(p.st, s, pattern, 1000), 1000);
	pkt_poll(&p);
	pkt_expect(&p, ".", 1, 1, 960);
	pkt_expect_none(&p); /* Nagle holds the 40-byte tail */
	pkt_finish(&p, s);
}

/* MUST-15: no MSS option received -> 536 bytes per segment. */
static void no_mss_means_536(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_passive_opt(&p, NULL, NULL, NULL);
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_NODELAY, 1), 0);
	assert_int_equal(sf_send(p.st, s, pattern, 600), 600);
	pkt_poll(&p);
	pkt_expect(&p, ".", 1, 1, 536);
	pkt_expect(&p, "P.", 537, 1, 64);
	pkt_expect_none(&p);
	pkt_finish(&p, s);
}

/* MUST-65: in a whole exchange with every option negotiated (data both
 * ways, out-of-order data with SACK, the close), only SYNs carry MSS. */
static void mss_only_on_syn(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_tcp_opts_t o = {.has_mss = true,
	                   .mss = 1460,
	                   .has_wscale = true,
	                   .wscale = 7,
	                   .sack_perm = true,
	                   .has_ts = true};
	sf_tcp_t sa;
	sf_sock_t s = pkt_open_passive_opt(&p, &o, &sa, NULL);
	assert_true(sa.opt.has_mss && sa.opt.has_wscale && sa.opt.sack_perm && sa.opt.has_ts);
	assert_int_equal(sf_send(p.st, s, pattern, 3000), 3000);
	pkt_poll(&p);
	/* 1448 = 1460 less the 12 bytes of the timestamps option. */
	no_mss_on(pkt_expect(&p, ".", 1, 1, 1448));
	no_mss_on(pkt_expect(&p, ".", 1449, 1, 1448));
	pkt_expect_none(&p); /* Nagle: the 104-byte tail waits for an ACK */
	pkt_in(&p, ".", 1, 2897, NULL, 0);
	no_mss_on(pkt_expect(&p, "P.", 2897, 1, 104));
	pkt_in(&p, "P.", 101, 3001, pattern + 100, 100);
	no_mss_on(pkt_expect(&p, ".", 3001, 1, 0));
	pkt_in(&p, "P.", 1, 3001, pattern, 100);
	no_mss_on(pkt_expect(&p, ".", 3001, 201, 0));
	char buf[256];
	assert_int_equal(sf_recv(p.st, s, buf, sizeof buf), 200);
	sf_close(p.st, s);
	pkt_poll(&p);
	no_mss_on(pkt_expect(&p, "F.", 3001, 201, 0));
	pkt_in(&p, "F.", 201, 3002, NULL, 0);
	no_mss_on(pkt_expect(&p, ".", 3002, 202, 0));
	pkt_expect_none(&p);
	size_t non_syn = 0;
	for (size_t i = 0; i < p.ev_cnt; i++) {
		const sf_event_t *e = &p.ev[i];
		if (e->kind != SF_EV_SEG_TX || (e->u.seg.tcp.flags & SF_TCP_SYN))
			continue;
		non_syn++;
		assert_false(e->u.seg.tcp.opt.has_mss);
	}
	assert_int_equal(non_syn, 7);
	pkt_fini(&p);
}

/* RFC 7323 §2: both offer -> each side scales the other's window: the
 * peer's raw 8 << 7 lets 1024 bytes out; our 64 KiB window is sent >> 1.
 * The window of a SYN is never scaled (§2.2). */
static void wscale_both_offer(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_tcp_opts_t o = {.has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 7};
	sf_tcp_t sa;
	p.wnd = 8;
	sf_sock_t s = pkt_open_passive_opt(&p, &o, &sa, NULL);
	assert_true(sa.opt.has_wscale);
	assert_int_equal(sa.opt.wscale, 1);
	assert_int_equal(sa.wnd, 65535);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_true(ti.wscale_ok);
	assert_int_equal(ti.snd_wscale, 7);
	assert_int_equal(ti.rcv_wscale, 1);
	assert_int_equal(ti.snd_wnd, 1024);
	assert_int_equal(sf_send(p.st, s, pattern, 3000), 3000);
	pkt_poll(&p);
	pkt_expect(&p, ".", 1, 1, 1024);
	pkt_expect_none(&p);
	/* Data that does not ACK ours (the window stays full): a pure ACK. */
	pkt_in(&p, "P.", 1, 1, pattern, 10);
	pkt_seg_t *a = pkt_expect(&p, ".", 1025, 11, 0);
	assert_int_equal((uint32_t)a->tcp.wnd << 1, 65536 - 10);
	pkt_finish(&p, s);
}

/* RFC 7323 §1.3: only the peer offers (our config has scaling off): no
 * option in the SYN,ACK, no scaling either way. */
static void wscale_only_peer_offers(void **state)
{
	(void)state;
	sf_config_t c;
	sf_config_default(&c);
	c.delack_ms = 0;
	c.seed = 1;
	c.wscale = false;
	pkt_t p;
	pkt_init(&p, &c);
	sf_tcp_opts_t o = {.has_wscale = true, .wscale = 7};
	sf_tcp_t sa;
	p.wnd = 8;
	sf_sock_t s = pkt_open_passive_opt(&p, &o, &sa, NULL);
	assert_false(sa.opt.has_wscale);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_false(ti.wscale_ok);
	assert_int_equal(ti.snd_wnd, 8);
	p.wnd = 4000;
	pkt_in(&p, "P.", 1, 1, pattern, 10);
	pkt_seg_t *a = pkt_expect(&p, ".", 1, 11, 0);
	assert_int_equal(a->tcp.wnd, 65536 - 10); /* unscaled */
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.snd_wnd, 4000);
	pkt_finish(&p, s);
}

/* Only we offer (passive: the peer's SYN has none, so our SYN,ACK has none;
 * active: our SYN has it, the SYN,ACK has none): nothing is scaled. */
static void wscale_only_we_offer(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_tcp_t sa;
	p.wnd = 8;
	sf_sock_t s = pkt_open_passive_opt(&p, NULL, &sa, NULL);
	assert_false(sa.opt.has_wscale);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_false(ti.wscale_ok);
	assert_int_equal(ti.snd_wnd, 8);
	pkt_finish(&p, s);

	pkt_init(&p, NULL);
	s = sf_socket(p.st);
	assert_int_equal(sf_connect(p.st, s, PKT_PEER, 80), SF_EINPROGRESS);
	pkt_poll(&p);
	pkt_seg_t *syn = pkt_expect(&p, "S", 0, 0, 0);
	assert_true(syn->tcp.opt.has_wscale);
	assert_int_equal(syn->tcp.opt.wscale, 1);
	p.port = syn->tcp.sport;
	p.peer_port = 80;
	p.wnd = 8;
	pkt_in(&p, "S.", 0, 1, NULL, 0);
	pkt_seg_t *a = pkt_expect(&p, ".", 1, 1, 0);
	assert_int_equal(a->tcp.wnd, 65535);
	pkt_in(&p, "P.", 1, 1, pattern, 10);
	a = pkt_expect(&p, ".", 1, 11, 0);
	assert_int_equal(a->tcp.wnd, 65536 - 10); /* unscaled */
	sf_tcp_info(p.st, s, &ti);
	assert_false(ti.wscale_ok);
	assert_int_equal(ti.snd_wnd, 8);
	pkt_finish(&p, s);
}

/* RFC 7323 §2.3: a shift above 14 is used as 14. */
static void wscale_clamped_to_14(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_tcp_opts_t o = {.has_wscale = true, .wscale = 15};
	p.wnd = 1;
	sf_sock_t s = pkt_open_passive_opt(&p, &o, NULL, NULL);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_true(ti.wscale_ok);
	assert_int_equal(ti.snd_wscale, 14);
	assert_int_equal(ti.snd_wnd, 1u << 14);
	pkt_finish(&p, s);
}

/* RFC 2018: out-of-order data is reported in a SACK block only when
 * SACK-permitted was exchanged. */
static void sack_only_when_negotiated(void **state)
{
	(void)state;
	for (int neg = 0; neg < 2; neg++) {
		pkt_t p;
		pkt_init(&p, NULL);
		sf_tcp_opts_t o = {.sack_perm = neg == 1};
		sf_tcp_t sa;
		sf_sock_t s = pkt_open_passive_opt(&p, &o, &sa, NULL);
		assert_int_equal(sa.opt.sack_perm, neg == 1);
		pkt_in(&p, "P.", 101, 1, pattern + 100, 100);
		pkt_seg_t *a = pkt_expect(&p, ".", 1, 1, 0);
		if (neg) {
			assert_int_equal(a->tcp.opt.sack_cnt, 1);
			assert_int_equal(a->tcp.opt.sack[0].left, p.irs + 101);
			assert_int_equal(a->tcp.opt.sack[0].right, p.irs + 201);
		} else {
			assert_int_equal(a->tcp.opt.sack_cnt, 0);
		}
		pkt_in(&p, "P.", 1, 1, pattern, 100);
		a = pkt_expect(&p, ".", 1, 201, 0);
		assert_int_equal(a->tcp.opt.sack_cnt, 0);
		pkt_finish(&p, s);
	}
}

/* RFC 7323 §3: TSval is our 1 ms clock; TSecr echoes the peer's newest
 * in-window TSval. */
static void timestamps_echo(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_tcp_opts_t o = {.has_ts = true};
	sf_tcp_t sa;
	sf_sock_t s = pkt_open_passive_opt(&p, &o, &sa, NULL);
	assert_true(sa.opt.has_ts);
	assert_int_equal(sa.opt.ts_ecr, 5000);
	uint32_t ts0 = sa.opt.ts_val;
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_true(ti.ts_ok);
	pkt_advance(&p, 100000);
	p.peer_ts = 5100;
	pkt_in(&p, "P.", 1, 1, pattern, 10);
	pkt_seg_t *a = pkt_expect(&p, ".", 1, 11, 0);
	assert_true(a->tcp.opt.has_ts);
	assert_int_equal(a->tcp.opt.ts_ecr, 5100);
	assert_int_equal(a->tcp.opt.ts_val - ts0, 100);
	pkt_advance(&p, 50000);
	assert_int_equal(sf_send(p.st, s, "x", 1), 1);
	pkt_poll(&p);
	a = pkt_expect(&p, "P.", 1, 11, 1);
	assert_int_equal(a->tcp.opt.ts_ecr, 5100);
	assert_int_equal(a->tcp.opt.ts_val - ts0, 150);
	pkt_finish(&p, s);
}

/* RFC 7323 §5.3 (PAWS): a segment whose TSval is older than TS.Recent is
 * an old duplicate: dropped (counted) with an ACK in reply, its data not
 * taken. */
static void paws_drops_old_timestamp(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_tcp_opts_t o = {.has_ts = true};
	sf_sock_t s = pkt_open_passive_opt(&p, &o, NULL, NULL);
	p.peer_ts = 5100;
	pkt_in(&p, "P.", 1, 1, pattern, 10);
	pkt_expect(&p, ".", 1, 11, 0);
	p.peer_ts = 4000;
	pkt_in(&p, "P.", 11, 1, pattern + 10, 10);
	pkt_seg_t *a = pkt_expect(&p, ".", 1, 11, 0);
	assert_int_equal(a->tcp.opt.ts_ecr, 5100);
	assert_int_equal(pkt_drops(&p, SF_DROP_TCP_PAWS), 1);
	char buf[64];
	assert_int_equal(sf_recv(p.st, s, buf, sizeof buf), 10);
	assert_int_equal(sf_recv(p.st, s, buf, sizeof buf), SF_EAGAIN);
	p.peer_ts = 5200;
	pkt_in(&p, "P.", 11, 1, pattern + 10, 10);
	pkt_expect(&p, ".", 1, 21, 0);
	assert_int_equal(sf_recv(p.st, s, buf, sizeof buf), 10);
	assert_memory_equal(buf, pattern + 10, 10);
	pkt_finish(&p, s);
}

/* MUST-6: an unknown option kind is skipped by its length; MUST-64: the
 * options after it are read at any alignment (MSS at offset 5,
 * SACK-permitted at offset 9). */
static void unknown_and_misaligned_options(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t l = sf_socket(p.st);
	sf_bind(p.st, l, 80);
	sf_listen(p.st, l, 4);
	static const uint8_t opts[] = {
	        SF_TCPOPT_NOP,       253, 4, 0xaa, 0xbb, SF_TCPOPT_MSS, 4, 0x01, 0xf4,
	        SF_TCPOPT_SACK_PERM, 2};
	uint8_t buf[256];
	size_t n = pkt_build_opts(&p, buf, sizeof buf, "S", 0, 0, opts, sizeof opts, NULL, 0);
	pkt_in_raw(&p, buf, n);
	pkt_poll(&p);
	pkt_seg_t *sa = pkt_expect(&p, "S.", 0, 1, 0);
	assert_true(sa->tcp.opt.sack_perm);
	pkt_in(&p, ".", 1, 1, NULL, 0);
	sf_sock_t s = sf_accept(p.st, l, NULL, NULL);
	assert_true(s > 0);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.snd_mss, 500);
	assert_true(ti.sack_ok);
	/* Unknown options on a data segment are skipped too. */
	static const uint8_t o2[] = {254, 6, 1, 2, 3, 4, SF_TCPOPT_NOP, SF_TCPOPT_EOL};
	n = pkt_build_opts(&p, buf, sizeof buf, "P.", 1, 1, o2, sizeof o2, "abc", 3);
	pkt_in_raw(&p, buf, n);
	pkt_poll(&p);
	pkt_expect(&p, ".", 1, 4, 0);
	pkt_finish_listener(&p, s, l);
}

/* MUST-7: an option whose length is 0, 1 or runs past the header makes
 * the segment malformed: dropped and counted, never answered. */
static void illegal_option_length(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t l = sf_socket(p.st);
	sf_bind(p.st, l, 80);
	sf_listen(p.st, l, 4);
	static const uint8_t bad[][4] = {
	        {SF_TCPOPT_MSS, 0, 0, 0},
	        {253, 1, 0, 0},
	        {SF_TCPOPT_NOP, SF_TCPOPT_MSS, 8, 0},
	};
	uint8_t buf[256];
	for (size_t i = 0; i < 3; i++) {
		size_t n = pkt_build_opts(&p, buf, sizeof buf, "S", 0, 0, bad[i], 4, NULL, 0);
		pkt_in_raw(&p, buf, n);
		pkt_poll(&p);
		pkt_expect_none(&p);
	}
	assert_int_equal(pkt_drops(&p, SF_DROP_TCP_MALFORMED), 3);
	sf_close(p.st, l);
	/* On an established connection: no ACK, no data. */
	sf_sock_t s = pkt_open_passive(&p, NULL);
	size_t n = pkt_build_opts(&p, buf, sizeof buf, "P.", 1, 1, bad[1], 4, "abc", 3);
	pkt_in_raw(&p, buf, n);
	pkt_poll(&p);
	pkt_expect_none(&p);
	assert_int_equal(pkt_drops(&p, SF_DROP_TCP_MALFORMED), 4);
	char r[8];
	assert_int_equal(sf_recv(p.st, s, r, sizeof r), SF_EAGAIN);
	sf_abort(p.st, s);
	pkt_poll(&p);
	pkt_expect(&p, "R.", 1, 1, 0);
	pkt_fini(&p);
}

/* MUST-1: the window field is unsigned: 0xF000 is 61440 bytes, and that
 * many may be sent (here limited by the congestion window only). */
static void window_is_unsigned(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	p.wnd = 0xF000;
	sf_tcp_opts_t o = {.has_mss = true, .mss = 1460};
	sf_sock_t s = pkt_open_passive_opt(&p, &o, NULL, NULL);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.snd_wnd, 61440);
	assert_int_equal(sf_send(p.st, s, pattern, 2920), 2920);
	pkt_poll(&p);
	pkt_expect(&p, ".", 1, 1, 1460);
	pkt_expect(&p, "P.", 1461, 1, 1460);
	pkt_finish(&p, s);
}

/* MUST-3: a segment whose checksum fails is dropped and counted. */
static void bad_checksum_dropped(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t l = sf_socket(p.st);
	sf_bind(p.st, l, 80);
	sf_listen(p.st, l, 4);
	uint8_t buf[256];
	size_t n = pkt_build(&p, buf, sizeof buf, "S", 0, 0, NULL, 0);
	buf[20 + 16] ^= 0x01; /* TCP checksum */
	pkt_in_raw(&p, buf, n);
	pkt_poll(&p);
	pkt_expect_none(&p);
	assert_int_equal(pkt_drops(&p, SF_DROP_TCP_CHECKSUM), 1);
	sf_close(p.st, l);
	pkt_fini(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(peer_mss_caps_payload),
	        cmocka_unit_test(mss_from_mtu),
	        cmocka_unit_test(no_mss_means_536),
	        cmocka_unit_test(mss_only_on_syn),
	        cmocka_unit_test(wscale_both_offer),
	        cmocka_unit_test(wscale_only_peer_offers),
	        cmocka_unit_test(wscale_only_we_offer),
	        cmocka_unit_test(wscale_clamped_to_14),
	        cmocka_unit_test(sack_only_when_negotiated),
	        cmocka_unit_test(timestamps_echo),
	        cmocka_unit_test(paws_drops_old_timestamp),
	        cmocka_unit_test(unknown_and_misaligned_options),
	        cmocka_unit_test(illegal_option_length),
	        cmocka_unit_test(window_is_unsigned),
	        cmocka_unit_test(bad_checksum_dropped),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
