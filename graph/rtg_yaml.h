/* rtg_yaml.h — a YAML file as libyaml's document tree, with typed access
 * and errors located at the node they are about.
 *
 * The graph loader reads a file through this and never touches the parser:
 * every node keeps libyaml's start mark, and every error comes out as
 * `FILE:LINE:COL: message` (1-based line and column). Mapping keys are kept
 * in file order and duplicates are kept too (libyaml does not reject them),
 * so rtg_yaml_check_unique_keys() is how a reader rejects them.
 *
 * Thread: non-real-time throughout.
 */
#ifndef RTG_YAML_H
#define RTG_YAML_H

#include <yaml.h>

#include "rtg_error.h"

typedef struct rtg_yaml {
    yaml_document_t doc;
    int loaded;       /* doc must be deleted */
    const char *path; /* as given to rtg_yaml_load; borrowed */
} rtg_yaml;

/* Parses the first document of `path`. A syntax error is reported at the
 * parser's mark; an empty file is an error at 1:1. On failure nothing needs
 * freeing (rtg_yaml_free is still safe to call). */
int rtg_yaml_load(const char *path, rtg_yaml *y, rtg_error *err);

void rtg_yaml_free(rtg_yaml *y);

/* The root node (never NULL after a successful load). */
yaml_node_t *rtg_yaml_root(rtg_yaml *y);

/* Node by id, as mapping pairs and sequence items store them. */
yaml_node_t *rtg_yaml_node(rtg_yaml *y, int id);

/* Formats "PATH:LINE:COL: message" at node `at`'s start (1:1 when NULL)
 * into err; returns `code`. */
int rtg_yaml_fail(const rtg_yaml *y, rtg_error *err, const yaml_node_t *at, int code,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* 1-based line and column of a node, for messages and tests. */
int rtg_yaml_line(const yaml_node_t *n);
int rtg_yaml_col(const yaml_node_t *n);

/* "a number", "a string", "a list", "a mapping": what a node is, for
 * "expected X, got Y" messages. A plain scalar that parses as a number is
 * "a number"; anything else scalar is "a string". */
const char *rtg_yaml_kind(const yaml_node_t *n);

/* The text of a scalar node (NUL-terminated by libyaml), or NULL if the
 * node is not a scalar. */
const char *rtg_yaml_text(const yaml_node_t *n);

/* Reads a plain scalar as a finite number. Quoted scalars are strings, not
 * numbers, as in YAML's core schema. Returns 1 on success. */
int rtg_yaml_number(const yaml_node_t *n, double *v);

/* Fails at the second occurrence of any key that appears twice in the
 * mapping `map` ("duplicate WHAT 'x' (first at L:C)", WHAT being e.g.
 * "field" or "node"), prefixed with `where` ("" for none). Keys that are
 * not scalars are an error too. */
int rtg_yaml_check_unique_keys(rtg_yaml *y, yaml_node_t *map, const char *where,
                               const char *what, rtg_error *err);

#endif
