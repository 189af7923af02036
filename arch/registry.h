/* The kernel registry: every variant of every op (from the kernels/<op>/<op>.inc enumerators),
 * and the dispatch choice, made once per process from the CPU and LATBENCH_ISA.
 * The dispatch table and the tuning profile it applies (arch/profile.h) are the only global mutable
 * state in latbench (set once, then read-only).
 */
#pragma once
#include <stdbool.h>
#include "arch/cpu.h"
#include "kernels/conv2d/conv2d.h"
#include "kernels/pool/pool.h"
#include "kernels/gpool/gpool.h"
#include "kernels/act/act.h"
#include "kernels/dense/dense.h"
#include "kernels/loss/loss.h"
#include "kernels/optim/optim.h"
#include "kernels/worm/worm.h"
#include "kernels/chain1x1/chain1x1.h"

/* The most threads any command runs (the --threads options and OMP_NUM_THREADS). */
#define LB_MAX_THREADS 4096

/* All variants compiled into this binary, per op (including ones this CPU cannot run). */
const conv2d_ops *lb_conv2d_variants(int *count);
const pool_ops *lb_pool_variants(int *count);
const gpool_ops *lb_gpool_variants(int *count);
const act_ops *lb_act_variants(int *count);
const dense_ops *lb_dense_variants(int *count);
const loss_ops *lb_loss_variants(int *count);
const optim_ops *lb_optim_variants(int *count);
const worm_ops *lb_worm_variants(int *count);
const chain1x1_ops *lb_chain1x1_variants(int *count);

typedef struct {
    lb_cpu cpu;
    lb_isa cap;            /* the highest ISA allowed (LATBENCH_ISA, else the best the CPU runs) */
    const conv2d_ops *conv2d;
    const pool_ops *pool;
    const gpool_ops *gpool;
    const act_ops *act;
    const dense_ops *dense;
    const loss_ops *loss;
    const optim_ops *optim;
    const worm_ops *worm;
    const chain1x1_ops *chain1x1;   /* fused 1x1 conv + lrelu chains (lib/nn uses it where chosen) */
} lb_dispatch;

/* The process-wide choice.  On a bad LATBENCH_ISA (unknown, or not supported by this CPU) it
 * prints one line naming the problem and exits with status 2. */
const lb_dispatch *lb_dispatch_get(void);

/* Builds a dispatch table for an explicit cap (tests, verify).  Returns false, with a message in
 * err, when the CPU cannot run that ISA. */
bool lb_dispatch_build(lb_dispatch *out, const lb_cpu *cpu, lb_isa cap, char *err, size_t errlen);

/* Whether variant ISA `isa` is runnable here (CPU support) and allowed under `cap`. */
bool lb_isa_usable(const lb_cpu *cpu, lb_isa cap, lb_isa isa);

/* Prints "op: variant" lines for the chosen kernels. */
void lb_dispatch_print(const lb_dispatch *d, void *file);
/* Every compiled variant of every op, one line per op, each marked + (runs on c) or - (does not). */
void lb_variants_print(const lb_cpu *c, void *file);
