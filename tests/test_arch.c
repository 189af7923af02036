/* CPU detection and dispatch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/test_util.h"
#include "arch/registry.h"

/* The flags the kernel reports in /proc/cpuinfo must agree with cpuid+xgetbv. */
static void test_detect_matches_proc_cpuinfo(void **state) {
    (void)state;
    lb_cpu c;
    lb_cpu_detect(&c);
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) { print_message("NOTE /proc/cpuinfo unreadable; cross-check not run\n"); skip(); }
    char line[8192], flags[8192] = "";
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "flags", 5) || !strncmp(line, "Features", 8)) { snprintf(flags, sizeof flags, " %s ", strchr(line, ':') + 1); break; }
    fclose(f);
    for (char *p = flags; *p; p++) if (*p == '\n' || *p == '\t') *p = ' ';
#define HAS(x) (strstr(flags, " " x " ") != NULL)
#if LB_X86
    assert_int_equal(c.avx2, HAS("avx2"));
    assert_int_equal(c.fma, HAS("fma"));
    assert_int_equal(c.avx512f, HAS("avx512f"));
    assert_int_equal(c.avx512bw, HAS("avx512bw"));
    assert_int_equal(c.avx512vl, HAS("avx512vl"));
    assert_int_equal(c.avx512dq, HAS("avx512dq"));
    assert_int_equal(c.avx512_vnni, HAS("avx512_vnni"));
    assert_int_equal(c.avx512_bf16, HAS("avx512_bf16"));
    assert_true(c.sse2);
#else
    if (strncmp(line, "Features", 8) != 0) {
        /* qemu-user shows the x86 host's /proc/cpuinfo: check what AArch64 Linux guarantees instead */
        print_message("NOTE /proc/cpuinfo is not an AArch64 one (user-mode emulation): checked getauxval's "
                      "ASIMD and the SVE vector length alone\n");
        assert_true(c.asimd);
        if (c.sve) assert_true(c.sve_bits >= 128 && c.sve_bits <= 2048 && c.sve_bits % 128 == 0);
        else assert_int_equal(c.sve_bits, 0);
        return;
    }
    assert_int_equal(c.asimd, HAS("asimd"));
    assert_int_equal(c.sve, HAS("sve"));
#endif
}

static void test_isa_names_roundtrip(void **state) {
    (void)state;
    for (int i = LB_ISA_SCALAR; i <= LB_ISA_NEON; i++) assert_int_equal(lb_isa_parse(lb_isa_name((lb_isa)i)), i);
    assert_int_equal(lb_isa_parse("avx3"), -1);
    assert_int_equal(lb_isa_parse(""), -1);
}

/* Every op has a scalar variant; variant names are unique per op; the dispatch picks the highest
 * supported ISA under the cap, and refuses a cap the CPU cannot run. */
static void test_dispatch_caps(void **state) {
    (void)state;
    lb_cpu c;
    lb_cpu_detect(&c);
    int n;
    const conv2d_ops *cv = lb_conv2d_variants(&n);
    int scalar = 0;
    for (int i = 0; i < n; i++) {
        scalar += cv[i].isa == LB_ISA_SCALAR;
        for (int j = 0; j < i; j++) assert_string_not_equal(cv[i].name, cv[j].name);
    }
    assert_int_equal(scalar, 1);
    char err[128];
    for (int cap = LB_ISA_SCALAR; cap <= LB_ISA_NEON; cap++) {
        lb_dispatch d;
        bool ok = lb_dispatch_build(&d, &c, (lb_isa)cap, err, sizeof err);
        assert_int_equal(ok, lb_cpu_supports(&c, (lb_isa)cap));
        if (!ok) { assert_non_null(strstr(err, lb_isa_name((lb_isa)cap))); continue; }
        const lb_isa picked[] = {d.conv2d->isa, d.pool->isa, d.gpool->isa, d.act->isa, d.dense->isa, d.loss->isa, d.optim->isa};
        for (int k = 0; k < 7; k++) {
            assert_true(picked[k] <= (lb_isa)cap);
            assert_true(lb_cpu_supports(&c, picked[k]));
        }
        /* with every variant compiled for this architecture, the cap itself is picked */
        assert_int_equal(d.conv2d->isa, (lb_isa)cap);
    }
    lb_cpu none;
    memset(&none, 0, sizeof none);
    lb_dispatch d;
    assert_true(lb_dispatch_build(&d, &none, LB_ISA_SCALAR, err, sizeof err));
    assert_int_equal(d.conv2d->isa, LB_ISA_SCALAR);
    assert_false(lb_dispatch_build(&d, &none, LB_ISA_AVX2, err, sizeof err));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detect_matches_proc_cpuinfo),
        cmocka_unit_test(test_isa_names_roundtrip),
        cmocka_unit_test(test_dispatch_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
