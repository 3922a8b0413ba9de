/* SVG rendering of a ladder diagram.
 *
 * The same rows as the text renderer (sections, initial and final rows
 * included), one band of ROW_H pixels each, drawn as a standalone SVG 1.1
 * document: the two ends' names on top, two vertical lifelines, one arrow
 * per segment from the sender's lifeline at the row it was sent to the
 * receiver's lifeline at the row where it arrived (sloped: later arrivals
 * land lower) labelled above its start, a red X where a lost segment
 * vanished, state boxes next to
 * the lifelines, notes in italics and dashed rules for the sections. All
 * coordinates are integers computed from display widths (monospace font,
 * CHAR_W pixels a column), so the bytes depend only on the model and the
 * options. Every piece of text is XML-escaped.
 */
#include <stdlib.h>
#include <string.h>

#include "trace/ladder_int.h"

#define CHAR_W    7
#define ROW_H     34
#define SLOPE     16 /* drop of an arrow that arrives in the row it was sent */
#define TOP       86
#define MARGIN    16
#define BOX_H     18
#define LABEL_CAP 512

static void put_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&apos;", out);
			break;
		default:
			/* XML 1.0 allows no C0 controls but tab/LF/CR. */
			if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r')
				fputc('?', out);
			else
				fputc(*s, out);
		}
	}
}

static void put_text(FILE *out, int x, int y, const char *anchor, const char *attrs,
                     const char *text)
{
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\"%s%s>", x, y, anchor,
	        attrs[0] ? " " : "", attrs);
	put_escaped(out, text);
	fputs("</text>\n", out);
}

static int text_px(const char *s)
{
	return (int)sf_ladder_display_width(s) * CHAR_W;
}

/* A state box beside a lifeline: left of x (side 0) or right of it. */
static void put_state_box(FILE *out, int side, int x, int y, const char *name)
{
	int w = text_px(name) + 12;
	int bx = side == 0 ? x - 8 - w : x + 8;
	fprintf(out,
	        "<rect class=\"state\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"4\" "
	        "fill=\"#eef3fb\" stroke=\"#4a6fa5\"/>\n",
	        bx, y - BOX_H / 2, w, BOX_H);
	put_text(out, bx + w / 2, y + 4, "middle", "class=\"state\" fill=\"#1d3557\"", name);
}

static int row_y(size_t disp)
{
	return TOP + (int)disp * ROW_H;
}

int sf_ladder_render_svg(sf_ladder_t *l, const sf_ladder_opts_t *opts, FILE *out)
{
	static const sf_ladder_opts_t defaults;
	if (l == NULL || out == NULL)
		return SF_EINVAL;
	if (l->nomem)
		return SF_ENOMEM;
	int err = sf_ladder_build(l);
	if (err < 0)
		return err;
	const sf_ladder_opts_t *o = opts ? opts : &defaults;
	bool zh = o->lang == SF_LADDER_LANG_ZH;
	char label[LABEL_CAP], tbuf[32], end0[96], end1[96];

	size_t n = l->row_cnt;
	int *sec = calloc(n ? n : 1, sizeof *sec);
	size_t *disp = calloc(n ? n : 1, sizeof *disp);
	if (sec == NULL || disp == NULL) {
		free(sec);
		free(disp);
		return SF_ENOMEM;
	}
	sf_ladder_sections(l, sec);

	/* Display positions: 0 is the initial row, then sections and rows. */
	size_t k = 1;
	for (size_t i = 0; i < n; i++) {
		if (sec[i] != LSEC_NONE)
			k++;
		disp[i] = k++;
	}
	size_t final_disp = k;

	/* Horizontal layout from the widest pieces. */
	int time_px = text_px(zh ? "时间(ms)" : "t(ms)");
	char role[2][64];
	sf_ladder_role_str(l, 0, o->lang, role[0], sizeof role[0]);
	sf_ladder_role_str(l, 1, o->lang, role[1], sizeof role[1]);
	int left_px = text_px(role[0]) / 2;
	int right_px = text_px(role[1]) / 2;
	int span = 400;
	for (int s = 0; s < 2; s++) {
		int *px = s == 0 ? &left_px : &right_px;
		int a = text_px(sf_state_name(l->init[s])), b = text_px(sf_state_name(l->final[s]));
		*px = *px > a ? *px : a;
		*px = *px > b ? *px : b;
	}
	for (size_t i = 0; i < n; i++) {
		const lrow_t *r = &l->rows[i];
		int t = text_px(sf_ladder_time_str(l, r->t_us, tbuf, sizeof tbuf));
		time_px = t > time_px ? t : time_px;
		for (int s = 0; s < 2; s++) {
			if (!r->has_state[s])
				continue;
			int *px = s == 0 ? &left_px : &right_px;
			int w = text_px(sf_state_name(r->state[s]));
			*px = w > *px ? w : *px;
		}
		int need = 0;
		if (r->kind == LROW_SEG)
			need = text_px(sf_ladder_seg_label(l, r, o, label, sizeof label)) + 40;
		else if (r->kind == LROW_NOTE)
			need = text_px(sf_ladder_note_text(r, o, label, sizeof label)) + 24;
		span = need > span ? need : span;
	}
	if (o->hide_time)
		time_px = 0;
	int time_x = MARGIN + time_px;
	int xl = time_x + 24 + left_px + 20;
	int xr = xl + span;
	int width = xr + 20 + right_px + MARGIN;
	/* The final row keeps half a band from the last arrival's state box. */
	int yf = row_y(final_disp) + ROW_H / 2;
	int height = yf + ROW_H;

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fprintf(out,
	        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
	        "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"monospace\" "
	        "font-size=\"12\">\n",
	        width, height, width, height);
	fputs("<title>", out);
	put_escaped(out, zh ? "TCP 时序图：" : "TCP ladder: ");
	put_escaped(out, sf_ladder_end_str(l, 0, o->lang, end0, sizeof end0));
	put_escaped(out, " <-> ");
	put_escaped(out, sf_ladder_end_str(l, 1, o->lang, end1, sizeof end1));
	fputs("</title>\n", out);
	fputs("<defs>\n"
	      "<marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" "
	      "markerHeight=\"8\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" "
	      "fill=\"#222222\"/></marker>\n"
	      "</defs>\n",
	      out);
	fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", width,
	        height);

	/* Header: both ends, their addresses, lifelines. */
	for (int s = 0; s < 2; s++) {
		int x = s == 0 ? xl : xr;
		put_text(out, x, 24, "middle", "font-weight=\"bold\"", role[s]);
		if (l->has_ep[s]) {
			char a[16], ep[32];
			snprintf(ep, sizeof ep, "%s:%u", sf_ipv4_addr_str(l->addr[s], a),
			         (unsigned)l->port[s]);
			put_text(out, x, 40, "middle", "", ep);
		}
		fprintf(out,
		        "<line class=\"lifeline\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		        "stroke=\"#888888\" stroke-width=\"2\"/>\n",
		        x, 50, x, yf + 12);
	}
	if (!o->hide_time)
		put_text(out, time_x, 60, "end", "fill=\"#666666\"", zh ? "时间(ms)" : "t(ms)");

	/* Initial states. */
	put_state_box(out, 0, xl, row_y(0), sf_state_name(l->init[0]));
	put_state_box(out, 1, xr, row_y(0), sf_state_name(l->init[1]));

	for (size_t i = 0; i < n; i++) {
		const lrow_t *r = &l->rows[i];
		int y = row_y(disp[i]);
		if (sec[i] != LSEC_NONE) {
			const char *title = sf_ladder_section_title(sec[i], o->lang);
			int ys = row_y(disp[i] - 1);
			int tw = text_px(title) + 16;
			fprintf(out,
			        "<line class=\"section\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
			        "stroke=\"#999999\" stroke-dasharray=\"6 4\"/>\n",
			        MARGIN, ys, width - MARGIN, ys);
			fprintf(out,
			        "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"16\" "
			        "fill=\"#ffffff\"/>\n",
			        (xl + xr) / 2 - tw / 2, ys - 8, tw);
			put_text(out, (xl + xr) / 2, ys + 4, "middle",
			         "class=\"section\" font-weight=\"bold\"", title);
		}
		if (!o->hide_time)
			put_text(out, time_x, y + 4, "end", "fill=\"#666666\"",
			         sf_ladder_time_str(l, r->t_us, tbuf, sizeof tbuf));
		int y_rx = y;
		if (r->kind == LROW_SEG) {
			/* The receiving end: in the band of the last row sent
			 * before the segment arrived. */
			size_t j = i;
			if (r->t_rx_us > r->t_us)
				while (j + 1 < n && l->rows[j + 1].t_us < r->t_rx_us)
					j++;
			y_rx = row_y(disp[j]) + SLOPE;
			int x1 = r->side == 0 ? xl : xr, x2 = r->side == 0 ? xr : xl;
			const char *color = r->lost || (r->tcp.flags & SF_TCP_RST) ? "#b00020"
			                    : r->retrans                           ? "#c05800"
			                                                           : "#222222";
			sf_ladder_seg_label(l, r, o, label, sizeof label);
			if (r->lost) {
				int xe = x1 + (x2 - x1) * 3 / 5, ye = y + (y_rx - y) * 3 / 5;
				fprintf(out,
				        "<line class=\"seg lost\" x1=\"%d\" y1=\"%d\" x2=\"%d\" "
				        "y2=\"%d\" stroke=\"%s\" stroke-width=\"1.5\" "
				        "stroke-dasharray=\"5 3\"/>\n",
				        x1, y, xe, ye, color);
				fprintf(out,
				        "<path class=\"lost-mark\" d=\"M%d,%d L%d,%d M%d,%d "
				        "L%d,%d\" "
				        "stroke=\"%s\" stroke-width=\"2\"/>\n",
				        xe - 5, ye - 5, xe + 5, ye + 5, xe - 5, ye + 5, xe + 5,
				        ye - 5, color);
			} else {
				fprintf(out,
				        "<line class=\"seg\" x1=\"%d\" y1=\"%d\" x2=\"%d\" "
				        "y2=\"%d\" "
				        "stroke=\"%s\" stroke-width=\"1.5\"%s "
				        "marker-end=\"url(#head)\"/>\n",
				        x1, y, x2, y_rx, color,
				        r->retrans ? " stroke-dasharray=\"5 3\"" : "");
			}
			char attrs[64];
			snprintf(attrs, sizeof attrs, "class=\"label\" fill=\"%s\"", color);
			/* Above the start of the arrow, next to its sender: every
			 * row starts one arrow, so labels of crossing arrows never
			 * collide. */
			if (r->side == 0)
				put_text(out, xl + 12, y - 4, "start", attrs, label);
			else
				put_text(out, xr - 12, y - 4, "end", attrs, label);
		} else if (r->kind == LROW_NOTE) {
			sf_ladder_note_text(r, o, label, sizeof label);
			if (r->side == 0)
				put_text(out, xl + 8, y + 4, "start",
				         "class=\"note\" font-style=\"italic\" fill=\"#555555\"",
				         label);
			else
				put_text(out, xr - 8, y + 4, "end",
				         "class=\"note\" font-style=\"italic\" fill=\"#555555\"",
				         label);
		}
		for (int s = 0; s < 2; s++) {
			if (!r->has_state[s])
				continue;
			/* A receiver's state changes when the segment arrives. */
			bool receiver = r->kind == LROW_SEG && r->side != s;
			put_state_box(out, s, s == 0 ? xl : xr, receiver ? y_rx : y,
			              sf_state_name(r->state[s]));
		}
	}

	if (!o->hide_time)
		put_text(out, time_x, yf + 4, "end", "fill=\"#666666\"", zh ? "结束" : "end");
	put_state_box(out, 0, xl, yf, sf_state_name(l->final[0]));
	put_state_box(out, 1, xr, yf, sf_state_name(l->final[1]));
	fputs("</svg>\n", out);
	free(sec);
	free(disp);
	return 0;
}
