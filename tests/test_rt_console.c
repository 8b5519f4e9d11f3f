/* test_rt_console.c — the console's command language against a real
 * engine: each command does what it says, every malformed or impossible
 * command is refused with a message that names the problem, and a refusal
 * changes nothing. */
#include "rtg_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_console.h"
#include "rtg_rt_fixtures.h"
#include "rtgraph.h"

static const char *graph_path, *model_a, *model_b;

static int setup(void **st)
{
    (void)st;
    model_a = rtg_fx_model("a.json", RTG_FX_LSTM, 1, 8, 1, 0.8f);
    model_b = rtg_fx_model("b.json", RTG_FX_GRU, 1, 6, 2, 1.0f);
    char text[1024];
    snprintf(text, sizeof text,
             "rtgraph: 1\nsample_rate: 48000\nblock_size: 64\n"
             "nodes:\n"
             "  drive: {op: gain, in: in, params: {db: 0}}\n"
             "  amp: {op: model, in: drive, file: %s}\n"
             "outputs: [amp]\n",
             model_a);
    graph_path = rtg_fx_write("console.yaml", text);
    return 0;
}

static rtg_engine *engine(void)
{
    rtg_engine_config cfg = rtg_engine_config_init();
    cfg.graph = graph_path;
    rtg_engine *e;
    rtg_error err;
    if (rtg_engine_init(&cfg, &e, &err))
        fail_msg("%s", err.msg);
    return e;
}

/* Runs `line`; returns what it printed (static). */
static const char *run(rtg_engine *e, const char *line, int want_rc, rtg_error *err)
{
    static char out[4096];
    FILE *f = fmemopen(out, sizeof out, "w");
    assert_non_null(f);
    memset(err, 0, sizeof *err);
    int rc = rtg_console_execute(e, line, f, err);
    fclose(f);
    if (rc != want_rc)
        fail_msg("'%s': returned %d, want %d (%s)", line, rc, want_rc, err->msg);
    return out;
}

static void refused(rtg_engine *e, const char *line, const char *says)
{
    rtg_error err;
    run(e, line, RTG_CONSOLE_REFUSED, &err);
    if (!strstr(err.msg, says))
        fail_msg("'%s' refused with \"%s\", which does not say \"%s\"", line, err.msg, says);
}

static void commands_do_what_they_say(void **st)
{
    (void)st;
    rtg_engine *e = engine();
    rtg_error err;
    char line[1200];
    run(e, "set drive.db -6.5", RTG_CONSOLE_OK, &err);
    run(e, "  set   drive.db   2   # trailing comment", RTG_CONSOLE_OK, &err);
    snprintf(line, sizeof line, "swap amp %s", model_b);
    run(e, line, RTG_CONSOLE_OK, &err);
    run(e, "reload", RTG_CONSOLE_OK, &err);
    snprintf(line, sizeof line, "reload %s", graph_path);
    run(e, line, RTG_CONSOLE_OK, &err);
    run(e, "", RTG_CONSOLE_OK, &err);
    run(e, "# only a comment", RTG_CONSOLE_OK, &err);
    float x[64] = {0}, y[64];
    for (int i = 0; i < 20; i++)
        rtg_engine_process(e, x, y, 64);
    const char *out = run(e, "stats", RTG_CONSOLE_OK, &err);
    assert_non_null(strstr(out, "callbacks 20 (1280 frames), xruns 0"));
    assert_non_null(strstr(out, "commands  2 params, 1 swaps, 2 reloads, 0 refused"));
    assert_non_null(strstr(out, "console.yaml #3"));
    out = run(e, "help", RTG_CONSOLE_OK, &err);
    assert_non_null(strstr(out, "swap NODE FILE"));
    run(e, "quit", RTG_CONSOLE_QUIT, &err);
    char one[512];
    rtg_console_format_stats(e, 1, one, sizeof one);
    assert_null(strchr(one, '\n'));
    assert_non_null(strstr(one, "xruns 0 | console.yaml #3"));
    rtg_engine_uninit(e);
}

static void bad_commands_are_refused_with_reasons(void **st)
{
    (void)st;
    rtg_engine *e = engine();
    char line[1200];
    refused(e, "frobnicate", "unknown command 'frobnicate' (try 'help')");
    refused(e, "set", "usage: set NODE.PARAM VALUE");
    refused(e, "set drive.db", "usage: set NODE.PARAM VALUE");
    refused(e, "set drive.db 1 2", "usage");
    refused(e, "set drive.db loud", "set drive.db: 'loud' is not a number");
    refused(e, "set drive.db 1e999", "not a number");
    refused(e, "set drive.db 1000", "drive.db");
    refused(e, "set amp.db 0", "amp");
    refused(e, "set nosuch.db 0", "nosuch");
    refused(e, "swap amp", "usage: swap NODE FILE");
    refused(e, "swap amp /no/such/file.json", "/no/such/file.json");
    snprintf(line, sizeof line, "swap drive %s", model_b);
    refused(e, line, "node 'drive' is a gain node, not a swappable model node");
    snprintf(line, sizeof line, "swap cab %s", model_b);
    refused(e, line, "unknown node 'cab' (model nodes: 'amp')");
    snprintf(line, sizeof line, "swap amp %s", rtg_fx_model("wide.json", RTG_FX_LSTM, 3, 4, 9, 1.0f));
    refused(e, line, "takes 1 input");
    refused(e, "reload /no/such/graph.yaml", "/no/such/graph.yaml");
    refused(e, "reload a b", "usage: reload [FILE]");
    refused(e, "stats now", "stats takes no arguments");
    char longline[5000];
    memset(longline, 'x', sizeof longline - 1);
    longline[sizeof longline - 1] = 0;
    refused(e, longline, "line too long");
    rtg_engine_stats s;
    rtg_engine_get_stats(e, &s);
    /* engine-side refusals count; parse errors never reached it */
    assert_int_equal(s.rejected, 8);
    assert_int_equal(s.params + s.swaps + s.reloads, 0);
    rtg_engine_uninit(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(commands_do_what_they_say),
        cmocka_unit_test(bad_commands_are_refused_with_reasons),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
