#include "lib/lattice/violations.h"
#include <stdio.h>
#include <string.h>

int lat_viol_steps_default(int v) { return 4 * v; }

static int uniform_below(worm_rng *g, uint32_t n) { return (int)(((uint64_t)worm_rng_draw(g) * n) >> 32); }

static int free_site(worm_rng *g, const uint8_t *mark, int v) {
    int x;
    do x = uniform_below(g, (uint32_t)v);
    while (mark[x]);
    return x;
}

bool lat_insert_open_worms(const worm_desc *d, int32_t *k, const int32_t *l, int32_t *f, int K, int steps_max,
                          worm_rng *rng, uint8_t *mark, char *err, size_t errlen) {
    const int v = d->v;
    if (K < 0 || 2 * K > v) {
        snprintf(err, errlen, "%d open worms need %d distinct end sites but the lattice has %d", K, 2 * K, v);
        return false;
    }
    if (steps_max <= 0) steps_max = lat_viol_steps_default(v);
    memset(mark, 0, (size_t)v);
    /* far more than any walk needs: a walk this long means the head cannot reach a free site */
    const long cap = 1000L * steps_max + 1000000L;
    for (int w = 0; w < K; w++) {
        int x0 = free_site(rng, mark, v);
        int32_t delta = (worm_rng_draw(rng) & 1u) ? 1 : -1;
        int head = x0, hit = 0;
        const long T = 1 + uniform_below(rng, (uint32_t)steps_max);
        long step = 0;
        for (;;) {
            head = worm_head_step(d, k, l, f, 1, head, delta, worm_rng_draw(rng), &hit);
            step++;
            if (hit) {
                snprintf(err, errlen, "an open worm ran past F_max = %d", d->tab->fmax);
                return false;
            }
            if (head == x0) { /* closed: a loop update; start a new worm */
                x0 = free_site(rng, mark, v);
                delta = (worm_rng_draw(rng) & 1u) ? 1 : -1;
                head = x0;
                continue;
            }
            if (step >= T && !mark[head]) break;
            if (step > cap) {
                snprintf(err, errlen, "open worm %d of %d found no free end site in %ld steps", w + 1, K, step);
                return false;
            }
        }
        mark[x0] = mark[head] = 1;
    }
    return true;
}
