/* latbench info: CPU, ISA features (with OS support), the kernel chosen per op, every variant
 * compiled in and whether this CPU runs it, cores and caches (hwloc). */
#include <hwloc.h>
#include <stdio.h>
#include <string.h>
#include <dnnl.h>
#include "arch/registry.h"
#include "harness/cli/cli.h"

static void print_topology(void) {
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) || hwloc_topology_load(topo)) {
        printf("topology: hwloc could not load the topology\n");
        return;
    }
    int pkgs = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
    int cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    int pus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
    int numa = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
    printf("topology: %d package(s), %d core(s), %d hardware thread(s), %d NUMA node(s)\n", pkgs, cores, pus, numa);
    static const hwloc_obj_type_t caches[] = {HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L3CACHE};
    for (int i = 0; i < 3; i++) {
        int n = hwloc_get_nbobjs_by_type(topo, caches[i]);
        if (n <= 0) continue;
        hwloc_obj_t c = hwloc_get_obj_by_type(topo, caches[i], 0);
        printf("  L%d data cache: %llu KiB x %d (line %u B)\n", i + 1,
               (unsigned long long)c->attr->cache.size / 1024, n, c->attr->cache.linesize);
    }
    hwloc_topology_destroy(topo);
}

int cmd_info(int argc, char **argv) {
    if (argc > 1) {
        fprintf(stderr, "latbench info: unexpected argument '%s'\n", argv[1]);
        return 2;
    }
    const lb_dispatch *d = lb_dispatch_get();
    const lb_cpu *c = &d->cpu;
    printf("cpu: %s (%s)\n", c->model[0] ? c->model : "unknown model", c->vendor);
#if LB_X86
    printf("features: sse2=%d sse4.2=%d avx=%d avx2=%d fma=%d avx512f=%d avx512bw=%d avx512vl=%d avx512dq=%d "
           "avx512_vnni=%d avx512_bf16=%d (OS state: ymm=%d zmm=%d)\n",
           c->sse2, c->sse42, c->avx, c->avx2, c->fma, c->avx512f, c->avx512bw, c->avx512vl, c->avx512dq,
           c->avx512_vnni, c->avx512_bf16, c->os_ymm, c->os_zmm);
#else
    printf("features: asimd=%d sve=%d", c->asimd, c->sve);
    if (c->sve) printf(" (vector length %d bits)", c->sve_bits);
    printf("\n");
#endif
    printf("isa cap: %s\n", lb_isa_name(d->cap));
    printf("selected kernels:\n");
    lb_dispatch_print(d, stdout);
    printf("compiled variants (+ runs here, - does not):\n");
#define LIST(OP)                                                                              \
    do {                                                                                      \
        int n;                                                                                \
        const OP##_ops *v = lb_##OP##_variants(&n);                                           \
        printf("  %-7s", #OP);                                                                \
        for (int i = 0; i < n; i++) printf(" %c%s", lb_cpu_supports(c, v[i].isa) ? '+' : '-', v[i].name); \
        printf("\n");                                                                         \
    } while (0)
    LIST(conv2d);
    LIST(pool);
    LIST(gpool);
    LIST(act);
    LIST(dense);
    LIST(loss);
    LIST(optim);
    LIST(worm);
#undef LIST
    print_topology();
    const dnnl_version_t *v = dnnl_version();
    printf("oneDNN: %d.%d.%d (%s), CPU runtime %s\n", v->major, v->minor, v->patch, v->hash,
           v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : v->cpu_runtime == DNNL_RUNTIME_TBB ? "TBB" : "other");
    printf("compiler: %s\n", __VERSION__);
    return 0;
}
