/* The synfin command's sub-commands and the small option helpers they share.
 *
 * Each sub-command is one function `int cmd_<name>(int argc, char **argv)`
 * where argv[0] is the sub-command's name and the rest its arguments; it
 * returns the process exit status: 0 success, 1 failure at run time, 2 bad
 * usage (unknown option, missing or malformed value). main.c dispatches by
 * name from a table: adding a command is one declaration here and one line
 * there.
 */
#ifndef SYNFIN_TOOL_CMD_H
#define SYNFIN_TOOL_CMD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <synfin/version.h>
#define SYNFIN_VERSION_STRING SF_VERSION_STRING

/* Exit statuses shared by every command. */
#define CMD_OK    0
#define CMD_FAIL  1
#define CMD_USAGE 2

int cmd_demo(int argc, char **argv);
int cmd_ladder(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_help(int argc, char **argv);

/* ---- option helpers (cli.c) ----
 * Options are GNU-style long options: `--name`, `--name VALUE` or
 * `--name=VALUE`. Errors are one line on stderr, "synfin CMD: ...", and the
 * caller returns CMD_USAGE. */

/* True if argv[*i] is the flag `name` (no value allowed). */
bool cli_flag(const char *arg, const char *name);
/* Matches option `name` taking a value. Returns 1 and sets *val (advancing
 * *i past a separate value), 0 if argv[*i] is another option, -1 (error
 * printed) if the value is missing. */
int cli_value(const char *cmd, int argc, char **argv, int *i, const char *name, const char **val);
/* Parses a number in [min, max]; prints an error and returns false if the
 * text is not one. */
bool cli_double(const char *cmd, const char *opt, const char *text, double min, double max,
                double *out);
bool cli_u64(const char *cmd, const char *opt, const char *text, uint64_t max, uint64_t *out);
/* The same with a lower bound: one error line names the whole range. */
bool cli_u64_in(const char *cmd, const char *opt, const char *text, uint64_t min, uint64_t max,
                uint64_t *out);
/* Prints "synfin CMD: unknown option 'X' (try synfin CMD --help)" and returns
 * CMD_USAGE. */
int cli_unknown(const char *cmd, const char *arg);
/* Prints "synfin CMD: MESSAGE" (printf-style) on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True for "-h" and "--help". */
bool cli_is_help(const char *arg);

/* The text width to fit: $COLUMNS when set, else the terminal's width when
 * stdout is one, else 0 (no limit). */
size_t cli_columns(void);

/* Output files given as "-" (standard output). At most one of the n
 * options *paths[i] may be "-" (else an error); that one gets standard
 * output to itself: it is rewritten to "/dev/fd/N" (a duplicate of stdout,
 * kept in buf), and stdout, where the command writes its text, goes to
 * /dev/null. A binary[i] output is refused on a terminal. Returns false
 * (error printed) on a refusal. */
bool cli_dash_output(const char *cmd, const char **paths[], const bool *binary, int n, char *buf,
                     size_t cap);
/* An input file given as "-": standard input copied to a temporary file
 * (a binary input is refused from a terminal); *path is rewritten to it and
 * the caller unlinks it (tmp set to true). Returns false (error printed) on
 * failure. */
bool cli_dash_input(const char *cmd, const char **path, char *buf, size_t cap, bool *tmp);

#endif
