/* A dataset directory (docs/design.md §3, §7): the settings of `latbench generate` resolved into the
 * generator's options (lib/lattice/dataset.h) and written atomically into a new directory:
 * x.npy (int16 [N,4,NT,NX]), y.npy (float32 [N,outputs]), meta.json.  All three files depend only
 * on the settings and the seed (not on threads or the kernel variant), so they are byte-identical
 * across runs.  `latbench generate` and `latbench experiment` both write their datasets here. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "lib/lattice/dataset.h"

/* The settings, as the command line gives them: lists as text (lib/lattice/params.h). */
typedef struct {
    const char *task, *lattice, *eta, *lambda, *mu, *points, *worms, *out;
    long count, chains, threads, therm, spacing, fmax, worms_per_sweep, viol_steps;
    double tau_factor;
    uint64_t seed;
    int progress; /* lat_progress on stderr: a lat_progress_mode (true: auto) */
} lat_gen_settings;

lat_gen_settings lat_gen_settings_defaults(void);
/* The option names lat_gen_settings_set takes ("--task", ...), NULL-terminated. */
extern const char *const lat_gen_option_names[];
/* Sets one option from its text (value must outlive s): true, or false with the reason in err. */
bool lat_gen_settings_set(lat_gen_settings *s, const char *name, const char *value, char *err, size_t errlen);
/* The canonical text of what a dataset's content depends on, as `latbench generate` options:
 * "--task T", the point set's options that are set, "--lattice L --count N --seed S --therm T
 * --chains C", then each of --tau-factor, --worms-per-sweep, --spacing, --fmax and --viol-steps
 * that differs from its default (not --out, --threads or progress: the files do not depend on
 * them).  The point set's options come in the order point_order lists them (a NULL-terminated
 * list of --points, --eta, --mu, --lambda, --worms), or with point_order NULL in that order.
 * `latbench experiment` names its datasets by a hash of this text, so the order is part of those
 * names.  false when it does not fit in len. */
bool lat_gen_settings_text(const lat_gen_settings *s, const char *const *point_order, char *buf, size_t len);

/* A written (or refused) dataset. */
typedef struct {
    lat_gen_opts o;               /* the resolved options (points, worms) */
    double *eta, *lambda, *mu;   /* [o.npoints], owned */
    int *worms;
    lat_gen_point *points;        /* [o.npoints] */
    double seconds;
    int threads;
    bool refused;                /* failed before any work: an input error (exit 2), nothing written */
    lat_wtable_cache wcache;     /* lat_gendata_sample's W tables, kept across its calls */
} lat_gendata;

/* Resolves, checks and writes s->out.  false with one line in err: the input's fault when
 * g->refused, else a failure of the work ("OUT: reason"; the temporary directory is removed). */
bool lat_gendata_write(const lat_gen_settings *s, lat_gendata *g, char *err, size_t errlen);
/* The same dataset in parts (the ranks of an MPI run, tools/cli/generate.c); the files are the same
 * bytes as lat_gendata_write's.  lat_gendata_prepare resolves and checks s into g (false: the
 * input's fault, one line in err).  lat_gendata_sample samples the points p with only[p] != 0:
 * their configurations through store (index in the dataset; called concurrently, distinct
 * indices), their y rows into y [count][outputs] and g->points[p]; false with one line in err.
 * lat_gendata_write_memory writes s->out from the whole dataset in memory (x [count][4][NT][NX],
 * y, g->points of every point), atomically; lat_gendata_out_ok refuses an existing s->out or a
 * missing parent up front, creating nothing. */
bool lat_gendata_prepare(const lat_gen_settings *s, lat_gendata *g, char *err, size_t errlen);
bool lat_gendata_out_ok(const lat_gen_settings *s, char *err, size_t errlen);
bool lat_gendata_sample(lat_gendata *g, const unsigned char *only,
                        bool (*store)(void *ctx, long index, const int16_t *x, char *err, size_t errlen), void *ctx,
                        float *y, char *err, size_t errlen);
bool lat_gendata_write_memory(const lat_gen_settings *s, lat_gendata *g, const int16_t *x, const float *y, char *err,
                              size_t errlen);
/* The summary of a written dataset (what `latbench generate` prints). */
void lat_gendata_print(FILE *f, const char *out, const lat_gendata *g);
void lat_gendata_free(lat_gendata *g);
