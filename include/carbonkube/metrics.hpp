// carbonkube/metrics.hpp: Prometheus text exposition (format 0.0.4) of the
// engine's state under the seed's metric names where they make sense:
// carbon_intensity_gco2_kwh, katalyst_qos_guarantee_met, daily carbon
// consumption against budget (the seed's recording rule
// katalyst:daily_carbon_consumption is then sum by namespace of
// katalyst_daily_carbon_consumption_kg), migrations recommended, scheduling
// decisions by QoS class, and the ledger's energy and emissions. Units are in
// the names; every family has HELP and TYPE lines. A value that is not
// finite is never written (a missing sample, not a NaN that alerts misread).
//
// PrometheusText is the writer (escaping, name checks); EngineMetrics and
// render_prometheus() put the engine's objects through it. Cold path.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "carbonkube/ledger.hpp"
#include "carbonkube/migration.hpp"
#include "carbonkube/qos.hpp"
#include "carbonkube/signals.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

enum class MetricType : std::uint8_t { kGauge, kCounter };

struct MetricLabel {
  std::string_view name;
  std::string_view value;
};

/// Writes the text format. Families must be started before their samples.
class PrometheusText {
 public:
  /// "# HELP name help" and "# TYPE name gauge|counter". Throws InvalidInput
  /// when the name is not [a-zA-Z_:][a-zA-Z0-9_:]* or the family was already
  /// written (the format forbids splitting a family).
  void family(std::string_view name, std::string_view help, MetricType type);
  /// One sample of the current family. Label names must be
  /// [a-zA-Z_][a-zA-Z0-9_]* and not start with "__"; values are escaped
  /// (backslash, double quote, newline). A non-finite value is skipped and
  /// counted. Throws InvalidInput on a bad label name or without a family.
  void sample(std::span<const MetricLabel> labels, double value);
  void sample(std::initializer_list<MetricLabel> labels, double value) {
    sample(std::span<const MetricLabel>(labels.begin(), labels.size()), value);
  }
  const std::string& text() const { return text_; }
  std::size_t skipped() const { return skipped_; }

 private:
  std::string text_;
  std::string current_;
  std::vector<std::string> families_;
  std::size_t skipped_ = 0;
};

struct ZoneIntensityMetric {
  std::string zone;
  double g_per_kwh = 0;
  bool usable = false;
  IntensityKind kind = IntensityKind::kAverageLifecycle;
};
/// One entry per zone of `map` from a cycle's ZoneIntensities.
std::vector<ZoneIntensityMetric> zone_intensity_metrics(const ZoneMap& map,
                                                        const ZoneIntensities& zones);

struct QosGuaranteeMetric {
  std::string namespace_name;
  std::string pod;
  std::string qos_class;  // the QoS profile name (green-guaranteed, ...)
  bool met = false;  // the pod got its profile's resource guarantee in a zone under its threshold
};

struct EngineMetrics {
  std::vector<ZoneIntensityMetric> zones;
  std::vector<QosGuaranteeMetric> qos;
  std::vector<BudgetStatus> budgets;  // Ledger::budgets(now)
  /// Cumulative recommended migrations by (from zone, to zone); add a round
  /// with count_migrations().
  std::map<std::pair<std::string, std::string>, std::uint64_t> migrations_recommended;
  /// Cumulative scheduling decisions by (QoS class, result: "scheduled" or
  /// "unschedulable"); a pod without a profile is class "none".
  std::map<std::pair<std::string, std::string>, std::uint64_t> decisions;
  /// Ledger totals by namespace (all time): energy and emissions.
  const Ledger* ledger = nullptr;

  void count_migrations(std::span<const MigrationRecommendation> round);
  /// One scheduling decision for a pod of `pod_qos` (pod_carbon_qos; class
  /// "none" without a profile): result "scheduled" or "unschedulable".
  void count_decision(const PodCarbonQos& pod_qos, const QosProfileSet& profiles, bool scheduled);
};

/// The families, in this order: carbon_intensity_gco2_kwh{zone,kind},
/// carbonkube_carbon_signal_usable{zone}, katalyst_qos_guarantee_met{namespace,pod,qos_class},
/// katalyst_daily_carbon_consumption_kg{namespace},
/// katalyst_daily_carbon_budget_kg{namespace}, katalyst_daily_carbon_budget_ratio{namespace},
/// carbonkube_migrations_recommended_total{from_zone,to_zone},
/// carbonkube_scheduling_decisions_total{qos_class,result},
/// carbonkube_energy_kwh_total{namespace},
/// carbonkube_emissions_gco2_total{namespace,source="operational"|"embodied"}.
std::string render_prometheus(const EngineMetrics& metrics);

CARBONKUBE_NAMESPACE_END
