#include "tools/problems/lists.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool prob_parse_int_in(const char *s, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return false;
    *out = (int)v;
    return true;
}

bool prob_list_has_empty_item(const char *s) {
    return !*s || *s == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,");
}

bool prob_parse_int_list(const char *s, long lo, long hi, int max, int *out, int *n) {
    char buf[256];
    if (strlen(s) >= sizeof buf || prob_list_has_empty_item(s)) return false;
    strcpy(buf, s);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (*n == max || !prob_parse_int_in(tok, lo, hi, &out[*n])) return false;
        (*n)++;
    }
    return *n > 0;
}

bool prob_parse_lattice_list(const char *s, int max, int *h, int *w, int *n) {
    char buf[256];
    if (strlen(s) >= sizeof buf || prob_list_has_empty_item(s)) return false;
    strcpy(buf, s);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *x = strchr(tok, 'x');
        if (!x || *n == max) return false;
        *x = 0;
        if (!prob_parse_int_in(tok, 1, 4096, &h[*n]) || !prob_parse_int_in(x + 1, 1, 4096, &w[*n])) return false;
        (*n)++;
    }
    return *n > 0;
}
