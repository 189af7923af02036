# latbench — see README.md.  `make` builds ./latbench; `make run` and `make test` are the two
# commands a user types (both install missing Debian packages first).
CC       ?= gcc
BUILD    ?= build/release
SAN      ?=
OPT      ?= -O3
include toolchain/flags.mk

ARCH_CFLAGS :=
CFLAGS   := -std=gnu11 $(OPT) -g -Wall -Wextra -Wshadow -Wno-unused-parameter -fopenmp -I. $(ARCH_CFLAGS) $(SAN) $(EXTRA_CFLAGS)
LDLIBS   := -ldnnl -lhwloc -ljansson -lm -lpthread
LDFLAGS  := -fopenmp $(SAN)

HOST_ARCH := $(shell uname -m)
ifeq ($(HOST_ARCH),x86_64)
EXCLUDE_ISA := %-neon.c
else
EXCLUDE_ISA := %-avx2.c %-avx512.c
endif

LIB_SRC  := $(filter-out $(EXCLUDE_ISA),$(wildcard arch/*.c kernels/*/*.c harness/*/*.c))
LIB_SRC  := $(filter-out harness/cli/main.c,$(LIB_SRC))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all deps run test test-bins clean
all: latbench

deps:
	@toolchain/install-deps.sh

latbench: $(BUILD)/latbench
	@cp $< $@

$(BUILD)/latbench: $(BUILD)/harness/cli/main.o $(BUILD)/liblatbench.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/liblatbench.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ISA_FLAGS_$(call isa_of,$<)) -MMD -MP -c $< -o $@

$(BUILD)/tests/%: tests/%.c $(BUILD)/liblatbench.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $< $(BUILD)/liblatbench.a $(LDFLAGS) $(LDLIBS) -lcmocka

test-bins: $(TEST_BIN) $(BUILD)/latbench

run: deps
	@$(MAKE) --no-print-directory all
	./latbench run

# The whole suite: release build, a gcc ASan+UBSan build and a clang -Werror build; every test
# binary of both gcc builds runs, summed into one "N passed, N failed" line.
test: deps
	@$(MAKE) --no-print-directory all test-bins
	@$(MAKE) --no-print-directory test-bins BUILD=build/asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
	@$(MAKE) --no-print-directory BUILD=build/clang CC=clang EXTRA_CFLAGS=-Werror build/clang/latbench
	@tests/run.sh build/release build/asan

clean:
	rm -rf build latbench

-include $(LIB_OBJ:.o=.d) $(BUILD)/harness/cli/main.d $(TEST_BIN:=.d)
