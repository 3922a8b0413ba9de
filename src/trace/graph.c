/* Time-sequence graph of a ladder (Stevens' and tcptrace's): the sequence
 * numbers of one direction's data against time.
 *
 * The direction drawn is the one that carried more payload (the client's
 * on a tie). Each data segment is an I-beam from its first to its last
 * byte at the time it was sent: black, orange when a retransmission, red
 * and ending in an X when lost. The receiver's acknowledgments are a green
 * step line (the ACK number at the time each ACK was sent), its advertised
 * window a yellow step line above it (ACK + window in bytes), and its SACK
 * blocks short purple bars. Sequence numbers are relative to the sender's
 * ISN, time to the first row. Integers only: the same ladder gives the
 * same bytes.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "trace/ladder_int.h"

#define GW     760 /* plot area */
#define GH     440
#define GX     86 /* its left edge */
#define GY     56 /* its top edge */
#define MARGIN 24

struct scale {
	int64_t t0, t1;
	uint64_t s1; /* highest relative sequence number shown */
};

static int xof(const struct scale *k, int64_t t)
{
	int64_t span = k->t1 > k->t0 ? k->t1 - k->t0 : 1;
	return GX + (int)((t - k->t0) * GW / span);
}

static int yof(const struct scale *k, uint64_t s)
{
	uint64_t span = k->s1 ? k->s1 : 1;
	if (s > span)
		s = span;
	return GY + GH - (int)(s * GH / span);
}

/* A sequence number of the sender's space, relative to its ISN. */
static uint64_t rel(const sf_ladder_t *l, int s, uint32_t v)
{
	return l->has_isn[s] ? (uint32_t)(v - l->isn[s]) : v;
}

int sf_ladder_render_graph(sf_ladder_t *l, const sf_ladder_opts_t *opts, FILE *out)
{
	const sf_ladder_opts_t *o;
	int err = sf_ladder_render_begin(l, opts, out, &o);
	if (err < 0)
		return err;
	bool zh = o->lang == SF_LADDER_LANG_ZH;

	/* The direction: the side that sent more payload. */
	uint64_t bytes[2] = {0, 0};
	for (size_t i = 0; i < l->row_cnt; i++)
		if (l->rows[i].kind == LROW_SEG)
			bytes[l->rows[i].side] += l->rows[i].tcp.payload_len;
	int snd = bytes[1] > bytes[0] ? 1 : 0, rcv = 1 - snd;

	struct scale k = {l->t0_us, l->t0_us, 1};
	for (size_t i = 0; i < l->row_cnt; i++) {
		const lrow_t *r = &l->rows[i];
		if (r->kind != LROW_SEG || (r->tcp.flags & SF_TCP_RST))
			continue;
		if (r->t_us > k.t1)
			k.t1 = r->t_us;
		uint64_t top = 0;
		if (r->side == snd)
			top = rel(l, snd, r->tcp.seq) + sf_tcp_seg_len(&r->tcp);
		else if (r->tcp.flags & SF_TCP_ACK)
			top = rel(l, snd, r->tcp.ack) + sf_ladder_win_bytes(l, r);
		if (top > k.s1 && top < ((uint64_t)1 << 31))
			k.s1 = top;
	}
	int width = GX + GW + MARGIN, height = GY + GH + 48;
	char a[16], b[16];
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fprintf(out,
	        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
	        "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"monospace\" "
	        "font-size=\"12\">\n",
	        width, height, width, height);
	fprintf(out, "<title>%s %s:%u &gt; %s:%u</title>\n",
	        zh ? "时间-序号图" : "time-sequence graph", sf_ipv4_addr_str(l->addr[snd], a),
	        (unsigned)l->port[snd], sf_ipv4_addr_str(l->addr[rcv], b), (unsigned)l->port[rcv]);
	fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", width,
	        height);
	fprintf(out,
	        "<text x=\"%d\" y=\"20\" font-weight=\"bold\">%s%s:%u &gt; %s:%u (%s)</text>\n", GX,
	        zh ? "时间-序号图：" : "time-sequence graph: ", a, (unsigned)l->port[snd], b,
	        (unsigned)l->port[rcv], sf_ladder_role(snd, o->lang));
	fprintf(out, "<text x=\"%d\" y=\"38\" fill=\"#555555\">%s</text>\n", GX,
	        zh ? "黑：数据段  橙：重传  红 X：丢失  绿：ACK  黄：ACK+窗口  紫：SACK"
	           : "black: data  orange: retransmission  red X: lost  green: ACK  yellow: "
	             "ACK + window  purple: SACK");
	/* Axes and ticks. */
	fprintf(out,
	        "<path class=\"axis\" d=\"M%d,%d L%d,%d L%d,%d\" fill=\"none\" "
	        "stroke=\"#444444\"/>\n",
	        GX, GY, GX, GY + GH, GX + GW, GY + GH);
	for (int i = 0; i <= 4; i++) {
		int64_t t = k.t0 + (k.t1 - k.t0) * i / 4;
		int x = xof(&k, t);
		char tb[32];
		fprintf(out,
		        "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444444\"/>"
		        "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
		        "fill=\"#555555\">%s</text>\n",
		        x, GY + GH, x, GY + GH + 5, x, GY + GH + 18,
		        sf_ladder_time_str(l, t, tb, sizeof tb));
		uint64_t s = k.s1 * (uint64_t)i / 4;
		int y = yof(&k, s);
		fprintf(out,
		        "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444444\"/>"
		        "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#555555\">%" PRIu64
		        "</text>\n",
		        GX - 5, y, GX, y, GX - 8, y + 4, s);
	}
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#555555\">%s</text>\n",
	        GX + GW / 2, GY + GH + 36, zh ? "时间 (ms)" : "time (ms)");
	fprintf(out, "<text x=\"%d\" y=\"%d\" fill=\"#555555\">%s</text>\n", 8, GY - 6,
	        zh ? "序号" : "seq");

	/* The receiver's ACK and window lines: steps. */
	bool have = false;
	int ax = 0, ay = 0, wy = 0;
	fputs("<g class=\"acks\" fill=\"none\">\n", out);
	for (size_t i = 0; i < l->row_cnt; i++) {
		const lrow_t *r = &l->rows[i];
		if (r->kind != LROW_SEG || r->side != rcv || !(r->tcp.flags & SF_TCP_ACK) ||
		    (r->tcp.flags & SF_TCP_RST))
			continue;
		uint64_t ack = rel(l, snd, r->tcp.ack);
		int x = xof(&k, r->t_us), y = yof(&k, ack),
		    y2 = yof(&k, ack + sf_ladder_win_bytes(l, r));
		if (have) {
			fprintf(out,
			        "<path class=\"ack\" d=\"M%d,%d L%d,%d L%d,%d\" "
			        "stroke=\"#2a9d2a\"/>\n",
			        ax, ay, x, ay, x, y);
			fprintf(out,
			        "<path class=\"win\" d=\"M%d,%d L%d,%d L%d,%d\" "
			        "stroke=\"#d4a017\"/>\n",
			        ax, wy, x, wy, x, y2);
		}
		for (uint8_t s = 0; s < r->tcp.opt.sack_cnt && s < SF_TCP_MAX_SACK; s++)
			fprintf(out,
			        "<line class=\"sack\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
			        "stroke=\"#7b2cbf\" stroke-width=\"3\"/>\n",
			        x + 2, yof(&k, rel(l, snd, r->tcp.opt.sack[s].left)), x + 2,
			        yof(&k, rel(l, snd, r->tcp.opt.sack[s].right)));
		have = true;
		ax = x;
		ay = y;
		wy = y2;
	}
	if (have) {
		fprintf(out, "<path class=\"ack\" d=\"M%d,%d L%d,%d\" stroke=\"#2a9d2a\"/>\n", ax,
		        ay, GX + GW, ay);
		fprintf(out, "<path class=\"win\" d=\"M%d,%d L%d,%d\" stroke=\"#d4a017\"/>\n", ax,
		        wy, GX + GW, wy);
	}
	fputs("</g>\n", out);

	/* The sender's segments: I-beams. */
	for (size_t i = 0; i < l->row_cnt; i++) {
		const lrow_t *r = &l->rows[i];
		uint32_t len = r->kind == LROW_SEG ? sf_tcp_seg_len(&r->tcp) : 0;
		if (r->kind != LROW_SEG || r->side != snd || len == 0)
			continue;
		uint64_t s0 = rel(l, snd, r->tcp.seq);
		int x = xof(&k, r->t_us), y0 = yof(&k, s0), y1 = yof(&k, s0 + len);
		if (y0 - y1 < 2)
			y1 = y0 - 2;
		const char *c = r->lost ? "#b00020" : r->retrans ? "#c05800" : "#222222";
		fprintf(out,
		        "<path class=\"seg%s%s\" d=\"M%d,%d L%d,%d M%d,%d L%d,%d M%d,%d L%d,%d\" "
		        "stroke=\"%s\"%s/>\n",
		        r->lost ? " lost" : "", r->retrans ? " retrans" : "", x, y0, x, y1, x - 2,
		        y0, x + 2, y0, x - 2, y1, x + 2, y1, c,
		        r->lost ? " stroke-dasharray=\"2 1\"" : "");
		if (r->lost)
			fprintf(out,
			        "<path class=\"lost-mark\" d=\"M%d,%d L%d,%d M%d,%d L%d,%d\" "
			        "stroke=\"#b00020\" stroke-width=\"2\"/>\n",
			        x - 4, y1 - 8, x + 4, y1, x - 4, y1, x + 4, y1 - 8);
	}
	fputs("</svg>\n", out);
	return 0;
}
