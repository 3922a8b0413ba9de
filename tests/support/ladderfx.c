/* Rendering a ladder to a string and checking what it shows: shared by
 * the ladder unit tests (tests/unit/test_ladder.c, test_ladder_capture.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ladderfx.h"

char *render(sf_ladder_t *l, const sf_ladder_opts_t *o, bool svg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	int err = svg ? sf_ladder_render_svg(l, o, f) : sf_ladder_render_text(l, o, f);
	assert_int_equal(err, 0);
	assert_int_equal(fclose(f), 0);
	/* SYNFIN_LADDER_DUMP=1 shows every diagram rendered (to update the
	 * expected texts after a deliberate change of layout). */
	if (getenv("SYNFIN_LADDER_DUMP") != NULL)
		fprintf(stderr, "%s\n", buf);
	return buf;
}

char *render_lang(sf_ladder_t *l, sf_ladder_lang_t lang)
{
	sf_ladder_opts_t o = {.lang = lang};
	return render(l, &o, false);
}

/* Asserts that the needles occur in `hay` in this order. */
void assert_in_order(const char *hay, ...)
{
	va_list ap;
	va_start(ap, hay);
	const char *at = hay;
	for (const char *n = va_arg(ap, const char *); n != NULL; n = va_arg(ap, const char *)) {
		const char *p = strstr(at, n);
		if (p == NULL) {
			print_error("missing, or out of order: \"%s\" in\n%s\n", n, hay);
			fail();
		}
		at = p + strlen(n);
	}
	va_end(ap);
}

/* The line of `text` that contains `needle` (a copy, to be freed). */
char *line_with(const char *text, const char *needle)
{
	const char *p = strstr(text, needle);
	if (p == NULL) {
		print_error("no line with \"%s\" in\n%s\n", needle, text);
		fail();
	}
	const char *b = p, *e = p;
	while (b > text && b[-1] != '\n')
		b--;
	while (*e && *e != '\n')
		e++;
	return strndup(b, (size_t)(e - b));
}

void assert_line_has(const char *text, const char *key, ...)
{
	char *line = line_with(text, key);
	va_list ap;
	va_start(ap, key);
	for (const char *n = va_arg(ap, const char *); n != NULL; n = va_arg(ap, const char *)) {
		if (strstr(line, n) == NULL)
			print_error("the line \"%s\" lacks \"%s\"\n", line, n);
		assert_non_null(strstr(line, n));
	}
	va_end(ap);
	free(line);
}

/* The state names in the left (side 0) or right (side 1) column, top to
 * bottom, joined by single blanks. Rows are the lines holding lifelines:
 * the left cell is the last word before the first '|' unless it is the
 * time, the right cell everything after the last '|'. */
char *column_states(const char *text, int side)
{
	size_t cap = strlen(text) + 1, n = 0;
	char *out = calloc(cap, 1);
	const char *line = text;
	while (*line) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		char *ln = strndup(line, len);
		char *bar1 = strchr(ln, '|'), *bar2 = strrchr(ln, '|');
		if (bar1 != NULL && bar2 != bar1) {
			char cell[64] = "";
			if (side == 0) {
				*bar1 = '\0';
				char *w = NULL;
				for (char *t = strtok(ln, " "); t; t = strtok(NULL, " "))
					w = t;
				if (w && !((w[0] >= '0' && w[0] <= '9') || w[0] == '-'))
					snprintf(cell, sizeof cell, "%s", w);
			} else {
				char *t = bar2 + 1;
				while (*t == ' ')
					t++;
				snprintf(cell, sizeof cell, "%s", t);
			}
			if (cell[0]) {
				n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? " " : "", cell);
			}
		}
		free(ln);
		line += len + (eol != NULL);
	}
	return out;
}

void assert_column(const char *text, int side, const char *expect)
{
	char *got = column_states(text, side);
	bool same = strcmp(got, expect) == 0;
	if (!same)
		print_error("side %d column:\n  got    %s\n  expect %s\nin\n%s\n", side, got,
		            expect, text);
	free(got);
	assert_true(same);
}

/* Every row's lifelines sit at the same display column (CJK included). */
void assert_aligned(const char *text)
{
	long col1 = -1, col2 = -1;
	const char *line = text;
	while (*line) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		char *ln = strndup(line, len);
		char *bar1 = strchr(ln, '|'), *bar2 = strrchr(ln, '|');
		if (bar1 != NULL && bar2 != bar1) {
			*bar2 = '\0';
			long w2 = (long)sf_ladder_display_width(ln);
			*bar1 = '\0';
			long w1 = (long)sf_ladder_display_width(ln);
			if (col1 < 0) {
				col1 = w1;
				col2 = w2;
			}
			if (w1 != col1 || w2 != col2) {
				print_error("misaligned line (%ld,%ld vs %ld,%ld): %.*s\n", w1, w2,
				            col1, col2, (int)len, line);
				fail();
			}
		}
		free(ln);
		line += len + (eol != NULL);
	}
	assert_true(col1 > 0);
}

void assert_no_trailing_blanks(const char *text)
{
	for (const char *p = text; *p; p++)
		if (*p == '\n' && p > text)
			assert_true(p[-1] != ' ');
}

bool have_xmllint(void)
{
	return system("command -v xmllint >/dev/null 2>&1") == 0;
}

/* Runs xmllint --noout on `doc`; returns its exit status. */
int xmllint(const char *doc)
{
	char path[] = "/tmp/sf_ladder_svg_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs(doc, f);
	fclose(f);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "xmllint --noout %s 2>&1", path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[256];
	while (fgets(line, sizeof line, p))
		print_message("xmllint: %s", line);
	int rc = pclose(p);
	unlink(path);
	return rc;
}

size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}
