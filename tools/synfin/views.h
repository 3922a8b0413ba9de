/* Ladder outputs shared by `synfin demo`, `ladder` and `get`: the --lang
 * value and the files written by --svg, --html and --graph. */
#ifndef SYNFIN_TOOL_VIEWS_H
#define SYNFIN_TOOL_VIEWS_H

#include <stdbool.h>

#include "synfin/ladder.h"

typedef enum { VIEW_SVG, VIEW_HTML, VIEW_GRAPH } view_kind_t;

/* Parses --lang's value, "en" or "zh"; prints one error line naming cmd
 * and returns false for anything else. */
bool view_lang(const char *cmd, const char *text, sf_ladder_lang_t *out);

/* Writes one view of l to path: the SVG ladder, the HTML page to step
 * through it, or the time-sequence graph. A "/dev/fd/N" path (standard
 * output, see cli_dash_output) is appended to, so several views can follow
 * one another there. Returns CMD_OK, or CMD_FAIL after one error line that
 * names the path and why (cannot create, the render's error, write error);
 * the file is closed either way. */
int view_write(const char *cmd, sf_ladder_t *l, const sf_ladder_opts_t *o, const char *path,
               view_kind_t what);

#endif
