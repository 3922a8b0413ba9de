/* IPv4 fragment reassembly: bounded in slots and time, overlaps refused. */
#include <string.h>

#include "pkt.h"

/* Builds an ICMP echo request of `len` payload bytes from the peer, then
 * cuts it into IP fragments of `step` payload bytes (a multiple of 8). */
static size_t echo_datagram(uint8_t *icmp, size_t len, uint16_t seq)
{
	uint8_t data[2000];
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 7 + seq);
	sf_icmp_t e = {.type = SF_ICMP_ECHO, .id = 77, .seq = seq};
	int n = sf_icmp_emit(&e, data, len, icmp, 2048);
	assert_true(n > 0);
	return (size_t)n;
}

static void send_fragment(pkt_t *p, const uint8_t *msg, size_t off, size_t n, bool mf, uint16_t id)
{
	uint8_t f[2048];
	sf_ipv4_t ip = {.src = PKT_PEER,
	                .dst = PKT_US,
	                .proto = SF_IP_PROTO_ICMP,
	                .ttl = 64,
	                .id = id,
	                .mf = mf,
	                .frag_off = (uint16_t)off};
	assert_int_equal(sf_ipv4_emit(&ip, n, f, 20), 20);
	memcpy(f + 20, msg + off, n);
	pkt_in_raw(p, f, 20 + n);
	pkt_poll(p);
}

static void reassembles_echo(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	uint8_t msg[2048];
	size_t n = echo_datagram(msg, 1000, 1);
	/* Out of order: last fragment first. */
	send_fragment(&p, msg, 800, n - 800, false, 9);
	send_fragment(&p, msg, 0, 400, true, 9);
	pkt_expect_none(&p);
	send_fragment(&p, msg, 400, 400, true, 9);
	pkt_seg_t *r = pkt_next(&p);
	assert_int_equal(r->ip.proto, SF_IP_PROTO_ICMP);
	assert_int_equal(r->icmp.type, SF_ICMP_ECHO_REPLY);
	assert_int_equal(r->icmp.data_len, 1000);
	assert_memory_equal(r->payload, msg + 8, 1000);
	pkt_fini(&p);
}

static void overlap_discards_datagram(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	uint8_t msg[2048];
	size_t n = echo_datagram(msg, 1000, 2);
	send_fragment(&p, msg, 0, 400, true, 10);
	send_fragment(&p, msg, 392, 400, true, 10); /* overlaps the first by 8 */
	send_fragment(&p, msg, 792, n - 792, false, 10);
	pkt_expect_none(&p);
	sf_stack_stats_t ss;
	sf_stack_stats(p.st, &ss);
	assert_true(ss.drops[SF_DROP_IP_FRAGMENT] >= 1);
	pkt_fini(&p);
}

static void incomplete_times_out_and_flood_is_bounded(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	uint8_t msg[2048];
	size_t n = echo_datagram(msg, 1000, 3);
	/* 100 datagrams that never complete: only cfg.frag_slots are held. */
	for (uint16_t id = 100; id < 200; id++)
		send_fragment(&p, msg, 0, 400, true, id);
	sf_stack_stats_t ss;
	sf_stack_stats(p.st, &ss);
	assert_int_equal(ss.drops[SF_DROP_IP_FRAGMENT], 100 - p.cfg.frag_slots);
	/* A datagram whose pieces straddle the timeout is not reassembled. */
	send_fragment(&p, msg, 0, 400, true, 7);
	pkt_advance(&p, (int64_t)p.cfg.frag_timeout_ms * 1000 + 1000);
	send_fragment(&p, msg, 400, n - 400, false, 7);
	pkt_expect_none(&p);
	/* A normal one afterwards works. */
	send_fragment(&p, msg, 0, 400, true, 8);
	send_fragment(&p, msg, 400, n - 400, false, 8);
	pkt_seg_t *r = pkt_next(&p);
	assert_int_equal(r->icmp.type, SF_ICMP_ECHO_REPLY);
	pkt_fini(&p);
}

static void tcp_syn_in_fragments(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t l = sf_socket(p.st);
	sf_bind(p.st, l, 80);
	sf_listen(p.st, l, 4);
	uint8_t frame[2048];
	size_t fl = pkt_build(&p, frame, sizeof frame, "S", 0, 0, NULL, 0);
	uint8_t tcp[64];
	memcpy(tcp, frame + 20, fl - 20);
	uint8_t f[128];
	sf_ipv4_t ip = {.src = PKT_PEER,
	                .dst = PKT_US,
	                .proto = SF_IP_PROTO_TCP,
	                .ttl = 64,
	                .id = 5,
	                .mf = true};
	assert_int_equal(sf_ipv4_emit(&ip, 8, f, 20), 20);
	memcpy(f + 20, tcp, 8);
	pkt_in_raw(&p, f, 28);
	ip.mf = false;
	ip.frag_off = 8;
	assert_int_equal(sf_ipv4_emit(&ip, fl - 28, f, 20), 20);
	memcpy(f + 20, tcp + 8, fl - 28);
	pkt_in_raw(&p, f, 20 + fl - 28);
	pkt_poll(&p);
	pkt_seg_t *sa = pkt_next(&p);
	assert_int_equal(sa->tcp.flags, SF_TCP_SYN | SF_TCP_ACK);
	pkt_finish_close(&p, l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(reassembles_echo),
	        cmocka_unit_test(overlap_discards_datagram),
	        cmocka_unit_test(incomplete_times_out_and_flood_is_bounded),
	        cmocka_unit_test(tcp_syn_in_fragments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
