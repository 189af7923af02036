/* The ranks of an MPI run (Open MPI; `make MPI=0` builds without): a run that mpirun did not start
 * is one rank and never touches MPI, so it behaves exactly as a build without it.
 * State: MPI itself is per process (MPI_Init once, MPI_Finalize once), so the ranks context is one
 * static struct behind ranks_world(), the one piece of global state of this room, set by ranks_init
 * in main and read-only after it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    int rank, size;  /* this process's rank and the run's rank count (1 without mpirun) */
    /* this rank among the ranks on its node (MPI_Comm_split_type(MPI_COMM_TYPE_SHARED): any MPI-3
     * launcher; 0 of 1 when MPI is not active) */
    int local_rank, local_size;
    bool active;     /* MPI initialized (launched by mpirun with this build's MPI) */
    char host[64];   /* this rank's host name, for messages */
} ranks_ctx;

/* Whether MPI is built in (LB_MPI), and its library's name and version into buf. */
bool ranks_built(char *buf, size_t len);
/* MPI_Init when launched by an MPI launcher (ranks_launcher_size), else a 1-rank context. false with
 * a line in err: a launcher started a build without MPI (each process would be a whole run). */
bool ranks_init(int *argc, char ***argv, char *err, size_t errlen);
/* The rank count a launcher announces in the environment: Open MPI's mpirun (OMPI_COMM_WORLD_SIZE),
 * MPICH's and Intel MPI's Hydra or srun --mpi=pmi2 (PMI_SIZE), srun --mpi=pmix (PMIX_RANK with
 * SLURM_STEP_NUM_TASKS); 0 when none launched this process. */
int ranks_launcher_size(void);
/* The context (ranks_init first; without it: rank 0 of 1). */
const ranks_ctx *ranks_world(void);
/* MPI_Finalize when it was initialized. */
void ranks_finalize(void);
/* One line on stderr naming this rank, its host and what failed, then the whole run ends (MPI_Abort,
 * exit status 1): no rank waits for a failed one. */
_Noreturn void ranks_abort(const char *what, const char *why);
/* Every rank waits for every other. */
void ranks_barrier(void);

/* A job counter on rank 0 that every rank draws from (MPI one-sided fetch-and-add): the next job
 * goes to whichever rank asks first. Collective to open and close. */
typedef struct ranks_counter ranks_counter;
ranks_counter *ranks_counter_open(void);
long ranks_counter_next(ranks_counter *c);
void ranks_counter_close(ranks_counter *c);

/* Each rank's text (NUL-terminated) to rank 0: there, a buffer holding size NUL-terminated texts in
 * rank order (free it); elsewhere NULL. Collective. */
char *ranks_gather_text(const char *text);

/* generate and observe */
/* Each rank's bytes to rank 0: there, *all (free it) holds every rank's bytes in rank order, *total
 * of them; elsewhere *all is NULL.  Collective.  false (on every rank) when a rank's part is over
 * 2 GiB - 1 (MPI's int counts) or memory ran out; one line in err. */
bool ranks_gather_bytes(const void *buf, size_t len, char **all, size_t *total, char *err, size_t errlen);
/* The per-rank log of a multi-rank run: ranks_log_begin sends stderr of every rank but 0 into a
 * temporary file (its progress and log lines; ranks_abort still writes to the real stderr), so only
 * rank 0 shows progress.  ranks_log_end (collective) restores stderr and brings each rank's lines to
 * rank 0, which writes them to path atomically, a section per rank headed "== rank R of N (host H)
 * ==" (rank 0's section says its lines went to stderr); false with one line in err on rank 0 when
 * the file cannot be written.  Both do nothing in a 1-rank run. */
void ranks_log_begin(void);
/* Whether ok on every rank (collective; ok itself in a 1-rank run). */
bool ranks_all_ok(bool ok);
/* Rank 0's v on every rank (collective; v itself in a 1-rank run). */
int ranks_bcast_int(int v);
bool ranks_log_end(const char *path, char *err, size_t errlen);
/* search */
/* Point-to-point messages of a few bytes (a struct of this build: the ranks run the same binary on
 * hosts of one byte order). Without MPI (one rank) there is no other rank: send and recv fail. */
/* len bytes to rank `to` with tag; false when it fails. */
bool ranks_send(int to, int tag, const void *buf, size_t len);
/* Blocks for a message from rank `from` (-1: any) with tag (-1: any) into buf (at most cap bytes);
 * its source and tag into *src and *tagp (either may be NULL); its length, or -1 when it fails. */
long ranks_recv(int from, int tag, void *buf, size_t cap, int *src, int *tagp);
/* Whether a message (any source, any tag) is waiting, without receiving it. */
bool ranks_waiting(void);
