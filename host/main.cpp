// carbonkube-host: the reference host that links the engine and attaches to a
// real cluster (issue 8). Wires the parts in host/src/: credentials, the
// list+watch informers feeding the cluster cache, the scheduler loop with its
// binders, Lease leader election, the QoS controller, the carbon providers
// and the HTTP server (/metrics, /healthz, /readyz, the extender routes).
// docs/host.md describes the threads and the flags.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "carbonkube/error.hpp"
#include "carbonkube/metrics.hpp"
#include "carbonkube/profile.hpp"
#include "carbonkube/qos.hpp"
#include "carbonkube/signals.hpp"
#include "extender.hpp"
#include "host_metrics.hpp"
#include "host_options.hpp"
#include "http_server.hpp"
#include "informer.hpp"
#include "kube_config.hpp"
#include "leader_election.hpp"
#include "providers.hpp"
#include "qos_controller.hpp"
#include "scheduler_loop.hpp"

using namespace carbonkube;
using namespace carbonkube::host;

namespace {

std::string default_identity() {
  char name[256] = {0};
  if (gethostname(name, sizeof name - 1) != 0) std::snprintf(name, sizeof name, "host");
  return std::string(name) + "_" + std::to_string(getpid());
}

std::shared_ptr<const CarbonSignals> load_signal_files(const HostOptions& options, Log& log) {
  auto signals = std::make_shared<CarbonSignals>();
  for (const std::string& path : options.signals) {
    const std::string text = read_file(path);
    std::optional<SignalFormat> format = options.signals_format == "auto"
                                             ? detect_signal_format(text, path)
                                             : parse_signal_format(options.signals_format);
    if (!format) {
      throw InvalidInput(path + ": cannot tell the carbon data format; give --signals-format");
    }
    SignalLoad load = load_signals(text, path, *format, IntensityScope::kLifecycle, {});
    for (const auto& warning : load.warnings) log.write("warn", path + ": " + warning);
    signals->add(std::move(load.series));
  }
  return signals;
}

SchedulerConfig load_scheduler_config(const HostOptions& options) {
  if (options.scheduler_config.empty()) {
    return parse_scheduler_config(seed_profile_yaml(), "seed profile");
  }
  return parse_scheduler_config(read_file(options.scheduler_config), options.scheduler_config);
}

// The profile named --scheduler-name; a configuration with one profile of
// another name serves under --scheduler-name (with a warning).
std::string profile_name_for(const SchedulerConfig& config, const HostOptions& options, Log& log) {
  for (const auto& profile : config.profiles) {
    if (profile.scheduler_name == options.scheduler_name) return profile.scheduler_name;
  }
  if (config.profiles.size() > 1) {
    throw InvalidInput("--scheduler-config: no profile named \"" + options.scheduler_name + "\"");
  }
  if (!config.profiles.empty()) {
    log.write("warn", "--scheduler-config: its profile \"" +
                          config.profiles.front().scheduler_name +
                          "\" places the pods of --scheduler-name " + options.scheduler_name);
  }
  return {};
}

int run_host(const HostOptions& options) {
  Log log(options.log_format == "json");
  auto logger = [&log](const std::string& level, const std::string& message) {
    log.write(level, message);
  };
  const KubeCredentials credentials = resolve_credentials(options.kubeconfig);
  const std::string identity = options.identity.empty() ? default_identity() : options.identity;

  const SchedulerConfig scheduler_config = load_scheduler_config(options);
  const std::string profile_name = profile_name_for(scheduler_config, options, log);
  std::optional<ZoneMap> zones;
  if (!options.zones.empty()) zones = ZoneMap::parse(read_file(options.zones), options.zones);
  std::shared_ptr<const CarbonSignals> file_signals = load_signal_files(options, log);
  std::unique_ptr<CarbonProviders> providers;
  if (!options.providers.empty()) {
    providers = std::make_unique<CarbonProviders>(
        parse_provider_configs_yaml(read_file(options.providers), options.providers));
  }
  std::function<std::shared_ptr<const CarbonSignals>()> signals = [&]() {
    return providers ? providers->signals() : file_signals;
  };
  QosReconcilerConfig reconciler;
  if (!options.carbon_profile.empty()) {
    reconciler.profiles =
        parse_carbon_profile(read_file(options.carbon_profile), options.carbon_profile).profiles;
  }

  // SIGTERM / SIGINT end the process gracefully: blocked in every thread,
  // taken by sigwait on one.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::atomic<bool> stop{false};

  HostMetrics metrics;
  std::unique_ptr<LeaderElector> elector;
  if (options.leader_elect) {
    LeaderElectionOptions le;
    le.lease_namespace = options.lease_namespace;
    le.lease_name = options.lease_name;
    le.identity = identity;
    le.lease_duration = options.lease_duration;
    le.renew_deadline = options.renew_deadline;
    le.retry_period = options.retry_period;
    elector = std::make_unique<LeaderElector>(le, credentials, logger);
  }
  auto is_leader = [&]() { return elector ? elector->is_leader() : true; };

  SchedulerLoopOptions loop_options;
  loop_options.scheduler_name = options.scheduler_name;
  loop_options.binders = options.binders;
  loop_options.zones = zones ? &*zones : nullptr;
  loop_options.signals = signals;
  loop_options.at = options.at;
  loop_options.schedule = options.mode_scheduler;
  loop_options.publish_objects = options.mode_extender || options.mode_qos;
  SchedulerLoop loop(loop_options, Scheduler(compile_profile(scheduler_config, profile_name)),
                     credentials, metrics, is_leader, logger);

  std::vector<std::unique_ptr<Informer>> informers;
  for (const auto& [resource, path] :
       {std::pair<std::string, std::string>{"nodes", "/api/v1/nodes"},
        std::pair<std::string, std::string>{"pods", "/api/v1/pods"}}) {
    InformerOptions io;
    io.resource = resource;
    io.path = path;
    informers.push_back(std::make_unique<Informer>(
        io, credentials, [&loop](InformerEvent&& event) { loop.post(std::move(event)); }, logger));
  }
  // Katalyst CustomNodeResources, when the CRD is installed (404: it is not).
  {
    const std::string cnr_path = "/apis/node.katalyst.kubewharf.io/v1alpha1/customnoderesources";
    KubeClient probe(credentials);
    const HttpResponse answer = probe.request("GET", cnr_path + "?limit=1");
    if (answer.status == 200) {
      InformerOptions io;
      io.resource = "customnoderesources";
      io.path = cnr_path;
      informers.push_back(std::make_unique<Informer>(
          io, credentials, [&loop](InformerEvent&& event) { loop.post(std::move(event)); },
          logger));
      log.write("info", "CustomNodeResource CRD found: topology plugins get node topologies");
    } else {
      log.write("info", "no CustomNodeResource CRD (HTTP " + std::to_string(answer.status) +
                            "): topology plugins see no topology");
    }
  }
  auto synced = [&]() {
    for (const auto& informer : informers) {
      if (!informer->synced()) return false;
    }
    return true;
  };

  // The extender and /metrics serve on every replica.
  const Scheduler extender_scheduler = make_extender_scheduler(scheduler_config, profile_name);
  HttpServerOptions server_options;
  parse_listen_address(options.listen, server_options);
  server_options.tls_cert_file = options.tls_cert;
  server_options.tls_key_file = options.tls_key;
  HttpHandlers handlers;
  handlers.ready = [&](std::string* why) {
    if (!synced()) {
      if (why != nullptr) *why = "informers have not listed nodes and pods yet";
      return false;
    }
    // The extender's node cache (nodeCacheCapable) and the QoS controller read
    // the loop's published objects: ready once they hold the synced lists.
    if (loop_options.publish_objects && loop.objects() == nullptr) {
      if (why != nullptr) *why = "the synced cluster has not been published to the extender yet";
      return false;
    }
    return true;
  };
  handlers.metrics = [&]() {
    metrics.leader.store(is_leader() ? 1 : 0);
    metrics.relists_nodes.store(informers[0]->relists());
    metrics.relists_pods.store(informers[1]->relists());
    std::string text = metrics.prometheus_text();
    EngineMetrics engine;
    if (zones) {
      if (auto current = signals()) {
        const std::int64_t now = options.at.value_or(static_cast<std::int64_t>(std::time(nullptr)));
        engine.zones =
            zone_intensity_metrics(*zones, ZoneIntensities::compute(*zones, *current, now));
      }
    }
    text += render_prometheus(engine);
    return text;
  };
  if (options.mode_extender) {
    auto inputs_for_call = [&](const std::shared_ptr<const KubeObjects>& cache,
                               const std::shared_ptr<const CarbonSignals>& current) {
      ExtenderInputs inputs;
      inputs.scheduler = &extender_scheduler;
      inputs.zones = zones ? &*zones : nullptr;
      inputs.signals = current.get();
      if (!reconciler.profiles.profiles().empty()) inputs.qos_profiles = &reconciler.profiles;
      inputs.now = options.at.value_or(static_cast<std::int64_t>(std::time(nullptr)));
      inputs.cache = cache.get();
      return inputs;
    };
    handlers.filter = [&, inputs_for_call](std::string_view body) {
      const auto cache = loop.objects();
      const auto current = signals();
      return extender_filter(body, inputs_for_call(cache, current));
    };
    handlers.prioritize = [&, inputs_for_call](std::string_view body) {
      const auto cache = loop.objects();
      const auto current = signals();
      return extender_prioritize(body, inputs_for_call(cache, current));
    };
  }
  HttpServer server(server_options, handlers);
  server.start();
  log.write("info", "carbonkube-host " + identity + " serving on " + options.listen +
                        (server.tls() ? " (HTTPS)" : "") + "; API server " + credentials.server);

  std::vector<std::thread> threads;
  if (providers) providers->start();
  for (auto& informer : informers) {
    threads.emplace_back([&stop, raw = informer.get()] { raw->run(stop); });
  }
  if (elector) threads.emplace_back([&] { elector->run(stop); });
  std::unique_ptr<QosController> qos;
  if (options.mode_qos) {
    QosControllerOptions qo;
    qo.zones = zones ? &*zones : nullptr;
    qo.signals = signals;
    qo.at = options.at;
    qo.reconciler = reconciler;
    qo.interval = std::chrono::duration_cast<std::chrono::seconds>(options.qos_interval);
    if (qo.interval.count() < 1) qo.interval = std::chrono::seconds(1);
    qos = std::make_unique<QosController>(qo, logger);
    threads.emplace_back([&] {
      qos->run(
          stop, is_leader, [&] { return loop.objects(); }, credentials, metrics);
    });
  }
  threads.emplace_back([&] {
    int received = 0;
    sigwait(&stop_signals, &received);
    log.write("info", std::string("received ") + (received == SIGTERM ? "SIGTERM" : "SIGINT") +
                          "; stopping");
    stop.store(true);
  });

  loop.run(stop, synced);  // returns once stop is set, binders joined

  // Unblock the signal thread if the loop ended for another reason.
  if (!stop.exchange(true)) kill(getpid(), SIGTERM);
  for (auto& thread : threads) thread.join();
  if (providers) providers->stop();
  server.stop();
  log.write("info", "stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  HostOptions options;
  try {
    options = parse_host_options(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "carbonkube-host: %s\n", e.what());
    return 2;
  }
  if (options.help) {
    std::fputs(host_usage().c_str(), stdout);
    return 0;
  }
  try {
    return run_host(options);
  } catch (const std::exception& e) {
    Log(options.log_format == "json").write("error", e.what());
    return 2;
  }
}
