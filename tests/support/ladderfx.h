/* Rendering a ladder to a string and checking what it shows (ladderfx.c),
 * for the ladder unit tests. Strings returned are malloc'd: free them. */
#ifndef SYNFIN_TEST_LADDERFX_H
#define SYNFIN_TEST_LADDERFX_H

#include <stdbool.h>
#include <stddef.h>

#include "synfin/ladder.h"

/* The ladder as text (svg false) or SVG; fails the test on an error. */
char *render(sf_ladder_t *l, const sf_ladder_opts_t *o, bool svg);
char *render_lang(sf_ladder_t *l, sf_ladder_lang_t lang);
/* The needles (NULL-terminated list) occur in hay in this order. */
void assert_in_order(const char *hay, ...);
/* The first line of text containing needle, or NULL. */
char *line_with(const char *text, const char *needle);
/* The states written in one side's column, space-separated. */
char *column_states(const char *text, int side);
void assert_column(const char *text, int side, const char *expect);
/* Every row's lifelines sit at the same display column. */
void assert_aligned(const char *text);
void assert_no_trailing_blanks(const char *text);
bool have_xmllint(void);
/* Runs xmllint --noout on doc; returns its exit status. */
int xmllint(const char *doc);
/* Occurrences of needle in hay. */
size_t count(const char *hay, const char *needle);

#endif
