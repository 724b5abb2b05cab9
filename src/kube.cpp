// Node and Pod parsing from kubectl's JSON / YAML, and kube-scheduler's
// effective pod request.
#include "carbonkube/kube.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "document.hpp"

CARBONKUBE_NAMESPACE_BEGIN
namespace {

using detail::Json;
using detail::Where;

using detail::QuantityList;
using detail::read_quantity_list;

Quantity* find_q(QuantityList& list, std::string_view name) {
  for (auto& [n, q] : list)
    if (n == name) return &q;
  return nullptr;
}

void add_to(QuantityList& dst, const QuantityList& src) {
  for (const auto& [n, q] : src) {
    if (Quantity* d = find_q(dst, n)) {
      d->nano += q.nano;
    } else {
      dst.emplace_back(n, q);
    }
  }
}

void max_into(QuantityList& dst, const QuantityList& src) {
  for (const auto& [n, q] : src) {
    if (Quantity* d = find_q(dst, n)) {
      if (d->nano < q.nano) *d = q;
    } else {
      dst.emplace_back(n, q);
    }
  }
}

TaintEffect parse_effect(const std::string& s, const Where& where) {
  if (s == "NoSchedule") return TaintEffect::kNoSchedule;
  if (s == "PreferNoSchedule") return TaintEffect::kPreferNoSchedule;
  if (s == "NoExecute") return TaintEffect::kNoExecute;
  where.fail(
      fmt::format("unknown taint effect \"{}\" (NoSchedule, PreferNoSchedule, NoExecute)", s));
}

Node parse_node(const Json& obj, const Where& at) {
  Node node;
  const Json* meta = detail::read_object(obj, "metadata", at);
  if (!meta) at.fail("missing metadata");
  node.name = detail::read_string(*meta, "name", at / "metadata");
  if (node.name.empty()) at.fail("missing metadata.name");
  Where where(at.str() + fmt::format(" (Node \"{}\")", node.name), "");
  node.uid = detail::read_string(*meta, "uid", where / "metadata");
  node.labels = detail::read_string_map(*meta, "labels", where / "metadata");
  node.annotations = detail::read_string_map(*meta, "annotations", where / "metadata");
  if (const Json* spec = detail::read_object(obj, "spec", where)) {
    node.unschedulable = detail::read_bool(*spec, "unschedulable", where / "spec", false);
    if (const Json* taints = detail::read_array(*spec, "taints", where / "spec")) {
      for (std::size_t i = 0; i < taints->size(); ++i) {
        Where w = where / "spec" / "taints";
        w = w[i];
        const Json& t = (*taints)[i];
        Taint taint;
        taint.key = detail::read_string(t, "key", w);
        if (taint.key.empty()) w.fail("taint has no key");
        taint.value = detail::read_string(t, "value", w);
        taint.effect = parse_effect(detail::read_string(t, "effect", w), w / "effect");
        node.taints.push_back(std::move(taint));
      }
    }
  }
  if (const Json* status = detail::read_object(obj, "status", where)) {
    const char* field = detail::member(*status, "allocatable") ? "allocatable" : "capacity";
    for (auto& [name, q] : read_quantity_list(*status, field, where / "status"))
      node.allocatable.push_back(
          {name, detail::to_base_units(name, q, where / "status" / field / name)});
    if (const Json* conds = detail::read_array(*status, "conditions", where / "status")) {
      for (std::size_t i = 0; i < conds->size(); ++i) {
        const Json& c = (*conds)[i];
        Where w = (where / "status" / "conditions")[i];
        if (detail::read_string(c, "type", w) != "Ready") continue;
        std::string s = detail::read_string(c, "status", w);
        if (s == "True")
          node.ready = true;
        else if (s == "False")
          node.ready = false;
        else
          node.ready.reset();
      }
    }
  }
  return node;
}

SelectorOp parse_op(const std::string& s, const Where& where) {
  if (s == "In") return SelectorOp::kIn;
  if (s == "NotIn") return SelectorOp::kNotIn;
  if (s == "Exists") return SelectorOp::kExists;
  if (s == "DoesNotExist") return SelectorOp::kDoesNotExist;
  if (s == "Gt") return SelectorOp::kGt;
  if (s == "Lt") return SelectorOp::kLt;
  where.fail(fmt::format("unknown operator \"{}\" (In, NotIn, Exists, DoesNotExist, Gt, Lt)", s));
}

std::vector<NodeSelectorRequirement> parse_requirements(const Json& obj, std::string_view key,
                                                        const Where& where) {
  std::vector<NodeSelectorRequirement> out;
  const Json* arr = detail::read_array(obj, key, where);
  if (!arr) return out;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    Where w = (where / key)[i];
    const Json& r = (*arr)[i];
    NodeSelectorRequirement req;
    req.key = detail::read_string(r, "key", w);
    if (req.key.empty()) w.fail("missing key");
    req.op = parse_op(detail::read_string(r, "operator", w), w / "operator");
    if (const Json* vals = detail::read_array(r, "values", w)) {
      for (std::size_t j = 0; j < vals->size(); ++j) {
        if (!(*vals)[j].is_string()) (w / "values")[j].fail("expected a string");
        req.values.push_back((*vals)[j].get<std::string>());
      }
    }
    bool needs_values = req.op == SelectorOp::kIn || req.op == SelectorOp::kNotIn;
    bool one_integer = req.op == SelectorOp::kGt || req.op == SelectorOp::kLt;
    if (needs_values && req.values.empty()) w.fail("operator In/NotIn needs at least one value");
    if (!needs_values && !one_integer && !req.values.empty())
      w.fail("operator Exists/DoesNotExist takes no values");
    if (one_integer && req.values.size() != 1) w.fail("operator Gt/Lt needs exactly one value");
    out.push_back(std::move(req));
  }
  return out;
}

NodeSelectorTerm parse_term(const Json& t, const Where& w) {
  NodeSelectorTerm term;
  term.match_expressions = parse_requirements(t, "matchExpressions", w);
  term.match_fields = parse_requirements(t, "matchFields", w);
  for (const auto& f : term.match_fields)
    if (f.key != "metadata.name")
      (w / "matchFields").fail(fmt::format("unsupported field \"{}\" (only metadata.name)", f.key));
  return term;
}

void parse_node_affinity(const Json& spec, const Where& where, NodeAffinity& out) {
  const Json* aff = detail::read_object(spec, "affinity", where);
  if (!aff) return;
  const Json* na = detail::read_object(*aff, "nodeAffinity", where / "affinity");
  if (!na) return;
  Where w = where / "affinity" / "nodeAffinity";
  if (const Json* req =
          detail::read_object(*na, "requiredDuringSchedulingIgnoredDuringExecution", w)) {
    Where rw = w / "requiredDuringSchedulingIgnoredDuringExecution";
    std::vector<NodeSelectorTerm> terms;
    if (const Json* arr = detail::read_array(*req, "nodeSelectorTerms", rw))
      for (std::size_t i = 0; i < arr->size(); ++i)
        terms.push_back(parse_term((*arr)[i], (rw / "nodeSelectorTerms")[i]));
    out.required = std::move(terms);
  }
  if (const Json* pref =
          detail::read_array(*na, "preferredDuringSchedulingIgnoredDuringExecution", w)) {
    for (std::size_t i = 0; i < pref->size(); ++i) {
      Where pw = (w / "preferredDuringSchedulingIgnoredDuringExecution")[i];
      PreferredSchedulingTerm p;
      p.weight = static_cast<std::int32_t>(detail::read_int((*pref)[i], "weight", pw, 0, 1, 100));
      const Json* pt = detail::read_object((*pref)[i], "preference", pw);
      if (!pt) pw.fail("missing preference");
      p.preference = parse_term(*pt, pw / "preference");
      out.preferred.push_back(std::move(p));
    }
  }
}

std::vector<Container> parse_containers(const Json& spec, std::string_view key, const Where& where,
                                        bool init) {
  std::vector<Container> out;
  const Json* arr = detail::read_array(spec, key, where);
  if (!arr) return out;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const Json& c = (*arr)[i];
    Where w = (where / key)[i];
    Container container;
    container.name = detail::read_string(c, "name", w);
    if (const Json* res = detail::read_object(c, "resources", w)) {
      QuantityList requests = read_quantity_list(*res, "requests", w / "resources");
      // API defaulting: a resource with a limit and no request requests its limit.
      for (auto& [n, q] : read_quantity_list(*res, "limits", w / "resources"))
        if (!find_q(requests, n)) requests.emplace_back(n, q);
      std::sort(requests.begin(), requests.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      container.requests = std::move(requests);
    }
    if (init) {
      std::string policy = detail::read_string(c, "restartPolicy", w);
      if (!policy.empty() && policy != "Always")
        (w / "restartPolicy")
            .fail(fmt::format("init containers accept only restartPolicy Always, got \"{}\"",
                              policy));
      container.restartable_init = policy == "Always";
    }
    out.push_back(std::move(container));
  }
  return out;
}

PodPhase parse_phase(const std::string& s, const Where& where) {
  if (s.empty() || s == "Pending") return PodPhase::kPending;
  if (s == "Running") return PodPhase::kRunning;
  if (s == "Succeeded") return PodPhase::kSucceeded;
  if (s == "Failed") return PodPhase::kFailed;
  if (s == "Unknown") return PodPhase::kUnknown;
  where.fail(fmt::format("unknown phase \"{}\"", s));
}

Pod parse_pod(const Json& obj, const Where& at) {
  Pod pod;
  const Json* meta = detail::read_object(obj, "metadata", at);
  if (!meta) at.fail("missing metadata");
  pod.name = detail::read_string(*meta, "name", at / "metadata");
  if (pod.name.empty()) at.fail("missing metadata.name");
  pod.namespace_name = detail::read_string(*meta, "namespace", at / "metadata", "default");
  Where where(at.str() + fmt::format(" (Pod \"{}/{}\")", pod.namespace_name, pod.name), "");
  pod.uid = detail::read_string(*meta, "uid", where / "metadata");
  pod.labels = detail::read_string_map(*meta, "labels", where / "metadata");
  pod.annotations = detail::read_string_map(*meta, "annotations", where / "metadata");
  pod.deleting = detail::member(*meta, "deletionTimestamp") != nullptr;
  const Json* spec = detail::read_object(obj, "spec", where);
  if (!spec) where.fail("missing spec");
  Where sw = where / "spec";
  pod.node_name = detail::read_string(*spec, "nodeName", sw);
  pod.scheduler_name = detail::read_string(*spec, "schedulerName", sw, "default-scheduler");
  pod.priority = static_cast<std::int32_t>(
      detail::read_int(*spec, "priority", sw, 0, -2147483648LL, 2147483647LL));
  pod.containers = parse_containers(*spec, "containers", sw, false);
  pod.init_containers = parse_containers(*spec, "initContainers", sw, true);
  pod.overhead = read_quantity_list(*spec, "overhead", sw);
  if (const Json* res = detail::read_object(*spec, "resources", sw)) {
    QuantityList requests = read_quantity_list(*res, "requests", sw / "resources");
    for (auto& [n, q] : read_quantity_list(*res, "limits", sw / "resources"))
      if (!find_q(requests, n)) requests.emplace_back(n, q);
    pod.pod_level_requests = std::move(requests);
  }
  pod.node_selector = detail::read_string_map(*spec, "nodeSelector", sw);
  parse_node_affinity(*spec, sw, pod.node_affinity);
  if (const Json* tols = detail::read_array(*spec, "tolerations", sw)) {
    for (std::size_t i = 0; i < tols->size(); ++i) {
      const Json& t = (*tols)[i];
      Where w = (sw / "tolerations")[i];
      Toleration tol;
      tol.key = detail::read_string(t, "key", w);
      std::string op = detail::read_string(t, "operator", w, "Equal");
      if (op != "Equal" && op != "Exists")
        (w / "operator").fail(fmt::format("unknown operator \"{}\" (Equal, Exists)", op));
      tol.op_exists = op == "Exists";
      tol.value = detail::read_string(t, "value", w);
      if (tol.op_exists && !tol.value.empty())
        (w / "value").fail("must be empty with operator Exists");
      if (!tol.op_exists && tol.key.empty())
        (w / "key").fail("an empty key requires operator Exists");
      std::string effect = detail::read_string(t, "effect", w);
      if (!effect.empty()) tol.effect = parse_effect(effect, w / "effect");
      pod.tolerations.push_back(std::move(tol));
    }
  }
  if (const Json* gates = detail::read_array(*spec, "schedulingGates", sw))
    for (std::size_t i = 0; i < gates->size(); ++i)
      pod.scheduling_gates.push_back(
          detail::read_string((*gates)[i], "name", (sw / "schedulingGates")[i]));
  if (const Json* status = detail::read_object(obj, "status", where))
    pod.phase = parse_phase(detail::read_string(*status, "phase", where / "status"),
                            where / "status" / "phase");
  return pod;
}

}  // namespace

namespace {
bool is_pod_level_resource(std::string_view name) {
  return name == "cpu" || name == "memory" || name.starts_with("hugepages-");
}

// component-helpers PodRequests: the KEP-753 sidecar formula over
// containers, then pod-level overrides, then overhead; exact until rounded.
QuantityList aggregate(const Pod& pod, bool cpu_default, bool memory_default, bool pod_level) {
  auto with_defaults = [&](const QuantityList& reqs) {
    QuantityList r = reqs;
    if (cpu_default && !find_q(r, "cpu"))
      r.emplace_back("cpu", Quantity{Int128{kDefaultMilliCpuRequest} * 1'000'000});
    if (memory_default && !find_q(r, "memory"))
      r.emplace_back("memory", Quantity{Int128{kDefaultMemoryRequest} * 1'000'000'000});
    return r;
  };
  QuantityList total;
  for (const auto& c : pod.containers) add_to(total, with_defaults(c.requests));
  QuantityList restartable;  // sidecars started so far
  QuantityList init_max;
  for (const auto& c : pod.init_containers) {
    QuantityList reqs = with_defaults(c.requests);
    if (c.restartable_init) {
      // A sidecar runs alongside the app containers and every later init container.
      add_to(total, reqs);
      add_to(restartable, reqs);
      max_into(init_max, restartable);
    } else {
      QuantityList tmp = reqs;
      add_to(tmp, restartable);
      max_into(init_max, tmp);
    }
  }
  max_into(total, init_max);
  if (pod_level)
    for (const auto& [name, q] : pod.pod_level_requests)
      if (is_pod_level_resource(name)) {
        if (Quantity* d = find_q(total, name))
          *d = q;
        else
          total.emplace_back(name, q);
      }
  add_to(total, pod.overhead);
  return total;
}
}  // namespace

ResourceList pod_requests(const Pod& pod, RequestDefaults defaults) {
  const bool pod_level_set =
      std::any_of(pod.pod_level_requests.begin(), pod.pod_level_requests.end(),
                  [](const auto& r) { return is_pod_level_resource(r.first); });
  QuantityList total;
  switch (defaults) {
    case RequestDefaults::kAsWritten:
      total = aggregate(pod, false, false, true);
      break;
    case RequestDefaults::kNonZeroContainersOnly:
      total = aggregate(pod, true, true, false);
      break;
    case RequestDefaults::kNonZero: {
      // NodeInfo: with pod-level requests, defaults fill only keys that
      // neither the containers nor the pod level set.
      bool cpu = true, memory = true;
      if (pod_level_set) {
        QuantityList written = aggregate(pod, false, false, true);
        cpu = !find_q(written, "cpu");
        memory = !find_q(written, "memory");
      }
      total = aggregate(pod, cpu, memory, true);
      break;
    }
  }
  ResourceList out;
  out.reserve(total.size());
  for (const auto& [name, q] : total) {
    std::int64_t v = is_milli_resource(name) ? q.milli_value() : q.value();
    if (v > kMaxQuantityBaseUnits)
      throw InvalidInput(
          fmt::format("pod \"{}\": the effective {} request {} is larger than the limit of {} {}",
                      pod.key(), name, format_quantity(q), kMaxQuantityBaseUnits,
                      is_milli_resource(name) ? "millicores" : "units"));
    out.push_back({name, v});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

KubeObjects parse_kube_objects(std::string_view text, std::string_view source,
                               const ParseLimits& limits) {
  KubeObjects out;
  detail::read_objects(text, source, limits, {"Node", "Pod"}, out.skipped_kinds,
                       [&](const Json& obj, const Where& where, std::string_view kind) {
                         if (kind == "Node")
                           out.nodes.push_back(parse_node(obj, where));
                         else
                           out.pods.push_back(parse_pod(obj, where));
                       });
  return out;
}

std::string read_file(const std::string& path, const ParseLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::kIo, fmt::format("{}: cannot open file", path));
  std::string text;
  char chunk[1 << 16];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got > limits.max_bytes - text.size())
      throw Error(ErrorKind::kLimitExceeded,
                  fmt::format("{}: file is over the limit of {} bytes (max_bytes)", path,
                              limits.max_bytes));
    text.append(chunk, got);
  }
  if (in.bad()) throw Error(ErrorKind::kIo, fmt::format("{}: read error", path));
  return text;
}

CARBONKUBE_NAMESPACE_END
