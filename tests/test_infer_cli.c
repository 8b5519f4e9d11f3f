/* test_infer_cli.c — `rtgraph infer` as a user runs it: the same output for
 * every --block, matching the framework's reference at RTNeural's
 * threshold; a malformed model fails with a non-zero exit and one line on
 * stderr naming the file. */
#include "rtg_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp_dir[256];
static char rtgraph[600];

/* The CLI lands at the top of the build tree (io/CMakeLists.txt). */
static int find_cli(void)
{
    static const char *const places[] = {RTG_BINARY_DIR "/rtgraph", RTG_BINARY_DIR "/io/rtgraph"};
    for (size_t i = 0; i < sizeof places / sizeof places[0]; i++)
        if (access(places[i], X_OK) == 0) {
            snprintf(rtgraph, sizeof rtgraph, "%s", places[i]);
            return 1;
        }
    return 0;
}

/* Runs `rtgraph ARGS`, stderr captured; returns the exit status. */
static int run_cli(const char *args, char *err_text, size_t size)
{
    char cmd[2048], err_path[300];
    snprintf(err_path, sizeof err_path, "%s/stderr.txt", tmp_dir);
    snprintf(cmd, sizeof cmd, "'%s' %s 2> '%s'", rtgraph, args, err_path);
    int status = system(cmd);
    assert_true(status != -1 && WIFEXITED(status));
    FILE *f = fopen(err_path, "r");
    assert_non_null(f);
    size_t n = fread(err_text, 1, size - 1, f);
    err_text[n] = '\0';
    fclose(f);
    return WEXITSTATUS(status);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static const struct {
    const char *model, *x, *y;
    double tol;
} cases[] = {
    {"models/lstm.json", "test_data/lstm_x_python.csv", "test_data/lstm_y_python.csv", 1e-6},
    {"models/gru.json", "test_data/gru_x_python.csv", "test_data/gru_y_python.csv", 5e-6},
    {"models/gru_torch.json", "test_data/gru_torch_x_python.csv",
     "test_data/gru_torch_y_python.csv", 1e-6},
};

static void blocks_agree_and_match_reference(void **st)
{
    (void)st;
    static const int blocks[] = {1, 7, 64, 128};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char model[512], x[512], y[512], rel[128];
        snprintf(rel, sizeof rel, "conformance/rtneural/%s", cases[c].model);
        snprintf(model, sizeof model, "%s", rtg_test_shared(rel));
        snprintf(rel, sizeof rel, "conformance/rtneural/%s", cases[c].x);
        snprintf(x, sizeof x, "%s", rtg_test_shared(rel));
        snprintf(rel, sizeof rel, "conformance/rtneural/%s", cases[c].y);
        snprintf(y, sizeof y, "%s", rtg_test_shared(rel));
        rtg_csv want, first = {0};
        rtg_test_load_csv(y, &want);
        printf("  rtgraph infer %s\n", cases[c].model);
        for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
            char out[400], args[1600], err_text[1024], what[96];
            snprintf(out, sizeof out, "%s/y_%d.csv", tmp_dir, blocks[b]);
            snprintf(args, sizeof args, "infer '%s' --in '%s' --out '%s' --block %d", model, x, out,
                     blocks[b]);
            int status = run_cli(args, err_text, sizeof err_text);
            if (status != 0)
                fail_msg("exit %d: %s", status, err_text);
            assert_string_equal(err_text, "");
            rtg_csv got;
            rtg_test_load_csv(out, &got);
            assert_int_equal(got.frames, want.frames);
            assert_int_equal(got.channels, want.channels);
            snprintf(what, sizeof what, "--block %d vs reference", blocks[b]);
            double e = rtg_test_assert_close(got.data, want.data,
                                             (size_t)got.frames * (size_t)got.channels,
                                             cases[c].tol, what);
            printf("    %-28s max error %.2e (threshold %.0e)\n", what, e, cases[c].tol);
            if (!first.data) {
                first = got;
                continue;
            }
            snprintf(what, sizeof what, "--block %d vs --block 1", blocks[b]);
            e = rtg_test_assert_close(got.data, first.data,
                                      (size_t)got.frames * (size_t)got.channels, 1e-6, what);
            printf("    %-28s max error %.2e (threshold 1e-06)\n", what, e);
            rtg_csv_free(&got);
        }
        rtg_csv_free(&first);
        rtg_csv_free(&want);
    }
}

/* A malformed model: non-zero exit, one line on stderr that names the file. */
static void bad_model_fails_with_one_line(void **st)
{
    (void)st;
    char x[300], out[300];
    snprintf(x, sizeof x, "%s/x.csv", tmp_dir);
    snprintf(out, sizeof out, "%s/never.csv", tmp_dir);
    FILE *f = fopen(x, "w");
    assert_non_null(f);
    fputs("0.5\n-0.25\n0.125\n", f);
    fclose(f);
    static const char *const bad[] = {
        "tests/data/bad_models/chain_break.json",
        "tests/data/bad_models/syntax_error.json",
        "tests/data/bad_models/torch_rnn_rows.json",
        "tests/data/bad_models/does_not_exist.json",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char model[600], args[1600], err_text[2048];
        snprintf(model, sizeof model, "%s", rtg_test_source(bad[i]));
        snprintf(args, sizeof args, "infer '%s' --in '%s' --out '%s' --block 7", model, x, out);
        int status = run_cli(args, err_text, sizeof err_text);
        printf("    exit %d: %s", status, err_text);
        assert_int_not_equal(status, 0);
        assert_int_equal(count_lines(err_text), 1);
        assert_non_null(strstr(err_text, model));
        assert_int_not_equal(access(out, F_OK), 0); /* nothing written */
    }
}

static int setup(void **st)
{
    (void)st;
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/rtg_infer_cli_XXXXXX");
    return mkdtemp(tmp_dir) ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!find_cli()) {
        fprintf(stderr, "test_infer_cli: %s/rtgraph is not built\n", RTG_BINARY_DIR);
        return 1;
    }
    const struct CMUnitTest with_shared[] = {
        cmocka_unit_test(blocks_agree_and_match_reference),
        cmocka_unit_test(bad_model_fails_with_one_line),
    };
    const struct CMUnitTest without_shared[] = {
        cmocka_unit_test(bad_model_fails_with_one_line),
    };
    if (rtg_test_have_shared("test_infer_cli"))
        return cmocka_run_group_tests(with_shared, setup, teardown);
    return cmocka_run_group_tests(without_shared, setup, teardown);
}
