/* rtg_console.h — the live side of `rtgraph run`: commands typed (or
 * piped) on stdin, file watching that swaps models and reloads the graph
 * when their files change, and a one-line status on a terminal.
 *
 * Commands, one a line:
 *     set NODE.PARAM VALUE    change a param (ramped over the graph's smooth_ms)
 *     swap NODE FILE          crossfade model node NODE to the model in FILE
 *     reload [FILE]           rebuild the graph (from FILE) and crossfade to it
 *     stats                   print the engine's counters
 *     help                    list the commands
 *     quit                    stop
 * A command that fails is refused with one line on the message stream and
 * changes nothing; audio is never interrupted. End of input (a script that
 * finished) stops nothing.
 *
 * Thread: every function on the control thread; the console runs its own
 * reader and watcher threads, never the audio thread.
 */
#ifndef RTG_CONSOLE_H
#define RTG_CONSOLE_H

#include <stdio.h>

#include "rtg_error.h"
#include "rtgraph.h"

typedef struct rtg_console rtg_console;

typedef struct rtg_console_config {
    rtg_engine *engine;
    int fd;          /* commands come from here (0: stdin); -1: none */
    FILE *out;       /* replies to `stats` and `help` */
    FILE *msg;       /* refusals, notices, the status line */
    int watch;       /* watch the graph and model files (inotify) */
    int status_line; /* keep a live status line on msg (a terminal) */
} rtg_console_config;

/* Starts the reader (and watcher) threads. Thread: control. */
int rtg_console_start(const rtg_console_config *cfg, rtg_console **out, rtg_error *err);

/* 1 once `quit` was given. Thread: control. */
int rtg_console_quit_requested(rtg_console *c);

/* Prints the engine's new events (rtg_engine_next_event) as warnings on
 * the message stream, then redraws the status line (if enabled); call a
 * few times a second. Thread: control. */
void rtg_console_tick(rtg_console *c);

/* Prints the engine's events not yet taken, one warning line each.
 * Thread: control. */
void rtg_console_report_events(rtg_console *c);

/* Stops the threads, clears the status line, frees. NULL is fine. */
void rtg_console_stop(rtg_console *c);

/* Prints a message on the message stream without tearing the status
 * line. Thread: any non-real-time thread. */
void rtg_console_say(rtg_console *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

enum { RTG_CONSOLE_OK = 0, RTG_CONSOLE_REFUSED = 1, RTG_CONSOLE_QUIT = 2 };

/* Runs one command line against `e`: replies to `out`, the reason for a
 * refusal in err. Returns RTG_CONSOLE_OK, _REFUSED or _QUIT; blank lines
 * and '#' comments are OK. Thread: control (it is what the reader thread
 * runs; exposed for tests). */
int rtg_console_execute(rtg_engine *e, const char *line, FILE *out, rtg_error *err);

/* Formats the engine's counters, several lines (`stats`), or one line
 * (the status line) when `one_line` is set. */
void rtg_console_format_stats(rtg_engine *e, int one_line, char *buf, size_t size);

/* One line for an engine event, e.g. "warning: node 'amp' produced NaN/Inf
 * in 3 blocks (plan #1, callbacks 40..42): muted, and any node that kept
 * them reset". */
void rtg_console_format_event(const rtg_engine_event *ev, char *buf, size_t size);

#endif
