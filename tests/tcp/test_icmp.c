/* ICMP and the IP layer under TCP (RFC 9293 §3.9.2; RFC 1122 §3.2.2,
 * §4.2.3.9; RFC 5927; RFC 1191): echo, hard and soft errors for a
 * connection, fragmentation-needed, source quench, quotes outside the
 * window, broadcast/multicast addresses, and IP options. */
#include <string.h>

#include "pkt.h"

/* The quote an ICMP error carries: the IP header and the first 8 bytes of
 * the TCP header of a segment synfin sent. */
typedef struct quote {
	uint8_t b[28];
} quote_t;

static quote_t quote_of(const pkt_seg_t *s)
{
	quote_t q;
	assert_true(s->len >= sizeof q.b);
	memcpy(q.b, s->frame, sizeof q.b);
	return q;
}

/* Moves the quoted sequence number by delta. */
static void quote_seq_add(quote_t *q, uint32_t delta)
{
	sf_put32(q->b + 24, sf_be32(q->b + 24) + delta);
}

static void icmp_in(pkt_t *p, uint8_t type, uint8_t code, uint16_t mtu, const quote_t *q)
{
	uint8_t buf[256];
	size_t n = pkt_build_icmp(p, buf, sizeof buf, type, code, mtu, 0, q->b, sizeof q->b);
	pkt_in_raw(p, buf, n);
	pkt_poll(p);
}

/* connect(); returns the socket and the quote of its SYN. */
static sf_sock_t start_connect(pkt_t *p, quote_t *q)
{
	sf_sock_t s = sf_socket(p->st);
	assert_int_equal(sf_connect(p->st, s, PKT_PEER, 80), SF_EINPROGRESS);
	pkt_poll(p);
	pkt_seg_t *syn = pkt_expect(p, "S", 0, 0, 0);
	p->port = syn->tcp.sport;
	p->peer_port = 80;
	*q = quote_of(syn);
	return s;
}

/* RFC 1122 §3.2.2.6: an echo request is answered with the same id, seq
 * and data. */
static void echo_reply(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	uint8_t buf[256];
	size_t n = pkt_build_icmp(&p, buf, sizeof buf, SF_ICMP_ECHO, 0, 0x1234, 7, "ping!", 5);
	pkt_in_raw(&p, buf, n);
	pkt_poll(&p);
	pkt_seg_t *r = pkt_next(&p);
	assert_int_equal(r->ip.proto, SF_IP_PROTO_ICMP);
	assert_int_equal(r->ip.dst, PKT_PEER);
	assert_int_equal(r->icmp.type, SF_ICMP_ECHO_REPLY);
	assert_int_equal(r->icmp.id, 0x1234);
	assert_int_equal(r->icmp.seq, 7);
	assert_int_equal(r->icmp.data_len, 5);
	assert_memory_equal(r->payload, "ping!", 5);
	pkt_expect_none(&p);
	pkt_fini(&p);
}

/* RFC 1122 §4.2.3.9: port unreachable (a hard error) for a connection
 * still opening aborts it: SF_EUNREACH, no more SYNs. */
static void port_unreachable_in_syn_sent_fails(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	quote_t q;
	sf_sock_t s = start_connect(&p, &q);
	uint32_t id = sf_sock_conn_id(p.st, s);
	icmp_in(&p, SF_ICMP_UNREACH, SF_ICMP_UNREACH_PORT, 0, &q);
	assert_string_equal(pkt_state_path(&p, id), "SYN-SENT,CLOSED");
	assert_int_equal(sf_sock_error(p.st, s), SF_EUNREACH);
	assert_int_equal(pkt_run_next_deadline(&p), -1);
	pkt_expect_none(&p);
	sf_close(p.st, s);
	pkt_fini(&p);
}

/* MUST-56: net/host unreachable, source route failed, time exceeded and
 * parameter problem never abort, not even in SYN-SENT: the SYN is resent
 * and the connection completes. */
static void soft_errors_in_syn_sent_do_not_abort(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	int64_t t0 = p.now;
	quote_t q;
	sf_sock_t s = start_connect(&p, &q);
	uint32_t id = sf_sock_conn_id(p.st, s);
	icmp_in(&p, SF_ICMP_UNREACH, SF_ICMP_UNREACH_NET, 0, &q);
	icmp_in(&p, SF_ICMP_UNREACH, SF_ICMP_UNREACH_HOST, 0, &q);
	icmp_in(&p, SF_ICMP_UNREACH, SF_ICMP_UNREACH_SRCFAIL, 0, &q);
	icmp_in(&p, SF_ICMP_TIME_EXCEEDED, 0, 0, &q);
	icmp_in(&p, SF_ICMP_PARAM_PROBLEM, 0, 0, &q);
	pkt_expect_none(&p);
	assert_int_equal(pkt_state(&p, id), SF_SYN_SENT);
	p.now = t0 + 1000000;
	pkt_poll(&p);
	pkt_expect(&p, "S", 0, 0, 0);
	pkt_in(&p, "S.", 0, 1, NULL, 0);
	pkt_expect(&p, ".", 1, 1, 0);
	assert_string_equal(pkt_state_path(&p, id), "SYN-SENT,ESTABLISHED");
	sf_sock_error(p.st, s); /* a soft error may have been kept for the app */
	assert_int_equal(sf_send(p.st, s, "x", 1), 1);
	pkt_finish(&p, s);
}

/* MUST-56 (and RFC 5461 for hard errors once synchronized): no ICMP error
 * aborts an established connection; the application may read the soft
 * error, and data keeps flowing. */
static void errors_in_established_do_not_abort(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_active(&p);
	uint32_t id = sf_sock_conn_id(p.st, s);
	sf_send(p.st, s, "0123456789", 10);
	pkt_poll(&p);
	quote_t q = quote_of(pkt_expect(&p, "P.", 1, 1, 10));
	icmp_in(&p, SF_ICMP_UNREACH, SF_ICMP_UNREACH_NET, 0, &q);
	icmp_in(&p, SF_ICMP_UNREACH, SF_ICMP_UNREACH_HOST, 0, &q);
	icmp_in(&p, SF_ICMP_UNREACH, SF_ICMP_UNREACH_SRCFAIL, 0, &q);
	icmp_in(&p, SF_ICMP_TIME_EXCEEDED, 0, 0, &q);
	icmp_in(&p, SF_ICMP_PARAM_PROBLEM, 0, 0, &q);
	icmp_in(&p, SF_ICMP_UNREACH, SF_ICMP_UNREACH_PORT, 0, &q);
	icmp_in(&p, SF_ICMP_UNREACH, SF_ICMP_UNREACH_PROTO, 0, &q);
	pkt_expect_none(&p);
	assert_int_equal(pkt_state(&p, id), SF_ESTABLISHED);
	/* MUST-54: the error is made available, once. */
	assert_int_equal(sf_sock_error(p.st, s), SF_EUNREACH);
	assert_int_equal(sf_sock_error(p.st, s), 0);
	pkt_in(&p, ".", 1, 11, NULL, 0);
	assert_int_equal(sf_send(p.st, s, "more", 4), 4);
	pkt_poll(&p);
	pkt_expect(&p, "P.", 11, 1, 4);
	pkt_in(&p, "P.", 1, 15, "ok", 2);
	pkt_expect(&p, ".", 15, 3, 0);
	assert_int_equal(pkt_state(&p, id), SF_ESTABLISHED);
	pkt_finish(&p, s);
}

/* RFC 1191 §6.4 (MUST-16): fragmentation-needed with a next-hop MTU of
 * 1000 lowers the send MSS to 960; later segments fit. */
static void frag_needed_lowers_mss(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	p.opt = (sf_tcp_opts_t){.has_mss = true, .mss = 1460};
	sf_sock_t s = pkt_open_active(&p);
	memset(&p.opt, 0, sizeof p.opt);
	sf_setsockopt(p.st, s, SF_SO_NODELAY, 1);
	static uint8_t data[4000];
	sf_send(p.st, s, data, 1460);
	pkt_poll(&p);
	quote_t q = quote_of(pkt_expect(&p, "P.", 1, 1, 1460));
	icmp_in(&p, SF_ICMP_UNREACH, SF_ICMP_UNREACH_NEEDFRAG, 1000, &q);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.snd_mss, 960);
	pkt_discard(&p); /* a resend of the big segment, if any, may come */
	pkt_in(&p, ".", 1, 1461, NULL, 0);
	pkt_discard(&p);
	sf_send(p.st, s, data, 2000);
	pkt_poll(&p);
	pkt_expect(&p, ".", 1461, 1, 960);
	pkt_expect(&p, ".", 2421, 1, 960);
	pkt_expect(&p, "P.", 3381, 1, 80);
	pkt_expect_none(&p);
	/* A larger "MTU" never raises it again. */
	sf_send(p.st, s, data, 1);
	pkt_poll(&p);
	q = quote_of(pkt_expect(&p, "P.", 3461, 1, 1));
	icmp_in(&p, SF_ICMP_UNREACH, SF_ICMP_UNREACH_NEEDFRAG, 1400, &q);
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.snd_mss, 960);
	pkt_finish(&p, s);
}

/* MUST-55: source quench is discarded silently: no error, no change. */
static void source_quench_ignored(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_active(&p);
	sf_send(p.st, s, "abc", 3);
	pkt_poll(&p);
	quote_t q = quote_of(pkt_expect(&p, "P.", 1, 1, 3));
	sf_tcp_info_t before, after;
	sf_tcp_info(p.st, s, &before);
	icmp_in(&p, SF_ICMP_SOURCE_QUENCH, 0, 0, &q);
	pkt_expect_none(&p);
	sf_tcp_info(p.st, s, &after);
	assert_int_equal(after.cwnd, before.cwnd);
	assert_int_equal(after.ssthresh, before.ssthresh);
	assert_int_equal(after.snd_mss, before.snd_mss);
	assert_int_equal(sf_sock_error(p.st, s), 0);
	assert_int_equal(pkt_drops(&p, SF_DROP_ICMP_IGNORED), 1);
	pkt_finish(&p, s);
}

/* RFC 5927 §4.1: an error whose quoted sequence number is not in flight
 * (SND.UNA <= seq <= SND.NXT) is ignored: the connection goes on. */
static void quote_outside_window_ignored(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	quote_t q;
	sf_sock_t s = start_connect(&p, &q);
	uint32_t id = sf_sock_conn_id(p.st, s);
	quote_t bad = q;
	quote_seq_add(&bad, 1000);
	icmp_in(&p, SF_ICMP_UNREACH, SF_ICMP_UNREACH_PORT, 0, &bad);
	bad = q;
	quote_seq_add(&bad, (uint32_t)-1);
	icmp_in(&p, SF_ICMP_UNREACH, SF_ICMP_UNREACH_PORT, 0, &bad);
	assert_int_equal(pkt_state(&p, id), SF_SYN_SENT);
	assert_int_equal(pkt_drops(&p, SF_DROP_ICMP_IGNORED), 2);
	assert_int_equal(sf_sock_error(p.st, s), 0);
	/* Frag-needed with a bad quote leaves the MSS alone too. */
	pkt_in(&p, "S.", 0, 1, NULL, 0);
	pkt_expect(&p, ".", 1, 1, 0);
	sf_send(p.st, s, "abc", 3);
	pkt_poll(&p);
	q = quote_of(pkt_expect(&p, "P.", 1, 1, 3));
	quote_seq_add(&q, 5000);
	icmp_in(&p, SF_ICMP_UNREACH, SF_ICMP_UNREACH_NEEDFRAG, 300, &q);
	sf_tcp_info_t ti;
	sf_tcp_info(p.st, s, &ti);
	assert_int_equal(ti.snd_mss, 536);
	pkt_finish(&p, s);
}

/* A TCP datagram from src to dst (any addresses), peer port -> port 80. */
static size_t build_tcp(pkt_t *p, uint8_t *buf, size_t cap, uint32_t src, uint32_t dst,
                        const char *flags)
{
	sf_tcp_t h = {.sport = p->peer_port,
	              .dport = 80,
	              .seq = p->irs,
	              .flags = pkt_flags(flags),
	              .wnd = 65535};
	int n = sf_tcp_emit(&h, src, dst, NULL, 0, buf + 20, cap - 20);
	assert_true(n > 0);
	sf_ipv4_t ip = {.src = src, .dst = dst, .proto = SF_IP_PROTO_TCP, .ttl = 64};
	assert_int_equal(sf_ipv4_emit(&ip, (size_t)n, buf, 20), 20);
	return 20 + (size_t)n;
}

/* MUST-57: segments (a SYN too) sent to a broadcast or multicast address
 * are discarded silently; so is an echo request. */
static void broadcast_destination_dropped(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t l = sf_socket(p.st);
	sf_bind(p.st, l, 80);
	sf_listen(p.st, l, 4);
	static const uint32_t dst[] = {0xC00002FFu, 0xFFFFFFFFu, 0xE0000001u};
	uint8_t buf[256];
	for (size_t i = 0; i < 3; i++) {
		size_t n = build_tcp(&p, buf, sizeof buf, PKT_PEER, dst[i], "S");
		pkt_in_raw(&p, buf, n);
		pkt_poll(&p);
		pkt_expect_none(&p);
	}
	assert_int_equal(pkt_drops(&p, SF_DROP_IP_BCAST_DEST), 3);
	size_t n = pkt_build_icmp(&p, buf, sizeof buf, SF_ICMP_ECHO, 0, 1, 1, "x", 1);
	sf_put32(buf + 16, 0xC00002FFu);
	sf_put16(buf + 10, 0);
	sf_put16(buf + 10, sf_csum(buf, 20));
	pkt_in_raw(&p, buf, n);
	pkt_poll(&p);
	pkt_expect_none(&p);
	sf_stack_stats_t ss;
	sf_stack_stats(p.st, &ss);
	assert_int_equal(ss.conns_open, 1);
	sf_close(p.st, l);
	pkt_fini(&p);
}

/* MUST-63: a SYN from a broadcast, multicast, "this network" or loopback
 * source is discarded silently (no SYN,ACK, no RST). */
static void bad_source_dropped(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t l = sf_socket(p.st);
	sf_bind(p.st, l, 80);
	sf_listen(p.st, l, 4);
	static const uint32_t src[] = {0xC00002FFu, 0xFFFFFFFFu, 0xE0000005u, 0x00000000u,
	                               0x7F000001u};
	for (size_t i = 0; i < 5; i++) {
		p.peer_addr = src[i];
		pkt_in(&p, "S", 0, 0, NULL, 0);
		pkt_expect_none(&p);
	}
	assert_int_equal(pkt_drops(&p, SF_DROP_IP_BAD_SOURCE), 5);
	sf_close(p.st, l);
	/* Nobody listens: still no RST to such a source. */
	p.peer_addr = 0xE0000005u;
	pkt_in(&p, "S", 0, 0, NULL, 0);
	pkt_expect_none(&p);
	pkt_fini(&p);
}

/* MUST-50: IP options TCP does not understand (router alert here) are
 * ignored: the SYN is answered as usual. */
static void ip_options_ignored(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t l = sf_socket(p.st);
	sf_bind(p.st, l, 80);
	sf_listen(p.st, l, 4);
	uint8_t seg[256], buf[256];
	size_t n = pkt_build(&p, seg, sizeof seg, "S", 0, 0, NULL, 0);
	memcpy(buf, seg, 20);
	static const uint8_t ra[4] = {0x94, 0x04, 0x00, 0x00};
	memcpy(buf + 20, ra, 4);
	memcpy(buf + 24, seg + 20, n - 20);
	buf[0] = 0x46; /* IHL 6 */
	sf_put16(buf + 2, (uint16_t)(n + 4));
	sf_put16(buf + 10, 0);
	sf_put16(buf + 10, sf_csum(buf, 24));
	pkt_in_raw(&p, buf, n + 4);
	pkt_poll(&p);
	pkt_expect(&p, "S.", 0, 1, 0);
	pkt_expect_none(&p);
	pkt_finish_close(&p, l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(echo_reply),
	        cmocka_unit_test(port_unreachable_in_syn_sent_fails),
	        cmocka_unit_test(soft_errors_in_syn_sent_do_not_abort),
	        cmocka_unit_test(errors_in_established_do_not_abort),
	        cmocka_unit_test(frag_needed_lowers_mss),
	        cmocka_unit_test(source_quench_ignored),
	        cmocka_unit_test(quote_outside_window_ignored),
	        cmocka_unit_test(broadcast_destination_dropped),
	        cmocka_unit_test(bad_source_dropped),
	        cmocka_unit_test(ip_options_ignored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
