/* latbench observe: thermalize, measure and print <n>, <|phi|^2> (and |phi|^4, the charge) with
 * errors, tau_int and acceptance rates for one parameter point or a scan (docs/design.md §2.5, §6). */
#include <jansson.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arch/registry.h"
#include "harness/cli/cli.h"
#include "harness/lattice/params.h"
#include "harness/lattice/sampler.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: latbench observe --lattice NTxNX --eta E --lambda L --mu M [options]\n"
            "  E, L, M: a number, a comma list or a range A:B:STEP (every combination runs; a scan)\n"
            "  --sweeps N          measured sweeps per chain (default 10000)\n"
            "  --therm N           thermalization sweeps per chain (default 1000)\n"
            "  --chains C          independent chains per point (default 16)\n"
            "  --seed S            (default 1)\n"
            "  --threads T         (default: all cores; results do not depend on it)\n"
            "  --worms-per-sweep N|auto   (default auto: ~4V head proposals per sweep, docs/worm.md)\n"
            "  --fmax F            W(f) table size (default %d)\n"
            "  --json              print a JSON object (a list of them for a scan)\n",
            LB_FMAX_DEFAULT);
}

static int fail(const char *msg) {
    fprintf(stderr, "latbench observe: %s\n", msg);
    return 2;
}

static json_t *stats_json(const lb_series_stats *s) {
    return json_pack("{s:f, s:f, s:f, s:f, s:f, s:i}", "mean", s->mean, "err", s->err, "err_jackknife", s->err_jk, "tau_int",
                     s->tau, "tau_int_err", s->tau_err, "window", s->window);
}

int cmd_observe(int argc, char **argv) {
    const char *lat = NULL, *seta = NULL, *slam = NULL, *smu = NULL;
    long sweeps = 10000, therm = 1000, chains = 16, threads = 0, fmax = LB_FMAX_DEFAULT, wps = 0;
    uint64_t seed = 1;
    bool json = false;
    char err[400];
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return usage(stdout), 0;
        if (!strcmp(argv[i], "--json")) {
            json = true;
            continue;
        }
#define OPT(NAME) ((r = lb_opt_value(argc, argv, &i, NAME, &v)) < 0 ? (snprintf(err, sizeof err, "%s needs a value", NAME), 1) : r)
#define LONG_IN(NAME, VAR, LO, HI)                                                                                  \
    if (OPT(NAME)) {                                                                                                \
        if (r < 0) return fail(err);                                                                                \
        if (!lb_parse_long(v, LO, HI, &VAR))                                                                        \
            return snprintf(err, sizeof err, "%s %s: expected an integer in %ld..%ld", NAME, v, (long)(LO), (long)(HI)), \
                   fail(err);                                                                                       \
        continue;                                                                                                   \
    }
        if (OPT("--lattice")) { if (r < 0) return fail(err); lat = v; continue; }
        if (OPT("--eta")) { if (r < 0) return fail(err); seta = v; continue; }
        if (OPT("--lambda")) { if (r < 0) return fail(err); slam = v; continue; }
        if (OPT("--mu")) { if (r < 0) return fail(err); smu = v; continue; }
        if (OPT("--seed")) {
            if (r < 0) return fail(err);
            if (!lb_parse_u64(v, &seed)) return snprintf(err, sizeof err, "--seed %s: expected an unsigned integer", v), fail(err);
            continue;
        }
        if (OPT("--worms-per-sweep")) {
            if (r < 0 || !lb_parse_worms_per_sweep(v, &wps, err, sizeof err)) return fail(err);
            continue;
        }
        LONG_IN("--sweeps", sweeps, 2, 1L << 30)
        LONG_IN("--therm", therm, 0, 1L << 30)
        LONG_IN("--chains", chains, 1, 1 << 16)
        LONG_IN("--threads", threads, 1, 4096)
        LONG_IN("--fmax", fmax, 8, LB_FMAX_MAX)
#undef LONG_IN
#undef OPT
        snprintf(err, sizeof err, "unknown option '%s' (try --help)", argv[i]);
        return fail(err);
    }
    if (!lat || !seta || !slam || !smu) return fail("--lattice, --eta, --lambda and --mu are required (try --help)");
    int nt, nx, ne, nl, nm;
    double *eta = NULL, *lam = NULL, *mu = NULL;
    if (!lb_parse_lattice(lat, &nt, &nx, err, sizeof err)) return fail(err);
    if (!lb_parse_values(seta, &eta, &ne, err, sizeof err) || !lb_parse_values(slam, &lam, &nl, err, sizeof err) ||
        !lb_parse_values(smu, &mu, &nm, err, sizeof err)) {
        free(eta), free(lam);
        return fail(err);
    }
    int np = 0;
    const int dims[3] = {ne, nl, nm};
    if (!lb_grid_points(dims, 3, &np, err, sizeof err)) {
        free(eta), free(lam), free(mu);
        return fail(err);
    }
    lb_point_cfg *pts = calloc(np, sizeof *pts);
    lb_measure_result *res = calloc(np, sizeof *res);
    int rc = 0;
    if (!pts || !res) {
        rc = fail("out of memory");
        goto out;
    }
    for (int a = 0, p = 0; a < ne; a++)
        for (int b = 0; b < nl; b++)
            for (int c = 0; c < nm; c++, p++) {
                pts[p] = (lb_point_cfg){.nt = nt, .nx = nx, .eta = eta[a], .lambda = lam[b], .mu = mu[c],
                                        .worms_per_sweep = (int)wps, .fmax = (int)fmax, .nchains = (int)chains,
                                        .seed = seed, .point = p, .ops = NULL};
                if (!lb_point_validate(&pts[p], err, sizeof err)) {
                    rc = fail(err);
                    goto out;
                }
            }
    lb_measure_opts o = {.therm = (int)therm, .sweeps = (int)sweeps, .threads = (int)threads, .check = false,
                         .progress = true, .series = NULL};
    if (!lb_measure_check(pts, np, &o, err, sizeof err)) {
        rc = fail(err);
        goto out;
    }
    int nthreads = threads > 0 ? (int)threads : omp_get_max_threads();
    const char *kernel = lb_dispatch_get()->worm->name;
    if (!json)
        printf("latbench observe: %dx%d, %ld chains x %ld sweeps (+%ld thermalization), seed %llu, %d threads, worm kernel %s\n",
               nt, nx, chains, sweeps, therm, (unsigned long long)seed, nthreads, kernel);
    fflush(stdout); /* the header shows at once, also through a pipe: a long run has started */
    double t0 = lb_now();
    if (!lb_measure(pts, np, &o, res, err, sizeof err)) {
        fprintf(stderr, "latbench observe: %s\n", err);
        rc = 1;
        goto out;
    }
    double wall = lb_now() - t0;
    if (json) {
        json_t *list = json_array();
        for (int p = 0; p < np; p++) {
            const lb_measure_result *m = &res[p];
            double cpu = m->seconds > 0 ? m->seconds : 1e-9;
            char lt[32];
            snprintf(lt, sizeof lt, "%dx%d", nt, nx);
            json_t *o1 = json_pack(
                "{s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:{s:f, s:f}, s:f, s:f, "
                "s:i, s:i, s:i, s:i, s:I, s:s, s:o, s:o, s:f, s:f, s:f}",
                "lattice", lt, "eta", pts[p].eta, "lambda", pts[p].lambda, "mu", pts[p].mu, "n", m->n.mean, "n_err",
                m->n.err, "phi2", m->phi2.mean, "phi2_err", m->phi2.err, "phi4", m->phi4.mean, "phi4_err", m->phi4.err,
                "charge", m->charge.mean, "charge_err", m->charge.err, "tau_int", m->tau_int, "tau_int_n", m->n.tau,
                "tau_int_phi2", m->phi2.tau, "tau_int_err", m->n.tau > m->phi2.tau ? m->n.tau_err : m->phi2.tau_err,
                "acceptance", "worm", m->acc_worm, "l", m->acc_l, "worm_length", m->worm_len, "head_steps_per_worm",
                m->head_per_worm, "worms_per_sweep", m->worms_per_sweep, "chains", (int)chains, "sweeps", (int)sweeps,
                "therm", (int)therm, "seed", (json_int_t)seed, "kernel", kernel, "n_stats", stats_json(&m->n),
                "phi2_stats", stats_json(&m->phi2), "seconds_cpu", m->seconds, "head_moves_per_s_per_core",
                m->head_prop / cpu, "l_updates_per_s_per_core", m->l_prop / cpu);
            json_array_append_new(list, o1);
        }
        json_t *top = np == 1 ? json_incref(json_array_get(list, 0)) : json_incref(list);
        char *s = json_dumps(top, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
        if (s) puts(s);
        free(s);
        json_decref(top);
        json_decref(list);
    } else {
        printf("%7s %7s %7s %22s %22s %14s %6s %6s %6s %8s\n", "eta", "lambda", "mu", "<n>", "<|phi|^2>", "tau_int",
               "acc_w", "acc_l", "worms", "wormlen");
        for (int p = 0; p < np; p++) {
            const lb_measure_result *m = &res[p];
            const lb_series_stats *tm = m->n.tau > m->phi2.tau ? &m->n : &m->phi2;
            printf("%7g %7g %7.4g %11.6f +- %8.6f %11.6f +- %8.6f %6.1f +- %5.1f %6.3f %6.3f %6d %8.1f\n", pts[p].eta,
                   pts[p].lambda, pts[p].mu, m->n.mean, m->n.err, m->phi2.mean, m->phi2.err, tm->tau, tm->tau_err,
                   m->acc_worm, m->acc_l, m->worms_per_sweep, m->worm_len);
        }
        printf("(errors: Gamma method with Madras-Sokal window; tau_int in sweeps, the larger of n and |phi|^2; %.1f s)\n",
               wall);
    }
out:
    free(eta), free(lam), free(mu), free(pts), free(res);
    return rc;
}
