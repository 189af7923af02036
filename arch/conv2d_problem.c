/* The conv2d problem descriptor string (arch/conv2d_problem.h). */
#include "arch/conv2d_problem.h"
#include <stdio.h>

int lb_conv2d_problem_str(const conv2d_desc *d, char *buf, size_t len) {
    return snprintf(buf, len, "mb%d_ic%doc%d_ih%diw%d_kh%dkw%d_sh%dsw%d_b%d", d->n, d->cin, d->cout, d->h, d->w, d->kh,
                    d->kw, d->sh, d->sw, d->bias);
}
