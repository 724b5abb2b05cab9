// The trace-driven simulator on the bundled data: the full year of the Azure
// trace (99,988 jobs), four zones (US-CAL-CISO, ES, NO, BR), all seven
// policies, building the forecasts included, every node choice a Scheduler
// cycle on the simulated cluster's snapshot (the target: <= 60 s);
// and one policy at a time on a prepared Simulator. Reads data/ from the
// current directory, or from $CARBONKUBE_SOURCE_DIR. Run from the repo root:
//   build-sim/bin/bench_simulator --benchmark_min_time=1x
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "carbonkube/kube.hpp"
#include "carbonkube/signals.hpp"
#include "carbonkube/simulator.hpp"
#include "carbonkube/workload_trace.hpp"

using namespace carbonkube;

namespace {

std::string root() {
  const char* env = std::getenv("CARBONKUBE_SOURCE_DIR");
  return env ? std::string(env) : std::string(".");
}

struct Inputs {
  CarbonSignals signals;
  std::vector<TraceJob> trace;
  std::vector<ClusterZone> zones;
  bool ok = false;
};

const Inputs& inputs() {
  static const Inputs in = [] {
    Inputs i;
    const std::string dir = root() + "/data/carbon/electricitymaps/";
    const std::string trace = root() + "/data/workloads/azure-100k.csv";
    if (!std::filesystem::exists(trace)) return i;
    for (const char* z : {"US-CAL-CISO", "ES", "NO", "BR"}) {
      const std::string f = dir + z + "_2023_hourly.csv";
      i.signals.add(load_electricitymaps_csv(read_file(f), f, IntensityScope::kLifecycle).series);
      ClusterZone c;
      c.zone = z;
      i.zones.push_back(c);
    }
    i.trace = load_workload_csv(trace);
    i.ok = true;
    return i;
  }();
  return in;
}

void BM_SimulateYearAllPolicies(benchmark::State& state) {
  const Inputs& in = inputs();
  if (!in.ok) {
    state.SkipWithError("data/ not found: run from the repo root or set CARBONKUBE_SOURCE_DIR");
    return;
  }
  double kg = 0;
  for (auto _ : state) {
    Simulator sim(in.signals, in.zones, in.trace);
    for (const SimPolicy& p : standard_policies()) kg += sim.run(p).kg;
    benchmark::DoNotOptimize(kg);
  }
  state.counters["jobs"] = static_cast<double>(in.trace.size());
}
BENCHMARK(BM_SimulateYearAllPolicies)->Unit(benchmark::kSecond)->Iterations(1);

void BM_SimulatePolicy(benchmark::State& state) {
  const Inputs& in = inputs();
  if (!in.ok) {
    state.SkipWithError("data/ not found: run from the repo root or set CARBONKUBE_SOURCE_DIR");
    return;
  }
  static std::unique_ptr<Simulator> sim;
  if (!sim) sim = std::make_unique<Simulator>(in.signals, in.zones, in.trace);
  const SimPolicy p = standard_policies()[static_cast<std::size_t>(state.range(0))];
  state.SetLabel(p.name);
  sim->run(p);  // forecasts built outside the timing
  for (auto _ : state) benchmark::DoNotOptimize(sim->run(p).kg);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(in.trace.size()));
}
BENCHMARK(BM_SimulatePolicy)->DenseRange(0, 6)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
