#include "tools/cli/nncli.h"
#include "lib/io/infile.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/io/safetensors.h"
#include "lib/nn/nnio.h"

int nncli_fail(const char *cmd, const char *msg) {
    fprintf(stderr, "latbench %s: %s\n", cmd, msg);
    return 2;
}

static bool ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* A trained model: its spec from the metadata, and exactly the tensors that spec needs. */
static bool load_model_file(const char *name, nncli_spec *s, char *err, size_t errlen) {
    lb_st_file f;
    char perr[400];
    if (!lb_safetensors_read(name, &f, err, errlen)) return false;
    const char *t = lb_safetensors_meta(&f, "spec"), *lat = lb_safetensors_meta(&f, "lattice");
    bool ok = false;
    if (!t) snprintf(err, errlen, "%s: no model spec in its metadata (not written by latbench train?)", name);
    else if (strlen(t) >= sizeof s->text) snprintf(err, errlen, "%s: the spec in its metadata is too long", name);
    else if (lat && strlen(lat) >= sizeof s->lattice) snprintf(err, errlen, "%s: bad lattice in its metadata", name);
    else if (!netspec_parse(t, &s->spec, perr, sizeof perr)) snprintf(err, errlen, "%s: spec in its metadata: %s", name, perr);
    else if (!nn_model_check_tensors(&s->spec, &f, perr, sizeof perr)) snprintf(err, errlen, "%s: %s", name, perr);
    else ok = true;
    if (ok) {
        snprintf(s->text, sizeof s->text, "%s", t);
        if (lat) snprintf(s->lattice, sizeof s->lattice, "%s", lat);
        snprintf(s->origin, sizeof s->origin, "trained model");
    }
    lb_safetensors_free(&f);
    return ok;
}

/* A spec text file: a regular file (opened without blocking, so a FIFO is refused, not waited on). */
static bool read_spec_file(const char *name, nncli_spec *s, char *err, size_t errlen) {
    off_t size;
    int fd = lb_open_regular(name, &size, err, errlen);
    if (fd < 0 && errno == EINVAL) return false; /* not a regular file: err says so */
    if (fd < 0) {
        int n;
        const char *const *names = netspec_preset_names(&n);
        return snprintf(err, errlen, "'%s' is neither a preset (%s ... %s) nor a readable file", name, names[0],
                        names[n - 1]),
               false;
    }
    if (size >= (off_t)sizeof s->text) {
        close(fd);
        return snprintf(err, errlen, "%s: spec file too long (at most %zu bytes)", name, sizeof s->text - 1), false;
    }
    ssize_t k = read(fd, s->text, sizeof s->text - 1);
    close(fd);
    if (k < 0) return snprintf(err, errlen, "%s: read failed", name), false;
    s->text[k] = 0;
    if (memchr(s->text, 0, (size_t)k)) return snprintf(err, errlen, "%s: not a text file", name), false;
    snprintf(s->origin, sizeof s->origin, "spec file");
    return true;
}

bool nncli_load_spec(const char *name, nncli_spec *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    const char *text = netspec_preset(name);
    char perr[400];
    if (text) {
        snprintf(s->text, sizeof s->text, "%s", text);
        snprintf(s->origin, sizeof s->origin, "preset");
    } else if (ends_with(name, ".safetensors")) {
        return load_model_file(name, s, err, errlen);
    } else if (!read_spec_file(name, s, err, errlen)) {
        return false;
    }
    if (!netspec_parse(s->text, &s->spec, perr, sizeof perr)) return snprintf(err, errlen, "%s: %s", name, perr), false;
    return true;
}
