/* JSON-lines trace writer: one event, one JSON object, one line.
 *
 * The format is specified in docs/TRACE_FORMAT.md. Fields come in a fixed
 * order and numbers are printed in decimal without padding, so the same event
 * stream always gives the same bytes: the simulator's traces can be compared
 * byte for byte (golden tests) and grepped or fed to jq line by line.
 * Sequence and acknowledgment numbers are the absolute 32-bit values from the
 * wire; relative numbering is a presentation choice left to the readers.
 *
 * A line is built in a fixed buffer and handed to stdio with one fwrite, so a
 * line is never left half-written by a formatting error.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "synfin/trace.h"

/* Longest line: a drop with a segment carrying every option and 4 SACK
 * blocks is about 430 bytes. */
#define LINE_CAP 768

typedef struct line {
	char buf[LINE_CAP];
	size_t len;
	bool overflow;
} line_t;

/* Appends printf-formatted text; marks the line overflowed if it does not fit. */
static void append(line_t *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void append(line_t *l, const char *fmt, ...)
{
	if (l->overflow)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(l->buf + l->len, sizeof l->buf - l->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof l->buf - l->len) {
		l->overflow = true;
		return;
	}
	l->len += (size_t)n;
}

/* The TCP options present, as a JSON object in the order mss, wscale,
 * sack_perm, ts, sack (RFC 9293 §3.2, RFC 7323, RFC 2018). Always written,
 * "{}" when there are none. */
static void append_opts(line_t *l, const sf_tcp_opts_t *o)
{
	const char *sep = "";
	append(l, ",\"opts\":{");
	if (o->has_mss) {
		append(l, "%s\"mss\":%u", sep, (unsigned)o->mss);
		sep = ",";
	}
	if (o->has_wscale) {
		append(l, "%s\"wscale\":%u", sep, (unsigned)o->wscale);
		sep = ",";
	}
	if (o->sack_perm) {
		append(l, "%s\"sack_perm\":true", sep);
		sep = ",";
	}
	if (o->has_ts) {
		append(l, "%s\"ts\":[%" PRIu32 ",%" PRIu32 "]", sep, o->ts_val, o->ts_ecr);
		sep = ",";
	}
	unsigned cnt = o->sack_cnt <= SF_TCP_MAX_SACK ? o->sack_cnt : SF_TCP_MAX_SACK;
	if (cnt > 0) {
		append(l, "%s\"sack\":[", sep);
		for (unsigned i = 0; i < cnt; i++)
			append(l, "%s[%" PRIu32 ",%" PRIu32 "]", i ? "," : "", o->sack[i].left,
			       o->sack[i].right);
		append(l, "]");
	}
	append(l, "}");
}

/* The segment fields shared by seg_tx, seg_rx and drop (when has_seg). */
static void append_seg(line_t *l, const sf_ipv4_t *ip, const sf_tcp_t *tcp)
{
	char src[16], dst[16], flags[9];
	sf_ipv4_addr_str(ip->src, src);
	sf_ipv4_addr_str(ip->dst, dst);
	sf_tcp_flags_str(tcp->flags, flags);
	append(l,
	       ",\"src\":\"%s\",\"sport\":%u,\"dst\":\"%s\",\"dport\":%u,\"seq\":%" PRIu32
	       ",\"ack\":%" PRIu32 ",\"flags\":\"%s\",\"wnd\":%u,\"len\":%u",
	       src, (unsigned)tcp->sport, dst, (unsigned)tcp->dport, tcp->seq, tcp->ack, flags,
	       (unsigned)tcp->wnd, (unsigned)tcp->payload_len);
	/* RFC 9293 §3.1: the urgent pointer means something only with URG set. */
	if (tcp->flags & SF_TCP_URG)
		append(l, ",\"urg\":%u", (unsigned)tcp->urg);
	append_opts(l, &tcp->opt);
}

/* Builds the line for `ev` (newline included). Returns false if it overflowed,
 * which the fixed fields cannot make happen. */
static bool format_event(line_t *l, const sf_event_t *ev)
{
	l->len = 0;
	l->overflow = false;
	append(l, "{\"t_us\":%" PRId64 ",\"conn\":%" PRIu32 ",\"ev\":\"%s\"", ev->now_us,
	       ev->conn_id, sf_event_kind_name(ev->kind));
	switch (ev->kind) {
	case SF_EV_SEG_TX:
	case SF_EV_SEG_RX:
		append_seg(l, &ev->u.seg.ip, &ev->u.seg.tcp);
		if (ev->kind == SF_EV_SEG_TX && ev->u.seg.retx != SF_RETX_NONE)
			append(l, ",\"retx\":\"%s\"", sf_retx_cause_name(ev->u.seg.retx));
		if (ev->u.seg.segs > 1)
			append(l, ",\"segs\":%u", (unsigned)ev->u.seg.segs);
		break;
	case SF_EV_STATE:
		append(l, ",\"from\":\"%s\",\"to\":\"%s\",\"cause\":\"%s\"",
		       sf_state_name(ev->u.state.from), sf_state_name(ev->u.state.to),
		       sf_cause_name(ev->u.state.cause));
		break;
	case SF_EV_TIMER:
		append(l, ",\"timer\":\"%s\",\"count\":%" PRIu32, sf_timer_name(ev->u.timer.timer),
		       ev->u.timer.count);
		break;
	case SF_EV_DROP:
		append(l, ",\"reason\":\"%s\"", sf_drop_name(ev->drop));
		if (ev->has_seg)
			append_seg(l, &ev->u.seg.ip, &ev->u.seg.tcp);
		break;
	case SF_EV_CONN_NEW:
	case SF_EV_CONN_FREE:
	default: /* an unknown kind prints as "ev":"?" with the common fields only */
		break;
	}
	append(l, "}\n");
	return !l->overflow;
}

int sf_trace_json_write(FILE *out, const sf_event_t *ev)
{
	if (!out || !ev)
		return -1;
	line_t l;
	if (!format_event(&l, ev))
		return -1;
	if (fwrite(l.buf, 1, l.len, out) != l.len)
		return -1;
	return (int)l.len;
}

void sf_trace_json_sink(void *file, const sf_event_t *ev)
{
	/* A sink cannot report errors; a failing stream shows in ferror(). */
	(void)sf_trace_json_write((FILE *)file, ev);
}
