/* Unit tests for the JSON-lines trace writer (src/trace/json.c), the enum
 * names (src/trace/names.c) and sf_strerror (src/base/error.c).
 *
 * Each event kind is written and compared with the exact expected line from
 * docs/TRACE_FORMAT.md; every line is also run through a small JSON syntax
 * checker, so a stray comma or quote fails even where no exact line is given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "synfin/error.h"
#include "synfin/trace.h"

/* ---- a tiny JSON syntax checker (RFC 8259 grammar, no semantics) ---- */

typedef struct jp {
	const char *p, *end;
} jp_t;

static bool json_value(jp_t *j, int depth);

static void skip_ws(jp_t *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool eat(jp_t *j, char c)
{
	skip_ws(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return true;
	}
	return false;
}

static bool json_string(jp_t *j)
{
	if (!eat(j, '"'))
		return false;
	while (j->p < j->end && *j->p != '"') {
		if ((unsigned char)*j->p < 0x20)
			return false;
		if (*j->p == '\\') {
			j->p++;
			if (j->p >= j->end || !strchr("\"\\/bfnrtu", *j->p))
				return false;
		}
		j->p++;
	}
	if (j->p >= j->end)
		return false;
	j->p++;
	return true;
}

static bool json_number(jp_t *j)
{
	const char *start = j->p;
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return false;
	/* no leading zeros: "0" alone, or [1-9][0-9]* */
	if (*j->p == '0' && j->p + 1 < j->end && j->p[1] >= '0' && j->p[1] <= '9')
		return false;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > start;
}

static bool json_literal(jp_t *j, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return false;
	j->p += n;
	return true;
}

static bool json_value(jp_t *j, int depth)
{
	if (depth > 16)
		return false;
	skip_ws(j);
	if (j->p >= j->end)
		return false;
	switch (*j->p) {
	case '{':
		j->p++;
		if (eat(j, '}'))
			return true;
		do {
			if (!json_string(j) || !eat(j, ':') || !json_value(j, depth + 1))
				return false;
		} while (eat(j, ','));
		return eat(j, '}');
	case '[':
		j->p++;
		if (eat(j, ']'))
			return true;
		do {
			if (!json_value(j, depth + 1))
				return false;
		} while (eat(j, ','));
		return eat(j, ']');
	case '"':
		return json_string(j);
	case 't':
		return json_literal(j, "true");
	case 'f':
		return json_literal(j, "false");
	case 'n':
		return json_literal(j, "null");
	default:
		return json_number(j);
	}
}

/* True if `line` is exactly one JSON object followed by one newline. */
static bool is_json_line(const char *line)
{
	size_t n = strlen(line);
	if (n < 3 || line[n - 1] != '\n' || line[0] != '{' || memchr(line, '\n', n - 1))
		return false;
	jp_t j = {line, line + n - 1};
	if (!json_value(&j, 0))
		return false;
	return j.p == j.end;
}

static void test_checker_rejects_bad_json(void **state)
{
	(void)state;
	assert_true(is_json_line("{\"a\":1,\"b\":[1,2],\"c\":{\"d\":true}}\n"));
	assert_false(is_json_line("{\"a\":1,}\n"));
	assert_false(is_json_line("{\"a\":01}\n"));
	assert_false(is_json_line("{\"a\":1}"));
	assert_false(is_json_line("{\"a\":\"x}\n"));
	assert_false(is_json_line("{\"a\":1}}\n"));
	assert_false(is_json_line("{a:1}\n"));
}

/* ---- writing events ---- */

/* Writes `ev` to a memory stream; returns the text (caller frees) and checks
 * that the return value is its length and the line is valid JSON. */
static char *write_event(const sf_event_t *ev)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	int n = sf_trace_json_write(f, ev);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	assert_int_equal(n, (int)len);
	assert_int_equal(strlen(buf), len);
	assert_true(is_json_line(buf));
	return buf;
}

static void expect_line(const sf_event_t *ev, const char *want)
{
	char *got = write_event(ev);
	assert_string_equal(got, want);
	free(got);
}

/* 192.0.2.1:40000 -> 192.0.2.2:80, the SYN of docs/TRACE_FORMAT.md. */
static sf_event_t syn_event(void)
{
	sf_event_t ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SF_EV_SEG_TX;
	ev.now_us = 123;
	ev.conn_id = 1;
	ev.u.seg.ip.src = 0xC0000201;
	ev.u.seg.ip.dst = 0xC0000202;
	ev.u.seg.ip.proto = SF_IP_PROTO_TCP;
	ev.u.seg.ip.ttl = 64;
	sf_tcp_t *t = &ev.u.seg.tcp;
	t->sport = 40000;
	t->dport = 80;
	t->seq = 1000;
	t->ack = 0;
	t->flags = SF_TCP_SYN;
	t->wnd = 64240;
	t->opt.has_mss = true;
	t->opt.mss = 1460;
	t->opt.has_wscale = true;
	t->opt.wscale = 7;
	t->opt.sack_perm = true;
	t->opt.has_ts = true;
	t->opt.ts_val = 1;
	t->opt.ts_ecr = 0;
	return ev;
}

static void test_seg_tx_syn(void **state)
{
	(void)state;
	sf_event_t ev = syn_event();
	expect_line(&ev, "{\"t_us\":123,\"conn\":1,\"ev\":\"seg_tx\",\"src\":\"192.0.2.1\","
	                 "\"sport\":40000,\"dst\":\"192.0.2.2\",\"dport\":80,\"seq\":1000,"
	                 "\"ack\":0,\"flags\":\"S\",\"wnd\":64240,\"len\":0,\"opts\":{\"mss\":1460,"
	                 "\"wscale\":7,\"sack_perm\":true,\"ts\":[1,0]}}\n");
}

/* After the options: "retx" on a retransmission, "segs" on a super-segment
 * of an offloading link (more than one wire segment); neither otherwise. */
static void test_seg_tx_retx_and_segs(void **state)
{
	(void)state;
	sf_event_t ev = syn_event();
	sf_tcp_t *t = &ev.u.seg.tcp;
	t->flags = SF_TCP_ACK;
	t->ack = 5001;
	t->payload_len = 14480;
	t->opt = (sf_tcp_opts_t){0};
	ev.u.seg.retx = SF_RETX_RACK;
	ev.u.seg.segs = 10;
	expect_line(&ev, "{\"t_us\":123,\"conn\":1,\"ev\":\"seg_tx\",\"src\":\"192.0.2.1\","
	                 "\"sport\":40000,\"dst\":\"192.0.2.2\",\"dport\":80,\"seq\":1000,"
	                 "\"ack\":5001,\"flags\":\".\",\"wnd\":64240,\"len\":14480,\"opts\":{},"
	                 "\"retx\":\"rack\",\"segs\":10}\n");
	ev.u.seg.retx = SF_RETX_NONE;
	ev.u.seg.segs = 1;
	expect_line(&ev, "{\"t_us\":123,\"conn\":1,\"ev\":\"seg_tx\",\"src\":\"192.0.2.1\","
	                 "\"sport\":40000,\"dst\":\"192.0.2.2\",\"dport\":80,\"seq\":1000,"
	                 "\"ack\":5001,\"flags\":\".\",\"wnd\":64240,\"len\":14480,\"opts\":{}}\n");
	ev.kind = SF_EV_SEG_RX; /* a GRO super-segment received */
	ev.u.seg.segs = 3;
	expect_line(&ev, "{\"t_us\":123,\"conn\":1,\"ev\":\"seg_rx\",\"src\":\"192.0.2.1\","
	                 "\"sport\":40000,\"dst\":\"192.0.2.2\",\"dport\":80,\"seq\":1000,"
	                 "\"ack\":5001,\"flags\":\".\",\"wnd\":64240,\"len\":14480,\"opts\":{},"
	                 "\"segs\":3}\n");
}

static void test_seg_rx_synack_and_data(void **state)
{
	(void)state;
	sf_event_t ev = syn_event();
	ev.kind = SF_EV_SEG_RX;
	ev.now_us = 1500;
	ev.u.seg.ip.src = 0xC0000202;
	ev.u.seg.ip.dst = 0xC0000201;
	sf_tcp_t *t = &ev.u.seg.tcp;
	t->sport = 80;
	t->dport = 40000;
	t->seq = 4294967295u; /* the full 32-bit range prints unsigned */
	t->ack = 1001;
	t->flags = SF_TCP_SYN | SF_TCP_ACK;
	t->wnd = 65535;
	t->opt.wscale = 14;
	t->opt.ts_val = 4000000000u;
	t->opt.ts_ecr = 1;
	expect_line(&ev,
	            "{\"t_us\":1500,\"conn\":1,\"ev\":\"seg_rx\",\"src\":\"192.0.2.2\","
	            "\"sport\":80,\"dst\":\"192.0.2.1\",\"dport\":40000,\"seq\":4294967295,"
	            "\"ack\":1001,\"flags\":\"S.\",\"wnd\":65535,\"len\":0,\"opts\":{\"mss\":1460,"
	            "\"wscale\":14,\"sack_perm\":true,\"ts\":[4000000000,1]}}\n");

	/* A data segment without options: "opts" is always there, empty. */
	memset(&t->opt, 0, sizeof t->opt);
	t->flags = SF_TCP_PSH | SF_TCP_ACK;
	t->seq = 1;
	t->ack = 2;
	t->wnd = 501;
	t->payload_len = 1448;
	ev.conn_id = 7;
	ev.now_us = 0;
	expect_line(&ev, "{\"t_us\":0,\"conn\":7,\"ev\":\"seg_rx\",\"src\":\"192.0.2.2\","
	                 "\"sport\":80,\"dst\":\"192.0.2.1\",\"dport\":40000,\"seq\":1,"
	                 "\"ack\":2,\"flags\":\"P.\",\"wnd\":501,\"len\":1448,\"opts\":{}}\n");
}

static void test_seg_sack_and_urg(void **state)
{
	(void)state;
	sf_event_t ev = syn_event();
	sf_tcp_t *t = &ev.u.seg.tcp;
	memset(&t->opt, 0, sizeof t->opt);
	t->flags = SF_TCP_ACK | SF_TCP_URG;
	t->urg = 3;
	t->opt.has_ts = true;
	t->opt.ts_val = 10;
	t->opt.ts_ecr = 20;
	t->opt.sack_cnt = 2;
	t->opt.sack[0] = (sf_sack_block_t){100, 200};
	t->opt.sack[1] = (sf_sack_block_t){300, 400};
	expect_line(&ev, "{\"t_us\":123,\"conn\":1,\"ev\":\"seg_tx\",\"src\":\"192.0.2.1\","
	                 "\"sport\":40000,\"dst\":\"192.0.2.2\",\"dport\":80,\"seq\":1000,"
	                 "\"ack\":0,\"flags\":\".U\",\"wnd\":64240,\"len\":0,\"urg\":3,"
	                 "\"opts\":{\"ts\":[10,20],\"sack\":[[100,200],[300,400]]}}\n");

	/* Four blocks, the most a header holds; a bogus count is clamped to 4. */
	t->flags = SF_TCP_ACK;
	t->opt.has_ts = false;
	for (unsigned i = 0; i < SF_TCP_MAX_SACK; i++)
		t->opt.sack[i] = (sf_sack_block_t){i * 10u, i * 10u + 5u};
	t->opt.sack_cnt = 200;
	expect_line(&ev, "{\"t_us\":123,\"conn\":1,\"ev\":\"seg_tx\",\"src\":\"192.0.2.1\","
	                 "\"sport\":40000,\"dst\":\"192.0.2.2\",\"dport\":80,\"seq\":1000,"
	                 "\"ack\":0,\"flags\":\".\",\"wnd\":64240,\"len\":0,"
	                 "\"opts\":{\"sack\":[[0,5],[10,15],[20,25],[30,35]]}}\n");
}

static void test_state(void **state)
{
	(void)state;
	sf_event_t ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SF_EV_STATE;
	ev.now_us = 2000;
	ev.conn_id = 1;
	ev.u.state.from = SF_SYN_SENT;
	ev.u.state.to = SF_ESTABLISHED;
	ev.u.state.cause = SF_CAUSE_RCV_SYNACK;
	expect_line(&ev, "{\"t_us\":2000,\"conn\":1,\"ev\":\"state\",\"from\":\"SYN-SENT\","
	                 "\"to\":\"ESTABLISHED\",\"cause\":\"rcv_synack\"}\n");

	ev.u.state.from = SF_TIME_WAIT;
	ev.u.state.to = SF_CLOSED;
	ev.u.state.cause = SF_CAUSE_TIMEWAIT;
	ev.now_us = 240002000;
	expect_line(&ev, "{\"t_us\":240002000,\"conn\":1,\"ev\":\"state\",\"from\":\"TIME-WAIT\","
	                 "\"to\":\"CLOSED\",\"cause\":\"timewait\"}\n");

	/* Corrupt values print as "?", and the line stays valid JSON. */
	ev.u.state.from = (sf_state_t)99;
	ev.u.state.to = SF_STATE_COUNT;
	ev.u.state.cause = (sf_cause_t)-1;
	expect_line(&ev, "{\"t_us\":240002000,\"conn\":1,\"ev\":\"state\",\"from\":\"?\","
	                 "\"to\":\"?\",\"cause\":\"?\"}\n");
}

static void test_timer(void **state)
{
	(void)state;
	sf_event_t ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SF_EV_TIMER;
	ev.now_us = 1001000;
	ev.conn_id = 3;
	ev.u.timer.timer = SF_TIMER_RTO;
	ev.u.timer.count = 1;
	expect_line(&ev, "{\"t_us\":1001000,\"conn\":3,\"ev\":\"timer\",\"timer\":\"rto\","
	                 "\"count\":1}\n");
	ev.u.timer.timer = SF_TIMER_PERSIST;
	ev.u.timer.count = 4294967295u;
	expect_line(&ev, "{\"t_us\":1001000,\"conn\":3,\"ev\":\"timer\",\"timer\":\"persist\","
	                 "\"count\":4294967295}\n");
}

static void test_drop(void **state)
{
	(void)state;
	sf_event_t ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SF_EV_DROP;
	ev.now_us = 5;
	ev.drop = SF_DROP_IP_CHECKSUM;
	ev.has_seg = false;
	expect_line(&ev, "{\"t_us\":5,\"conn\":0,\"ev\":\"drop\",\"reason\":\"ip_checksum\"}\n");

	/* With the parsed headers, the segment fields follow the reason. */
	sf_event_t seg = syn_event();
	ev.u.seg = seg.u.seg;
	ev.has_seg = true;
	ev.conn_id = 1;
	ev.drop = SF_DROP_TCP_OUT_OF_WINDOW;
	ev.u.seg.tcp.flags = SF_TCP_ACK;
	memset(&ev.u.seg.tcp.opt, 0, sizeof ev.u.seg.tcp.opt);
	expect_line(&ev, "{\"t_us\":5,\"conn\":1,\"ev\":\"drop\",\"reason\":\"tcp_out_of_window\","
	                 "\"src\":\"192.0.2.1\",\"sport\":40000,\"dst\":\"192.0.2.2\",\"dport\":80,"
	                 "\"seq\":1000,\"ack\":0,\"flags\":\".\",\"wnd\":64240,\"len\":0,"
	                 "\"opts\":{}}\n");
}

static void test_conn_new_free(void **state)
{
	(void)state;
	sf_event_t ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SF_EV_CONN_NEW;
	ev.now_us = 0;
	ev.conn_id = 42;
	expect_line(&ev, "{\"t_us\":0,\"conn\":42,\"ev\":\"conn_new\"}\n");
	ev.kind = SF_EV_CONN_FREE;
	ev.now_us = 9223372036854775807LL;
	ev.conn_id = 4294967295u;
	expect_line(&ev,
	            "{\"t_us\":9223372036854775807,\"conn\":4294967295,\"ev\":\"conn_free\"}\n");
	/* A clock before the epoch is still a number. */
	ev.now_us = -12;
	expect_line(&ev, "{\"t_us\":-12,\"conn\":4294967295,\"ev\":\"conn_free\"}\n");
}

static void test_unknown_kind(void **state)
{
	(void)state;
	sf_event_t ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SF_EV_COUNT;
	ev.now_us = 1;
	ev.conn_id = 2;
	expect_line(&ev, "{\"t_us\":1,\"conn\":2,\"ev\":\"?\"}\n");
}

/* The sink writes exactly what sf_trace_json_write writes; lines append. */
static void test_sink_and_stability(void **state)
{
	(void)state;
	sf_event_t a = syn_event();
	sf_event_t b;
	memset(&b, 0, sizeof b);
	b.kind = SF_EV_STATE;
	b.now_us = 9;
	b.conn_id = 1;
	b.u.state.from = SF_CLOSED;
	b.u.state.to = SF_SYN_SENT;
	b.u.state.cause = SF_CAUSE_APP_CONNECT;

	char *one = write_event(&a);
	char *two = write_event(&b);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	sf_trace_sink_t sink = {sf_trace_json_sink, f};
	sink.fn(sink.ctx, &a);
	sink.fn(sink.ctx, &b);
	sink.fn(sink.ctx, &a);
	assert_int_equal(fclose(f), 0);

	size_t n1 = strlen(one), n2 = strlen(two);
	assert_int_equal(len, 2 * n1 + n2);
	assert_memory_equal(buf, one, n1);
	assert_memory_equal(buf + n1, two, n2);
	assert_memory_equal(buf + n1 + n2, one, n1); /* byte-stable */
	free(buf);
	free(one);
	free(two);

	/* A NULL stream is ignored by the sink. */
	sf_trace_json_sink(NULL, &a);
}

static void test_write_errors(void **state)
{
	(void)state;
	sf_event_t ev = syn_event();
	assert_true(sf_trace_json_write(NULL, &ev) < 0);
	FILE *f = fopen("/dev/full", "w");
	if (!f)
		skip();
	setvbuf(f, NULL, _IONBF, 0);
	assert_true(sf_trace_json_write(f, NULL) < 0);
	assert_true(sf_trace_json_write(f, &ev) < 0); /* ENOSPC */
	fclose(f);
}

/* ---- names ---- */

/* All names of an enum 0..count-1 are non-NULL, not "?", distinct; out of
 * range gives "?". */
static void check_names(const char *(*get)(int), int count)
{
	for (int i = 0; i < count; i++) {
		const char *a = get(i);
		assert_non_null(a);
		assert_true(a[0] != '\0');
		assert_string_not_equal(a, "?");
		for (const char *c = a; *c; c++) /* safe inside a JSON string */
			assert_true(*c > 0x20 && *c != '"' && *c != '\\' && *c < 0x7f);
		for (int k = 0; k < i; k++)
			assert_string_not_equal(a, get(k));
	}
	assert_string_equal(get(count), "?");
	assert_string_equal(get(count + 1000), "?");
	assert_string_equal(get(-1), "?");
}

static const char *state_name_i(int v)
{
	return sf_state_name((sf_state_t)v);
}
static const char *cause_name_i(int v)
{
	return sf_cause_name((sf_cause_t)v);
}
static const char *timer_name_i(int v)
{
	return sf_timer_name((sf_timer_kind_t)v);
}
static const char *drop_name_i(int v)
{
	return sf_drop_name((sf_drop_reason_t)v);
}
static const char *event_name_i(int v)
{
	return sf_event_kind_name((sf_event_kind_t)v);
}

static void test_names_complete(void **state)
{
	(void)state;
	check_names(state_name_i, SF_STATE_COUNT);
	check_names(cause_name_i, SF_CAUSE_COUNT);
	check_names(timer_name_i, SF_TIMER_COUNT);
	check_names(drop_name_i, SF_DROP_COUNT);
	check_names(event_name_i, SF_EV_COUNT);
}

static void test_state_names_rfc(void **state)
{
	(void)state;
	/* RFC 9293 §3.3.2 spelling. */
	static const char *const want[SF_STATE_COUNT] = {
	        "CLOSED",     "LISTEN",     "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
	        "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING",  "LAST-ACK",     "TIME-WAIT",
	};
	for (int i = 0; i < SF_STATE_COUNT; i++)
		assert_string_equal(sf_state_name((sf_state_t)i), want[i]);
}

static void test_drop_names_stable(void **state)
{
	(void)state;
	/* Identifiers are part of the format: a rename breaks log consumers. */
	assert_string_equal(sf_drop_name(SF_DROP_IP_TRUNCATED), "ip_truncated");
	assert_string_equal(sf_drop_name(SF_DROP_IP_CHECKSUM), "ip_checksum");
	assert_string_equal(sf_drop_name(SF_DROP_IP_FRAGMENT), "ip_fragment");
	assert_string_equal(sf_drop_name(SF_DROP_TCP_CHECKSUM), "tcp_checksum");
	assert_string_equal(sf_drop_name(SF_DROP_TCP_OUT_OF_WINDOW), "tcp_out_of_window");
	assert_string_equal(sf_drop_name(SF_DROP_TCP_CHALLENGE), "tcp_challenge");
	assert_string_equal(sf_drop_name(SF_DROP_TCP_PAWS), "tcp_paws");
	assert_string_equal(sf_drop_name(SF_DROP_ICMP_IGNORED), "icmp_ignored");
	assert_string_equal(sf_drop_name(SF_DROP_ETH_NOT_FOR_US), "eth_not_for_us");
	assert_string_equal(sf_drop_name(SF_DROP_ARP_UNRESOLVED), "arp_unresolved");
	/* snake_case, prefixed by the layer */
	for (int i = 0; i < SF_DROP_COUNT; i++) {
		const char *n = sf_drop_name((sf_drop_reason_t)i);
		assert_true(strncmp(n, "ip_", 3) == 0 || strncmp(n, "tcp_", 4) == 0 ||
		            strncmp(n, "icmp_", 5) == 0 || strncmp(n, "link_", 5) == 0 ||
		            strncmp(n, "eth_", 4) == 0 || strncmp(n, "arp_", 4) == 0);
		for (const char *c = n; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
			            *c == '_');
	}
	assert_string_equal(sf_event_kind_name(SF_EV_SEG_TX), "seg_tx");
	assert_string_equal(sf_event_kind_name(SF_EV_CONN_FREE), "conn_free");
	assert_string_equal(sf_timer_name(SF_TIMER_RTO), "rto");
	assert_string_equal(sf_cause_name(SF_CAUSE_RCV_SYNACK), "rcv_synack");
}

/* ---- sf_strerror ---- */

static void test_strerror(void **state)
{
	(void)state;
	/* Every code from SF_OK down to the last one has its own phrase. */
	const int last = SF_ENOTSUP;
	const char *unknown = sf_strerror(12345);
	assert_string_equal(unknown, "unknown error");
	for (int e = SF_OK; e >= last; e--) {
		const char *s = sf_strerror(e);
		assert_non_null(s);
		assert_true(strlen(s) > 3);
		assert_string_not_equal(s, unknown);
		for (int k = SF_OK; k > e; k--)
			assert_string_not_equal(s, sf_strerror(k));
	}
	assert_string_equal(sf_strerror(last - 1), unknown);
	assert_string_equal(sf_strerror(1), unknown);
	assert_string_equal(sf_strerror(SF_ECONNREFUSED), "connection refused");
	assert_string_equal(sf_strerror(SF_ECONNRESET), "connection reset by peer");
	assert_string_equal(sf_strerror(SF_ETIMEDOUT), "connection timed out");
	assert_string_equal(sf_strerror(SF_ECHECKSUM), "bad checksum");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_checker_rejects_bad_json),
	        cmocka_unit_test(test_seg_tx_syn),
	        cmocka_unit_test(test_seg_tx_retx_and_segs),
	        cmocka_unit_test(test_seg_rx_synack_and_data),
	        cmocka_unit_test(test_seg_sack_and_urg),
	        cmocka_unit_test(test_state),
	        cmocka_unit_test(test_timer),
	        cmocka_unit_test(test_drop),
	        cmocka_unit_test(test_conn_new_free),
	        cmocka_unit_test(test_unknown_kind),
	        cmocka_unit_test(test_sink_and_stability),
	        cmocka_unit_test(test_write_errors),
	        cmocka_unit_test(test_names_complete),
	        cmocka_unit_test(test_state_names_rfc),
	        cmocka_unit_test(test_drop_names_stable),
	        cmocka_unit_test(test_strerror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
