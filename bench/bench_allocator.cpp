// The allocator's hot paths: RL decide and update (targets: <= 2 us and
// <= 5 us), a recommender sample, a recommendation, the carbon rule, and one
// replay step of the evaluation model. Run:
//   build/bin/bench_allocator --benchmark_min_time=0.5
// (see docs/allocator.md for the recorded numbers).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "carbonkube/carbon_adjustment.hpp"
#include "carbonkube/recommender.hpp"
#include "carbonkube/rl.hpp"
#include "carbonkube/usage_model.hpp"

using namespace carbonkube;

namespace {

std::vector<AllocationContext> contexts(int n) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<AllocationContext> out;
  for (int i = 0; i < n; ++i) {
    AllocationContext c;
    const double cpu = 0.2 + 3.0 * u(rng);
    const double mem = (0.5 + 3.0 * u(rng)) * kGiB;
    c.base.target = {cpu, mem};
    c.base.lower_bound = {cpu * 0.5, mem * 0.5};
    c.base.upper_bound = {cpu * 2.0, mem * 2.0};
    c.base.has_data = true;
    c.adjusted = c.base.target;
    c.sla_floor = {cpu * 0.5, mem * 0.5};
    c.memory_peak_bytes = mem * 0.6;
    c.observation.cpu_usage_ratio = u(rng);
    c.observation.cpu_tail_ratio = 1.5 * u(rng);
    c.observation.intensity_g_per_kwh = 400 * u(rng);
    c.observation.unix_seconds = 1672531200 + i * 900;
    out.push_back(c);
  }
  return out;
}

void BM_RlDecide(benchmark::State& state) {
  RlOptimizer opt;
  const auto ctx = contexts(1024);
  std::size_t i = 0;
  for (auto _ : state) {
    AllocationDecision d = opt.decide(ctx[i++ & 1023]);
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_RlDecide);

void BM_RlUpdate(benchmark::State& state) {
  RlOptimizer opt;
  const auto ctx = contexts(1024);
  std::vector<AllocationDecision> ds;
  for (const auto& c : ctx) ds.push_back(opt.decide(c));
  const AllocationOutcome o{0.3, 0.2, 0.01, 0.0, 0.02};
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = opt.update(ds[i++ & 1023], o);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_RlUpdate);

void BM_RecommenderSample(benchmark::State& state) {
  ContainerRecommender r;
  std::int64_t t = 1672531200;
  double v = 0.1;
  for (auto _ : state) {
    r.add_cpu_sample(t, v, 1.0);
    r.add_memory_sample(t, v * 1e9);
    t += 60;
    v = v > 3.0 ? 0.1 : v * 1.01;
  }
}
BENCHMARK(BM_RecommenderSample);

void BM_Recommend(benchmark::State& state) {
  ContainerRecommender r;
  std::mt19937_64 rng(2);
  std::lognormal_distribution<double> d(0.0, 0.5);
  for (int i = 0; i < 8 * 1440; ++i) {
    r.add_cpu_sample(1672531200 + 60 * i, d(rng), 1.0);
    r.add_memory_sample(1672531200 + 60 * i, d(rng) * 1e9);
  }
  for (auto _ : state) {
    Recommendation rec = r.recommend();
    benchmark::DoNotOptimize(rec);
  }
}
BENCHMARK(BM_Recommend);

void BM_CarbonAdjustment(benchmark::State& state) {
  const auto ctx = contexts(1);
  const CarbonAdjustmentConfig cfg;
  const SlaRequirements sla;
  double intensity = 50.0;
  for (auto _ : state) {
    CarbonAdjusted a = apply_carbon_adjustment(ctx[0].base, intensity, sla, cfg);
    benchmark::DoNotOptimize(a);
    intensity = intensity > 500.0 ? 50.0 : intensity + 7.0;
  }
}
BENCHMARK(BM_CarbonAdjustment);

void BM_UsageAndStep(benchmark::State& state) {
  UsageGenerator g(WorkloadShape{}, 3, 1672531200, 300);
  const OutcomeModelConfig m;
  for (auto _ : state) {
    const UsageSample u = g.next();
    StepOutcome o = simulate_step(u, {1.5, 2 * kGiB}, 200.0, 300.0, m);
    benchmark::DoNotOptimize(o);
  }
}
BENCHMARK(BM_UsageAndStep);

}  // namespace
BENCHMARK_MAIN();
