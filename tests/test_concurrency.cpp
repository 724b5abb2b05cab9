// Concurrency: many threads score against shared immutable snapshots while
// one writer keeps publishing new ones. Run under TSan by scripts/test.sh.
#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "carbonkube/pod.hpp"
#include "carbonkube/profile.hpp"
#include "carbonkube/scheduler.hpp"
#include "carbonkube/snapshot.hpp"
#include "fixtures.hpp"

using namespace carbonkube;
using namespace ck_test;

TEST_CASE("concurrency: readers score shared snapshots while a writer publishes") {
  auto c = random_cluster(99, 200, 400, 16);
  ClusterState state;
  for (const auto& n : c.nodes) state.upsert_node(n);
  for (const auto& p : c.bound) state.upsert_pod(p);
  std::mutex latest_mutex;  // guards only the pointer swap, never the snapshot
  SnapshotPtr latest = state.publish();
  const Scheduler scheduler(default_profile());
  std::atomic<bool> stop{false};
  std::atomic<int> cycles{0};

  // Each reader also checks that a snapshot it holds gives the same answer
  // every time, whatever the writer does meanwhile.
  std::atomic<int> mismatches{0};
  auto reader = [&](std::uint64_t seed) {
    ScoringContext ctx(seed);
    while (!stop.load()) {
      SnapshotPtr snap;
      {
        std::lock_guard<std::mutex> lock(latest_mutex);
        snap = latest;
      }
      for (const Pod& p : c.pending) {
        CompiledPod pod = compile_pod(p, *snap);
        ScoringContext a(seed), b(seed);
        CycleResult r1 = scheduler.schedule(*snap, pod, a);
        CycleResult r2 = scheduler.schedule(*snap, pod, b);
        if (r1.selected != r2.selected || r1.total != r2.total) mismatches.fetch_add(1);
        scheduler.schedule(*snap, pod, ctx);
        cycles.fetch_add(1);
      }
    }
  };
  std::vector<std::thread> threads;
  for (std::uint64_t t = 0; t < 3; ++t) threads.emplace_back(reader, t + 1);
  for (int step = 0; step < 200; ++step) {
    const Pod& p = c.pending[static_cast<std::size_t>(step) % c.pending.size()];
    state.assume_pod(p, c.nodes[static_cast<std::size_t>(step) % c.nodes.size()].name);
    if (step % 10 == 0) state.remove_node(c.nodes[static_cast<std::size_t>(step)].name);
    SnapshotPtr next = state.publish();
    std::lock_guard<std::mutex> lock(latest_mutex);
    latest = std::move(next);
  }
  while (cycles.load() < 200) std::this_thread::yield();
  stop.store(true);
  for (auto& t : threads) t.join();
  CHECK(mismatches.load() == 0);
  CHECK(cycles.load() >= 200);
}
