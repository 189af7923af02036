/* latbench model NAME|FILE [--lattice NTxNX]: the layers of a preset, a spec file or a trained
 * model (.safetensors; --spec for one without latbench's metadata), their output shapes on a
 * lattice and the parameter count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/cli/cli.h"
#include "tools/cli/nncli.h"
#include "tools/opts/opts.h"
#include "lib/lattice/params.h"
#include "lib/nn/netspec.h"

static const char *kind_name(const layer_spec *L, char *buf, size_t n) {
    switch (L->kind) {
    case LAYER_CONV:
        if (L->stride > 1) snprintf(buf, n, "Conv%s(%dx%d, %d, %d, stride %d)", L->bias ? "" : "*", L->kh, L->kw, L->cin, L->cout, L->stride);
        else snprintf(buf, n, "Conv%s(%dx%d, %d, %d)", L->bias ? "" : "*", L->kh, L->kw, L->cin, L->cout);
        break;
    case LAYER_LINEAR: snprintf(buf, n, "Linear%s(%d, %d)", L->bias ? "" : "*", L->cin, L->cout); break;
    case LAYER_AVGPOOL: snprintf(buf, n, "AvgPool(%dx%d, %d)", L->k, L->k, L->s); break;
    case LAYER_MAXPOOL: snprintf(buf, n, "MaxPool(%dx%d, %d)", L->k, L->k, L->s); break;
    case LAYER_LRELU: snprintf(buf, n, "LeakyReLU(0.01)"); break;
    case LAYER_SIGMOID: snprintf(buf, n, "Sigmoid"); break;
    case LAYER_GAVGPOOL: snprintf(buf, n, "GlobalAvgPool"); break;
    case LAYER_GMAXPOOL: snprintf(buf, n, "GlobalMaxPool"); break;
    case LAYER_GSUMPOOL: snprintf(buf, n, "GlobalSumPool"); break;
    case LAYER_FLATTEN: snprintf(buf, n, "Flatten"); break;
    }
    return buf;
}

static long layer_params(const layer_spec *L) {
    if (L->kind == LAYER_CONV) return (long)L->kh * L->kw * L->cin * L->cout + (L->bias ? L->cout : 0);
    if (L->kind == LAYER_LINEAR) return (long)L->cin * L->cout + (L->bias ? L->cout : 0);
    return 0;
}

static const char *shape_str(int h, int w, int c, char *buf, size_t n) {
    snprintf(buf, n, "%dx%dx%d", h, w, c);
    return buf;
}

static void model_usage(void) {
    printf("usage: latbench model NAME|SPECFILE|MODEL.safetensors [--lattice NTxNX] [--spec PRESET|FILE]\n"
           "  the layers, output shapes and parameter count of a net on a lattice (default: a trained model's\n"
           "  lattice, a preset's native one - 60x4 for task1-*, 8x8 for the others -, else 8x8)\n"
           "  --spec  the net of a model file without latbench's spec metadata (a PyTorch state_dict saved\n"
           "          as safetensors); its tensors are checked against it\n"
           "  presets:");
    int n;
    const char *const *names = netspec_preset_names(&n);
    for (int i = 0; i < n; i++) printf(" %s", names[i]);
    printf("\n");
}

int cmd_model(int argc, char **argv) {
    const char *name = NULL, *lat = NULL, *spec = NULL;
    char err[512];
    static const struct option longopts[] = {{"lattice", required_argument, NULL, 'l'}, {"spec", required_argument, NULL, 's'}, {0}};
    opts_parser p;
    opts_init(&p, "model", argc, argv, longopts, NULL, false);
    for (int c; (c = opts_next(&p)) != OPTS_END;) {
        if (c == OPTS_HELP) {
            model_usage();
            return 0;
        }
        if (c == OPTS_ERR) return 2;
        if (c == 'l') lat = p.arg;
        if (c == 's') spec = p.arg;
    }
    int first = opts_first_operand(&p);
    if (argc - first > 1) return nncli_fail("model", "give one model");
    if (argc - first == 1) name = argv[first];
    if (!name) return nncli_fail("model", "usage: latbench model NAME|FILE [--lattice NTxNX] [--spec PRESET|FILE]");
    netspec_loaded s;
    if (!nncli_net(name, spec, &s, err, sizeof err)) return nncli_fail("model", err);
    int nt = 8, nx = 8;
    if (s.lattice[0] && !lat) lat = s.lattice;
    if (s.native[0] && !lat) lat = s.native;   /* a preset: the lattice the seed trained it on */
    if (lat && !lat_parse_lattice(lat, &nt, &nx, err, sizeof err)) return nncli_fail("model", err);
    act_shape shapes[NETSPEC_MAX_LAYERS + 1];
    char buf0[48];
    if (!netspec_shapes(&s.spec, nt, nx, shapes, err, sizeof err)) {
        fprintf(stderr, "latbench model: %s does not run on a %dx%d lattice: %s\n", name, nt, nx, err);
        return 2;
    }
    printf("model %s (%s), lattice %dx%d\n", name, s.origin, nt, nx);
    printf("  %-3s %-32s %-14s %s\n", "#", "layer", "output", "params");
    printf("  %-3s %-32s %-14s\n", "", "input", shape_str(nt, nx, 4, buf0, sizeof buf0));
    for (int i = 0; i < s.spec.n_layers; i++) {
        char buf[96];
        act_shape o = shapes[i + 1];
        printf("  %-3d %-32s %-14s %ld\n", i, kind_name(&s.spec.layers[i], buf, sizeof buf),
               shape_str(o.h, o.w, o.c, buf0, sizeof buf0), layer_params(&s.spec.layers[i]));
    }
    printf("parameters: %ld\n", netspec_param_count(&s.spec));
    return 0;
}
