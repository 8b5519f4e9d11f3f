/* test_rt_model_slot.c — a model slot runs its model exactly as the model
 * built flat does, swaps crossfade by the stated formula, identical models
 * swap without a trace, a swap waiting behind a fade is superseded by a
 * newer one, nothing is dropped or freed on the audio thread, and the
 * slot's audio path allocates and locks nothing. */
#include "rtg_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_alloc_guard.h"
#include "rtg_model.h"
#include "rtg_model_slot.h"
#include "rtg_plan.h"
#include "rtg_rt_fixtures.h"

#define SR 48000.0
#define BLOCK 32
#define FRAMES (BLOCK * 200)

static rtg_model *load(const char *path)
{
    rtg_model *m = NULL;
    rtg_error err;
    if (rtg_model_load(path, &m, &err))
        fail_msg("%s", err.msg);
    return m;
}

/* in -> model -> out, as a slot (slot_step set) or flat (slot_step NULL). */
static rtg_plan *plan_of(const rtg_model *m, int *slot_step)
{
    rtg_error err;
    rtg_plan_builder *b = rtg_plan_builder_new(BLOCK, m->in_ch, SR);
    int y = slot_step ? rtg_plan_add_model_slot(b, m, rtg_plan_input(b), "amp", BLOCK, SR, slot_step, &err)
                      : rtg_plan_add_model(b, m, rtg_plan_input(b), "amp", &err);
    if (y < 0)
        fail_msg("%s", err.msg);
    int chan = 0;
    assert_int_equal(rtg_plan_set_outputs(b, 1, &y, &chan, &err), RTG_OK);
    rtg_plan *p = rtg_plan_build(b, &err);
    if (!p)
        fail_msg("%s", err.msg);
    return p;
}

static rtg_model_unit *unit_of(const char *path)
{
    rtg_model *m = load(path);
    rtg_model_unit *u = NULL;
    rtg_error err;
    if (rtg_model_unit_build(m, BLOCK, SR, &u, &err))
        fail_msg("%s", err.msg);
    rtg_model_free(m);
    return u;
}

static float signal[FRAMES];

static void setup_signal(void)
{
    rtg_fx_signal(signal, FRAMES, SR);
}

static void free_slot_plan(rtg_plan *p)
{
    rtg_model_slots_release(p);
    rtg_plan_free(p);
}

static void slot_runs_the_model_as_flat_does(void **st)
{
    (void)st;
    rtg_model *m = load(rtg_fx_model("a.json", RTG_FX_LSTM, 1, 8, 1, 0.8f));
    int step = -1;
    rtg_plan *slot = plan_of(m, &step), *flat = plan_of(m, NULL);
    rtg_model_free(m); /* the slot built its unit inside rtg_plan_build */
    assert_int_equal(step, 0);
    assert_int_equal(slot->n_steps, 1);
    assert_string_equal(slot->info[0].op, "model");
    assert_true(slot->info[0].macs > 0 && fabs(slot->info[0].macs - rtg_plan_macs(flat)) < 1e-9);
    assert_non_null(rtg_model_slot_at(slot, 0));
    assert_null(rtg_model_slot_at(flat, 0));
    assert_int_equal(rtg_model_slots_ready(slot, NULL), 1);
    static float y1[FRAMES], y2[FRAMES];
    rtg_plan_process_long(slot, signal, y1, FRAMES);
    rtg_plan_process_long(flat, signal, y2, FRAMES);
    assert_memory_equal(y1, y2, sizeof y1);
    free_slot_plan(slot);
    rtg_plan_free(flat);
}

static void identical_copy_swaps_without_a_trace(void **st)
{
    (void)st;
    const char *pa = rtg_fx_model("a.json", RTG_FX_LSTM, 1, 8, 1, 0.8f);
    const char *pc = rtg_fx_model("a_copy.json", RTG_FX_LSTM, 1, 8, 1, 0.8f);
    rtg_model *m = load(pa);
    int step;
    rtg_plan *ref = plan_of(m, &step), *p = plan_of(m, &step);
    rtg_model_free(m);
    rtg_model_slot *s = rtg_model_slot_at(p, step);
    static float y1[FRAMES], y2[FRAMES];
    int swaps = 0;
    for (int k = 0; k * BLOCK < FRAMES; k++) {
        if (k == 20 || k == 23 || k == 90) { /* the second waits behind the first */
            rtg_model_unit *old = rtg_model_slot_swap(s, unit_of(pc), 300);
            assert_null(old);
            swaps++;
        }
        rtg_plan_process(ref, signal + k * BLOCK, y1 + k * BLOCK, BLOCK);
        rtg_plan_process(p, signal + k * BLOCK, y2 + k * BLOCK, BLOCK);
        rtg_model_unit_free(rtg_model_slot_collect(s));
    }
    assert_int_equal(swaps, 3);
    assert_string_equal(rtg_model_unit_path(rtg_model_slot_unit(s)), pc);
    assert_false(rtg_model_slot_busy(s));
    assert_memory_equal(y1, y2, sizeof y1);
    free_slot_plan(ref);
    free_slot_plan(p);
}

/* The slot's output around a swap is old + g (new - old), g = (i+1)/fade,
 * where new is the other model started fresh at the swap. */
static void swap_crossfades_by_the_formula(void **st)
{
    (void)st;
    const char *pa = rtg_fx_model("a.json", RTG_FX_LSTM, 1, 8, 1, 0.8f);
    const char *pb = rtg_fx_model("b.json", RTG_FX_GRU, 1, 6, 2, 2.5f);
    rtg_model *ma = load(pa), *mb = load(pb);
    int step;
    rtg_plan *old = plan_of(ma, &step), *p = plan_of(ma, &step), *fresh = plan_of(mb, &step);
    rtg_model_free(ma);
    rtg_model_free(mb);
    const int at = 40 * BLOCK, fade = 300;
    static float yo[FRAMES], y[FRAMES], yn[FRAMES];
    rtg_model_slot *s = rtg_model_slot_at(p, step);
    for (int k = 0; k * BLOCK < FRAMES; k++) {
        if (k * BLOCK == at)
            assert_null(rtg_model_slot_swap(s, unit_of(pb), fade));
        rtg_plan_process(old, signal + k * BLOCK, yo + k * BLOCK, BLOCK);
        rtg_plan_process(p, signal + k * BLOCK, y + k * BLOCK, BLOCK);
        if (k * BLOCK >= at)
            rtg_plan_process(fresh, signal + k * BLOCK, yn + k * BLOCK, BLOCK);
        rtg_model_unit *u = rtg_model_slot_collect(s);
        if (u) { /* handed back exactly when the fade is over */
            assert_int_equal((k + 1) * BLOCK >= at + fade, 1);
            assert_int_equal(k * BLOCK < at + fade, 1);
            assert_string_equal(rtg_model_unit_path(u), pa);
            rtg_model_unit_free(u);
        }
    }
    for (int t = 0; t < FRAMES; t++) {
        float want = yo[t];
        if (t >= at + fade - 1)
            want = yn[t];
        else if (t >= at)
            want = yo[t] + (float)(t - at + 1) * (1.0f / fade) * (yn[t] - yo[t]);
        if (fabsf(y[t] - want) > 1e-6f)
            fail_msg("frame %d (swap at %d, fade %d): got %.9g, want %.9g", t, at, fade, y[t], want);
    }
    free_slot_plan(old);
    free_slot_plan(p);
    free_slot_plan(fresh);
}

static void newer_swap_supersedes_a_waiting_one(void **st)
{
    (void)st;
    const char *pa = rtg_fx_model("a.json", RTG_FX_LSTM, 1, 8, 1, 0.8f);
    const char *pb = rtg_fx_model("b.json", RTG_FX_LSTM, 1, 8, 2, 0.8f);
    const char *pc = rtg_fx_model("c.json", RTG_FX_GRU, 1, 8, 3, 0.8f);
    const char *pd = rtg_fx_model("d.json", RTG_FX_GRU, 1, 4, 4, 0.8f);
    rtg_model *ma = load(pa);
    int step;
    rtg_plan *p = plan_of(ma, &step);
    rtg_model_free(ma);
    rtg_model_slot *s = rtg_model_slot_at(p, step);
    static float y[BLOCK];
    assert_null(rtg_model_slot_swap(s, unit_of(pb), 3 * BLOCK)); /* starts a fade */
    assert_null(rtg_model_slot_swap(s, unit_of(pc), 3 * BLOCK)); /* waits */
    rtg_model_unit *gone = rtg_model_slot_swap(s, unit_of(pd), 3 * BLOCK);
    assert_non_null(gone); /* c was never heard */
    assert_string_equal(rtg_model_unit_path(gone), pc);
    rtg_model_unit_free(gone);
    assert_true(rtg_model_slot_busy(s));
    const char *handed[4];
    int n = 0;
    for (int k = 0; k < 12; k++) {
        rtg_plan_process(p, signal + k * BLOCK, y, BLOCK);
        if (k == 3 || k >= 6) {
            rtg_model_unit *u = rtg_model_slot_collect(s);
            if (u) {
                handed[n++] = rtg_model_unit_path(u);
                assert_true(n <= 2);
                /* keep the path valid until compared: free after */
                if (n == 1)
                    assert_string_equal(handed[0], pa);
                else
                    assert_string_equal(handed[1], pb);
                rtg_model_unit_free(u);
            }
        }
    }
    assert_int_equal(n, 2);
    assert_false(rtg_model_slot_busy(s));
    assert_string_equal(rtg_model_unit_path(rtg_model_slot_unit(s)), pd);
    free_slot_plan(p);
}

static void check_refuses_what_does_not_fit(void **st)
{
    (void)st;
    rtg_model *m = load(rtg_fx_model("a.json", RTG_FX_LSTM, 1, 8, 1, 0.8f));
    int step;
    rtg_plan *p = plan_of(m, &step);
    rtg_model_free(m);
    rtg_model_unit *two = unit_of(rtg_fx_model("two_in.json", RTG_FX_LSTM, 2, 8, 5, 0.8f));
    rtg_error err;
    assert_int_not_equal(rtg_model_slot_check(rtg_model_slot_at(p, step), two, &err), RTG_OK);
    assert_non_null(strstr(err.msg, "two_in.json"));
    assert_non_null(strstr(err.msg, "node 'amp' takes 1 input"));
    assert_non_null(strstr(err.msg, "model has 2 in, 1 out"));
    rtg_model_unit *ok = unit_of(rtg_fx_model("b.json", RTG_FX_GRU, 1, 3, 2, 0.8f));
    assert_int_equal(rtg_model_slot_check(rtg_model_slot_at(p, step), ok, &err), RTG_OK);
    /* a slot on a 2-channel buffer refuses a 1-input model at build */
    rtg_plan_builder *b = rtg_plan_builder_new(BLOCK, 2, SR);
    rtg_model *m1 = load(rtg_fx_path("a.json"));
    assert_true(rtg_plan_add_model_slot(b, m1, rtg_plan_input(b), "amp", BLOCK, SR, NULL, &err) < 0);
    assert_non_null(strstr(err.msg, "amp: the model takes 1 channels but its input has 2"));
    rtg_plan_builder_free(b);
    rtg_model_free(m1);
    rtg_model_unit_free(two);
    rtg_model_unit_free(ok);
    free_slot_plan(p);
}

static void swapping_allocates_and_locks_nothing(void **st)
{
    (void)st;
    if (!rtg_guard_active())
        skip();
    rtg_model *m = load(rtg_fx_model("a.json", RTG_FX_LSTM, 1, 8, 1, 0.8f));
    int step;
    rtg_plan *p = plan_of(m, &step);
    rtg_model_free(m);
    rtg_model_slot *s = rtg_model_slot_at(p, step);
    rtg_model_unit *units[40];
    for (int i = 0; i < 40; i++)
        units[i] = unit_of(rtg_fx_model(i % 2 ? "b.json" : "c.json", i % 2 ? RTG_FX_GRU : RTG_FX_LSTM,
                                        1, 8, (uint32_t)i + 7, 0.8f));
    rtg_model_unit *back[80];
    int n_back = 0;
    static float y[BLOCK];
    rtg_guard_clear();
    for (int k = 0; k < 160; k++) {
        rtg_guard_watch(1);
        if (k % 4 == 0) {
            rtg_model_unit *u = rtg_model_slot_swap(s, units[k / 4], 50);
            if (u)
                back[n_back++] = u;
        }
        rtg_plan_process(p, signal + k * BLOCK, y, BLOCK);
        rtg_model_unit *u = rtg_model_slot_collect(s);
        if (u)
            back[n_back++] = u;
        rtg_guard_watch(0);
    }
    assert_int_equal(rtg_guard_allocs() + rtg_guard_frees() + rtg_guard_locks(), 0);
    assert_true(n_back >= 30); /* the swaps really happened */
    for (int i = 0; i < n_back; i++)
        rtg_model_unit_free(back[i]);
    free_slot_plan(p);
}

int main(void)
{
    setup_signal();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slot_runs_the_model_as_flat_does),
        cmocka_unit_test(identical_copy_swaps_without_a_trace),
        cmocka_unit_test(swap_crossfades_by_the_formula),
        cmocka_unit_test(newer_swap_supersedes_a_waiting_one),
        cmocka_unit_test(check_refuses_what_does_not_fit),
        cmocka_unit_test(swapping_allocates_and_locks_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
