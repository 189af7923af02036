/* latbench info: CPU, ISA features (with OS support), the kernel chosen per op, every variant
 * compiled in and whether this CPU runs it, cores and caches (hwloc), the pinning benchmarks use,
 * the counter backends (which perf events open here, why the others do not, likwid), and the tuning
 * profile (its file, whether it applies and why not, entries per op, the rule for untuned shapes). */
#include <stdio.h>
#include <string.h>
#ifndef LB_NO_ONEDNN /* neon-build: oneDNN is optional (make ONEDNN=0, the AArch64 cross build) */
#include <dnnl.h>
#endif
#include "arch/profile.h"
#include "arch/registry.h"
#include "arch/conv2d_problem.h"
#include "lib/nn/conv_choice.h"
#include "tools/problems/netproblems.h"
#include "tools/machine/counters.h"
#include "tools/machine/topology.h"
#include "tools/cli/cli.h"
#include "tools/mpi/ranks.h"
#include "tools/opts/opts.h"

static void print_topology(const machine_topology *t) {
    printf("topology: %d package(s), %d core(s), %d hardware thread(s), %d NUMA node(s), SMT %d; usable here: %d core(s), "
           "%d PU(s) (%s)\n",
           t->packages, t->cores, t->pus, t->numa_nodes, t->smt, t->allowed_cores, t->allowed_pus, t->source);
    for (int i = 0; i < 3; i++) {
        const machine_cache_info *c = &t->cache[i];
        /* some VMs expose no cache information (an arm64 guest without sysfs cache entries) */
        if (!c->size) {
            printf("  L%d %scache: not reported on this system (hwloc found no such cache)\n", i + 1, i == 0 ? "data " : "");
            continue;
        }
        printf("  L%d %scache: %llu KiB x %d (line %u B, shared by %d core%s)\n", c->level, i == 0 ? "data " : "",
               c->size / 1024, c->count, c->linesize, c->cores_sharing, c->cores_sharing == 1 ? "" : "s");
    }
    char desc[1024];
    machine_pin_plan(t, t->allowed_cores, MACHINE_PIN_DEFAULT, desc, sizeof desc);
    printf("pinning (benchmarks, policy \"%s\", %d threads): %s\n", machine_pin_policy_name(MACHINE_PIN_DEFAULT), t->allowed_cores,
           desc);
}

/* This rank's cores: its slice of the node when several ranks share it (topology.h). */
static void print_rank_slice(const machine_topology *t, const ranks_ctx *rk) {
    printf("rank slice: rank %d of %d, ", rk->rank, rk->size);
    if (t->slice[0]) printf("%s\n", t->slice);   /* "local rank r of L: cores a-b of n, PU ..." */
    else {
        printf("local rank %d of %d on this node: ", t->local_rank, t->local_size);
        printf("every allowed core (PU");
        for (int i = 0; i < t->n_core_pu; i++) printf("%s%d", i ? "," : " ", t->core_pu[i]);
        printf(")\n");
    }
}

/* Which perf events open here and why the others do not, and the backend benchmarks get. */
static void print_counters(void) {
    machine_counters_probe_result p;
    machine_counters_probe(&p);
    if (p.paranoid > -100) printf("counters: perf_event_paranoid=%d\n", p.paranoid);
    else printf("counters: perf_event_paranoid unreadable\n");
    for (int hw = 1; hw >= 0; hw--) {
        int first = hw ? 0 : MACHINE_CTR_FIRST_SW, end = hw ? MACHINE_CTR_FIRST_SW : MACHINE_CTR_COUNT;
        bool same_err = true;   /* one line when every event failed alike (a VM without a PMU) */
        for (int id = first; id < end; id++) same_err &= !p.opened[id] && p.err[id] == p.err[first];
        char why[256];
        printf("  %s events:", hw ? "hardware" : "software");
        if (same_err) {
            machine_counters_errno_text(p.err[first], p.paranoid, why, sizeof why);
            printf(" none open (%s)\n", why);
            continue;
        }
        for (int id = first; id < end; id++) {
            if (p.opened[id]) printf(" %s%s", machine_counter_name((machine_counter_id)id), p.user_only[id] ? " (user space only)" : "");
            else {
                machine_counters_errno_text(p.err[id], p.paranoid, why, sizeof why);
                printf(" %s: no (%s)", machine_counter_name((machine_counter_id)id), why);
            }
            printf("%s", id + 1 < end ? "," : "\n");
        }
    }
    machine_counters c;
    machine_counters_open(&c, 1, MACHINE_COUNTERS_AUTO);
    printf("  backend for benchmarks: %s", machine_counter_backend_name(c.backend));
    for (int m = 0; m < c.n_hw + c.n_sw; m++)
        printf("%s%s", m ? ", " : " (", machine_counter_name(m < c.n_hw ? c.hw_ids[m] : c.sw_ids[m - c.n_hw]));
    printf("%s\n", c.n_hw + c.n_sw ? ")" : "");
    if (c.reason[0]) printf("  reason: %s\n", c.reason);
    if (c.note[0]) printf("  note: %s\n", c.note);
    machine_counters_close(&c);
    printf("  likwid marker API: %s\n", MACHINE_LIKWID_BUILT ? "built in (run under likwid-perfctr -m)" : "not built in (make LIKWID=1)");
}

/* The training shape info reports coverage at: latbench tune's (the lattice 60x4 for task1-*, 8x8
 * for the others; batch 128), one thread. */
#define INFO_COVER_BATCH 128

/* Per conv layer of every preset at its training shape, the variant each pass runs under p and
 * how (tuned exactly / by nearest shape / default), then the totals. */
static void print_coverage(const lb_profile *p) {
    const lb_dispatch *d = lb_dispatch_get();
    int npre, count[3] = {0, 0, 0};
    const char *const *names = netspec_preset_names(&npre);
    printf("  coverage of the presets' conv layers at their training shape (lattice 60x4 for task1-*, 8x8 for the others; "
           "batch %d; 1 thread):\n", INFO_COVER_BATCH);
    for (int k = 0; k < npre; k++) {
        prob_net_problem np[PROB_NET_MAX_PROBLEMS];
        char err[256], desc[128];
        const bool task1 = !strncmp(names[k], "task1", 5);
        const int n = prob_net_problems(names[k], task1 ? 60 : 8, task1 ? 4 : 8, INFO_COVER_BATCH, np, err, sizeof err);
        if (n < 0) {
            printf("    %s: %s\n", names[k], err);
            continue;
        }
        for (int i = 0; i < n; i++) {
            if (np[i].prob.kind != PROB_CONV2D) continue;
            lb_conv2d_problem_str(&np[i].prob.u.conv, desc, sizeof desc);
            printf("    %s %s:", np[i].label, desc);
            for (int pass = 0; pass < LB_N_PASSES; pass++) {
                nn_conv_choice c = nn_conv_choose(p, d, &np[i].prob.u.conv, (lb_pass)pass, 1);
                count[c.how]++;
                printf(" %s %s (%s%s%s)%s", lb_pass_name((lb_pass)pass), c.ops->name, nn_tuned_name(c.how),
                       c.how == NN_TUNED_NEAREST ? " " : "", c.how == NN_TUNED_NEAREST ? c.entry->problem : "",
                       pass + 1 < LB_N_PASSES ? "," : "\n");
            }
        }
    }
    printf("  coverage: %d layer passes tuned exactly, %d by nearest shape, %d default\n", count[NN_TUNED_EXACT],
           count[NN_TUNED_NEAREST], count[NN_TUNED_DEFAULT]);
}

static void print_profile(void) {
    const lb_profile_state *s = lb_profile_state_get();
    if (s->off) {
        printf("tuning profile: off (LATBENCH_PROFILE=off): the defaults run\n");
        return;
    }
    if (!s->path[0]) {
        printf("tuning profile: no location (neither XDG_CACHE_HOME nor HOME): the defaults run\n");
        return;
    }
    printf("tuning profile: %s%s\n", s->path, s->from_env ? " (LATBENCH_PROFILE)" : "");
    if (!s->applied) {
        printf("  %s: the defaults run\n", s->status == LB_PROFILE_MISSING ? "none there" : s->why);
        return;
    }
    const lb_profile *p = &s->profile;
    printf("  made on %s at commit %s: matches this machine and build, applied\n", p->id.slug, p->id.commit);
    if (p->dropped[0]) printf("  %s\n", p->dropped);
    static const char *const ops[] = {"conv2d", "pool", "gpool", "act", "dense", "loss", "optim", "worm", "chain1x1"};
    printf("  entries: %d (", p->n);
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        int n = 0;
        for (int k = 0; k < p->n; k++) n += !strcmp(p->entries[k].op, ops[i]);
        printf("%s%s %d", i ? ", " : "", ops[i], n);
    }
    printf(")\n  in use: worm, per problem; conv2d, per conv layer and pass of a model (at its batch and thread count); "
           "chain1x1, per 1x1 chain of an inference model (at its batch and thread count); the other ops run the ISA default\n");
    printf("  untuned shapes: the nearest tuned shape of the same op and pass (the worm: the same lattice, the nearest "
           "chain count, then mu; conv2d: the same kernel, stride, bias and channels, the nearest batch and lattice "
           "sites by octaves; chain1x1: the same channels and bias flags, the nearest site count; else an entry for problem \"any\"), the nearest higher isa, the nearest thread count; "
           "else the default\n");
    print_coverage(p);
}

int cmd_info(int argc, char **argv) {
    opts_parser p;
    opts_init(&p, "info", argc, argv, NULL, NULL, false);
    for (int c; (c = opts_next(&p)) != OPTS_END;) {
        if (c == OPTS_ERR) return 2;
        printf("usage: latbench info\n"
               "  The CPU and its ISA features, the kernel variant each op runs (and why), the compiled\n"
               "  variants, the topology and pinning, the counter backends and the tuning profile.\n");
        return 0;
    }
    if (opts_first_operand(&p) < argc)
        return opts_fail(&p, "unexpected argument '%s' (latbench info --help)", argv[opts_first_operand(&p)]);
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
    lb_variants_print(c, stdout);
    machine_topology topo;
    machine_topology_detect(&topo);
    print_topology(&topo);
    print_counters();
#ifndef LB_NO_ONEDNN /* neon-build */
    const dnnl_version_t *v = dnnl_version();
    printf("oneDNN: %d.%d.%d (%s), CPU runtime %s\n", v->major, v->minor, v->patch, v->hash,
           v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : v->cpu_runtime == DNNL_RUNTIME_TBB ? "TBB" : "other");
#else
    printf("oneDNN: not available on this build (built without oneDNN)\n");
#endif
    char mpi[256];
    const ranks_ctx *rk = ranks_world();
    const bool built = ranks_built(mpi, sizeof mpi);
    printf("MPI: %s%s; this run: %d rank(s)", built ? "built in, " : "", mpi, rk->size);
    if (rk->size > 1) printf(", this is rank %d on %s", rk->rank, rk->host);
    printf("\n");
    print_rank_slice(&topo, rk);
    printf("compiler: %s\n", __VERSION__);
    print_profile();
    return 0;
}
