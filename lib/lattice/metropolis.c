#include "lib/lattice/metropolis.h"
#include <math.h>
#include <stdlib.h>

typedef struct {
    uint64_t s;
} xs64;

/* xorshift64* (Vigna): a different generator family from the sampler's on purpose */
static inline uint64_t xs_next(xs64 *g) {
    g->s ^= g->s >> 12;
    g->s ^= g->s << 25;
    g->s ^= g->s >> 27;
    return g->s * 0x2545F4914F6CDD1Dull;
}
static inline double xs_unit(xs64 *g) { return (double)(xs_next(g) >> 11) * 0x1p-53; }

double lat_metro_run(const lat_metro_cfg *c, int therm, int sweeps, double *phi2, double *phi4) {
    if (c->nt < 2 || c->nx < 2 || c->hits < 1 || therm < 0 || sweeps < 0 || !(c->delta > 0)) return -1;
    const int NT = c->nt, NX = c->nx, V = NT * NX;
    double *re = calloc(V, sizeof(double)), *im = calloc(V, sizeof(double));
    int *nb = malloc(sizeof(int) * 4 * V);
    if (!re || !im || !nb) {
        free(re), free(im), free(nb);
        return -1;
    }
    for (int t = 0; t < NT; t++)
        for (int x = 0; x < NX; x++) {
            int s = t * NX + x;
            nb[4 * s + 0] = ((t + 1) % NT) * NX + x;
            nb[4 * s + 1] = ((t + NT - 1) % NT) * NX + x;
            nb[4 * s + 2] = t * NX + (x + 1) % NX;
            nb[4 * s + 3] = t * NX + (x + NX - 1) % NX;
        }
    xs64 g = {c->seed * 0x9E3779B97F4A7C15ull + 0x1234567ull};
    if (!g.s) g.s = 1;
    for (int i = 0; i < 16; i++) xs_next(&g);
    long acc = 0, tries = 0;
    for (int sw = 0; sw < therm + sweeps; sw++) {
        for (int s = 0; s < V; s++) {
            double sr = 0, si = 0;
            for (int d = 0; d < 4; d++) sr += re[nb[4 * s + d]], si += im[nb[4 * s + d]];
            for (int h = 0; h < c->hits; h++) {
                double a = re[s], b = im[s];
                double na = a + c->delta * (2 * xs_unit(&g) - 1), nbv = b + c->delta * (2 * xs_unit(&g) - 1);
                double r2 = a * a + b * b, n2 = na * na + nbv * nbv;
                /* -2 Re((φ'-φ)* Σ_nb φ_nb): only the site's own terms change */
                double dS = c->eta * (n2 - r2) + c->lambda * (n2 * n2 - r2 * r2) - 2 * ((na - a) * sr + (nbv - b) * si);
                tries++;
                if (dS <= 0 || xs_unit(&g) < exp(-dS)) re[s] = na, im[s] = nbv, acc++;
            }
        }
        if (sw >= therm) {
            double m2 = 0, m4 = 0;
            for (int s = 0; s < V; s++) {
                double r2 = re[s] * re[s] + im[s] * im[s];
                m2 += r2, m4 += r2 * r2;
            }
            if (phi2) phi2[sw - therm] = m2 / V;
            if (phi4) phi4[sw - therm] = m4 / V;
        }
    }
    free(re), free(im), free(nb);
    return tries ? (double)acc / tries : 0;
}
