/* results.json of an experiment (tools/experiment/experiment.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/experiment/experiment.h"
#include "arch/registry.h"
#include "lib/io/outdir.h"
#include "tools/machine/machine.h"

/* The datasets the run trained and tested on: role, lattice, directory relative to x->out (their
 * names derive from their settings alone, so results.json stays the same bytes on any rank count)
 * and the `latbench generate` arguments that make them again. */
static json_t *datasets_json(const exp_run *x, char *err, size_t errlen) {
    const exp_def *E = x->E;
    json_t *jd = json_array();
    for (int k = 0; jd && k <= x->n_tests; k++) {
        char name[64], settings[1024], dir[80];
        if (!exp_dataset_name(x, k, name, sizeof name, settings, sizeof settings, err, errlen)) return json_decref(jd), NULL;
        snprintf(dir, sizeof dir, "data/%s", name);
        json_array_append_new(jd, json_pack("{s:s, s:s, s:s, s:s}", "role", k ? "test" : "train", "lattice",
                                            k ? E->test_lattices[k - 1] : E->train_lattice, "dir", dir, "settings",
                                            settings));
    }
    return jd;
}

json_t *exp_results_json(const exp_run *x, long train_count, long n_val, json_t *jarchs, const exp_times *t, char *err,
                         size_t errlen) {
    const exp_def *E = x->E;
    json_t *jd = datasets_json(x, err, errlen);
    if (!jd) return json_decref(jarchs), NULL;
    json_t *jl = json_array();
    for (int k = 1; k <= x->n_tests; k++) json_array_append_new(jl, json_string(E->test_lattices[k - 1]));
    json_t *top = json_pack("{s:s, s:b, s:s, s:I, s:I, s:o, s:{s:I, s:I, s:I, s:I, s:I}, s:{s:f, s:f, s:f}, s:o}",
                            "task", E->task, "quick", x->quick, "train_lattice", E->train_lattice, "train_count",
                            (json_int_t)train_count, "val_count", (json_int_t)n_val, "test_lattices", jl, "settings",
                            "trials", (json_int_t)x->trials, "epochs", (json_int_t)x->epochs, "patience",
                            (json_int_t)x->patience, "batch", (json_int_t)x->batch, "threads", (json_int_t)x->threads,
                            "seconds", "generation", t->gen, "training", t->train, "evaluation", t->eval, "archs", jarchs);
    json_object_set_new(top, "datasets", jd);
    machine_info bm;
    machine_detect(&bm, &lb_dispatch_get()->cpu);
    json_object_set_new(top, "machine", json_pack("{s:s, s:s, s:i, s:s}", "cpu", bm.model, "slug", bm.slug, "cores",
                                                  bm.cores, "isa", lb_isa_name(lb_dispatch_get()->cap)));
    return top;
}

/* Writes j (taken over) as DIR/name atomically; its path into path. */
static bool write_json(const exp_run *x, const char *name, json_t *j, char *path, size_t pathlen, char *err,
                       size_t errlen) {
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
    json_decref(j);
    snprintf(path, pathlen, "%s/%s", x->out, name);
    bool ok = text && io_write_file_atomic(path, text, strlen(text), err, errlen);
    if (!text) snprintf(err, errlen, "out of memory");
    free(text);
    return ok;
}

/* An experiment's results.json is the same bytes for the same seed and thread count, on any rank
 * count: what the clock and the machine decide (seconds, machine, per trial train_seconds,
 * samples_per_s and, for the convergence study, each epoch's wall time) goes to timing.json beside
 * it, keyed alike. */
static json_t *split_volatile(json_t *top) {
    json_t *tm = json_object(), *ta = json_array(), *a;
    static const char *const top_keys[] = {"seconds", "machine"};
    static const char *const trial_keys[] = {"train_seconds", "samples_per_s", "wall_seconds"};
    for (size_t k = 0; k < 2; k++)
        if (json_object_get(top, top_keys[k])) json_object_set(tm, top_keys[k], json_object_get(top, top_keys[k])),
                                               json_object_del(top, top_keys[k]);
    size_t i, t;
    json_array_foreach(json_object_get(top, "archs"), i, a) {
        json_t *jt, *row = json_array();
        json_array_foreach(json_object_get(a, "trials"), t, jt) {
            json_t *v = json_object();
            for (size_t k = 0; k < 3; k++)
                if (json_object_get(jt, trial_keys[k])) json_object_set(v, trial_keys[k], json_object_get(jt, trial_keys[k])),
                                                        json_object_del(jt, trial_keys[k]);
            json_array_append_new(row, v);
        }
        json_array_append_new(ta, json_pack("{s:O, s:o}", "arch", json_object_get(a, "arch"), "trials", row));
    }
    json_object_set_new(tm, "archs", ta);
    return tm;
}

bool exp_write_results(const exp_run *x, json_t *top, char *path, size_t pathlen, char *err, size_t errlen) {
    if (x->study) json_object_set_new(top, "study", json_string(x->study));
    if (!write_json(x, "timing.json", split_volatile(top), path, pathlen, err, errlen)) return json_decref(top), false;
    return write_json(x, "results.json", top, path, pathlen, err, errlen);
}
