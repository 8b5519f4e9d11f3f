// rtg_bench_torch.cpp — the layer comparison against the PyTorch C++ API
// (libtorch, one thread): the same layers and sizes, one forward per frame
// and one per block, timed interleaved with rtgraph's plan.
#include <torch/torch.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <tuple>
#include <unistd.h>
#include <vector>

#include "rtg_bench.h"

namespace {

const char about[] =
    "Times each layer N -> N through the PyTorch C++ API (libtorch, one thread,\n"
    "no autograd; state carried across calls: LSTM/GRU hidden state, the Conv1D\n"
    "input history) and through rtgraph's plan, interleaved, and prints both\n"
    "real-time factors at 48 kHz and rtgraph's ratio to torch. Block 1 is one\n"
    "torch forward per frame, as the RTNeural paper measured libtorch.\n"
    "One 'RATIO layer size block rtgraph_rtf torch_rtf ratio' line per cell.";

// One layer in torch, streaming: forward(frames [block, n]) carries its state.
struct TorchLayer {
    std::function<torch::Tensor(const torch::Tensor &)> forward;
};

TorchLayer make_torch_layer(int layer, int n)
{
    switch (layer) {
    case RTG_BENCH_DENSE: {
        torch::nn::Linear lin(n, n);
        return {[lin](const torch::Tensor &x) mutable { return lin->forward(x); }};
    }
    case RTG_BENCH_CONV1D: {
        const int k = n - 1;
        torch::nn::Conv1d conv(torch::nn::Conv1dOptions(n, n, k));
        auto history = std::make_shared<torch::Tensor>(torch::zeros({1, n, k - 1}));
        return {[conv, history, k](const torch::Tensor &x) mutable {
            // [frames, n] -> [1, n, frames], after the last k-1 frames seen.
            torch::Tensor window = torch::cat({*history, x.t().unsqueeze(0)}, 2);
            *history = window.narrow(2, window.size(2) - (k - 1), k - 1);
            return conv->forward(window);
        }};
    }
    case RTG_BENCH_LSTM: {
        torch::nn::LSTM lstm(torch::nn::LSTMOptions(n, n));
        auto state = std::make_shared<std::tuple<torch::Tensor, torch::Tensor>>(
            torch::zeros({1, 1, n}), torch::zeros({1, 1, n}));
        return {[lstm, state](const torch::Tensor &x) mutable {
            auto y = lstm->forward(x.unsqueeze(1), *state);
            *state = std::get<1>(y);
            return std::get<0>(y);
        }};
    }
    case RTG_BENCH_GRU: {
        torch::nn::GRU gru(torch::nn::GRUOptions(n, n));
        auto h = std::make_shared<torch::Tensor>(torch::zeros({1, 1, n}));
        return {[gru, h](const torch::Tensor &x) mutable {
            auto y = gru->forward(x.unsqueeze(1), *h);
            *h = std::get<1>(y);
            return std::get<0>(y);
        }};
    }
    case RTG_BENCH_TANH:
        return {[](const torch::Tensor &x) { return torch::tanh(x); }};
    case RTG_BENCH_RELU:
        return {[](const torch::Tensor &x) { return torch::relu(x); }};
    default:
        return {[](const torch::Tensor &x) { return torch::sigmoid(x); }};
    }
}

// A torch layer fed block after block from a ring of random input.
struct TorchRun {
    TorchLayer layer;
    torch::Tensor ring; // [ring_frames, n], uniform in [-1, 1]
    long ring_frames;
    long pos = 0;
    int block;
};

void run_torch(void *ctx, long blocks)
{
    auto *r = static_cast<TorchRun *>(ctx);
    for (long i = 0; i < blocks; i++) {
        torch::Tensor y = r->layer.forward(r->ring.narrow(0, r->pos, r->block));
        r->pos += r->block;
        if (r->pos == r->ring_frames)
            r->pos = 0;
    }
}

struct Cell {
    double rtg = 0, torch = 0;
};

} // namespace

int main(int argc, char **argv)
{
    rtg_bench_grid g;
    int rc = rtg_bench_grid_parse(&g, argc, argv, about);
    if (rc >= 0)
        return rc;
    char dir[512];
    rtg_error err = {{0}};
    if (rtg_bench_tmpdir(dir, sizeof dir, &err) != RTG_OK) {
        std::fprintf(stderr, "rtg_bench_torch: %s\n", err.msg);
        return 1;
    }
    at::set_num_threads(1);
    c10::InferenceMode inference;
    torch::manual_seed(1);

    rtg_bench_print_machine(stdout);
    std::printf("torch: libtorch %s, %d thread\n\n", TORCH_VERSION, at::get_num_threads());
    std::fflush(stdout);

    std::vector<Cell> cells((size_t)g.run.n_blocks * g.n_layers * g.n_sizes);
    int errors = 0;
    for (int bi = 0; bi < g.run.n_blocks; bi++)
        for (int li = 0; li < g.n_layers; li++)
            for (int si = 0; si < g.n_sizes; si++) {
                const int block = g.run.blocks[bi], layer = g.layers[li], n = g.sizes[si];
                Cell &cell = cells[((size_t)bi * g.n_layers + li) * g.n_sizes + si];
                rtg_bench_plan_run run;
                rtg_plan *plan = rtg_bench_layer_plan((rtg_bench_layer)layer, n, block, dir, &err);
                if (!plan || rtg_bench_plan_run_init(&run, plan, block, RTG_BENCH_RING_FRAMES,
                                                     0x2545f491u + (uint32_t)n, &err) != RTG_OK) {
                    std::fprintf(stderr, "rtg_bench_torch: %s %d block %d: %s\n",
                                 rtg_bench_layer_name((rtg_bench_layer)layer), n, block, err.msg);
                    rtg_plan_free(plan);
                    errors++;
                    continue;
                }
                if (g.no_guard)
                    rtg_plan_set_guard(plan, 0);
                TorchRun trun{make_torch_layer(layer, n),
                              torch::rand({run.ring_frames, n}) * 2 - 1, run.ring_frames, 0,
                              block};
                rtg_bench_case cases[2] = {};
                cases[0].run = rtg_bench_run_plan;
                cases[0].ctx = &run;
                cases[1].run = run_torch;
                cases[1].ctx = &trun;
                rtg_bench_time(cases, 2, g.run.seconds, g.run.reps);
                cell.rtg = rtg_bench_rtf(block, RTG_BENCH_RATE, cases[0].stats.median);
                cell.torch = rtg_bench_rtf(block, RTG_BENCH_RATE, cases[1].stats.median);
                std::printf("RATIO %s %d %d %.6g %.6g %.4g\n",
                            rtg_bench_layer_name((rtg_bench_layer)layer), n, block, cell.rtg,
                            cell.torch, cell.rtg / cell.torch);
                std::fflush(stdout);
                rtg_bench_plan_run_free(&run);
                rtg_plan_free(plan);
            }
    rmdir(dir);

    for (int bi = 0; bi < g.run.n_blocks; bi++) {
        std::printf("\nblock %d: rtgraph RTF / torch RTF = ratio (median of %d x %.2g s)\n",
                    g.run.blocks[bi], g.run.reps, g.run.seconds);
        std::printf("%-8s", "layer");
        for (int si = 0; si < g.n_sizes; si++)
            std::printf(" | %24d", g.sizes[si]);
        std::printf("\n");
        for (int li = 0; li < g.n_layers; li++) {
            std::printf("%-8s", rtg_bench_layer_name((rtg_bench_layer)g.layers[li]));
            for (int si = 0; si < g.n_sizes; si++) {
                const Cell &c = cells[((size_t)bi * g.n_layers + li) * g.n_sizes + si];
                if (c.torch > 0)
                    std::printf(" | %8.4g / %6.4g = %5.3gx", c.rtg, c.torch, c.rtg / c.torch);
                else
                    std::printf(" | %24s", "error");
            }
            std::printf("\n");
        }
    }
    return errors ? 1 : 0;
}
