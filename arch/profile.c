/* The tuning profile (arch/profile.h): strict reading and checking, atomic writing, the lookup,
 * and the start-up that finds this CPU's file. */
#define _GNU_SOURCE
#include "arch/profile.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "arch/build_info.h"
#include "kernels/chain1x1/chain1x1_problem.h"
#include "arch/registry.h"

/* ---- names: ops and their variants (from the registry's enumerators) ---- */

static const char *const OPS[] = {"conv2d", "pool", "gpool", "act", "dense", "loss", "optim", "worm", "chain1x1"};
#define N_OPS ((int)(sizeof OPS / sizeof OPS[0]))

/* The isa of op's variant `name`, or -1 when op has no such variant. */
static int variant_isa(const char *op, const char *name) {
    int n = 0;
    if (!strcmp(op, "chain1x1") && !strcmp(name, LB_CHAIN1X1_UNFUSED)) return LB_ISA_SCALAR;
#define FIND(OP)                                                      \
    if (!strcmp(op, #OP)) {                                           \
        const OP##_ops *v = lb_##OP##_variants(&n);                   \
        for (int i = 0; i < n; i++)                                   \
            if (!strcmp(v[i].name, name)) return (int)v[i].isa;       \
        return -1;                                                    \
    }
    FIND(conv2d) FIND(pool) FIND(gpool) FIND(act) FIND(dense) FIND(loss) FIND(optim) FIND(worm) FIND(chain1x1)
#undef FIND
    return -1;
}

/* The tuning parameters op's variant `name` accepts (*n of them; NULL and 0 for none). */
static const lb_param_info *variant_params(const char *op, const char *name, int *n) {
    int nv = 0;
    *n = 0;
#define PARAMS(OP)                                                    \
    if (!strcmp(op, #OP)) {                                           \
        const OP##_ops *v = lb_##OP##_variants(&nv);                  \
        for (int i = 0; i < nv; i++)                                  \
            if (!strcmp(v[i].name, name)) return *n = v[i].nparams, v[i].params; \
    }
    PARAMS(worm) PARAMS(conv2d) PARAMS(chain1x1)   /* the ops with tunable variants */
#undef PARAMS
    return NULL;
}

static bool op_known(const char *op) {
    for (int i = 0; i < N_OPS; i++)
        if (!strcmp(OPS[i], op)) return true;
    return false;
}

static int pass_parse(const char *s) {
    for (int p = 0; p < LB_N_PASSES; p++)
        if (!strcmp(s, lb_pass_name((lb_pass)p))) return p;
    return -1;
}

/* ---- strict reading ---- */

typedef struct {
    char *err;
    size_t len;
} rd;

static bool fail(rd *r, const char *ctx, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(rd *r, const char *ctx, const char *fmt, ...) {
    /* NULL: the file as a whole; "": the top-level object */
    int n = ctx ? snprintf(r->err, r->len, "%s: ", *ctx ? ctx : "(top level)") : 0;
    if (n < 0 || (size_t)n >= r->len) return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err + n, r->len - (size_t)n, fmt, ap);
    va_end(ap);
    return false;
}

/* "ctx.key" ("key" at the top level): where a message points. */
static const char *at(char *buf, size_t len, const char *ctx, const char *key) {
    snprintf(buf, len, "%s%s%s", ctx, *ctx ? "." : "", key);
    return buf;
}
#define AT(ctx, key) at((char[96]){0}, 96, ctx, key)

/* A value for a one-line message: at most 40 characters, non-printable ones as '?'. */
static const char *shown(const char *s, char *buf, size_t len) {
    size_t i = 0;
    for (; s[i] && i + 4 < len && i < 40; i++) buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    if (s[i]) buf[i++] = '.', buf[i++] = '.', buf[i++] = '.';
    buf[i] = 0;
    return buf;
}

/* Every key of o is one of keys[] or opt[] (NULL-terminated; opt may be NULL), and each of keys[]
 * is present. */
static bool check_keys_opt(rd *r, json_t *o, const char *ctx, const char *const *keys, const char *const *opt) {
    const char *k;
    json_t *v;
    char b[64];
    json_object_foreach(o, k, v) {
        bool ok = false;
        for (int i = 0; keys[i] && !ok; i++) ok = !strcmp(keys[i], k);
        for (int i = 0; opt && opt[i] && !ok; i++) ok = !strcmp(opt[i], k);
        if (!ok) return fail(r, ctx, "unknown field '%s'", shown(k, b, sizeof b));
    }
    for (int i = 0; keys[i]; i++)
        if (!json_object_get(o, keys[i])) return fail(r, ctx, "missing field '%s'", keys[i]);
    return true;
}

static bool check_keys(rd *r, json_t *o, const char *ctx, const char *const *keys) {
    return check_keys_opt(r, o, ctx, keys, NULL);
}

static bool get_str(rd *r, json_t *o, const char *ctx, const char *key, char *dst, size_t len, bool nonempty) {
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v)) return fail(r, AT(ctx, key), "not a string");
    const char *s = json_string_value(v);
    if (strlen(s) >= len) return fail(r, AT(ctx, key), "longer than %zu characters", len - 1);
    if (nonempty && !*s) return fail(r, AT(ctx, key), "empty");
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) return fail(r, AT(ctx, key), "a control character");
    snprintf(dst, len, "%s", s);
    return true;
}

static bool get_int(rd *r, json_t *o, const char *ctx, const char *key, long long lo, long long hi, long long *dst) {
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v)) return fail(r, AT(ctx, key), "not an integer");
    long long x = json_integer_value(v);
    if (x < lo || x > hi) return fail(r, AT(ctx, key), "%lld is out of range [%lld, %lld]", x, lo, hi);
    *dst = x;
    return true;
}

/* A finite number; positive (> 0) or, with zero_ok, >= 0. */
static bool get_num(rd *r, json_t *o, const char *ctx, const char *key, bool zero_ok, double *dst) {
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v)) return fail(r, AT(ctx, key), "not a number");
    double x = json_number_value(v);
    if (!isfinite(x) || x < 0 || (!zero_ok && x == 0))
        return fail(r, AT(ctx, key), "%g is not a %s finite number", x, zero_ok ? "non-negative" : "positive");
    *dst = x;
    return true;
}

static bool get_isa(rd *r, json_t *o, const char *ctx, const char *key, lb_isa *dst) {
    char s[16], b[64];
    if (!get_str(r, o, ctx, key, s, sizeof s, true)) return false;
    int isa = lb_isa_parse(s);
    if (isa < 0) return fail(r, AT(ctx, key), "'%s' is not one of scalar, avx2, avx512, neon", shown(s, b, sizeof b));
    *dst = (lb_isa)isa;
    return true;
}

static bool read_identity(rd *r, json_t *root, lb_profile_identity *id) {
    static const char *const mkeys[] = {"slug", "vendor", "family", "model", "stepping", "uarch", "isa_cap", "cores",
                                        "cache", NULL};
    static const char *const ckeys[] = {"l1d", "l2", "l3", NULL};
    static const char *const bkeys[] = {"commit", "kernels", "compiler", "flags", NULL};
    json_t *m = json_object_get(root, "machine"), *b = json_object_get(root, "build");
    if (!json_is_object(m)) return fail(r, "machine", "not an object");
    if (!json_is_object(b)) return fail(r, "build", "not an object");
    json_t *c = json_object_get(m, "cache");
    long long fam = 0, mod = 0, step = 0, cores = 0;
    const long long big = 1LL << 40;
    bool ok = check_keys(r, m, "machine", mkeys) && get_str(r, m, "machine", "slug", id->slug, sizeof id->slug, true) &&
              get_str(r, m, "machine", "vendor", id->vendor, sizeof id->vendor, false) &&
              get_int(r, m, "machine", "family", 0, 0xffff, &fam) && get_int(r, m, "machine", "model", 0, 0xffff, &mod) &&
              get_int(r, m, "machine", "stepping", 0, 0xffff, &step) &&
              get_str(r, m, "machine", "uarch", id->uarch, sizeof id->uarch, false) &&
              get_isa(r, m, "machine", "isa_cap", &id->isa_cap) &&
              get_int(r, m, "machine", "cores", 1, 1 << 20, &cores);
    if (!ok) return false;
    if (!json_is_object(c)) return fail(r, "machine.cache", "not an object");
    ok = check_keys(r, c, "machine.cache", ckeys) && get_int(r, c, "machine.cache", "l1d", 0, big, &id->l1d) &&
         get_int(r, c, "machine.cache", "l2", 0, big, &id->l2) && get_int(r, c, "machine.cache", "l3", 0, big, &id->l3) &&
         check_keys(r, b, "build", bkeys) && get_str(r, b, "build", "commit", id->commit, sizeof id->commit, true) &&
         get_str(r, b, "build", "kernels", id->kernels, sizeof id->kernels, true) &&
         get_str(r, b, "build", "compiler", id->compiler, sizeof id->compiler, true) &&
         get_str(r, b, "build", "flags", id->flags, sizeof id->flags, true);
    id->family = (int)fam, id->model = (int)mod, id->stepping = (int)step, id->cores = (int)cores;
    return ok;
}

/* "params": {"name": value, ...} by the names of the variant's table, each value 0 (the default)
 * or in the table's range; a variant without a table takes none. */
static bool read_params(rd *r, json_t *params, const char *ctx, lb_profile_entry *e) {
    char b[64], pctx[48];
    int np = 0;
    const lb_param_info *pi = variant_params(e->op, e->variant, &np);
    if (!json_is_object(params)) return fail(r, AT(ctx, "params"), "not an object");
    memset(&e->params, 0, sizeof e->params);
    const char *k;
    json_t *v;
    json_object_foreach(params, k, v) {
        int i = 0;
        while (i < np && strcmp(pi[i].name, k)) i++;
        if (i == np) {
            if (!np) return fail(r, AT(ctx, "params"), "variant %s accepts no parameter '%s'", e->variant, shown(k, b, sizeof b));
            return fail(r, AT(ctx, "params"), "'%s' is not a parameter of variant %s", shown(k, b, sizeof b), e->variant);
        }
        snprintf(pctx, sizeof pctx, "%s.params", ctx);
        if (!json_is_integer(v)) return fail(r, AT(pctx, k), "not an integer");
        const long long x = json_integer_value(v);
        if (x != 0 && (x < pi[i].min || x > pi[i].max))
            return fail(r, AT(pctx, k), "%lld is out of range (0 or %d..%d)", x, pi[i].min, pi[i].max);
        e->params.v[i] = (int)x;
    }
    return true;
}

/* One entry, every field checked; cpu: this CPU (the variant must run here). */
static bool read_entry(rd *r, json_t *o, const char *ctx, const lb_cpu *cpu, lb_profile_entry *e) {
    static const char *const keys[] = {"op", "pass", "problem", "isa", "threads", "variant", "params", "time_s",
                                       "default_time_s", "speedup", "spread", NULL};
    static const char *const optional[] = {"timing", NULL};   /* absent in profiles before it: warm */
    char s[32], b[64];
    long long threads = 0;
    if (!json_is_object(o)) return fail(r, ctx, "not an object");
    if (!check_keys_opt(r, o, ctx, keys, optional) || !get_str(r, o, ctx, "op", e->op, sizeof e->op, true)) return false;
    if (!op_known(e->op))
        return fail(r, AT(ctx, "op"), "'%s' is not one of conv2d, pool, gpool, act, dense, loss, optim, worm, chain1x1", shown(e->op, b, sizeof b));
    if (!get_str(r, o, ctx, "pass", s, sizeof s, true)) return false;
    int pass = pass_parse(s);
    if (pass < 0) return fail(r, AT(ctx, "pass"), "'%s' is not one of fwd, bwd_data, bwd_weights", shown(s, b, sizeof b));
    if ((!strcmp(e->op, "worm") || !strcmp(e->op, "chain1x1")) && pass != LB_PASS_FWD)
        return fail(r, AT(ctx, "pass"), "%s has only fwd", strcmp(e->op, "worm") ? e->op : "the worm");
    e->pass = (lb_pass)pass;
    if (!get_str(r, o, ctx, "problem", e->problem, sizeof e->problem, true) || !get_isa(r, o, ctx, "isa", &e->isa) ||
        !get_int(r, o, ctx, "threads", 1, LB_MAX_THREADS, &threads) ||
        !get_str(r, o, ctx, "variant", e->variant, sizeof e->variant, true))
        return false;
    e->threads = (int)threads;
    chain1x1_desc cd;
    if (!strcmp(e->op, "chain1x1") && strcmp(e->problem, LB_PROFILE_ANY) && !lb_chain1x1_problem_parse(e->problem, &cd))
        return fail(r, AT(ctx, "problem"), "'%s' is not a chain1x1 descriptor (s480_c4-64-48-80_b111)", shown(e->problem, b, sizeof b));
    if (!lb_cpu_supports(cpu, e->isa)) return fail(r, AT(ctx, "isa"), "this CPU cannot run %s kernels", lb_isa_name(e->isa));
    int visa = variant_isa(e->op, e->variant);
    if (visa < 0) return fail(r, AT(ctx, "variant"), "'%s' is not a %s variant", shown(e->variant, b, sizeof b), e->op);
    if (visa > (int)e->isa)
        return fail(r, AT(ctx, "variant"), "%s is above the entry's isa %s", e->variant, lb_isa_name(e->isa));
    if (!read_params(r, json_object_get(o, "params"), ctx, e)) return false;
    e->cold = false;   /* profiles before the key were timed warm */
    if (json_object_get(o, "timing")) {
        if (!get_str(r, o, ctx, "timing", s, sizeof s, true)) return false;
        if (strcmp(s, "cold") && strcmp(s, "warm")) return fail(r, AT(ctx, "timing"), "'%s' is not cold or warm", shown(s, b, sizeof b));
        e->cold = !strcmp(s, "cold");
    }
    return get_num(r, o, ctx, "time_s", false, &e->time_s) && get_num(r, o, ctx, "default_time_s", false, &e->default_time_s) &&
           get_num(r, o, ctx, "speedup", false, &e->speedup) && get_num(r, o, ctx, "spread", true, &e->spread);
}

static bool same_key(const lb_profile_entry *a, const lb_profile_entry *b) {
    return !strcmp(a->op, b->op) && a->pass == b->pass && !strcmp(a->problem, b->problem) && a->isa == b->isa &&
           a->threads == b->threads;
}

/* The entries; those of the ops in `changed` (their kernels changed since the profile) are dropped
 * unread: their variants may no longer exist. */
static bool read_entries(rd *r, json_t *root, lb_profile *p, const char *changed) {
    json_t *arr = json_object_get(root, "entries");
    if (!json_is_array(arr)) return fail(r, "entries", "not an array");
    size_t n = json_array_size(arr);
    if (n > LB_PROFILE_MAX_ENTRIES) return fail(r, "entries", "%zu entries, more than %d", n, LB_PROFILE_MAX_ENTRIES);
    p->entries = calloc(n ? n : 1, sizeof *p->entries);
    if (!p->entries) return fail(r, "entries", "out of memory");
    lb_cpu cpu;
    lb_cpu_detect(&cpu);
    char had[256] = "";
    size_t *orig = calloc(n ? n : 1, sizeof *orig);   /* the file's index of each kept entry */
    if (!orig) return fail(r, "entries", "out of memory");
    for (size_t i = 0; i < n; i++) {
        char ctx[32];
        snprintf(ctx, sizeof ctx, "entries[%zu]", i);
        json_t *o = json_array_get(arr, i), *op = json_object_get(o, "op");
        if (json_is_string(op) && lb_profile_op_listed(changed, json_string_value(op))) {
            const size_t h = strlen(had);
            if (!lb_profile_op_listed(had, json_string_value(op)))
                snprintf(had + h, sizeof had - h, "%s%.31s", h ? " " : "", json_string_value(op));
            continue;
        }
        lb_profile_entry *e = &p->entries[p->n];
        if (!read_entry(r, o, ctx, &cpu, e)) return free(orig), false;
        for (int j = 0; j < p->n; j++)
            if (same_key(&p->entries[j], e))
                return fail(r, ctx, "the same op, pass, problem, isa and threads as entries[%zu]", orig[j]), free(orig), false;
        orig[p->n++] = i;
    }
    free(orig);
    lb_profile_say_dropped(p->dropped, sizeof p->dropped, changed, had);
    return true;
}

/* The file's text (NUL-terminated, malloc'd), at most LB_PROFILE_MAX_BYTES; NULL with err set. */
static char *read_text(const char *path, size_t *len, lb_profile_status *st, rd *r) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat sb;
    *st = LB_PROFILE_DAMAGED;
    if (fd < 0) {
        if (errno == ENOENT) *st = LB_PROFILE_MISSING;
        fail(r, NULL, "%s", errno == ENOENT ? "no such file" : strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) fail(r, NULL, "not a regular file");
    else if (sb.st_size > LB_PROFILE_MAX_BYTES) fail(r, NULL, "%lld bytes, larger than %d", (long long)sb.st_size, LB_PROFILE_MAX_BYTES);
    else if (!(buf = malloc((size_t)sb.st_size + 2))) fail(r, NULL, "out of memory");
    /* one byte more than its size: a file that grows while read is seen, not cut */
    const size_t cap = buf ? (size_t)sb.st_size + 1 : 0;
    size_t n = 0;
    ssize_t k = 1;
    int rerr = 0;
    while (buf && k > 0 && n < cap) {
        k = read(fd, buf + n, cap - n);
        if (k > 0) n += (size_t)k;
        else if (k < 0 && errno == EINTR) k = 1;
        else if (k < 0) rerr = errno;
    }
    close(fd);
    if (buf && (k < 0 || n > (size_t)sb.st_size)) {
        if (k < 0) fail(r, NULL, "read error: %s", strerror(rerr));
        else fail(r, NULL, "changed while being read");
        free(buf), buf = NULL;
    }
    if (buf) buf[n] = 0, *len = n;
    return buf;
}

lb_profile_status lb_profile_load(const char *path, const lb_profile_identity *here, lb_profile *out, char *err,
                                  size_t errlen) {
    rd r = {err, errlen};
    lb_profile_status st;
    size_t len = 0;
    memset(out, 0, sizeof *out);
    err[0] = 0;
    char *text = read_text(path, &len, &st, &r);
    if (!text) return st;
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    static const char *const keys[] = {"schema", "version", "machine", "build", "entries", NULL};
    char b[64], ops[256] = "";
    long long version = 0;
    st = LB_PROFILE_DAMAGED;
    if (!root) fail(&r, NULL, "not valid JSON: line %d column %d: %s", je.line, je.column, je.text);
    else if (!json_is_object(root)) fail(&r, "", "not a JSON object");
    else if (!json_is_string(json_object_get(root, "schema"))) fail(&r, "schema", "missing or not a string");
    else if (strcmp(json_string_value(json_object_get(root, "schema")), LB_PROFILE_SCHEMA))
        fail(&r, "schema", "'%s' is not '%s'", shown(json_string_value(json_object_get(root, "schema")), b, sizeof b),
             LB_PROFILE_SCHEMA);
    else if (!get_int(&r, root, "", "version", 1, INT_MAX, &version)) {}
    else if (version == 1 && here) {   /* keyed by the commit: which kernels it measured is unknown */
        snprintf(err, errlen, "made by an older latbench (profile version 1, keyed by the commit): not applied "
                 "(re-run latbench tune; version 2 keys by the kernel sources)");
        st = LB_PROFILE_FOREIGN;
    } else if (version != LB_PROFILE_VERSION) fail(&r, "version", "%lld, this build reads version %d", version, LB_PROFILE_VERSION);
    else if (!check_keys(&r, root, "", keys) || !read_identity(&r, root, &out->id)) {}
    else if (here && !lb_profile_identity_usable(&out->id, here, ops, sizeof ops, err, errlen)) st = LB_PROFILE_FOREIGN;
    else if (read_entries(&r, root, out, ops)) st = LB_PROFILE_OK;
    json_decref(root);
    for (char *c = err; *c; c++)   /* one line, whatever the parser quoted */
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    if (st != LB_PROFILE_OK) lb_profile_free(out), memset(out, 0, sizeof *out);
    return st;
}

void lb_profile_free(lb_profile *p) {
    free(p->entries);
    p->entries = NULL;
    p->n = 0;
}

/* ---- writing ---- */

/* The entry's non-zero parameters by name (zero, the default, is left out). */
static json_t *params_json(const lb_profile_entry *e) {
    int np = 0;
    const lb_param_info *pi = variant_params(e->op, e->variant, &np);
    json_t *o = json_object();
    for (int i = 0; o && i < np && i < LB_PARAMS_MAX; i++)
        if (e->params.v[i] && json_object_set_new(o, pi[i].name, json_integer(e->params.v[i])))
            json_decref(o), o = NULL;
    return o;
}

static json_t *entry_json(const lb_profile_entry *e) {
    return json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:o, s:f, s:f, s:f, s:f, s:s}", "op", e->op, "pass", lb_pass_name(e->pass),
                     "problem", e->problem, "isa", lb_isa_name(e->isa), "threads", e->threads, "variant", e->variant,
                     "params", params_json(e), "time_s", e->time_s, "default_time_s", e->default_time_s, "speedup",
                     e->speedup, "spread", e->spread, "timing", e->cold ? "cold" : "warm");
}

static json_t *profile_json(const lb_profile *p) {
    const lb_profile_identity *id = &p->id;
    json_t *entries = json_array();
    for (int i = 0; entries && i < p->n; i++)
        if (json_array_append_new(entries, entry_json(&p->entries[i]))) json_decref(entries), entries = NULL;
    if (!entries) return NULL;
    return json_pack("{s:s, s:i, s:{s:s, s:s, s:i, s:i, s:i, s:s, s:s, s:i, s:{s:I, s:I, s:I}}, s:{s:s, s:s, s:s, s:s}, s:o}",
                     "schema", LB_PROFILE_SCHEMA, "version", LB_PROFILE_VERSION, "machine", "slug", id->slug, "vendor",
                     id->vendor, "family", id->family, "model", id->model, "stepping", id->stepping, "uarch", id->uarch,
                     "isa_cap", lb_isa_name(id->isa_cap), "cores", id->cores, "cache", "l1d", (json_int_t)id->l1d, "l2",
                     (json_int_t)id->l2, "l3", (json_int_t)id->l3, "build", "commit", id->commit, "kernels", id->kernels, "compiler",
                     id->compiler, "flags", id->flags, "entries", entries);
}

static bool write_all(int fd, const char *s, size_t n) {
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        s += w, n -= (size_t)w;
    }
    return true;
}

/* The directory part of path ("." for a bare name), for the fsync that makes the rename durable. */
static void fsync_dir_of(const char *path) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = 0;
    else *slash = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) fsync(fd), close(fd);
}

bool lb_profile_save(const char *path, const lb_profile *p, char *err, size_t errlen) {
    json_t *j = profile_json(p);
    char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(j);
    if (!text) return snprintf(err, errlen, "%s: cannot build the JSON (out of memory)", path), false;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld-XXXXXX", path, (long)getpid());
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create a temporary beside it: %s", path, strerror(errno));
        free(text);
        return false;
    }
    bool ok = write_all(fd, text, strlen(text)) && write_all(fd, "\n", 1) && fchmod(fd, 0644) == 0 && fsync(fd) == 0;
    int e = errno;
    ok = (close(fd) == 0) && ok;
    free(text);
    if (ok && rename(tmp, path) != 0) ok = false, e = errno;
    if (!ok) {
        unlink(tmp);
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return false;
    }
    fsync_dir_of(path);
    return true;
}

/* ---- the lookup ---- */

/* The worm's distance: "nt<NT>_nx<NX>_mu<M>_chains<C>", the same lattice only; then the chain count
 * (how full the SIMD blocks are) weighs 10 per octave of its ratio, mu 1 per unit (in thousandths). */
static long long worm_distance(const char *a, const char *b) {
    int nt[2], nx[2], c[2], used[2] = {0, 0};
    double mu[2];
    const char *s[2] = {a, b};
    for (int i = 0; i < 2; i++)
        if (sscanf(s[i], "nt%d_nx%d_mu%lf_chains%d%n", &nt[i], &nx[i], &mu[i], &c[i], &used[i]) != 4 || s[i][used[i]] ||
            c[i] < 1 || !isfinite(mu[i]))
            return -1;
    if (nt[0] != nt[1] || nx[0] != nx[1]) return -1;
    const double d = 10000.0 * fabs(log2((double)c[0] / c[1])) + 1000.0 * fabs(mu[0] - mu[1]);
    return d > 1e6 ? 1000000 : (long long)d;
}

/* conv2d's distance: "mb<N>_ic<CI>oc<CO>_ih<H>iw<W>_kh<KH>kw<KW>_sh<SH>sw<SW>_b<B>"
 * (arch/conv2d_problem.h), the same kernel, stride, bias and channels only; then the batch and the
 * lattice weigh 10 per octave each (of the batch ratio, of the ratio of lattice sites h*w), and
 * the lattice's aspect 1 per octave of the ratio of h (8x4 is nearer 8x4 than 4x8). */
static long long conv2d_distance(const char *a, const char *b) {
    int v[2][10], used[2] = {0, 0};
    const char *s[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        int *x = v[i];
        if (sscanf(s[i], "mb%d_ic%doc%d_ih%diw%d_kh%dkw%d_sh%dsw%d_b%d%n", &x[0], &x[1], &x[2], &x[3], &x[4], &x[5], &x[6],
                   &x[7], &x[8], &x[9], &used[i]) != 10 || s[i][used[i]])
            return -1;
        for (int k = 0; k < 10; k++)
            if (x[k] < (k == 9 ? 0 : 1)) return -1;
    }
    for (int k = 1; k < 10; k++)
        if (k != 3 && k != 4 && v[0][k] != v[1][k]) return -1;
    const double sites0 = (double)v[0][3] * v[0][4], sites1 = (double)v[1][3] * v[1][4];
    const double d = 10000.0 * (fabs(log2((double)v[0][0] / v[1][0])) + fabs(log2(sites0 / sites1))) +
                     1000.0 * fabs(log2((double)v[0][3] / v[1][3]));
    return d > 1e6 ? 1000000 : (long long)d;
}

/* The distance between two problems of an op that are not the same (-1: not comparable). */
static long long problem_distance(const char *op, const char *a, const char *b) {
    if (!strcmp(op, "worm")) return worm_distance(a, b);
    if (!strcmp(op, "conv2d")) return conv2d_distance(a, b);
    if (!strcmp(op, "chain1x1")) return lb_chain1x1_distance(a, b);
    return -1;
}

const lb_profile_entry *lb_profile_choice(const lb_profile *p, const char *op, lb_pass pass, const char *problem,
                                          lb_isa isa, int threads) {
    const lb_profile_entry *best = NULL;
    long long best_score = LLONG_MAX;
    for (int i = 0; p && i < p->n; i++) {
        const lb_profile_entry *e = &p->entries[i];
        if (strcmp(e->op, op) || e->pass != pass || e->isa < isa) continue;
        /* the problem itself (rank 0), else the nearest tuned shape (1), else "any" (2) */
        long long rank = 0, dist = 0;
        if (strcmp(e->problem, problem)) {
            dist = problem_distance(op, e->problem, problem);
            rank = dist >= 0 ? 1 : 2;
            if (dist < 0) dist = 0;
            if (rank == 2 && strcmp(e->problem, LB_PROFILE_ANY)) continue;
        }
        /* neon and the x86 isas never meet on one CPU; among the x86 ones the enum order is the rank */
        long long dt = (long long)e->threads - threads;
        long long score = rank << 58 | dist << 36 | (long long)(e->isa - isa) << 28;
        score |= (dt < 0 ? -2 * dt : 2 * dt + 1);   /* nearest count; of two as near, the fewer */
        if (score < best_score) best_score = score, best = e;
    }
    return best;
}

/* ---- start-up ---- */

static lb_profile_state g_state;

bool lb_verbose(void) {
    const char *v = getenv("LATBENCH_VERBOSE");
    return v && *v && strcmp(v, "0") != 0;
}

bool lb_profile_default_path(const char *slug, char *out, size_t len) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    out[0] = 0;
    /* a relative XDG_CACHE_HOME is invalid (XDG base directory spec) and ignored */
    if (xdg && xdg[0] == '/') n = snprintf(out, len, "%s/latbench/profile-%s.json", xdg, slug);
    else if (home && *home) n = snprintf(out, len, "%s/.cache/latbench/profile-%s.json", home, slug);
    else return false;
    if (n < 0 || (size_t)n >= len) return out[0] = 0, false;
    return true;
}

int lb_profile_startup(const lb_cpu *cpu, int cores) {
    lb_profile_state *s = &g_state;
    lb_profile_free(&s->profile);
    memset(s, 0, sizeof *s);
    const char *env = getenv("LATBENCH_PROFILE");
    const bool verbose = lb_verbose();
    lb_profile_identity here;
    lb_profile_identity_here(&here, cpu, cores);
    s->status = LB_PROFILE_MISSING;
    if (env && !strcmp(env, "off")) {
        s->off = true;
        if (verbose) fprintf(stderr, "latbench: profile: off (LATBENCH_PROFILE=off): the defaults run\n");
        return 0;
    }
    s->from_env = env && *env;
    if (s->from_env) snprintf(s->path, sizeof s->path, "%s", env);
    else if (!lb_profile_default_path(here.slug, s->path, sizeof s->path)) {
        if (verbose) fprintf(stderr, "latbench: profile: no location (neither XDG_CACHE_HOME nor HOME): the defaults run\n");
        return 0;
    }
    s->status = lb_profile_load(s->path, &here, &s->profile, s->why, sizeof s->why);
    switch (s->status) {
    case LB_PROFILE_OK:
        s->applied = true;
        if (s->profile.dropped[0]) fprintf(stderr, "latbench: profile %s: %s\n", s->path, s->profile.dropped);
        if (verbose) fprintf(stderr, "latbench: profile %s: %d entries, applied\n", s->path, s->profile.n);
        return 0;
    case LB_PROFILE_MISSING:
        if (s->from_env) {
            fprintf(stderr, "latbench: profile %s: %s\n", s->path, s->why);
            return 2;
        }
        s->why[0] = 0;
        if (verbose) fprintf(stderr, "latbench: profile: none at %s: the defaults run\n", s->path);
        return 0;
    case LB_PROFILE_FOREIGN:
        fprintf(stderr, "latbench: profile %s: %s\n", s->path, s->why);
        return 0;
    case LB_PROFILE_DAMAGED:
        break;
    }
    fprintf(stderr, "latbench: profile %s: %s%s\n", s->path, s->why, s->from_env ? "" : " (ignored: the defaults run)");
    return s->from_env ? 2 : 0;
}

const lb_profile_state *lb_profile_state_get(void) { return &g_state; }

const lb_profile *lb_profile_active(void) { return g_state.applied ? &g_state.profile : NULL; }
