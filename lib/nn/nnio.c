#include "lib/nn/nnio.h"
#include "lib/io/infile.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/io/npy.h"
#include "lib/lattice/lattice.h"

void nn_dataset_free(nn_dataset *d) {
    free(d->x);
    free(d->y);
    free(d->points);
    memset(d, 0, sizeof *d);
}

/* meta.json "points": kept only when they tile 0..n-1 in order (anything else: no points). */
static void load_points(const json_t *pts, nn_dataset *d) {
    size_t np = json_array_size(pts);
    nn_data_point *p = np ? calloc(np, sizeof *p) : NULL;
    long next = 0;
    for (size_t i = 0; p && i < np; i++) {
        const json_t *e = json_array_get(pts, i);
        p[i] = (nn_data_point){json_number_value(json_object_get(e, "eta")), json_number_value(json_object_get(e, "lambda")),
                               json_number_value(json_object_get(e, "mu")),
                               (long)json_integer_value(json_object_get(e, "offset")),
                               (long)json_integer_value(json_object_get(e, "count"))};
        if (!json_is_integer(json_object_get(e, "offset")) || p[i].offset != next || p[i].count < 1 ||
            __builtin_add_overflow(next, p[i].count, &next)) {
            free(p), p = NULL;
            break;
        }
    }
    if (p && next != d->n) free(p), p = NULL;
    d->points = p, d->npoints = p ? (int)np : 0;
}

/* x.npy: int16 [N, 4, NT, NX] with N >= 1 and a lattice `latbench generate` could have written. */
static bool check_x_shape(const char *path, const long *xs, int xn, char *err, size_t errlen) {
    if (xn != 4 || xs[1] != 4)
        return snprintf(err, errlen, "%s: expected shape [N, 4, NT, NX] (%d dimensions found)", path, xn), false;
    if (xs[0] < 1) return snprintf(err, errlen, "%s: the dataset has no samples (N = 0)", path), false;
    if (xs[2] < 2 || xs[3] < 2 || xs[2] > LAT_LATTICE_MAX_DIM || xs[3] > LAT_LATTICE_MAX_DIM ||
        xs[2] * xs[3] > LAT_LATTICE_MAX_VOLUME)
        return snprintf(err, errlen, "%s: lattice %ldx%ld outside what generate writes (2..%d per dimension, at most %d sites)",
                        path, xs[2], xs[3], LAT_LATTICE_MAX_DIM, LAT_LATTICE_MAX_VOLUME),
               false;
    return true;
}

/* Every label finite; detect labels 0 or 1; count labels non-negative integers. */
static bool check_labels(const char *path, const float *y, long n, int outs, const char *task, char *err, size_t errlen) {
    const bool detect = !strcmp(task, "detect"), count = !strcmp(task, "count");
    for (long i = 0; i < n * outs; i++) {
        const float v = y[i];
        const char *why = !isfinite(v)                           ? "is not finite"
                          : detect && v != 0.0f && v != 1.0f     ? "is not 0 or 1 (task detect)"
                          : count && (v < 0 || v != floorf(v))   ? "is not a non-negative integer (task count)"
                                                                 : NULL;
        if (why)
            return snprintf(err, errlen, "%s: label %ld (sample %ld, output %d) = %g %s", path, i, i / outs,
                            (int)(i % outs), (double)v, why),
                   false;
    }
    return true;
}

/* meta.json, when present: a JSON object whose "task" (if any) is one latbench knows; the task
 * fixes the number of labels per sample. */
static bool load_meta(const char *dir, nn_dataset *d, char *err, size_t errlen) {
    char path[4200];
    snprintf(path, sizeof path, "%s/meta.json", dir);
    /* opened without blocking, so a FIFO is refused rather than waited on */
    off_t size;
    int fd = io_open_regular(path, &size, err, errlen);
    if (fd < 0 && errno == ENOENT) return true;
    if (fd < 0) return snprintf(err, errlen, "%s: not a readable regular file", path), false;
    json_error_t je;
    json_t *meta = json_loadfd(fd, JSON_REJECT_DUPLICATES, &je);
    close(fd);
    if (!json_is_object(meta)) {
        json_decref(meta);
        return snprintf(err, errlen, "%s: not a JSON object (%s)", path, meta ? "another JSON value" : je.text), false;
    }
    const json_t *jt = json_object_get(meta, "task");
    const char *task = json_string_value(jt);
    int want = !task ? 0 : !strcmp(task, "regression") ? 2 : !strcmp(task, "detect") || !strcmp(task, "count") ? 1 : -1;
    if ((jt && !task) || want < 0) {
        json_decref(meta);
        return snprintf(err, errlen, "%s: unknown task (expected regression, detect or count)", path), false;
    }
    if (task && want != d->outs) {
        snprintf(err, errlen, "%s/y.npy: %d labels per sample, but task %s has %d", dir, d->outs, task, want);
        json_decref(meta);
        return false;
    }
    if (task) snprintf(d->task, sizeof d->task, "%s", task);
    load_points(json_object_get(meta, "points"), d);
    json_decref(meta);
    return true;
}

bool nn_dataset_load(const char *dir, nn_dataset *d, char *err, size_t errlen) {
    memset(d, 0, sizeof *d);
    char path[4200];
    if (strlen(dir) > sizeof path - 16) return snprintf(err, errlen, "dataset directory name too long"), false;
    long xs[IO_NPY_MAX_DIMS], ys[IO_NPY_MAX_DIMS];
    int xn, yn;
    void *x, *y;
    snprintf(path, sizeof path, "%s/x.npy", dir);
    if (!io_npy_read(path, io_npy_descr_i16(), &x, xs, &xn, err, errlen)) return false;
    if (!check_x_shape(path, xs, xn, err, errlen)) return free(x), false;
    snprintf(path, sizeof path, "%s/y.npy", dir);
    if (!io_npy_read(path, io_npy_descr_f32(), &y, ys, &yn, err, errlen)) return free(x), false;
    if (yn != 2 || ys[0] != xs[0] || ys[1] < 1 || ys[1] > NN_MAX_OUTPUTS) {
        free(x), free(y);
        return snprintf(err, errlen, "%s: expected shape [%ld, outputs] with 1..%d outputs", path, xs[0], NN_MAX_OUTPUTS),
               false;
    }
    d->n = xs[0], d->nt = (int)xs[2], d->nx = (int)xs[3], d->outs = (int)ys[1];
    d->x = x, d->y = y;
    if (!load_meta(dir, d, err, errlen) || !check_labels(path, d->y, d->n, d->outs, d->task, err, errlen)) {
        nn_dataset_free(d);
        return false;
    }
    return true;
}

/* Names "{i}.weight"/"{i}.bias" as an nn.Sequential with one module per spec line. */
static void tensor_names(int layer, char *w, char *b, size_t len) {
    snprintf(w, len, "%d.weight", layer);
    snprintf(b, len, "%d.bias", layer);
}

bool nn_model_save(nn_model *m, const char *spec_text, const char *lattice, const char *const *meta_key,
                   const char *const *meta_val, int n_meta, const char *path, char *err, size_t errlen) {
    net_spec spec;
    if (!netspec_parse(spec_text, &spec, err, errlen)) return false;
    io_st_tensor t[2 * NETSPEC_MAX_LAYERS];
    int nt = 0;
    float *torch = malloc((nn_model_param_count(m) + 1) * sizeof(float));
    if (!torch) return snprintf(err, errlen, "out of memory"), false;
    const float *p = nn_model_params(m);
    for (int i = 0; i < spec.n_layers; i++) {
        const layer_spec *L = &spec.layers[i];
        nn_param_slot s = nn_model_slot(m, i);
        if (!s.w_count) continue;
        io_st_tensor *w = &t[nt++];
        char bn[128];
        tensor_names(i, w->name, bn, sizeof w->name);
        nn_weight_to_torch(L, p + s.w_off, torch + s.w_off);
        w->data = torch + s.w_off;
        if (L->kind == LAYER_CONV) w->ndim = 4, w->shape[0] = L->cout, w->shape[1] = L->cin, w->shape[2] = L->kh, w->shape[3] = L->kw;
        else w->ndim = 2, w->shape[0] = L->cout, w->shape[1] = L->cin;
        if (s.b_count) {
            io_st_tensor *b = &t[nt++];
            snprintf(b->name, sizeof b->name, "%s", bn);
            b->ndim = 1, b->shape[0] = L->cout, b->data = p + s.b_off;
        }
    }
    const char *keys[64], *vals[64];
    int nm = 0;
    keys[nm] = "format", vals[nm++] = "latbench-model-1";
    keys[nm] = "spec", vals[nm++] = spec_text;
    keys[nm] = "lattice", vals[nm++] = lattice;
    for (int i = 0; i < n_meta && nm < 64; i++) keys[nm] = meta_key[i], vals[nm++] = meta_val[i];
    bool ok = io_safetensors_write(path, t, nt, keys, vals, nm, err, errlen);
    free(torch);
    return ok;
}

/* The tensor a layer needs: its name and PyTorch shape; false for a layer without it. */
static bool expected_tensor(const layer_spec *L, int layer, bool bias, io_st_tensor *t) {
    if ((L->kind != LAYER_CONV && L->kind != LAYER_LINEAR) || (bias && !L->bias)) return false;
    snprintf(t->name, sizeof t->name, "%d.%s", layer, bias ? "bias" : "weight");
    if (bias) t->ndim = 1, t->shape[0] = L->cout;
    else if (L->kind == LAYER_CONV) t->ndim = 4, t->shape[0] = L->cout, t->shape[1] = L->cin, t->shape[2] = L->kh, t->shape[3] = L->kw;
    else t->ndim = 2, t->shape[0] = L->cout, t->shape[1] = L->cin;
    return true;
}

static void append(char *buf, size_t len, const char *fmt, const char *a, const char *b) {
    size_t at = strlen(buf);
    if (at + 1 < len) snprintf(buf + at, len - at, fmt, a, b);
}

static const char *shape_text(const io_st_tensor *t, char *buf, size_t len) {
    size_t at = (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < t->ndim && at < len; d++) at += (size_t)snprintf(buf + at, len - at, "%s%ld", d ? "," : "", t->shape[d]);
    if (at < len) snprintf(buf + at, len - at, "]");
    return buf;
}

/* Every value of every tensor finite (a NaN weight would make every result NaN). */
static bool check_finite(const io_st_file *f, char *err, size_t errlen) {
    for (int i = 0; i < f->n; i++) {
        const size_t n = io_st_numel(&f->t[i]);
        for (size_t j = 0; j < n; j++)
            if (!isfinite(f->t[i].data[j]))
                return snprintf(err, errlen, "tensor %s: value %zu is not finite", f->t[i].name, j), false;
    }
    return true;
}

bool nn_model_check_tensors(const net_spec *spec, const io_st_file *f, char *err, size_t errlen) {
    char missing[256] = "", wrong[256] = "", extra[256] = "", a[160], b[96];
    int found = 0;
    for (int i = 0; i < spec->n_layers; i++)
        for (int bias = 0; bias < 2; bias++) {
            io_st_tensor want;
            if (!expected_tensor(&spec->layers[i], i, bias, &want)) continue;
            const io_st_tensor *t = io_safetensors_find(f, want.name);
            if (!t) {
                append(missing, sizeof missing, "%s%s ", *missing ? ", " : "", want.name);
                append(missing, sizeof missing, "%s%s", shape_text(&want, b, sizeof b), "");
                continue;
            }
            found++;
            if (t->ndim != want.ndim || memcmp(t->shape, want.shape, (size_t)want.ndim * sizeof(long))) {
                snprintf(a, sizeof a, "%s%s ", *wrong ? ", " : "", want.name);
                append(wrong, sizeof wrong, "%s%s", a, shape_text(t, b, sizeof b));
                append(wrong, sizeof wrong, " (expected %s)%s", shape_text(&want, b, sizeof b), "");
            }
        }
    for (int i = 0; found < f->n && i < f->n; i++) {
        int layer;
        char kind[16], tail;
        io_st_tensor want;
        bool ok = sscanf(f->t[i].name, "%d.%15[a-z]%c", &layer, kind, &tail) == 2 && layer >= 0 && layer < spec->n_layers &&
                  (!strcmp(kind, "weight") || !strcmp(kind, "bias")) &&
                  expected_tensor(&spec->layers[layer], layer, kind[0] == 'b', &want) && !strcmp(want.name, f->t[i].name);
        if (!ok) append(extra, sizeof extra, "%s%s", *extra ? ", " : "", f->t[i].name);
    }
    if (!*missing && !*wrong && !*extra) return check_finite(f, err, errlen);
    snprintf(err, errlen, "the tensors do not match the spec:%s%s%s%s%s%s", *missing ? " missing " : "", missing,
             *wrong ? (*missing ? "; wrong shape " : " wrong shape ") : "", wrong,
             *extra ? (*missing || *wrong ? "; unexpected " : " unexpected ") : "", extra);
    return false;
}

bool nn_model_load_params(nn_model *m, const io_st_file *f, char *err, size_t errlen) {
    net_spec spec = {.n_layers = nn_model_layers(m)};
    for (int i = 0; i < spec.n_layers; i++) spec.layers[i] = *nn_model_layer(m, i);
    if (!nn_model_check_tensors(&spec, f, err, errlen)) return false;
    float *p = nn_model_params(m);
    for (int i = 0; i < spec.n_layers; i++) {
        const layer_spec *L = &spec.layers[i];
        nn_param_slot s = nn_model_slot(m, i);
        if (!s.w_count) continue;
        char wn[128], bn[128];
        tensor_names(i, wn, bn, sizeof wn);
        const io_st_tensor *w = io_safetensors_find(f, wn), *b = io_safetensors_find(f, bn);
        nn_weight_from_torch(L, w->data, p + s.w_off);
        if (s.b_count) memcpy(p + s.b_off, b->data, s.b_count * sizeof(float));
    }
    return true;
}

bool nn_model_open(const char *path, const char *spec, netspec_loaded *s, io_st_file *f, char *err, size_t errlen) {
    char perr[600];
    if (!io_safetensors_read(path, f, err, errlen)) return false;
    const char *lat = io_safetensors_meta(f, "lattice");
    bool ok;
    if (!spec && !io_safetensors_meta(f, "spec"))
        ok = false, snprintf(err, errlen, "%s: no model spec in its metadata (not written by latbench train?): "
                                          "give the net with --spec PRESET|FILE", path);
    else if (!spec)
        ok = netspec_load(path, s, err, errlen); /* the metadata's spec, checked against the tensors */
    else if (!(ok = netspec_load(spec, s, perr, sizeof perr)))
        snprintf(err, errlen, "--spec %s", perr);
    else if (!(ok = nn_model_check_tensors(&s->spec, f, perr, sizeof perr)))
        snprintf(err, errlen, "%s: not the net of --spec %s: %s", path, spec, perr);
    else if (lat && strlen(lat) < sizeof s->lattice)
        snprintf(s->lattice, sizeof s->lattice, "%s", lat);
    if (!ok) io_safetensors_free(f);
    return ok;
}

/* ---- a net by name (netspec_load): a preset, a spec file or a model file ---- */

static bool ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* A trained model: its spec from the metadata, and exactly the tensors that spec needs. */
static bool load_model_file(const char *name, netspec_loaded *s, char *err, size_t errlen) {
    io_st_file f;
    char perr[400];
    if (!io_safetensors_read(name, &f, err, errlen)) return false;
    const char *t = io_safetensors_meta(&f, "spec"), *lat = io_safetensors_meta(&f, "lattice");
    bool ok = false;
    if (!t) snprintf(err, errlen, "%s: no model spec in its metadata (not written by latbench train?)", name);
    else if (strlen(t) >= sizeof s->text) snprintf(err, errlen, "%s: the spec in its metadata is too long", name);
    else if (lat && strlen(lat) >= sizeof s->lattice) snprintf(err, errlen, "%s: bad lattice in its metadata", name);
    else if (!netspec_parse(t, &s->spec, perr, sizeof perr)) snprintf(err, errlen, "%s: spec in its metadata: %s", name, perr);
    else if (!nn_model_check_tensors(&s->spec, &f, perr, sizeof perr)) snprintf(err, errlen, "%s: %s", name, perr);
    else ok = true;
    if (ok) {
        snprintf(s->text, sizeof s->text, "%s", t);
        if (lat) snprintf(s->lattice, sizeof s->lattice, "%s", lat);
        snprintf(s->origin, sizeof s->origin, "trained model");
    }
    io_safetensors_free(&f);
    return ok;
}

/* A spec text file: a regular file (opened without blocking, so a FIFO is refused, not waited on). */
static bool read_spec_file(const char *name, netspec_loaded *s, char *err, size_t errlen) {
    off_t size;
    int fd = io_open_regular(name, &size, err, errlen);
    if (fd < 0 && errno == EINVAL) return false; /* not a regular file: err says so */
    if (fd < 0) {
        int n;
        const char *const *names = netspec_preset_names(&n);
        return snprintf(err, errlen, "'%s' is neither a preset (%s ... %s) nor a readable file", name, names[0],
                        names[n - 1]),
               false;
    }
    if (size >= (off_t)sizeof s->text) {
        close(fd);
        return snprintf(err, errlen, "%s: spec file too long (at most %zu bytes)", name, sizeof s->text - 1), false;
    }
    ssize_t k = read(fd, s->text, sizeof s->text - 1);
    close(fd);
    if (k < 0) return snprintf(err, errlen, "%s: read failed", name), false;
    s->text[k] = 0;
    if (memchr(s->text, 0, (size_t)k)) return snprintf(err, errlen, "%s: not a text file", name), false;
    snprintf(s->origin, sizeof s->origin, "spec file");
    return true;
}

bool netspec_load(const char *name, netspec_loaded *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    const char *text = netspec_preset(name);
    char perr[400];
    if (text) {
        snprintf(s->text, sizeof s->text, "%s", text);
        snprintf(s->origin, sizeof s->origin, "preset");
        snprintf(s->native, sizeof s->native, "%s", netspec_preset_lattice(name));
    } else if (ends_with(name, ".safetensors")) {
        return load_model_file(name, s, err, errlen);
    } else if (!read_spec_file(name, s, err, errlen)) {
        return false;
    }
    if (!netspec_parse(s->text, &s->spec, perr, sizeof perr)) return snprintf(err, errlen, "%s: %s", name, perr), false;
    return true;
}
