/* rtg_automation.c — automation files and block-split processing (see
 * rtg_automation.h). */
#include "rtg_automation.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One whitespace-separated token of a line. */
typedef struct token {
    const char *s;
    int len, col; /* col 1-based */
} token;

static int split_line(const char *line, int len, token *t, int max)
{
    int n = 0, i = 0;
    while (i < len) {
        while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
            i++;
        if (i >= len || line[i] == '#')
            break;
        int start = i;
        while (i < len && !isspace((unsigned char)line[i]) && line[i] != '#')
            i++;
        if (n < max)
            t[n] = (token){line + start, i - start, start + 1};
        n++;
    }
    return n;
}

static int parse_double(const token *t, double *v)
{
    char buf[64];
    if (t->len >= (int)sizeof buf)
        return 0;
    memcpy(buf, t->s, (size_t)t->len);
    buf[t->len] = 0;
    char *end;
    errno = 0;
    *v = strtod(buf, &end);
    return *end == 0 && errno == 0 && isfinite(*v);
}

int rtg_automation_parse(const char *text, const char *name, const rtg_graph *g,
                         rtg_automation *a, rtg_error *err)
{
    memset(a, 0, sizeof *a);
    int cap = 0, line_no = 0;
    double last_time = 0;
    const char *line = text;
    while (*line) {
        const char *nl = strchr(line, '\n');
        int len = nl ? (int)(nl - line) : (int)strlen(line);
        line_no++;
        token t[4];
        int n = split_line(line, len, t, 4);
        if (n > 0) {
            int bad_col = n > 3 ? t[3].col : len + 1;
            if (n != 3) {
                rtg_automation_free(a);
                return rtg_error_set(err, RTG_EINVAL, "%s:%d:%d: %s: expected TIME_S NODE.PARAM VALUE",
                                     name, line_no, bad_col, n > 3 ? "extra text" : "too few fields");
            }
            double time, value;
            if (!parse_double(&t[0], &time) || time < 0) {
                rtg_automation_free(a);
                return rtg_error_set(err, RTG_EINVAL, "%s:%d:%d: time '%.*s' is not a number of seconds >= 0",
                                     name, line_no, t[0].col, t[0].len, t[0].s);
            }
            if (time < last_time) {
                rtg_automation_free(a);
                return rtg_error_set(err, RTG_EINVAL, "%s:%d:%d: time %g is before the previous change (%g); times must not decrease",
                                     name, line_no, t[0].col, time, last_time);
            }
            last_time = time;
            char pname[128];
            rtg_param_ref ref;
            rtg_error sub;
            snprintf(pname, sizeof pname, "%.*s", t[1].len, t[1].s);
            if (rtg_graph_find_param(g, pname, &ref, &sub)) {
                rtg_automation_free(a);
                return rtg_error_set(err, RTG_EINVAL, "%s:%d:%d: %s", name, line_no, t[1].col, sub.msg);
            }
            if (!parse_double(&t[2], &value)) {
                rtg_automation_free(a);
                return rtg_error_set(err, RTG_EINVAL, "%s:%d:%d: value '%.*s' is not a number", name,
                                     line_no, t[2].col, t[2].len, t[2].s);
            }
            if (rtg_graph_check_param_value(&ref, value, &sub)) {
                rtg_automation_free(a);
                return rtg_error_set(err, RTG_EINVAL, "%s:%d:%d: %s", name, line_no, t[2].col, sub.msg);
            }
            if (a->n_events == cap) {
                cap = cap ? 2 * cap : 64;
                rtg_automation_event *ev = realloc(a->events, sizeof *ev * (size_t)cap);
                if (!ev) {
                    rtg_automation_free(a);
                    return rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", name);
                }
                a->events = ev;
            }
            a->events[a->n_events++] = (rtg_automation_event){
                .frame = (long)floor(time * g->sample_rate + 0.5),
                .step = ref.step, .index = ref.index, .value = (float)value};
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    return RTG_OK;
}

int rtg_automation_load(const char *path, const rtg_graph *g, rtg_automation *a, rtg_error *err)
{
    memset(a, 0, sizeof *a);
    FILE *f = fopen(path, "rb");
    if (!f)
        return rtg_error_set(err, RTG_EIO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    while (text) {
        len += fread(text + len, 1, cap - 1 - len, f);
        if (len < cap - 1)
            break;
        char *more = realloc(text, cap * 2);
        if (!more) {
            free(text);
            text = NULL;
            break;
        }
        text = more;
        cap *= 2;
    }
    int failed = ferror(f);
    fclose(f);
    if (!text)
        return rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", path);
    if (failed) {
        free(text);
        return rtg_error_set(err, RTG_EIO, "%s: read error", path);
    }
    text[len] = 0;
    if (strlen(text) != len) {
        free(text);
        return rtg_error_set(err, RTG_EINVAL, "%s: not a text file", path);
    }
    int rc = rtg_automation_parse(text, path, g, a, err);
    free(text);
    return rc;
}

void rtg_automation_free(rtg_automation *a)
{
    free(a->events);
    memset(a, 0, sizeof *a);
}

void rtg_automation_process(rtg_plan *p, rtg_automation *a, long pos, const float *in,
                            float *out, long frames, int block)
{
    if (block < 1 || block > p->max_block)
        block = p->max_block;
    const long end = pos + frames;
    while (pos < end) {
        while (a && a->next < a->n_events && a->events[a->next].frame <= pos) {
            const rtg_automation_event *e = &a->events[a->next++];
            rtg_plan_set_param(p, e->step, e->index, e->value);
        }
        long n = end - pos < block ? end - pos : block;
        if (a && a->next < a->n_events && a->events[a->next].frame < pos + n)
            n = a->events[a->next].frame - pos;
        rtg_plan_process(p, in, out, (int)n);
        in += (size_t)n * (size_t)p->n_inputs;
        out += (size_t)n * (size_t)p->n_outputs;
        pos += n;
    }
}
