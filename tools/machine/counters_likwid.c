/* The likwid marker API of counters.h (make LIKWID=1): each region's start and stop in every thread
 * of the team, so that per-thread counts land on the threads that do the work.  Without
 * LATBENCH_LIKWID the header's inline stubs stand in and this file compiles to nothing. */
#include "tools/machine/counters.h"
#ifdef LATBENCH_LIKWID
#include <likwid-marker.h>

void machine_likwid_init(int threads) {
    LIKWID_MARKER_INIT;
#pragma omp parallel num_threads(threads > 1 ? threads : 1)
    LIKWID_MARKER_THREADINIT;
}

void machine_likwid_close(void) { LIKWID_MARKER_CLOSE; }

void machine_region_begin(const char *name, int threads) {
    if (threads <= 1) {
        LIKWID_MARKER_START(name);
        return;
    }
#pragma omp parallel num_threads(threads)
    LIKWID_MARKER_START(name);
}

void machine_region_end(const char *name, int threads) {
    if (threads <= 1) {
        LIKWID_MARKER_STOP(name);
        return;
    }
#pragma omp parallel num_threads(threads)
    LIKWID_MARKER_STOP(name);
}
#endif
