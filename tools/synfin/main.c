/* The synfin command: entry point and sub-command dispatch. */
#include <stdio.h>
#include <string.h>

#include "synfin/synfin.h"

static int usage(FILE *f)
{
	fprintf(f, "usage: synfin <command> [options]\n"
	           "commands:\n"
	           "  demo     two stacks over a simulated link; ladder of a connection's life\n"
	           "  version  print the version\n");
	return f == stderr ? 2 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return usage(stdout);
	if (!strcmp(argv[1], "version")) {
		printf("synfin 0.1.0\n");
		return 0;
	}
	fprintf(stderr, "synfin: unknown command '%s' (try synfin --help)\n", argv[1]);
	return 2;
}
