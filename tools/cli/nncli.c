#include "tools/cli/nncli.h"
#include <stdio.h>
#include <string.h>
#include "lib/io/safetensors.h"
#include "lib/nn/nnio.h"
#include <sys/stat.h>

int nncli_fail(const char *cmd, const char *msg) {
    fprintf(stderr, "latbench %s: %s\n", cmd, msg);
    return 2;
}

/* Whether path names the same file as st (compared by device and inode). */
static bool same_file(const char *path, const struct stat *st) {
    struct stat a;
    return stat(path, &a) == 0 && a.st_dev == st->st_dev && a.st_ino == st->st_ino;
}

bool nncli_out_not_input(const char *opt, const char *out, const char *model, const char *data, char *err, size_t errlen) {
    struct stat so;
    if (stat(out, &so)) return true; /* a new file cannot be an input */
    char path[4200];
    static const char *const files[] = {"x.npy", "y.npy", "meta.json"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", data, files[i]);
        if (same_file(path, &so))
            return snprintf(err, errlen, "%s %.250s is the dataset's %.250s (refusing to overwrite an input)", opt, out, path),
                   false;
    }
    if (same_file(model, &so))
        return snprintf(err, errlen, "%s %.250s is the --model file (refusing to overwrite an input)", opt, out), false;
    if (S_ISDIR(so.st_mode)) return snprintf(err, errlen, "%s %.250s is a directory", opt, out), false;
    return true;
}

bool nncli_net(const char *name, const char *spec, netspec_loaded *s, char *err, size_t errlen) {
    size_t n = strlen(name);
    if (n < 12 || strcmp(name + n - 12, ".safetensors")) {
        if (spec)
            return snprintf(err, errlen, "--spec names the net of a model file (.safetensors); %.300s is not one", name), false;
        return netspec_load(name, s, err, errlen);
    }
    io_st_file f;
    if (!nn_model_open(name, spec, s, &f, err, errlen)) return false;
    io_safetensors_free(&f);
    if (spec) snprintf(s->origin, sizeof s->origin, "model file, net of --spec");
    return true;
}
