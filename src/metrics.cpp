// Prometheus text exposition: the writer and the engine's families.
#include "carbonkube/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "carbonkube/error.hpp"

CARBONKUBE_NAMESPACE_BEGIN

namespace {

bool name_char(char c, bool first, bool colon) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  if (alpha || (colon && c == ':')) return true;
  return !first && c >= '0' && c <= '9';
}

bool valid_name(std::string_view n, bool colon) {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i)
    if (!name_char(n[i], i == 0, colon)) return false;
  return true;
}

void append_escaped(std::string& out, std::string_view v, bool quote) {
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

}  // namespace

void PrometheusText::family(std::string_view name, std::string_view help, MetricType type) {
  if (!valid_name(name, true))
    throw InvalidInput(fmt::format("metrics: \"{}\" is not a valid metric name", name));
  if (std::find(families_.begin(), families_.end(), name) != families_.end())
    throw InvalidInput(fmt::format("metrics: family {} written twice", name));
  families_.emplace_back(name);
  current_ = std::string(name);
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  append_escaped(text_, help, false);
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += type == MetricType::kCounter ? " counter\n" : " gauge\n";
}

void PrometheusText::sample(std::span<const MetricLabel> labels, double value) {
  if (current_.empty()) throw InvalidInput("metrics: a sample before any family");
  for (const MetricLabel& l : labels)
    if (!valid_name(l.name, false) || l.name.starts_with("__"))
      throw InvalidInput(
          fmt::format("metrics: {}: \"{}\" is not a valid label name", current_, l.name));
  if (!std::isfinite(value)) {
    ++skipped_;
    return;
  }
  text_ += current_;
  if (!labels.empty()) {
    text_ += '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (i) text_ += ',';
      text_ += labels[i].name;
      text_ += "=\"";
      append_escaped(text_, labels[i].value, true);
      text_ += '"';
    }
    text_ += '}';
  }
  text_ += fmt::format(" {}\n", value);
}

std::vector<ZoneIntensityMetric> zone_intensity_metrics(const ZoneMap& map,
                                                        const ZoneIntensities& zones) {
  std::vector<ZoneIntensityMetric> out;
  const auto names = map.zones();
  for (std::size_t i = 0; i < names.size(); ++i) {
    ZoneIntensityMetric m;
    m.zone = names[i];
    m.kind = zones.kind;
    double v = 0;
    m.usable = zones.lookup(static_cast<ZoneIndex>(i), &v);
    m.g_per_kwh = m.usable ? v : 0.0;
    out.push_back(std::move(m));
  }
  return out;
}

void EngineMetrics::count_migrations(std::span<const MigrationRecommendation> round) {
  for (const MigrationRecommendation& r : round)
    if (r.recommended) ++migrations_recommended[{r.from_zone, r.to_zone}];
}

void EngineMetrics::count_decision(const PodCarbonQos& pod_qos, const QosProfileSet& profiles,
                                   bool scheduled) {
  std::string cls = pod_qos.profile_index >= 0 && pod_qos.profile_index < profiles.size()
                        ? profiles[pod_qos.profile_index].name
                        : std::string("none");
  ++decisions[{std::move(cls), scheduled ? "scheduled" : "unschedulable"}];
}

std::string render_prometheus(const EngineMetrics& m) {
  PrometheusText p;
  p.family("carbon_intensity_gco2_kwh",
           "Grid carbon intensity of a zone now, gCO2eq per kWh (usable signals only).",
           MetricType::kGauge);
  for (const auto& z : m.zones)
    if (z.usable) p.sample({{"zone", z.zone}, {"kind", to_string(z.kind)}}, z.g_per_kwh);
  p.family("carbonkube_carbon_signal_usable",
           "1 when the zone's carbon signal is fresh and plausible, 0 when it is scored "
           "carbon-neutral.",
           MetricType::kGauge);
  for (const auto& z : m.zones) p.sample({{"zone", z.zone}}, z.usable ? 1.0 : 0.0);
  p.family("katalyst_qos_guarantee_met",
           "1 when the pod got its QoS profile's resource guarantee under its carbon threshold.",
           MetricType::kGauge);
  for (const auto& q : m.qos)
    p.sample({{"namespace", q.namespace_name}, {"pod", q.pod}, {"qos_class", q.qos_class}},
             q.met ? 1.0 : 0.0);
  p.family("katalyst_daily_carbon_consumption_kg",
           "Carbon emitted by the namespace today (UTC), operational plus embodied, kgCO2eq.",
           MetricType::kGauge);
  for (const auto& b : m.budgets) p.sample({{"namespace", b.namespace_name}}, b.used_kg);
  p.family("katalyst_daily_carbon_budget_kg",
           "The namespace's daily carbon budget (CarbonProfile spec.carbonBudget.dailyLimit), "
           "kgCO2eq.",
           MetricType::kGauge);
  for (const auto& b : m.budgets) p.sample({{"namespace", b.namespace_name}}, b.limit_kg);
  p.family("katalyst_daily_carbon_budget_ratio",
           "Today's consumption over the daily budget (1 = budget used up).", MetricType::kGauge);
  for (const auto& b : m.budgets)
    if (std::isfinite(b.limit_kg)) p.sample({{"namespace", b.namespace_name}}, b.fraction);
  p.family("carbonkube_migrations_recommended_total",
           "Migrations the advisor recommended, by source and destination zone.",
           MetricType::kCounter);
  for (const auto& [zones, n] : m.migrations_recommended)
    p.sample({{"from_zone", zones.first}, {"to_zone", zones.second}}, static_cast<double>(n));
  p.family("carbonkube_scheduling_decisions_total",
           "Scheduling decisions by carbon QoS class and result.", MetricType::kCounter);
  for (const auto& [key, n] : m.decisions)
    p.sample({{"qos_class", key.first}, {"result", key.second}}, static_cast<double>(n));
  p.family("carbonkube_energy_kwh_total", "Energy attributed to the namespace, kWh.",
           MetricType::kCounter);
  std::vector<std::string> namespaces;
  if (m.ledger) namespaces = m.ledger->names(LedgerScope::kNamespace);
  for (const auto& ns : namespaces)
    p.sample({{"namespace", ns}}, m.ledger->total(LedgerScope::kNamespace, ns).energy_kwh);
  p.family("carbonkube_emissions_gco2_total",
           "Carbon attributed to the namespace, gCO2eq, operational (energy x grid intensity) "
           "and embodied (hardware amortised over its lifetime).",
           MetricType::kCounter);
  for (const auto& ns : namespaces) {
    const CarbonTotals t = m.ledger->total(LedgerScope::kNamespace, ns);
    p.sample({{"namespace", ns}, {"source", "operational"}}, t.operational_g);
    p.sample({{"namespace", ns}, {"source", "embodied"}}, t.embodied_g);
  }
  return p.text();
}

CARBONKUBE_NAMESPACE_END
