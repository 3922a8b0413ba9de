/* The firmware build's core (bench/footprint/options.txt: SF_NO_RACK,
 * SF_NO_ECN, SF_NO_SYNCOOKIE, SF_NO_IPFRAG, SF_NO_KEEPALIVE, SF_NO_DSACK,
 * SF_NO_OFFLOAD, with NewReno only and no tracing), built for the host as
 * libsynfin_min: what a peer and an application see of each feature left
 * out. A peer sees a TCP that does not offer it (no ECN, no probe, no
 * cookie, no reassembly, no D-SACK), never a broken one; an application
 * that asks for one is told (SF_ENOTSUP). Segment by segment, as tests/tcp
 * does for the full build (test_ecn.c, test_rack.c, test_syncookie.c,
 * test_ipfrag.c, test_keepalive.c, test_offload.c show the features at
 * work there). */
#include <string.h>

#include "pkt.h"

#define MS 1000

enum { NOT_ECT = 0, ECT0 = 2, CE = 3 };
#define AE 1 /* sf_tcp_t.reserved bit (RFC 9768) */

static uint8_t pattern[8192];

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (uint8_t)(i % 251);
	return 0;
}

static int drop_tx(void *ctx, const uint8_t *frame, size_t len, const sf_offload_t *off,
                   int64_t now_us)
{
	(void)ctx, (void)frame, (void)len, (void)off, (void)now_us;
	return 0;
}

static sf_config_t base_cfg(void)
{
	sf_config_t c;
	sf_config_default(&c);
	c.delack_ms = 0;
	c.seed = 5;
	return c;
}

static sf_stack_stats_t stats(const pkt_t *p)
{
	sf_stack_stats_t s;
	sf_stack_stats(p->st, &s);
	return s;
}

static sf_sock_t listen_on(pkt_t *p, int backlog)
{
	sf_sock_t l = sf_socket(p->st);
	assert_int_equal(sf_bind(p->st, l, 80), 0);
	assert_int_equal(sf_listen(p->st, l, backlog), 0);
	return l;
}

/* Rewrites byte i of the datagram f (IPv4 header or the TCP header at
 * offset 20) to v, keeping the checksum of the header it belongs to. */
static void patch(uint8_t *f, size_t i, uint8_t v)
{
	size_t word = i & ~(size_t)1, ck = i < 20 ? 10 : 20 + 16;
	uint16_t old = (uint16_t)(f[word] << 8 | f[word + 1]);
	f[i] = v;
	uint16_t now = (uint16_t)(f[word] << 8 | f[word + 1]);
	uint16_t sum = sf_csum_update16((uint16_t)(f[ck] << 8 | f[ck + 1]), old, now);
	f[ck] = (uint8_t)(sum >> 8), f[ck + 1] = (uint8_t)sum;
}

/* Injects a segment like pkt_in with IP-ECN `ipecn` and, when ae, the AE
 * bit (the lowest reserved bit, byte 12 of the TCP header). */
static void in_ecn(pkt_t *p, const char *flags, uint32_t seq, uint32_t ack, const void *data,
                   size_t len, uint8_t ipecn, bool ae)
{
	uint8_t f[2048];
	size_t n = pkt_build(p, f, sizeof f, flags, seq, ack, data, len);
	patch(f, 1, (uint8_t)((f[1] & ~3u) | ipecn));
	if (ae)
		patch(f, 20 + 12, (uint8_t)(f[20 + 12] | AE));
	pkt_in_raw(p, f, n);
	pkt_poll(p);
}

/* The defaults leave out what the build left out, and a config asking for
 * any of it is refused with SF_ENOTSUP; the defaults make a stack. */
static void config_refuses_what_was_left_out(void **state)
{
	(void)state;
	sf_config_t c;
	sf_config_default(&c);
	assert_false(c.rack);
	assert_false(c.syncookies);
	assert_int_equal(c.ecn, SF_ECN_OFF);
	assert_int_equal(c.frag_slots, 0);
	assert_int_equal(c.tso_max, 0);
	sf_stack_t *st = NULL;
	assert_int_equal(sf_stack_create(&c, 0, &st), 0);
	sf_stack_destroy(st);
	for (int i = 0; i < 8; i++) {
		sf_config_t bad = c;
		switch (i) {
		case 0:
			bad.rack = true;
			break;
		case 1:
			bad.syncookies = true;
			break;
		case 2:
			bad.ecn = SF_ECN_PASSIVE;
			break;
		case 3:
			bad.ecn = SF_ECN_ACCECN;
			break;
		case 4:
			bad.frag_slots = 1;
			break;
		case 5:
			bad.tso_max = 65535;
			break;
		case 6:
			bad.transmit_off = drop_tx;
			break;
		default:
			bad.transmit_off = drop_tx;
			bad.csum_tx = true;
			break;
		}
		st = NULL;
		assert_int_equal(sf_stack_create(&bad, 0, &st), SF_ENOTSUP);
		assert_null(st);
	}
	/* Keepalives: the option cannot be turned on; off is fine. */
	assert_int_equal(sf_stack_create(&c, 0, &st), 0);
	sf_sock_t s = sf_socket(st);
	assert_true(s > 0);
	assert_int_equal(sf_setsockopt(st, s, SF_SO_KEEPALIVE, 1), SF_ENOTSUP);
	assert_int_equal(sf_setsockopt(st, s, SF_SO_KEEPALIVE, 0), 0);
	int v = -1;
	assert_int_equal(sf_getsockopt(st, s, SF_SO_KEEPALIVE, &v), 0);
	assert_int_equal(v, 0);
	/* No readiness list: the application steps its sockets (sf_poll). */
	sf_sock_t ready[4];
	assert_int_equal(sf_ready_take(st, ready, 4), SF_ENOTSUP);
	sf_close(st, s);
	sf_stack_destroy(st);
}

/* RFC 3168 §6.1.1 and RFC 9768 §3.1.2: a host without ECN answers an
 * ECN-setup SYN (classic, or AccECN with AE) with none of ECE, CWR and AE,
 * so the peer goes on without ECN; data leaves Not-ECT and a CE mark is
 * not echoed. The connection carries data both ways as usual. */
static void ecn_setup_answered_as_a_host_without_ecn(void **state)
{
	(void)state;
	for (int accecn = 0; accecn < 2; accecn++) {
		pkt_t p;
		sf_config_t c = base_cfg();
		pkt_init(&p, &c);
		sf_sock_t l = listen_on(&p, 4);
		in_ecn(&p, "SEW", 0, 0, NULL, 0, NOT_ECT, accecn);
		pkt_seg_t *sa = pkt_next(&p);
		p.iss = sa->tcp.seq;
		assert_int_equal(sa->tcp.flags, SF_TCP_SYN | SF_TCP_ACK);
		assert_int_equal(sa->tcp.reserved & AE, 0);
		pkt_in(&p, ".", 1, 1, NULL, 0);
		sf_sock_t s = sf_accept(p.st, l, NULL, NULL);
		assert_true(s > 0);
		sf_tcp_info_t ti;
		sf_tcp_info(p.st, s, &ti);
		assert_int_equal(ti.ecn, SF_ECN_OFF);
		in_ecn(&p, "P.", 1, 1, "abc", 3, CE, false);
		pkt_seg_t *a = pkt_expect(&p, ".", 1, 4, 0);
		assert_int_equal(a->tcp.flags, SF_TCP_ACK); /* no ECE */
		assert_int_equal(a->tcp.reserved & AE, 0);
		assert_int_equal(sf_send(p.st, s, "hello", 5), 5);
		pkt_poll(&p);
		pkt_seg_t *d = pkt_expect(&p, "P.", 1, 4, 5);
		assert_int_equal(d->ip.ecn, NOT_ECT);
		assert_int_equal(stats(&p).ecn_ce_rcvd, 0);
		pkt_finish_listener(&p, s, l);
	}
}

/* No SYN cookies: with the SYN queue full the oldest half-open entry is
 * given up for the new SYN (RFC 4987 §3.4), counted; its late ACK draws a
 * reset; the others complete and are accepted. */
static void full_syn_queue_recycles_without_cookies(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	c.syn_backlog = 2;
	pkt_init(&p, &c);
	sf_sock_t l = listen_on(&p, 16);
	uint32_t iss[3];
	for (int i = 0; i < 3; i++) {
		p.peer_port = (uint16_t)(40001 + i);
		pkt_in(&p, "S", 0, 0, NULL, 0);
		pkt_seg_t *sa = pkt_next(&p);
		assert_int_equal(sa->tcp.flags, SF_TCP_SYN | SF_TCP_ACK);
		assert_int_equal(sa->tcp.dport, p.peer_port);
		iss[i] = sa->tcp.seq;
	}
	pkt_expect_none(&p);
	assert_int_equal(stats(&p).syncookies_sent, 0);
	assert_int_equal(stats(&p).drops[SF_DROP_TCP_SYN_QUEUE_FULL], 1);
	p.peer_port = 40001;
	p.iss = iss[0];
	pkt_in(&p, ".", 1, 1, NULL, 0);
	pkt_seg_t *r = pkt_next(&p);
	assert_int_equal(r->tcp.flags, SF_TCP_RST);
	assert_int_equal(r->tcp.seq, iss[0] + 1);
	for (int i = 1; i < 3; i++) {
		p.peer_port = (uint16_t)(40001 + i);
		p.iss = iss[i];
		pkt_in(&p, ".", 1, 1, NULL, 0);
	}
	pkt_expect_none(&p);
	for (int i = 1; i < 3; i++) {
		sf_sock_t a = sf_accept(p.st, l, NULL, NULL);
		assert_true(a > 0);
		sf_abort(p.st, a);
	}
	pkt_finish_close(&p, l);
}

static sf_sock_t open_sack(pkt_t *p)
{
	sf_config_t c = base_cfg();
	return pkt_open_sack(p, &c, pattern);
}

static void sack_in(pkt_t *p, uint32_t ack, uint32_t left, uint32_t right)
{
	p->opt.sack_cnt = 1;
	p->opt.sack[0].left = p->iss + left;
	p->opt.sack[0].right = p->iss + right;
	pkt_in(p, ".", 1, ack, NULL, 0);
	p->opt.sack_cnt = 0;
}

/* Without RACK-TLP the SACK scoreboard still repairs a loss: the third
 * segment SACKed above a hole is RFC 6675's loss signal, and the hole is
 * resent at once, long before the RTO. */
static void sack_recovery_without_rack(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t s = open_sack(&p);
	int64_t t0 = p.now;
	assert_int_equal(sf_send(p.st, s, pattern, 5000), 5000);
	pkt_poll(&p);
	for (uint32_t i = 0; i < 5; i++)
		pkt_expect(&p, i == 4 ? "P." : ".", 1001 + 1000 * i, 1, 1000);
	p.now = t0 + 100 * MS; /* [1001, 2001) lost */
	sack_in(&p, 1001, 2001, 3001);
	sack_in(&p, 1001, 2001, 4001);
	pkt_expect_none(&p);
	sack_in(&p, 1001, 2001, 5001);
	pkt_seg_t *r = pkt_expect(&p, ".", 1001, 1, 1000);
	assert_memory_equal(r->payload, pattern, 1000);
	assert_int_equal(r->at_us, t0 + 100 * MS);
	pkt_in(&p, ".", 1, 6001, NULL, 0);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.bytes_acked, 6000);
	assert_int_equal(ti.retransmits, 1);
	assert_int_equal(stats(&p).rack_lost, 0);
	assert_int_equal(stats(&p).rto_timeouts, 0);
	pkt_finish(&p, s);
}

/* Without TLP a loss at the tail of a flight waits for the RTO: no probe
 * of the last segment two RTTs after the ACK; the RTO resends from
 * SND.UNA, and the stream completes. */
static void tail_loss_waits_for_the_rto(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t s = open_sack(&p);
	int64_t t0 = p.now;
	assert_int_equal(sf_send(p.st, s, pattern, 3000), 3000);
	pkt_poll(&p);
	pkt_discard(&p);
	p.now = t0 + 100 * MS;
	pkt_in(&p, ".", 1, 2001, NULL, 0); /* [2001, 4001) lost */
	pkt_expect_none(&p);
	/* The first resend: at the RTO (no earlier than its 200 ms floor
	 * after the ACK), from SND.UNA; a probe would resend the last
	 * segment (3001) instead. */
	for (int i = 0; i < 100 && !pkt_pending(&p); i++)
		assert_true(pkt_run_next_deadline(&p) >= 0);
	assert_true(p.now >= t0 + 300 * MS);
	pkt_seg_t *r = pkt_expect(&p, ".", 2001, 1, 1000);
	assert_memory_equal(r->payload, pattern + 1000, 1000);
	pkt_expect_none(&p);
	assert_int_equal(stats(&p).tlp_probes, 0);
	assert_int_equal(stats(&p).rto_timeouts, 1);
	pkt_in(&p, ".", 1, 3001, NULL, 0);
	pkt_expect(&p, "P.", 3001, 1, 1000);
	pkt_in(&p, ".", 1, 4001, NULL, 0);
	pkt_expect_none(&p);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.bytes_acked, 4000);
	pkt_finish(&p, s);
}

/* No D-SACK (RFC 2883): data that arrives twice is acknowledged again
 * without a SACK block for it; out-of-order data is still SACKed. */
static void duplicate_data_acked_without_dsack(void **state)
{
	(void)state;
	pkt_t p;
	sf_sock_t s = open_sack(&p);
	pkt_in(&p, "P.", 1, 1001, pattern, 500);
	pkt_expect(&p, ".", 1001, 501, 0);
	pkt_in(&p, "P.", 1, 1001, pattern, 500); /* again */
	pkt_seg_t *a = pkt_expect(&p, ".", 1001, 501, 0);
	assert_int_equal(a->tcp.opt.sack_cnt, 0);
	pkt_in(&p, "P.", 1001, 1001, pattern + 1000, 500); /* a hole at 501 */
	a = pkt_expect(&p, ".", 1001, 501, 0);
	assert_int_equal(a->tcp.opt.sack_cnt, 1);
	assert_int_equal(a->tcp.opt.sack[0].left, p.irs + 1001);
	assert_int_equal(a->tcp.opt.sack[0].right, p.irs + 1501);
	pkt_in(&p, "P.", 1001, 1001, pattern + 1000, 500); /* that again */
	a = pkt_expect(&p, ".", 1001, 501, 0);
	assert_int_equal(a->tcp.opt.sack_cnt, 1); /* the range, no D-SACK first */
	assert_int_equal(a->tcp.opt.sack[0].left, p.irs + 1001);
	pkt_in(&p, "P.", 501, 1001, pattern + 500, 500);
	a = pkt_expect(&p, ".", 1001, 1501, 0);
	assert_int_equal(a->tcp.opt.sack_cnt, 0);
	assert_int_equal(stats(&p).dsacks_sent, 0);
	uint8_t buf[1500];
	assert_int_equal(sf_recv(p.st, s, buf, sizeof buf), 1500);
	assert_memory_equal(buf, pattern, 1500);
	pkt_finish(&p, s);
}

/* No reassembly: a fragment is dropped and counted (ip_fragment), nothing
 * is sent for it, and an unfragmented SYN to the same port is served. */
static void fragments_dropped_and_counted(void **state)
{
	(void)state;
	pkt_t p;
	sf_config_t c = base_cfg();
	pkt_init(&p, &c);
	sf_sock_t l = listen_on(&p, 4);
	uint8_t f[2048];
	size_t n = pkt_build(&p, f, sizeof f, "S", 0, 0, NULL, 0);
	patch(f, 6, (uint8_t)(f[6] | 0x20)); /* More Fragments */
	pkt_in_raw(&p, f, n);
	pkt_poll(&p);
	pkt_expect_none(&p);
	assert_int_equal(stats(&p).drops[SF_DROP_IP_FRAGMENT], 1);
	pkt_in(&p, "S", 0, 0, NULL, 0);
	pkt_seg_t *sa = pkt_next(&p);
	assert_int_equal(sa->tcp.flags, SF_TCP_SYN | SF_TCP_ACK);
	pkt_finish_close(&p, l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(config_refuses_what_was_left_out),
	        cmocka_unit_test(ecn_setup_answered_as_a_host_without_ecn),
	        cmocka_unit_test(full_syn_queue_recycles_without_cookies),
	        cmocka_unit_test(sack_recovery_without_rack),
	        cmocka_unit_test(tail_loss_waits_for_the_rto),
	        cmocka_unit_test(duplicate_data_acked_without_dsack),
	        cmocka_unit_test(fragments_dropped_and_counted),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
