/* The tasks' settings and the datasets of an experiment run (tools/experiment/experiment.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tools/experiment/experiment.h"
#include "tools/mpi/gendata_ranks.h"
#include "tools/mpi/ranks.h"
#include "tools/timing/timing.h"
#include "lib/lattice/params.h"
#include "lib/nn/train.h"

static const char *const LAMBDA_BEFORE_MU[] = {"--points", "--eta", "--lambda", "--mu", "--worms", NULL};

static const exp_def EXPS[] = {
    {"regression",
     {"task1-eq", "task1-st", "task1-fl"}, 3, {"task1-eq", "task1-st", "task1-fl"},
     {.eta = "4.01", .lambda = "1", .mu = "0.90:1.05:0.01"}, "60x4", 20000, 1600,
     {.eta = "4.01", .lambda = "1", .mu = "0.90:1.50:0.05"},
     {"60x4", "50x2", "100x5", "125x8", "200x10"}, 5, 3, 1300, 260, 40, 2, LAMBDA_BEFORE_MU},
    {"detect",
     {"task2-eq", "task2-st", "task2-fl"}, 3, {"task2-eq", "task2-st", "task2-fl"},
     {.points = "4.25:1,4.01:1.5", .lambda = "1"}, "8x8", 4000, 1000,
     {.eta = "4.01,4.04,4.25", .mu = "1,1.25,1.5", .lambda = "1"},
     {"8x8", "16x16", "32x32", "64x64"}, 4, 2, 1800, 360, 60, 2, NULL},
    {"count",
     {"task3-eq1", "task3-eq2", "task3-eq3", "task3-st1", "task3-st2", "task3-st3", "task3-fl1", "task3-fl2", "task3-fl3"},
     9, {"task3-eq1", "task3-st1", "task3-fl1"},
     {.points = "4.25:1,4.01:1.5", .lambda = "1", .worms = "0,5"}, "8x8", 20000, 20000,
     {.eta = "4.01,4.04,4.25", .mu = "1,1.25,1.5", .lambda = "1", .worms = "0:10"},
     {"8x8", "16x16", "32x32", "64x64"}, 4, 3, 4950, 495, 40, 3, NULL},
};

const exp_def *exp_find(const char *task) {
    for (size_t k = 0; task && k < sizeof EXPS / sizeof EXPS[0]; k++)
        if (!strcmp(task, EXPS[k].task)) return &EXPS[k];
    return NULL;
}

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Generates a dataset in process (lib/lattice/gendata.h); the summary `latbench generate` prints
 * goes to PATH.log.  ranks: collective, every rank of the MPI run samples a share and rank 0 writes
 * the dataset and its log (tools/mpi/gendata_ranks.h); then false on every rank alike, the reason in
 * err on rank 0 (elsewhere empty). */
static bool generate(const lat_gen_settings *s, const char *path, bool ranks, char *err, size_t errlen) {
    const bool writer = !ranks || ranks_world()->rank == 0;
    char log[4400], e[900] = "";
    snprintf(log, sizeof log, "%.4380s.log", path);
    FILE *f = writer ? fopen(log, "w") : NULL;
    if (writer && !f) snprintf(e, sizeof e, "cannot write %.800s", log);
    /* every rank learns whether rank 0 can write the log before any samples */
    if (!(ranks ? ranks_all_ok(!writer || f) : f != NULL)) return snprintf(err, errlen, "%s", e), false;
    lat_gendata g = {0};
    bool ok = ranks ? ranks_gendata_write(s, NULL, &g, e, sizeof e) : lat_gendata_write(s, &g, e, sizeof e);
    if (ok && f) lat_gendata_print(f, path, &g);
    if (f && fclose(f) != 0 && ok) ok = false, snprintf(e, sizeof e, "cannot write %.800s", log);
    if (!ok) snprintf(err, errlen, *e ? "generate: %s" : "%s", e);
    lat_gendata_free(&g);
    return ok;
}

/* FNV-1a: names a dataset by the settings it is generated with. */
static uint32_t settings_hash(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return (uint32_t)(h ^ (h >> 32));
}

/* Whether the dataset in dir was generated with these settings (its meta.json records them); why
 * not into why. */
static bool dataset_matches(const char *dir, const char *task, int nt, int nx, long count, uint64_t seed, long chains,
                            long therm, char *why, size_t whylen) {
    char path[4400];
    snprintf(path, sizeof path, "%.4380s/meta.json", dir);
    json_error_t je;
    json_t *m = json_load_file(path, 0, &je);
    if (!m) return snprintf(why, whylen, "no readable meta.json"), false;
    const char *t = json_string_value(json_object_get(m, "task"));
    json_t *lat = json_object_get(m, "lattice");
    const json_int_t vals[] = {json_integer_value(json_array_get(lat, 0)), json_integer_value(json_array_get(lat, 1)),
                               json_integer_value(json_object_get(m, "count")),
                               json_integer_value(json_object_get(m, "seed")),
                               json_integer_value(json_object_get(m, "chains_per_point")),
                               json_integer_value(json_object_get(m, "therm"))};
    const json_int_t want[] = {nt, nx, count, (json_int_t)seed, chains, therm};
    static const char *names[] = {"NT", "NX", "count", "seed", "chains_per_point", "therm"};
    bool ok = t && !strcmp(t, task);
    if (!ok) snprintf(why, whylen, "its task is %s, not %s", t ? t : "missing", task);
    for (size_t i = 0; ok && i < sizeof vals / sizeof vals[0]; i++)
        if (vals[i] != want[i]) {
            snprintf(why, whylen, "its %s is %lld, not %lld", names[i], (long long)vals[i], (long long)want[i]);
            ok = false;
        }
    json_decref(m);
    return ok;
}

/* Dataset k's generator settings into s (the strings point into x's task), its `latbench generate`
 * arguments into settings and its directory's name into name. */
static bool dataset_settings(const exp_run *x, int k, lat_gen_settings *s, char *settings, size_t settingslen, char *name,
                             size_t namelen, char *err, size_t errlen) {
    const exp_def *E = x->E;
    const char *lat = k == 0 ? E->train_lattice : E->test_lattices[k - 1];
    const long count = k == 0 ? (x->train_count ? x->train_count : x->quick ? E->train_count_quick : E->train_count)
                              : (x->test_count ? x->test_count : x->quick ? E->test_count_quick : E->test_count);
    const lat_gen_settings *def = k == 0 ? &E->train : &E->test;
    *s = lat_gen_settings_defaults();
    s->task = E->task, s->points = def->points, s->eta = def->eta, s->mu = def->mu, s->lambda = def->lambda;
    s->worms = def->worms, s->lattice = lat, s->count = count, s->seed = x->seed + 1000 + (uint64_t)k, s->therm = x->therm;
    s->chains = x->chains, s->progress = (int)x->progress;
    if (!lat_gen_settings_text(s, E->name_order, settings, settingslen))
        return snprintf(err, errlen, "dataset settings too long"), false;
    snprintf(name, namelen, "%s-%s-%ld-%08x", k ? "test" : "train", lat, count, settings_hash(settings));
    return true;
}

bool exp_dataset_name(const exp_run *x, int k, char *name, size_t namelen, char *settings, size_t settingslen, char *err,
                      size_t errlen) {
    lat_gen_settings s;
    return dataset_settings(x, k, &s, settings, settingslen, name, namelen, err, errlen);
}

/* exp_make_dataset; ranks: collective (exp_prepare_data of an MPI run): rank 0 decides whether the
 * dataset is reused and says so, every rank samples a share of one to make; false on every rank
 * alike, the reason in err on rank 0 (elsewhere empty, or the rank's own failure). */
static bool make_dataset(const exp_run *x, int k, bool ranks, char *name, size_t namelen, char *err, size_t errlen) {
    const exp_def *E = x->E;
    const bool lead = !ranks || ranks_world()->rank == 0; /* decides and prints */
    lat_gen_settings s;
    char settings[1024], path[4400], why[256];
    if (!dataset_settings(x, k, &s, settings, sizeof settings, name, namelen, err, errlen)) return false;
    /* another rank's progress would interleave with rank 0's on the terminal */
    if (!lead) s.progress = (int)OPTS_PROGRESS_NONE;
    int nt, nx;
    if (!lat_parse_lattice(s.lattice, &nt, &nx, err, errlen)) return false;
    const long count = s.count;
    const uint64_t dseed = s.seed;
    snprintf(path, sizeof path, "%s/data/%s", x->out, name);
    enum { MAKE, REUSE, REFUSE };
    int state = MAKE;
    if (lead && is_dir(path))
        state = dataset_matches(path, E->task, nt, nx, count, dseed, x->chains, x->therm, why, sizeof why) ? REUSE : REFUSE;
    if (ranks) state = ranks_bcast_int(state);
    if (state == REFUSE && !lead) return err[0] = 0, false;
    if (state == REFUSE)
        return snprintf(err, errlen, "%.600s exists but was not generated with this run's settings (%s): remove it", path, why),
               false;
    if (state == REUSE) {
        if (lead) printf("data %s: reused (its meta.json records this run's settings)\n", name);
        return true;
    }
    double g0 = timing_now();
    s.threads = x->threads, s.out = path;
    if (!generate(&s, path, ranks, err, errlen)) {
        /* another process sharing x->out (a second search on one study) may have made it first */
        int made = lead && is_dir(path) && dataset_matches(path, E->task, nt, nx, count, dseed, x->chains, x->therm, why, sizeof why);
        if (ranks) made = ranks_bcast_int(made);
        if (!made) return false;
        if (lead) printf("data %s: made by another process meanwhile, reused\n", name);
        return true;
    }
    /* a rank on a host of its own (no shared file system) makes its own copy: the same bytes */
    if (!lead && !is_dir(path) && !generate(&s, path, false, err, errlen)) return false;
    if (lead) printf("data %s: generated in %.1f s (%s)\n", name, timing_now() - g0, settings);
    fflush(stdout);
    return true;
}

bool exp_make_dataset(const exp_run *x, int k, char *name, size_t namelen, char *err, size_t errlen) {
    return make_dataset(x, k, false, name, namelen, err, errlen);
}

/* The output directories and every dataset, generated (or reused) and loaded into ds. */
bool exp_prepare_data(const exp_run *x, nn_dataset *ds, char *err, size_t errlen) {
    char sub[4400], names[EXP_MAX_TESTS + 1][64];
    snprintf(sub, sizeof sub, "%s/data", x->out);
    if ((mkdir(x->out, 0755) && !is_dir(x->out)) || (mkdir(sub, 0755) && !is_dir(sub)))
        return snprintf(err, errlen, "cannot create %.900s", sub), false;
    snprintf(sub, sizeof sub, "%s/models", x->out);
    if (mkdir(sub, 0755) && !is_dir(sub)) return snprintf(err, errlen, "cannot create %.900s", sub), false;
    const bool ranks = ranks_world()->size > 1;
    for (int k = 0; k <= x->n_tests; k++)
        if (!make_dataset(x, k, ranks, names[k], sizeof names[k], err, errlen)) return false;
    for (int k = 0; k <= x->n_tests; k++) {
        snprintf(sub, sizeof sub, "%s/data/%s", x->out, names[k]);
        if (!nn_dataset_load(sub, &ds[k], err, errlen)) return false;
    }
    return true;
}


static int cmp_long(const void *a, const void *b) {
    const long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

bool exp_subset(const nn_dataset *d, long n, uint64_t seed, nn_dataset *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (n < 1 || n > d->n) return snprintf(err, errlen, "a subset of %ld of %ld samples", n, d->n), false;
    const size_t per = (size_t)4 * d->nt * d->nx;
    long *idx = malloc((size_t)d->n * sizeof(long));
    out->x = malloc((size_t)n * per * sizeof(int16_t));
    out->y = malloc((size_t)n * d->outs * sizeof(float));
    if (!idx || !out->x || !out->y) {
        free(idx), nn_dataset_free(out);
        return snprintf(err, errlen, "out of memory"), false;
    }
    nn_train_split(d->n, 0, seed, idx); /* a seeded permutation; the first n, in the dataset's order */
    qsort(idx, (size_t)n, sizeof(long), cmp_long);
    for (long i = 0; i < n; i++) {
        memcpy(out->x + (size_t)i * per, d->x + (size_t)idx[i] * per, per * sizeof(int16_t));
        memcpy(out->y + (size_t)i * d->outs, d->y + (size_t)idx[i] * d->outs, (size_t)d->outs * sizeof(float));
    }
    free(idx);
    out->n = n, out->nt = d->nt, out->nx = d->nx, out->outs = d->outs;
    memcpy(out->task, d->task, sizeof out->task);
    return true;
}

bool exp_subset_mu(const nn_dataset *d, double lo, double hi, nn_dataset *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (!d->npoints) return snprintf(err, errlen, "--train-mu: the training set records no points (meta.json)"), false;
    long n = 0;
    for (int p = 0; p < d->npoints; p++)
        if (d->points[p].mu >= lo - 1e-9 && d->points[p].mu <= hi + 1e-9) n += d->points[p].count;
    if (n < 10)
        return snprintf(err, errlen, "--train-mu %g:%g: %ld training samples in that range (at least 10 needed)", lo, hi, n),
               false;
    const size_t per = (size_t)4 * d->nt * d->nx;
    out->x = malloc((size_t)n * per * sizeof(int16_t));
    out->y = malloc((size_t)n * d->outs * sizeof(float));
    if (!out->x || !out->y) return nn_dataset_free(out), snprintf(err, errlen, "out of memory"), false;
    long k = 0;
    for (int p = 0; p < d->npoints; p++) {
        const nn_data_point *q = &d->points[p];
        if (q->mu < lo - 1e-9 || q->mu > hi + 1e-9) continue;
        memcpy(out->x + (size_t)k * per, d->x + (size_t)q->offset * per, (size_t)q->count * per * sizeof(int16_t));
        memcpy(out->y + (size_t)k * d->outs, d->y + (size_t)q->offset * d->outs, (size_t)q->count * d->outs * sizeof(float));
        k += q->count;
    }
    out->n = n, out->nt = d->nt, out->nx = d->nx, out->outs = d->outs;
    memcpy(out->task, d->task, sizeof out->task);
    return true;
}
