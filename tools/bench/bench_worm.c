/* The worm update in `latbench bench`: sweeps, worm head moves and l-link updates per second per
 * core for every worm variant this CPU runs, side by side with the scalar reference, on 60x4 and
 * 8x8 at eta 4.01, lambda 1 and mu in {0.5, 1.0, 1.5} (below, at and above the Silver Blaze onset). */
#include <stdio.h>
#include <string.h>
#include "tools/bench/bench.h"
#include "tools/bench/wormbench.h"

static void print_header(bench_run *r, bool *printed) {
    if (*printed) return;
    *printed = true;
    fprintf(r->out, "\n== worm update (per core: CPU time of each thread; ratios vs the scalar reference)\n");
    fprintf(r->out, "%-44s %4s %11s %11s %11s %11s %11s %6s %6s %6s %6s %6s\n", "problem", "thr", "sweeps/s", "head/s",
            "l-upd/s", "upd/s", "wall sw/s", "x_sw", "x_head", "x_l", "x_upd", "lanes");
}

static void print_row(bench_run *r, const char *name, int threads, const bench_worm_result *res,
                      const bench_worm_result *scalar) {
    char xs[4][16] = {"-", "-", "-", "-"};
    if (scalar) {
        snprintf(xs[0], 16, "%.2f", res->sweeps_per_s_core / scalar->sweeps_per_s_core);
        snprintf(xs[1], 16, "%.2f", res->head_per_s_core / scalar->head_per_s_core);
        snprintf(xs[2], 16, "%.2f", res->l_per_s_core / scalar->l_per_s_core);
        snprintf(xs[3], 16, "%.2f", res->updates_per_s_core / scalar->updates_per_s_core);
    }
    fprintf(r->out, "%-44s %4d %11.4g %11.4g %11.4g %11.4g %11.4g %6s %6s %6s %6s %6.2f\n", name, threads,
            res->sweeps_per_s_core, res->head_per_s_core, res->l_per_s_core, res->updates_per_s_core,
            res->sweeps_per_s_wall, xs[0], xs[1], xs[2], xs[3], res->lane_efficiency_1024);
    fflush(r->out);
}

static void add_record(bench_run *r, const char *name, const worm_ops *var, int threads, const bench_worm_result *res,
                       const bench_worm_result *scalar) {
    /* one repetition, an iteration being a sweep of every chain; the rates stay the worm's measure */
    char run_name[160];
    snprintf(run_name, sizeof run_name, "%s/threads:%d", name, threads);
    const double wall = res->sweeps > 0 ? res->wall_s / (double)res->sweeps : 0;
    const double cpu = res->sweeps > 0 ? res->cpu_s / (double)res->sweeps : 0;
    const bench_json_bm bm = {run_name, threads, res->sweeps, 1, &wall, &cpu, NULL};
    json_t *j = bench_json_rows(r, &bm);
    if (!j) return;
    io_json_set_str(j, "worm", "update");
    io_json_set_str(j, "variant", var->name);
    io_json_set_str(j, "isa", lb_isa_name(var->isa));
    io_json_set_int(j, "chains", res->chains);
    io_json_set_int(j, "worms_per_sweep", res->worms_per_sweep);
    io_json_set_num(j, "sweeps_per_s_core", res->sweeps_per_s_core);
    io_json_set_num(j, "head_moves_per_s_core", res->head_per_s_core);
    io_json_set_num(j, "l_updates_per_s_core", res->l_per_s_core);
    io_json_set_num(j, "sweeps_per_s_wall", res->sweeps_per_s_wall);
    io_json_set_num(j, "updates_per_s_core", res->updates_per_s_core);
    io_json_set_num(j, "lane_efficiency_1sweep", res->lane_efficiency);
    io_json_set_num(j, "lane_efficiency_32sweeps", res->lane_efficiency_32);
    io_json_set_num(j, "lane_efficiency_1024sweeps", res->lane_efficiency_1024);
    if (scalar) {
        io_json_set_num(j, "ratio_sweeps_vs_scalar", res->sweeps_per_s_core / scalar->sweeps_per_s_core);
        io_json_set_num(j, "ratio_head_vs_scalar", res->head_per_s_core / scalar->head_per_s_core);
        io_json_set_num(j, "ratio_l_vs_scalar", res->l_per_s_core / scalar->l_per_s_core);
        io_json_set_num(j, "ratio_updates_vs_scalar", res->updates_per_s_core / scalar->updates_per_s_core);
    }
}

/* Every usable variant on one lattice, mu and thread count; the scalar reference comes first in
 * the enumerator, so the others' ratios are against its result. */
static void bench_worm_point(bench_run *r, int nt, int nx, double mu, int threads, bool *header) {
    int nv;
    const worm_ops *vars = lb_worm_variants(&nv);
    bench_worm_result scalar;
    bool have_scalar = false;
    for (int v = 0; v < nv; v++) {
        if (!lb_isa_usable(&r->disp->cpu, r->disp->cap, vars[v].isa)) continue;
        char name[128], impl[80];
        bench_impl_name(vars[v].name, vars[v].isa, false, impl, sizeof impl);   /* every variant is timed: no "ours" */
        snprintf(name, sizeof name, "worm/%dx%d_eta4.01_lambda1_mu%.2f/%s", nt, nx, mu, impl);
        if (!bench_wanted(r, name, "worm")) continue;
        print_header(r, header);
        bench_worm_cfg c = {nt, nx, 4.01, 1.0, mu, threads, 1, r->opt->quick ? 0.1 : 0.4, &vars[v]};
        bench_worm_result res;
        char err[160];
        if (!bench_worm_throughput(&c, &res, err, sizeof err)) {
            fprintf(r->out, "%-44s %4d  failed: %s\n", name, c.threads, err);
            continue;
        }
        if (vars[v].isa == LB_ISA_SCALAR) scalar = res, have_scalar = res.sweeps_per_s_core > 0;
        print_row(r, name, threads, &res, have_scalar ? &scalar : NULL);
        r->n_rows++;
        if (r->json_on) add_record(r, name, &vars[v], threads, &res, have_scalar ? &scalar : NULL);
    }
}

void bench_worm(bench_run *r) {
    static const int lattices[][2] = {{60, 4}, {8, 8}};
    static const double mus[] = {0.5, 1.0, 1.5};
    int n_lat = r->opt->quick ? 1 : 2, n_mu = r->opt->quick ? 1 : 3;
    bool header = false;
    for (int li = 0; li < n_lat; li++)
        for (int mi = 0; mi < n_mu; mi++)
            for (int ti = 0; ti < r->opt->n_threads; ti++)
                bench_worm_point(r, lattices[li][0], lattices[li][1], r->opt->quick ? 1.0 : mus[mi], r->opt->threads[ti],
                                 &header);
    if (header)
        fprintf(r->out, "head/s: head proposals per CPU second outside the l passes timed alone (lock-step, contiguous), so the\n"
                "SIMD rows also pay there for their gathered l updates of later sweeps; upd/s: head + l proposals of full\n"
                "sweeps per CPU second (x_upd: the end-to-end ratio, independent of the calibrated worm count);\n"
                "lanes: fraction of lane-updates doing work in calls of 1024 sweeps, as observe and generate make them (1.00 for\n"
                "one-lane kernels; calls of 1 and 32 sweeps in the JSON)\n");
}
