// NodeResourcesFit (filter + LeastAllocated / MostAllocated /
// RequestedToCapacityRatio scoring) and NodeResourcesBalancedAllocation, with
// kube-scheduler's integer semantics, run column-wise over a batch of nodes.
//
// Exact and fast: kube-scheduler divides int64s. A 64-bit integer division
// costs tens of cycles, so quotients are computed in double and then
// corrected with integer multiplies (exact_div), which yields the same
// integer for every int64 input.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "carbonkube/resource_scoring.hpp"
#include "registry.hpp"
#include "resource_kernels.hpp"

CARBONKUBE_NAMESPACE_BEGIN
namespace detail {
namespace {

constexpr std::size_t kMaxScoringResources = 16;

// floor(x / c) for 0 <= x, 0 < c, exact: the double quotient is off by at most
// one, which the integer check corrects.
inline std::int64_t exact_div(std::int64_t x, std::int64_t c) {
  auto q = static_cast<std::int64_t>(static_cast<double>(x) / static_cast<double>(c));
  if (q * c > x) {
    --q;
  } else if ((q + 1) * c <= x) {
    ++q;
  }
  return q;
}

// floor(x / c) given inv = 1.0 / c: the product is within one of the
// quotient for every x < 2^62, so one integer correction makes it exact.
inline std::int64_t exact_div_inv(std::int64_t x, std::int64_t c, double inv) {
  auto q = static_cast<std::int64_t>(static_cast<double>(x) * inv);
  q -= (q * c > x) ? 1 : 0;
  q += ((q + 1) * c <= x) ? 1 : 0;
  return q;
}

// 1.0 / w for the weight sums a node score is divided by (weights are
// 1..100 and at most kMaxScoringResources of them).
struct WeightInverses {
  double inv[1601];
  WeightInverses() {
    inv[0] = 0;
    for (int w = 1; w <= 1600; ++w) inv[w] = 1.0 / w;
  }
};
const WeightInverses kWeightInverses;

// Nodes are scored in chunks so per-node accumulators stay on the stack.
constexpr std::size_t kChunk = 256;

enum FitReason : std::uint32_t {
  kTooManyPods = 1u << 0,
  kInsufficientCpu = 1u << 1,
  kInsufficientMemory = 1u << 2,
  kInsufficientEphemeral = 1u << 3,
  kInsufficientScalar = 1u << 4,
};

enum class Strategy { kLeastAllocated, kMostAllocated, kRequestedToCapacityRatio };

// A scoring resource resolved against one snapshot for one pod.
struct ResolvedResource {
  const std::int64_t* allocatable;
  const double* inverse;
  const std::int64_t* requested;
  std::int64_t pod_request;
  std::int64_t weight;
  const double* allocatable_f64;  // the same columns as doubles, for the kernels
  const double* requested_f64;
  bool exact_in_double;  // every allocatable <= kernels::kMaxExactAllocatable
};

// The node indices of a chunk are one contiguous run (the usual case: the
// scheduler hands over nodes in order), so columns can be read in place.
inline bool contiguous(const NodeIndex* idx, std::size_t m) {
  return m > 0 && idx[m - 1] >= idx[0] && idx[m - 1] - idx[0] == m - 1;
}

// Column values for a chunk of nodes: in place when contiguous, else gathered.
inline const double* chunk_view(const double* column, const NodeIndex* idx, std::size_t m,
                                bool is_contiguous, double* buffer) {
  if (is_contiguous) return column + idx[0];
  for (std::size_t j = 0; j < m; ++j) buffer[j] = column[idx[j]];
  return buffer;
}

// Resolves `resources` against the snapshot as calculateResourceAllocatableRequest
// does; resources that can only score 0/0 are dropped. Returns the count.
std::size_t resolve(const CycleInputs& in, const std::vector<WeightedResource>& resources,
                    bool use_requested, ResolvedResource* out) {
  const ClusterSnapshot& snap = in.snapshot;
  std::size_t n = 0;
  for (const auto& wr : resources) {
    ResourceId r = snap.resources().find(wr.name);
    if (r == kUnknownResource || r == kPods) continue;  // no node has it: (0, 0)
    std::int64_t pod_request = use_requested ? in.pod.request(r) : in.pod.nonzero_request(r);
    bool scalar = r >= kFirstScalarResource;
    if (scalar && pod_request == 0) continue;  // not requested: bypass scoring on it
    out[n++] = {snap.allocatable(r).data(),
                snap.allocatable_inverse(r).data(),
                use_requested ? snap.requested(r).data() : snap.nonzero_requested(r).data(),
                pod_request,
                wr.weight,
                snap.allocatable_f64(r).data(),
                use_requested ? snap.requested_f64(r).data() : snap.nonzero_requested_f64(r).data(),
                snap.allocatable_max(r) <= kernels::kMaxExactAllocatable &&
                    pod_request <= kernels::kMaxExactAllocatable};
  }
  return n;
}

// The fused form of a score over `res` (kernels::score_term), when every
// column is exact in double and the resources fit one term.
bool to_term(const ResolvedResource* res, std::size_t n, kernels::TermKind kind,
             kernels::ResourceTerm& term) {
  if (n > kernels::kMaxTermResources) return false;
  term.kind = kind;
  term.count = n;
  for (std::size_t r = 0; r < n; ++r) {
    if (!res[r].exact_in_double) return false;
    term.resources[r] = {res[r].allocatable_f64, res[r].inverse, res[r].requested_f64,
                         static_cast<double>(res[r].pod_request),
                         static_cast<double>(res[r].weight)};
  }
  return true;
}

class NodeResourcesFit final : public Plugin {
 public:
  std::string_view name() const override { return "NodeResourcesFit"; }
  bool has_filter() const override { return true; }
  bool has_score() const override { return true; }

  Strategy strategy = Strategy::kLeastAllocated;
  std::vector<WeightedResource> resources{{"cpu", 1}, {"memory", 1}};
  std::vector<ShapePoint> shape;  // scores scaled to 0..100
  std::vector<std::string> ignored_resources;
  std::vector<std::string> ignored_groups;

  // fitsRequest ignores only extended resources (a domain prefix that is not
  // kubernetes.io/), never hugepages or native resources.
  bool ignored(std::string_view resource) const {
    const bool extended = resource.find('/') != std::string_view::npos &&
                          resource.find("kubernetes.io/") == std::string_view::npos;
    if (!extended) return false;
    for (const auto& r : ignored_resources)
      if (r == resource) return true;
    auto slash = resource.find('/');
    if (slash != std::string_view::npos)
      for (const auto& g : ignored_groups)
        if (resource.substr(0, slash) == g) return true;
    return false;
  }

  void filter(const CycleInputs& in, std::span<const NodeIndex> nodes,
              std::span<std::uint32_t> reasons) const override {
    const ClusterSnapshot& snap = in.snapshot;
    const CompiledPod& pod = in.pod;
    const std::int32_t* pods = snap.pod_count().data();
    const std::int64_t* max_pods = snap.allocatable(kPods).data();
    // Scalar resources the pod requests, resolved once per cycle.
    struct Scalar {
      const std::int64_t* alloc;
      const std::int64_t* used;
      std::int64_t request;
    };
    Scalar scalars[kMaxResources];
    std::size_t n_scalars = 0;
    std::uint32_t always = 0;
    for (const auto& name : pod.unknown_resources)
      if (!ignored(name)) always |= kInsufficientScalar;
    for (std::size_t r = kFirstScalarResource; r < pod.requests.size(); ++r) {
      if (pod.requests[r] == 0) continue;
      auto id = static_cast<ResourceId>(r);
      if (ignored(snap.resources().name(id))) continue;
      scalars[n_scalars++] = {snap.allocatable(id).data(), snap.requested(id).data(),
                              pod.requests[r]};
    }
    const std::int64_t cpu = pod.request(kCpu), mem = pod.request(kMemory),
                       eph = pod.request(kEphemeralStorage);
    // Resource by resource over chunks, each check one vectorised pass.
    std::int64_t alloc_buf[kChunk], used_buf[kChunk];
    std::int32_t pods_buf[kChunk];
    auto view = [&](const std::int64_t* column, const NodeIndex* idx, std::size_t m, bool run,
                    std::int64_t* buffer) -> const std::int64_t* {
      if (run) return column + idx[0];
      for (std::size_t j = 0; j < m; ++j) buffer[j] = column[idx[j]];
      return buffer;
    };
    auto check = [&](ResourceId r, std::int64_t request, std::uint32_t bit, const NodeIndex* idx,
                     std::size_t m, bool run, std::uint32_t* out) {
      if (request <= 0) return;
      kernels::insufficient(view(snap.allocatable(r).data(), idx, m, run, alloc_buf),
                            view(snap.requested(r).data(), idx, m, run, used_buf), request, bit, m,
                            out);
    };
    // The pod-count, cpu, memory and ephemeral-storage checks fused into one
    // pass for consecutive nodes (the usual block); checks the pod does not
    // need are off.
    constexpr std::int64_t kOff = std::numeric_limits<std::int64_t>::min();
    auto fused = [&](ResourceId r, std::int64_t request, std::uint32_t bit) {
      const bool on = pod.requests_anything && request > 0;
      return kernels::FitCheck{snap.allocatable(r).data(), snap.requested(r).data(),
                               on ? request : kOff, bit};
    };
    const kernels::FitCheck checks[3] = {fused(kCpu, cpu, kInsufficientCpu),
                                         fused(kMemory, mem, kInsufficientMemory),
                                         fused(kEphemeralStorage, eph, kInsufficientEphemeral)};
    for (std::size_t base = 0; base < nodes.size(); base += kChunk) {
      const std::size_t m = std::min(kChunk, nodes.size() - base);
      const NodeIndex* idx = nodes.data() + base;
      const bool run = contiguous(idx, m);
      std::uint32_t* out = reasons.data() + base;
      if (run) {
        kernels::FitCheck at[3] = {checks[0], checks[1], checks[2]};
        for (auto& c : at) {
          c.allocatable += idx[0];
          c.used += idx[0];
        }
        kernels::fit_checks(pods + idx[0], max_pods + idx[0], kTooManyPods, at, m, out);
        if (!pod.requests_anything) continue;
        for (std::size_t sc = 0; sc < n_scalars; ++sc)
          kernels::insufficient(scalars[sc].alloc + idx[0], scalars[sc].used + idx[0],
                                scalars[sc].request, kInsufficientScalar, m, out);
        if (always)
          for (std::size_t j = 0; j < m; ++j) out[j] |= always;
        continue;
      }
      const std::int32_t* pod_view = pods + idx[0];
      if (!run) {
        for (std::size_t j = 0; j < m; ++j) pods_buf[j] = pods[idx[j]];
        pod_view = pods_buf;
      }
      kernels::too_many_pods(pod_view, view(max_pods, idx, m, run, alloc_buf), kTooManyPods, m,
                             out);
      if (!pod.requests_anything) continue;
      check(kCpu, cpu, kInsufficientCpu, idx, m, run, out);
      check(kMemory, mem, kInsufficientMemory, idx, m, run, out);
      check(kEphemeralStorage, eph, kInsufficientEphemeral, idx, m, run, out);
      for (std::size_t sc = 0; sc < n_scalars; ++sc)
        kernels::insufficient(view(scalars[sc].alloc, idx, m, run, alloc_buf),
                              view(scalars[sc].used, idx, m, run, used_buf), scalars[sc].request,
                              kInsufficientScalar, m, out);
      if (always)
        for (std::size_t j = 0; j < m; ++j) out[j] |= always;
    }
  }

  void explain_filter(const CycleInputs& in, NodeIndex node, std::uint32_t mask,
                      std::vector<std::string>& out) const override {
    const ClusterSnapshot& snap = in.snapshot;
    if (mask & kTooManyPods) out.emplace_back("Too many pods");
    if (mask & kInsufficientCpu) out.emplace_back("Insufficient cpu");
    if (mask & kInsufficientMemory) out.emplace_back("Insufficient memory");
    if (mask & kInsufficientEphemeral) out.emplace_back("Insufficient ephemeral-storage");
    if (mask & kInsufficientScalar) {
      for (std::size_t r = kFirstScalarResource; r < in.pod.requests.size(); ++r) {
        auto id = static_cast<ResourceId>(r);
        std::int64_t req = in.pod.requests[r];
        if (req > 0 && !ignored(snap.resources().name(id)) &&
            req > snap.allocatable(id)[node] - snap.requested(id)[node])
          out.push_back("Insufficient " + snap.resources().name(id));
      }
      for (const auto& name : in.pod.unknown_resources)
        if (!ignored(name)) out.push_back("Insufficient " + name);
    }
  }

  bool resource_term(const CycleInputs& in, kernels::ResourceTerm& term) const override {
    if (strategy == Strategy::kRequestedToCapacityRatio) return false;
    ResolvedResource res[kMaxScoringResources];
    const std::size_t n = resolve(in, resources, /*use_requested=*/false, res);
    return to_term(res, n,
                   strategy == Strategy::kLeastAllocated ? kernels::TermKind::kLeastAllocated
                                                         : kernels::TermKind::kMostAllocated,
                   term);
  }

  void score(const CycleInputs& in, std::span<const NodeIndex> nodes,
             std::span<std::int64_t> scores) const override {
    ResolvedResource res[kMaxScoringResources];
    const std::size_t n = resolve(in, resources, /*use_requested=*/false, res);
    if (strategy != Strategy::kRequestedToCapacityRatio &&
        std::all_of(res, res + n, [](const ResolvedResource& r) { return r.exact_in_double; })) {
      return score_vectorised(nodes, scores, res, n,
                              strategy == Strategy::kLeastAllocated ? kernels::least_allocated
                                                                    : kernels::most_allocated);
    }
    switch (strategy) {
      case Strategy::kLeastAllocated:
        return score_with(nodes, scores, res, n,
                          [](std::int64_t req, std::int64_t cap, double inv) -> std::int64_t {
                            return req > cap ? 0
                                             : exact_div_inv((cap - req) * kMaxNodeScore, cap, inv);
                          });
      case Strategy::kMostAllocated:
        return score_with(nodes, scores, res, n,
                          [](std::int64_t req, std::int64_t cap, double inv) -> std::int64_t {
                            return exact_div_inv((req > cap ? cap : req) * kMaxNodeScore, cap, inv);
                          });
      case Strategy::kRequestedToCapacityRatio:
        return score_ratio(nodes, scores, res, n);
    }
  }

 private:
  using Kernel = void (*)(const double*, const double*, const double*, double, double, std::size_t,
                          double*, double*);

  static void score_vectorised(std::span<const NodeIndex> nodes, std::span<std::int64_t> scores,
                               const ResolvedResource* res, std::size_t n, Kernel kernel) {
    double acc[kChunk], wsum[kChunk], cap[kChunk], inv[kChunk], used[kChunk];
    for (std::size_t base = 0; base < nodes.size(); base += kChunk) {
      const std::size_t m = std::min(kChunk, nodes.size() - base);
      const NodeIndex* idx = nodes.data() + base;
      const bool run = contiguous(idx, m);
      std::fill(acc, acc + m, 0.0);
      std::fill(wsum, wsum + m, 0.0);
      for (std::size_t r = 0; r < n; ++r)
        kernel(chunk_view(res[r].allocatable_f64, idx, m, run, cap),
               chunk_view(res[r].inverse, idx, m, run, inv),
               chunk_view(res[r].requested_f64, idx, m, run, used),
               static_cast<double>(res[r].pod_request), static_cast<double>(res[r].weight), m, acc,
               wsum);
      kernels::weighted_mean(acc, wsum, m, scores.data() + base);
    }
  }

  // Resource-major over chunks of nodes: each inner loop streams one column.
  template <class F>
  static void score_with(std::span<const NodeIndex> nodes, std::span<std::int64_t> scores,
                         const ResolvedResource* res, std::size_t n, F per_resource) {
    for (std::size_t base = 0; base < nodes.size(); base += kChunk) {
      const std::size_t m = std::min(kChunk, nodes.size() - base);
      const NodeIndex* idx = nodes.data() + base;
      std::int64_t acc[kChunk] = {};
      std::int64_t wsum[kChunk] = {};
      for (std::size_t r = 0; r < n; ++r) {
        const std::int64_t* alloc = res[r].allocatable;
        const double* inv = res[r].inverse;
        const std::int64_t* used = res[r].requested;
        const std::int64_t pod = res[r].pod_request;
        const std::int64_t w = res[r].weight;
        for (std::size_t j = 0; j < m; ++j) {
          const NodeIndex i = idx[j];
          const std::int64_t cap = alloc[i];
          const std::int64_t w_eff = cap != 0 ? w : 0;  // a resource the node lacks is left out
          acc[j] += (cap != 0 ? per_resource(used[i] + pod, cap, inv[i]) : 0) * w_eff;
          wsum[j] += w_eff;
        }
      }
      std::int64_t* out = scores.data() + base;
      for (std::size_t j = 0; j < m; ++j)
        out[j] = wsum[j] == 0 ? 0 : exact_div_inv(acc[j], wsum[j], kWeightInverses.inv[wsum[j]]);
    }
  }

  void score_ratio(std::span<const NodeIndex> nodes, std::span<std::int64_t> scores,
                   const ResolvedResource* res, std::size_t n) const {
    for (std::size_t k = 0; k < nodes.size(); ++k) {
      const NodeIndex i = nodes[k];
      std::int64_t node_score = 0, weight_sum = 0;
      for (std::size_t r = 0; r < n; ++r) {
        const std::int64_t cap = res[r].allocatable[i];
        if (cap == 0) continue;
        const std::int64_t req = res[r].requested[i] + res[r].pod_request;
        const std::int64_t s = broken_linear(
            shape, req > cap ? kMaxUtilization : exact_div(req * kMaxUtilization, cap));
        if (s > 0) {
          node_score += s * res[r].weight;
          weight_sum += res[r].weight;
        }
      }
      scores[k] = weight_sum == 0
                      ? 0
                      : static_cast<std::int64_t>(std::round(static_cast<double>(node_score) /
                                                             static_cast<double>(weight_sum)));
    }
  }
};

class BalancedAllocation final : public Plugin {
 public:
  std::string_view name() const override { return "NodeResourcesBalancedAllocation"; }
  bool has_score() const override { return true; }
  std::vector<WeightedResource> resources{{"cpu", 1}, {"memory", 1}};

  // PreScore: a pod that requests none of the resources is skipped, so that
  // best-effort pods do not pile onto one node (kubernetes#129138).
  bool scores_pod(const CycleInputs& in) const override {
    for (const auto& wr : resources) {
      ResourceId r = in.snapshot.resources().find(wr.name);
      if (r != kUnknownResource && in.pod.request(r) != 0) return true;
    }
    return false;
  }

  bool resource_term(const CycleInputs& in, kernels::ResourceTerm& term) const override {
    ResolvedResource res[kMaxScoringResources];
    const std::size_t n = resolve(in, resources, /*use_requested=*/true, res);
    return to_term(res, n, kernels::TermKind::kBalanced, term);
  }

  void score(const CycleInputs& in, std::span<const NodeIndex> nodes,
             std::span<std::int64_t> scores) const override {
    ResolvedResource res[kMaxScoringResources];
    const std::size_t n = resolve(in, resources, /*use_requested=*/true, res);
    // Fractions are computed column by column (-1 marks a resource the node
    // lacks), then combined per node in resource order, so the float
    // operations are exactly kube-scheduler's.
    double fractions[kMaxScoringResources][kChunk];
    double cap_buf[kChunk], used_buf[kChunk];
    const bool exact =
        std::all_of(res, res + n, [](const ResolvedResource& r) { return r.exact_in_double; });
    for (std::size_t base = 0; base < nodes.size(); base += kChunk) {
      const std::size_t m = std::min(kChunk, nodes.size() - base);
      const NodeIndex* idx = nodes.data() + base;
      const bool run = contiguous(idx, m);
      for (std::size_t r = 0; r < n; ++r) {
        double* f = fractions[r];
        if (exact) {
          kernels::fractions(chunk_view(res[r].allocatable_f64, idx, m, run, cap_buf),
                             chunk_view(res[r].requested_f64, idx, m, run, used_buf),
                             static_cast<double>(res[r].pod_request), m, f);
          continue;
        }
        const std::int64_t* alloc = res[r].allocatable;
        const std::int64_t* used = res[r].requested;
        const std::int64_t pod = res[r].pod_request;
        for (std::size_t j = 0; j < m; ++j) {
          const NodeIndex i = idx[j];
          const std::int64_t cap = alloc[i];
          const double v =
              static_cast<double>(used[i] + pod) / static_cast<double>(cap != 0 ? cap : 1);
          f[j] = cap == 0 ? -1.0 : (v > 1 ? 1.0 : v);
        }
      }
      std::int64_t* out = scores.data() + base;
      if (n == 2) {
        kernels::balanced_two(fractions[0], fractions[1], m, out);
        continue;
      }
      for (std::size_t j = 0; j < m; ++j) {
        double present[kMaxScoringResources];
        std::size_t count = 0;
        double total = 0;
        for (std::size_t r = 0; r < n; ++r) {
          const double f = fractions[r][j];
          if (f < 0) continue;
          total += f;
          present[count++] = f;
        }
        double std_dev = 0;
        if (count == 2) {
          std_dev = std::fabs((present[0] - present[1]) / 2);
        } else if (count > 2) {
          const double mean = total / static_cast<double>(count);
          double sum = 0;
          for (std::size_t r = 0; r < count; ++r) sum += (present[r] - mean) * (present[r] - mean);
          std_dev = std::sqrt(sum / static_cast<double>(count));
        }
        out[j] = static_cast<std::int64_t>((1 - std_dev) * static_cast<double>(kMaxNodeScore));
      }
    }
  }
};

std::vector<std::string> read_string_list(const Json& args, std::string_view key,
                                          const Where& where) {
  std::vector<std::string> out;
  if (const Json* arr = read_array(args, key, where))
    for (std::size_t i = 0; i < arr->size(); ++i) {
      if (!(*arr)[i].is_string()) (where / key)[i].fail("expected a string");
      out.push_back((*arr)[i].get<std::string>());
    }
  return out;
}

}  // namespace

std::vector<WeightedResource> parse_weighted_resources(const Json& args, std::string_view key,
                                                       const Where& where,
                                                       std::vector<WeightedResource> fallback) {
  const Json* arr = read_array(args, key, where);
  if (!arr) return fallback;
  std::vector<WeightedResource> out;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    Where w = (where / key)[i];
    WeightedResource wr;
    wr.name = read_string((*arr)[i], "name", w);
    if (wr.name.empty()) w.fail("missing name");
    // Defaulting turns an omitted or 0 weight into 1; validation wants (0, 100].
    wr.weight = read_int((*arr)[i], "weight", w, 0, std::numeric_limits<std::int64_t>::min(),
                         std::numeric_limits<std::int64_t>::max());
    if (wr.weight == 0) wr.weight = 1;
    if (wr.weight < 0 || wr.weight > 100)
      (w / "weight")
          .fail(fmt::format("{}: resource weight of {} not in valid range (0, 100]", wr.weight,
                            wr.name));
    for (const auto& prev : out)
      if (prev.name == wr.name)
        (w / "name").fail(fmt::format("resource \"{}\" listed twice", wr.name));
    out.push_back(std::move(wr));
  }
  if (out.empty()) return fallback;
  if (out.size() > kMaxScoringResources)
    (where / key).fail(fmt::format("at most {} resources are supported", kMaxScoringResources));
  return out;
}

PluginPtr make_node_resources_fit(const Json& args, const Where& where) {
  auto p = std::make_unique<NodeResourcesFit>();
  if (args.is_null()) return p;
  check_keys(
      args, where,
      {"apiVersion", "kind", "scoringStrategy", "ignoredResources", "ignoredResourceGroups"});
  p->ignored_resources = read_string_list(args, "ignoredResources", where);
  p->ignored_groups = read_string_list(args, "ignoredResourceGroups", where);
  for (std::size_t i = 0; i < p->ignored_groups.size(); ++i)
    if (p->ignored_groups[i].find('/') != std::string::npos)
      (where / "ignoredResourceGroups")[i].fail("a resource group name must not contain '/'");
  const Json* strat = read_object(args, "scoringStrategy", where);
  if (!strat) return p;
  Where sw = where / "scoringStrategy";
  check_keys(*strat, sw, {"type", "resources", "requestedToCapacityRatio"});
  std::string type = read_string(*strat, "type", sw);
  if (type == "LeastAllocated") {
    p->strategy = Strategy::kLeastAllocated;
  } else if (type == "MostAllocated") {
    p->strategy = Strategy::kMostAllocated;
  } else if (type == "RequestedToCapacityRatio") {
    p->strategy = Strategy::kRequestedToCapacityRatio;
  } else {
    (sw / "type")
        .fail(fmt::format("unknown scoring strategy \"{}\" (LeastAllocated, MostAllocated, "
                          "RequestedToCapacityRatio)",
                          type));
  }
  p->resources = parse_weighted_resources(*strat, "resources", sw, p->resources);
  if (p->strategy == Strategy::kRequestedToCapacityRatio) {
    const Json* rtcr = read_object(*strat, "requestedToCapacityRatio", sw);
    if (!rtcr)
      sw.fail("requestedToCapacityRatio is required for strategy RequestedToCapacityRatio");
    Where rw = sw / "requestedToCapacityRatio";
    const Json* shape = read_array(*rtcr, "shape", rw);
    if (!shape || shape->empty()) (rw / "shape").fail("at least one point must be specified");
    for (std::size_t i = 0; i < shape->size(); ++i) {
      Where pw = (rw / "shape")[i];
      ShapePoint pt;
      pt.utilization =
          read_int((*shape)[i], "utilization", pw, 0, std::numeric_limits<std::int32_t>::min(),
                   std::numeric_limits<std::int32_t>::max());
      if (pt.utilization < 0 || pt.utilization > kMaxUtilization)
        (pw / "utilization").fail(fmt::format("{}: not in valid range [0, 100]", pt.utilization));
      pt.score = read_int((*shape)[i], "score", pw, 0, std::numeric_limits<std::int32_t>::min(),
                          std::numeric_limits<std::int32_t>::max());
      if (pt.score < 0 || pt.score > kMaxCustomPriorityScore)
        (pw / "score").fail(fmt::format("{}: not in valid range [0, 10]", pt.score));
      pt.score *= kMaxNodeScore / kMaxCustomPriorityScore;
      if (!p->shape.empty() && pt.utilization <= p->shape.back().utilization)
        (pw / "utilization").fail("utilization values must be sorted in increasing order");
      p->shape.push_back(pt);
    }
  }
  return p;
}

PluginPtr make_balanced_allocation(const Json& args, const Where& where) {
  auto p = std::make_unique<BalancedAllocation>();
  if (args.is_null()) return p;
  check_keys(args, where, {"apiVersion", "kind", "resources"});
  p->resources = parse_weighted_resources(args, "resources", where, p->resources);
  for (std::size_t i = 0; i < p->resources.size(); ++i)
    if (p->resources[i].weight != 1)
      ((where / "resources")[i] / "weight")
          .fail(fmt::format("{}: must be 1", p->resources[i].weight));
  return p;
}

}  // namespace detail
CARBONKUBE_NAMESPACE_END
