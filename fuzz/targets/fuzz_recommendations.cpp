// Fuzz target: container recommendations from a VerticalPodAutoscaler or a
// KVPA-shaped object (parse_container_recommendations). Oracles: every
// amount is finite and >= 0, lowerBound <= target <= upperBound for CPU and
// memory, and each recommendation names its container.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "carbonkube/recommender.hpp"
#include "fuzz_common.hpp"

using namespace carbonkube;

namespace {

void check_amounts(const ResourceAmounts& a) {
  ck_fuzz::check(std::isfinite(a.cpu_cores) && a.cpu_cores >= 0, "cpu not finite and >= 0");
  ck_fuzz::check(std::isfinite(a.memory_bytes) && a.memory_bytes >= 0,
                 "memory not finite and >= 0");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = ck_fuzz::as_text(data, size);
  std::vector<NamedRecommendation> recs;
  if (!ck_fuzz::expect_ok_or_error(
          [&] { recs = parse_container_recommendations(text, ck_fuzz::kSource); }))
    return 0;
  for (const NamedRecommendation& n : recs) {
    ck_fuzz::check(!n.container_name.empty(), "a recommendation without a container name");
    const Recommendation& r = n.recommendation;
    for (const ResourceAmounts* a : {&r.target, &r.lower_bound, &r.upper_bound, &r.uncapped_target})
      check_amounts(*a);
    ck_fuzz::check(r.lower_bound.cpu_cores <= r.target.cpu_cores &&
                       r.target.cpu_cores <= r.upper_bound.cpu_cores,
                   "cpu bounds out of order");
    ck_fuzz::check(r.lower_bound.memory_bytes <= r.target.memory_bytes &&
                       r.target.memory_bytes <= r.upper_bound.memory_bytes,
                   "memory bounds out of order");
  }
  return 0;
}
