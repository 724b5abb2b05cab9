// A STREAM-like memory bandwidth probe for the physical-limit estimate in
// docs/benchmarks-side-by-side.md: how fast one core reads (sum), copies and
// runs a triad over arrays of 32 KiB (L1) to 512 MiB (DRAM). bytes_per_second
// counts bytes read plus written; compare.sh divides the bytes a node-score
// must read by the read rate at the snapshot's size.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

namespace {

std::vector<double> filled(std::size_t n, double v) {
  std::vector<double> a(n);
  std::iota(a.begin(), a.end(), v);
  return a;
}

// Read-only: the scoring kernels' access pattern (columns read, nothing written).
void BM_StreamRead(benchmark::State& state) {
  const auto bytes = static_cast<std::size_t>(state.range(0));
  const std::size_t n = bytes / sizeof(double);
  const std::vector<double> a = filled(n, 1.0);
  for (auto _ : state) {
    // Four accumulators so the add latency does not bound the loop.
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (std::size_t i = 0; i + 4 <= n; i += 4) {
      s0 += a[i];
      s1 += a[i + 1];
      s2 += a[i + 2];
      s3 += a[i + 3];
    }
    double s = (s0 + s1) + (s2 + s3);
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(n * sizeof(double)));
}
BENCHMARK(BM_StreamRead)->RangeMultiplier(8)->Range(32 << 10, 512 << 20);

void BM_StreamCopy(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0)) / sizeof(double);
  const std::vector<double> a = filled(n, 1.0);
  std::vector<double> c(n);
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i) c[i] = a[i];
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(2 * n * sizeof(double)));
}
BENCHMARK(BM_StreamCopy)->Arg(256 << 10)->Arg(512 << 20);

void BM_StreamTriad(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0)) / sizeof(double);
  const std::vector<double> b = filled(n, 1.0);
  const std::vector<double> c = filled(n, 2.0);
  std::vector<double> a(n);
  const double q = 3.0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + q * c[i];
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(3 * n * sizeof(double)));
}
BENCHMARK(BM_StreamTriad)->Arg(256 << 10)->Arg(512 << 20);

}  // namespace

BENCHMARK_MAIN();
