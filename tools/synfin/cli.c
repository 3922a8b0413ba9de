/* Option helpers shared by the synfin sub-commands (see cmd.h): long options
 * with a value either separate or after '=', numbers checked against their
 * range, and one-line error messages that name the command.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cmd.h"

bool cli_is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

bool cli_flag(const char *arg, const char *name)
{
	return !strcmp(arg, name);
}

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "synfin %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int cli_value(const char *cmd, int argc, char **argv, int *i, const char *name, const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		cli_error(cmd, "option '%s' needs a value", name);
		return -1;
	}
	*val = argv[++*i];
	return 1;
}

bool cli_double(const char *cmd, const char *opt, const char *text, double min, double max,
                double *out)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(v) || v < min || v > max) {
		cli_error(cmd, "%s: '%s' is not a number in [%g, %g]", opt, text, min, max);
		return false;
	}
	*out = v;
	return true;
}

bool cli_u64_in(const char *cmd, const char *opt, const char *text, uint64_t min, uint64_t max,
                uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || v < min || v > max) {
		cli_error(cmd, "%s: '%s' is not a whole number in [%" PRIu64 ", %" PRIu64 "]", opt,
		          text, min, max);
		return false;
	}
	*out = v;
	return true;
}

bool cli_u64(const char *cmd, const char *opt, const char *text, uint64_t max, uint64_t *out)
{
	return cli_u64_in(cmd, opt, text, 0, max, out);
}

int cli_unknown(const char *cmd, const char *arg)
{
	if (arg[0] == '-')
		cli_error(cmd, "unknown option '%s' (try synfin %s --help)", arg, cmd);
	else
		cli_error(cmd, "unexpected argument '%s' (try synfin %s --help)", arg, cmd);
	return CMD_USAGE;
}

bool cli_dash_output(const char *cmd, const char **paths[], const bool *binary, int n, char *buf,
                     size_t cap)
{
	int dash = -1;
	for (int i = 0; i < n; i++) {
		if (*paths[i] == NULL || strcmp(*paths[i], "-") != 0)
			continue;
		if (dash >= 0) {
			cli_error(cmd, "only one output can go to standard output ('-')");
			return false;
		}
		dash = i;
	}
	if (dash < 0)
		return true;
	if (binary[dash] && isatty(STDOUT_FILENO)) {
		cli_error(cmd,
		          "not writing binary output to a terminal (redirect it, or give a file)");
		return false;
	}
	fflush(stdout);
	int fd = dup(STDOUT_FILENO);
	if (fd < 0 || freopen("/dev/null", "w", stdout) == NULL) {
		cli_error(cmd, "standard output: %s", strerror(errno));
		return false;
	}
	snprintf(buf, cap, "/dev/fd/%d", fd);
	*paths[dash] = buf;
	return true;
}

bool cli_dash_input(const char *cmd, const char **path, char *buf, size_t cap, bool *tmp)
{
	*tmp = false;
	if (strcmp(*path, "-") != 0)
		return true;
	if (isatty(STDIN_FILENO)) {
		cli_error(cmd,
		          "not reading a capture from a terminal (pipe one in, or give a file)");
		return false;
	}
	snprintf(buf, cap, "/tmp/synfin-stdin.XXXXXX");
	int fd = mkstemp(buf);
	if (fd < 0) {
		cli_error(cmd, "temporary file: %s", strerror(errno));
		return false;
	}
	char chunk[65536];
	size_t n;
	bool ok = true;
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		ok &= write(fd, chunk, n) == (ssize_t)n;
	ok &= !ferror(stdin);
	ok &= close(fd) == 0;
	if (!ok) {
		unlink(buf);
		cli_error(cmd, "reading standard input: %s", strerror(errno));
		return false;
	}
	*path = buf;
	*tmp = true;
	return true;
}

size_t cli_columns(void)
{
	const char *c = getenv("COLUMNS");
	if (c && *c) {
		char *end;
		unsigned long v = strtoul(c, &end, 10);
		if (*end == '\0' && v >= 20 && v <= 10000)
			return (size_t)v;
	}
	struct winsize ws;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 0;
}
