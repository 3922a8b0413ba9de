/* Rendering a ladder to a string and checking what it shows (ladderfx.c),
 * for the ladder unit tests. Strings returned are malloc'd: free them. */
#ifndef SYNFIN_TEST_LADDERFX_H
#define SYNFIN_TEST_LADDERFX_H

#include <stdbool.h>
#include <stddef.h>

#include "synfin/ladder.h"

/* The connection both ladder tests draw: a client at 192.0.2.1:40000 and a
 * server at 192.0.2.2:80 with these ISNs and trace connection ids. */
#define CLI_ADDR 0xC0000201u /* 192.0.2.1 */
#define SRV_ADDR 0xC0000202u /* 192.0.2.2 */
#define CLI_PORT 40000
#define SRV_PORT 80
#define CLI_ISN  1000u
#define SRV_ISN  5000u
#define CLI_CONN 1
#define SRV_CONN 2

#define F_SYN SF_TCP_SYN
#define F_ACK SF_TCP_ACK
#define F_FIN SF_TCP_FIN
#define F_RST SF_TCP_RST
#define F_PSH SF_TCP_PSH

/* The ladder as text (svg false) or SVG; fails the test on an error. */
char *render(sf_ladder_t *l, const sf_ladder_opts_t *o, bool svg);
char *render_lang(sf_ladder_t *l, sf_ladder_lang_t lang);
/* The needles (NULL-terminated list) occur in hay in this order. */
void assert_in_order(const char *hay, ...);
/* The first line of text containing needle, or NULL. */
char *line_with(const char *text, const char *needle);
/* The first line of text containing key also contains each of the needles
 * (a NULL-terminated list); fails the test naming the first missing. */
void assert_line_has(const char *text, const char *key, ...);
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
