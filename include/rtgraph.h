/* rtgraph.h — the one public header: embed the rtgraph real-time engine.
 *
 * An engine runs one graph (a YAML graph file, or a model file as a
 * one-node graph) on the host's audio thread, while other threads turn its
 * knobs, swap its models and reload it:
 *
 *     rtg_engine_config cfg = rtg_engine_config_init();
 *     cfg.graph = "amp.yaml";
 *     cfg.sample_rate = 48000;
 *     cfg.max_block = 256;
 *     rtg_engine *e;
 *     rtg_error err;
 *     if (rtg_engine_init(&cfg, &e, &err)) { puts(err.msg); return 1; }
 *     // audio thread, every block:
 *     rtg_engine_process(e, in, out, frames);
 *     // any other thread, any time:
 *     rtg_engine_set_param(e, "drive.db", 6.0, &err);
 *     rtg_engine_swap_model(e, "amp", "other_amp.json", &err);
 *     rtg_engine_reload(e, NULL, &err);
 *     // when the audio has stopped:
 *     rtg_engine_uninit(e);
 *
 * Everything that can fail (reading files, building plans, resolving
 * names, checking values and channel counts) happens on the calling
 * thread, before anything reaches the audio thread: a call that fails has
 * changed nothing, and err says why in one line. What passes is sent to
 * the audio thread through a lock-free queue; it takes up to a bounded
 * number of commands at the start of each block. Swaps and reloads
 * crossfade from the old to the new over cfg.fade_ms, running both during
 * the fade; what they replace goes back to a housekeeping thread of the
 * engine, which frees it. rtg_engine_process never allocates, frees,
 * locks, waits or does I/O, and runs with denormals flushed to zero.
 *
 * Its output never holds NaN or Inf: a node whose output block does (bad
 * weights, a model driven into overflow) has that block zeroed and its
 * state reset, so it recovers by itself; each such block is counted
 * (rtg_engine_stats.nonfinite_events) and reported, off the audio thread,
 * through rtg_engine_next_event.
 *
 * Thread rules, per function below: "audio" = the one thread that calls
 * rtg_engine_process (it may change, never overlap); "control" = any
 * other thread, several at once allowed; "real-time safe" = no allocation,
 * lock, wait or system call.
 *
 * Signals are interleaved float frames: sample t of channel c is
 * buf[t * channels + c].
 */
#ifndef RTGRAPH_H
#define RTGRAPH_H

#include <stdint.h>

#include "rtg_error.h" /* rtg_error: one fixed-size message; RTG_OK and the codes */

#ifdef __cplusplus
extern "C" {
#endif

#define RTGRAPH_VERSION_MAJOR 0
#define RTGRAPH_VERSION_MINOR 1
#define RTGRAPH_VERSION_PATCH 0

/* "0.1.0": the library's version (may differ from the header's).
 * Thread: any, real-time safe. */
const char *rtg_version(void);

typedef struct rtg_engine rtg_engine;

/* How to make an engine. Start from rtg_engine_config_init(). */
typedef struct rtg_engine_config {
    const char *graph;   /* graph (YAML) or model file; required */
    double sample_rate;  /* the rate the host runs at; 0: the graph's (48000 if it
                            states none). A graph that states another rate is refused. */
    int max_block;       /* most frames per rtg_engine_process call; 0: the graph's
                            block_size. Longer calls are split, never refused. */
    double fade_ms;      /* crossfade of model swaps and reloads; default 10, 0 = cut */
    int queue_size;      /* commands in flight at once; default 4096 */
    int drain_per_block; /* most commands the audio thread takes per block; default 256 */
} rtg_engine_config;

/* The defaults. Thread: any, real-time safe. */
rtg_engine_config rtg_engine_config_init(void);

/* Loads cfg->graph, builds it for cfg's rate and block size, and starts
 * the engine's housekeeping thread. Returns RTG_OK with *out set, or a
 * code with *out NULL and err set. Thread: control. */
int rtg_engine_init(const rtg_engine_config *cfg, rtg_engine **out, rtg_error *err);

/* Stops the housekeeping thread and frees everything. The audio thread
 * must have stopped calling rtg_engine_process. NULL is fine.
 * Thread: control. */
void rtg_engine_uninit(rtg_engine *e);

/* Processes `frames` frames (any count >= 0): in holds frames x n_inputs
 * samples, out receives frames x n_outputs. Applies pending commands
 * first. Thread: audio, real-time safe. */
void rtg_engine_process(rtg_engine *e, const float *in, float *out, int frames);

/* Sets param NAME ("drive.db", "blend.weights.1") to `value`. Refused
 * (err says why, nothing changes) when the node or param does not exist,
 * the value is out of range or not finite, or the queue is full. The
 * change arrives at the next block and ramps over the graph's smooth_ms.
 * Thread: control. */
int rtg_engine_set_param(rtg_engine *e, const char *name, double value, rtg_error *err);

/* Replaces the model of `model` node NODE by the model file PATH,
 * crossfading over fade_ms; the rest of the graph keeps its state. Refused
 * when the node does not exist or is not a model node, the file cannot be
 * loaded, or its channel counts do not fit the node. Thread: control. */
int rtg_engine_swap_model(rtg_engine *e, const char *node, const char *path, rtg_error *err);

/* Rebuilds the graph from `path` (NULL: the file it was last loaded from)
 * and crossfades the whole graph to it. Params and models come from the
 * file again. Refused when the file does not build or its inputs, outputs
 * or sample rate differ from the running graph's. Thread: control. */
int rtg_engine_reload(rtg_engine *e, const char *path, rtg_error *err);

/* For audio drivers: counts `n` over/underruns the driver saw.
 * Thread: any, real-time safe. */
void rtg_engine_report_xruns(rtg_engine *e, int n);

/* What the engine runs. */
typedef struct rtg_engine_info {
    int n_inputs, n_outputs;
    double sample_rate;
    int max_block;
    int n_params;         /* rtg_engine_param_info indexes 0..n_params-1 */
    int n_models;         /* rtg_engine_model_info indexes 0..n_models-1 */
    uint64_t generation;  /* 1 for the graph loaded at init, +1 per reload sent */
    char graph[512];      /* the file it was last (re)loaded from */
} rtg_engine_info;

/* Thread: control. */
void rtg_engine_get_info(rtg_engine *e, rtg_engine_info *info);

typedef struct rtg_param_info {
    char name[96];
    float min, max;
    float value;   /* the last value set, else the file's */
    char unit[16];
} rtg_param_info;

/* Param `i` of the graph last sent; RTG_EINVAL if out of range.
 * Thread: control. */
int rtg_engine_param_info(rtg_engine *e, int i, rtg_param_info *p);

typedef struct rtg_model_info {
    char node[64];
    char path[512]; /* the model file it plays (the last one swapped in) */
} rtg_model_info;

/* Model node `i` of the graph last sent; RTG_EINVAL if out of range.
 * Thread: control. */
int rtg_engine_model_info(rtg_engine *e, int i, rtg_model_info *m);

/* Counters since init. Callback times are per rtg_engine_process call;
 * load = callback time / the audio time it processed. */
typedef struct rtg_engine_stats {
    uint64_t callbacks;   /* rtg_engine_process calls */
    uint64_t frames;      /* frames processed */
    uint64_t xruns;       /* as reported by rtg_engine_report_xruns */
    double cb_mean_us, cb_max_us;
    double cb_p50_us, cb_p99_us, cb_p999_us; /* from a fixed histogram, ~9% bins */
    double load_mean, load_max;               /* 1.0 = all of the block's time */
    uint64_t params;      /* param changes applied */
    uint64_t swaps;       /* model swaps started */
    uint64_t reloads;     /* graph crossfades started */
    uint64_t rejected;    /* commands refused (by the caller's thread or, when
                             the graph they named was replaced, the audio thread) */
    uint64_t generation;  /* of the graph the audio thread plays */
    uint64_t nonfinite_events; /* blocks in which a node's output (or the host's
                                  input) held NaN or Inf: that block of it was
                                  zeroed and the node's state reset, so the audio
                                  never carries NaN or Inf; see rtg_engine_next_event */
} rtg_engine_stats;

/* Reads the counters. Each is read atomically; the set is not one
 * snapshot. Thread: any, real-time safe. */
void rtg_engine_get_stats(const rtg_engine *e, rtg_engine_stats *s);

/* Something the audio thread met and dealt with, reported off it. */
enum { RTG_ENGINE_EVENT_NONFINITE = 1 };

typedef struct rtg_engine_event {
    int kind;             /* RTG_ENGINE_EVENT_NONFINITE: a node's output block held
                             NaN or Inf; it was zeroed and the node's state reset */
    char node[64];        /* the node; "(input)" for the host's input samples (each
                             non-finite one replaced by 0), "(output)" for an
                             output block whose maker is not known (the engine's
                             crossfade of two huge signals) */
    uint64_t generation;  /* the graph it happened in */
    uint64_t first_callback, last_callback; /* rtg_engine_process calls, from 1 */
    uint64_t count;       /* blocks it stands for: repeats of one node coalesce */
} rtg_engine_event;

/* Takes the oldest event not yet taken: returns 1 with *ev set, or 0 when
 * there is none. The engine keeps the latest 32 (repeats of one node in
 * one graph coalesce into one event while it is not taken); older ones
 * are dropped but stay counted in rtg_engine_stats. Thread: control. */
int rtg_engine_next_event(rtg_engine *e, rtg_engine_event *ev);

#ifdef __cplusplus
}
#endif

#endif
