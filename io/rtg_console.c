/* rtg_console.c — stdin commands, inotify file watching and the status
 * line of `rtgraph run` (see rtg_console.h). */
#define _GNU_SOURCE
#include "rtg_console.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "rtg_rt.h"

#define LINE_MAX_BYTES 4096
#define MAX_WATCHED 64
#define WATCH_SETTLE_NS (200 * 1000000LL) /* editors write in several steps */

typedef struct watched {
    char dir[PATH_MAX];
    char name[NAME_MAX + 1];
    int wd;
    int is_graph;
    char node[64];       /* model: the node it plays in */
    char path[512];      /* as the engine knows it */
    int64_t changed_at;  /* 0: no change pending */
} watched;

struct rtg_console {
    rtg_console_config cfg;
    pthread_mutex_t say_lock;
    int status_shown;
    atomic_int stop, quit;
    pthread_t reader, watcher;
    int reader_started, watcher_started;
    int ino;
    watched w[MAX_WATCHED];
    int n_watched;
};

void rtg_console_say(rtg_console *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&c->say_lock);
    if (c->status_shown) {
        fputs("\r\033[K", c->cfg.msg);
        c->status_shown = 0;
    }
    vfprintf(c->cfg.msg, fmt, ap);
    fputc('\n', c->cfg.msg);
    fflush(c->cfg.msg);
    pthread_mutex_unlock(&c->say_lock);
    va_end(ap);
}

/* ---- commands ---- */

void rtg_console_format_stats(rtg_engine *e, int one_line, char *buf, size_t size)
{
    rtg_engine_stats s;
    rtg_engine_info info;
    rtg_engine_get_stats(e, &s);
    rtg_engine_get_info(e, &info);
    const char *name = strrchr(info.graph, '/') ? strrchr(info.graph, '/') + 1 : info.graph;
    if (one_line) {
        char muted[48] = ""; /* shown once the guard has muted anything */
        if (s.nonfinite_events)
            snprintf(muted, sizeof muted, " | NaN/Inf muted %llu",
                     (unsigned long long)s.nonfinite_events);
        snprintf(buf, size,
                 "cpu %.1f%% (max %.1f%%) | callback p50 %.3f p99 %.3f p99.9 %.3f ms | xruns %llu | "
                 "%s #%llu%s",
                 100 * s.load_mean, 100 * s.load_max, s.cb_p50_us * 1e-3, s.cb_p99_us * 1e-3,
                 s.cb_p999_us * 1e-3, (unsigned long long)s.xruns, name,
                 (unsigned long long)s.generation, muted);
        return;
    }
    snprintf(buf, size,
             "plan      %s #%llu (%d in, %d out, %.0f Hz, blocks of %d)\n"
             "callbacks %llu (%llu frames), xruns %llu\n"
             "callback  mean %.3f ms, p50 %.3f, p99 %.3f, p99.9 %.3f, max %.3f ms\n"
             "cpu load  mean %.2f%%, max %.2f%%\n"
             "guard     %llu blocks of NaN/Inf output muted\n"
             "commands  %llu params, %llu swaps, %llu reloads, %llu refused",
             info.graph, (unsigned long long)s.generation, info.n_inputs, info.n_outputs,
             info.sample_rate, info.max_block, (unsigned long long)s.callbacks,
             (unsigned long long)s.frames, (unsigned long long)s.xruns, s.cb_mean_us * 1e-3,
             s.cb_p50_us * 1e-3, s.cb_p99_us * 1e-3, s.cb_p999_us * 1e-3, s.cb_max_us * 1e-3,
             100 * s.load_mean, 100 * s.load_max, (unsigned long long)s.nonfinite_events,
             (unsigned long long)s.params,
             (unsigned long long)s.swaps, (unsigned long long)s.reloads,
             (unsigned long long)s.rejected);
}

void rtg_console_format_event(const rtg_engine_event *ev, char *buf, size_t size)
{
    char who[96], when[64];
    if (!strcmp(ev->node, "(input)"))
        snprintf(who, sizeof who, "the input held");
    else if (!strcmp(ev->node, "(output)"))
        snprintf(who, sizeof who, "the output held");
    else
        snprintf(who, sizeof who, "node '%s' produced", ev->node);
    if (ev->count == 1)
        snprintf(when, sizeof when, "callback %llu", (unsigned long long)ev->first_callback);
    else
        snprintf(when, sizeof when, "callbacks %llu..%llu", (unsigned long long)ev->first_callback,
                 (unsigned long long)ev->last_callback);
    snprintf(buf, size, "warning: %s NaN/Inf in %llu block%s (plan #%llu, %s): %s", who,
             (unsigned long long)ev->count, ev->count == 1 ? "" : "s",
             (unsigned long long)ev->generation, when,
             !strcmp(ev->node, "(input)") ? "those samples were replaced by 0"
             : ev->node[0] == '('         ? "muted"
                                          : "muted, and any node that kept them reset");
}

static const char help_text[] =
    "set NODE.PARAM VALUE   change a param (ramped over the graph's smooth_ms)\n"
    "swap NODE FILE         crossfade model node NODE to the model in FILE\n"
    "reload [FILE]          rebuild the graph (from FILE) and crossfade to it\n"
    "stats                  print the engine's counters\n"
    "help                   this list\n"
    "quit                   stop\n";

/* Splits `line` into at most `max` words (modified in place). */
static int split(char *line, char **word, int max)
{
    int n = 0;
    for (char *p = line; *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            *p++ = 0;
        if (!*p)
            break;
        if (n == max)
            return max + 1;
        word[n++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            p++;
    }
    return n;
}

int rtg_console_execute(rtg_engine *e, const char *line, FILE *out, rtg_error *err)
{
    char buf[LINE_MAX_BYTES];
    if (strlen(line) >= sizeof buf)
        return rtg_error_set(err, RTG_EINVAL, "line too long"), RTG_CONSOLE_REFUSED;
    snprintf(buf, sizeof buf, "%s", line);
    char *hash = strchr(buf, '#');
    if (hash)
        *hash = 0;
    char *w[4];
    int n = split(buf, w, 3);
    if (n == 0)
        return RTG_CONSOLE_OK;
    const char *cmd = w[0];
    if (!strcmp(cmd, "set")) {
        if (n != 3)
            return rtg_error_set(err, RTG_EINVAL, "usage: set NODE.PARAM VALUE"), RTG_CONSOLE_REFUSED;
        char *end;
        errno = 0;
        double v = strtod(w[2], &end);
        if (*end || end == w[2] || errno == ERANGE)
            return rtg_error_set(err, RTG_EINVAL, "set %s: '%s' is not a number", w[1], w[2]),
                   RTG_CONSOLE_REFUSED;
        return rtg_engine_set_param(e, w[1], v, err) ? RTG_CONSOLE_REFUSED : RTG_CONSOLE_OK;
    }
    if (!strcmp(cmd, "swap")) {
        if (n != 3)
            return rtg_error_set(err, RTG_EINVAL, "usage: swap NODE FILE"), RTG_CONSOLE_REFUSED;
        if (rtg_engine_swap_model(e, w[1], w[2], err))
            return RTG_CONSOLE_REFUSED;
        return RTG_CONSOLE_OK;
    }
    if (!strcmp(cmd, "reload")) {
        if (n > 2)
            return rtg_error_set(err, RTG_EINVAL, "usage: reload [FILE]"), RTG_CONSOLE_REFUSED;
        return rtg_engine_reload(e, n == 2 ? w[1] : NULL, err) ? RTG_CONSOLE_REFUSED : RTG_CONSOLE_OK;
    }
    if (n > 1 && (!strcmp(cmd, "stats") || !strcmp(cmd, "help") || !strcmp(cmd, "quit")))
        return rtg_error_set(err, RTG_EINVAL, "%s takes no arguments", cmd), RTG_CONSOLE_REFUSED;
    if (!strcmp(cmd, "stats")) {
        char text[2048];
        rtg_console_format_stats(e, 0, text, sizeof text);
        fprintf(out, "%s\n", text);
        fflush(out);
        return RTG_CONSOLE_OK;
    }
    if (!strcmp(cmd, "help")) {
        fputs(help_text, out);
        fflush(out);
        return RTG_CONSOLE_OK;
    }
    if (!strcmp(cmd, "quit") || !strcmp(cmd, "exit"))
        return RTG_CONSOLE_QUIT;
    return rtg_error_set(err, RTG_EINVAL, "unknown command '%s' (try 'help')", cmd),
           RTG_CONSOLE_REFUSED;
}

static void run_line(rtg_console *c, const char *line)
{
    rtg_error err;
    int rc = rtg_console_execute(c->cfg.engine, line, c->cfg.out, &err);
    if (rc == RTG_CONSOLE_REFUSED)
        rtg_console_say(c, "refused: %s", err.msg);
    else if (rc == RTG_CONSOLE_QUIT)
        atomic_store(&c->quit, 1);
}

/* Reads lines with poll so that stop is noticed; end of input ends only
 * the reading. */
static void *reader_main(void *arg)
{
    rtg_console *c = arg;
    char buf[LINE_MAX_BYTES];
    size_t have = 0;
    int too_long = 0;
    while (!atomic_load(&c->stop) && !atomic_load(&c->quit)) {
        struct pollfd p = {.fd = c->cfg.fd, .events = POLLIN};
        int r = poll(&p, 1, 100);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;
        ssize_t n = read(c->cfg.fd, buf + have, sizeof buf - 1 - have);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0) {
            if (have && !too_long) {
                buf[have] = 0;
                run_line(c, buf);
            }
            return NULL;
        }
        have += (size_t)n;
        char *start = buf, *nl;
        while ((nl = memchr(start, '\n', have - (size_t)(start - buf)))) {
            *nl = 0;
            if (too_long)
                too_long = 0;
            else
                run_line(c, start);
            start = nl + 1;
        }
        have -= (size_t)(start - buf);
        memmove(buf, start, have);
        if (have == sizeof buf - 1) { /* drop the rest of an endless line */
            if (!too_long)
                rtg_console_say(c, "refused: line too long");
            too_long = 1;
            have = 0;
        }
    }
    return NULL;
}

/* ---- watching ---- */

static int add_watched(rtg_console *c, const char *path, int is_graph, const char *node)
{
    if (c->n_watched == MAX_WATCHED)
        return RTG_ENOMEM;
    watched *w = &c->w[c->n_watched];
    memset(w, 0, sizeof *w);
    char real[PATH_MAX];
    if (!realpath(path, real))
        return RTG_EIO;
    char *slash = strrchr(real, '/');
    snprintf(w->name, sizeof w->name, "%s", slash + 1);
    *slash = 0;
    snprintf(w->dir, sizeof w->dir, "%s", real[0] ? real : "/");
    w->is_graph = is_graph;
    snprintf(w->node, sizeof w->node, "%s", node ? node : "");
    snprintf(w->path, sizeof w->path, "%s", path);
    w->wd = inotify_add_watch(c->ino, w->dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE);
    if (w->wd < 0)
        return RTG_EIO;
    c->n_watched++;
    return RTG_OK;
}

/* The graph file and the file of every model node, as the engine now has
 * them. Watches on folders no longer needed stay (harmless). */
static void watch_files(rtg_console *c)
{
    c->n_watched = 0;
    rtg_engine_info info;
    rtg_engine_get_info(c->cfg.engine, &info);
    if (add_watched(c, info.graph, 1, NULL))
        rtg_console_say(c, "watch: cannot watch %s: %s", info.graph, strerror(errno));
    for (int i = 0; i < info.n_models; i++) {
        rtg_model_info m;
        if (rtg_engine_model_info(c->cfg.engine, i, &m) == RTG_OK && add_watched(c, m.path, 0, m.node))
            rtg_console_say(c, "watch: cannot watch %s: %s", m.path, strerror(errno));
    }
}

static void act_on_changes(rtg_console *c)
{
    int64_t now = rtg_rt_now_ns();
    int reloaded = 0;
    for (int i = 0; i < c->n_watched; i++) {
        watched *w = &c->w[i];
        if (!w->changed_at || now - w->changed_at < WATCH_SETTLE_NS)
            continue;
        w->changed_at = 0;
        rtg_error err;
        if (w->is_graph) {
            if (rtg_engine_reload(c->cfg.engine, NULL, &err))
                rtg_console_say(c, "watch: %s changed, not reloaded: %s", w->name, err.msg);
            else {
                rtg_engine_info info;
                rtg_engine_get_info(c->cfg.engine, &info);
                rtg_console_say(c, "watch: %s changed: reloaded (plan #%llu)", w->name,
                                (unsigned long long)info.generation);
                reloaded = 1;
            }
        } else if (rtg_engine_swap_model(c->cfg.engine, w->node, w->path, &err)) {
            rtg_console_say(c, "watch: %s changed, not swapped: %s", w->name, err.msg);
        } else {
            rtg_console_say(c, "watch: %s changed: swapped into '%s'", w->name, w->node);
        }
    }
    if (reloaded) /* the new graph may play other model files */
        watch_files(c);
}

static void *watcher_main(void *arg)
{
    rtg_console *c = arg;
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (!atomic_load(&c->stop)) {
        struct pollfd p = {.fd = c->ino, .events = POLLIN};
        if (poll(&p, 1, 50) > 0) {
            ssize_t n = read(c->ino, buf, sizeof buf);
            for (char *at = buf; n > 0 && at < buf + n;) {
                const struct inotify_event *ev = (const struct inotify_event *)at;
                for (int i = 0; i < c->n_watched; i++)
                    if (ev->wd == c->w[i].wd && ev->len && !strcmp(ev->name, c->w[i].name))
                        c->w[i].changed_at = rtg_rt_now_ns();
                at += sizeof *ev + ev->len;
            }
        }
        act_on_changes(c);
    }
    return NULL;
}

/* ---- the console ---- */

int rtg_console_start(const rtg_console_config *cfg, rtg_console **out, rtg_error *err)
{
    *out = NULL;
    rtg_console *c = calloc(1, sizeof *c);
    if (!c)
        return rtg_error_set(err, RTG_ENOMEM, "out of memory");
    c->cfg = *cfg;
    c->ino = -1;
    pthread_mutex_init(&c->say_lock, NULL);
    atomic_init(&c->stop, 0);
    atomic_init(&c->quit, 0);
    int rc;
    if (cfg->watch) {
        c->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (c->ino < 0) {
            rtg_console_stop(c);
            return rtg_error_set(err, RTG_EIO, "cannot watch files: inotify: %s", strerror(errno));
        }
        watch_files(c);
        if ((rc = pthread_create(&c->watcher, NULL, watcher_main, c))) {
            rtg_console_stop(c);
            return rtg_error_set(err, RTG_ENOMEM, "cannot start the watcher: %s", strerror(rc));
        }
        c->watcher_started = 1;
    }
    if (cfg->fd >= 0) {
        if ((rc = pthread_create(&c->reader, NULL, reader_main, c))) {
            rtg_console_stop(c);
            return rtg_error_set(err, RTG_ENOMEM, "cannot start the console: %s", strerror(rc));
        }
        c->reader_started = 1;
    }
    *out = c;
    return RTG_OK;
}

int rtg_console_quit_requested(rtg_console *c)
{
    return atomic_load(&c->quit);
}

void rtg_console_report_events(rtg_console *c)
{
    rtg_engine_event ev;
    while (rtg_engine_next_event(c->cfg.engine, &ev)) {
        char text[256];
        rtg_console_format_event(&ev, text, sizeof text);
        rtg_console_say(c, "rtgraph: %s", text);
    }
}

void rtg_console_tick(rtg_console *c)
{
    rtg_console_report_events(c);
    if (!c->cfg.status_line)
        return;
    char line[512];
    rtg_console_format_stats(c->cfg.engine, 1, line, sizeof line);
    pthread_mutex_lock(&c->say_lock);
    fprintf(c->cfg.msg, "\r\033[K%s", line);
    fflush(c->cfg.msg);
    c->status_shown = 1;
    pthread_mutex_unlock(&c->say_lock);
}

void rtg_console_stop(rtg_console *c)
{
    if (!c)
        return;
    atomic_store(&c->stop, 1);
    if (c->reader_started)
        pthread_join(c->reader, NULL);
    if (c->watcher_started)
        pthread_join(c->watcher, NULL);
    if (c->ino >= 0)
        close(c->ino);
    if (c->status_shown) {
        fputs("\r\033[K", c->cfg.msg);
        fflush(c->cfg.msg);
    }
    pthread_mutex_destroy(&c->say_lock);
    free(c);
}
