/* rtg_yaml.c — libyaml's document tree with marks and typed access (see rtg_yaml.h). */
#include "rtg_yaml.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rtg_yaml_load(const char *path, rtg_yaml *y, rtg_error *err)
{
    memset(y, 0, sizeof *y);
    y->path = path;
    FILE *f = fopen(path, "rb");
    if (!f)
        return rtg_error_set(err, RTG_EIO, "%s: cannot open: %s", path, strerror(errno));
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        return rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", path);
    }
    yaml_parser_set_input_file(&parser, f);
    int rc = RTG_OK;
    if (!yaml_parser_load(&parser, &y->doc)) {
        yaml_mark_t m = parser.problem_mark;
        if (parser.error == YAML_READER_ERROR) /* bad encoding: libyaml gives an offset only */
            rc = rtg_error_set(err, RTG_EINVAL, "%s:1:1: YAML error at byte %zu: %s", path,
                               parser.problem_offset, parser.problem ? parser.problem : "unreadable");
        else if (parser.error == YAML_MEMORY_ERROR)
            rc = rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", path);
        else
            rc = rtg_error_set(err, RTG_EINVAL, "%s:%zu:%zu: YAML syntax error: %s%s%s", path,
                               m.line + 1, m.column + 1,
                               parser.problem ? parser.problem : "malformed",
                               parser.context ? " " : "", parser.context ? parser.context : "");
    } else {
        y->loaded = 1;
        if (!yaml_document_get_root_node(&y->doc))
            rc = rtg_error_set(err, RTG_EINVAL, "%s:1:1: the file is empty", path);
    }
    yaml_parser_delete(&parser);
    fclose(f);
    if (rc)
        rtg_yaml_free(y);
    return rc;
}

void rtg_yaml_free(rtg_yaml *y)
{
    if (y->loaded)
        yaml_document_delete(&y->doc);
    y->loaded = 0;
}

yaml_node_t *rtg_yaml_root(rtg_yaml *y)
{
    return yaml_document_get_root_node(&y->doc);
}

yaml_node_t *rtg_yaml_node(rtg_yaml *y, int id)
{
    return yaml_document_get_node(&y->doc, id);
}

int rtg_yaml_line(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}

int rtg_yaml_col(const yaml_node_t *n)
{
    return (int)n->start_mark.column + 1;
}

int rtg_yaml_fail(const rtg_yaml *y, rtg_error *err, const yaml_node_t *at, int code,
                  const char *fmt, ...)
{
    char msg[RTG_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rtg_error_set(err, code, "%s:%d:%d: %s", y->path, at ? rtg_yaml_line(at) : 1,
                         at ? rtg_yaml_col(at) : 1, msg);
}

const char *rtg_yaml_text(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

int rtg_yaml_number(const yaml_node_t *n, double *v)
{
    if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *s = (const char *)n->data.scalar.value;
    if (!*s)
        return 0;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(x))
        return 0;
    *v = x;
    return 1;
}

const char *rtg_yaml_kind(const yaml_node_t *n)
{
    double v;
    if (!n)
        return "nothing";
    switch (n->type) {
    case YAML_SCALAR_NODE:
        if (rtg_yaml_number(n, &v))
            return "a number";
        if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && n->data.scalar.length == 0)
            return "an empty value";
        return "a string";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "nothing";
    }
}

/* A mapping key and its place in file order, sorted to find duplicates. */
typedef struct key_at {
    const char *text;
    size_t at;
} key_at;

static int key_cmp(const void *a, const void *b)
{
    const key_at *x = a, *y = b;
    int c = strcmp(x->text, y->text);
    return c ? c : (x->at > y->at) - (x->at < y->at);
}

int rtg_yaml_check_unique_keys(rtg_yaml *y, yaml_node_t *map, const char *where,
                               const char *what, rtg_error *err)
{
    yaml_node_pair_t *a0 = map->data.mapping.pairs.start, *a1 = map->data.mapping.pairs.top;
    const size_t n = (size_t)(a1 - a0);
    /* The first key that is not a scalar; only keys before it can be the
     * duplicate reported (the error is the first one in file order). */
    size_t bad = n;
    for (size_t i = 0; i < n && bad == n; i++)
        if (!rtg_yaml_text(rtg_yaml_node(y, a0[i].key)))
            bad = i;
    /* Sorted by text then position, each run of equal keys starts with the
     * first occurrence; the reported one is the earliest second occurrence.
     * O(n log n): a mapping of many thousand keys must not take minutes. */
    key_at *k = malloc(sizeof *k * (bad ? bad : 1));
    if (!k)
        return rtg_yaml_fail(y, err, map, RTG_ENOMEM, "%sout of memory", where);
    for (size_t i = 0; i < bad; i++)
        k[i] = (key_at){rtg_yaml_text(rtg_yaml_node(y, a0[i].key)), i};
    qsort(k, bad, sizeof *k, key_cmp);
    size_t dup = n, first = 0;
    for (size_t i = 1; i < bad; i++)
        if (!strcmp(k[i].text, k[i - 1].text) && (i < 2 || strcmp(k[i].text, k[i - 2].text)) &&
            k[i].at < dup) {
            dup = k[i].at;
            first = k[i - 1].at;
        }
    free(k);
    if (dup < n) {
        yaml_node_t *ka = rtg_yaml_node(y, a0[dup].key), *kb = rtg_yaml_node(y, a0[first].key);
        return rtg_yaml_fail(y, err, ka, RTG_EINVAL, "%sduplicate %s '%s' (first at %d:%d)",
                             where, what, rtg_yaml_text(ka), rtg_yaml_line(kb), rtg_yaml_col(kb));
    }
    if (bad < n) {
        yaml_node_t *ka = rtg_yaml_node(y, a0[bad].key);
        return rtg_yaml_fail(y, err, ka, RTG_EINVAL, "%skeys must be plain names, got %s", where,
                             rtg_yaml_kind(ka));
    }
    return RTG_OK;
}
