/* Subcommands of the latbench CLI (docs/design.md §6).  Each returns the process exit status. */
#pragma once
#include "tools/bench/bench.h"      /* cmd_bench */
#include "tools/track/compare.h"    /* cmd_compare */
#include "tools/track/gate.h"       /* cmd_gate */
#include "tools/search/search.h"    /* cmd_search */
#include "tools/verify/verify.h"    /* cmd_verify */
int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_observe(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_experiment(int argc, char **argv);
int cmd_report(int argc, char **argv);
