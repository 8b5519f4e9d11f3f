/* cli_main.c — `rtgraph COMMAND ...`: dispatch to the subcommands. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rtg_cli.h"

static const rtg_command commands[] = {
    {"infer", "run a model over a CSV of frames, write a CSV of outputs", rtg_cmd_infer},
    {"bench", "measure how fast a model runs: real-time factor, CPU load", rtg_cmd_bench},
    {"check", "validate a graph or model file and print its plan and cost", rtg_cmd_check},
    {"render", "run a graph over an audio file offline, write an audio file", rtg_cmd_render},
    {"run", "play live audio through a graph; change, swap and reload it while it plays", rtg_cmd_run},
    {"devices", "list the audio host APIs and devices 'run' can use", rtg_cmd_devices},
};
#define N_COMMANDS (int)(sizeof commands / sizeof commands[0])

int rtg_cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("rtgraph: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: rtgraph COMMAND [ARGS...]\n\ncommands:\n");
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'rtgraph COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("rtgraph 0.1.0\n");
        return 0;
    }
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].main(argc - 1, argv + 1);
    fprintf(stderr, "rtgraph: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
