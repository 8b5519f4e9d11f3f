/* host.c — an application embedding rtgraph: its own audio loop plays a
 * test signal through a graph in real time, while a control thread turns
 * every knob and swaps the model back and forth.
 *
 *     host GRAPH [MODEL] [SECONDS]
 *
 * The audio loop stands in for a sound card's callback: every block
 * period it calls rtg_engine_process and nothing else that could block.
 * Everything else — loading, building, checking — happens on the control
 * thread, through calls that either succeed or change nothing. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <rtgraph.h>

#define MAX_PARAMS 256

typedef struct host {
    rtg_engine *engine;
    rtg_engine_info info;
    const char *swap_model; /* NULL: no swaps */
    double seconds;
    atomic_int done;
    double peak;            /* written by the audio loop, read after it ends */
    long bad_samples;
} host;

/* Sleeps to an absolute time, as a sound card's clock would pace us. */
static void wait_until(struct timespec *t, long add_ns)
{
    t->tv_nsec += add_ns;
    while (t->tv_nsec >= 1000000000L) {
        t->tv_nsec -= 1000000000L;
        t->tv_sec++;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, t, NULL);
}

static void *audio_loop(void *arg)
{
    host *h = arg;
    const int block = h->info.max_block, ni = h->info.n_inputs, no = h->info.n_outputs;
    const double rate = h->info.sample_rate;
    /* Buffers are made before the loop: nothing is allocated inside it. */
    float *in = calloc((size_t)block * (size_t)ni, sizeof *in);
    float *out = calloc((size_t)block * (size_t)no, sizeof *out);
    if (!in || !out) {
        free(in);
        free(out);
        atomic_store(&h->done, 1);
        return NULL;
    }
    const long period_ns = (long)(1e9 * block / rate);
    const long blocks = (long)(h->seconds * rate / block);
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    for (long k = 0; k < blocks; k++) {
        for (int i = 0; i < block; i++) { /* a plucked A, repeating */
            double s = (double)((k * block + i) % (long)rate) / rate;
            for (int c = 0; c < ni; c++)
                in[i * ni + c] = (float)(0.5 * exp(-4 * s) * sin(2 * M_PI * 110 * s));
        }
        rtg_engine_process(h->engine, in, out, block);
        for (int i = 0; i < block * no; i++) {
            if (!isfinite(out[i]))
                h->bad_samples++;
            else if (fabs(out[i]) > h->peak)
                h->peak = fabs(out[i]);
        }
        wait_until(&t, period_ns);
    }
    free(in);
    free(out);
    atomic_store(&h->done, 1);
    return NULL;
}

/* Turns each knob a few units either side of where the graph set it and
 * swaps the model every half second, as a user or an automation lane would. */
static void control_loop(host *h)
{
    rtg_error err;
    rtg_model_info original = {{0}};
    if (h->info.n_models > 0)
        rtg_engine_model_info(h->engine, 0, &original);
    rtg_param_info params[MAX_PARAMS];
    int n_params = 0;
    while (n_params < h->info.n_params && n_params < MAX_PARAMS &&
           rtg_engine_param_info(h->engine, n_params, &params[n_params]) == RTG_OK)
        n_params++;
    const struct timespec tick = {0, 10 * 1000 * 1000};
    for (long n = 0; !atomic_load(&h->done); n++) {
        for (int i = 0; i < n_params; i++) {
            const rtg_param_info *p = &params[i];
            double v = fmin(p->max, fmax(p->min, p->value + 3 * sin(0.05 * (double)n + i)));
            if (rtg_engine_set_param(h->engine, p->name, v, &err))
                fprintf(stderr, "host: %s\n", err.msg);
        }
        if (h->swap_model && original.node[0] && n % 50 == 25) {
            const char *next = (n / 50) % 2 ? original.path : h->swap_model;
            if (rtg_engine_swap_model(h->engine, original.node, next, &err))
                fprintf(stderr, "host: %s\n", err.msg);
        }
        nanosleep(&tick, NULL);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: host GRAPH [MODEL] [SECONDS]\n");
        return 2;
    }
    host h = {.swap_model = argc > 2 ? argv[2] : NULL, .seconds = argc > 3 ? atof(argv[3]) : 3};
    atomic_init(&h.done, 0);
    rtg_engine_config cfg = rtg_engine_config_init();
    cfg.graph = argv[1];
    cfg.max_block = 256;
    rtg_error err;
    if (rtg_engine_init(&cfg, &h.engine, &err)) {
        fprintf(stderr, "host: %s\n", err.msg);
        return 1;
    }
    rtg_engine_get_info(h.engine, &h.info);
    printf("host: rtgraph %s, %s: %d in, %d out, %.0f Hz, %d params, %d model node%s\n",
           rtg_version(), h.info.graph, h.info.n_inputs, h.info.n_outputs, h.info.sample_rate,
           h.info.n_params, h.info.n_models, h.info.n_models == 1 ? "" : "s");
    pthread_t audio;
    if (pthread_create(&audio, NULL, audio_loop, &h)) {
        rtg_engine_uninit(h.engine);
        return 1;
    }
    control_loop(&h);
    pthread_join(audio, NULL);
    rtg_engine_stats s;
    rtg_engine_get_stats(h.engine, &s);
    printf("host: %llu blocks, callback mean %.1f us, max %.1f us; %llu param changes, "
           "%llu swaps, %llu refused; peak %.3f\n",
           (unsigned long long)s.callbacks, s.cb_mean_us, s.cb_max_us,
           (unsigned long long)s.params, (unsigned long long)s.swaps,
           (unsigned long long)s.rejected, h.peak);
    rtg_engine_uninit(h.engine);
    if (h.bad_samples || s.rejected || !(h.peak > 0)) {
        fprintf(stderr, "host: %ld samples were not finite, %llu commands refused, peak %g\n",
                h.bad_samples, (unsigned long long)s.rejected, h.peak);
        return 1;
    }
    return 0;
}
