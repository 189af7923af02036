#include "tools/timing/timing.h"
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tools/stats/stats.h"

double timing_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double timing_cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Linear interpolation between order statistics (numpy's default). */
static double quantile_sorted(const double *x, int n, double q) {
    double pos = q * (n - 1);
    int i = (int)pos;
    if (i >= n - 1) return x[n - 1];
    return x[i] + (pos - i) * (x[i + 1] - x[i]);
}

timing_stats timing_stats_of(double *samples, int n) {
    timing_stats s = {0, 0, 0, 0, 0};
    if (n <= 0) return s;
    qsort(samples, (size_t)n, sizeof *samples, stats_cmp_double);
    s.min = samples[0];
    s.max = samples[n - 1];
    s.median = quantile_sorted(samples, n, 0.5);
    s.q1 = quantile_sorted(samples, n, 0.25);
    s.q3 = quantile_sorted(samples, n, 0.75);
    return s;
}

timing_stats timing_order_stats(double *v, int n) {
    timing_stats s = {0, 0, 0, 0, 0};
    if (n <= 0) return s;
    qsort(v, (size_t)n, sizeof *v, stats_cmp_double);
    s.min = v[0];
    s.max = v[n - 1];
    s.q1 = v[(n - 1) / 4];
    s.q3 = v[(3 * (n - 1) + 3) / 4];
    s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    return s;
}

timing_stats timing_ratio_stats(const double *a, const double *b, int n) {
    double r[TIMING_MAX_SAMPLES];
    int m = 0;
    for (int k = 0; k < n && m < TIMING_MAX_SAMPLES; k++)
        if (b[k] > 0) r[m++] = a[k] / b[k];
    return m ? timing_order_stats(r, m) : (timing_stats){0};
}

int timing_seq_add(timing_seq *s, const char *name, timing_step_kind kind, timing_step_fn *fn, void *ctx) {
    if (s->n_steps >= TIMING_MAX_STEPS) return -1;
    s->steps[s->n_steps++] = (timing_step){name, kind, fn, ctx};
    return 0;
}

/* Runs `calls` calls of the sequence; returns the wall time and the process's CPU time in *cpu,
 * adds per-step times to step_acc (only for sequences of several steps: a lone step is its own
 * total, unperturbed by clock reads). */
static double run_calls(const timing_seq *s, long calls, double *step_acc, double *cpu) {
    double c0 = timing_cpu_now();
    double t0 = timing_now();
    if (s->n_steps == 1) {
        timing_step_fn *fn = s->steps[0].fn;
        void *ctx = s->steps[0].ctx;
        for (long c = 0; c < calls; c++) fn(ctx);
    } else {
        for (long c = 0; c < calls; c++)
            for (int k = 0; k < s->n_steps; k++) {
                double a = timing_now();
                s->steps[k].fn(s->steps[k].ctx);
                double b = timing_now();
                if (step_acc) step_acc[k] += b - a;
            }
    }
    double t = timing_now() - t0;
    *cpu = timing_cpu_now() - c0;
    return t;
}

/* A call this long is slow enough to be its own sample: calls this slow are timed once or twice,
 * not repeated in batches (every buffer was touched before timing). */
#define FIRST_CALL_SAMPLE_S 0.1

/* Returns the estimated time per call.  The first call is a warm-up (caches, lazy set-up); when
 * it lasts FIRST_CALL_SAMPLE_S or more, a second call follows and the faster of the two is kept as
 * a sample (*has_first = 1, its time in *first_total and first_steps[]), which saves the batch
 * calibration of the slowest problems. */
static double calibrate(const timing_seq *s, double rep_s, long *calls_out, int *has_first, double *first_total,
                        double *first_steps, double *first_cpu) {
    for (int k = 0; k < s->n_steps; k++) first_steps[k] = 0;
    double cpu;
    double t = run_calls(s, 1, first_steps, &cpu);
    *has_first = t >= FIRST_CALL_SAMPLE_S;
    long calls = 1;
    if (*has_first) {
        /* A second call, and the faster of the two is the sample: the first one may be mostly a
         * library's lazy set-up (oneDNN's JIT) or a stall of the shared machine. */
        double steps2[TIMING_MAX_STEPS] = {0};
        double cpu2;
        double t2 = run_calls(s, 1, steps2, &cpu2);
        if (t2 < t) {
            t = t2;
            cpu = cpu2;
            for (int k = 0; k < s->n_steps; k++) first_steps[k] = steps2[k];
        }
        *first_total = t;
        *first_cpu = cpu;
        if (s->n_steps == 1) first_steps[0] = t;
    } else {
        for (;;) {
            t = run_calls(s, calls, NULL, &cpu);
            if (t >= 0.5 * rep_s || calls >= (1L << 26)) break;
            calls *= 2;
        }
    }
    double per_call = t / (double)calls;
    double want = ceil(rep_s / (per_call > 1e-12 ? per_call : 1e-12));
    *calls_out = want < 1 ? 1 : want > (double)(1L << 28) ? (1L << 28) : (long)want;
    return per_call;
}

/* What calibration decided for n sequences: calls per sample, the warm-up sample of the slow ones
 * (first[i * (1 + TIMING_MAX_STEPS)]: its total, then its steps; first_cpu[i] its CPU time) and
 * the repetitions of each. */
typedef struct {
    long *calls;
    int *has_first, *nrep;
    double *first, *first_cpu, *per_call;
    int reps; /* the most repetitions of any sequence */
} interleave_plan;

/* Calibrates every sequence and sizes the repetitions to the budget. */
static void plan_reps(const timing_seq *seqs, int n, const timing_cfg *cfg, interleave_plan *p) {
    double fastest = INFINITY, slowest_rep = 0;
    for (int i = 0; i < n; i++) {
        double *fi = p->first + (size_t)i * (1 + TIMING_MAX_STEPS);
        p->per_call[i] = calibrate(&seqs[i], cfg->rep_s, &p->calls[i], &p->has_first[i], &fi[0], &fi[1],
                                  &p->first_cpu[i]);
        if (p->per_call[i] < fastest) fastest = p->per_call[i];
    }
    /* A sequence far slower than the fastest one, whose first call was long enough to count,
     * keeps that single sample: its precision cannot change any comparison, and repeating it
     * would dominate the run (oneDNN's plain-layout fallbacks can be 100x slower than its best). */
    for (int i = 0; i < n; i++) {
        bool lone = cfg->drop_factor > 0 && p->has_first[i] && p->per_call[i] > cfg->drop_factor * fastest;
        p->nrep[i] = lone ? 1 : 0;
        if (!lone && p->per_call[i] * (double)p->calls[i] > slowest_rep) slowest_rep = p->per_call[i] * (double)p->calls[i];
    }
    int reps = cfg->reps;
    if (slowest_rep > 0 && cfg->budget_s / slowest_rep < reps) reps = (int)(cfg->budget_s / slowest_rep);
    if (reps < cfg->min_reps) reps = cfg->min_reps;
    if (reps < 1) reps = 1;
    for (int i = 0; i < n; i++)
        if (!p->nrep[i]) p->nrep[i] = reps;
    p->reps = reps;
}

/* The timed rounds: samples[i * per_seq + r] = time per call of sequence i in repetition r,
 * samples[i * per_seq + (1 + k) * reps + r] = its step k, and at (1 + TIMING_MAX_STEPS) * reps + r
 * the process's CPU time per call. */
static void run_rounds(const timing_seq *seqs, int n, const interleave_plan *p, double *samples, size_t per_seq) {
    const int reps = p->reps;
    for (int r = 0; r < reps; r++)
        for (int j = 0; j < n; j++) {
            int i = (r + j) % n;   /* rotate who goes first: no sequence always follows the same one */
            if (r >= p->nrep[i]) continue;
            double acc[TIMING_MAX_STEPS] = {0};
            double t, cpu;
            if (r == 0 && p->has_first[i]) {
                const double *fi = p->first + (size_t)i * (1 + TIMING_MAX_STEPS);
                t = fi[0];
                cpu = p->first_cpu[i];
                for (int k = 0; k < seqs[i].n_steps; k++) acc[k] = fi[1 + k];
            } else {
                t = run_calls(&seqs[i], p->calls[i], acc, &cpu);
            }
            double *smp = samples + (size_t)i * per_seq;
            smp[r] = t / (double)p->calls[i];
            smp[(size_t)(1 + TIMING_MAX_STEPS) * reps + r] = cpu / (double)p->calls[i];
            for (int k = 0; k < seqs[i].n_steps; k++)
                smp[(size_t)(1 + k) * reps + r] = seqs[i].n_steps == 1 ? t / (double)p->calls[i] : acc[k] / (double)p->calls[i];
        }
}

/* One sequence's result from its nr samples (smp as run_rounds lays them out, reps apart; sorted
 * in place by timing_stats_of; tmp: scratch of reps doubles). */
static void seq_result(const timing_seq *s, double *smp, int nr, int reps, long calls, double *tmp,
                       timing_seq_result *o) {
    memset(o, 0, sizeof *o);
    o->reps = nr;
    o->calls = calls;
    for (int kind = 0; kind < STEP_N_KINDS; kind++) {
        int any = 0;
        for (int r = 0; r < nr; r++) tmp[r] = 0;
        for (int k = 0; k < s->n_steps; k++)
            if ((int)s->steps[k].kind == kind) {
                any = 1;
                for (int r = 0; r < nr; r++) tmp[r] += smp[(size_t)(1 + k) * reps + r];
            }
        o->has_kind[kind] = any;
        if (any) o->kind[kind] = timing_stats_of(tmp, nr);
    }
    for (int k = 0; k < s->n_steps; k++) o->step[k] = timing_stats_of(smp + (size_t)(1 + k) * reps, nr);
    o->n_samples = nr < TIMING_MAX_SAMPLES ? nr : TIMING_MAX_SAMPLES;
    memcpy(o->samples, smp, sizeof(double) * (size_t)o->n_samples);   /* before the sort below */
    double *cpu = smp + (size_t)(1 + TIMING_MAX_STEPS) * reps;
    memcpy(o->cpu_samples, cpu, sizeof(double) * (size_t)o->n_samples);
    o->cpu = timing_stats_of(cpu, nr);
    o->total = timing_stats_of(smp, nr);
}

int timing_interleaved(const timing_seq *seqs, int n, const timing_cfg *cfg, timing_seq_result *res) {
    if (n <= 0) return 0;
    interleave_plan p = {.calls = calloc((size_t)n, sizeof *p.calls),
                         .has_first = calloc((size_t)n, sizeof *p.has_first),
                         .nrep = calloc((size_t)n, sizeof *p.nrep),
                         .first = calloc((size_t)n * (1 + TIMING_MAX_STEPS), sizeof *p.first),
                         .first_cpu = calloc((size_t)n, sizeof *p.first_cpu),
                         .per_call = calloc((size_t)n, sizeof *p.per_call)};
    double *samples = NULL, *tmp = NULL;
    int rc = -1;
    if (p.calls && p.has_first && p.nrep && p.first && p.first_cpu && p.per_call) {
        plan_reps(seqs, n, cfg, &p);
        size_t per_seq = (size_t)(2 + TIMING_MAX_STEPS) * p.reps;
        samples = calloc((size_t)n * per_seq, sizeof *samples);
        tmp = calloc((size_t)p.reps, sizeof *tmp);
        if (samples && tmp) {
            run_rounds(seqs, n, &p, samples, per_seq);
            for (int i = 0; i < n; i++)
                seq_result(&seqs[i], samples + (size_t)i * per_seq, p.nrep[i], p.reps, p.calls[i], tmp, &res[i]);
            rc = 0;
        }
    }
    free(p.calls);
    free(p.has_first);
    free(p.nrep);
    free(p.first);
    free(p.first_cpu);
    free(p.per_call);
    free(samples);
    free(tmp);
    return rc;
}
