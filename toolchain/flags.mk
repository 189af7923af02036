# Compiler flags per ISA.  Each kernels/<op>/<op>-<isa>.c is compiled with the flags of its ISA
# so that one binary carries every variant and the dispatcher picks at run time.
ISA_FLAGS_scalar :=
ISA_FLAGS_avx2   := -mavx2 -mfma -mno-avx512f
ISA_FLAGS_avx512 := -mavx2 -mfma -mavx512f -mavx512bw -mavx512vl -mavx512dq
# AArch64: ASIMD (with FMA) is in the armv8-a base; stated so that the NEON files never depend on -mcpu
ISA_FLAGS_neon   := -march=armv8-a+simd
# The ISA of a source file, from its name (foo-avx2.c -> avx2); anything else is baseline.
isa_of = $(or $(filter avx2 avx512 neon,$(lastword $(subst -, ,$(basename $(notdir $(1)))))),scalar)
