/* rtg_fuzz.h — what the libFuzzer targets of tests/fuzz/ share: a private
 * scratch folder holding the fixed fixture files a fuzzed graph may refer
 * to, writing the fuzz input into it, and running whatever loaded through
 * its plan so the kernels see what the loader accepted.
 *
 * Every target is one file with LLVMFuzzerTestOneInput (and usually
 * LLVMFuzzerInitialize calling rtg_fuzz_setup). Built by the RTG_FUZZ block
 * of the top CMakeLists.txt; run by tools/fuzz.sh. Not part of any library.
 *
 * Thread: the fuzzer's one thread.
 */
#ifndef RTG_FUZZ_H
#define RTG_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "rtg_graph.h"
#include "rtg_model.h"
#include "rtg_plan.h"

/* Makes the scratch folder (under $TMPDIR, else /dev/shm or /tmp) with its
 * fixture files, once per process:
 *   DIR/g/       where fuzzed graphs and weight files are written
 *   DIR/w/       the .json files of tests/data/graphs/w (graphs' "../w/FILE")
 *   DIR/models/  the .json files of models/ (configs/' "../models/FILE")
 *   DIR/nam/     the .nam files of tests/data/nam
 *   DIR/microtcn/ the four microTCN layer files of ../shared (when present)
 * Aborts when it cannot (a harness problem, not a finding). Returns DIR. */
const char *rtg_fuzz_setup(void);

/* DIR/rel in a static buffer (one result at a time per `slot` 0..3). */
const char *rtg_fuzz_path(int slot, const char *rel);

/* Writes `n` bytes to `path` (aborts on I/O failure). */
void rtg_fuzz_write(const char *path, const uint8_t *data, size_t n);

/* Runs a built plan the way hosts do: blocks of several sizes (1, the
 * largest, odd ones) of a deterministic signal mixed with `seed` bytes,
 * a reset, and a long call, bounded so a heavy plan still takes little
 * time. Every param of `g` (when given) is moved to its min and max on
 * the way. Returns nothing: the sanitizers are the check. */
void rtg_fuzz_run_plan(rtg_plan *p, const rtg_graph *g, const uint8_t *seed, size_t n);

/* The outcome of a load that returned `rc`, having made `made` (the model,
 * graph or CSV data; NULL when it made nothing): true when it loaded. A
 * refusal must be clean, or this aborts (a finding): a negative code,
 * nothing made, a one-line message. With RTG_FUZZ_VERBOSE set in the
 * environment it prints `what` and the outcome to stderr, for checking
 * seeds:  RTG_FUZZ_VERBOSE=1 build-fuzz/fuzz/fuzz_graph SEED... */
int rtg_fuzz_loaded(const char *what, int rc, const void *made, const rtg_error *err);

/* Builds `m` into a flat plan as `rtgraph infer` does (blocks of
 * `max_block`), runs it (rtg_fuzz_run_plan) and frees it. A build error is
 * a clean outcome, not a finding. */
void rtg_fuzz_run_model(const rtg_model *m, int max_block, const uint8_t *seed, size_t n);

#endif
