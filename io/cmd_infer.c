/* cmd_infer.c — `rtgraph infer MODEL --in X.csv --out Y.csv [--block N]`:
 * a model run over frames from a CSV, offline, through the same plan the
 * live path uses. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_cli.h"
#include "rtg_csv.h"
#include "rtg_model.h"
#include "rtg_plan.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: rtgraph infer MODEL --in X.csv --out Y.csv [--block N]\n"
            "\n"
            "Resets MODEL (RTNeural Keras or PyTorch state-dict JSON), runs it over the\n"
            "frames of X.csv (one frame a line, channels comma-separated) and writes one\n"
            "output frame a line to Y.csv with full float precision.\n"
            "\n"
            "  --in FILE     input frames (required)\n"
            "  --out FILE    output frames (required; '-' for standard output)\n"
            "  --block N     frames per process call, 1..8192 (default 128); the output\n"
            "                is the same for every N\n"
            "  -h, --help    this text\n");
}

int rtg_cmd_infer(int argc, char **argv)
{
    static const struct option opts[] = {
        {"in", required_argument, NULL, 'i'},
        {"out", required_argument, NULL, 'o'},
        {"block", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *in_path = NULL, *out_path = NULL;
    int block = 128;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:o:b:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': in_path = optarg; break;
        case 'o': out_path = optarg; break;
        case 'b': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 8192)
                return rtg_cli_fail("infer: --block must be 1..8192, got '%s'", optarg);
            block = (int)v;
            break;
        }
        case 'h': help(stdout); return 0;
        default: help(stderr); return 2;
        }
    }
    if (optind != argc - 1 || !in_path || !out_path) {
        help(stderr);
        return 2;
    }
    const char *model_path = argv[optind];

    rtg_error err = {{0}};
    rtg_model *model = NULL;
    rtg_plan *plan = NULL;
    rtg_csv x = {0};
    float *y = NULL;
    int status = 1;
    if (rtg_model_load(model_path, &model, &err) ||
        rtg_csv_read(in_path, &x, &err)) {
        rtg_cli_fail("%s", err.msg);
        goto out;
    }
    if (x.channels != model->in_ch) {
        rtg_cli_fail("%s: %d channels per frame, but %s takes %d", in_path, x.channels,
                     model_path, model->in_ch);
        goto out;
    }
    rtg_plan_builder *b = rtg_plan_builder_new(block, model->in_ch, 48000);
    if (!b) {
        rtg_cli_fail("out of memory");
        goto out;
    }
    int y_buf = rtg_plan_add_model(b, model, rtg_plan_input(b), "model", &err);
    int *chan = calloc((size_t)model->out_ch, sizeof *chan);
    int *bufs = calloc((size_t)model->out_ch, sizeof *bufs);
    if (chan && bufs && y_buf > 0) {
        for (int k = 0; k < model->out_ch; k++) {
            chan[k] = k;
            bufs[k] = y_buf;
        }
        if (rtg_plan_set_outputs(b, model->out_ch, bufs, chan, &err) == RTG_OK)
            plan = rtg_plan_build(b, &err);
        else
            rtg_plan_builder_free(b);
    } else {
        rtg_plan_builder_free(b);
        if (y_buf > 0)
            rtg_error_set(&err, RTG_ENOMEM, "out of memory");
    }
    free(chan);
    free(bufs);
    if (!plan) {
        rtg_cli_fail("%s: %s", model_path, err.msg);
        goto out;
    }
    y = malloc(sizeof(float) * (size_t)x.frames * (size_t)model->out_ch);
    if (!y) {
        rtg_cli_fail("out of memory");
        goto out;
    }
    rtg_plan_process_long(plan, x.data, y, x.frames);
    if (rtg_csv_write(out_path, y, x.frames,
                      model->out_ch, &err)) {
        rtg_cli_fail("%s", err.msg);
        goto out;
    }
    status = 0;
out:
    free(y);
    rtg_csv_free(&x);
    rtg_plan_free(plan);
    rtg_model_free(model);
    return status;
}
