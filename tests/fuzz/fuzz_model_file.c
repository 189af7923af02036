/* Fuzz target: loading a model file, the whole path of `latbench eval`: read the safetensors file,
 * parse the spec in its metadata, build the net on its lattice (capped: 2..16 sites a side, at most
 * 1M parameters) and copy the tensors in. */
#include "tests/fuzz/fuzz_util.h"
#include "lib/nn/netspec.h"
#include "lib/io/safetensors.h"
#include "lib/lattice/params.h"
#include "lib/nn/model.h"
#include "lib/nn/nnio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[512], err[1024];
    fuzz_put("model.safetensors", data, size, true, path, sizeof path);
    netspec_loaded *s = malloc(sizeof *s);
    if (!s) return 0;
    io_st_file f;
    if (!netspec_load(path, s, err, sizeof err) || !io_safetensors_read(path, &f, err, sizeof err)) {
        free(s);
        return 0;
    }
    int nt = 4, nx = 4;
    if (s->lattice[0] && !lat_parse_lattice(s->lattice, &nt, &nx, err, sizeof err)) nt = nx = 4;
    if (nt > 16 || nx > 16) nt = nx = 4;
    act_shape shapes[NETSPEC_MAX_LAYERS + 1];
    long params = netspec_param_count(&s->spec);
    if (params >= 0 && params <= (1L << 20) && netspec_shapes(&s->spec, nt, nx, shapes, err, sizeof err)) {
        nn_model *m = nn_model_create(&s->spec, nt, nx, 2, 1, false, err, sizeof err);
        if (m) {
            if (nn_model_load_params(m, &f, err, sizeof err)) {
                volatile float sink = 0;
                const float *p = nn_model_params(m);
                size_t np = nn_model_param_count(m);
                if (np) sink += p[0] + p[np - 1];
                (void)sink;
            }
            nn_model_free(m);
        }
    }
    io_safetensors_free(&f);
    free(s);
    return 0;
}
