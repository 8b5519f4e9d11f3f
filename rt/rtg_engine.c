/* rtg_engine.c — the real-time engine behind include/rtgraph.h: the audio
 * thread's process(), the lock-free command queue into it, crossfaded
 * model swaps and graph reloads, and the housekeeping thread that frees
 * what they replace.
 *
 * Threads and ownership. Control threads build everything (graphs, model
 * units) and resolve every name under `lock`, then send commands through
 * `cmds`, an MPSC ck_ring of plain structs. The audio thread owns the
 * programs it plays (cur, next, queued, parked) and the units inside their
 * slots; what it lets go travels through `rets`, an SPSC ring, to the
 * housekeeping thread, which frees it. The audio thread takes a command
 * only when `rets` has room for what that command could hand back, and
 * parks anything it cannot hand back yet, so nothing is ever dropped,
 * leaked or freed on the audio thread.
 *
 * Commands name a graph by generation: a param or swap resolved against
 * generation G is applied to G's plan whether G is playing, fading in or
 * queued; if G was replaced before the command arrived, it is refused and
 * counted.
 *
 * The non-finite guard: every plan checks each step's output block (see
 * rtg_plan_process) and mutes and resets a node that produced NaN or Inf;
 * the audio thread counts those events, checks its own output once more,
 * and sends a report (node, graph, callback) through `evts`, an SPSC ring
 * that the housekeeping thread and rtg_engine_next_event drain into a
 * small log where repeats coalesce. A full ring drops the report, never
 * the count.
 */
#define _GNU_SOURCE
#include "rtgraph.h"

#include <ck_ring.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rtg_graph.h"
#include "rtg_model.h"
#include "rtg_model_slot.h"
#include "rtg_rt.h"
#include "rtg_stats.h"
#include "rtg_tsan.h"

/* A built graph as the engine plays it. */
typedef struct program {
    rtg_graph *graph;
    uint64_t gen;
    int n_slots;
    rtg_model_slot **slots; /* collected after every block */
    const char **step_name; /* per plan step: its node's name, for guard reports */
    /* control side only (under the engine's lock) */
    int *slot_node;         /* graph node of each slot */
    char (*slot_path)[512]; /* the model each slot plays, as last sent */
    float *param_value;     /* last value sent, per graph param */
} program;

enum { CMD_PARAM, CMD_MODEL, CMD_GRAPH };

struct rtg_cmd {
    int kind;
    int step, index;
    float value;
    uint64_t gen;
    void *ptr; /* CMD_MODEL: rtg_model_unit; CMD_GRAPH: program */
};
CK_RING_PROTOTYPE(cmd, rtg_cmd)

enum { RET_UNIT, RET_PROGRAM };

struct rtg_ret {
    int kind;
    void *ptr;
};
CK_RING_PROTOTYPE(ret, rtg_ret)

/* A guard report on its way from the audio thread to the event log. */
struct rtg_evt {
    uint64_t gen, callback, count;
    char node[64];
};
CK_RING_PROTOTYPE(evt, rtg_evt)

#define EVENT_RING 256 /* reports in flight; drained every few ms */
#define EVENT_LOG 32   /* reports kept for rtg_engine_next_event */

struct rtg_engine {
    /* fixed at init */
    int n_in, n_out, max_block, drain;
    double sample_rate;
    int fade_frames;

    /* the audio thread's */
    program *cur;    /* playing; during a fade, the outgoing graph */
    program *next;   /* fading in */
    program *queued; /* waits for the running fade */
    program *parked; /* faded out; waits for room in rets */
    int fade_len, fade_pos;
    float *mix;      /* max_block x n_out: the incoming graph's output */

    ck_ring_t cmds;
    struct rtg_cmd *cmd_buf;
    ck_ring_t rets;
    struct rtg_ret *ret_buf;
    ck_ring_t evts;
    struct rtg_evt *evt_buf;

    /* control side */
    pthread_mutex_t lock;
    program *latest; /* the graph names resolve against: the last one sent */
    uint64_t last_gen;
    char graph_path[512];

    /* the event log (housekeeping and control threads) */
    pthread_mutex_t ev_lock;
    rtg_engine_event log[EVENT_LOG];
    int log_head, log_n;

    /* housekeeping */
    pthread_t reaper;
    int reaper_running;
    atomic_int stop;

    rtg_stats stats;
};

const char *rtg_version(void)
{
    return "0.1.0";
}

rtg_engine_config rtg_engine_config_init(void)
{
    return (rtg_engine_config){.fade_ms = 10, .queue_size = 4096, .drain_per_block = 256};
}

/* ---- programs (non-real-time) ---- */

static void program_free(program *p)
{
    if (!p)
        return;
    if (p->graph) {
        rtg_model_slots_release(p->graph->plan);
        rtg_graph_free(p->graph);
    }
    free(p->slots);
    free(p->step_name);
    free(p->slot_node);
    free(p->slot_path);
    free(p->param_value);
    free(p);
}

/* The slot step among a node's steps, or NULL (a model built flat). */
static rtg_model_slot *node_slot(const rtg_graph *g, const rtg_graph_node *n)
{
    for (int s = n->first_step; s < n->first_step + n->n_steps; s++) {
        rtg_model_slot *slot = rtg_model_slot_at(g->plan, s);
        if (slot)
            return slot;
    }
    return NULL;
}

/* Takes ownership of g (freed on failure too). */
static program *program_new(rtg_graph *g, rtg_error *err)
{
    program *p = calloc(1, sizeof *p);
    if (!p) {
        rtg_graph_free(g);
        rtg_error_set(err, RTG_ENOMEM, "out of memory");
        return NULL;
    }
    p->graph = g;
    if (!rtg_model_slots_ready(g->plan, err)) {
        program_free(p);
        return NULL;
    }
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++)
        n += node_slot(g, &g->nodes[i]) != NULL;
    size_t np = (size_t)(g->n_params ? g->n_params : 1), ns = (size_t)(n ? n : 1);
    p->slots = calloc(ns, sizeof *p->slots);
    p->slot_node = calloc(ns, sizeof *p->slot_node);
    p->slot_path = calloc(ns, sizeof *p->slot_path);
    p->param_value = calloc(np, sizeof *p->param_value);
    p->step_name = calloc((size_t)(g->plan->n_steps ? g->plan->n_steps : 1), sizeof *p->step_name);
    if (!p->slots || !p->slot_node || !p->slot_path || !p->param_value || !p->step_name) {
        program_free(p);
        rtg_error_set(err, RTG_ENOMEM, "out of memory");
        return NULL;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        rtg_model_slot *s = node_slot(g, &g->nodes[i]);
        if (!s)
            continue;
        p->slots[p->n_slots] = s;
        p->slot_node[p->n_slots] = i;
        snprintf(p->slot_path[p->n_slots], sizeof p->slot_path[0], "%s",
                 rtg_model_unit_path(rtg_model_slot_unit(s)));
        p->n_slots++;
    }
    for (int i = 0; i < g->n_params; i++)
        p->param_value[i] = g->params[i].value;
    for (int s = 0; s < g->plan->n_steps; s++)
        p->step_name[s] = g->plan->info[s].label;
    for (int i = 0; i < g->n_nodes; i++)
        for (int s = g->nodes[i].first_step; s < g->nodes[i].first_step + g->nodes[i].n_steps; s++)
            if (s >= 0 && s < g->plan->n_steps)
                p->step_name[s] = g->nodes[i].name;
    return p;
}

/* Loads `path` for this engine's rate, block size and channel counts
 * (n_in < 0: not yet fixed). */
static program *program_load(const char *path, double sample_rate, int max_block, int n_in,
                             int n_out, rtg_error *err)
{
    rtg_graph_options opt = {.max_block = max_block, .sample_rate = sample_rate > 0 ? sample_rate : 0};
    rtg_graph *g = NULL;
    if (rtg_graph_load(path, &opt, &g, err))
        return NULL;
    if (sample_rate > 0 && g->sample_rate_stated && g->sample_rate != sample_rate) {
        rtg_error_set(err, RTG_EINVAL, "%s: runs at %.0f Hz but the engine runs at %.0f Hz", path,
                      g->sample_rate, sample_rate);
        rtg_graph_free(g);
        return NULL;
    }
    if (n_in >= 0 && (g->n_inputs != n_in || g->n_outputs != n_out)) {
        rtg_error_set(err, RTG_EINVAL,
                      "%s: has %d input%s and %d output%s but the running graph has %d and %d",
                      path, g->n_inputs, g->n_inputs == 1 ? "" : "s", g->n_outputs,
                      g->n_outputs == 1 ? "" : "s", n_in, n_out);
        rtg_graph_free(g);
        return NULL;
    }
    return program_new(g, err);
}

static void retired_free(const struct rtg_ret *r)
{
    if (r->kind == RET_UNIT)
        rtg_model_unit_free(r->ptr);
    else
        program_free(r->ptr);
}

static void reap(rtg_engine *e)
{
    struct rtg_ret r;
    while (RTG_RING_GET(&e->rets, ck_ring_dequeue_spsc_ret(&e->rets, e->ret_buf, &r)))
        retired_free(&r);
}

/* Moves reports from the ring into the log, coalescing repeats of one
 * node in one graph into the newest entry and dropping the oldest entry
 * when full. The caller holds ev_lock (so one thread at a time is the
 * ring's consumer). */
static void gather_events(rtg_engine *e)
{
    struct rtg_evt r;
    while (RTG_RING_GET(&e->evts, ck_ring_dequeue_spsc_evt(&e->evts, e->evt_buf, &r))) {
        if (e->log_n) {
            rtg_engine_event *last = &e->log[(e->log_head + e->log_n - 1) % EVENT_LOG];
            if (last->generation == r.gen && !strcmp(last->node, r.node)) {
                last->count += r.count;
                last->last_callback = r.callback;
                continue;
            }
        }
        if (e->log_n == EVENT_LOG) {
            e->log_head = (e->log_head + 1) % EVENT_LOG;
            e->log_n--;
        }
        rtg_engine_event *ev = &e->log[(e->log_head + e->log_n++) % EVENT_LOG];
        memset(ev, 0, sizeof *ev);
        ev->kind = RTG_ENGINE_EVENT_NONFINITE;
        snprintf(ev->node, sizeof ev->node, "%s", r.node);
        ev->generation = r.gen;
        ev->first_callback = ev->last_callback = r.callback;
        ev->count = r.count;
    }
}

static void *reaper_main(void *arg)
{
    rtg_engine *e = arg;
    const struct timespec tick = {0, 5 * 1000 * 1000};
    while (!atomic_load(&e->stop)) {
        reap(e);
        pthread_mutex_lock(&e->ev_lock);
        gather_events(e);
        pthread_mutex_unlock(&e->ev_lock);
        clock_nanosleep(CLOCK_MONOTONIC, 0, &tick, NULL);
    }
    return NULL;
}

/* ---- the audio thread ---- */

static unsigned rets_room(const rtg_engine *e)
{
    return ck_ring_capacity(&e->rets) - 1 - RTG_RING_PEEK(ck_ring_size(&e->rets));
}

/* Room was checked by the caller. */
static void retire(rtg_engine *e, int kind, void *ptr)
{
    struct rtg_ret r = {kind, ptr};
    RTG_RING_PUT(&e->rets, ck_ring_enqueue_spsc_ret(&e->rets, e->ret_buf, &r));
}

static program *find_gen(const rtg_engine *e, uint64_t gen)
{
    program *live[3] = {e->cur, e->next, e->queued};
    for (int i = 0; i < 3; i++)
        if (live[i] && live[i]->gen == gen)
            return live[i];
    return NULL;
}

static void start_graph_fade(rtg_engine *e, program *p)
{
    if (e->fade_frames <= 0) {
        e->parked = e->cur;
        e->cur = p;
        rtg_stats_bump(&e->stats.reloads);
        atomic_store_explicit(&e->stats.generation, p->gen, memory_order_relaxed);
        return;
    }
    e->next = p;
    e->fade_len = e->fade_frames;
    e->fade_pos = 0;
    rtg_stats_bump(&e->stats.reloads);
}

static void apply(rtg_engine *e, const struct rtg_cmd *c)
{
    if (c->kind == CMD_GRAPH) {
        program *p = c->ptr;
        if (!e->next && !e->parked && !e->queued) {
            start_graph_fade(e, p);
        } else {
            if (e->queued) /* never played: superseded */
                retire(e, RET_PROGRAM, e->queued);
            e->queued = p;
        }
        return;
    }
    program *p = find_gen(e, c->gen);
    if (!p) {
        if (c->kind == CMD_MODEL)
            retire(e, RET_UNIT, c->ptr);
        rtg_stats_add_shared(&e->stats.rejected, 1);
        return;
    }
    if (c->kind == CMD_PARAM) {
        rtg_plan_set_param(p->graph->plan, c->step, c->index, c->value);
        rtg_stats_bump(&e->stats.params);
        return;
    }
    rtg_model_unit *superseded =
        rtg_model_slot_swap(rtg_model_slot_at(p->graph->plan, c->step), c->ptr, e->fade_frames);
    if (superseded)
        retire(e, RET_UNIT, superseded);
    rtg_stats_bump(&e->stats.swaps);
}

/* Takes up to `drain` commands; each may hand back one object. */
static void drain(rtg_engine *e)
{
    struct rtg_cmd c;
    for (int i = 0; i < e->drain && rets_room(e) >= 1; i++) {
        if (!RTG_RING_GET(&e->cmds, ck_ring_dequeue_mpsc_cmd(&e->cmds, e->cmd_buf, &c)))
            break;
        apply(e, &c);
    }
}

static void collect_program(rtg_engine *e, const program *p)
{
    for (int i = 0; p && i < p->n_slots && rets_room(e) >= 1; i++) {
        rtg_model_unit *u = rtg_model_slot_collect(p->slots[i]);
        if (u)
            retire(e, RET_UNIT, u);
    }
}

static void collect(rtg_engine *e)
{
    collect_program(e, e->cur);
    collect_program(e, e->next);
    if (e->parked && rets_room(e) >= 1) {
        retire(e, RET_PROGRAM, e->parked);
        e->parked = NULL;
    }
}

/* Counts `n` guard events of node `name` ("(input)", "(output)" for what
 * no node made) in graph p, and reports them to the event log.
 * Thread: audio, real-time safe (a fixed-size copy into the ring). */
static void report_nonfinite(rtg_engine *e, const program *p, const char *name, uint64_t n)
{
    rtg_stats_add_own(&e->stats.nonfinite, n);
    struct rtg_evt r = {.gen = p->gen, .callback = rtg_stats_read(&e->stats.callbacks) + 1,
                        .count = n};
    size_t k = 0;
    for (; name && name[k] && k < sizeof r.node - 1; k++)
        r.node[k] = name[k];
    r.node[k] = 0;
    /* full: the report is dropped, the count stands */
    RTG_RING_PUT(&e->evts, ck_ring_enqueue_spsc_evt(&e->evts, e->evt_buf, &r));
}

static void take_nonfinite(rtg_engine *e, const program *p)
{
    int step;
    unsigned long n = rtg_plan_take_nonfinite(p->graph->plan, &step);
    if (n)
        report_nonfinite(e, p, step == -1 ? "(input)" : step < 0 ? "(output)" : p->step_name[step], n);
}

static void run_block(rtg_engine *e, const float *in, float *out, int n)
{
    if (e->queued && !e->next && !e->parked) {
        program *p = e->queued;
        e->queued = NULL;
        start_graph_fade(e, p);
    }
    rtg_plan_process(e->cur->graph->plan, in, out, n);
    take_nonfinite(e, e->cur);
    if (e->next) {
        rtg_plan_process(e->next->graph->plan, in, e->mix, n);
        take_nonfinite(e, e->next);
        const int ch = e->n_out;
        const float step = 1.0f / (float)e->fade_len;
        for (int t = 0; t < n; t++) {
            int pos = e->fade_pos + t + 1;
            float g = pos >= e->fade_len ? 1.0f : (float)pos * step;
            for (int c = 0; c < ch; c++) {
                float old = out[t * ch + c], nw = e->mix[t * ch + c];
                out[t * ch + c] = g == 1.0f ? nw : old + g * (nw - old);
            }
        }
        e->fade_pos += n;
        if (e->fade_pos >= e->fade_len) {
            e->parked = e->cur;
            e->cur = e->next;
            e->next = NULL;
            atomic_store_explicit(&e->stats.generation, e->cur->gen, memory_order_relaxed);
        }
        /* Both plans' outputs are guarded; this catches only what the
         * fade could make of two huge but finite signals. */
        const size_t samples = (size_t)n * (size_t)ch;
        if (!rtg_all_finite(out, samples)) {
            memset(out, 0, sizeof(float) * samples);
            report_nonfinite(e, e->cur, "(output)", 1);
        }
    }
    collect(e);
}

void rtg_engine_process(rtg_engine *e, const float *in, float *out, int frames)
{
    const int64_t t0 = rtg_rt_now_ns();
    const rtg_fp_state fp = rtg_rt_denormals_off();
    drain(e);
    int done = 0;
    while (done < frames) {
        int n = frames - done < e->max_block ? frames - done : e->max_block;
        run_block(e, in + (size_t)done * (size_t)e->n_in, out + (size_t)done * (size_t)e->n_out, n);
        done += n;
    }
    rtg_rt_fp_restore(fp);
    rtg_stats_callback(&e->stats, rtg_rt_now_ns() - t0, frames, e->sample_rate);
}

void rtg_engine_report_xruns(rtg_engine *e, int n)
{
    if (n > 0)
        rtg_stats_add_shared(&e->stats.xruns, (uint64_t)n);
}

/* ---- control ---- */

static unsigned pow2_at_least(unsigned n)
{
    unsigned p = 2;
    while (p < n && p < (1u << 30))
        p <<= 1;
    return p;
}

int rtg_engine_init(const rtg_engine_config *cfg, rtg_engine **out, rtg_error *err)
{
    *out = NULL;
    if (!cfg || !cfg->graph)
        return rtg_error_set(err, RTG_EINVAL, "no graph file given");
    if (cfg->max_block < 0 || cfg->max_block > 65536 || !(cfg->sample_rate >= 0) ||
        !(cfg->fade_ms >= 0) || cfg->fade_ms > 10000 || cfg->queue_size < 0 ||
        cfg->drain_per_block < 0)
        return rtg_error_set(err, RTG_EINVAL,
                             "bad engine config: max_block 0..65536, sample_rate >= 0, "
                             "fade_ms 0..10000, queue_size and drain_per_block >= 0");
    program *p = program_load(cfg->graph, cfg->sample_rate, cfg->max_block, -1, -1, err);
    if (!p)
        return RTG_EINVAL;
    rtg_engine *e = calloc(1, sizeof *e);
    if (!e) {
        program_free(p);
        return rtg_error_set(err, RTG_ENOMEM, "out of memory");
    }
    const rtg_graph *g = p->graph;
    e->n_in = g->n_inputs;
    e->n_out = g->n_outputs;
    e->max_block = g->plan->max_block;
    e->sample_rate = g->sample_rate;
    e->drain = cfg->drain_per_block > 0 ? cfg->drain_per_block : 256;
    e->fade_frames = (int)lround(cfg->fade_ms * e->sample_rate / 1000.0);
    p->gen = e->last_gen = 1;
    e->cur = e->latest = p;
    snprintf(e->graph_path, sizeof e->graph_path, "%s", cfg->graph);
    rtg_stats_init(&e->stats);
    atomic_store(&e->stats.generation, 1);
    atomic_init(&e->stop, 0);
    pthread_mutex_init(&e->lock, NULL);
    pthread_mutex_init(&e->ev_lock, NULL);
    unsigned qn = pow2_at_least((unsigned)(cfg->queue_size > 0 ? cfg->queue_size : 4096) + 1);
    /* Room for everything one block can hand back, many times over. */
    unsigned rn = pow2_at_least((unsigned)e->drain * 4 + 64);
    e->cmd_buf = calloc(qn, sizeof *e->cmd_buf);
    e->ret_buf = calloc(rn, sizeof *e->ret_buf);
    e->mix = calloc((size_t)e->max_block * (size_t)e->n_out, sizeof *e->mix);
    e->evt_buf = calloc(EVENT_RING, sizeof *e->evt_buf);
    if (!e->cmd_buf || !e->ret_buf || !e->mix || !e->evt_buf) {
        rtg_engine_uninit(e);
        return rtg_error_set(err, RTG_ENOMEM, "out of memory");
    }
    ck_ring_init(&e->cmds, qn);
    ck_ring_init(&e->rets, rn);
    ck_ring_init(&e->evts, EVENT_RING);
    int rc = pthread_create(&e->reaper, NULL, reaper_main, e);
    if (rc) {
        rtg_engine_uninit(e);
        return rtg_error_set(err, RTG_ENOMEM, "cannot start the housekeeping thread: %s",
                             strerror(rc));
    }
    e->reaper_running = 1;
    *out = e;
    return RTG_OK;
}

void rtg_engine_uninit(rtg_engine *e)
{
    if (!e)
        return;
    if (e->reaper_running) {
        atomic_store(&e->stop, 1);
        pthread_join(e->reaper, NULL);
    }
    if (e->ret_buf)
        reap(e);
    struct rtg_cmd c;
    while (e->cmd_buf && RTG_RING_GET(&e->cmds, ck_ring_dequeue_mpsc_cmd(&e->cmds, e->cmd_buf, &c))) {
        if (c.kind == CMD_MODEL)
            rtg_model_unit_free(c.ptr);
        else if (c.kind == CMD_GRAPH)
            program_free(c.ptr);
    }
    program_free(e->cur);
    program_free(e->next);
    program_free(e->queued);
    program_free(e->parked);
    pthread_mutex_destroy(&e->lock);
    pthread_mutex_destroy(&e->ev_lock);
    free(e->cmd_buf);
    free(e->ret_buf);
    free(e->evt_buf);
    free(e->mix);
    free(e);
}

/* Sends a command; the caller holds the lock (so commands resolved
 * against one graph arrive in the order they were resolved). */
static int send(rtg_engine *e, struct rtg_cmd *c, rtg_error *err)
{
    if (RTG_RING_PUT(&e->cmds, ck_ring_enqueue_mpsc_cmd(&e->cmds, e->cmd_buf, c)))
        return RTG_OK;
    return rtg_error_set(err, RTG_ENOMEM,
                         "command queue full (%u waiting): the audio thread is not taking commands",
                         RTG_RING_PEEK(ck_ring_size(&e->cmds)));
}

static int refuse(rtg_engine *e, int rc)
{
    rtg_stats_add_shared(&e->stats.rejected, 1);
    return rc;
}

int rtg_engine_set_param(rtg_engine *e, const char *name, double value, rtg_error *err)
{
    pthread_mutex_lock(&e->lock);
    program *p = e->latest;
    rtg_param_ref ref;
    int rc = rtg_graph_find_param(p->graph, name, &ref, err);
    if (!rc)
        rc = rtg_graph_check_param_value(&ref, value, err);
    if (!rc) {
        struct rtg_cmd c = {.kind = CMD_PARAM, .step = ref.step, .index = ref.index,
                            .value = (float)value, .gen = p->gen};
        rc = send(e, &c, err);
    }
    if (!rc)
        for (int i = 0; i < p->graph->n_params; i++)
            if (p->graph->params[i].step == ref.step && p->graph->params[i].index == ref.index)
                p->param_value[i] = (float)value;
    pthread_mutex_unlock(&e->lock);
    return rc ? refuse(e, rc) : RTG_OK;
}

/* The slot index of model node `node` in p, or an error naming what exists. */
static int find_model_node(const program *p, const char *node, rtg_error *err)
{
    const rtg_graph *g = p->graph;
    for (int i = 0; i < p->n_slots; i++)
        if (!strcmp(g->nodes[p->slot_node[i]].name, node))
            return i;
    for (int i = 0; i < g->n_nodes; i++)
        if (!strcmp(g->nodes[i].name, node))
            return rtg_error_set(err, RTG_EINVAL, "node '%s' is a%s %s node, not a swappable model node",
                                 node, strchr("aeiou", g->nodes[i].op[0]) ? "n" : "",
                                 g->nodes[i].op);
    char list[256] = "";
    size_t at = 0;
    for (int i = 0; i < p->n_slots && at < sizeof list; i++)
        at += (size_t)snprintf(list + at, sizeof list - at, "%s'%s'", i ? ", " : "",
                               g->nodes[p->slot_node[i]].name);
    return rtg_error_set(err, RTG_EINVAL, "unknown node '%s' (model nodes: %s)", node,
                         p->n_slots ? list : "none");
}

int rtg_engine_swap_model(rtg_engine *e, const char *node, const char *path, rtg_error *err)
{
    /* The slow part, loading and building, runs before taking the lock. */
    rtg_model *m = NULL;
    if (rtg_model_load(path, &m, err))
        return refuse(e, RTG_EINVAL);
    rtg_model_unit *u = NULL;
    int rc = rtg_model_unit_build(m, e->max_block, e->sample_rate, &u, err);
    rtg_model_free(m);
    if (rc)
        return refuse(e, rc);
    pthread_mutex_lock(&e->lock);
    program *p = e->latest;
    int k = find_model_node(p, node, err);
    rc = k < 0 ? k : rtg_model_slot_check(p->slots[k], u, err);
    if (!rc) {
        const rtg_graph_node *n = &p->graph->nodes[p->slot_node[k]];
        int step = -1;
        for (int s = n->first_step; s < n->first_step + n->n_steps; s++)
            if (rtg_model_slot_at(p->graph->plan, s) == p->slots[k])
                step = s;
        struct rtg_cmd c = {.kind = CMD_MODEL, .step = step, .gen = p->gen, .ptr = u};
        rc = send(e, &c, err);
    }
    if (!rc)
        snprintf(p->slot_path[k], sizeof p->slot_path[k], "%s", path);
    pthread_mutex_unlock(&e->lock);
    if (rc) {
        rtg_model_unit_free(u);
        return refuse(e, rc);
    }
    return RTG_OK;
}

int rtg_engine_reload(rtg_engine *e, const char *path, rtg_error *err)
{
    char file[512];
    pthread_mutex_lock(&e->lock);
    snprintf(file, sizeof file, "%s", path ? path : e->graph_path);
    pthread_mutex_unlock(&e->lock);
    program *p = program_load(file, e->sample_rate, e->max_block, e->n_in, e->n_out, err);
    if (!p)
        return refuse(e, RTG_EINVAL);
    pthread_mutex_lock(&e->lock);
    p->gen = e->last_gen + 1;
    struct rtg_cmd c = {.kind = CMD_GRAPH, .gen = p->gen, .ptr = p};
    int rc = send(e, &c, err);
    if (!rc) {
        e->last_gen = p->gen;
        e->latest = p;
        snprintf(e->graph_path, sizeof e->graph_path, "%s", file);
    }
    pthread_mutex_unlock(&e->lock);
    if (rc) {
        program_free(p);
        return refuse(e, rc);
    }
    return RTG_OK;
}

void rtg_engine_get_info(rtg_engine *e, rtg_engine_info *info)
{
    memset(info, 0, sizeof *info);
    pthread_mutex_lock(&e->lock);
    info->n_inputs = e->n_in;
    info->n_outputs = e->n_out;
    info->sample_rate = e->sample_rate;
    info->max_block = e->max_block;
    info->n_params = e->latest->graph->n_params;
    info->n_models = e->latest->n_slots;
    info->generation = e->last_gen;
    snprintf(info->graph, sizeof info->graph, "%s", e->graph_path);
    pthread_mutex_unlock(&e->lock);
}

int rtg_engine_param_info(rtg_engine *e, int i, rtg_param_info *out)
{
    pthread_mutex_lock(&e->lock);
    const program *p = e->latest;
    int ok = i >= 0 && i < p->graph->n_params;
    if (ok) {
        const rtg_param_ref *r = &p->graph->params[i];
        memset(out, 0, sizeof *out);
        snprintf(out->name, sizeof out->name, "%s", r->name);
        snprintf(out->unit, sizeof out->unit, "%s", r->unit ? r->unit : "");
        out->min = r->min;
        out->max = r->max;
        out->value = p->param_value[i];
    }
    pthread_mutex_unlock(&e->lock);
    return ok ? RTG_OK : RTG_EINVAL;
}

int rtg_engine_model_info(rtg_engine *e, int i, rtg_model_info *out)
{
    pthread_mutex_lock(&e->lock);
    const program *p = e->latest;
    int ok = i >= 0 && i < p->n_slots;
    if (ok) {
        memset(out, 0, sizeof *out);
        snprintf(out->node, sizeof out->node, "%s", p->graph->nodes[p->slot_node[i]].name);
        snprintf(out->path, sizeof out->path, "%s", p->slot_path[i]);
    }
    pthread_mutex_unlock(&e->lock);
    return ok ? RTG_OK : RTG_EINVAL;
}

void rtg_engine_get_stats(const rtg_engine *e, rtg_engine_stats *s)
{
    const rtg_stats *t = &e->stats;
    memset(s, 0, sizeof *s);
    s->callbacks = rtg_stats_read(&t->callbacks);
    s->frames = rtg_stats_read(&t->frames);
    s->xruns = rtg_stats_read(&t->xruns);
    uint64_t ns = rtg_stats_read(&t->time_ns);
    s->cb_mean_us = s->callbacks ? (double)ns / (double)s->callbacks * 1e-3 : 0;
    s->cb_max_us = (double)rtg_stats_read(&t->max_ns) * 1e-3;
    s->cb_p50_us = rtg_stats_percentile_ns(t, 0.5) * 1e-3;
    s->cb_p99_us = rtg_stats_percentile_ns(t, 0.99) * 1e-3;
    s->cb_p999_us = rtg_stats_percentile_ns(t, 0.999) * 1e-3;
    s->load_mean = s->frames ? (double)ns * 1e-9 / ((double)s->frames / e->sample_rate) : 0;
    s->load_max = (double)rtg_stats_read(&t->max_load_ppm) * 1e-6;
    s->params = rtg_stats_read(&t->params);
    s->swaps = rtg_stats_read(&t->swaps);
    s->reloads = rtg_stats_read(&t->reloads);
    s->rejected = rtg_stats_read(&t->rejected);
    s->generation = rtg_stats_read(&t->generation);
    s->nonfinite_events = rtg_stats_read(&t->nonfinite);
}

int rtg_engine_next_event(rtg_engine *e, rtg_engine_event *ev)
{
    pthread_mutex_lock(&e->ev_lock);
    gather_events(e);
    int have = e->log_n > 0;
    if (have) {
        *ev = e->log[e->log_head];
        e->log_head = (e->log_head + 1) % EVENT_LOG;
        e->log_n--;
    }
    pthread_mutex_unlock(&e->ev_lock);
    return have;
}
