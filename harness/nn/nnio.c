#include "harness/nn/nnio.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool nn_npy_read(const char *path, const char *descr, void **data, long *shape, int *ndim, char *err, size_t errlen) {
    *data = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) return snprintf(err, errlen, "cannot open %s", path), false;
    unsigned char pre[10];
    char hdr[4096];
    bool ok = fread(pre, 1, 10, fp) == 10 && !memcmp(pre, "\x93NUMPY", 6) && pre[6] == 1;
    size_t hl = ok ? (size_t)pre[8] | (size_t)pre[9] << 8 : 0;
    ok = ok && hl < sizeof hdr && fread(hdr, 1, hl, fp) == hl;
    if (!ok) {
        fclose(fp);
        return snprintf(err, errlen, "%s: not a .npy version 1 file", path), false;
    }
    hdr[hl] = 0;
    char want[64];
    snprintf(want, sizeof want, "'descr': '%s'", descr);
    const char *sp = strstr(hdr, "'shape': (");
    if (!strstr(hdr, want) || !strstr(hdr, "'fortran_order': False") || !sp) {
        fclose(fp);
        return snprintf(err, errlen, "%s: expected a C-order array of dtype %s", path, descr), false;
    }
    sp += 10;
    *ndim = 0;
    size_t count = 1;
    while (*sp && *sp != ')' && *ndim < 8) {
        char *end;
        long v = strtol(sp, &end, 10);
        if (end == sp) break;
        shape[(*ndim)++] = v;
        count *= (size_t)v;
        sp = end;
        while (*sp == ',' || *sp == ' ') sp++;
    }
    size_t esz = (size_t)(descr[2] - '0');
    *data = malloc(count * esz + 1);
    if (!*data || fread(*data, esz, count, fp) != count) {
        fclose(fp);
        free(*data);
        *data = NULL;
        return snprintf(err, errlen, "%s: truncated data", path), false;
    }
    fclose(fp);
    return true;
}

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
        if (!json_is_integer(json_object_get(e, "offset")) || p[i].offset != next || p[i].count < 1) {
            free(p), p = NULL;
            break;
        }
        next += p[i].count;
    }
    if (p && next != d->n) free(p), p = NULL;
    d->points = p, d->npoints = p ? (int)np : 0;
}

bool nn_dataset_load(const char *dir, nn_dataset *d, char *err, size_t errlen) {
    memset(d, 0, sizeof *d);
    char path[4200];
    long xs[8], ys[8];
    int xn, yn;
    void *x, *y;
    snprintf(path, sizeof path, "%s/x.npy", dir);
    if (!nn_npy_read(path, "<i2", &x, xs, &xn, err, errlen)) return false;
    if (xn != 4 || xs[1] != 4 || xs[2] < 1 || xs[3] < 1) {
        free(x);
        return snprintf(err, errlen, "%s: expected shape [N, 4, NT, NX]", path), false;
    }
    snprintf(path, sizeof path, "%s/y.npy", dir);
    if (!nn_npy_read(path, "<f4", &y, ys, &yn, err, errlen)) {
        free(x);
        return false;
    }
    if (yn != 2 || ys[0] != xs[0]) {
        free(x), free(y);
        return snprintf(err, errlen, "%s: expected shape [%ld, outputs]", path, xs[0]), false;
    }
    d->n = xs[0], d->nt = (int)xs[2], d->nx = (int)xs[3], d->outs = (int)ys[1];
    d->x = x, d->y = y;
    snprintf(path, sizeof path, "%s/meta.json", dir);
    json_t *meta = json_load_file(path, 0, NULL);
    const char *task = json_string_value(json_object_get(meta, "task"));
    if (task) snprintf(d->task, sizeof d->task, "%s", task);
    load_points(json_object_get(meta, "points"), d);
    json_decref(meta);
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
    lb_st_tensor t[2 * NETSPEC_MAX_LAYERS];
    int nt = 0;
    float *torch = malloc((nn_model_param_count(m) + 1) * sizeof(float));
    if (!torch) return snprintf(err, errlen, "out of memory"), false;
    const float *p = nn_model_params(m);
    for (int i = 0; i < spec.n_layers; i++) {
        const layer_spec *L = &spec.layers[i];
        nn_param_slot s = nn_model_slot(m, i);
        if (!s.w_count) continue;
        lb_st_tensor *w = &t[nt++];
        char bn[128];
        tensor_names(i, w->name, bn, sizeof w->name);
        nn_weight_to_torch(L, p + s.w_off, torch + s.w_off);
        w->data = torch + s.w_off;
        if (L->kind == LAYER_CONV) w->ndim = 4, w->shape[0] = L->cout, w->shape[1] = L->cin, w->shape[2] = L->kh, w->shape[3] = L->kw;
        else w->ndim = 2, w->shape[0] = L->cout, w->shape[1] = L->cin;
        if (s.b_count) {
            lb_st_tensor *b = &t[nt++];
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
    bool ok = lb_safetensors_write(path, t, nt, keys, vals, nm, err, errlen);
    free(torch);
    return ok;
}

bool nn_model_load_params(nn_model *m, const lb_st_file *f, char *err, size_t errlen) {
    const char *text = lb_safetensors_meta(f, "spec");
    net_spec spec;
    if (!text || !netspec_parse(text, &spec, err, errlen))
        return snprintf(err, errlen, "the model file holds no valid spec"), false;
    float *p = nn_model_params(m);
    for (int i = 0; i < spec.n_layers; i++) {
        const layer_spec *L = &spec.layers[i];
        nn_param_slot s = nn_model_slot(m, i);
        if (!s.w_count) continue;
        char wn[128], bn[128];
        tensor_names(i, wn, bn, sizeof wn);
        const lb_st_tensor *w = lb_safetensors_find(f, wn), *b = lb_safetensors_find(f, bn);
        if (!w || lb_st_numel(w) != s.w_count) return snprintf(err, errlen, "tensor %s missing or of the wrong size", wn), false;
        if (s.b_count && (!b || lb_st_numel(b) != s.b_count))
            return snprintf(err, errlen, "tensor %s missing or of the wrong size", bn), false;
        nn_weight_from_torch(L, w->data, p + s.w_off);
        if (s.b_count) memcpy(p + s.b_off, b->data, s.b_count * sizeof(float));
    }
    return true;
}
