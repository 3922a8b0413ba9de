/* SVG rendering of a ladder diagram: nothing overlaps.
 *
 * Vertical layout: one slot (ROW_H pixels) per event. Every row gets the
 * slot of the instant it happened (a segment: when it was sent), and every
 * segment that arrived gets a second slot, at the instant it arrived, where
 * the receiver's state change is drawn. Arrival slots come before the rows
 * sent at the same instant (the arrival caused them); a segment whose
 * arrival time is not known (a side that is not traced) arrives in the slot
 * right below its own. So each arrow runs from the sender's lifeline at its
 * send slot to the receiver's at its arrival slot, slanted, and segments in
 * flight at the same time visibly cross (a simultaneous close, as in
 * Stevens' figures).
 *
 * Horizontal layout: time | left states | lifeline ... lifeline | right
 * states | notes column. Section titles sit in the notes column at the end
 * of their dashed rule. Labels are placed greedily: above the start of
 * their arrow, inside the lifelines, when that box is free of every line
 * (arrows, lost marks, lifelines, rules) and of every text placed so far;
 * otherwise in the notes column at their row's height, which nothing else
 * uses. So no two texts overlap and no line crosses a text, by construction
 * (tests/golden/svgcheck.py checks it on every scenario's SVG).
 *
 * All coordinates are integers computed from display widths (monospace,
 * CHAR_W pixels a column), so the bytes depend only on the model and the
 * options. The font size, 11.5 px, keeps the model an upper bound for the
 * fonts a browser picks for "monospace": DejaVu Sans Mono (Debian's) and
 * Liberation Mono advance 0.6 em, 6.9 px (at 12 px, 7.2 px: a 60-column
 * label overran its 420 px by 13 px in Chromium and crossed a lifeline),
 * and a CJK glyph 1 em, under its two columns' 14 px. Every piece of text
 * is XML-escaped.
 */
#include <stdlib.h>
#include <string.h>

#include "trace/ladder_int.h"

#define CHAR_W    7
#define ROW_H     26
#define TOP       84
#define MARGIN    16
#define BOX_H     18
#define SPAN      440 /* between the lifelines */
#define LABEL_CAP 512
#define TEXT_ASC  10 /* an 11.5 px text's box: baseline - TEXT_ASC .. + TEXT_DESC */
#define TEXT_DESC 3

#define NO_SLOT SIZE_MAX

struct box {
	int x0, y0, x1, y1;
};

struct seg {
	int x0, y0, x1, y1;
};

struct geo {
	struct box *boxes;
	size_t box_cnt, box_cap;
	struct seg *lines;
	size_t line_cnt, line_cap;
	bool nomem;
};

static void add_box(struct geo *g, struct box b)
{
	if (g->box_cnt == g->box_cap) {
		size_t n = g->box_cap ? g->box_cap * 2 : 64;
		struct box *v = realloc(g->boxes, n * sizeof *v);
		if (v == NULL) {
			g->nomem = true;
			return;
		}
		g->boxes = v;
		g->box_cap = n;
	}
	g->boxes[g->box_cnt++] = b;
}

static void add_line(struct geo *g, int x0, int y0, int x1, int y1)
{
	if (g->line_cnt == g->line_cap) {
		size_t n = g->line_cap ? g->line_cap * 2 : 64;
		struct seg *v = realloc(g->lines, n * sizeof *v);
		if (v == NULL) {
			g->nomem = true;
			return;
		}
		g->lines = v;
		g->line_cap = n;
	}
	g->lines[g->line_cnt++] = (struct seg){x0, y0, x1, y1};
}

static bool boxes_meet(struct box a, struct box b)
{
	return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

/* Liang-Barsky: does the segment enter the box (grown by 1 px)? */
static bool line_meets(struct seg s, struct box b)
{
	double x0 = s.x0, y0 = s.y0, dx = s.x1 - s.x0, dy = s.y1 - s.y0;
	double p[4] = {-dx, dx, -dy, dy};
	double q[4] = {x0 - (b.x0 - 1), (b.x1 + 1) - x0, y0 - (b.y0 - 1), (b.y1 + 1) - y0};
	double t0 = 0, t1 = 1;
	for (int i = 0; i < 4; i++) {
		if (p[i] == 0) {
			if (q[i] < 0)
				return false;
			continue;
		}
		double t = q[i] / p[i];
		if (p[i] < 0) {
			if (t > t1)
				return false;
			if (t > t0)
				t0 = t;
		} else {
			if (t < t0)
				return false;
			if (t < t1)
				t1 = t;
		}
	}
	return true;
}

static bool box_free(const struct geo *g, struct box b)
{
	for (size_t i = 0; i < g->box_cnt; i++)
		if (boxes_meet(g->boxes[i], b))
			return false;
	for (size_t i = 0; i < g->line_cnt; i++)
		if (line_meets(g->lines[i], b))
			return false;
	return true;
}

static int text_px(const char *s)
{
	return (int)sf_ladder_display_width(s) * CHAR_W;
}

/* The box a text takes, anchored at x ("start", "middle" or "end"). */
static struct box text_box(int x, int y, const char *anchor, const char *text)
{
	int w = text_px(text);
	int x0 = anchor[0] == 's' ? x : anchor[0] == 'm' ? x - w / 2 : x - w;
	return (struct box){x0, y - TEXT_ASC, x0 + w, y + TEXT_DESC};
}

static void put_text(FILE *out, int x, int y, const char *anchor, const char *attrs,
                     const char *text)
{
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\"%s%s>", x, y, anchor,
	        attrs[0] ? " " : "", attrs);
	sf_ladder_put_xml(out, text);
	fputs("</text>\n", out);
}

/* A text that others must not overlap. */
static void put_text_reserved(FILE *out, struct geo *g, int x, int y, const char *anchor,
                              const char *attrs, const char *text)
{
	add_box(g, text_box(x, y, anchor, text));
	put_text(out, x, y, anchor, attrs, text);
}

/* A state box beside a lifeline: left of x (side 0) or right of it. */
static void put_state_box(FILE *out, struct geo *g, int side, int x, int y, const char *name,
                          bool inferred)
{
	int w = text_px(name) + 12;
	int bx = side == 0 ? x - 8 - w : x + 8;
	fprintf(out,
	        "<rect class=\"state\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"4\" "
	        "fill=\"%s\" stroke=\"#4a6fa5\"%s/>\n",
	        bx, y - BOX_H / 2, w, BOX_H, inferred ? "#f6f6f6" : "#eef3fb",
	        inferred ? " stroke-dasharray=\"3 2\"" : "");
	add_box(g, (struct box){bx, y - BOX_H / 2, bx + w, y + BOX_H / 2});
	put_text(out, bx + w / 2, y + 4, "middle", "class=\"state\" fill=\"#1d3557\"", name);
}

/* ---- vertical layout ---- */

struct vlay {
	size_t *send;   /* slot of each row */
	size_t *arrive; /* slot where a segment arrived, NO_SLOT if it did not */
	size_t *sec;    /* slot of the section rule above row i, NO_SLOT if none */
	size_t slots;   /* slots used, the initial row included */
};

static bool arrives(const lrow_t *r)
{
	return r->kind == LROW_SEG && !r->lost;
}

/* Assigns slots: 0 is the initial states; then, in time, each row's own
 * slot, arrivals in between (see the top of the file). */
static int layout_rows(const sf_ladder_t *l, const int *sec, const uint8_t *hide, struct vlay *v)
{
	size_t n = l->row_cnt;
	v->send = malloc((n ? n : 1) * sizeof *v->send);
	v->arrive = malloc((n ? n : 1) * sizeof *v->arrive);
	v->sec = malloc((n ? n : 1) * sizeof *v->sec);
	size_t *pend = malloc((n ? n : 1) * sizeof *pend); /* arrivals not placed yet */
	if (!v->send || !v->arrive || !v->sec || !pend) {
		free(pend);
		return SF_ENOMEM;
	}
	size_t pend_cnt = 0, k = 1;
	for (size_t i = 0; i <= n; i++) {
		/* Arrivals due before row i: earlier than it, or at the same
		 * instant but after their own sending. Earliest first. */
		for (;;) {
			size_t best = NO_SLOT;
			for (size_t p = 0; p < pend_cnt; p++) {
				const lrow_t *r = &l->rows[pend[p]];
				bool due = i == n || r->t_rx_us < l->rows[i].t_us ||
				           (r->t_rx_us == l->rows[i].t_us && r->t_rx_us > r->t_us);
				/* pend is in row order: ties arrive first in, first out. */
				if (due &&
				    (best == NO_SLOT || r->t_rx_us < l->rows[pend[best]].t_rx_us))
					best = p;
			}
			if (best == NO_SLOT)
				break;
			v->arrive[pend[best]] = k++;
			memmove(pend + best, pend + best + 1, (pend_cnt - best - 1) * sizeof *pend);
			pend_cnt--;
		}
		if (i == n)
			break;
		const lrow_t *r = &l->rows[i];
		v->sec[i] = NO_SLOT;
		v->arrive[i] = NO_SLOT;
		if (hide[i]) {
			/* A collapsed run: one slot for its summary. */
			v->send[i] = hide[i] == 2 ? k++ : NO_SLOT;
			continue;
		}
		if (sec[i] != LSEC_NONE)
			v->sec[i] = k++;
		v->send[i] = k++;
		v->arrive[i] = NO_SLOT;
		if (!arrives(r))
			continue;
		if (r->t_rx_us <= r->t_us)
			v->arrive[i] = k++; /* not known: just below */
		else
			pend[pend_cnt++] = i;
	}
	v->slots = k;
	free(pend);
	return 0;
}

static int slot_y(size_t slot)
{
	return TOP + (int)slot * ROW_H;
}

int sf_ladder_render_svg(sf_ladder_t *l, const sf_ladder_opts_t *opts, FILE *out)
{
	const sf_ladder_opts_t *o;
	int err = sf_ladder_render_begin(l, opts, out, &o);
	if (err < 0)
		return err;
	bool zh = o->lang == SF_LADDER_LANG_ZH;
	char label[LABEL_CAP], tbuf[32], end0[96], end1[96], role[2][64];

	size_t n = l->row_cnt;
	int *sec = calloc(n ? n : 1, sizeof *sec);
	uint8_t *hide = calloc(n ? n : 1, 1);
	struct vlay v = {0};
	struct geo g = {0};
	if (sec == NULL || hide == NULL) {
		err = SF_ENOMEM;
		goto done;
	}
	sf_ladder_sections(l, sec);
	sf_ladder_collapse(l, sec, o->full, hide);
	err = layout_rows(l, sec, hide, &v);
	if (err < 0)
		goto done;

	/* Horizontal layout from the widest pieces. */
	sf_ladder_role_str(l, 0, o->lang, role[0], sizeof role[0]);
	sf_ladder_role_str(l, 1, o->lang, role[1], sizeof role[1]);
	const char *time_head = zh ? "时间(ms)" : "t(ms)";
	int time_px = text_px(time_head);
	int left_px = text_px(role[0]) / 2, right_px = text_px(role[1]) / 2;
	int col_px = 0;
	for (int s = 0; s < 2; s++) {
		int *px = s == 0 ? &left_px : &right_px;
		int a = text_px(sf_state_name(l->init[s])) + 12,
		    b = text_px(sf_state_name(l->final[s])) + 12;
		*px = *px > a ? *px : a;
		*px = *px > b ? *px : b;
	}
	for (size_t i = 0; i < n; i++) {
		const lrow_t *r = &l->rows[i];
		if (hide[i] == 2) {
			int w = text_px(
			        sf_ladder_collapse_text(l, hide, i, o->lang, label, sizeof label));
			col_px = w > col_px ? w : col_px;
		}
		if (hide[i])
			continue;
		int t = text_px(sf_ladder_time_str(l, r->t_us, tbuf, sizeof tbuf));
		time_px = t > time_px ? t : time_px;
		for (int s = 0; s < 2; s++) {
			if (!r->has_state[s])
				continue;
			int *px = s == 0 ? &left_px : &right_px;
			int w = text_px(sf_state_name(r->state[s])) + 12;
			*px = w > *px ? w : *px;
		}
		int need = 0;
		if (r->kind == LROW_SEG)
			need = text_px(sf_ladder_seg_label(l, r, o, label, sizeof label));
		else if (r->kind == LROW_NOTE)
			need = text_px(sf_ladder_note_text(r, o, label, sizeof label));
		if (sec[i] != LSEC_NONE) {
			int t2 = text_px(sf_ladder_section_title(sec[i], o->lang));
			need = need > t2 ? need : t2;
		}
		col_px = need > col_px ? need : col_px;
	}
	if (o->hide_time)
		time_px = 0;
	int time_x = MARGIN + time_px;
	int xl = time_x + 16 + left_px + 12;
	int xr = xl + SPAN;
	int col_x = xr + 12 + right_px + 24;
	int width = col_x + col_px + MARGIN;
	size_t final_slot = v.slots;
	int yf = slot_y(final_slot) + ROW_H / 2;
	int height = yf + ROW_H;

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fprintf(out,
	        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
	        "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"monospace\" "
	        "font-size=\"11.5\">\n",
	        width, height, width, height);
	fputs("<title>", out);
	sf_ladder_put_xml(out, zh ? "TCP 时序图：" : "TCP ladder: ");
	sf_ladder_put_xml(out, sf_ladder_end_str(l, 0, o->lang, end0, sizeof end0));
	sf_ladder_put_xml(out, " <-> ");
	sf_ladder_put_xml(out, sf_ladder_end_str(l, 1, o->lang, end1, sizeof end1));
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
		put_text_reserved(out, &g, x, 24, "middle", "font-weight=\"bold\"", role[s]);
		if (l->has_ep[s]) {
			char a[16], ep[32];
			snprintf(ep, sizeof ep, "%s:%u", sf_ipv4_addr_str(l->addr[s], a),
			         (unsigned)l->port[s]);
			put_text_reserved(out, &g, x, 40, "middle", "", ep);
		}
		fprintf(out,
		        "<line class=\"lifeline\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		        "stroke=\"#888888\" stroke-width=\"2\"/>\n",
		        x, 50, x, yf + 12);
		add_line(&g, x, 50, x, yf + 12);
	}
	if (!o->hide_time)
		put_text_reserved(out, &g, time_x, 60, "end", "fill=\"#666666\"", time_head);

	/* Lines first (section rules, arrows, lost marks), so labels can be
	 * placed clear of all of them. */
	for (size_t i = 0; i < n; i++) {
		const lrow_t *r = &l->rows[i];
		if (hide[i])
			continue;
		if (v.sec[i] != NO_SLOT) {
			const char *title = sf_ladder_section_title(sec[i], o->lang);
			int ys = slot_y(v.sec[i]);
			fprintf(out,
			        "<line class=\"section\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
			        "stroke=\"#999999\" stroke-dasharray=\"6 4\"/>\n",
			        MARGIN, ys, col_x - 8, ys);
			add_line(&g, MARGIN, ys, col_x - 8, ys);
			put_text_reserved(out, &g, col_x, ys + 4, "start",
			                  "class=\"section\" font-weight=\"bold\"", title);
		}
		if (r->kind != LROW_SEG)
			continue;
		/* Each row's pieces are grouped by data-row: the HTML page
		 * steps through them. */
		fprintf(out, "<g data-row=\"%zu\">\n", i);
		int y = slot_y(v.send[i]);
		int x1 = r->side == 0 ? xl : xr, x2 = r->side == 0 ? xr : xl;
		const char *color = r->lost || (r->tcp.flags & SF_TCP_RST) ? "#b00020"
		                    : r->retrans                           ? "#c05800"
		                                                           : "#222222";
		if (r->lost) {
			/* Vanishes three fifths of the way, half a slot down. */
			int xe = x1 + (x2 - x1) * 3 / 5, ye = y + ROW_H / 2;
			fprintf(out,
			        "<line class=\"seg lost\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
			        "stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>\n",
			        x1, y, xe, ye, color);
			fprintf(out,
			        "<path class=\"lost-mark\" d=\"M%d,%d L%d,%d M%d,%d L%d,%d\" "
			        "stroke=\"%s\" stroke-width=\"2\"/>\n",
			        xe - 5, ye - 5, xe + 5, ye + 5, xe - 5, ye + 5, xe + 5, ye - 5,
			        color);
			add_line(&g, x1, y, xe, ye);
			add_line(&g, xe - 5, ye - 5, xe + 5, ye + 5);
			add_line(&g, xe - 5, ye + 5, xe + 5, ye - 5);
		} else {
			int y2 = slot_y(v.arrive[i]);
			fprintf(out,
			        "<line class=\"seg\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
			        "stroke=\"%s\" stroke-width=\"1.5\"%s "
			        "marker-end=\"url(#head)\"/>\n",
			        x1, y, x2, y2, color,
			        r->retrans ? " stroke-dasharray=\"5 3\"" : "");
			add_line(&g, x1, y, x2, y2);
		}
		fputs("</g>\n", out);
	}

	/* Fixed texts: times and state boxes. */
	put_state_box(out, &g, 0, xl, slot_y(0), sf_state_name(l->init[0]), l->inferred[0]);
	put_state_box(out, &g, 1, xr, slot_y(0), sf_state_name(l->init[1]), l->inferred[1]);
	for (size_t i = 0; i < n; i++) {
		const lrow_t *r = &l->rows[i];
		if (hide[i])
			continue;
		int y = slot_y(v.send[i]);
		fprintf(out, "<g data-row=\"%zu\">\n", i);
		if (!o->hide_time)
			put_text_reserved(out, &g, time_x, y + 4, "end", "fill=\"#666666\"",
			                  sf_ladder_time_str(l, r->t_us, tbuf, sizeof tbuf));
		for (int s = 0; s < 2; s++) {
			if (!r->has_state[s])
				continue;
			/* A receiver's state changes when the segment arrives. */
			bool receiver = r->kind == LROW_SEG && r->side != s;
			int ys = receiver && v.arrive[i] != NO_SLOT ? slot_y(v.arrive[i]) : y;
			put_state_box(out, &g, s, s == 0 ? xl : xr, ys, sf_state_name(r->state[s]),
			              l->inferred[s]);
		}
		fputs("</g>\n", out);
	}
	if (!o->hide_time)
		put_text_reserved(out, &g, time_x, yf + 4, "end", "fill=\"#666666\"",
		                  zh ? "结束" : "end");
	put_state_box(out, &g, 0, xl, yf, sf_state_name(l->final[0]), l->inferred[0]);
	put_state_box(out, &g, 1, xr, yf, sf_state_name(l->final[1]), l->inferred[1]);

	/* Labels and notes: inside by their arrow or lifeline when free, else
	 * in the notes column at their row. */
	for (size_t i = 0; i < n; i++) {
		const lrow_t *r = &l->rows[i];
		if (hide[i] == 2)
			put_text_reserved(
			        out, &g, col_x, slot_y(v.send[i]) + 4, "start",
			        "class=\"note\" font-style=\"italic\" fill=\"#555555\"",
			        sf_ladder_collapse_text(l, hide, i, o->lang, label, sizeof label));
		if (hide[i])
			continue;
		int y = slot_y(v.send[i]);
		char attrs[96];
		if (r->kind == LROW_SEG) {
			const char *color = r->lost || (r->tcp.flags & SF_TCP_RST) ? "#b00020"
			                    : r->retrans                           ? "#c05800"
			                                                           : "#222222";
			snprintf(attrs, sizeof attrs, "class=\"label\" fill=\"%s\"", color);
			sf_ladder_seg_label(l, r, o, label, sizeof label);
		} else if (r->kind == LROW_NOTE) {
			snprintf(attrs, sizeof attrs,
			         "class=\"note\" font-style=\"italic\" fill=\"#555555\"");
			sf_ladder_note_text(r, o, label, sizeof label);
		} else {
			continue;
		}
		/* Above the arrow's start (a note: on its row), by its side. */
		int yi = r->kind == LROW_SEG ? y - 5 : y + 4;
		int xi = r->side == 0 ? xl + 10 : xr - 10;
		const char *anchor = r->side == 0 ? "start" : "end";
		struct box b = text_box(xi, yi, anchor, label);
		fprintf(out, "<g data-row=\"%zu\">\n", i);
		if (b.x0 > xl + 4 && b.x1 < xr - 4 && box_free(&g, b)) {
			put_text_reserved(out, &g, xi, yi, anchor, attrs, label);
		} else {
			put_text_reserved(out, &g, col_x, y + 4, "start", attrs, label);
		}
		fputs("</g>\n", out);
	}
	fputs("</svg>\n", out);
	err = g.nomem ? SF_ENOMEM : 0;
done:
	free(sec);
	free(hide);
	free(v.send);
	free(v.arrive);
	free(v.sec);
	free(g.boxes);
	free(g.lines);
	return err;
}
