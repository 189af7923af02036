/* The tasks' settings and the datasets of an experiment run (tools/experiment/experiment.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tools/experiment/experiment.h"
#include "tools/mpi/gendata_ranks.h"
#include "tools/mpi/ranks.h"
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

/* One dataset of a run: its settings, names and whether it is made, reused or refused; once made,
 * whether that worked (on every rank alike), why not (rank 0's reason; elsewhere empty or the
 * rank's own) and its seconds (rank 0). */
enum { MAKE, REUSE, REFUSE };
typedef struct {
    lat_gen_settings s;
    char settings[1024], name[64], path[4400];
    int nt, nx, state;
    bool ok;
    char err[1000];
    double seconds;
} dataset_plan;

/* Generates the datasets of dp[0..n) to make in process (lib/lattice/gendata.h); the summary
 * `latbench generate` prints goes to PATH.log.  ranks: collective, every rank samples a share of one
 * pool of all their points and rank 0 writes each dataset and its log (tools/mpi/gendata_ranks.h). */
static void generate(dataset_plan *dp, int n, bool ranks) {
    const bool writer = !ranks || ranks_world()->rank == 0;
    FILE *f[EXP_MAX_TESTS + 1] = {0};
    ranks_gendata_job jobs[EXP_MAX_TESTS + 1];
    int in[EXP_MAX_TESTS + 1], m = 0;
    for (int i = 0; i < n; i++) {
        if (dp[i].state != MAKE) continue;
        char log[4500];
        snprintf(log, sizeof log, "%s.log", dp[i].path);
        f[i] = writer ? fopen(log, "w") : NULL;
        dp[i].err[0] = 0, dp[i].ok = false;
        if (writer && !f[i]) snprintf(dp[i].err, sizeof dp[i].err, "cannot write %.800s", log);
        /* every rank learns whether rank 0 can write the log before any samples */
        if (!(ranks ? ranks_all_ok(!writer || f[i]) : f[i] != NULL)) continue;
        jobs[m] = (ranks_gendata_job){.s = &dp[i].s};
        in[m++] = i;
    }
    if (ranks) ranks_gendata_write_pool(jobs, m, NULL);
    for (int j = 0; !ranks && j < m; j++) /* one process's (a search's rank 0 alone): not collective */
        jobs[j].ok = lat_gendata_write(jobs[j].s, &jobs[j].g, jobs[j].err, sizeof jobs[j].err);
    for (int j = 0; j < m; j++) {
        dataset_plan *d = &dp[in[j]];
        d->ok = jobs[j].ok, d->seconds = jobs[j].g.seconds;
        if (d->ok && f[in[j]]) lat_gendata_print(f[in[j]], d->path, &jobs[j].g);
        if (f[in[j]] && fclose(f[in[j]]) != 0 && d->ok)
            d->ok = false, snprintf(jobs[j].err, sizeof jobs[j].err, "cannot write %.800s.log", d->path);
        f[in[j]] = NULL;
        if (!d->ok) snprintf(d->err, sizeof d->err, *jobs[j].err ? "generate: %s" : "%s", jobs[j].err);
        lat_gendata_free(&jobs[j].g);
    }
    for (int i = 0; i < n; i++)
        if (f[i]) fclose(f[i]);
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
/* The size of the count validation set (EXP_VAL_SET) of a training set of train_n: about a tenth of
 * it, at least 11 samples per count, a whole number of samples per (point, count) pair (the
 * generator gives each point count/npoints samples and each count of a point the same share). */
static bool val_count(const exp_def *E, long train_n, long *count, char *err, size_t errlen) {
    int *w = NULL, nw = 0, np = 1;
    if (!E->train.points || !E->test.worms || !lat_parse_ints(E->test.worms, &w, &nw, err, errlen))
        return snprintf(err, errlen, "task %s has no count validation set", E->task), false;
    free(w);
    for (const char *c = E->train.points; *c; c++) np += *c == ',';
    const long groups = (long)np * nw, per_count = 11;
    long per_group = (train_n / 10 + groups - 1) / groups;
    if (per_group * np < per_count) per_group = (per_count + np - 1) / np;
    *count = per_group * groups;
    return true;
}

static bool dataset_settings(const exp_run *x, int k, lat_gen_settings *s, char *settings, size_t settingslen, char *name,
                             size_t namelen, char *err, size_t errlen) {
    const exp_def *E = x->E;
    const bool val = k == EXP_VAL_SET, train_lat = k == 0 || val;
    const char *lat = train_lat ? E->train_lattice : E->test_lattices[k - 1];
    const long train_n = x->train_count ? x->train_count : x->quick ? E->train_count_quick : E->train_count;
    long count = k == 0 ? train_n : (x->test_count ? x->test_count : x->quick ? E->test_count_quick : E->test_count);
    if (val && !val_count(E, train_n, &count, err, errlen)) return false;
    /* the validation set: the training set's points and lattice, the test sets' counts */
    const lat_gen_settings *def = train_lat ? &E->train : &E->test;
    *s = lat_gen_settings_defaults();
    s->task = E->task, s->points = def->points, s->eta = def->eta, s->mu = def->mu, s->lambda = def->lambda;
    s->worms = val ? E->test.worms : def->worms, s->lattice = lat, s->count = count;
    /* dataset k's seed: EXP_VAL_SET is past every test set's k, so no two datasets of a run share one */
    s->seed = x->seed + 1000 + (uint64_t)k, s->therm = x->therm;
    s->chains = x->chains, s->progress = (int)x->progress;
    if (!lat_gen_settings_text(s, E->name_order, settings, settingslen))
        return snprintf(err, errlen, "dataset settings too long"), false;
    snprintf(name, namelen, "%s-%s-%ld-%08x", val ? "val" : k ? "test" : "train", lat, count, settings_hash(settings));
    return true;
}

bool exp_dataset_name(const exp_run *x, int k, char *name, size_t namelen, char *settings, size_t settingslen, char *err,
                      size_t errlen) {
    lat_gen_settings s;
    return dataset_settings(x, k, &s, settings, settingslen, name, namelen, err, errlen);
}

/* Whether the dataset in d->path was generated with d's settings; why not into why. */
static bool plan_matches(const exp_run *x, const dataset_plan *d, char *why, size_t whylen) {
    return dataset_matches(d->path, x->E->task, d->nt, d->nx, d->s.count, d->s.seed, x->chains, x->therm, why, whylen);
}

/* Datasets first..first+n-1 (exp_make_dataset) named into names; ranks: collective (exp_prepare_data
 * of an MPI run): rank 0 decides whether each dataset is reused and says so (one refused: none is
 * made), then every rank samples a share of one pool of those to make; false on every rank alike,
 * the reason in err on rank 0 (elsewhere empty, or the rank's own failure). */
static bool make_datasets(const exp_run *x, int first, int n, bool ranks, char (*names)[64], char *err, size_t errlen) {
    const bool lead = !ranks || ranks_world()->rank == 0; /* decides and prints */
    dataset_plan *dp = calloc((size_t)n, sizeof *dp);
    if (!dp) return snprintf(err, errlen, "out of memory"), false;
    bool ok = true;
    int making = 0;
    for (int i = 0; ok && i < n; i++) {
        dataset_plan *d = &dp[i];
        char why[256];
        ok = dataset_settings(x, first + i, &d->s, d->settings, sizeof d->settings, d->name, sizeof d->name, err, errlen) &&
             lat_parse_lattice(d->s.lattice, &d->nt, &d->nx, err, errlen);
        if (!ok) break;
        memcpy(names[i], d->name, sizeof d->name);
        /* another rank's progress would interleave with rank 0's on the terminal */
        if (!lead) d->s.progress = (int)OPTS_PROGRESS_NONE;
        snprintf(d->path, sizeof d->path, "%s/data/%s", x->out, d->name);
        d->state = MAKE;
        if (lead && is_dir(d->path)) d->state = plan_matches(x, d, why, sizeof why) ? REUSE : REFUSE;
        if (ranks) d->state = ranks_bcast_int(d->state);
        if (d->state == REFUSE) {
            ok = false;
            if (lead)
                snprintf(err, errlen, "%.600s exists but was not generated with this run's settings (%s): remove it", d->path, why);
            else err[0] = 0;
        } else if (d->state == REUSE && lead) printf("data %s: reused (its meta.json records this run's settings)\n", d->name);
        d->s.threads = x->threads, d->s.out = d->path;
        making += d->state == MAKE;
    }
    if (ok && making) generate(dp, n, ranks);
    for (int i = 0; ok && i < n; i++) {
        dataset_plan *d = &dp[i];
        char why[256];
        if (d->state != MAKE) continue;
        if (!d->ok) {
            /* another process sharing x->out (a second search on one study) may have made it first */
            int made = lead && is_dir(d->path) && plan_matches(x, d, why, sizeof why);
            if (ranks) made = ranks_bcast_int(made);
            if (!made) {
                snprintf(err, errlen, "%s", d->err);
                ok = false;
                break;
            }
            if (lead) printf("data %s: made by another process meanwhile, reused\n", d->name);
            continue;
        }
        /* a rank on a host of its own (no shared file system) makes its own copy: the same bytes */
        if (!lead && !is_dir(d->path)) {
            generate(d, 1, false);
            if (!d->ok) {
                snprintf(err, errlen, "%s", d->err);
                ok = false;
                break;
            }
        }
        if (lead && ranks && making > 1)
            printf("data %s: generated in %.1f s, in one pool of %d datasets over %d ranks (%s)\n", d->name, d->seconds,
                   making, ranks_world()->size, d->settings);
        else if (lead) printf("data %s: generated in %.1f s (%s)\n", d->name, d->seconds, d->settings);
    }
    fflush(stdout);
    free(dp);
    return ok;
}

bool exp_make_dataset(const exp_run *x, int k, char *name, size_t namelen, char *err, size_t errlen) {
    char names[1][64];
    const bool ok = make_datasets(x, k, 1, false, names, err, errlen);
    snprintf(name, namelen, "%s", ok ? names[0] : "");
    return ok;
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
    if (!make_datasets(x, 0, x->n_tests + 1, ranks, names, err, errlen)) return false;
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
