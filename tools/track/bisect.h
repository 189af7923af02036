/* `latbench bisect GOOD BAD`: the first commit of GOOD..BAD (first parents) whose gated speed
 * ratios moved beyond a threshold relative to GOOD, by binary search.  Each tested commit is built
 * in one temporary git worktree (moved between commits with `git checkout`, so make rebuilds only
 * what changed) and measured by running its own `latbench gate --json` several times; the verdict
 * per problem is the one statistical method of tools/stats (Hodges-Lehmann ratio of the commit's
 * per-run gate ratios over GOOD's, exact Mann-Whitney bounds), with compare's rule.  The worktree is
 * removed at the end, on an error and on SIGINT/SIGTERM/SIGHUP. */
#pragma once

/* The process exit status: 0 a commit moved (printed with the evidence), 1 nothing moved beyond the
 * threshold, 2 usage or input error (bad refs, GOOD not an ancestor of BAD, a build that fails or
 * dirties the tree, a measurement that fails). */
int cmd_bisect(int argc, char **argv);
