/* The tuning profile: which kernel variant (and, later, which parameters) measured fastest for a
 * problem on this CPU and this build, in the manner of FFTW's wisdom.  One JSON file (schema in the
 * README, "Tuning profile"); `latbench tune` will write it, every command loads it at start-up and
 * dispatch applies it.  A profile made on another CPU or by another build is not applied; a damaged
 * one is refused with one line naming the file and the entry, never half applied.
 *
 * Locations: LATBENCH_PROFILE=FILE (an error in FILE is fatal: exit 2) or LATBENCH_PROFILE=off;
 * else $XDG_CACHE_HOME/latbench/profile-<slug>.json, else ~/.cache/latbench/profile-<slug>.json
 * (missing: normal; damaged: a warning and the defaults).  <slug> is the results/<slug>/ name
 * (lb_machine_slug).  Reference machines commit theirs as results/<slug>/profile.json.
 *
 * The loaded profile is the one piece of global state besides the dispatch table: set once by
 * lb_profile_startup before the first lb_dispatch_get, then read-only. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "arch/cpu.h"
#include "kernels/pass.h"

#define LB_PROFILE_SCHEMA "latbench-profile"
#define LB_PROFILE_VERSION 2
#define LB_PROFILE_MAX_BYTES (1 << 20)   /* a larger file is refused unread */
#define LB_PROFILE_MAX_ENTRIES 4096
#define LB_PROFILE_ANY "any"             /* an entry's problem matching every problem of its op */

/* What a profile is keyed by: the CPU and the build's kernel-relevant identity (the hashes of the
 * kernel sources, the compiler, the flags), so a rebuild at a commit that touches no kernel keeps
 * it.  All fields but commit must be equal for it to apply.  Version 1 files (keyed by the commit)
 * are refused as FOREIGN with a line saying to re-tune: their kernels cannot be known. */
typedef struct {
    char slug[96];                       /* lb_machine_slug: brand words, uarch, cores */
    char vendor[16];                     /* cpuid vendor ("AuthenticAMD"), "arm64" */
    int family, model, stepping;         /* lb_cpu family / model_id / stepping */
    char uarch[16];                      /* "zen4" or "" */
    lb_isa isa_cap;                      /* the highest ISA the CPU runs */
    int cores;                           /* physical cores (hwloc) */
    long long l1d, l2, l3;               /* cache sizes in bytes from cpuid (0: not reported) */
    char kernels[512];                   /* lb_build_kernel_id: hashes of the kernel sources */
    char compiler[128], flags[1024];     /* arch/build_info.h */
    char commit[64];                     /* the build's commit: for information, not compared */
} lb_profile_identity;

/* One measured choice, keyed by (op, pass, problem, isa, threads); isa is the cap the variants
 * were measured under (the winner among the variants at or below it). */
typedef struct {
    char op[16];                         /* "conv2d", ..., "worm", "chain1x1" (the registry's ops) */
    lb_pass pass;
    char problem[128];                   /* the op's problem descriptor, or "any"; the worm's:
                                            "nt<NT>_nx<NX>_mu<M>_chains<C>" (%g), e.g.
                                            "nt60_nx4_mu1_chains2": the lattice, mu and the chains
                                            filling a SIMD block set its speed (2 chains of 60x4 at
                                            mu 1: scalar 2.2x faster than avx512 on a Zen 5);
                                            chain1x1's: kernels/chain1x1/chain1x1_problem.h, fwd only */
    lb_isa isa;
    int threads;                         /* >= 1 */
    char variant[16];                    /* a variant of op in its kernels/<op>/<op>.inc; chain1x1
                                            also "unfused" (LB_CHAIN1X1_UNFUSED: layer by layer) */
    lb_params params;                    /* the variant's tuning parameters ("params" in the file,
                                            by name from the variant's lb_param_info table) */
    double time_s, default_time_s;       /* seconds per call, chosen variant and dispatch default
                                            (latbench tune: lower quartiles of interleaved repetitions) */
    double speedup, spread;              /* default_time_s / time_s; relative spread of time_s (>= 0) */
    bool cold;                           /* "timing": "cold" (the operands out of cache at each timed
                                            call, latbench tune's default for conv2d) or "warm"
                                            (the same buffers call after call; absent: warm) */
} lb_profile_entry;

typedef struct {
    lb_profile_identity id;
    int n;
    lb_profile_entry *entries;           /* malloc'd; lb_profile_free */
    char dropped[256];                   /* lb_profile_load: the one line saying which ops' entries
                                            were dropped as their kernels changed ("" for none);
                                            not written by lb_profile_save */
} lb_profile;

typedef enum {
    LB_PROFILE_OK = 0,
    LB_PROFILE_MISSING,   /* no such file */
    LB_PROFILE_DAMAGED,   /* unreadable, not the schema, or an entry out of range: err names it */
    LB_PROFILE_FOREIGN,   /* another CPU or build: err says which and why */
} lb_profile_status;

/* This machine's slug (lb_machine_slug of its brand string, microarchitecture and cores); where the
 * brand words hold no model number and the microarchitecture is unknown ("Intel(R) Xeon(R)
 * Processor", as KVM guests show), x86's family and model stand in: "intel-xeon-f6m167-2c". */
void lb_machine_slug_of(const lb_cpu *cpu, int cores, char *out, size_t len);

/* The identity of this CPU (cores: physical cores, as tools/machine counts them) and this build. */
void lb_profile_identity_here(lb_profile_identity *id, const lb_cpu *cpu, int cores);
/* Whether a profile made on `made` applies `here`: the same machine, compiler, flags and kernel
 * sources, except that a difference confined to per-op kernel groups (`kernels/<op>=`) keeps the
 * profile; those ops go to ops ("conv2d worm", space-separated; "" for none), and their entries are
 * not valid.  A changed shared group (`kernels=`, `arch=`), compiler, flags or CPU field refuses it
 * whole: false, why in why ("made on <slug> at commit X, this is <slug> at Y: not applied (<field>
 * differs: ...)"; for the kernels: "kernels differs: kernels/conv2d, arch changed; re-run latbench tune"). */
bool lb_profile_identity_usable(const lb_profile_identity *made, const lb_profile_identity *here, char *ops,
                                size_t opslen, char *why, size_t len);
/* Whether op is a word of the space-separated list ops; the one line naming which of ops (their
 * kernels changed) had entries in the file (had): "conv2d entries not applied: kernels/conv2d
 * changed since the profile; re-run latbench tune" ("" when none had). */
bool lb_profile_op_listed(const char *ops, const char *op);
void lb_profile_say_dropped(char *out, size_t len, const char *ops, const char *had);

/* Reads and strictly checks path: schema and version, every field's type and range, known op /
 * pass / isa / variant names, a variant runnable on this CPU at or below its entry's isa, "params"
 * naming only parameters of the variant's table with values 0 or in range (a variant without a
 * table: none), no duplicate keys or entries, no unknown fields.
 * here: the identity to match (NULL: none), by lb_profile_identity_usable: the entries of ops whose
 * kernel group changed are dropped (out->dropped says "conv2d entries not applied: kernels/conv2d
 * changed since the profile; re-run latbench tune"), the others kept; out->id stays the file's
 * (a writer extending it sets here's, under which the kept entries are as valid).  On anything but OK, out holds nothing and err says
 * why in one line, "entries[3].variant: 'avx9' is not a worm variant" (without the path). */
lb_profile_status lb_profile_load(const char *path, const lb_profile_identity *here, lb_profile *out, char *err,
                                  size_t errlen);
/* Writes p atomically (a temporary beside path, fsync, rename, fsync of the directory).  The few
 * lines live here rather than in lib/io/atomic.h, a floor above arch: the lowest floor that holds
 * the profile can also write it, and there is no signal cleanup to share for one small file. */
bool lb_profile_save(const char *path, const lb_profile *p, char *err, size_t errlen);
void lb_profile_free(lb_profile *p);

/* The entry for a problem, or NULL (the default dispatch then runs).  The rule for untuned shapes,
 * the contract the tuner fills in: the same op and pass; the problem itself, else the nearest tuned
 * shape of that op (the worm: the same lattice, then the nearest chain count by octaves, 10 per
 * octave, plus 1 per unit of mu; conv2d: the same kh, kw, sh, sw, bias, cin and cout, then the
 * nearest batch and lattice, 10 per octave of the batch ratio plus 10 per octave of the ratio of
 * lattice sites h*w, plus 1 per octave of the ratio of h; chain1x1: the same channels and bias
 * flags, then 10 per octave of the ratio of the site counts; the other ops: none yet), else an entry
 * for "any"; the isa
 * itself, else the nearest higher isa (its winner, if at or below the cap, is the winner among
 * fewer variants too; dispatch drops one above the cap); the threads itself, else the nearest
 * count (ties: the fewer).  Problem closeness ranks first, then isa, then threads. */
const lb_profile_entry *lb_profile_choice(const lb_profile *p, const char *op, lb_pass pass, const char *problem,
                                          lb_isa isa, int threads);

/* ---- start-up (tools/cli/main.c, before the first lb_dispatch_get) ---- */
typedef struct {
    char path[4096];          /* the file looked at ("" for LATBENCH_PROFILE=off or no location) */
    bool from_env;            /* LATBENCH_PROFILE named it */
    bool off;                 /* LATBENCH_PROFILE=off */
    lb_profile_status status;
    bool applied;             /* status OK: dispatch uses it */
    char why[1400];           /* the reason it is not applied (status DAMAGED or FOREIGN) */
    lb_profile profile;       /* when applied */
} lb_profile_state;

/* $XDG_CACHE_HOME/latbench/profile-<slug>.json, else ~/.cache/...; false (out "") without either. */
bool lb_profile_default_path(const char *slug, char *out, size_t len);
/* Finds and loads this CPU's profile (cores as for lb_profile_identity_here).  Returns 0, or 2 after
 * one line on stderr when LATBENCH_PROFILE=FILE is missing or damaged.  At the default location a
 * missing file is silent (LATBENCH_VERBOSE=1 says so), a damaged one a one-line warning; a foreign
 * profile gets one line why; the defaults run in those cases. */
int lb_profile_startup(const lb_cpu *cpu, int cores);
/* What start-up found (all zero before it ran). */
const lb_profile_state *lb_profile_state_get(void);
/* The applied profile, or NULL. */
const lb_profile *lb_profile_active(void);
/* Whether LATBENCH_VERBOSE asks for the dispatch and profile lines. */
bool lb_verbose(void);
