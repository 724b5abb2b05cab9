// The energy model: node power from CCF coefficients and node overrides, and
// the attribution of a node's power and embodied emissions to its pods.
#include "carbonkube/energy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "carbonkube/error.hpp"
#include "document.hpp"

CARBONKUBE_NAMESPACE_BEGIN

namespace {

constexpr double kHoursPerYear = 8760.0;
constexpr double kBytesPerGb = 1e9;
constexpr double kMilliPerCore = 1000.0;

void check_value(double v, std::string_view where, std::string_view field, double min = 0) {
  if (!std::isfinite(v) || v < min)
    throw InvalidInput(
        fmt::format("{}: {} is {}: must be a finite number >= {}", where, field, v, min));
}

double clamp01(double v) { return std::isfinite(v) ? std::clamp(v, 0.0, 1.0) : 0.0; }

std::int64_t amount(const ResourceList& list, std::string_view name) {
  for (const ResourceAmount& r : list)
    if (r.name == name) return r.amount;
  return 0;
}

// The override under `key`: the node's annotation, else its label.
void override_from(const Node& node, std::string_view key, double& field) {
  const std::string* v = detail::find_value(node.annotations, key);
  if (!v) v = detail::find_value(node.labels, key);
  if (!v) return;
  double d = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), d);
  if (v->empty() || ec != std::errc() || p != v->data() + v->size() || !std::isfinite(d) || d < 0)
    throw InvalidInput(
        fmt::format("node {}: {}: \"{}\" is not a finite number >= 0", node.name, key, *v));
  field = d;
}

}  // namespace

void NodePowerModel::validate(std::string_view where) const {
  check_value(vcpus, where, "vcpus");
  check_value(idle_watts_per_vcpu, where, "idle_watts_per_vcpu");
  check_value(max_watts_per_vcpu, where, "max_watts_per_vcpu", idle_watts_per_vcpu);
  check_value(memory_gb, where, "memory_gb");
  check_value(memory_watts_per_gb, where, "memory_watts_per_gb");
  check_value(gpus, where, "gpus");
  check_value(gpu_idle_watts, where, "gpu_idle_watts");
  check_value(gpu_max_watts, where, "gpu_max_watts", gpu_idle_watts);
  check_value(pue, where, "pue", 1.0);
  check_value(embodied_kg, where, "embodied_kg");
  check_value(lifetime_years, where, "lifetime_years");
  if (lifetime_years <= 0) throw InvalidInput(fmt::format("{}: lifetime_years must be > 0", where));
}

double NodePowerModel::it_watts(double cpu_utilisation, double gpu_utilisation) const {
  return vcpus * (idle_watts_per_vcpu +
                  clamp01(cpu_utilisation) * (max_watts_per_vcpu - idle_watts_per_vcpu)) +
         memory_gb * memory_watts_per_gb +
         gpus * (gpu_idle_watts + clamp01(gpu_utilisation) * (gpu_max_watts - gpu_idle_watts));
}

double NodePowerModel::facility_watts(double cpu_utilisation, double gpu_utilisation) const {
  return it_watts(cpu_utilisation, gpu_utilisation) * pue;
}

double NodePowerModel::embodied_g_per_hour() const {
  return embodied_kg * 1000.0 / (lifetime_years * kHoursPerYear);
}

NodePowerModel node_power_model(const Node& node, const NodePowerModel& base) {
  NodePowerModel m = base;
  m.vcpus = static_cast<double>(amount(node.allocatable, "cpu")) / kMilliPerCore;
  m.memory_gb = static_cast<double>(amount(node.allocatable, "memory")) / kBytesPerGb;
  m.gpus = static_cast<double>(amount(node.allocatable, "nvidia.com/gpu") +
                               amount(node.allocatable, "amd.com/gpu"));
  override_from(node, kPowerIdleWattsPerVcpuKey, m.idle_watts_per_vcpu);
  override_from(node, kPowerMaxWattsPerVcpuKey, m.max_watts_per_vcpu);
  override_from(node, kPowerMemoryWattsPerGbKey, m.memory_watts_per_gb);
  override_from(node, kPowerGpuIdleWattsKey, m.gpu_idle_watts);
  override_from(node, kPowerGpuMaxWattsKey, m.gpu_max_watts);
  override_from(node, kPueKey, m.pue);
  override_from(node, kEmbodiedKgKey, m.embodied_kg);
  override_from(node, kLifetimeYearsKey, m.lifetime_years);
  m.validate(fmt::format("node {}", node.name));
  return m;
}

PodUsage requested_usage(const Pod& pod, double gpu_utilisation) {
  const ResourceList r = pod_requests(pod, RequestDefaults::kAsWritten);
  PodUsage u;
  u.cpu_cores = static_cast<double>(amount(r, "cpu")) / kMilliPerCore;
  u.memory_gb = static_cast<double>(amount(r, "memory")) / kBytesPerGb;
  u.gpus = static_cast<double>(amount(r, "nvidia.com/gpu") + amount(r, "amd.com/gpu"));
  u.gpu_utilisation = clamp01(gpu_utilisation);
  return u;
}

std::string tenant_of(const Pod& pod) {
  if (const std::string* v = detail::find_value(pod.labels, kTenantKey)) return *v;
  if (const std::string* v = detail::find_value(pod.annotations, kTenantKey)) return *v;
  return {};
}

void attribute(const NodePowerModel& model, std::span<const PodUsage> pods, IdleAttribution idle,
               Attribution& out) {
  for (std::size_t i = 0; i < pods.size(); ++i) {
    const PodUsage& u = pods[i];
    auto ok = [](double v) { return std::isfinite(v) && v >= 0; };
    if (ok(u.cpu_cores) && ok(u.memory_gb) && ok(u.gpus) && ok(u.gpu_utilisation)) continue;
    const std::string where = fmt::format("pod usage [{}]", i);  // only to fail
    check_value(u.cpu_cores, where, "cpu_cores");
    check_value(u.memory_gb, where, "memory_gb");
    check_value(u.gpus, where, "gpus");
    check_value(u.gpu_utilisation, where, "gpu_utilisation");
  }
  const double pue = model.pue;
  out.pod_watts.assign(pods.size(), 0.0);
  out.pod_embodied_g_per_hour.assign(pods.size(), 0.0);

  double cores = 0, mem = 0, gpus = 0;
  for (const PodUsage& u : pods) {
    cores += u.cpu_cores;
    mem += u.memory_gb;
    gpus += u.gpus;
  }
  // Shares of each resource, scaled down when the pods claim more than the
  // node has (measured usage can burst past requests; requests cannot).
  const double cpu_scale = cores > model.vcpus && cores > 0 ? model.vcpus / cores : 1.0;
  const double mem_scale = mem > model.memory_gb && mem > 0 ? model.memory_gb / mem : 1.0;
  const double gpu_scale = gpus > model.gpus && gpus > 0 ? model.gpus / gpus : 1.0;
  const double cpu_dyn = model.max_watts_per_vcpu - model.idle_watts_per_vcpu;
  const double gpu_dyn = model.gpu_max_watts - model.gpu_idle_watts;
  const double static_cpu = model.vcpus * model.idle_watts_per_vcpu;
  const double static_mem = model.memory_gb * model.memory_watts_per_gb;
  const double static_gpu = model.gpus * model.gpu_idle_watts;
  const double static_total = static_cpu + static_mem + static_gpu;
  const double embodied = model.embodied_g_per_hour();

  double dynamic_total = 0, static_held = 0;
  std::vector<double>& held = out.pod_embodied_g_per_hour;  // static share, reused as scratch
  for (std::size_t i = 0; i < pods.size(); ++i) {
    const PodUsage& u = pods[i];
    const double c = u.cpu_cores * cpu_scale;
    const double m = u.memory_gb * mem_scale;
    const double g = u.gpus * gpu_scale;
    const double dyn = c * cpu_dyn + g * std::min(u.gpu_utilisation, 1.0) * gpu_dyn;
    double st = 0;
    if (model.vcpus > 0) st += static_cpu * c / model.vcpus;
    if (model.memory_gb > 0) st += static_mem * m / model.memory_gb;
    if (model.gpus > 0) st += static_gpu * g / model.gpus;
    out.pod_watts[i] = dyn;
    held[i] = st;
    dynamic_total += dyn;
    static_held += st;
  }
  // How much of the static power each pod pays.
  const double factor =
      idle == IdleAttribution::kProportional && static_held > 0 ? static_total / static_held : 1.0;
  double attributed_static = 0;
  for (std::size_t i = 0; i < pods.size(); ++i) {
    const double st = held[i] * factor;
    attributed_static += st;
    out.pod_watts[i] = (out.pod_watts[i] + st) * pue;
    held[i] = static_total > 0 ? embodied * st / static_total : 0.0;
  }
  out.node_watts = (static_total + dynamic_total) * pue;
  out.idle_watts = std::max(0.0, static_total - attributed_static) * pue;
  out.idle_embodied_g_per_hour =
      static_total > 0 ? embodied * std::max(0.0, 1.0 - attributed_static / static_total)
                       : embodied;
}

CARBONKUBE_NAMESPACE_END
