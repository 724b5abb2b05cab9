// The kube-scheduler extender over the engine (see extender.hpp).
#include "extender.hpp"

#include <fmt/format.h>
#include <carbonkube/error.hpp>
#include <carbonkube/pod.hpp>
#include <carbonkube/snapshot.hpp>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace carbonkube::host {
namespace {

using Json = nlohmann::json;

// A request the extender cannot read: answered 400 with the message.
struct BadRequest {
  std::string message;
};

ExtenderReply error_reply(int status, const std::string& message) {
  Json body = Json::object();
  body["Error"] = message;
  return {status, body.dump()};
}

// Go's encoding/json matches field names case-insensitively; so do we.
const Json* member_ci(const Json& obj, std::string_view name) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& key = it.key();
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        }))
      return &*it;
  }
  return nullptr;
}

// kube-scheduler's filters whose failure preemption can resolve (evicting
// pods frees resources or ports, changes spreading); every other plugin's
// failure is UnschedulableAndUnresolvable.
bool preemption_may_resolve(std::string_view plugin) {
  return plugin == "NodeResourcesFit" || plugin == "NodePorts" || plugin == "InterPodAffinity" ||
         plugin == "PodTopologySpread";
}

struct Candidate {
  std::string name;
  const Json* original = nullptr;  // the request's Node object (Nodes form)
  std::optional<std::string> unknown_reason;
};

struct Evaluation {
  bool node_list_form = false;  // the request sent Nodes, not NodeNames
  Json args;                    // the request; request_nodes and Candidate::original point into it
  const Json* request_nodes = nullptr;
  std::vector<Candidate> candidates;  // request order
  Explanation explanation;            // over the candidates that resolved
  std::string pod_key;
};

Json parse_body(std::string_view body, const ParseLimits& limits) {
  if (body.size() > limits.max_bytes)
    throw BadRequest{fmt::format("ExtenderArgs: the body ({} bytes) is over the limit of {} bytes",
                                 body.size(), limits.max_bytes)};
  Json doc = Json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded()) throw BadRequest{"ExtenderArgs: the request body is not valid JSON"};
  if (!doc.is_object())
    throw BadRequest{fmt::format("ExtenderArgs: expected a JSON object, got {}", doc.type_name())};
  return doc;
}

Pod parse_pod(const Json& args, const ParseLimits& limits) {
  const Json* pod_json = member_ci(args, "Pod");
  if (!pod_json || pod_json->is_null()) throw BadRequest{"ExtenderArgs: Pod is missing"};
  if (!pod_json->is_object())
    throw BadRequest{
        fmt::format("ExtenderArgs.Pod: expected an object, got {}", pod_json->type_name())};
  Json pod = *pod_json;  // kube-scheduler's in-memory Pod has no TypeMeta
  if (!pod.contains("kind")) pod["kind"] = "Pod";
  if (!pod.contains("apiVersion")) pod["apiVersion"] = "v1";
  try {
    KubeObjects objects = parse_kube_objects(pod.dump(), "ExtenderArgs.Pod", limits);
    if (objects.pods.size() != 1) throw BadRequest{"ExtenderArgs.Pod: expected one v1 Pod"};
    return std::move(objects.pods.front());
  } catch (const Error& e) {
    throw BadRequest{e.what()};
  }
}

Evaluation evaluate(std::string_view body, const ExtenderInputs& inputs) {
  if (!inputs.scheduler) throw Error(ErrorKind::kInvalidInput, "extender: no scheduler configured");
  Evaluation out;
  out.args = parse_body(body, inputs.limits);
  const Json& args = out.args;
  Pod pod = parse_pod(args, inputs.limits);

  out.pod_key = pod.key();
  const Json* nodes = member_ci(args, "Nodes");
  const Json* names = member_ci(args, "NodeNames");
  std::vector<Node> resolved;
  if (nodes && !nodes->is_null()) {
    out.node_list_form = true;
    out.request_nodes = nodes;
    const Json* items = nodes->is_object() ? member_ci(*nodes, "items") : nullptr;
    if (!nodes->is_object() || (items && !items->is_null() && !items->is_array()))
      throw BadRequest{"ExtenderArgs.Nodes: expected a v1 NodeList with an items list"};
    if (items && items->is_array()) {
      Json list = Json::object();
      list["kind"] = "NodeList";
      list["apiVersion"] = "v1";
      list["items"] = *items;
      try {
        resolved = parse_kube_objects(list.dump(), "ExtenderArgs.Nodes", inputs.limits).nodes;
      } catch (const Error& e) {
        throw BadRequest{e.what()};
      }
      if (resolved.size() != items->size())
        throw BadRequest{"ExtenderArgs.Nodes: every item must be a v1 Node"};
      for (std::size_t i = 0; i < resolved.size(); ++i)
        out.candidates.push_back({resolved[i].name, &(*items)[i], std::nullopt});
    }
  } else if (names && !names->is_null()) {
    if (!names->is_array()) throw BadRequest{"ExtenderArgs.NodeNames: expected a list of names"};
    std::unordered_map<std::string_view, const Node*> cached;
    if (inputs.cache)
      for (const Node& n : inputs.cache->nodes) cached.emplace(n.name, &n);
    for (std::size_t i = 0; i < names->size(); ++i) {
      const Json& name = (*names)[i];
      if (!name.is_string())
        throw BadRequest{fmt::format("ExtenderArgs.NodeNames[{}]: expected a string, got {}", i,
                                     name.type_name())};
      Candidate c{name.get<std::string>(), nullptr, std::nullopt};
      if (auto it = cached.find(c.name); it != cached.end())
        resolved.push_back(*it->second);
      else
        c.unknown_reason = fmt::format(
            "node \"{}\" is not in carbonkube-host's node cache (nodeCacheCapable): the host "
            "has not seen it yet or it was deleted",
            c.name);
      out.candidates.push_back(std::move(c));
    }
  } else {
    throw BadRequest{"ExtenderArgs: neither Nodes nor NodeNames is set"};
  }

  std::unordered_set<std::string_view> seen;
  for (const Node& n : resolved)
    if (!seen.insert(n.name).second)
      throw BadRequest{fmt::format("ExtenderArgs: node \"{}\" is listed twice", n.name)};

  // A snapshot of exactly the candidate nodes, with the cache's pods bound to
  // them as usage (kube-scheduler sends no pods).
  ClusterState state;
  for (const Node& n : resolved) state.upsert_node(n);
  if (inputs.cache)
    for (const Pod& p : inputs.cache->pods)
      if (p.counts_as_usage() && seen.count(p.node_name) && p.key() != out.pod_key)
        state.upsert_pod(p);
  SnapshotPtr snapshot = state.publish();
  CompiledPod compiled = compile_pod(std::move(pod), *snapshot);

  std::optional<ClusterConditions> conditions;
  if (inputs.zones && inputs.signals)
    conditions = ClusterConditions::build(*snapshot, *inputs.zones, *inputs.signals, inputs.now,
                                          inputs.policy, *inputs.qos_profiles);
  const ClusterConditions* cond = conditions ? &*conditions : nullptr;
  ScoringContext ctx(0);
  CycleResult result = inputs.scheduler->schedule(*snapshot, compiled, ctx, cond);
  out.explanation = explain(*inputs.scheduler, *snapshot, compiled, ctx, result, cond);
  return out;
}

std::string failure_reason(const NodeExplanation& n) {
  std::string reasons;
  for (const auto& r : n.reasons) reasons += (reasons.empty() ? "" : "; ") + r;
  if (!n.evaluated) return "not evaluated";
  return n.failed_plugin + ": " + (reasons.empty() ? "filtered" : reasons);
}

template <typename Answer>
ExtenderReply guarded(std::string_view body, const ExtenderInputs& inputs, Answer answer,
                      int engine_error_status) {
  try {
    return answer(evaluate(body, inputs));
  } catch (const BadRequest& e) {
    return error_reply(400, e.message);
  } catch (const std::exception& e) {
    // The request was read but the engine refused (a pod's malformed carbon
    // annotation, signals of mixed kinds, a node no zone maps with
    // unknownZone: error).
    return error_reply(engine_error_status, e.what());
  }
}

}  // namespace

Scheduler make_extender_scheduler(SchedulerConfig config, std::string_view scheduler_name) {
  config.percentage_of_nodes_to_score = 100;
  if (config.profiles.empty()) {  // no configuration file: the default plugins under this name
    config.profiles.emplace_back();
    if (!scheduler_name.empty())
      config.profiles.front().scheduler_name = std::string(scheduler_name);
  }
  for (auto& p : config.profiles) p.percentage_of_nodes_to_score = 100;
  return Scheduler(compile_profile(config, scheduler_name));
}

ExtenderReply extender_filter(std::string_view body, const ExtenderInputs& inputs) {
  return guarded(
      body, inputs,
      [](const Evaluation& ev) {
        std::unordered_map<std::string_view, const NodeExplanation*> by_name;
        for (const auto& n : ev.explanation.nodes) by_name.emplace(n.name, &n);
        Json failed = Json::object();
        Json unresolvable = Json::object();
        Json feasible_items = Json::array();
        Json feasible_names = Json::array();
        for (const Candidate& c : ev.candidates) {
          if (c.unknown_reason) {
            failed[c.name] = *c.unknown_reason;
            continue;
          }
          const NodeExplanation* n = by_name.at(c.name);
          if (n->feasible) {
            if (c.original) feasible_items.push_back(*c.original);
            feasible_names.push_back(c.name);
          } else if (preemption_may_resolve(n->failed_plugin)) {
            failed[c.name] = failure_reason(*n);
          } else {
            unresolvable[c.name] = failure_reason(*n);
          }
        }
        Json out = Json::object();
        if (ev.node_list_form) {
          Json list = *ev.request_nodes;
          list["items"] = std::move(feasible_items);
          out["Nodes"] = std::move(list);
          out["NodeNames"] = nullptr;
        } else {
          out["Nodes"] = nullptr;
          out["NodeNames"] = std::move(feasible_names);
        }
        out["FailedNodes"] = std::move(failed);
        out["FailedAndUnresolvableNodes"] = std::move(unresolvable);
        out["Error"] = "";
        return ExtenderReply{200, out.dump()};
      },
      200);
}

ExtenderReply extender_prioritize(std::string_view body, const ExtenderInputs& inputs) {
  return guarded(
      body, inputs,
      [](const Evaluation& ev) {
        std::unordered_map<std::string_view, const NodeExplanation*> by_name;
        bool any = false;
        std::int64_t lo = 0;
        std::int64_t hi = 0;
        for (const auto& n : ev.explanation.nodes) {
          by_name.emplace(n.name, &n);
          if (!n.feasible) continue;
          lo = any ? std::min(lo, n.total) : n.total;
          hi = any ? std::max(hi, n.total) : n.total;
          any = true;
        }
        Json out = Json::array();
        for (const Candidate& c : ev.candidates) {
          std::int64_t score = 0;
          if (!c.unknown_reason) {
            const NodeExplanation* n = by_name.at(c.name);
            if (n->feasible && hi > lo) {
              // long double: totals are int64 and their range may not fit a
              // double's mantissa exactly; the best node maps to exactly 10.
              const long double scaled = static_cast<long double>(n->total - lo) *
                                         static_cast<long double>(kMaxExtenderPriority) /
                                         static_cast<long double>(hi - lo);
              score = std::clamp<std::int64_t>(std::llround(scaled), 0, kMaxExtenderPriority);
            }
          }
          out.push_back({{"Host", c.name}, {"Score", score}});
        }
        return ExtenderReply{200, out.dump()};
      },
      500);
}

}  // namespace carbonkube::host
