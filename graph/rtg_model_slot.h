/* rtg_model_slot.h — a model node as one plan step that runs a nested plan,
 * so the model can be swapped while the rest of the graph keeps running.
 *
 * rtg_plan_add_model flattens a model into its host plan: fastest, but the
 * model is then welded in. A slot instead appends ONE custom step that owns
 * a "unit" — the model built alone into its own plan and arena — and runs
 * it from the step's input buffer into the step's output buffer. Swapping
 * the model replaces just that unit; delay lines and every other step of
 * the host plan keep their state.
 *
 * A swap is a crossfade: for `fade_frames` frames the slot runs the
 * outgoing and the incoming unit and writes old + g * (new - old), g rising
 * linearly from 0 to 1, so identical outputs give exactly the old output.
 * When both units have the same layer layout (the same network with other
 * weights: a retrained or re-exported model) the incoming unit starts from
 * the outgoing one's streaming state, so swapping a model for an identical
 * copy changes nothing at all; otherwise it starts from its own pre-warmed
 * state and the fade covers the difference.
 *
 * A slot holds at most one unit waiting behind a running fade; a newer swap
 * replaces it (the superseded unit was never heard and is handed back at
 * once). A unit whose fade-out finished is parked until the owner collects
 * it, and the next fade waits for that collection, so at most one unit is
 * ever parked and none is dropped or freed on the audio thread.
 *
 * A model trained at another rate than the graph's (meta.sample_rate stated
 * and different) runs resampled: the unit converts its input to the model's
 * rate, runs the model there and converts back (rtg_resampler, rtg_ops.h),
 * which delays the node's output by rtg_model_unit_latency frames. Each unit
 * carries its own converters, built with it off the audio thread, so a swap
 * to a model of another rate just works; the converters' state is not
 * carried across a swap (only the model's is), so a resampled unit always
 * fades in, even an identical copy. A slot made with no_resample refuses
 * such models instead, at build and at rtg_model_slot_check.
 *
 * A slot made with normalize scales each unit's output by
 * 10^((RTG_NORMALIZE_TARGET_DB - loudness) / 20), loudness being what the
 * model file states (NAM metadata), as NeuralAmpModelerPlugin's output
 * normalisation does; a model that states none plays unscaled.
 *
 * Ownership: units handed to a slot belong to it until handed back by
 * rtg_model_slot_swap / rtg_model_slot_collect. Before rtg_plan_free of a
 * plan holding slots, call rtg_model_slots_release(plan) (rtg_graph_free
 * does) — a plan step has no destructor of its own.
 */
#ifndef RTG_MODEL_SLOT_H
#define RTG_MODEL_SLOT_H

#include "rtg_error.h"
#include "rtg_model.h"
#include "rtg_plan.h"

/* A model built alone into a plan a slot can run. */
typedef struct rtg_model_unit rtg_model_unit;

/* The slot state of one plan step (lives in the host plan's arena). */
typedef struct rtg_model_slot rtg_model_slot;

/* The loudness NAM's plugin normalises models to, dB. */
#define RTG_NORMALIZE_TARGET_DB (-18.0)

/* How a slot treats the models it runs; all zero is the default. */
typedef struct rtg_model_slot_opts {
    int no_resample; /* 1: a model trained at another rate is an error */
    int normalize;   /* 1: scale to RTG_NORMALIZE_TARGET_DB by the stated loudness */
} rtg_model_slot_opts;

/* Builds `m` into a unit for blocks of up to `max_block` frames at
 * `sample_rate` (the graph's; the model is resampled when it states another
 * rate): validated, laid out, reset and pre-warmed, ready to be swapped in.
 * Thread: non-real-time. */
int rtg_model_unit_build(const rtg_model *m, int max_block, double sample_rate,
                         rtg_model_unit **out, rtg_error *err);

/* Frees a unit (NULL is fine). Thread: non-real-time; never a unit a slot
 * still holds. */
void rtg_model_unit_free(rtg_model_unit *u);

/* Channel counts, the file it came from, its plan (for reports).
 * Thread: any; a unit is immutable apart from its plan's state. */
int rtg_model_unit_in_ch(const rtg_model_unit *u);
int rtg_model_unit_out_ch(const rtg_model_unit *u);
const char *rtg_model_unit_path(const rtg_model_unit *u);
const rtg_plan *rtg_model_unit_plan(const rtg_model_unit *u);

/* Graph-rate frames the unit's resampling delays its output by (0: the
 * model runs at the graph's rate). Thread: any. */
int rtg_model_unit_latency(const rtg_model_unit *u);

/* The rate the model runs at: its training rate when it is resampled,
 * else the graph's. Thread: any. */
double rtg_model_unit_rate(const rtg_model_unit *u);

/* The gain normalize applies to this unit, dB (0 when the model states no
 * loudness); *has_loudness says whether it does. Thread: any. */
double rtg_model_unit_normalize_db(const rtg_model_unit *u, int *has_loudness);

/* Appends a slot step that runs `m` on buffer `in` (which must have
 * m->in_ch channels). `max_block` and `sample_rate` must be the builder's
 * (a builder does not tell them). Like a layer desc, `m` need only live
 * until rtg_plan_build, which builds the unit. Returns the id of the new
 * output buffer (m->out_ch channels) and sets *step to the step index, or
 * returns a negative code with err naming `label`. Requests the model's
 * pre-warm from the host plan. Thread: non-real-time. */
int rtg_plan_add_model_slot(rtg_plan_builder *b, const rtg_model *m, int in, const char *label,
                            int max_block, double sample_rate, int *step, rtg_error *err);

/* The same with options (NULL: the defaults). With no_resample, a model
 * trained at another rate is an error naming both rates. The step's report
 * label (rtg_step_info, what `rtgraph check` prints) is `label` followed by
 * what the slot does besides running the model, e.g.
 * "amp [resampled 44100->48000 Hz, latency 102 frames; normalized +5.20 dB]".
 * Thread: non-real-time. */
int rtg_plan_add_model_slot_with(rtg_plan_builder *b, const rtg_model *m, int in,
                                 const char *label, int max_block, double sample_rate,
                                 const rtg_model_slot_opts *opts, int *step, rtg_error *err);

/* The slot of step `step` of `p`, or NULL if that step is not a slot.
 * Thread: any (reads only what the build fixed). */
rtg_model_slot *rtg_model_slot_at(const rtg_plan *p, int step);

/* Checks, before sending it, that unit `u` can run in slot `s`: same input
 * and output channel counts, blocks at least as long, built for the slot's
 * sample rate, and not resampled when the slot says no_resample. The
 * message says what differs. Thread: non-real-time (reads only what the
 * build fixed). */
int rtg_model_slot_check(const rtg_model_slot *s, const rtg_model_unit *u, rtg_error *err);

/* 1 if every slot of `p` got its unit at build time (0 only after an
 * allocation failure inside rtg_plan_build, when the slot outputs silence);
 * err then names the slot. Thread: non-real-time, before the plan runs. */
int rtg_model_slots_ready(const rtg_plan *p, rtg_error *err);

/* Starts (or queues behind a running fade) a crossfade of `fade_frames`
 * frames (0: switch at the next block) to unit `u`, which must have passed
 * rtg_model_slot_check. Returns a unit the caller must retire now — a
 * queued one that `u` superseded — or NULL. Thread: the thread that
 * processes the plan, between process calls; real-time safe. */
rtg_model_unit *rtg_model_slot_swap(rtg_model_slot *s, rtg_model_unit *u, int fade_frames);

/* Takes the unit whose fade-out has finished, or NULL. Call after every
 * process call while fades may run. Thread: as rtg_model_slot_swap. */
rtg_model_unit *rtg_model_slot_collect(rtg_model_slot *s);

/* 1 while a fade runs or a swap waits behind one. Thread: as
 * rtg_model_slot_swap. */
int rtg_model_slot_busy(const rtg_model_slot *s);

/* The unit the slot currently plays (the incoming one during a fade).
 * Thread: as rtg_model_slot_swap, or any while the plan is not running. */
const rtg_model_unit *rtg_model_slot_unit(const rtg_model_slot *s);

/* Output frames the slot's resampling ever had to fill with silence (0
 * unless a latency measurement was wrong; tests check it). Thread: as
 * rtg_model_slot_swap. */
unsigned long rtg_model_slot_shortfalls(const rtg_model_slot *s);

/* Frees every unit held by every slot of `p` (current, incoming, queued,
 * parked). Thread: non-real-time, once the plan no longer runs. */
void rtg_model_slots_release(rtg_plan *p);

#endif
