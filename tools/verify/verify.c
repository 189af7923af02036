#include "tools/verify/verify.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

void vf_report_init(vf_report *r, FILE *out, unsigned isa_mask, bool onednn) {
    memset(r, 0, sizeof *r);
    r->out = out;
    r->isa_mask = isa_mask;
    lb_cpu_detect(&r->cpu);
    r->onednn = onednn && LB_X86 && LB_HAVE_ONEDNN;
#if LB_HAVE_ONEDNN
    if (r->onednn) {
        if (dnnl_engine_create(&r->engine, dnnl_cpu, 0) != dnnl_success ||
            dnnl_stream_create(&r->stream, r->engine, dnnl_stream_default_flags) != dnnl_success) {
            fprintf(out, "oneDNN: cannot create a CPU engine; oneDNN comparisons are not run\n");
            r->onednn = false;
        }
    }
#endif
}

void vf_report_fini(vf_report *r) {
#if LB_HAVE_ONEDNN
    if (r->stream) dnnl_stream_destroy(r->stream);
    if (r->engine) dnnl_engine_destroy(r->engine);
    r->stream = NULL;
    r->engine = NULL;
#endif
}

bool vf_wanted(const vf_report *r, const char *descriptor) {
    return !r->filter || strstr(descriptor, r->filter) != NULL;
}

bool vf_variant_runnable(vf_report *r, const char *op, const char *name, lb_isa isa) {
    if (!(r->isa_mask & (1u << isa))) return false;
    if (lb_cpu_supports(&r->cpu, isa)) return true;
    char key[48];
    snprintf(key, sizeof key, "%s/%s", op, name);
    for (int i = 0; i < r->n_skipped_names; i++)
        if (!strcmp(r->skipped_names[i], key)) return false;
    if (r->n_skipped_names < 32) snprintf(r->skipped_names[r->n_skipped_names++], sizeof key, "%s", key);
    fprintf(r->out, "SKIP %s: this CPU lacks %s\n", key, lb_isa_name(isa));
    r->skipped++;
    return false;
}

void vf_record(vf_report *r, const char *descriptor, bool ok, const char *detail) {
    r->checked++;
    const size_t n = strlen(descriptor);
    r->onednn_checks += n > 7 && !strcmp(descriptor + n - 7, "@onednn");
    if (!ok) {
        r->failed++;
        fprintf(r->out, "MISMATCH %s: %s\n", descriptor, detail ? detail : "");
        /* the descriptor parses back (tools/problems/problem.h): the line is its own reproducer */
        fprintf(r->out, "  rerun: latbench verify --desc %s\n", descriptor);
    } else if (r->verbose) {
        fprintf(r->out, "ok %s\n", descriptor);
    }
}

bool vf_compare(const float *got, const float *ref, size_t n, double rtol, double atol, char *detail, size_t len) {
    size_t worst = 0, bad = 0;
    double worst_excess = -1;
    for (size_t i = 0; i < n; i++) {
        double g = got[i], w = ref[i];
        double err = fabs(g - w), lim = atol + rtol * fabs(w);
        /* identical values (equal infinities too) agree; NaN agrees only with NaN */
        bool fail = isnan(g) || isnan(w) ? isnan(g) != isnan(w) : !(g == w || err <= lim);
        if (fail) {
            bad++;
            double excess = isnan(err) ? INFINITY : err - lim;
            if (excess > worst_excess) { worst_excess = excess; worst = i; }
        }
    }
    if (bad && detail)
        snprintf(detail, len, "%zu of %zu elements differ; worst at %zu: got %.9g, want %.9g (rtol %g, atol %g)", bad,
                 n, worst, got[worst], ref[worst], rtol, atol);
    return bad == 0;
}

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void vf_fill_int(float *x, size_t n, uint64_t seed, int lo, int hi) {
    uint64_t s = seed;
    uint64_t span = (uint64_t)(hi - lo + 1);
    for (size_t i = 0; i < n; i++) x[i] = (float)(lo + (int)(splitmix64(&s) % span));
}

void vf_fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi) {
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * (float)((splitmix64(&s) >> 40) * 0x1p-24);
}

float *vf_alloc(size_t n) {
    size_t bytes = (n ? n : 1) * sizeof(float);
    bytes = (bytes + 63) & ~(size_t)63;
    float *p = aligned_alloc(64, bytes);
    if (!p) {
        fprintf(stderr, "latbench: out of memory allocating %zu bytes\n", bytes);
        exit(1);
    }
    memset(p, 0, bytes);
    return p;
}

/* a NaN payload that no kernel produces (every float operation returns the default quiet NaN) */
static const uint32_t VF_GUARD_BITS = 0x7fc0dead;

float *vf_buf_alloc(size_t n, bool guard) {
    const size_t bytes = (n + (guard ? VF_GUARD : 0) + 1) * sizeof(float);
    void *base = NULL;
    if (posix_memalign(&base, 64, bytes)) {
        fprintf(stderr, "latbench: out of memory allocating %zu bytes\n", bytes);
        exit(1);
    }
    memset(base, 0, bytes);
    float *p = (float *)base + 1;
    if (guard) vf_guard_arm(p, n);
    return p;
}

void vf_buf_free(float *p) {
    if (p) free(p - 1);
}

void vf_guard_arm(float *p, size_t n) {
    for (size_t i = 0; i < VF_GUARD; i++) memcpy(p + n + i, &VF_GUARD_BITS, sizeof VF_GUARD_BITS);
}

size_t vf_guard_breach(const float *p, size_t n) {
    for (size_t i = 0; i < VF_GUARD; i++)
        if (memcmp(p + n + i, &VF_GUARD_BITS, sizeof VF_GUARD_BITS)) return i + 1;
    return 0;
}

void vf_poison(float *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = NAN;
    vf_guard_arm(p, n);
}

void vf_record_guarded(vf_report *r, const char *desc, bool ok, char *detail, size_t len, const float *got, size_t n) {
    if (ok && !vf_guard_intact(got, n)) {
        ok = false;
        snprintf(detail, len, "wrote past the end of the output (%zu elements)", n);
    }
    vf_record(r, desc, ok, detail);
}

void vf_check(vf_report *r, const char *desc, const float *got, const float *want, size_t n, double rtol, double atol) {
    char detail[256] = "";
    const bool ok = vf_compare(got, want, n, rtol, atol, detail, sizeof detail);
    vf_record_guarded(r, desc, ok, detail, sizeof detail, got, n);
}

int vf_param_values(const lb_param_info *pi, int *vals, int max) {
    int n = 0;
    if (pi->max - pi->min < 16) {
        for (int v = pi->min; v <= pi->max && n < max; v++) vals[n++] = v;
        return n;
    }
    if (n < max) vals[n++] = pi->min;
    for (int p = 1; p < pi->max && n < max; p *= 2)
        if (p > pi->min) vals[n++] = p;
    const int mid = ((pi->min + pi->max) / 2) | 1;
    bool have = false;
    for (int i = 0; i < n; i++) have |= vals[i] == mid;
    if (!have && mid > pi->min && mid < pi->max && n < max) vals[n++] = mid;
    if (n < max) vals[n++] = pi->max;
    return n;
}
