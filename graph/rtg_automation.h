/* rtg_automation.h — timed param changes for offline renders.
 *
 * An automation file has one change a line, `TIME_S NODE.PARAM VALUE`
 * (seconds from the start of the signal, a param name as
 * rtg_graph_find_param takes it, a value in the param's range); `#` starts
 * a comment, blank lines are skipped, times must not decrease. Errors are
 * `FILE:LINE:COL: message` at the offending token.
 *
 * A change at time t applies from frame round(t * sample_rate) on: the
 * renderer ends a block at that frame and sets the param before the next,
 * so the result does not depend on the block size.
 */
#ifndef RTG_AUTOMATION_H
#define RTG_AUTOMATION_H

#include "rtg_graph.h"

typedef struct rtg_automation_event {
    long frame;      /* applies before this frame is processed */
    int step, index; /* for rtg_plan_set_param */
    float value;
} rtg_automation_event;

typedef struct rtg_automation {
    rtg_automation_event *events; /* by frame, file order within a frame */
    int n_events;
    int next; /* first event not yet applied */
} rtg_automation;

/* Reads and checks an automation file against graph `g`.
 * Thread: non-real-time. */
int rtg_automation_load(const char *path, const rtg_graph *g, rtg_automation *a, rtg_error *err);

/* The same from text already in memory; `name` is used in messages. */
int rtg_automation_parse(const char *text, const char *name, const rtg_graph *g,
                         rtg_automation *a, rtg_error *err);

void rtg_automation_free(rtg_automation *a);

/* Processes frames [pos, pos + frames) of a signal (`in` frames x
 * n_inputs, `out` frames x n_outputs) in pieces of at most `block` frames
 * (<= the plan's max_block), split wherever an event falls; applies each
 * event (a may be NULL) before its frame. Calls must cover the signal in
 * order. Thread: the processing thread; real-time safe. */
void rtg_automation_process(rtg_plan *p, rtg_automation *a, long pos, const float *in,
                            float *out, long frames, int block);

#endif
