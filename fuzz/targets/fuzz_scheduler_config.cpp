// Fuzz target: KubeSchedulerConfiguration (parse_scheduler_config) and its
// compilation into profiles (compile_profile, every profile by name: plugin
// sets, weights, multiPoint expansion, each plugin's args), then one cycle
// of each compiled profile on the bundled example cluster.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.hpp"
#include "fuzz_world.hpp"

using namespace carbonkube;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ck_fuzz::World& world = ck_fuzz::World::get();
  SchedulerConfig config;
  if (!ck_fuzz::expect_ok_or_error(
          [&] { config = parse_scheduler_config(ck_fuzz::as_text(data, size), ck_fuzz::kSource); }))
    return 0;
  std::vector<std::string> names;
  names.emplace_back();  // the first profile
  for (const auto& p : config.profiles) names.push_back(p.scheduler_name);
  const ClusterSnapshot& snap = *world.snapshot;
  ClusterConditions cond = ClusterConditions::build(snap, world.zones, world.signals, world.at);
  for (const std::string& name : names) {
    std::optional<Scheduler> scheduler;
    if (!ck_fuzz::expect_ok_or_error([&] { scheduler.emplace(compile_profile(config, name)); }, ""))
      continue;
    for (const auto& s : scheduler->profile().scores())
      ck_fuzz::check(s.weight > 0, "a compiled score plugin has a weight <= 0");
    for (const CompiledPod& pod : world.pending) {
      ScoringContext ctx(11);
      ck_fuzz::expect_ok_or_error(
          [&] {
            CycleResult r = scheduler->schedule(snap, pod, ctx, &cond);
            if (r.selected) ck_fuzz::check(r.total >= 0, "negative total");
          },
          "");
    }
  }
  return 0;
}
