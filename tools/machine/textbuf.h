/* Text built up piece by piece in a fixed buffer (the one-line summaries of the topology and the
 * counters): each piece appended at *pos, never past len - a long text is cut, never overrun. */
#pragma once
#include <stddef.h>

__attribute__((format(printf, 4, 5))) void machine_textf(char *buf, size_t len, size_t *pos, const char *fmt, ...);
