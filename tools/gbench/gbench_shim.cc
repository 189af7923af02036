// The C interface of gbench_shim.h over google-benchmark 1.7 (the only C++ file of latbench).
#include "tools/gbench/gbench_shim.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

struct gb_state {
    benchmark::State *s;
    bool batch_started;   // gb_batch has handed out the run's iterations
};

// gb_benchmark stays incomplete: a handle is a benchmark::internal::Benchmark pointer.
static benchmark::internal::Benchmark *bm(gb_benchmark *b) { return reinterpret_cast<benchmark::internal::Benchmark *>(b); }

namespace {
// Hands every run to the reporter it wraps with google-benchmark's time-type suffix ("/real_time")
// left out of its name: latbench's names follow one grammar in bench and bench --gbench (README
// "Benchmark names"), and its times are wall time unless --cpu-time says otherwise.
class NameReporter : public benchmark::BenchmarkReporter {
  public:
    explicit NameReporter(benchmark::BenchmarkReporter *inner) : inner_(inner) {}
    bool ReportContext(const Context &context) override {
        inner_->SetOutputStream(&GetOutputStream());
        inner_->SetErrorStream(&GetErrorStream());
        return inner_->ReportContext(context);
    }
    void ReportRuns(const std::vector<Run> &runs) override {
        std::vector<Run> named(runs);
        for (Run &r : named) r.run_name.time_type.clear();
        inner_->ReportRuns(named);
    }
    void Finalize() override { inner_->Finalize(); }

  private:
    std::unique_ptr<benchmark::BenchmarkReporter> inner_;
};
}  // namespace

extern "C" {

gb_benchmark *gb_register(const char *name, gb_fn *fn, void *ctx) {
    if (!name || !fn) {
        std::fprintf(stderr, "gbench: gb_register needs a name and a function\n");
        return nullptr;
    }
    benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(name, [fn, ctx](benchmark::State &s) {
        gb_state st{&s, false};
        fn(&st, ctx);
    });
    return reinterpret_cast<gb_benchmark *>(b);
}

void gb_opt_repetitions(gb_benchmark *b, int n) { bm(b)->Repetitions(n); }
void gb_opt_min_time(gb_benchmark *b, double seconds) { bm(b)->MinTime(seconds); }
void gb_opt_min_warmup_time(gb_benchmark *b, double seconds) { bm(b)->MinWarmUpTime(seconds); }
void gb_opt_real_time(gb_benchmark *b) { bm(b)->UseRealTime(); }

void gb_opt_unit(gb_benchmark *b, gb_unit unit) {
    static const benchmark::TimeUnit units[] = {benchmark::kNanosecond, benchmark::kMicrosecond, benchmark::kMillisecond,
                                                benchmark::kSecond};
    bm(b)->Unit(units[unit >= GB_UNIT_NS && unit <= GB_UNIT_S ? unit : GB_UNIT_NS]);
}

// One KeepRunningBatch(max_iterations) starts the timer and takes every iteration; the next call
// (KeepRunningBatch(1) with none left) stops it and returns false.
long gb_batch(gb_state *st) {
    if (st->batch_started) {
        st->s->KeepRunningBatch(1);
        return 0;
    }
    st->batch_started = true;
    const benchmark::IterationCount n = st->s->max_iterations;
    return st->s->KeepRunningBatch(n) ? static_cast<long>(n) : 0;
}

bool gb_keep_running(gb_state *st) { return st->s->KeepRunning(); }
long gb_iterations(const gb_state *st) { return static_cast<long>(st->s->iterations()); }
void gb_pause_timing(gb_state *st) { st->s->PauseTiming(); }
void gb_resume_timing(gb_state *st) { st->s->ResumeTiming(); }
void gb_skip_with_error(gb_state *st, const char *msg) { st->s->SkipWithError(msg ? msg : "error"); }

void gb_set_counter(gb_state *st, const char *name, double value, int flags) {
    int f = benchmark::Counter::kDefaults;
    if (flags & GB_COUNTER_RATE) f |= benchmark::Counter::kIsRate;
    if (flags & GB_COUNTER_AVG_THREADS) f |= benchmark::Counter::kAvgThreads;
    if (flags & GB_COUNTER_ITER_INVARIANT) f |= benchmark::Counter::kIsIterationInvariant;
    if (flags & GB_COUNTER_AVG_ITERATIONS) f |= benchmark::Counter::kAvgIterations;
    if (flags & GB_COUNTER_INVERT) f |= benchmark::Counter::kInvert;
    st->s->counters[name] = benchmark::Counter(value, static_cast<benchmark::Counter::Flags>(f));
}

void gb_set_bytes_processed(gb_state *st, double bytes) { st->s->SetBytesProcessed(static_cast<int64_t>(bytes)); }
void gb_set_items_processed(gb_state *st, double items) { st->s->SetItemsProcessed(static_cast<int64_t>(items)); }
void gb_set_label(gb_state *st, const char *label) { st->s->SetLabel(label ? label : ""); }

void gb_add_context(const char *key, const char *value) { benchmark::AddCustomContext(key, value ? value : ""); }

int gb_init(int argc, char **argv) {
    benchmark::Initialize(&argc, argv);
    return benchmark::ReportUnrecognizedArguments(argc, argv) ? 2 : 0;
}

// --benchmark_out_format=csv: google-benchmark deprecates its CSV reporter but still takes the flag
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
int gb_run(int *n_run, const char *out_format) {
    NameReporter display(benchmark::CreateDefaultDisplayReporter());
    std::unique_ptr<NameReporter> file;
    if (out_format) {
        benchmark::BenchmarkReporter *in;
        if (!std::strcmp(out_format, "console")) in = new benchmark::ConsoleReporter(benchmark::ConsoleReporter::OO_None);
        else if (!std::strcmp(out_format, "csv")) in = new benchmark::CSVReporter();
        else in = new benchmark::JSONReporter();
        file.reset(new NameReporter(in));
    }
    const size_t n = benchmark::RunSpecifiedBenchmarks(&display, file.get());
    benchmark::Shutdown();
    if (n_run) *n_run = static_cast<int>(n);
    return n > 0 ? 0 : 1;
}
#pragma GCC diagnostic pop

}  // extern "C"
