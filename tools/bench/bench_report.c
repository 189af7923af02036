/* What `latbench bench` reports for a measurement: a row of the table (bench_print_header names its
 * columns) and the google-benchmark-style JSON records of ours and each oneDNN path. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "tools/bench/bench.h"

static double kind_or_zero(const timing_seq_result *s, timing_step_kind k) {
    return s && s->has_kind[k] ? s->kind[k].median : 0;
}

/* oneDNN's best: fastest whole path (with copies), and fastest compute alone. */
static void onednn_best(const bench_measure *m, double *all, const char **path, double *compute) {
    *all = INFINITY;
    *compute = INFINITY;
    *path = NULL;
    if (m->any) {
        *all = m->any->total.median;
        *path = "any";
        *compute = kind_or_zero(m->any, STEP_COMPUTE);
    }
    if (m->plain) {
        if (m->plain->total.median < *all) {
            *all = m->plain->total.median;
            *path = "nhwc";
        }
        double c = kind_or_zero(m->plain, STEP_COMPUTE);
        if (c < *compute) *compute = c;
    }
}

/* The fastest single repetition of any oneDNN path (with its copies). */
static double onednn_best_min(const bench_measure *m) {
    double best = INFINITY;
    if (m->any && m->any->total.min < best) best = m->any->total.min;
    if (m->plain && m->plain->total.min < best) best = m->plain->total.min;
    return best;
}

static const char *kind_name(timing_step_kind k) {
    switch (k) {
    case STEP_COMPUTE: return "compute";
    case STEP_HALO: return "halo";
    case STEP_REORDER: return "reorder";
    default: return "other";
    }
}

void bench_json_samples(json_t *j, const char *key, const double *sec, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, io_json_num(sec[i] * 1e9));
    json_object_set_new(j, key, a);
}

void bench_json_add(bench_run *r, json_t *rec) {
    if (r->json_on) json_array_append_new(r->json_benchmarks, rec);
    else json_decref(rec);
}

/* The fields google-benchmark starts every row with. */
static json_t *gb_row(const bench_run *r, const bench_json_bm *b, const char *type, const char *agg) {
    json_t *j = json_object();
    char name[256];
    snprintf(name, sizeof name, "%s%s%s", b->name, agg ? "_" : "", agg ? agg : "");
    io_json_set_str(j, "name", name);
    io_json_set_int(j, "family_index", r->json_families);
    io_json_set_int(j, "per_family_instance_index", 0);
    io_json_set_str(j, "run_name", b->name);
    io_json_set_str(j, "run_type", type);
    io_json_set_int(j, "repetitions", b->n);
    return j;
}

static void gb_times(json_t *j, double real_s, double cpu_s, double scale) {
    io_json_set_num(j, "real_time", real_s * scale);
    io_json_set_num(j, "cpu_time", cpu_s * scale);
    io_json_set_str(j, "time_unit", "ns");
}

static void mean_sd(const double *x, int n, double *mean, double *sd) {
    double s = 0, ss = 0;
    for (int i = 0; i < n; i++) s += x[i];
    *mean = s / n;
    for (int i = 0; i < n; i++) ss += (x[i] - *mean) * (x[i] - *mean);
    *sd = n > 1 ? sqrt(ss / (n - 1)) : 0;   /* google-benchmark's: the sample standard deviation */
}

static json_t *gb_aggregate(bench_run *r, const bench_json_bm *b, const char *agg, bool pct, double real_v, double cpu_v) {
    json_t *j = gb_row(r, b, "aggregate", agg);
    io_json_set_int(j, "threads", b->threads);
    io_json_set_str(j, "aggregate_name", agg);
    io_json_set_str(j, "aggregate_unit", pct ? "percentage" : "time");
    io_json_set_int(j, "iterations", b->n);
    gb_times(j, real_v, cpu_v, pct ? 1 : 1e9);
    json_array_append_new(r->json_benchmarks, j);
    return j;
}

json_t *bench_json_rows(bench_run *r, const bench_json_bm *b) {
    if (!r->json_on || b->n < 1) return NULL;
    const int n = b->n;
    const double *cpu = b->cpu ? b->cpu : b->wall;
    for (int i = 0; i < n; i++) {
        json_t *j = gb_row(r, b, "iteration", NULL);
        io_json_set_int(j, "repetition_index", i);
        io_json_set_int(j, "threads", b->threads);
        io_json_set_int(j, "iterations", b->iterations);
        gb_times(j, b->wall[i], cpu[i], 1e9);
        json_array_append_new(r->json_benchmarks, j);
    }
    double tmp[256];   /* the statistics of the first 256 repetitions */
    const int m = n < 256 ? n : 256;
    memcpy(tmp, b->wall, sizeof(double) * (size_t)m);
    const timing_stats w = b->wall_st ? *b->wall_st : timing_stats_of(tmp, m);
    memcpy(tmp, cpu, sizeof(double) * (size_t)m);
    const timing_stats c = timing_stats_of(tmp, m);
    double wm, wsd, cm, csd;
    mean_sd(b->wall, n, &wm, &wsd);
    mean_sd(cpu, n, &cm, &csd);
    gb_aggregate(r, b, "mean", false, wm, cm);
    json_t *med = gb_aggregate(r, b, "median", false, w.median, c.median);
    io_json_set_num(med, "min_time", w.min * 1e9);
    io_json_set_num(med, "max_time", w.max * 1e9);
    io_json_set_num(med, "q1_time", w.q1 * 1e9);
    io_json_set_num(med, "q3_time", w.q3 * 1e9);
    bench_json_samples(med, "samples", b->wall, n);
    gb_aggregate(r, b, "stddev", false, wsd, csd);
    gb_aggregate(r, b, "cv", true, wm > 0 ? wsd / wm : 0, cm > 0 ? csd / cm : 0);
    r->json_families++;
    return med;
}

static void record_json(bench_run *r, const bench_measure *m, const char *who, const timing_seq *seq,
                        const timing_seq_result *res, double peak) {
    char name[192];
    snprintf(name, sizeof name, "%s/%s/threads:%d", m->name, who, m->threads);
    const bench_json_bm bm = {name, m->threads, res->calls, res->n_samples, res->samples, res->cpu_samples, &res->total};
    json_t *j = bench_json_rows(r, &bm);
    if (!j) return;
    io_json_set_str(j, "problem", m->name);
    io_json_set_str(j, "op", m->op);
    io_json_set_str(j, "pass", m->pass);
    io_json_set_str(j, "layers", m->layers);
    io_json_set_str(j, "impl", who);
    io_json_set_num(j, "flops", m->flops);
    io_json_set_num(j, "bytes", m->bytes);
    double t = res->total.median;
    io_json_set_num(j, "GFLOPS", m->flops / t * 1e-9);
    io_json_set_num(j, "GBps", m->bytes / t * 1e-9);
    if (m->fma_bound && peak > 0) io_json_set_num(j, "pct_fma_peak", 100 * m->flops / t * 1e-9 / peak);
    if (!strcmp(who, "ours")) {
        io_json_set_str(j, "variant", m->variant);
        io_json_set_str(j, "isa", lb_isa_name(m->isa));
        io_json_set_int(j, "threads_used", m->threads_ours);
        io_json_set_bool(j, "contended", m->ours_time_first_threads > 0 && t > 3 * m->ours_time_first_threads);
        double all, compute;
        const char *path;
        onednn_best(m, &all, &path, &compute);
        if (path) {
            io_json_set_str(j, "onednn_best_path", path);
            io_json_set_num(j, "onednn_best_time", all * 1e9);
            io_json_set_num(j, "onednn_best_compute_time", compute * 1e9);
            io_json_set_num(j, "ratio_vs_onednn", t / all);
            io_json_set_num(j, "ratio_vs_onednn_compute", t / compute);
            io_json_set_num(j, "ratio_vs_onednn_min", res->total.min / onednn_best_min(m));
        }
        if (m->scalar) io_json_set_num(j, "ratio_vs_scalar", t / m->scalar->total.median);
        if (m->counter_calls > 0) {
            io_json_set_int(j, "counter_calls", m->counter_calls);
            json_object_set_new(j, "counters", machine_counters_json(&m->counters));
        }
    } else if (!strcmp(who, "tuned")) {
        /* the tuning profile's choice, timed interleaved with ours (the default) */
        io_json_set_str(j, "variant", m->tuned_variant);
        io_json_set_str(j, "isa", lb_isa_name(m->tuned_isa));
        io_json_set_int(j, "threads_used", m->threads_ours);
        io_json_set_str(j, "tuned", m->tuned_how);
        io_json_set_str(j, "profile_problem", m->tuned_entry[0] ? m->tuned_entry : NULL);
        io_json_set_num(j, "ratio_vs_default", t / m->ours->total.median);
        double all, compute;
        const char *path;
        onednn_best(m, &all, &path, &compute);
        if (path) io_json_set_num(j, "ratio_vs_onednn", t / all);
    } else if (!strcmp(who, "scalar")) {
        io_json_set_str(j, "variant", m->seq_scalar->steps[0].name);
        io_json_set_str(j, "isa", "scalar");
        io_json_set_int(j, "threads_used", m->threads_ours);
    } else {
        io_json_set_str(j, "onednn_impl", !strcmp(who, "onednn_nhwc") ? m->impl_plain : m->impl_any);
        if (!strcmp(who, "onednn_any") && m->layouts_any) io_json_set_str(j, "onednn_layouts", m->layouts_any);
        io_json_set_int(j, "threads_used", m->threads);
    }
    for (int k = 0; k < STEP_N_KINDS; k++)
        if (res->has_kind[k]) {
            char key[32];
            snprintf(key, sizeof key, "%s_time", kind_name((timing_step_kind)k));
            io_json_set_num(j, key, res->kind[k].median * 1e9);
        }
    if (seq->n_steps > 1) {
        json_t *steps = json_array();
        for (int k = 0; k < seq->n_steps; k++) {
            json_t *st = json_object();
            io_json_set_str(st, "name", seq->steps[k].name);
            io_json_set_str(st, "kind", kind_name(seq->steps[k].kind));
            io_json_set_num(st, "median_time", res->step[k].median * 1e9);
            io_json_set_num(st, "min_time", res->step[k].min * 1e9);
            io_json_set_num(st, "max_time", res->step[k].max * 1e9);
            json_array_append_new(steps, st);
        }
        json_object_set_new(j, "steps", steps);
    }
}

#define ROW_FMT "%-60s %4s %10s %4s %8s %6s | %10s %9s %9s %10s | %6s %6s %6s %6s | %-34s | %s\n"

void bench_print_header(FILE *f) {
    fprintf(f, ROW_FMT, "problem", "thr", "ours_us", "+-%", "GFLOP/s", "%peak", "dnnl_us", "+halo_us", "+reord_us", "nhwc_us",
            "r_all", "r_cmp", "r_min", "r_scl", "ctr (ours)", "oneDNN impl (best layout)");
}

static void fmt_us(char *buf, size_t len, double s) {
    if (s <= 0 || !isfinite(s)) snprintf(buf, len, "-");
    else snprintf(buf, len, "%.2f", s * 1e6);
}

void bench_report(bench_run *r, const bench_measure *m) {
    double t = m->ours->total.median;
    double gf = m->flops / t * 1e-9;
    double peak = bench_peak_for(r, m->isa, m->threads);
    char thr[16], ours[24], spread[16], gfs[24], pct[16], dnnl[24], halo[24], reord[24], nhwc[24], rall[16], rcmp[16], rmin[16], rscl[16];
    /* More threads taking 3x longer than fewer: a thread waited for a core (shared machine) */
    bool contended = m->ours_time_first_threads > 0 && t > 3 * m->ours_time_first_threads;
    r->any_contended |= contended;
    snprintf(thr, sizeof thr, "%d%s%s", m->threads, m->threads_ours < m->threads ? "*" : "", contended ? "!" : "");
    fmt_us(ours, sizeof ours, t);
    /* half the interquartile range, relative: how much the repetitions disagreed */
    snprintf(spread, sizeof spread, "%.0f", t > 0 ? 50 * (m->ours->total.q3 - m->ours->total.q1) / t : 0);
    snprintf(gfs, sizeof gfs, "%.2f", gf);
    if (m->fma_bound && peak > 0) snprintf(pct, sizeof pct, "%.1f", 100 * gf / peak);
    else snprintf(pct, sizeof pct, "-");
    fmt_us(dnnl, sizeof dnnl, kind_or_zero(m->any, STEP_COMPUTE));
    fmt_us(halo, sizeof halo, kind_or_zero(m->any, STEP_HALO));
    fmt_us(reord, sizeof reord, kind_or_zero(m->any, STEP_REORDER));
    fmt_us(nhwc, sizeof nhwc, kind_or_zero(m->plain, STEP_COMPUTE));
    /* '^': a path timed once only, being many times slower than the fastest (timing.h) */
    if (m->any && m->any->reps == 1 && r->opt->timing.reps > 1) strcat(dnnl, "^");
    if (m->plain && m->plain->reps == 1 && r->opt->timing.reps > 1) strcat(nhwc, "^");
    r->any_lone |= (m->any && m->any->reps == 1) || (m->plain && m->plain->reps == 1);
    double all, compute;
    const char *path;
    onednn_best(m, &all, &path, &compute);
    if (path) {
        snprintf(rall, sizeof rall, "%.2f", t / all);
        snprintf(rcmp, sizeof rcmp, "%.2f", t / compute);
        snprintf(rmin, sizeof rmin, "%.2f", m->ours->total.min / onednn_best_min(m));
    } else {
        snprintf(rall, sizeof rall, "-");
        snprintf(rcmp, sizeof rcmp, "-");
        snprintf(rmin, sizeof rmin, "-");
    }
    if (m->scalar) snprintf(rscl, sizeof rscl, "%.3f", t / m->scalar->total.median);
    else snprintf(rscl, sizeof rscl, "-");
    char impl[160];
    if (path && !strcmp(path, "nhwc"))
        snprintf(impl, sizeof impl, "%s; nhwc path faster: %s", m->impl_any ? m->impl_any : "-", m->impl_plain ? m->impl_plain : "-");
    else
        snprintf(impl, sizeof impl, "%s", m->impl_any ? m->impl_any : "-");
    char ctr[96] = "-";
    if (m->counter_calls > 0) machine_counters_format(&m->counters, ctr, sizeof ctr);
    fprintf(r->out, ROW_FMT, m->name, thr, ours, spread, gfs, pct, dnnl, halo, reord, nhwc, rall, rcmp, rmin, rscl, ctr, impl);
    if (m->tuned) {
        /* the profile's choice beside the default (ours above) and oneDNN, from the same interleaved run */
        const double tt = m->tuned->total.median;
        const bool near = !strcmp(m->tuned_how, "by nearest shape");   /* then the entry it borrowed */
        fprintf(r->out, "    tuned  %s (%s%s%s) %.2f us +-%.0f%%: tuned/default %.3f", m->tuned_variant, m->tuned_how,
                near ? " " : "", near ? m->tuned_entry : "", tt * 1e6, tt > 0 ? 50 * (m->tuned->total.q3 - m->tuned->total.q1) / tt : 0,
                tt / t);
        if (path) fprintf(r->out, ", tuned/oneDNN %.2f", tt / all);
        fprintf(r->out, "\n");
    }
    if (!strcmp(m->op, "chain")) {
        /* where the chain's time goes, per kind of step */
        for (int s = 0; s < 2; s++) {
            const timing_seq_result *res = s == 0 ? m->ours : m->any;
            if (!res) continue;
            fprintf(r->out, "    %-11s total %9.2f us:", s == 0 ? "ours" : "oneDNN any", res->total.median * 1e6);
            for (int k = 0; k < STEP_N_KINDS; k++)
                if (res->has_kind[k]) fprintf(r->out, "  %s %.2f", kind_name((timing_step_kind)k), res->kind[k].median * 1e6);
            fprintf(r->out, "  (%d steps)\n", (s == 0 ? m->seq_ours : m->seq_any)->n_steps);
        }
    }
    fflush(r->out);
    r->n_rows++;
    if (r->json_on) {
        record_json(r, m, "ours", m->seq_ours, m->ours, peak);
        if (m->any) record_json(r, m, "onednn_any", m->seq_any, m->any, peak);
        if (m->plain) record_json(r, m, "onednn_nhwc", m->seq_plain, m->plain, peak);
        if (m->scalar) record_json(r, m, "scalar", m->seq_scalar, m->scalar, bench_peak_for(r, LB_ISA_SCALAR, m->threads));
        if (m->tuned) record_json(r, m, "tuned", m->seq_tuned, m->tuned, bench_peak_for(r, m->tuned_isa, m->threads));
    }
    if (r->on_measure) r->on_measure(r, m);
}
