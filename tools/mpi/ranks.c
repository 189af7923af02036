/* The ranks of an MPI run (tools/mpi/ranks.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tools/mpi/ranks.h"
#include "lib/io/outdir.h"
#ifdef LB_MPI
#include <mpi.h>
#endif

static ranks_ctx world = {.rank = 0, .size = 1, .local_rank = 0, .local_size = 1, .host = "?"};
/* ranks_log_begin: the real stderr (a dup of fd 2) and the rank's log file while fd 2 is the log */
static int real_stderr = -1;
static FILE *rank_log;

const ranks_ctx *ranks_world(void) { return &world; }

bool ranks_built(char *buf, size_t len) {
#ifdef LB_MPI
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int n = 0;
    MPI_Get_library_version(v, &n);
    v[strcspn(v, ",\n")] = 0; /* "Open MPI v4.1.4, package: ..." */
    snprintf(buf, len, "%s", v);
    return true;
#else
    snprintf(buf, len, "not built in (make MPI=0, or no mpicc when built)");
    return false;
#endif
}

int ranks_launcher_size(void) {
    const char *n = getenv("OMPI_COMM_WORLD_SIZE");
    if (!n) n = getenv("PMI_SIZE");
    if (!n && getenv("PMIX_RANK")) n = getenv("SLURM_STEP_NUM_TASKS");
    if (!n) return 0;
    const int v = atoi(n);
    return v > 0 ? v : 1;
}

bool ranks_init(int *argc, char ***argv, char *err, size_t errlen) {
    const int n = ranks_launcher_size();
    if (gethostname(world.host, sizeof world.host) != 0) snprintf(world.host, sizeof world.host, "?");
    world.host[sizeof world.host - 1] = 0;
    if (!n) return true;
#ifdef LB_MPI
    if (MPI_Init(argc, argv) != MPI_SUCCESS) return snprintf(err, errlen, "MPI_Init failed"), false;
    MPI_Comm_rank(MPI_COMM_WORLD, &world.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world.size);
    /* the ranks sharing this node, from MPI itself (MPI-3): no launcher's environment variables */
    MPI_Comm node;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
        MPI_Comm_rank(node, &world.local_rank);
        MPI_Comm_size(node, &world.local_size);
        MPI_Comm_free(&node);
    }
    world.active = true;
    return true;
#else
    if (n <= 1) return true;
    snprintf(err, errlen, "started by an MPI launcher with %d ranks, but this latbench is built without MPI (make MPI=0 "
             "or no mpicc): each rank would be a whole run; rebuild with Open MPI or run it without mpirun", n);
    return false;
#endif
}

void ranks_finalize(void) {
#ifdef LB_MPI
    if (world.active) MPI_Finalize();
#endif
    world.active = false;
}

_Noreturn void ranks_abort(const char *what, const char *why) {
    fflush(stderr);
    if (real_stderr >= 0) dup2(real_stderr, 2); /* the line goes where the user sees it, not to the log */
    fprintf(stderr, "latbench: %s failed on rank %d of %d (host %s): %s\n", what, world.rank, world.size, world.host, why);
    fflush(stderr);
#ifdef LB_MPI
    if (world.active) MPI_Abort(MPI_COMM_WORLD, 1);
#endif
    exit(1);
}

void ranks_barrier(void) {
#ifdef LB_MPI
    if (world.active) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

struct ranks_counter {
    long local; /* the count of a run without MPI */
#ifdef LB_MPI
    MPI_Win win;
    long *base;
#endif
};

ranks_counter *ranks_counter_open(void) {
    ranks_counter *c = calloc(1, sizeof *c);
    if (!c) return NULL;
#ifdef LB_MPI
    if (world.active) {
        MPI_Win_allocate(world.rank == 0 ? (MPI_Aint)sizeof(long) : 0, sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD,
                         &c->base, &c->win);
        if (world.rank == 0) {
            MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, c->win);
            *c->base = 0;
            MPI_Win_unlock(0, c->win);
        }
        MPI_Barrier(MPI_COMM_WORLD);
    }
#endif
    return c;
}

long ranks_counter_next(ranks_counter *c) {
#ifdef LB_MPI
    if (world.active) {
        const long one = 1;
        long got = 0;
        MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, c->win);
        MPI_Fetch_and_op(&one, &got, MPI_LONG, 0, 0, MPI_SUM, c->win);
        MPI_Win_unlock(0, c->win);
        return got;
    }
#endif
    return c->local++;
}

void ranks_counter_close(ranks_counter *c) {
    if (!c) return;
#ifdef LB_MPI
    if (world.active) MPI_Win_free(&c->win);
#endif
    free(c);
}

char *ranks_gather_text(const char *text) {
    const int len = (int)strlen(text) + 1;
#ifdef LB_MPI
    if (world.active) {
        int *lens = world.rank == 0 ? calloc((size_t)world.size, sizeof(int)) : NULL;
        int *offs = world.rank == 0 ? calloc((size_t)world.size, sizeof(int)) : NULL;
        MPI_Gather(&len, 1, MPI_INT, lens, 1, MPI_INT, 0, MPI_COMM_WORLD);
        char *buf = NULL;
        if (world.rank == 0) {
            long total = 0;
            for (int r = 0; r < world.size; r++) offs[r] = (int)total, total += lens[r];
            buf = malloc((size_t)total);
        }
        MPI_Gatherv(text, len, MPI_CHAR, buf, lens, offs, MPI_CHAR, 0, MPI_COMM_WORLD);
        free(lens), free(offs);
        return buf;
    }
#endif
    char *buf = malloc((size_t)len);
    if (buf) memcpy(buf, text, (size_t)len);
    return buf;
}

/* generate and observe */

bool ranks_gather_bytes(const void *buf, size_t len, char **all, size_t *total, char *err, size_t errlen) {
    *all = NULL, *total = 0;
#ifdef LB_MPI
    if (world.active) {
        int mine = len <= 0x7fffffff ? (int)len : -1, worst = 0;
        MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        if (worst < 0) return snprintf(err, errlen, "a rank's part is over 2 GiB (MPI's counts): use fewer configurations"), false;
        int *lens = world.rank == 0 ? calloc((size_t)world.size, sizeof(int)) : NULL;
        int *offs = world.rank == 0 ? calloc((size_t)world.size, sizeof(int)) : NULL;
        MPI_Gather(&mine, 1, MPI_INT, lens, 1, MPI_INT, 0, MPI_COMM_WORLD);
        int good = 1;
        if (world.rank == 0) {
            size_t t = 0;
            for (int r = 0; lens && r < world.size; r++) offs[r] = (int)t, t += (size_t)lens[r];
            good = lens && offs && t <= 0x7fffffff && (*all = malloc(t ? t : 1)) != NULL;
            *total = t;
        }
        MPI_Bcast(&good, 1, MPI_INT, 0, MPI_COMM_WORLD);
        if (good) MPI_Gatherv(buf, mine, MPI_BYTE, *all, lens, offs, MPI_BYTE, 0, MPI_COMM_WORLD);
        free(lens), free(offs);
        if (!good) return free(*all), *all = NULL, snprintf(err, errlen, "rank 0: out of memory for every rank's part (or over 2 GiB)"), false;
        return true;
    }
#endif
    *all = malloc(len ? len : 1);
    if (!*all) return snprintf(err, errlen, "out of memory"), false;
    memcpy(*all, buf, len);
    *total = len;
    return true;
}

void ranks_log_begin(void) {
    if (world.size <= 1 || world.rank == 0 || rank_log) return;
    fflush(stderr);
    rank_log = tmpfile();
    if (!rank_log || (real_stderr = dup(2)) < 0 || dup2(fileno(rank_log), 2) < 0) {
        if (real_stderr >= 0) close(real_stderr);
        real_stderr = -1;
        if (rank_log) fclose(rank_log);
        rank_log = NULL; /* the lines stay on stderr */
    }
}

/* This rank's logged lines (malloc'd, NUL-terminated), stderr restored. */
static char *log_take(void) {
    if (!rank_log) return strdup(world.rank == 0 ? "(rank 0's lines went to stderr)\n" : "(not captured: on stderr)\n");
    fflush(stderr);
    dup2(real_stderr, 2);
    close(real_stderr);
    real_stderr = -1;
    long n = ftell(rank_log);
    char *t = malloc(n > 0 ? (size_t)n + 1 : 1);
    if (t) {
        rewind(rank_log);
        size_t got = n > 0 ? fread(t, 1, (size_t)n, rank_log) : 0;
        t[got] = 0;
    }
    fclose(rank_log);
    rank_log = NULL;
    return t ? t : strdup("(out of memory)\n");
}

bool ranks_log_end(const char *path, char *err, size_t errlen) {
    if (world.size <= 1) return true;
    char *lines = log_take();
    const size_t l = lines ? strlen(lines) : 0, cap = l + 200;
    char *mine = malloc(cap);
    if (mine)
        snprintf(mine, cap, "== rank %d of %d (host %s) ==\n%s%s", world.rank, world.size, world.host, lines ? lines : "",
                 l && lines[l - 1] != '\n' ? "\n" : "");
    free(lines);
    char *texts = ranks_gather_text(mine ? mine : "== (out of memory) ==\n");
    free(mine);
    if (world.rank != 0) return free(texts), true;
    if (!texts) return snprintf(err, errlen, "out of memory for the ranks' logs"), false;
    /* the size texts back to back, without their NULs */
    size_t n = 0;
    for (int r = 0, at = 0; r < world.size; r++) {
        const size_t len = strlen(texts + at);
        memmove(texts + n, texts + at, len);
        n += len, at += (int)len + 1;
    }
    bool ok = io_write_file_atomic(path, texts, n, err, errlen);
    free(texts);
    return ok;
}

bool ranks_all_ok(bool ok) {
#ifdef LB_MPI
    if (world.active) {
        int mine = ok, all = 0;
        MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        return all != 0;
    }
#endif
    return ok;
}

int ranks_bcast_int(int v) {
#ifdef LB_MPI
    if (world.active) MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD);
#endif
    return v;
}

/* search */
bool ranks_send(int to, int tag, const void *buf, size_t len) {
#ifdef LB_MPI
    if (world.active) return MPI_Send(buf, (int)len, MPI_BYTE, to, tag, MPI_COMM_WORLD) == MPI_SUCCESS;
#endif
    (void)to, (void)tag, (void)buf, (void)len;
    return false;
}

long ranks_recv(int from, int tag, void *buf, size_t cap, int *src, int *tagp) {
#ifdef LB_MPI
    if (world.active) {
        MPI_Status s;
        int n = 0;
        if (MPI_Recv(buf, (int)cap, MPI_BYTE, from < 0 ? MPI_ANY_SOURCE : from, tag < 0 ? MPI_ANY_TAG : tag,
                     MPI_COMM_WORLD, &s) != MPI_SUCCESS)
            return -1;
        MPI_Get_count(&s, MPI_BYTE, &n);
        if (src) *src = s.MPI_SOURCE;
        if (tagp) *tagp = s.MPI_TAG;
        return n;
    }
#endif
    (void)from, (void)tag, (void)buf, (void)cap, (void)src, (void)tagp;
    return -1;
}

bool ranks_waiting(void) {
#ifdef LB_MPI
    if (world.active) {
        int flag = 0;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
        return flag != 0;
    }
#endif
    return false;
}
