/* Fuzz target: the model-spec parser, then the shapes and parameter count of the parsed net on a
 * few lattices, and (for nets of at most 1M parameters on small lattices) building the model and a
 * forward pass of one zero sample: the computed shapes must agree with what the kernels touch. */
#include "tests/fuzz/fuzz_util.h"
#include "lib/nn/model.h"
#include "lib/nn/netspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_cstr(data, size);
    if (!text) return 0;
    net_spec spec;
    char err[512];
    if (netspec_parse(text, &spec, err, sizeof err)) {
        long params = netspec_param_count(&spec);
        static const int lat[][2] = {{2, 2}, {4, 4}, {8, 8}, {6, 4}, {60, 4}, {1000, 1000}};
        for (size_t i = 0; i < sizeof lat / sizeof lat[0]; i++) {
            act_shape shapes[NETSPEC_MAX_LAYERS + 1];
            if (!netspec_shapes(&spec, lat[i][0], lat[i][1], shapes, err, sizeof err)) continue;
            for (int l = 0; l <= spec.n_layers; l++)
                if (shapes[l].h < 1 || shapes[l].w < 1 || shapes[l].c < 1) abort();
            if (params < 0 || params > (1L << 20) || lat[i][0] * lat[i][1] > 64) continue;
            nn_model *m = nn_model_create(&spec, lat[i][0], lat[i][1], 1, 1, false, err, sizeof err);
            if (!m) continue;
            if (nn_model_param_count(m) != (size_t)params) abort();
            int16_t *x = calloc((size_t)4 * lat[i][0] * lat[i][1], sizeof *x);
            long idx = 0;
            if (x) {
                nn_model_set_input(m, x, &idx, 1);
                volatile float sink = nn_model_forward(m, 1)[nn_model_outputs(m) - 1];
                (void)sink;
            }
            free(x);
            nn_model_free(m);
        }
    }
    free(text);
    return 0;
}
