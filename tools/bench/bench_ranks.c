/* `mpirun -n R latbench bench ...` (typically --map-by ppr:1:node): every rank benchmarks its own node
 * as a plain run does, into its own table and JSON tree; at the close rank 0 gathers them
 * (ranks_gather_text) and prints each other rank's table under a line naming its host, and writes
 * ONE file: the top level as a 1-rank run writes it (rank 0's context and rows, so `compare` and
 * `history import` read a multi-node file as rank 0's node) plus "nodes": every rank's host, context
 * and rows in rank order, and "context"."mpi" (ranks, hosts shared by several ranks).  Only rank 0
 * writes a file.  A run of one rank never comes here and writes exactly what it always did. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/bench/bench.h"
#include "tools/mpi/ranks.h"

bool bench_ranks_many(void) { return ranks_world()->size > 1; }

void bench_ranks_open(bench_run *r) {
    if (!bench_ranks_many()) return;
    const ranks_ctx *w = ranks_world();
    if (w->rank != 0) {
        /* its table goes to rank 0 at the close */
        r->rank_mem = open_memstream(&r->rank_text, &r->rank_text_len);
        if (!r->rank_mem) ranks_abort("bench", "open_memstream failed");
        r->out = r->rank_mem;
    }
    fprintf(r->out, "==== node %s (rank %d of %d): its own benchmarks ====\n", w->host, w->rank, w->size);
}

/* Hosts that more than one rank ran on, as a JSON array of strings; a line on out for each. */
static json_t *shared_hosts(FILE *out, json_t *nodes) {
    json_t *shared = json_array();
    const size_t n = json_array_size(nodes);
    for (size_t i = 0; i < n; i++) {
        const char *h = json_string_value(json_object_get(json_array_get(nodes, i), "host"));
        int count = 0;
        bool earlier = false;
        for (size_t k = 0; k < n; k++) {
            const char *o = json_string_value(json_object_get(json_array_get(nodes, k), "host"));
            if (h && o && !strcmp(h, o)) count++, earlier |= k < i;
        }
        if (count < 2 || earlier) continue;
        fprintf(out, "note: %d ranks ran on host %s at the same time: they disturbed each other, so its rows measure "
                     "their contention, not the node alone (mpirun --map-by ppr:1:node runs one rank a node)\n", count, h ? h : "?");
        json_array_append_new(shared, json_string(h));
    }
    return shared;
}

/* One node of the merged file from a rank's JSON text ("null": that rank wrote no tree). */
static json_t *node_of(int rank, const char *text) {
    json_error_t e;
    json_t *t = json_loads(text, 0, &e), *node = json_object();
    json_t *ctx = json_object_get(t, "context");
    io_json_set_int(node, "rank", rank);
    io_json_set_str(node, "host", json_string_value(json_object_get(ctx, "host_name")));
    json_object_set(node, "context", ctx ? ctx : json_null());
    json_object_set(node, "benchmarks", json_object_get(t, "benchmarks") ? json_object_get(t, "benchmarks") : json_array());
    json_decref(t);
    return node;
}

void bench_ranks_merge(bench_run *r) {
    if (!bench_ranks_many()) return;
    const ranks_ctx *w = ranks_world();
    char *tree = r->json_on && r->json ? json_dumps(r->json, JSON_COMPACT) : NULL;
    if (r->rank_mem) {
        fclose(r->rank_mem);
        r->rank_mem = NULL;
        r->out = stdout;
    }
    char *texts = ranks_gather_text(r->rank_text ? r->rank_text : "");
    char *trees = ranks_gather_text(tree ? tree : "null");
    free(tree);
    free(r->rank_text);
    r->rank_text = NULL;
    if (w->rank != 0) return free(texts), free(trees);
    const char *t = texts + strlen(texts) + 1;   /* rank 0 printed its own */
    for (int k = 1; k < w->size; k++, t += strlen(t) + 1) fputs(t, r->out);
    json_t *nodes = json_array();
    const char *j = trees;
    for (int k = 0; k < w->size; k++, j += strlen(j) + 1) json_array_append_new(nodes, node_of(k, j));
    json_t *mpi = json_object();
    io_json_set_int(mpi, "ranks", w->size);
    json_object_set_new(mpi, "shared_hosts", shared_hosts(r->out, nodes));
    if (r->json_on && r->json) {
        json_object_set_new(json_object_get(r->json, "context"), "mpi", mpi);
        json_object_set_new(r->json, "nodes", nodes);
    } else {
        json_decref(mpi), json_decref(nodes);
    }
    fprintf(r->out, "\n%d nodes benchmarked (one table each above); the JSON holds each in \"nodes\"\n", w->size);
    free(texts), free(trees);
}
