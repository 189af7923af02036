#include "harness/cli/nncli.h"
#include <stdio.h>
#include <string.h>
#include "harness/io/safetensors.h"

int nncli_fail(const char *cmd, const char *msg) {
    fprintf(stderr, "latbench %s: %s\n", cmd, msg);
    return 2;
}

static bool ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

bool nncli_load_spec(const char *name, nncli_spec *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    const char *text = netspec_preset(name);
    char perr[400];
    if (text) {
        snprintf(s->text, sizeof s->text, "%s", text);
        snprintf(s->origin, sizeof s->origin, "preset");
    } else if (ends_with(name, ".safetensors")) {
        lb_st_file f;
        if (!lb_safetensors_read(name, &f, err, errlen)) return false;
        const char *t = lb_safetensors_meta(&f, "spec"), *lat = lb_safetensors_meta(&f, "lattice");
        if (!t) {
            lb_safetensors_free(&f);
            return snprintf(err, errlen, "%s: no model spec in its metadata (not written by latbench train?)", name), false;
        }
        snprintf(s->text, sizeof s->text, "%s", t);
        if (lat) snprintf(s->lattice, sizeof s->lattice, "%s", lat);
        snprintf(s->origin, sizeof s->origin, "trained model");
        lb_safetensors_free(&f);
    } else {
        FILE *fp = fopen(name, "r");
        if (!fp) {
            int n;
            const char *const *names = netspec_preset_names(&n);
            return snprintf(err, errlen, "'%s' is neither a preset (%s ... %s) nor a readable file", name, names[0],
                            names[n - 1]),
                   false;
        }
        size_t k = fread(s->text, 1, sizeof s->text - 1, fp);
        bool more = fgetc(fp) != EOF;
        fclose(fp);
        if (more) return snprintf(err, errlen, "%s: spec file too long", name), false;
        s->text[k] = 0;
        if (memchr(s->text, 0, k)) return snprintf(err, errlen, "%s: not a text file", name), false;
        snprintf(s->origin, sizeof s->origin, "spec file");
    }
    if (!netspec_parse(s->text, &s->spec, perr, sizeof perr)) return snprintf(err, errlen, "%s: %s", name, perr), false;
    return true;
}
