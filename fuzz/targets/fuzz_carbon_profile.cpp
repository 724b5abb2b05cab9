// Fuzz target: the CarbonProfile custom resource (parse_carbon_profile) and
// the Helm values' katalyst.qosProfiles (parse_helm_qos_profiles); the first
// byte picks the parser. Oracles: a returned profile set satisfies
// QosProfileSet's own invariants (finite, strictly increasing thresholds,
// guarantees in 0..1, PUE >= 1) and classifies any intensity to a profile.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "carbonkube/qos.hpp"
#include "fuzz_common.hpp"

using namespace carbonkube;

namespace {

void check_profiles(const QosProfileSet& set) {
  ck_fuzz::check(set.size() >= 1, "empty profile set");
  for (int i = 0; i < set.size(); ++i) {
    const QosProfile& p = set[i];
    ck_fuzz::check(std::isfinite(p.carbon_threshold_g_per_kwh) && p.carbon_threshold_g_per_kwh > 0,
                   "threshold not finite and > 0");
    if (i > 0)
      ck_fuzz::check(set[i - 1].carbon_threshold_g_per_kwh < p.carbon_threshold_g_per_kwh,
                     "thresholds not strictly increasing");
    ck_fuzz::check(p.resource_guarantee >= 0 && p.resource_guarantee <= 1,
                   "guarantee outside 0..1");
    ck_fuzz::check(std::isfinite(p.pue_target) && p.pue_target >= 1, "PUE target below 1");
    ck_fuzz::check(set.find(p.name) == i, "find() does not return the profile");
  }
  for (double v : {0.0, 50.0, 1e9, std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::quiet_NaN(), -1.0}) {
    const int c = set.classify(v);
    ck_fuzz::check(c >= 0 && c < set.size(), "classify out of range");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text = ck_fuzz::as_text(data + 1, size - 1);
  if ((data[0] & 1) == 0) {
    CarbonProfile cp;
    if (!ck_fuzz::expect_ok_or_error([&] { cp = parse_carbon_profile(text, ck_fuzz::kSource); }))
      return 0;
    check_profiles(cp.profiles);
    ck_fuzz::check(
        std::isfinite(cp.migration.cooldown_seconds) && cp.migration.cooldown_seconds >= 0,
        "cooldown not finite and >= 0");
    ck_fuzz::check(std::isfinite(cp.budget.daily_limit_kg), "daily limit not finite");
  } else {
    std::optional<QosProfileSet> set;
    if (!ck_fuzz::expect_ok_or_error(
            [&] { set.emplace(parse_helm_qos_profiles(text, ck_fuzz::kSource)); }))
      return 0;
    check_profiles(*set);
  }
  return 0;
}
