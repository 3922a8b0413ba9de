/* Keep-alives (RFC 9293 §3.8.4, MUST-24..29): off by default, asked for by
 * the application, sent only after the connection was idle for the
 * interval (default 2 hours, configurable), and a few lost answers do not
 * kill the connection. The probe is a documented choice: SEQ = SND.UNA - 1
 * with no data, which the peer must answer with an ACK. */
#include <string.h>

#include "pkt.h"

/* Polls at at_us - 1 ms (nothing) and at at_us (one probe). */
static void expect_probe_at(pkt_t *p, int64_t at_us)
{
	p->now = at_us - 1000;
	pkt_poll(p);
	pkt_expect_none(p);
	p->now = at_us;
	pkt_poll(p);
	pkt_expect(p, ".", 0, 1, 0);
	pkt_expect_none(p);
}

/* MUST-25: keep-alives are off unless asked for. */
static void off_by_default(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	int v = -1;
	assert_int_equal(sf_getsockopt(p.st, s, SF_SO_KEEPALIVE, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(pkt_run_next_deadline(&p), -1);
	pkt_advance(&p, 3ll * 3600 * 1000000);
	pkt_expect_none(&p);
	pkt_finish(&p, s);
}

/* MUST-24/26/28: asked for, the first probe comes after 2 hours idle; an
 * answer starts a new idle period. */
static void default_idle_two_hours(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	int64_t t = p.now;
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_KEEPALIVE, 1), 0);
	expect_probe_at(&p, t + 7200ll * 1000000);
	pkt_in(&p, ".", 1, 1, NULL, 0);
	pkt_expect_none(&p);
	expect_probe_at(&p, t + 2 * 7200ll * 1000000);
	pkt_finish(&p, s);
}

/* MUST-26/27: only after the connection was idle for the (configured)
 * interval: traffic pushes the probe back. */
static void traffic_defers_probe(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	int64_t t = p.now;
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_KEEPIDLE, 10), 0);
	assert_int_equal(sf_setsockopt(p.st, s, SF_SO_KEEPALIVE, 1), 0);
	p.now = t + 5000000;
	pkt_in(&p, "P.", 1, 1, "hi", 2);
	pkt_expect(&p, ".", 1, 3, 0);
	p.now = t + 10000000;
	pkt_poll(&p);
	pkt_expect_none(&p);
	p.now = t + 15000000;
	pkt_poll(&p);
	pkt_expect(&p, ".", 0, 3, 0);
	pkt_finish(&p, s);
}

/* MUST-29: one lost answer does not end the connection; KEEPCNT
 * unanswered probes in a row do (SF_ETIMEDOUT). */
static void unanswered_probes_give_up(void **state)
{
	(void)state;
	pkt_t p;
	pkt_init(&p, NULL);
	sf_sock_t s = pkt_open_passive(&p, NULL);
	uint32_t id = sf_sock_conn_id(p.st, s);
	int64_t t = p.now;
	sf_setsockopt(p.st, s, SF_SO_KEEPIDLE, 10);
	sf_setsockopt(p.st, s, SF_SO_KEEPINTVL, 2);
	sf_setsockopt(p.st, s, SF_SO_KEEPCNT, 3);
	sf_setsockopt(p.st, s, SF_SO_KEEPALIVE, 1);
	expect_probe_at(&p, t + 10000000);
	expect_probe_at(&p, t + 12000000);
	pkt_in(&p, ".", 1, 1, NULL, 0); /* the second is answered */
	t = p.now;
	expect_probe_at(&p, t + 10000000);
	expect_probe_at(&p, t + 12000000);
	expect_probe_at(&p, t + 14000000);
	assert_int_equal(pkt_state(&p, id), SF_ESTABLISHED);
	p.now = t + 16000000;
	pkt_poll(&p);
	assert_int_equal(pkt_state(&p, id), SF_CLOSED);
	char b[4];
	assert_int_equal(sf_recv(p.st, s, b, sizeof b), SF_ETIMEDOUT);
	pkt_finish_close(&p, s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(off_by_default),
	        cmocka_unit_test(default_idle_two_hours),
	        cmocka_unit_test(traffic_defers_probe),
	        cmocka_unit_test(unanswered_probes_give_up),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
