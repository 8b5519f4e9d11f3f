/* test_graph_errors.c — every malformed graph in tests/data/graphs/bad/
 * fails to load with `FILE:LINE:COL: message` at the place its first line
 * names (`# expect: LINE:COL TEXT`), through the API and through
 * `rtgraph check` (exit status 1, the same line on stderr). */
#include "rtg_test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "rtg_graph.h"

#define MAX_CASES 256

typedef struct bad_case {
    char path[2048];
    char where[2100]; /* "PATH:LINE:COL: " */
    char text[256];
} bad_case;

static bad_case cases[MAX_CASES];
static int n_cases;

static int by_path(const void *a, const void *b)
{
    return strcmp(((const bad_case *)a)->path, ((const bad_case *)b)->path);
}

static void read_cases(void)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", rtg_test_source("tests/data/graphs/bad"));
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) && n_cases < MAX_CASES) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml"))
            continue;
        bad_case *c = &cases[n_cases++];
        char path[sizeof c->path];
        snprintf(path, sizeof path, "%s/%.256s", dir, e->d_name);
        memcpy(c->path, path, sizeof path);
        FILE *f = fopen(c->path, "r");
        assert_non_null(f);
        char line[512] = "";
        if (!fgets(line, sizeof line, f))
            line[0] = 0;
        fclose(f);
        int l, col, at = 0;
        if (sscanf(line, "# expect: %d:%d %n", &l, &col, &at) != 2 || !at)
            fail_msg("%s: first line must be '# expect: LINE:COL TEXT'", c->path);
        snprintf(c->text, sizeof c->text, "%s", line + at);
        c->text[strcspn(c->text, "\n")] = 0;
        snprintf(c->where, sizeof c->where, "%s:%d:%d: ", path, l, col);
    }
    closedir(d);
    qsort(cases, (size_t)n_cases, sizeof cases[0], by_path);
}

static void enough_cases(void **st)
{
    (void)st;
    assert_true(n_cases >= 25);
}

static void api_reports_place_and_reason(void **st)
{
    (void)st;
    for (int i = 0; i < n_cases; i++) {
        rtg_graph *g = (rtg_graph *)1;
        rtg_error err = {{0}};
        int rc = rtg_graph_load(cases[i].path, NULL, &g, &err);
        if (rc == RTG_OK)
            fail_msg("%s: loaded, but should fail with '%s'", cases[i].path, cases[i].text);
        assert_null(g);
        if (strncmp(err.msg, cases[i].where, strlen(cases[i].where)) || !strstr(err.msg, cases[i].text))
            fail_msg("got:  %s\nwant: %s... %s", err.msg, cases[i].where, cases[i].text);
        assert_null(strchr(err.msg, '\n'));
    }
}

static void cli_check_fails_with_one_line(void **st)
{
    (void)st;
    char exe[1200];
    snprintf(exe, sizeof exe, "%s/rtgraph", RTG_BINARY_DIR);
    for (int i = 0; i < n_cases; i++) {
        char cmd[4096], out[2048] = "";
        snprintf(cmd, sizeof cmd, "'%.1200s' check '%.2048s' 2>&1 >/dev/null", exe, cases[i].path);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        size_t n = fread(out, 1, sizeof out - 1, p);
        out[n] = 0;
        int status = pclose(p);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) != 1)
            fail_msg("%s: rtgraph check exited %d: %s", cases[i].path, WEXITSTATUS(status), out);
        if (strncmp(out, cases[i].where, strlen(cases[i].where)) || !strstr(out, cases[i].text))
            fail_msg("got:  %s\nwant: %s... %s", out, cases[i].where, cases[i].text);
        assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1); /* one line */
    }
}

int main(void)
{
    read_cases();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(enough_cases),
        cmocka_unit_test(api_reports_place_and_reason),
        cmocka_unit_test(cli_check_fails_with_one_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
