// The fused resource-term kernels (src/plugins/resource_kernels.hpp) against
// the plain per-node reference formulas (carbonkube/resource_scoring.hpp) on
// random columns with edge values: zero allocatable, capacities up to the
// exactness bound, requests above allocatable, huge bound usage, equal
// fractions (the certified fast path's fallback), contiguous and gathered
// node lists. And the scheduling cycle allocates nothing once warm.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <vector>

#include "../src/plugins/resource_kernels.hpp"
#include "carbonkube/pod.hpp"
#include "carbonkube/profile.hpp"
#include "carbonkube/resource_scoring.hpp"
#include "carbonkube/scheduler.hpp"
#include "carbonkube/snapshot.hpp"
#include "fixtures.hpp"

// Counts every allocation of this test binary, so a test can prove a code
// path allocates nothing.
namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
// GCC cannot see that operator new above is the malloc these free.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
// The nothrow forms too (std::stable_sort's temporary buffer uses them):
// otherwise ASan's own nothrow new would meet the free above.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
#pragma GCC diagnostic pop

using namespace carbonkube;
namespace kernels = carbonkube::detail::kernels;

namespace {

// One resource's columns for n nodes, as the snapshot holds them.
struct ResourceColumns {
  std::vector<std::int64_t> capacity, used;
  std::vector<double> capacity_f64, inverse, used_f64;
  std::int64_t pod_request = 0;
  std::int64_t weight = 1;
};

std::int64_t pick(std::mt19937_64& rng, std::int64_t lo, std::int64_t hi) {
  return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
}

// Capacities and usage with the edge cases the kernels must get right.
ResourceColumns random_resource(std::mt19937_64& rng, std::size_t n, bool tie_to_first,
                                const ResourceColumns* first) {
  ResourceColumns c;
  c.weight = pick(rng, 1, 100);
  const std::int64_t scale = std::int64_t{1} << pick(rng, 0, 36);
  c.pod_request = pick(rng, 0, 4) == 0 ? 0 : pick(rng, 1, 64) * scale;
  for (std::size_t i = 0; i < n; ++i) {
    std::int64_t cap = 0, used = 0;
    switch (pick(rng, 0, 9)) {
      case 0:  // the node lacks the resource
        cap = 0;
        used = pick(rng, 0, 3) == 0 ? pick(rng, 1, 1000) : 0;
        break;
      case 1:  // the exactness bound
        cap = kernels::kMaxExactAllocatable - pick(rng, 0, 3);
        used = pick(rng, 0, cap);
        break;
      case 2:  // requests above allocatable, or exactly at it
        cap = pick(rng, 1, 1000) * scale;
        used = cap - c.pod_request + pick(rng, -1, 1000);
        break;
      case 3:  // bound usage far beyond anything allocatable
        cap = pick(rng, 1, 1000) * scale;
        used = std::int64_t{1} << pick(rng, 47, 60);
        break;
      case 4:  // round numbers: whole-percent quotients
        cap = 100 * pick(rng, 1, 64) * scale;
        used = cap / 4 * pick(rng, 0, 4);
        break;
      default:
        cap = pick(rng, 1, std::int64_t{1} << pick(rng, 1, 46));
        used = pick(rng, 0, cap + cap / 4);
    }
    // The same fraction as the first resource on this node: Balanced scores
    // exactly 100, the case its fast path must hand to the exact one.
    if (tie_to_first && first && first->capacity[i] > 0 &&
        first->used[i] + first->pod_request <= first->capacity[i] && pick(rng, 0, 1) == 0) {
      const std::int64_t k = pick(rng, 1, 8);
      cap = first->capacity[i] * k;
      used = (first->used[i] + first->pod_request) * k - c.pod_request;
      if (cap > kernels::kMaxExactAllocatable || used < 0) {
        cap = first->capacity[i];
        used = first->used[i] + first->pod_request - c.pod_request;
        if (used < 0) used = 0;
      }
    }
    if (used < 0) used = 0;
    c.capacity.push_back(cap);
    c.used.push_back(used);
    c.capacity_f64.push_back(static_cast<double>(cap));
    c.inverse.push_back(cap > 0 ? 1.0 / static_cast<double>(cap) : 0.0);
    c.used_f64.push_back(static_cast<double>(used));
  }
  return c;
}

std::int64_t reference(kernels::TermKind kind, const std::vector<ResourceColumns>& res,
                       std::size_t i) {
  std::vector<std::int64_t> req, alloc, weights;
  for (const auto& r : res) {
    req.push_back(r.used[i] + r.pod_request);
    alloc.push_back(r.capacity[i]);
    weights.push_back(r.weight);
  }
  switch (kind) {
    case kernels::TermKind::kLeastAllocated:
      return least_allocated_node_score(req, alloc, weights);
    case kernels::TermKind::kMostAllocated:
      return most_allocated_node_score(req, alloc, weights);
    case kernels::TermKind::kBalanced:
      return balanced_allocation_node_score(req, alloc);
  }
  return -1;
}

}  // namespace

TEST_CASE("property: fused resource terms equal the per-node reference on random columns") {
  const kernels::TermKind kinds[] = {kernels::TermKind::kLeastAllocated,
                                     kernels::TermKind::kMostAllocated,
                                     kernels::TermKind::kBalanced};
  std::uint64_t checked = 0;
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    std::mt19937_64 rng(seed);
    const std::size_t n = static_cast<std::size_t>(pick(rng, 1, 700));
    const std::size_t count = static_cast<std::size_t>(pick(rng, 0, 4));
    std::vector<ResourceColumns> res;
    for (std::size_t r = 0; r < count; ++r)
      res.push_back(random_resource(rng, n, r == 1, res.empty() ? nullptr : &res[0]));
    for (const auto kind : kinds) {
      kernels::ResourceTerm term;
      term.kind = kind;
      term.count = count;
      for (std::size_t r = 0; r < count; ++r)
        term.resources[r] = {res[r].capacity_f64.data(), res[r].inverse.data(),
                             res[r].used_f64.data(), static_cast<double>(res[r].pod_request),
                             static_cast<double>(res[r].weight)};
      const std::int64_t weight = pick(rng, 1, 100);
      // Every node in order (read in place), then a random subset (gathered).
      std::vector<std::uint32_t> all(n);
      for (std::size_t i = 0; i < n; ++i) all[i] = static_cast<std::uint32_t>(i);
      std::vector<std::uint32_t> subset;
      for (std::size_t i = 0; i < n; ++i)
        if (pick(rng, 0, 2) != 0) subset.push_back(static_cast<std::uint32_t>(i));
      for (const auto* nodes : {&all, &subset}) {
        const std::size_t m = nodes->size();
        if (m == 0) continue;
        std::vector<std::int64_t> scores(m, -7), totals(m);
        for (auto& t : totals) t = pick(rng, 0, 1000);
        const std::vector<std::int64_t> before = totals;
        kernels::score_term(term, nodes->data(), m, nodes == &all, weight, scores.data(),
                            totals.data());
        for (std::size_t k = 0; k < m; ++k) {
          const std::size_t i = (*nodes)[k];
          const std::int64_t expected = reference(kind, res, i);
          if (scores[k] != expected) {
            CAPTURE(seed);
            CAPTURE(static_cast<int>(kind));
            CAPTURE(count);
            CAPTURE(i);
            CHECK(scores[k] == expected);
          }
          if (totals[k] != before[k] + weight * expected)
            CHECK(totals[k] == before[k] + weight * expected);
          ++checked;
        }
      }
    }
  }
  CHECK(checked > 100000);
}

TEST_CASE("fused Balanced: equal fractions (exactly 100) and near-integer results are exact") {
  // Fractions a == b (score 100) and pairs whose result is an integer: the
  // vector pass must hand these to the exact path.
  std::vector<double> cap0, cap1, used0, used1, inv0, inv1;
  std::vector<std::int64_t> c0, c1, u0, u1;
  for (std::int64_t i = 1; i <= 2000; ++i) {
    const std::int64_t a = 1000 * i, b = (std::int64_t{1} << 30) + 7 * i;
    const std::int64_t ua = (i % 7) * a / 7, ub = i % 2 == 0 ? (i % 7) * b / 7 : b / (1 + i % 5);
    c0.push_back(a);
    c1.push_back(b);
    u0.push_back(ua);
    u1.push_back(ub);
    cap0.push_back(static_cast<double>(a));
    cap1.push_back(static_cast<double>(b));
    used0.push_back(static_cast<double>(ua));
    used1.push_back(static_cast<double>(ub));
    inv0.push_back(1.0 / static_cast<double>(a));
    inv1.push_back(1.0 / static_cast<double>(b));
  }
  kernels::ResourceTerm term;
  term.kind = kernels::TermKind::kBalanced;
  term.count = 2;
  term.resources[0] = {cap0.data(), inv0.data(), used0.data(), 0.0, 1.0};
  term.resources[1] = {cap1.data(), inv1.data(), used1.data(), 0.0, 1.0};
  std::vector<std::uint32_t> nodes(c0.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) nodes[i] = static_cast<std::uint32_t>(i);
  std::vector<std::int64_t> scores(nodes.size()), totals(nodes.size(), 0);
  kernels::score_term(term, nodes.data(), nodes.size(), true, 1, scores.data(), totals.data());
  std::size_t hundreds = 0;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const std::int64_t req[] = {u0[i], u1[i]}, alloc[] = {c0[i], c1[i]};
    const std::int64_t expected = balanced_allocation_node_score(req, alloc);
    if (scores[i] != expected) {
      CAPTURE(i);
      CHECK(scores[i] == expected);
    }
    hundreds += expected == 100 ? 1 : 0;
  }
  CHECK(hundreds > 100);  // the case exercised, not assumed
}

TEST_CASE("a scheduling cycle allocates nothing once its context is warm") {
  auto c = ck_test::random_cluster(11, 300, 900, 20);
  KubeObjects objs;
  objs.nodes = c.nodes;
  objs.pods = c.bound;
  auto snap = ClusterState::build(objs);
  const char* configs[] = {
      // kube-scheduler's default plugins that carbonkube runs, every node scored
      "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
      "profiles:\n- percentageOfNodesToScore: 100\n",
      // Fit + Balanced only, MostAllocated
      "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
      "profiles:\n- percentageOfNodesToScore: 100\n  plugins:\n"
      "    multiPoint: {disabled: [{name: '*'}]}\n"
      "    filter: {enabled: [{name: NodeResourcesFit}]}\n"
      "    score: {enabled: [{name: NodeResourcesFit}, {name: "
      "NodeResourcesBalancedAllocation}]}\n"
      "  pluginConfig:\n  - name: NodeResourcesFit\n"
      "    args: {scoringStrategy: {type: MostAllocated}}\n",
  };
  for (const char* config : configs) {
    Scheduler sched(compile_profile(parse_scheduler_config(config, "alloc.yaml")));
    std::vector<CompiledPod> pods;
    for (const Pod& p : c.pending)
      if (p.tolerations.empty() && p.node_selector.empty() && !p.node_affinity.required &&
          p.node_affinity.preferred.empty())
        pods.push_back(compile_pod(p, *snap));
    REQUIRE(!pods.empty());
    ScoringContext ctx(3);
    for (const CompiledPod& p : pods) sched.schedule(*snap, p, ctx);  // warm-up
    const std::uint64_t before = g_allocations.load();
    std::uint32_t feasible = 0;
    for (int round = 0; round < 3; ++round)
      for (const CompiledPod& p : pods) feasible += sched.schedule(*snap, p, ctx).feasible;
    CHECK(feasible > 0);
    CHECK(g_allocations.load() - before == 0);
  }
}
