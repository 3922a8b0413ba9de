/* ECN in the simulation (src/core/ecn.c): two stacks over a rate-limited
 * link whose bottleneck marks CE above a queue threshold (the impairment
 * engine's simple AQM). Classic ECN (RFC 3168) and AccECN (RFC 9768) are
 * negotiated, fall back by what the other side does, and the sender answers
 * CE marks by slowing down: the transfer completes without a loss and
 * without a retransmission, the queue never overflows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "simpair.h"

#define XFER (1u << 20)

static uint8_t pattern[XFER];

typedef struct outcome {
	uint8_t ecn_cli, ecn_srv;
	uint32_t retx, cwnd;
	sf_sim_stats_t link;
	sf_stack_stats_t cli, srv;
} outcome_t;

/* 1 MiB client -> server through a 20 Mbit/s bottleneck that marks CE
 * when 8 frames wait (its queue holds 1000, so nothing is dropped). */
static void run(uint8_t ecn, outcome_t *o)
{
	simpair_t sp = {0};
	sf_impair_t c2s = {.delay_us = 5000, .rate_bps = 20000000, .ce_threshold = 8};
	sf_impair_t s2c = {.delay_us = 5000};
	sf_config_t cfg;
	sf_config_default(&cfg);
	cfg.sndbuf = cfg.rcvbuf = 256 * 1024;
	cfg.ecn = ecn; /* both stacks (negotiation fallbacks: tcp/test_ecn.c) */
	assert_int_equal(simpair_init(&sp, 42, &cfg, &c2s, &s2c), 0);
	simpair_xfer_t x;
	assert_int_equal(simpair_xfer_open(&sp, &x, pattern, XFER, 5001), 0);
	assert_true(simpair_run(&sp, simpair_xfer_pump, &x, 60ll * 1000000));
	assert_false(x.bad);
	sf_tcp_info_t ti;
	sf_tcp_info(sp.st[0], x.cli, &ti);
	o->ecn_cli = ti.ecn;
	o->retx = ti.retransmits;
	o->cwnd = ti.cwnd;
	sf_tcp_info(sp.st[1], x.srv, &ti);
	o->ecn_srv = ti.ecn;
	sf_sim_link_stats(sp.link, 0, &o->link);
	sf_stack_stats(sp.st[0], &o->cli);
	sf_stack_stats(sp.st[1], &o->srv);
	print_message("ecn %u: cwnd %u, %llu CE marks, %llu responses, %u retransmissions, %llu "
	              "queue drops, "
	              "%.1f ms\n",
	              ecn, o->cwnd, (unsigned long long)o->link.ce_marked,
	              (unsigned long long)o->cli.ecn_responses, o->retx,
	              (unsigned long long)o->link.queue_drops, (double)sp.now / 1000.0);
	simpair_fini(&sp);
}

static void check_reacts(const outcome_t *o)
{
	assert_true(o->link.ce_marked > 0);       /* data went ECT(0) and was marked */
	assert_int_equal(o->link.queue_drops, 0); /* ... instead of overflowing */
	assert_int_equal(o->link.lost, 0);
	assert_int_equal(o->retx, 0);                         /* CE costs no retransmission */
	assert_true(o->srv.ecn_ce_rcvd == o->link.ce_marked); /* every mark seen */
	assert_true(o->cli.ecn_responses > 0);                /* and answered */
}

/* RFC 3168: both ask for classic ECN. */
static void classic_ecn_reacts_to_ce(void **state)
{
	(void)state;
	outcome_t o;
	run(SF_ECN_CLASSIC, &o);
	assert_int_equal(o.ecn_cli, SF_ECN_CLASSIC);
	assert_int_equal(o.ecn_srv, SF_ECN_CLASSIC);
	check_reacts(&o);
}

/* RFC 9768: both ask for AccECN. */
static void accecn_reacts_to_ce(void **state)
{
	(void)state;
	outcome_t o;
	run(SF_ECN_ACCECN, &o);
	assert_int_equal(o.ecn_cli, SF_ECN_ACCECN);
	assert_int_equal(o.ecn_srv, SF_ECN_ACCECN);
	check_reacts(&o);
}

/* Without ECN the same link marks nothing: data is Not-ECT. */
static void no_ecn_no_marks(void **state)
{
	(void)state;
	outcome_t o;
	run(SF_ECN_OFF, &o);
	assert_int_equal(o.ecn_cli, SF_ECN_OFF);
	assert_int_equal(o.link.ce_marked, 0);
	assert_int_equal(o.cli.ecn_responses, 0);
}

int main(void)
{
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (uint8_t)(i * 7 + (i >> 11));
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(classic_ecn_reacts_to_ce),
	        cmocka_unit_test(accecn_reacts_to_ce),
	        cmocka_unit_test(no_ecn_no_marks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
