/* The synfin command: entry point and sub-command dispatch.
 *
 * `synfin <command> [options]`: the command's name picks a function from the
 * table below (declared in cmd.h), which gets argv from the command's name
 * on. Adding a command is one line in the table.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "synfin/error.h"

typedef struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} command_t;

static const command_t commands[] = {
        {"demo", cmd_demo, "two stacks over a simulated link; ladder of a connection's life"},
        {"ladder", cmd_ladder, "draw the ladder of a TCP connection from a pcap/pcapng file"},
        {"serve", cmd_serve, "HTTP server on a TUN device; its page draws the ladders"},
        {"get", cmd_get, "HTTP client over a TUN device: the body or its ladder"},
        {"version", cmd_version, "print the version"},
        {"help", cmd_help, "this list, or a command's options: synfin help COMMAND"},
};

#define COMMAND_CNT (sizeof commands / sizeof commands[0])

static int usage(FILE *f)
{
	fprintf(f, "usage: synfin <command> [options]\n"
	           "\n"
	           "A userspace TCP/IPv4 stack; every connection's life as a ladder diagram.\n"
	           "\n"
	           "commands:\n");
	for (size_t i = 0; i < COMMAND_CNT; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n"
	           "Run 'synfin help <command>' (or 'synfin <command> --help') for a command's\n"
	           "options. A FILE of '-' is standard input or output; binary output (pcap) is\n"
	           "refused on a terminal. See also synfin(1).\n");
	return f == stderr ? CMD_USAGE : CMD_OK;
}

int cmd_version(int argc, char **argv)
{
	if (argc > 1 && cli_is_help(argv[1])) {
		printf("usage: synfin version\n\nPrints the version of synfin.\n");
		return CMD_OK;
	}
	if (argc > 1)
		return cli_unknown("version", argv[1]);
	printf("synfin %s\n", SYNFIN_VERSION_STRING);
	return CMD_OK;
}

/* `synfin help [COMMAND]`: the list of commands, or COMMAND --help. */
int cmd_help(int argc, char **argv)
{
	if (argc < 2)
		return usage(stdout);
	if (argc > 2)
		return cli_unknown("help", argv[2]);
	for (size_t i = 0; i < COMMAND_CNT; i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		if (commands[i].run == cmd_help)
			return usage(stdout);
		char *args[] = {argv[1], "--help", NULL};
		return commands[i].run(2, args);
	}
	fprintf(stderr, "synfin help: unknown command '%s' (try synfin help)\n", argv[1]);
	return CMD_USAGE;
}

/* A failed internal check of the engine (a synfin bug): say where first. */
static void report_assert(const char *expr, const char *file, int line)
{
	fprintf(stderr, "synfin: internal check failed: %s (%s:%d)\n", expr ? expr : "?",
	        file ? file : "?", line);
}

int main(int argc, char **argv)
{
	sf_set_assert_hook(report_assert);
	if (argc < 2)
		return usage(stderr);
	if (cli_is_help(argv[1]))
		return usage(stdout);
	if (!strcmp(argv[1], "--version"))
		return cmd_version(1, argv + 1);
	for (size_t i = 0; i < COMMAND_CNT; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		fprintf(stderr, "synfin: unknown option '%s' (try synfin --help)\n", argv[1]);
	else
		fprintf(stderr, "synfin: unknown command '%s' (try synfin --help)\n", argv[1]);
	return CMD_USAGE;
}
