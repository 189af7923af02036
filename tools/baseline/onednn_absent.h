/* Stand-ins for the part of oneDNN's C API that the benchmark names, for a build without oneDNN
 * (LB_NO_ONEDNN: make ONEDNN=0, the AArch64 cross build).  They let the bench sources compile
 * unchanged: odnn_env_init (onednn_ops.c) then fails with "oneDNN comparisons: not available on
 * this build", r->have_onednn stays false and no baseline is set up, so none of these runs on a
 * measured path; every function that could be reached reports failure or does nothing.
 * Included only through onednn_ops.h. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define LB_HAVE_ONEDNN 0

typedef int64_t dnnl_dim_t;
#define DNNL_MAX_NDIMS 12
typedef dnnl_dim_t dnnl_dims_t[DNNL_MAX_NDIMS];
typedef enum { dnnl_success = 0, dnnl_unimplemented = 3 } dnnl_status_t;
typedef enum { dnnl_data_type_undef = 0, dnnl_f32 = 3 } dnnl_data_type_t;
typedef enum { dnnl_format_tag_undef = 0, dnnl_format_tag_any, dnnl_x, dnnl_nhwc, dnnl_hwio } dnnl_format_tag_t;
typedef struct {
    int ndims;
    dnnl_dims_t dims;
    dnnl_data_type_t data_type;
} dnnl_memory_desc_t;
typedef struct dnnl_absent_handle *dnnl_engine_t, *dnnl_stream_t, *dnnl_memory_t, *dnnl_primitive_t,
    *dnnl_primitive_desc_t;
typedef struct {
    int arg;
    dnnl_memory_t memory;
} dnnl_exec_arg_t;
#define DNNL_MEMORY_ALLOCATE ((void *)(size_t)-1)
enum {
    DNNL_ARG_SRC = 1, DNNL_ARG_DST = 17, DNNL_ARG_WEIGHTS = 33, DNNL_ARG_BIAS = 41, DNNL_ARG_WORKSPACE = 64,
    DNNL_ARG_DIFF_SRC = 129, DNNL_ARG_DIFF_DST = 145, DNNL_ARG_DIFF_WEIGHTS = 161, DNNL_ARG_DIFF_BIAS = 169,
};

typedef enum {
    dnnl_cpu_isa_all = 0, dnnl_cpu_isa_sse41, dnnl_cpu_isa_avx, dnnl_cpu_isa_avx2, dnnl_cpu_isa_avx2_vnni,
    dnnl_cpu_isa_avx512_core, dnnl_cpu_isa_avx512_core_vnni, dnnl_cpu_isa_avx512_core_bf16,
    dnnl_cpu_isa_avx512_core_amx, dnnl_cpu_isa_none = -1,
} dnnl_cpu_isa_t;
enum { DNNL_RUNTIME_NONE = 0, DNNL_RUNTIME_SEQ = 1, DNNL_RUNTIME_OMP = 2, DNNL_RUNTIME_TBB = 4, DNNL_RUNTIME_THREADPOOL = 8 };
typedef struct {
    int major, minor, patch;
    const char *hash;
    unsigned cpu_runtime, gpu_runtime;
} dnnl_version_t;

static inline const dnnl_version_t *dnnl_version(void) {
    static const dnnl_version_t none = {0, 0, 0, "not available on this build", DNNL_RUNTIME_NONE, DNNL_RUNTIME_NONE};
    return &none;
}
static inline dnnl_cpu_isa_t dnnl_get_effective_cpu_isa(void) { return dnnl_cpu_isa_none; }
static inline dnnl_status_t dnnl_set_max_cpu_isa(dnnl_cpu_isa_t isa) { (void)isa; return dnnl_unimplemented; }
static inline dnnl_status_t dnnl_memory_destroy(dnnl_memory_t m) { (void)m; return dnnl_success; }
static inline dnnl_status_t dnnl_primitive_destroy(dnnl_primitive_t p) { (void)p; return dnnl_success; }
static inline dnnl_status_t dnnl_primitive_desc_destroy(dnnl_primitive_desc_t p) { (void)p; return dnnl_success; }
static inline dnnl_status_t dnnl_memory_get_data_handle(dnnl_memory_t m, void **p) {
    (void)m;
    *p = NULL;
    return dnnl_unimplemented;
}
static inline dnnl_status_t dnnl_memory_get_memory_desc(dnnl_memory_t m, const dnnl_memory_desc_t **md) {
    static const dnnl_memory_desc_t none = {0, {0}, dnnl_data_type_undef};
    (void)m;
    *md = &none;
    return dnnl_unimplemented;
}
static inline dnnl_status_t dnnl_memory_desc_init_by_tag(dnnl_memory_desc_t *md, int ndims, const dnnl_dims_t dims,
                                                         dnnl_data_type_t t, dnnl_format_tag_t tag) {
    (void)md, (void)ndims, (void)dims, (void)t, (void)tag;
    return dnnl_unimplemented;
}
static inline int dnnl_memory_desc_equal(const dnnl_memory_desc_t *a, const dnnl_memory_desc_t *b) {
    (void)a, (void)b;
    return 0;
}
