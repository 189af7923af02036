/* The trials of `mpirun -n R latbench search` (search.h), R > 1: the ranks are workers of one study.
 * Rank 0 alone opens the study (no other rank touches SQLite: no shared file system needed for it):
 * it numbers each trial and asks TPE for its point in the study's write transaction, as one rank
 * does, and hands it to whichever worker asks; a worker trains it (seeded by its number, never by
 * rank), sends each epoch's validation loss and reads rank 0's verdict on it (the study's median
 * rule, the value recorded) an epoch later, then its end, which is also its request for the next trial.
 * Rank 0 trains trials too (with 2 ranks on 2 cores an idle rank 0 would waste one): it serves the
 * workers' messages between its own epochs (its on_epoch callback drains them, MPI_Iprobe) and
 * between its trials, with no thread and no MPI thread level.  So a verdict may come up to one of
 * rank 0's epochs late; a worker does not wait for it but reads it at its next epoch (a pruned
 * trial trains one epoch more than on one rank).  A serving thread would share the SQLite handle
 * across threads; this keeps a single thread.  Within --warmup no verdict is asked. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/search/search.h"
#include "tools/mpi/ranks.h"
#include "tools/timing/timing.h"

/* Worker to rank 0: ASK (the first request), EPOCH (a validation loss), DONE (a trial's end and the
 * next request); rank 0 to a worker: TRIAL, STOP (no more trials), VERDICT (go on or prune). */
enum { TAG_ASK = 1, TAG_EPOCH, TAG_DONE, TAG_TRIAL, TAG_STOP, TAG_VERDICT };

typedef struct {
    long number, n_params;
    int epoch, go;
    double value, best, seconds;
    char state[12];
    search_point x;
} search_msg;

/* Rank 0's side of the run. */
typedef struct {
    const search_run *r;
    search_study *st;
    long started, finished; /* trials of this run begun, finished */
    int stopped;            /* workers told that there is no more */
    double t0, best;
    bool budget_said, failed;
    char *err;
    size_t errlen;
} search_hub;

/* LATBENCH_TEST_FAIL_RANK=R (the tests' failing rank): rank R fails in its first trial. */
static void fail_hook(void) {
    const char *hook = getenv("LATBENCH_TEST_FAIL_RANK");
    if (hook && atoi(hook) == ranks_world()->rank) ranks_abort("search", "LATBENCH_TEST_FAIL_RANK: this rank fails in its first trial");
}

static bool hub_fail(search_hub *h) { return h->failed = true, false; }

/* Whether this run starts another trial: --trials and --budget as with one rank. */
static bool can_start(search_hub *h) {
    if (h->started >= h->r->trials) return false;
    if (!(h->r->budget_s > 0 && timing_now() - h->t0 >= h->r->budget_s)) return true;
    if (!h->budget_said && h->r->progress != OPTS_PROGRESS_NONE)
        fprintf(stderr, "search: --budget spent after %ld trials\n", h->started);
    h->budget_said = true;
    return false;
}

/* A new trial of the study into *c (numbered, its point drawn, recorded as running). */
static bool begin(search_hub *h, search_trial *c) {
    *c = (search_trial){.r = h->r, .st = h->st};
    if (!search_study_begin(h->st, search_trial_propose, c, &c->number, h->err, h->errlen)) return hub_fail(h);
    h->started++;
    return true;
}

/* A trial's end into the study, and its progress line. */
static bool finish(search_hub *h, long number, const char *state, double value, double seconds, long n_params) {
    if (!search_study_finish(h->st, number, state, value, seconds, n_params, h->err, h->errlen)) return hub_fail(h);
    if (!strcmp(state, "complete") && value < h->best) h->best = value;
    search_progress_line(h->r, ++h->finished, number, state, value, h->best, timing_now() - h->t0);
    return true;
}

/* A worker's request: the next trial, or STOP. */
static bool hand_out(search_hub *h, int to) {
    search_msg m = {0};
    if (!can_start(h)) return h->stopped++, ranks_send(to, TAG_STOP, &m, sizeof m) || hub_fail(h);
    search_trial c;
    if (!begin(h, &c)) return false;
    m.number = c.number, m.x = c.x;
    if (!ranks_send(to, TAG_TRIAL, &m, sizeof m)) return snprintf(h->err, h->errlen, "cannot send to rank %d", to), hub_fail(h);
    return true;
}

/* One worker message (blocking until there is one). */
static bool serve(search_hub *h) {
    search_msg m;
    int src, tag;
    if (ranks_recv(-1, -1, &m, sizeof m, &src, &tag) != (long)sizeof m)
        return snprintf(h->err, h->errlen, "a message from another rank failed"), hub_fail(h);
    if (tag == TAG_EPOCH) {
        search_trial t = {.r = h->r, .st = h->st, .number = m.number, .best = (float)m.best};
        search_msg v = {.go = search_trial_median_rule(&t, m.epoch, (float)m.value)};
        if (t.store_failed) return snprintf(h->err, h->errlen, "study %s: cannot record a value", h->r->study), hub_fail(h);
        return !m.go || ranks_send(src, TAG_VERDICT, &v, sizeof v) || hub_fail(h); /* go: the worker asked for an answer */
    }
    m.state[sizeof m.state - 1] = 0;
    if (tag == TAG_DONE && !finish(h, m.number, m.state, m.value, m.seconds, m.n_params)) return false;
    return hand_out(h, src);
}

/* Rank 0's verdict on its own trial: the workers' waiting messages first. */
static bool hub_verdict(search_trial *c, int epoch, float val) {
    search_hub *h = c->link;
    while (!h->failed && ranks_waiting()) serve(h);
    return !h->failed && search_trial_median_rule(c, epoch, val);
}

static bool run_hub(const search_run *r, search_study *st, const search_data *d, char *err, size_t errlen) {
    search_hub h = {.r = r, .st = st, .t0 = timing_now(), .best = INFINITY, .err = err, .errlen = errlen};
    const int workers = ranks_world()->size - 1;
    while (!h.failed) {
        while (!h.failed && ranks_waiting()) serve(&h);
        if (!h.failed && can_start(&h)) {
            search_trial c;
            if (!begin(&h, &c)) break;
            if (h.started == 1) fail_hook();
            c.verdict = hub_verdict, c.link = &h;
            double value, seconds;
            long n_params;
            const char *state;
            search_trial_train(&c, d, &state, &value, &seconds, &n_params);
            if (h.failed) break;
            if (c.store_failed) return snprintf(err, errlen, "study %s: cannot record a value", r->study), false;
            finish(&h, c.number, state, value, seconds, n_params);
        } else if (!h.failed && h.stopped < workers) serve(&h);
        else break;
    }
    return !h.failed;
}

/* A worker's verdict, one epoch late: this epoch's loss goes to rank 0 and training goes on; rank
 * 0's answer to the previous epoch's loss (sent an epoch ago: rank 0 has mostly answered by now)
 * decides.  Waiting for this epoch's own answer would idle the worker for half of one of rank 0's
 * epochs every epoch; the price is that a pruned trial trains one epoch more.  link: whether an
 * answer is pending. */
static bool ask_verdict(search_trial *c, int epoch, float val) {
    bool *pending = c->link;
    search_msg m = {0};
    if (*pending && ranks_recv(0, TAG_VERDICT, &m, sizeof m, NULL, NULL) != (long)sizeof m)
        ranks_abort("search", "no verdict from rank 0");
    if (*pending && !m.go) return *pending = false, false;
    /* within --warmup the median rule always says go on: the loss is only recorded, no answer asked */
    *pending = epoch > c->r->warmup;
    m = (search_msg){.number = c->number, .epoch = epoch, .go = *pending, .value = val, .best = c->best};
    if (!ranks_send(0, TAG_EPOCH, &m, sizeof m)) ranks_abort("search", "cannot send to rank 0");
    return true;
}

static void run_worker(const search_run *r, const search_data *d) {
    search_msg m = {0};
    int tag = TAG_ASK;
    for (bool first = true;; first = false) {
        if (!ranks_send(0, tag, &m, sizeof m) || ranks_recv(0, -1, &m, sizeof m, NULL, &tag) != (long)sizeof m)
            ranks_abort("search", "no answer from rank 0");
        if (tag != TAG_TRIAL) return;
        if (first) fail_hook();
        bool pending = false;
        search_trial c = {.r = r, .number = m.number, .x = m.x, .verdict = ask_verdict, .link = &pending};
        const char *state;
        search_trial_train(&c, d, &state, &m.value, &m.seconds, &m.n_params);
        search_msg v; /* the last epoch's answer, if one was asked: no longer needed */
        if (pending && ranks_recv(0, TAG_VERDICT, &v, sizeof v, NULL, NULL) != (long)sizeof v)
            ranks_abort("search", "no verdict from rank 0");
        snprintf(m.state, sizeof m.state, "%s", state);
        tag = TAG_DONE;
    }
}

bool search_run_ranks(const search_run *r, search_study *st, const search_data *d, char *err, size_t errlen) {
    if (ranks_world()->rank == 0) return run_hub(r, st, d, err, errlen);
    run_worker(r, d);
    return true;
}
