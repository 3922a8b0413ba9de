/* Urgent data (RFC 9293 §3.8.5, RFC 6093): the pointer names the first
 * non-urgent byte (MUST-62), any length of urgent data (MUST-31), the
 * application is told asynchronously and learns how much (MUST-32/33). */
#include <string.h>

#include "pkt.h"

static void receive_urgent(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_active(&p);
	uint32_t bytes = 0;
	assert_int_equal(sf_urgent_pending(p.st, s, &bytes), 0);
	/* 10 bytes, the first 4 urgent: the pointer is 4 (first non-urgent). */
	uint8_t frame[256];
	size_t n = pkt_build(&p, frame, sizeof frame, "UP.", 1, 1, "URGEnormal", 10);
	/* pkt_build leaves urg 0: patch the urgent pointer and checksum. */
	sf_ipv4_t ip;
	sf_tcp_t h;
	assert_int_equal(sf_ipv4_parse(frame, n, &ip), 0);
	assert_int_equal(sf_tcp_parse(frame + 20, n - 20, ip.src, ip.dst, true, &h), 0);
	h.urg = 4;
	assert_true(sf_tcp_emit(&h, ip.src, ip.dst, frame + 20 + h.payload_off, h.payload_len,
	                        frame + 20, sizeof frame - 20) > 0);
	pkt_in_raw(&p, frame, n);
	pkt_poll(&p);
	pkt_expect(&p, ".", 1, 11, 0);
	sf_pollfd_t pf = {s, SF_POLLPRI | SF_POLLIN, 0};
	assert_int_equal(sf_poll(p.st, &pf, 1), 1);
	assert_int_equal(pf.revents, SF_POLLPRI | SF_POLLIN);
	assert_int_equal(sf_urgent_pending(p.st, s, &bytes), 1);
	assert_int_equal(bytes, 4);
	char buf[16];
	assert_int_equal(sf_recv(p.st, s, buf, 2), 2);
	assert_int_equal(sf_urgent_pending(p.st, s, &bytes), 1);
	assert_int_equal(bytes, 2);
	assert_int_equal(sf_recv(p.st, s, buf, 8), 8);
	assert_memory_equal(buf, "GEnormal", 8);
	assert_int_equal(sf_urgent_pending(p.st, s, &bytes), 0);
	pf.revents = 0;
	assert_int_equal(sf_poll(p.st, &pf, 1), 0);
	pkt_finish(&p, s);
}

static void send_urgent(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_active(&p);
	assert_int_equal(sf_send(p.st, s, "abc", 3), 3);
	assert_int_equal(sf_send_urgent(p.st, s, "!!", 2), 2);
	pkt_poll(&p);
	pkt_seg_t *seg = pkt_expect(&p, "UP.", 1, 1, 5);
	assert_int_equal(seg->tcp.urg, 5); /* first byte after the urgent data */
	pkt_in(&p, ".", 1, 6, NULL, 0);
	/* Acknowledged: later segments carry no URG. */
	assert_int_equal(sf_send(p.st, s, "z", 1), 1);
	pkt_poll(&p);
	pkt_expect(&p, "P.", 6, 1, 1);
	pkt_finish(&p, s);
}

/* MUST-31: urgent data of any length. 4000 urgent bytes go out in several
 * segments (MSS 536: the peer sent no MSS option), each carrying URG and the
 * pointer to the first byte after the urgent data; received, a 3000-byte
 * urgent run over three segments is reported, and the mark moves as the
 * application reads. */
static void long_urgent_data(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_active(&p);
	static char big[4000];
	memset(big, 'u', sizeof big);
	sf_setsockopt(p.st, s, SF_SO_NODELAY, 1); /* the short tail goes at once */
	assert_int_equal(sf_send_urgent(p.st, s, big, sizeof big), (long)sizeof big);
	pkt_poll(&p);
	uint32_t seq = 1;
	while (seq < 1 + sizeof big) {
		pkt_seg_t *g = pkt_next(&p);
		assert_true(g->tcp.flags & SF_TCP_URG);
		assert_int_equal(g->tcp.seq - p.iss, seq);
		assert_int_equal(g->tcp.urg, 1 + sizeof big - seq);
		seq += g->tcp.payload_len;
	}
	assert_int_equal(seq, 1 + sizeof big);
	pkt_expect_none(&p);
	pkt_in(&p, ".", 1, 1 + sizeof big, NULL, 0);
	/* Receiving: a 3000-byte urgent run over three segments. */
	static char in[1000];
	memset(in, 'x', sizeof in);
	for (uint32_t i = 0; i < 3; i++) {
		uint8_t frame[1200];
		size_t n = pkt_build(&p, frame, sizeof frame, "U.", 1 + i * 1000, 1 + sizeof big,
		                     in, sizeof in);
		sf_ipv4_t ip;
		sf_tcp_t h;
		assert_int_equal(sf_ipv4_parse(frame, n, &ip), 0);
		assert_int_equal(sf_tcp_parse(frame + 20, n - 20, ip.src, ip.dst, true, &h), 0);
		h.urg = (uint16_t)(3000 - i * 1000);
		assert_true(sf_tcp_emit(&h, ip.src, ip.dst, frame + 20 + h.payload_off,
		                        h.payload_len, frame + 20, sizeof frame - 20) > 0);
		pkt_in_raw(&p, frame, n);
	}
	pkt_poll(&p);
	pkt_discard(&p);
	uint32_t bytes = 0;
	assert_int_equal(sf_urgent_pending(p.st, s, &bytes), 1);
	assert_int_equal(bytes, 3000);
	char buf[1200];
	assert_int_equal(sf_recv(p.st, s, buf, 1200), 1200);
	assert_int_equal(sf_urgent_pending(p.st, s, &bytes), 1);
	assert_int_equal(bytes, 1800);
	pkt_finish(&p, s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(receive_urgent),
	        cmocka_unit_test(send_urgent),
	        cmocka_unit_test(long_urgent_data),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
