/* The PyTorch baseline of the training and inference pipelines: tools/bench/torch_pipeline.py
 * --serve as a co-process on a socket pair (its line protocol is described in the script), so that
 * its repetitions alternate with ours block by block and both see the same machine noise.  Python is
 * Debian's /usr/bin/python3 unless LATBENCH_PYTHON says otherwise; the script is found beside the
 * binary or under the working directory unless LATBENCH_TORCH_SCRIPT names it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct {
    bool tried;              /* torch_client_open was called (a training or inference pipeline is wanted) */
    bool ok;                 /* ready for commands */
    pid_t pid;
    int fd;                  /* our end of the socket pair (its stdin and stdout) */
    char buf[4096];          /* received, not yet consumed */
    size_t have;
    char version[64];
    char why[320];           /* why there is no PyTorch baseline (when !ok) */
} torch_client;

/* Starts the script and waits for its "ready" line; on failure t->ok is false and t->why says why. */
void torch_client_open(torch_client *t);
/* Asks the script to quit (killed after ~2 s when hung); t->ok is then false.  Safe to call twice. */
void torch_client_close(torch_client *t);
/* Sets up a job for the model spec_text (train or infer) and returns its seconds per step (0: no
 * baseline; a refused job is reported on stderr). */
double torch_client_job(torch_client *t, bool train, const char *spec_text, int batch, int threads, int h, int w);
/* Runs `steps` steps of the current job; its wall time (0 on failure: t->ok false, t->why set).
 * expect_s sizes the reply's timeout. */
double torch_client_run(torch_client *t, long steps, double expect_s);
