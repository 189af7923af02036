/* A C interface to google-benchmark (Debian's libbenchmark-dev), implemented in gbench_shim.cc,
 * the only C++ in latbench.  C code registers benchmark functions, times its loop through an opaque
 * state, sets counters, labels and the run's context, then runs them with google-benchmark's own
 * command line (--benchmark_filter, --benchmark_repetitions, --benchmark_out=FILE
 * --benchmark_out_format=json, --benchmark_enable_random_interleaving, ...).
 *
 * A benchmark function times its work in one of two ways:
 *
 *     for (long n; (n = gb_batch(st)) > 0;)        // the whole iteration count at once: no
 *         for (long i = 0; i < n; i++) work();     // call into the library per iteration
 *
 *     while (gb_keep_running(st)) work();          // one out-of-line call per iteration (~2 ns)
 *
 * Code before the loop (set-up) and after it (clean-up, counters) is not timed.  The function is
 * called several times per benchmark (google-benchmark grows the iteration count until the run
 * lasts --benchmark_min_time, then once per repetition), so costly set-up belongs in ctx, reused.
 */
#pragma once
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_state gb_state;          /* one run of one benchmark (benchmark::State) */
typedef struct gb_benchmark gb_benchmark;  /* a registered benchmark (its options) */

typedef void gb_fn(gb_state *st, void *ctx);

/* Registers fn(st, ctx) under name (copied); ctx must outlive gb_run.  Returns the handle for the
 * options below, or NULL (with a message on stderr) on failure. */
gb_benchmark *gb_register(const char *name, gb_fn *fn, void *ctx);

/* Per-benchmark options.  Each one set here overrides the matching command-line flag for that
 * benchmark (repetitions: --benchmark_repetitions, min_time: --benchmark_min_time), so the
 * defaults are left alone unless a benchmark needs otherwise. */
void gb_opt_repetitions(gb_benchmark *b, int n);
void gb_opt_min_time(gb_benchmark *b, double seconds);
void gb_opt_min_warmup_time(gb_benchmark *b, double seconds);
/* Wall-clock time instead of the main thread's CPU time (needed when the work runs on OpenMP
 * threads: their CPU time is not the calling thread's). */
void gb_opt_real_time(gb_benchmark *b);
typedef enum { GB_UNIT_NS = 0, GB_UNIT_US, GB_UNIT_MS, GB_UNIT_S } gb_unit;
void gb_opt_unit(gb_benchmark *b, gb_unit unit);

/* ---- inside a benchmark function ---- */

/* The timed loop, batch form: returns the number of iterations to run now (the first call starts
 * the timer), then 0 (the timer is stopped and the loop must end). */
long gb_batch(gb_state *st);
/* The timed loop, one iteration per call. */
bool gb_keep_running(gb_state *st);
/* Iterations of this run (valid after the loop). */
long gb_iterations(const gb_state *st);
void gb_pause_timing(gb_state *st);
void gb_resume_timing(gb_state *st);
/* Ends the run as failed with this message (reported in place of the timings); the loop must then
 * not be entered (gb_batch returns 0), or must end. */
void gb_skip_with_error(gb_state *st, const char *msg);

/* Counter flags (combine with |), as benchmark::Counter's:
 *   RATE            value / run time (e.g. FLOPs done -> FLOP/s)
 *   ITER_INVARIANT  value is per iteration: multiplied by the iteration count
 *   AVG_ITERATIONS  value / iterations
 *   AVG_THREADS     value / google-benchmark threads (latbench uses 1)
 *   INVERT          1 / the result (applied last)
 * GB_COUNTER_PER_CALL_RATE = RATE | ITER_INVARIANT: value per call, reported per second. */
enum {
    GB_COUNTER_DEFAULT = 0,
    GB_COUNTER_RATE = 1 << 0,
    GB_COUNTER_AVG_THREADS = 1 << 1,
    GB_COUNTER_ITER_INVARIANT = 1 << 2,
    GB_COUNTER_AVG_ITERATIONS = 1 << 3,
    GB_COUNTER_INVERT = 1 << 4,
    GB_COUNTER_PER_CALL_RATE = GB_COUNTER_RATE | GB_COUNTER_ITER_INVARIANT,
};
void gb_set_counter(gb_state *st, const char *name, double value, int flags);
/* google-benchmark's own bytes_per_second / items_per_second (totals over the run). */
void gb_set_bytes_processed(gb_state *st, double bytes);
void gb_set_items_processed(gb_state *st, double items);
void gb_set_label(gb_state *st, const char *label);

/* ---- the run ---- */

/* A key/value pair of the run's context (console header and the JSON "context" object); call
 * before gb_run.  A key given twice keeps its first value. */
void gb_add_context(const char *key, const char *value);

/* Parses google-benchmark's flags out of argv (argv[0] names the program) and rejects any other
 * argument with one line on stderr.  Returns 0, or 2 on an unrecognized argument. */
int gb_init(int argc, char **argv);
/* Runs (or, with --benchmark_list_tests, lists) the benchmarks the flags select, reported (console
 * and, when out_format is not NULL, the --benchmark_out file in that format: json, console or csv)
 * under names without google-benchmark's "/real_time" (the listing keeps it).  Returns 0, or 1 when
 * no benchmark matched the filter; *n_run (may be NULL) receives their number. */
int gb_run(int *n_run, const char *out_format);

#ifdef __cplusplus
}
#endif
