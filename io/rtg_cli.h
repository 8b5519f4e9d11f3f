/* rtg_cli.h — the `rtgraph` subcommands. Each takes the arguments after its
 * own name (argv[0] is the command name), prints its own --help, reports
 * errors as one line on stderr, and returns the process exit code. */
#ifndef RTG_CLI_H
#define RTG_CLI_H

typedef struct rtg_command {
    const char *name;
    const char *summary;
    int (*main)(int argc, char **argv);
} rtg_command;

int rtg_cmd_infer(int argc, char **argv);
int rtg_cmd_bench(int argc, char **argv);
int rtg_cmd_check(int argc, char **argv);
int rtg_cmd_render(int argc, char **argv);
int rtg_cmd_run(int argc, char **argv);
int rtg_cmd_devices(int argc, char **argv);

/* Prints "rtgraph: message" on stderr; returns 1 for `return cli_fail(...)`. */
int rtg_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
