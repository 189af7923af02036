# latbench — see README.md.  `make` builds ./latbench; `make run` and `make test` are the two
# commands a user types (both install missing Debian packages first).
# ARCH=aarch64 on an x86-64 host cross-builds for AArch64 into build/aarch64, without oneDNN (the
# cross compiler, qemu-user and the arm64 libraries come from toolchain/install-cross.sh; tests/run.sh
# runs that build under qemu-aarch64).  On an AArch64 machine a plain `make` builds natively.
.DEFAULT_GOAL := all
# make run and make test build with one job per core (a plain make builds as make -jN asks)
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
HOST_ARCH := $(shell uname -m)
ARCH     ?= $(HOST_ARCH)
ifneq ($(ARCH),$(HOST_ARCH))
ifneq ($(ARCH)-$(HOST_ARCH),aarch64-x86_64)
$(error ARCH=$(ARCH) on a $(HOST_ARCH) host: the only cross build is ARCH=aarch64 from x86_64)
endif
CROSS    := 1
ifeq ($(origin CC),default)
CC       := aarch64-linux-gnu-gcc
endif
BUILD    ?= build/aarch64
ONEDNN   ?= 0
GBENCH   ?= 0
MPI      ?= 0
endif
CC       ?= gcc
BUILD    ?= build/release
# ONEDNN=0 builds without oneDNN: verify and bench then say the comparisons are not available.
ONEDNN   ?= 1
ifeq ($(ONEDNN),0)
ONEDNN_CFLAGS := -DLB_NO_ONEDNN -Itoolchain/no-onednn
else
ONEDNN_LIBS   := -ldnnl
endif
SAN      ?=
OPT      ?= -O3
include toolchain/flags.mk

ARCH_CFLAGS :=
CFLAGS   := -std=gnu11 $(OPT) -g -Wall -Wextra -Wshadow -Wno-unused-parameter -fopenmp -I. $(ARCH_CFLAGS) $(ONEDNN_CFLAGS) $(SAN) $(EXTRA_CFLAGS)
LDLIBS   := $(ONEDNN_LIBS) -lhwloc -ljansson -lsqlite3 -lm -lpthread
LDFLAGS  := -fopenmp $(SAN)
# LIKWID=1: the likwid marker API around the benchmark regions, for `likwid-perfctr -m` (README,
# "Hardware counters and pinning"; needs the Debian package likwid).  Use its own BUILD directory.
ifeq ($(LIKWID),1)
CFLAGS   += -DLATBENCH_LIKWID -DLIKWID_PERFMON
LDLIBS   += -llikwid
endif
# --- MPI (`mpirun -n R latbench experiment`, tools/mpi) ---
# Open MPI where installed (mpicc --showme, else pkg-config ompi-c): -DLB_MPI and its flags; MPI=0
# (the cross build's default) or no MPI found builds without: a run is then always one rank.
MPI      ?= 1
ifneq ($(MPI),0)
MPI_CFLAGS := $(shell mpicc --showme:compile 2>/dev/null || pkg-config --cflags ompi-c 2>/dev/null)
MPI_LIBS   := $(shell mpicc --showme:link 2>/dev/null || pkg-config --libs ompi-c 2>/dev/null)
ifneq ($(strip $(MPI_LIBS)),)
# only tools/mpi includes mpi.h: the build's flags (build_info, the tuning profile's identity) stay as without MPI
$(BUILD)/tools/mpi/%.o: CFLAGS += -DLB_MPI $(MPI_CFLAGS)
LDLIBS   += $(MPI_LIBS)
endif
endif
# --- end MPI ---
# --- google-benchmark (`latbench bench --gbench`, helper gb) ---
# tools/gbench/gbench_shim.cc is the only C++: compiled with the C++ compiler of CC (g++ or
# clang++, with SAN like the C), binaries link -lbenchmark -lstdc++.  GBENCH=0 (the cross build's
# default) leaves it out; `bench --gbench` then says it is not available.
GBENCH   ?= 1
ifeq ($(GBENCH),0)
CFLAGS   += -DLB_NO_GBENCH
else
CXX      := $(if $(findstring clang,$(CC)),$(subst clang,clang++,$(CC)),$(if $(filter cc,$(CC)),c++,$(subst gcc,g++,$(CC))))
CXXFLAGS := -std=c++17 $(OPT) -g -Wall -Wextra -Wshadow -I. $(SAN) $(EXTRA_CFLAGS)
LDLIBS   += -lbenchmark -lstdc++
GBENCH_OBJ := $(patsubst %.cc,$(BUILD)/%.o,$(wildcard tools/*/*.cc))
endif
# --- end google-benchmark ---

ifeq ($(ARCH),x86_64)
EXCLUDE_ISA := %-neon.c
else
EXCLUDE_ISA := %-avx2.c %-avx512.c
endif

# Two archives, one per floor: liblatbench.a is the library being measured (arch/ dispatch, kernels/,
# lib/: nn, lattice, io); libtools.a is what verifies, measures and drives it (tools/).  Nothing in
# the library includes a tools/ header (tests/test_layers.sh checks it).
LIB_SRC  := $(filter-out $(EXCLUDE_ISA),$(wildcard arch/*.c kernels/*/*.c lib/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
TOOLS_SRC := $(filter-out tools/cli/main.c $(EXCLUDE_ISA),$(wildcard tools/*/*.c))
TOOLS_OBJ := $(TOOLS_SRC:%.c=$(BUILD)/%.o) $(GBENCH_OBJ)
LIBS     := $(BUILD)/libtools.a $(BUILD)/liblatbench.a
# How this binary was built, recorded in every benchmark result (arch/build_info.c); the
# stamp file changes (and build_info.o is rebuilt) only when the commit, the flags or the kernel identity do.
BUILD_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD -- 2>/dev/null || echo -dirty)
BUILD_FLAGS_STR := $(subst ",,$(subst ',,$(CC) $(CFLAGS)))
# The kernel-relevant identity of the source, what a tuning profile is keyed by (with the compiler and
# flags; arch/profile.h): a hash of the sources that decide the kernels' code and the choice among
# variants, per group ("kernels/conv2d=1a2b3c4d5e6f ... arch=..."), so a commit that touches no kernel
# keeps a profile valid and one that does names the group that changed.  A group's hash covers its
# file names and contents in name order.
lb_src_hash = $(shell (echo $(1); cat $(1)) | sha256sum | cut -c1-12)
KERNEL_ID_ARCH := $(sort $(wildcard arch/registry.[ch] arch/cpu.[ch] arch/conv2d_problem.[ch]))
KERNEL_ID := $(foreach g,$(sort $(patsubst %/,%,$(dir $(wildcard kernels/*/*.h)))),$(g)=$(call lb_src_hash,$(sort $(wildcard $(g)/*.[ch] $(g)/*.inc)))) kernels=$(call lb_src_hash,$(sort $(wildcard kernels/*.h))) arch=$(call lb_src_hash,$(KERNEL_ID_ARCH))
$(BUILD)/arch/build_info.o $(BUILD)/pic/arch/build_info.o: CFLAGS += -DLB_GIT_COMMIT='"$(BUILD_COMMIT)"' -DLB_BUILD_FLAGS='"$(BUILD_FLAGS_STR)"' -DLB_KERNEL_ID='"$(KERNEL_ID)"'
$(BUILD)/arch/build_info.o: $(BUILD)/build-info.txt
# The version: one place, include/latbench.h's LATBENCH_VERSION_* (`latbench --version`, latbench_version(),
# the shared library's SONAME liblatbench.so.MAJOR and latbench.pc).
lb_version_part = $(shell sed -n 's/^\#define LATBENCH_VERSION_$(1) \([0-9][0-9]*\).*/\1/p' include/latbench.h)
LB_MAJOR   := $(call lb_version_part,MAJOR)
LB_MINOR   := $(call lb_version_part,MINOR)
LB_VERSION := $(LB_MAJOR).$(LB_MINOR).$(call lb_version_part,PATCH)
$(BUILD)/arch/build_info.o $(BUILD)/pic/arch/build_info.o: CFLAGS += -DLB_VERSION='"$(LB_VERSION)"'
$(BUILD)/arch/build_info.o $(BUILD)/pic/arch/build_info.o: include/latbench.h $(BUILD)/build-info.txt
$(BUILD)/build-info.txt: FORCE
	@mkdir -p $(dir $@)
	@echo '$(BUILD_COMMIT) $(BUILD_FLAGS_STR) $(KERNEL_ID)' | cmp -s - $@ || echo '$(BUILD_COMMIT) $(BUILD_FLAGS_STR) $(KERNEL_ID)' > $@
FORCE:

TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all deps deps-test run test test-bins fuzz fuzz-bins fuzz-coverage clean FORCE
all: $(if $(CROSS),$(BUILD)/latbench,latbench)

# what running needs (make run); make test adds what only the tests, fuzzing and man pages need
deps:
	@toolchain/install-deps.sh
deps-test:
	@toolchain/install-deps.sh --test

# copy, then rename: a running ./latbench keeps its old file ("text file busy" otherwise)
latbench: $(BUILD)/latbench
	@cp $< $@.tmp && mv -f $@.tmp $@

$(BUILD)/latbench: $(BUILD)/tools/cli/main.o $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/liblatbench.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libtools.a: $(TOOLS_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ISA_FLAGS_$(call isa_of,$<)) -MMD -MP -c $< -o $@

# The shared library: the library's sources compiled a second time, position-independent, into
# $(BUILD)/pic/ (the tools are not in it); only the latbench_* API is exported (toolchain/latbench.map,
# and -fvisibility=hidden for everything else).
PIC_OBJ  := $(LIB_SRC:%.c=$(BUILD)/pic/%.o)
SO_NAME  := liblatbench.so.$(LB_MAJOR)
SO_FILE  := $(SO_NAME).$(LB_MINOR)
# what the library itself links (also latbench.pc's Libs.private and Requires.private)
LIB_PC_REQUIRES := jansson
LIB_OMP  := $(if $(findstring clang,$(CC)),-lomp,-lgomp)
LIB_LIBS := $(shell pkg-config --libs $(LIB_PC_REQUIRES) 2>/dev/null || echo -ljansson) -lm -lpthread
$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -fvisibility=hidden $(ISA_FLAGS_$(call isa_of,$<)) -MMD -MP -c $< -o $@

$(BUILD)/$(SO_FILE): $(PIC_OBJ) toolchain/latbench.map
	$(CC) -shared -Wl,-soname,$(SO_NAME) -Wl,--version-script=toolchain/latbench.map -Wl,--no-undefined \
	    $(LDFLAGS) -o $@ $(PIC_OBJ) $(LIB_LIBS)
	ln -sf $(SO_FILE) $(BUILD)/$(SO_NAME)
	ln -sf $(SO_NAME) $(BUILD)/liblatbench.so

$(BUILD)/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/tests/%: tests/%.c $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $< $(LIBS) $(LDFLAGS) $(LDLIBS) -lcmocka

# the shared library too (tests/test_install.c installs it), in native builds without a sanitizer (the
# install test runs for build/release only: a second compile of the library elsewhere is CI time spent)
test-bins: $(TEST_BIN) $(BUILD)/latbench $(if $(SAN)$(filter aarch64,$(ARCH)),,$(BUILD)/$(SO_FILE))

# --- fuzzing (tests/fuzz/fuzz.sh) ---
# One libFuzzer target per parser, tests/fuzz/fuzz_<name>.c, each with a seed corpus in
# tests/fuzz/corpus/<name>/.  build/fuzz: the library with clang, ASan+UBSan and the fuzzer's
# coverage hooks; the targets link libFuzzer.  build/fuzz-cov: the same sources with clang's
# source-based coverage, the targets linked with a main that replays a corpus.
# `make fuzz [FUZZ_TIME=s]` fuzzes every target FUZZ_TIME seconds (default 60) and fails on any
# finding; `make fuzz-coverage` reports the line/region coverage of each parser by its corpus.
FUZZ_TIME    ?= 60
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_VARS    := CC=clang GBENCH=0 OPT=-O1
$(BUILD)/fuzz/%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h $(FUZZ_MAIN) $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(FUZZ_LINK) -o $@ $< $(FUZZ_MAIN) $(LIBS) $(LDFLAGS) $(LDLIBS)

# FUZZ_OPTIONAL=1 (make test): without a usable libFuzzer, say so and go on.
fuzz-bins:
	@if why=$$(tests/fuzz/fuzz.sh check); then \
	    $(MAKE) --no-print-directory BUILD=build/fuzz $(FUZZ_VARS) SAN="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
	        FUZZ_LINK=-fsanitize=fuzzer $(FUZZ_TARGETS:%=build/fuzz/fuzz/%); \
	elif [ -n "$(FUZZ_OPTIONAL)" ]; then echo "fuzz: NOT BUILT: $$why"; \
	else echo "fuzz: $$why" >&2; exit 1; fi

fuzz: fuzz-bins
	@tests/fuzz/fuzz.sh run build/fuzz $(FUZZ_TIME)

fuzz-coverage:
	@$(MAKE) --no-print-directory BUILD=build/fuzz-cov $(FUZZ_VARS) SAN="-fprofile-instr-generate -fcoverage-mapping" \
	    FUZZ_MAIN=tests/fuzz/replay.c $(FUZZ_TARGETS:%=build/fuzz-cov/fuzz/%)
	@tests/fuzz/fuzz.sh coverage build/fuzz-cov

run: deps
	@$(MAKE) -j$(JOBS) --no-print-directory all
	./latbench run

# On x86-64 the suite also cross-builds for AArch64 and runs those tests under qemu-aarch64.
ifeq ($(HOST_ARCH)-$(CROSS),x86_64-)
CROSS_TEST := build/aarch64
endif
# The whole suite: release build, a gcc ASan+UBSan build and a clang -Werror build; every test
# binary of both gcc builds (and of the AArch64 build, under qemu) runs, one per core at a time (the
# timing tests alone), and a short smoke of every
# fuzz target, summed into one "N passed, N failed" line.  The clang build only checks that every
# source compiles and links warning-free (nothing runs it): at -O0, a quarter of -O3's compile time
# (clang's warnings come from its front end, whatever the optimization level).
test: deps-test
	@$(MAKE) -j$(JOBS) --no-print-directory all test-bins
	@$(MAKE) -j$(JOBS) --no-print-directory test-bins BUILD=build/asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
	@$(MAKE) -j$(JOBS) --no-print-directory BUILD=build/clang CC=clang OPT=-O0 EXTRA_CFLAGS=-Werror build/clang/latbench
	@$(MAKE) -j$(JOBS) --no-print-directory fuzz-bins FUZZ_OPTIONAL=1
	@if [ -n "$(CROSS_TEST)" ]; then toolchain/install-cross.sh && $(MAKE) -j$(JOBS) --no-print-directory ARCH=aarch64 test-bins; fi
	@tests/run.sh -j $(JOBS) build/release build/asan $(CROSS_TEST) fuzz:build/fuzz

# --- install (README, "Install") ---
# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, both libraries, the public header,
# latbench.pc, the man pages latbench(1) (help2man over every command's --help) and latbench-COMMAND(1)
# per command, the bash completion
# and the plotting scripts.  Everything comes from the build's own objects (BUILD), nothing is rebuilt
# that is up to date; the man page and the completion run the built binary.  make uninstall removes
# the same files.
PREFIX   ?= /usr/local
DESTDIR  ?=
D        := $(DESTDIR)$(PREFIX)
INSTALL_FILES := bin/latbench lib/liblatbench.a lib/$(SO_FILE) lib/$(SO_NAME) lib/liblatbench.so \
    lib/pkgconfig/latbench.pc include/latbench.h share/man/man1/latbench.1 \
    share/bash-completion/completions/latbench $(addprefix share/latbench/,$(notdir $(wildcard tools/report/*.py)))

$(BUILD)/man/latbench.1: $(BUILD)/latbench toolchain/man-commands.sh
	@mkdir -p $(dir $@)
	@command -v help2man >/dev/null || { echo "install: help2man is missing (toolchain/install-deps.sh --test installs it)" >&2; exit 1; }
	toolchain/man-commands.sh $< > $(BUILD)/man/commands.h2m
	help2man --no-info --no-discard-stderr --section=1 --include=$(BUILD)/man/commands.h2m --version-string=$(LB_VERSION) \
	    --name="SIMD kernel benchmark harness, worm sampler and neural-net runtime" -o $@.tmp $<
	@mv -f $@.tmp $@

# latbench-COMMAND(1) for every command (help2man over its --help; latbench(1) lists them in SEE ALSO)
$(BUILD)/man/cmds/stamp: $(BUILD)/latbench toolchain/man-pages.sh
	@command -v help2man >/dev/null || { echo "install: help2man is missing (toolchain/install-deps.sh --test installs it)" >&2; exit 1; }
	@rm -rf $(dir $@)
	toolchain/man-pages.sh $< $(LB_VERSION) $(dir $@)
	@touch $@

$(BUILD)/latbench.bash: $(BUILD)/latbench toolchain/completion.sh
	toolchain/completion.sh $< > $@.tmp && mv -f $@.tmp $@

# The installed static library exports what the shared one does and nothing else: the library's
# objects linked into one relocatable object (their calls to one another resolved inside it; -d: the
# common symbols of named OpenMP critical sections allocated, so they can be made local too), every
# global symbol but the API made local.  The API is the one list of toolchain/latbench.map (its
# global "PREFIX*;" patterns); build/liblatbench.a itself keeps its names for the tests and tools.
LB_EXPORT_RE := ^($(shell sed -n 's/^ *\([A-Za-z_][A-Za-z0-9_]*\)\*;.*/\1/p' toolchain/latbench.map | paste -sd'|'))
OBJCOPY  ?= objcopy
$(BUILD)/install/liblatbench.a: $(LIB_OBJ) toolchain/latbench.map
	@mkdir -p $(dir $@)
	$(CC) -r -nostdlib -Wl,-d -o $(BUILD)/install/latbench.o $(LIB_OBJ)
	nm -g --defined-only $(BUILD)/install/latbench.o | awk 'NF >= 3 {print $$3}' | grep -E '$(LB_EXPORT_RE)' \
	    > $(BUILD)/install/latbench.syms
	$(OBJCOPY) --keep-global-symbols=$(BUILD)/install/latbench.syms $(BUILD)/install/latbench.o
	@rm -f $@
	ar rcs $@ $(BUILD)/install/latbench.o

.PHONY: install uninstall
install: $(BUILD)/latbench $(BUILD)/install/liblatbench.a $(BUILD)/$(SO_FILE) $(BUILD)/man/latbench.1 $(BUILD)/man/cmds/stamp \
    $(BUILD)/latbench.bash
	install -d $(D)/bin $(D)/lib/pkgconfig $(D)/include $(D)/share/man/man1 \
	    $(D)/share/bash-completion/completions $(D)/share/latbench
	install -m 755 $(BUILD)/latbench $(D)/bin/latbench
	install -m 644 $(BUILD)/install/liblatbench.a $(D)/lib/liblatbench.a
	install -m 755 $(BUILD)/$(SO_FILE) $(D)/lib/$(SO_FILE)
	ln -sf $(SO_FILE) $(D)/lib/$(SO_NAME)
	ln -sf $(SO_NAME) $(D)/lib/liblatbench.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(LB_VERSION)|' -e 's|@REQUIRES_PRIVATE@|$(LIB_PC_REQUIRES)|' \
	    -e 's|@LIBS_PRIVATE@|$(LIB_OMP) -lm -lpthread|' toolchain/latbench.pc.in > $(D)/lib/pkgconfig/latbench.pc
	install -m 644 include/latbench.h $(D)/include/latbench.h
	install -m 644 $(BUILD)/man/latbench.1 $(D)/share/man/man1/latbench.1
	install -m 644 $(BUILD)/man/cmds/latbench-*.1 $(D)/share/man/man1/
	install -m 644 $(BUILD)/latbench.bash $(D)/share/bash-completion/completions/latbench
	install -m 644 tools/report/*.py $(D)/share/latbench/

uninstall:
	rm -f $(addprefix $(D)/,$(INSTALL_FILES)) $(D)/share/man/man1/latbench-*.1
	-rmdir $(D)/share/latbench 2>/dev/null

clean:
	rm -rf build latbench

-include $(LIB_OBJ:.o=.d) $(PIC_OBJ:.o=.d) $(TOOLS_OBJ:.o=.d) $(BUILD)/tools/cli/main.d $(TEST_BIN:=.d)
