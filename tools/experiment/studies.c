/* The seed's studies beyond generalization, each a mode of `latbench experiment TASK`
 * (tools/experiment/experiment.h): test loss against training-set size (--train-sizes) and the
 * translation augmentation of the non-equivariant nets against EQ without it (--augment). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/experiment/experiment.h"

/* Whether arch is an equivariant (EQ) net: the seed's names task<k>-eq<n>. */
static bool is_eq(const char *arch) { return strstr(arch, "-eq") != NULL; }

bool exp_study_augment(const exp_run *x, const nn_dataset *ds, json_t *jarchs, exp_times *t, long *n_val, char *err,
                       size_t errlen) {
    for (int a = 0; a < x->n_archs; a++) {
        /* EQ without augmentation; ST and FL with it, and without it for the gap it closes (or not) */
        for (int aug = is_eq(x->archs[a]) ? 0 : 1; aug >= 0; aug--) {
            const exp_arch_job job = {.arch = x->archs[a], .augment = aug, .tag = aug ? "aug" : NULL,
                                      .extra = json_pack("{s:s}", "augment", aug ? "translations" : "none")};
            if (!exp_run_arch(x, ds, &job, jarchs, t, n_val, err, errlen)) return false;
        }
    }
    return true;
}

/* The default sizes: the seed's 1000..20000 up to the training set's count (quick: an eighth, a
 * quarter, a half and all of it). */
static int default_sizes(const exp_run *x, long n, long *sizes) {
    static const long full[] = {1000, 2000, 5000, 10000, 20000};
    int k = 0;
    if (x->quick) {
        for (int d = 8; d >= 1; d /= 2)
            if (n / d >= 100) sizes[k++] = n / d;
        return k;
    }
    for (size_t i = 0; i < sizeof full / sizeof full[0]; i++)
        if (full[i] <= n) sizes[k++] = full[i];
    if (k == 0 || sizes[k - 1] < n) sizes[k++] = n;
    return k;
}

bool exp_study_sizes(const exp_run *x, const nn_dataset *ds, json_t *jarchs, exp_times *t, long *n_val, char *err,
                     size_t errlen) {
    long sizes[EXP_MAX_SIZES];
    const int ns = x->n_sizes ? x->n_sizes : default_sizes(x, ds[0].n, sizes);
    if (x->n_sizes) memcpy(sizes, x->train_sizes, (size_t)ns * sizeof(long));
    for (int i = 0; i < ns; i++)
        if (sizes[i] > ds[0].n)
            return snprintf(err, errlen, "--train-sizes: %ld is more than the training set's %ld samples (--train-count)",
                            sizes[i], ds[0].n),
                   false;
    for (int i = 0; i < ns; i++) {
        /* one permutation for every size: each subset holds the smaller ones */
        nn_dataset sub;
        if (!exp_subset(&ds[0], sizes[i], EXP_SUBSET_SEED(x), &sub, err, errlen)) return false;
        char tag[32];
        snprintf(tag, sizeof tag, "n%ld", sizes[i]);
        fprintf(stderr, "training-set size %ld (%d of %d)\n", sizes[i], i + 1, ns);
        for (int a = 0; a < x->n_archs; a++) {
            const exp_arch_job job = {.arch = x->archs[a], .train = &sub, .subset = sizes[i], .tag = tag,
                                      .extra = json_pack("{s:I}", "train_size", (json_int_t)sizes[i])};
            if (!exp_run_arch(x, ds, &job, jarchs, t, n_val, err, errlen)) return nn_dataset_free(&sub), false;
        }
        nn_dataset_free(&sub);
    }
    return true;
}

bool exp_parse_mu_range(const char *s, double *lo, double *hi) {
    char *end;
    *lo = strtod(s, &end);
    if (end == s || *end != ':') return false;
    const char *h = end + 1;
    *hi = strtod(h, &end);
    return end != h && !*end && *lo <= *hi;
}

bool exp_study_train_mu(const exp_run *x, const nn_dataset *ds, json_t *jarchs, exp_times *t, long *n_val, char *err,
                        size_t errlen) {
    double lo, hi;
    if (!exp_parse_mu_range(x->train_mu, &lo, &hi))
        return snprintf(err, errlen, "--train-mu needs LO:HI with LO <= HI, not '%s'", x->train_mu), false;
    nn_dataset sub;
    if (!exp_subset_mu(&ds[0], lo, hi, &sub, err, errlen)) return false;
    fprintf(stderr, "training on mu in [%g, %g]: %ld of %ld samples\n", lo, hi, sub.n, ds[0].n);
    for (int a = 0; a < x->n_archs; a++) {
        const exp_arch_job job = {.arch = x->archs[a], .train = &sub, .tag = "mu",
                                  .extra = json_pack("{s:[f,f], s:I}", "train_mu", lo, hi, "train_size", (json_int_t)sub.n)};
        if (!exp_run_arch(x, ds, &job, jarchs, t, n_val, err, errlen)) return nn_dataset_free(&sub), false;
    }
    nn_dataset_free(&sub);
    return true;
}
