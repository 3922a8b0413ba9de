/* Ladder outputs shared by the sub-commands (see views.h). */
#include <errno.h>
#include <string.h>

#include "cmd.h"
#include "views.h"

bool view_lang(const char *cmd, const char *text, sf_ladder_lang_t *out)
{
	if (!strcmp(text, "en"))
		*out = SF_LADDER_LANG_EN;
	else if (!strcmp(text, "zh"))
		*out = SF_LADDER_LANG_ZH;
	else {
		cli_error(cmd, "--lang: '%s' is not en or zh", text);
		return false;
	}
	return true;
}

int view_write(const char *cmd, sf_ladder_t *l, const sf_ladder_opts_t *o, const char *path,
               view_kind_t what)
{
	FILE *f = fopen(path, strncmp(path, "/dev/fd/", 8) ? "w" : "a");
	if (!f) {
		cli_error(cmd, "%s: %s", path, strerror(errno));
		return CMD_FAIL;
	}
	int err = what == VIEW_HTML    ? sf_ladder_render_html(l, o, NULL, f)
	          : what == VIEW_GRAPH ? sf_ladder_render_graph(l, o, f)
	                               : sf_ladder_render_svg(l, o, f);
	bool bad = ferror(f) != 0;
	bad |= fclose(f) != 0;
	if (err < 0 || bad) {
		cli_error(cmd, "%s: %s", path, err < 0 ? sf_ladder_strerror(err) : "write error");
		return CMD_FAIL;
	}
	return CMD_OK;
}
