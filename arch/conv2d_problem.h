/* The conv2d problem descriptor string, the one grammar shared by the tuning profile's keys
 * (arch/profile.h), the model runtime's lookup (lib/nn) and the tools' problem names
 * (tools/problems, verify, tune): "mb256_ic4oc32_ih8iw8_kh1kw1_sh1sw1_b0" (batch, channels in and
 * out, input lattice, kernel, stride, bias).  Here, a floor below lib/ and tools/, so that the
 * library can build the key without including a tools header. */
#pragma once
#include <stddef.h>
#include "kernels/conv2d/conv2d.h"

/* Writes d's descriptor (d->params is not part of it) into buf; returns snprintf's count. */
int lb_conv2d_problem_str(const conv2d_desc *d, char *buf, size_t len);
