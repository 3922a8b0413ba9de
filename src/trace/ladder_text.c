/* Text rendering of a ladder diagram.
 *
 * One line per row, in five columns:
 *
 *   time (ms) | left state | lifeline, arrow or note, lifeline | right state
 *
 *      0.000   SYN-SENT |---- SYN seq=0 win=64240 mss=1460 ---->|
 *      0.103 ESTABLISHED |<--- SYN+ACK seq=0 ack=1 win=65535 ----| SYN-RECEIVED
 *
 * The left states are right-aligned against the left lifeline, the right
 * states left-aligned after the right one. Widths are measured in display
 * columns (sf_ladder_display_width), so Chinese labels line up in a
 * terminal. Section titles are rules across the arrow area; the first line
 * under the header gives both initial states and the last both final
 * states. Lines never end in blanks, and nothing depends on the locale or
 * the clock, so the output is byte-for-byte stable.
 */
#include <stdlib.h>
#include <string.h>

#include "trace/ladder_int.h"

#define LABEL_CAP 512
#define MIN_AREA  40

/* A growable line. */
struct line {
	char *buf;
	size_t len, cap;
	bool nomem;
};

static void line_add_n(struct line *ln, const char *s, size_t n)
{
	if (ln->nomem)
		return;
	if (ln->len + n + 1 > ln->cap) {
		size_t ncap = ln->cap ? ln->cap : 256;
		while (ln->len + n + 1 > ncap)
			ncap *= 2;
		char *b = realloc(ln->buf, ncap);
		if (b == NULL) {
			ln->nomem = true;
			return;
		}
		ln->buf = b;
		ln->cap = ncap;
	}
	memcpy(ln->buf + ln->len, s, n);
	ln->len += n;
	ln->buf[ln->len] = '\0';
}

static void line_add(struct line *ln, const char *s)
{
	line_add_n(ln, s, strlen(s));
}

static void line_repeat(struct line *ln, char c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		line_add_n(ln, &c, 1);
}

/* s, padded with blanks to `width` columns on the left or the right. */
static void line_pad(struct line *ln, const char *s, size_t width, bool right_align)
{
	size_t w = sf_ladder_display_width(s);
	size_t pad = w < width ? width - w : 0;
	if (right_align)
		line_repeat(ln, ' ', pad);
	line_add(ln, s);
	if (!right_align)
		line_repeat(ln, ' ', pad);
}

/* Writes the line without trailing blanks and starts a new one. */
static void line_flush(struct line *ln, FILE *out)
{
	if (!ln->nomem) {
		size_t n = ln->len;
		while (n > 0 && ln->buf[n - 1] == ' ')
			n--;
		if (n > 0)
			fwrite(ln->buf, 1, n, out);
		fputc('\n', out);
	}
	ln->len = 0;
	if (ln->buf)
		ln->buf[0] = '\0';
}

struct layout {
	size_t time_w, left_w, area_w;
	const sf_ladder_opts_t *o;
	bool cut; /* labels longer than the area are cut to fit */
};

/* One row: time, left cell, the arrow area (already `area_w` columns
 * wide), right cell. `lifelines` false blanks the lifelines (header). */
static void put_row(struct line *ln, const struct layout *lay, const char *time, const char *left,
                    const char *area, const char *right, bool lifelines)
{
	line_pad(ln, lay->o->hide_time ? "" : time, lay->time_w, true);
	line_add(ln, "  ");
	line_pad(ln, left, lay->left_w, true);
	line_add(ln, lifelines ? " |" : "  ");
	line_add(ln, area);
	line_add(ln, lifelines ? "| " : "  ");
	line_add(ln, right);
}

static const char *state_cell(const lrow_t *r, int s)
{
	return r->has_state[s] ? sf_state_name(r->state[s]) : "";
}

/* The arrow of a segment row, `w` columns wide. */
static void build_arrow(struct line *a, const lrow_t *r, const char *label, size_t w)
{
	size_t lw = sf_ladder_display_width(label);
	if (r->side == 0) {
		/* ---- label ------>|   or   ---- label ---X   | */
		line_add(a, "---- ");
		line_add(a, label);
		line_add(a, " ");
		size_t used = 5 + lw + 1;
		size_t tail = r->lost ? 4 : 1;
		line_repeat(a, '-', w > used + tail ? w - used - tail : 1);
		line_add(a, r->lost ? "X   " : ">");
	} else {
		/* |<--- label ------   or   |   X--- label ------ */
		line_add(a, r->lost ? "   X--- " : "<--- ");
		line_add(a, label);
		line_add(a, " ");
		size_t used = (r->lost ? 8 : 5) + lw + 1;
		line_repeat(a, '-', w > used ? w - used : 1);
	}
}

static void build_note(struct line *a, const lrow_t *r, const char *text, size_t w)
{
	size_t tw = sf_ladder_display_width(text) + 3;
	if (r->side == 0) {
		line_add(a, " * ");
		line_add(a, text);
		line_repeat(a, ' ', w > tw ? w - tw : 0);
	} else {
		line_repeat(a, ' ', w > tw ? w - tw : 0);
		line_add(a, text);
		line_add(a, " * ");
	}
}

static void build_rule(struct line *a, const char *title, size_t w)
{
	size_t tw = sf_ladder_display_width(title) + 2;
	size_t left = w > tw ? (w - tw) / 2 : 0;
	size_t right = w > tw + left ? w - tw - left : 0;
	line_repeat(a, '=', left);
	line_add(a, " ");
	line_add(a, title);
	line_add(a, " ");
	line_repeat(a, '=', right);
}

static void max_width(size_t *w, const char *s)
{
	size_t n = sf_ladder_display_width(s);
	if (n > *w)
		*w = n;
}

/* Column widths for the rows with options `o`; *right_w is the widest right
 * state (the last column is not padded, but counts for the width). */
static void compute_layout(const sf_ladder_t *l, const sf_ladder_opts_t *o, const int *sec,
                           const uint8_t *hide, struct layout *out, size_t *right_w)
{
	bool zh = o->lang == SF_LADDER_LANG_ZH;
	char label[LABEL_CAP], tbuf[32];
	struct layout lay = {0, 0, MIN_AREA, o, 0};
	const char *time_head = zh ? "时间(ms)" : "t(ms)";
	const char *end_head = zh ? "结束" : "end";
	max_width(&lay.time_w, time_head);
	max_width(&lay.time_w, end_head);
	char role0[64], role1[64];
	sf_ladder_role_str(l, 0, o->lang, role0, sizeof role0);
	sf_ladder_role_str(l, 1, o->lang, role1, sizeof role1);
	max_width(&lay.left_w, role0);
	max_width(&lay.left_w, sf_state_name(l->init[0]));
	max_width(&lay.left_w, sf_state_name(l->final[0]));
	*right_w = 0;
	max_width(right_w, role1);
	max_width(right_w, sf_state_name(l->init[1]));
	max_width(right_w, sf_state_name(l->final[1]));
	for (size_t i = 0; i < l->row_cnt; i++) {
		const lrow_t *r = &l->rows[i];
		if (hide[i] == 2) {
			size_t need = sf_ladder_display_width(sf_ladder_collapse_text(
			                      l, hide, i, o->lang, label, sizeof label)) +
			              4;
			if (need > lay.area_w)
				lay.area_w = need;
		}
		if (hide[i])
			continue;
		max_width(&lay.time_w, sf_ladder_time_str(l, r->t_us, tbuf, sizeof tbuf));
		max_width(&lay.left_w, state_cell(r, 0));
		max_width(right_w, state_cell(r, 1));
		size_t need = 0;
		if (r->kind == LROW_SEG)
			need = sf_ladder_display_width(
			               sf_ladder_seg_label(l, r, o, label, sizeof label)) +
			       12;
		else if (r->kind == LROW_NOTE)
			need = sf_ladder_display_width(
			               sf_ladder_note_text(r, o, label, sizeof label)) +
			       4;
		if (sec[i] != LSEC_NONE) {
			size_t t =
			        sf_ladder_display_width(sf_ladder_section_title(sec[i], o->lang)) +
			        8;
			need = need > t ? need : t;
		}
		if (need > lay.area_w)
			lay.area_w = need;
	}
	if (o->hide_time)
		lay.time_w = 0;
	*out = lay;
}

static size_t total_width(const struct layout *lay, size_t right_w)
{
	return lay->time_w + 2 + lay->left_w + 2 + lay->area_w + 2 + right_w;
}

/* s cut to at most `max` display columns, ending in "…" when cut. */
static void cut_plain(char *s, size_t max)
{
	if (sf_ladder_display_width(s) <= max || max < 2)
		return;
	size_t used = 0, i = 0;
	char one[8];
	while (s[i]) {
		size_t n = 1;
		while (s[i + n] && ((unsigned char)s[i + n] & 0xc0) == 0x80)
			n++;
		size_t k = n < sizeof one ? n : sizeof one - 1;
		memcpy(one, s + i, k);
		one[k] = '\0';
		size_t w = sf_ladder_display_width(one);
		if (used + w > max - 1)
			break;
		used += w;
		i += n;
	}
	memcpy(s + i, "…", sizeof "…");
}

/* A label cut to `max` columns: the headers are cut, the marks after them
 * (" (lost)", "（重传）"...) are what a learner needs most and are kept. */
static void cut_label(char *s, size_t max)
{
	if (sf_ladder_display_width(s) <= max)
		return;
	char *a = strstr(s, " ("), *b = strstr(s, "（");
	char *marks = a && (!b || a < b) ? a : b;
	if (marks == NULL) {
		cut_plain(s, max);
		return;
	}
	char tail[LABEL_CAP];
	snprintf(tail, sizeof tail, "%s", marks);
	size_t tw = sf_ladder_display_width(tail);
	if (tw + 4 > max) {
		cut_plain(s, max);
		return;
	}
	*marks = '\0';
	cut_plain(s, max - tw);
	size_t len = strlen(s);
	snprintf(s + len, LABEL_CAP - len, "%s", tail);
}

int sf_ladder_render_text(sf_ladder_t *l, const sf_ladder_opts_t *opts, FILE *out)
{
	const sf_ladder_opts_t *o;
	int err = sf_ladder_render_begin(l, opts, out, &o);
	if (err < 0)
		return err;
	bool zh = o->lang == SF_LADDER_LANG_ZH;
	char label[LABEL_CAP], tbuf[32];

	int *sec = calloc(l->row_cnt ? l->row_cnt : 1, sizeof *sec);
	uint8_t *hide = calloc(l->row_cnt ? l->row_cnt : 1, 1);
	if (sec == NULL || hide == NULL) {
		free(sec);
		free(hide);
		return SF_ENOMEM;
	}
	sf_ladder_sections(l, sec);
	sf_ladder_collapse(l, sec, o->full, hide);

	/* Column widths; to fit o->width when it can: SYN options left out,
	 * then windows, then labels cut. */
	sf_ladder_opts_t fit = *o;
	struct layout lay;
	size_t right_w;
	compute_layout(l, &fit, sec, hide, &lay, &right_w);
	for (int level = 1; o->width && total_width(&lay, right_w) > o->width && level <= 2;
	     level++) {
		if (level == 1)
			fit.hide_options = true;
		else
			fit.hide_win = true;
		compute_layout(l, &fit, sec, hide, &lay, &right_w);
	}
	if (o->width && total_width(&lay, right_w) > o->width) {
		size_t fixed = total_width(&lay, right_w) - lay.area_w;
		lay.area_w = o->width > fixed + MIN_AREA ? o->width - fixed : MIN_AREA;
		lay.cut = true;
	}
	o = &fit;
	lay.o = o;
	const char *time_head = zh ? "时间(ms)" : "t(ms)";
	const char *end_head = zh ? "结束" : "end";
	char role0[64], role1[64];
	sf_ladder_role_str(l, 0, o->lang, role0, sizeof role0);
	sf_ladder_role_str(l, 1, o->lang, role1, sizeof role1);

	struct line ln = {0}, area = {0};
	char end0[96], end1[96];
	line_add(&ln, zh ? "TCP 时序图：" : "TCP ladder: ");
	line_add(&ln, sf_ladder_end_str(l, 0, o->lang, end0, sizeof end0));
	line_add(&ln, " <-> ");
	line_add(&ln, sf_ladder_end_str(l, 1, o->lang, end1, sizeof end1));
	line_flush(&ln, out);
	line_flush(&ln, out);

	line_repeat(&area, ' ', lay.area_w);
	put_row(&ln, &lay, time_head, role0, area.buf ? area.buf : "", role1, false);
	line_flush(&ln, out);
	put_row(&ln, &lay, "", sf_state_name(l->init[0]), area.buf ? area.buf : "",
	        sf_state_name(l->init[1]), true);
	line_flush(&ln, out);

	for (size_t i = 0; i < l->row_cnt; i++) {
		const lrow_t *r = &l->rows[i];
		if (hide[i] == 2) {
			const char *t =
			        sf_ladder_collapse_text(l, hide, i, o->lang, label, sizeof label);
			size_t tw = sf_ladder_display_width(t);
			area.len = 0;
			line_repeat(&area, ' ', lay.area_w > tw ? (lay.area_w - tw) / 2 : 0);
			line_add(&area, t);
			line_repeat(&area, ' ',
			            lay.area_w > tw ? lay.area_w - tw - (lay.area_w - tw) / 2 : 0);
			put_row(&ln, &lay, "", "", area.buf ? area.buf : "", "", true);
			line_flush(&ln, out);
		}
		if (hide[i])
			continue;
		if (sec[i] != LSEC_NONE) {
			area.len = 0;
			build_rule(&area, sf_ladder_section_title(sec[i], o->lang), lay.area_w);
			put_row(&ln, &lay, "", "", area.buf ? area.buf : "", "", true);
			line_flush(&ln, out);
		}
		area.len = 0;
		if (area.buf)
			area.buf[0] = '\0';
		if (r->kind == LROW_SEG) {
			sf_ladder_seg_label(l, r, o, label, sizeof label);
			if (lay.cut)
				cut_label(label, lay.area_w > 14 ? lay.area_w - 14 : 1);
			build_arrow(&area, r, label, lay.area_w);
		} else if (r->kind == LROW_NOTE) {
			sf_ladder_note_text(r, o, label, sizeof label);
			if (lay.cut)
				cut_label(label, lay.area_w > 5 ? lay.area_w - 5 : 1);
			build_note(&area, r, label, lay.area_w);
		} else {
			line_repeat(&area, ' ', lay.area_w);
		}
		put_row(&ln, &lay, sf_ladder_time_str(l, r->t_us, tbuf, sizeof tbuf),
		        state_cell(r, 0), area.buf ? area.buf : "", state_cell(r, 1), true);
		line_flush(&ln, out);
	}

	area.len = 0;
	line_repeat(&area, ' ', lay.area_w);
	put_row(&ln, &lay, end_head, sf_state_name(l->final[0]), area.buf ? area.buf : "",
	        sf_state_name(l->final[1]), true);
	line_flush(&ln, out);

	if (l->inferred[0] || l->inferred[1]) {
		line_flush(&ln, out);
		line_add(
		        &ln,
		        zh ? "（推断）= 这一端的状态不是 synfin 协议栈报告的，而是由它发出和收到的"
		             "报文段推断的（RFC 9293 §3.10）；? = 报文段无法说明"
		           : "(inferred) = states not reported by a synfin stack but inferred from "
		             "the segments that end sent and received (RFC 9293 §3.10); ? = the "
		             "segments cannot tell");
		line_flush(&ln, out);
	}
	err = ln.nomem || area.nomem ? SF_ENOMEM : 0;
	free(ln.buf);
	free(area.buf);
	free(sec);
	free(hide);
	return err;
}
