/* test_model_formats.c — AIDA-X (.aidax) and GuitarML / Automated-
 * GuitarAmpModelling files: their wrapping (input gain, skip, output gain)
 * and metadata, the AIDA-X self-test as `rtgraph check` runs it, rendering
 * an .aidax, a conditioned GuitarML model fed a knob by a graph, and the
 * messages malformed files get. Every expected output comes from the NumPy
 * reference in tools/make_format_fixtures.py, not from rtgraph. */
#include "rtg_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rtg_audio_file.h"
#include "rtg_graph.h"
#include "rtg_model.h"

static char tmp_dir[256];
static char rtgraph[600];

/* What the engine's float math may differ from the float64 reference by
 * (outputs peak near 1; the observed error is ~1e-7). */
#define REF_TOL 2e-5

static const char *fixture(const char *name)
{
    static char path[600];
    char rel[200];
    snprintf(rel, sizeof rel, "tests/data/formats/%s", name);
    snprintf(path, sizeof path, "%s", rtg_test_source(rel));
    return path;
}

static rtg_model *load_ok(const char *name)
{
    rtg_model *m = NULL;
    rtg_error err = {{0}};
    if (rtg_model_load(fixture(name), &m, &err))
        fail_msg("%s", err.msg);
    return m;
}

/* ---- the CLI ------------------------------------------------------------ */

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

static void read_text(const char *path, char *text, size_t size)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, size - 1, f);
    text[n] = '\0';
    fclose(f);
}

/* Runs `rtgraph ARGS`, stdout and stderr captured; returns the exit status. */
static int run_cli(const char *args, char *out_text, size_t out_size, char *err_text,
                   size_t err_size)
{
    char cmd[2400], out_path[300], err_path[300];
    snprintf(out_path, sizeof out_path, "%s/stdout.txt", tmp_dir);
    snprintf(err_path, sizeof err_path, "%s/stderr.txt", tmp_dir);
    snprintf(cmd, sizeof cmd, "'%s' %s > '%s' 2> '%s'", rtgraph, args, out_path, err_path);
    int status = system(cmd);
    assert_true(status != -1 && WIFEXITED(status));
    read_text(out_path, out_text, out_size);
    read_text(err_path, err_text, err_size);
    return WEXITSTATUS(status);
}

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("expected \"%s\" in:\n%s", part, text);
}

/* ---- AIDA-X -------------------------------------------------------------- */

static void aidax_reads_wrapping_and_metadata(void **st)
{
    (void)st;
    rtg_model *m = load_ok("aidax_lstm.aidax");
    assert_int_equal(m->in_ch, 1);
    assert_int_equal(m->out_ch, 1);
    assert_int_equal(m->n_layers, 2);
    assert_int_equal(m->skip, 1);
    assert_true(m->in_gain_db == -3.0f);
    assert_true(m->out_gain_db == 2.5f);
    assert_true(m->meta.sample_rate == 48000); /* "samplerate": "48000", a string */
    assert_string_equal(m->meta.name, "Fixture Twin");
    assert_string_equal(m->meta.modeled_by, "rtgraph tests");
    assert_int_equal(m->n_ref, 600);
    rtg_model_free(m);

    /* Plain RTNeural Keras JSON: no wrapping, no stated rate. */
    rtg_error err = {{0}};
    if (rtg_model_load(rtg_test_source("models/amp_lstm.json"), &m, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(m->skip, 0);
    assert_true(m->in_gain_db == 0 && m->out_gain_db == 0);
    assert_true(m->meta.sample_rate == 0);
    assert_null(m->ref_in);
    rtg_selftest_result r;
    assert_int_not_equal(rtg_model_selftest(m, 64, 48000, &r, &err), RTG_OK);
    assert_non_null(strstr(err.msg, "has no input_batch/output_batch"));
    rtg_model_free(m);
}

/* The self-test passes at every block size, far inside its tolerance, and
 * the wrapping is what makes it pass: without the skip it fails. */
static void aidax_selftest_passes(void **st)
{
    (void)st;
    static const char *const files[] = {"aidax_lstm.aidax", "aidax_cond.aidax"};
    static const int blocks[] = {1, 7, 128};
    for (size_t f = 0; f < 2; f++) {
        rtg_model *m = load_ok(files[f]);
        for (size_t b = 0; b < 3; b++) {
            rtg_selftest_result r;
            rtg_error err = {{0}};
            if (rtg_model_selftest(m, blocks[b], 48000, &r, &err))
                fail_msg("%s", err.msg);
            printf("    %-18s block %3d: max error %.2e (tolerance %.2e, peak %.3f)\n", files[f],
                   blocks[b], r.max_err, r.tolerance, r.peak);
            assert_true(r.pass);
            assert_int_equal(r.frames, m->n_ref);
            assert_true(r.max_err < REF_TOL);
            assert_true(r.tolerance == fmax(RTG_SELFTEST_REL_TOL * r.peak, RTG_SELFTEST_ABS_FLOOR));
        }
        m->skip = 0; /* drop the wrapping the file asks for: the test must notice */
        rtg_selftest_result r;
        rtg_error err = {{0}};
        assert_int_equal(rtg_model_selftest(m, 64, 48000, &r, &err), RTG_OK);
        assert_false(r.pass);
        rtg_model_free(m);
    }
    rtg_model *m = load_ok("aidax_cond.aidax");
    assert_int_equal(m->in_ch, 2); /* audio + knob; the knob is 0 in the test */
    assert_int_equal(m->skip, 1);  /* "in_skip": true */
    assert_true(m->meta.sample_rate == 48000);
    rtg_model_free(m);
}

static void aidax_wrong_batch_fails(void **st)
{
    (void)st;
    rtg_model *m = load_ok("aidax_wrong_batch.aidax");
    rtg_selftest_result r;
    rtg_error err = {{0}};
    assert_int_equal(rtg_model_selftest(m, 128, 48000, &r, &err), RTG_OK);
    assert_false(r.pass);
    assert_true(fabs(r.max_err - 0.01) < 1e-4); /* the fixture adds 0.01 from frame 300 on */
    assert_true(r.worst_frame >= 300);
    rtg_model_free(m);
}

static void check_cli_runs_selftest(void **st)
{
    (void)st;
    char out[16384], err[4096], args[800];
    snprintf(args, sizeof args, "check '%s'", fixture("aidax_lstm.aidax"));
    int status = run_cli(args, out, sizeof out, err, sizeof err);
    if (status != 0)
        fail_msg("exit %d: %s", status, err);
    assert_string_equal(err, "");
    assert_contains(out, "self-test 600 frames of input_batch: max abs error");
    assert_contains(out, "): pass");
    assert_contains(out, "name           Fixture Twin");
    assert_contains(out, "modeled by     rtgraph tests");
    assert_contains(out, "trained at     48000 Hz");
    assert_contains(out, "model/in_gain");
    assert_contains(out, "model/skip");

    snprintf(args, sizeof args, "check '%s'", fixture("aidax_wrong_batch.aidax"));
    status = run_cli(args, out, sizeof out, err, sizeof err);
    printf("    exit %d: %s", status, err);
    assert_int_equal(status, 1);
    assert_contains(err, "aidax_wrong_batch.aidax: self-test failed: max abs error 0.01 at frame");
    assert_contains(err, "does not reproduce its output_batch");
    assert_contains(out, "FAIL");

    /* a .nam shows its metadata too */
    snprintf(args, sizeof args, "check '%s'", rtg_test_source("tests/data/nam/tiny_lstm.nam"));
    status = run_cli(args, out, sizeof out, err, sizeof err);
    assert_int_equal(status, 0);
    assert_contains(out, "trained at");

    /* a WaveNet runs as one fused step: its weights are the file's (131
     * values in its weights array) and the model row counts the step's
     * MACs, not those of the layers it was read as */
    snprintf(args, sizeof args, "check '%s'", rtg_test_source("tests/data/nam/tiny_wavenet.nam"));
    status = run_cli(args, out, sizeof out, err, sizeof err);
    assert_int_equal(status, 0);
    assert_contains(out, "weights   131 floats");
    char *slot = strstr(out, "  model  "), *step = strstr(out, "nam_wavenet");
    assert_non_null(slot);
    assert_non_null(step);
    long slot_macs = strtol(strchr(slot, '\n') - 8, NULL, 10);
    long step_macs = strtol(strchr(step, '\n') - 8, NULL, 10);
    assert_true(step_macs > 0);
    assert_int_equal(slot_macs, step_macs);
}

/* `rtgraph render FILE.aidax`: the rendered file is the model's output_batch. */
static void render_aidax(void **st)
{
    (void)st;
    rtg_model *m = load_ok("aidax_lstm.aidax");
    char in[400], out[400], args[2000], out_text[8192], err_text[4096];
    snprintf(in, sizeof in, "%s/in.wav", tmp_dir);
    snprintf(out, sizeof out, "%s/out.wav", tmp_dir);
    rtg_error err = {{0}};
    if (rtg_audio_write_all(in, m->ref_in, m->n_ref, 1, 48000, &err))
        fail_msg("%s", err.msg);
    snprintf(args, sizeof args, "render -q '%s' '%s' '%s'", fixture("aidax_lstm.aidax"), in, out);
    int status = run_cli(args, out_text, sizeof out_text, err_text, sizeof err_text);
    if (status != 0)
        fail_msg("exit %d: %s", status, err_text);
    long frames = 0;
    int rate = 0;
    float *y = rtg_test_load_mono(out, &frames, &rate);
    assert_int_equal(frames, m->n_ref);
    assert_int_equal(rate, 48000);
    double e = rtg_test_assert_close(y, m->ref_out, (size_t)frames, REF_TOL, "render vs output_batch");
    printf("    render max error %.2e\n", e);
    free(y);
    rtg_model_free(m);
}

/* ---- GuitarML ------------------------------------------------------------- */

/* Runs a graph (or model) file over CSV input and compares with CSV. */
static void run_against(const char *graph, const char *x_csv, const char *y_csv, int block)
{
    rtg_graph_options opt = {.max_block = block, .sample_rate = 48000};
    rtg_graph *g = NULL;
    rtg_error err = {{0}};
    if (rtg_graph_load(graph, &opt, &g, &err))
        fail_msg("%s", err.msg);
    rtg_csv x, want;
    rtg_test_load_csv(x_csv, &x);
    rtg_test_load_csv(y_csv, &want);
    assert_int_equal(x.channels, 1);
    assert_int_equal(g->n_inputs, 1);
    assert_int_equal(g->n_outputs, want.channels);
    float *y = calloc((size_t)x.frames * (size_t)want.channels, sizeof *y);
    assert_non_null(y);
    rtg_plan_process_long(g->plan, x.data, y, x.frames);
    char what[200];
    snprintf(what, sizeof what, "%s --block %d", strrchr(graph, '/') + 1, block);
    double e = rtg_test_assert_close(y, want.data, (size_t)x.frames * (size_t)want.channels,
                                     REF_TOL, what);
    printf("    %-34s max error %.2e\n", what, e);
    free(y);
    rtg_csv_free(&x);
    rtg_csv_free(&want);
    rtg_graph_free(g);
}

static void guitarml_models_match_reference(void **st)
{
    (void)st;
    rtg_model *m = load_ok("gml_lstm_skip.json");
    assert_int_equal(m->skip, 1);
    assert_int_equal(m->n_layers, 2);
    assert_int_equal(m->layers[0].type, RTG_LAYER_LSTM);
    assert_int_equal(m->layers[0].out_ch, 8);
    assert_int_equal(m->layers[1].type, RTG_LAYER_DENSE);
    assert_true(m->meta.sample_rate == 0); /* the file states none */
    rtg_model_free(m);
    m = load_ok("gml_gru.json");
    assert_int_equal(m->skip, 0);
    assert_int_equal(m->n_layers, 3); /* num_layers 2, then lin */
    assert_int_equal(m->layers[0].type, RTG_LAYER_GRU);
    assert_int_equal(m->layers[1].type, RTG_LAYER_GRU);
    rtg_model_free(m);

    char x[600];
    snprintf(x, sizeof x, "%s", fixture("gml_x.csv"));
    static const char *const cases[][2] = {
        {"gml_lstm_skip.json", "gml_lstm_skip_y.csv"},
        {"gml_gru.json", "gml_gru_y.csv"},
    };
    for (size_t c = 0; c < 2; c++)
        for (int block = 1; block <= 64; block *= 8) {
            char model[600];
            snprintf(model, sizeof model, "%s", fixture(cases[c][0]));
            run_against(model, x, fixture(cases[c][1]), block);
        }

    /* one layer of a GuitarML file, as a graph's `weights:` names it */
    rtg_error err = {{0}};
    if (rtg_model_load_layer(fixture("gml_gru.json"), "rec", 1, &m, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(m->n_layers, 1);
    assert_int_equal(m->layers[0].type, RTG_LAYER_GRU);
    assert_int_equal(m->in_ch, 6);
    assert_int_equal(m->skip, 0);
    rtg_model_free(m);
}

/* A Proteus-style model taking [audio, knob] in a graph: the control node
 * supplies the knob, the skip adds the audio alone. */
static void proteus_knob_in_graph(void **st)
{
    (void)st;
    rtg_model *m = load_ok("proteus_knob.json");
    assert_int_equal(m->in_ch, 2);
    assert_int_equal(m->skip, 1); /* "skip": true */
    rtg_model_free(m);
    char graph[600], x[600];
    snprintf(graph, sizeof graph, "%s", fixture("proteus_knob.yaml"));
    snprintf(x, sizeof x, "%s", fixture("gml_x.csv"));
    run_against(graph, x, fixture("proteus_knob_y.csv"), 64);
    run_against(graph, x, fixture("proteus_knob_y.csv"), 5);
}

static void malformed_files_say_what_is_wrong(void **st)
{
    (void)st;
    static const struct {
        const char *file, *msg;
    } cases[] = {
        {"bad/gml_missing_hidden_size.json", ": model_data has no \"hidden_size\""},
        {"bad/gml_input_size4.json", ": model_data \"input_size\" is 4, must be 1..3 (the audio "
                                     "plus up to two knobs)"},
        {"bad/gml_unknown_unit.json", ": model_data \"unit_type\" is \"RNN\": only \"LSTM\" and "
                                      "\"GRU\" are supported"},
        {"bad/gml_unit_mismatch.json", ": model_data says unit_type GRU but rec.weight_hh_l0 "
                                       "has 4 x hidden_size rows (an LSTM)"},
        {"bad/gml_wrong_tensor.json", ": layer 0 (gru l0 rec.): rec.bias_hh_l0 has shape [5], "
                                      "expected [6]"},
        {"bad/gml_hidden_mismatch.json", ": model_data says hidden_size 3 but the rec.* tensors "
                                         "have 2"},
        {"bad/gml_no_state_dict.json", ": has \"model_data\" but no \"state_dict\""},
        {"bad/gml_skip2.json", ": model_data \"skip\" is 2: only 0 or 1"},
        {"bad/gml_extra_tensor.json", ": state_dict has \"extra.weight\", which a SimpleRNN "
                                      "does not"},
        {"bad/aidax_bad_samplerate.aidax", ": metadata.samplerate is \"fast\", expected a "
                                           "sample rate in Hz"},
        {"bad/aidax_batch_lengths.aidax", ": \"input_batch\" has 600 samples but "
                                          "\"output_batch\" 599"},
        {"bad/aidax_in_skip2.aidax", ": \"in_skip\" must be 0, 1, true or false"},
        {"bad/aidax_no_output_batch.aidax", ": has \"input_batch\" without \"output_batch\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s", fixture(cases[i].file));
        rtg_model *m = (rtg_model *)1;
        rtg_error err = {{0}};
        int rc = rtg_model_load(path, &m, &err);
        printf("    %s\n", err.msg);
        assert_int_not_equal(rc, RTG_OK);
        assert_null(m);
        assert_true(strncmp(err.msg, path, strlen(path)) == 0);
        assert_contains(err.msg + strlen(path), cases[i].msg);
    }
    /* What the file spells goes into the message, but never a line break. */
    char path[400];
    snprintf(path, sizeof path, "%s/newline.json", tmp_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"model_data\": {\"unit_type\": \"R\\nNN\"}, \"state_dict\": {\"a\\nb\": [1]}}", f);
    fclose(f);
    rtg_model *m = NULL;
    rtg_error err = {{0}};
    assert_int_not_equal(rtg_model_load(path, &m, &err), RTG_OK);
    printf("    %s\n", err.msg);
    assert_contains(err.msg, "model_data \"unit_type\" is \"R?NN\": only");
    assert_null(strchr(err.msg, '\n'));
}

static int setup(void **st)
{
    (void)st;
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/rtg_formats_XXXXXX");
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
        fprintf(stderr, "test_model_formats: %s/rtgraph is not built\n", RTG_BINARY_DIR);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(aidax_reads_wrapping_and_metadata),
        cmocka_unit_test(aidax_selftest_passes),
        cmocka_unit_test(aidax_wrong_batch_fails),
        cmocka_unit_test(check_cli_runs_selftest),
        cmocka_unit_test(render_aidax),
        cmocka_unit_test(guitarml_models_match_reference),
        cmocka_unit_test(proteus_knob_in_graph),
        cmocka_unit_test(malformed_files_say_what_is_wrong),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
