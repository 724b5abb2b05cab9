// List+watch informer (informer.hpp).
#include "informer.hpp"

#include <algorithm>
#include <random>
#include <thread>

#include "carbonkube/error.hpp"

namespace carbonkube::host {
namespace {

// Sleeps up to `delay`, waking early when `stop` is set.
void sleep_unless_stopped(std::chrono::milliseconds delay, const std::atomic<bool>& stop) {
  const auto until = std::chrono::steady_clock::now() + delay;
  while (!stop.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::min(delay, std::chrono::milliseconds(50)));
  }
}

}  // namespace

std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds initial,
                                        std::chrono::milliseconds max, double unit_random) {
  double ceiling = static_cast<double>(initial.count());
  for (int i = 0; i < attempt && ceiling < static_cast<double>(max.count()); ++i) ceiling *= 2;
  ceiling = std::min(ceiling, static_cast<double>(max.count()));
  // Half fixed, half jitter: never zero, never synchronised across replicas.
  const double wait = ceiling * (0.5 + 0.5 * std::clamp(unit_random, 0.0, 1.0));
  return std::chrono::milliseconds(static_cast<std::int64_t>(wait));
}

Informer::Informer(InformerOptions options, KubeCredentials credentials, Sink sink, Logger log)
    : options_(std::move(options)),
      credentials_(std::move(credentials)),
      sink_(std::move(sink)),
      log_(std::move(log)) {}

void Informer::run(const std::atomic<bool>& stop) {
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  KubeClient client(credentials_);
  std::string version;  // empty: list next
  int failures = 0;
  while (!stop.load()) {
    try {
      if (version.empty()) {
        ListResult list = client.list(options_.path);
        if (lists_.fetch_add(1) > 0) relists_.fetch_add(1);
        version = list.resource_version;
        InformerEvent replace;
        replace.kind = InformerEvent::Kind::kReplace;
        replace.resource = options_.resource;
        replace.objects = std::move(list.items);
        log_("info", "listed " + options_.resource + ": " + std::to_string(replace.objects.size()) +
                         " objects at resourceVersion " + version);
        sink_(std::move(replace));
        synced_.store(true);
        failures = 0;
      }
      bool expired = false;
      client.watch(
          options_.path, version, options_.watch_timeout_seconds,
          [&](WatchEvent&& event) {
            if (event.type == "BOOKMARK") {
              if (!event.resource_version.empty()) version = event.resource_version;
              return;
            }
            if (event.type == "ERROR") {
              if (event.error_code == 410) {
                expired = true;
              } else {
                throw ApiError(
                    event.error_code, "",
                    options_.resource + " watch: ERROR event " + event.object_json.substr(0, 300));
              }
              return;
            }
            InformerEvent out;
            out.kind = event.type == "DELETED" ? InformerEvent::Kind::kDelete
                                               : InformerEvent::Kind::kUpsert;
            if (event.type != "ADDED" && event.type != "MODIFIED" && event.type != "DELETED") {
              throw InvalidInput(options_.resource + " watch: unknown event type \"" + event.type +
                                 "\"");
            }
            out.resource = options_.resource;
            out.objects.push_back(std::move(event.object_json));
            if (!event.resource_version.empty()) version = event.resource_version;
            sink_(std::move(out));
          },
          [&] { return stop.load() || expired; });
      if (expired) {
        log_("info", options_.resource + " watch expired (410 Gone): listing again");
        version.clear();
      }
      failures = 0;
    } catch (const ApiError& e) {
      if (e.code() == 410) {
        log_("info", options_.resource + " watch expired (410 Gone): listing again");
        version.clear();
        continue;
      }
      log_("warn", std::string(e.what()));
      sleep_unless_stopped(
          backoff_delay(failures++, options_.initial_backoff, options_.max_backoff, unit(rng)),
          stop);
    } catch (const std::exception& e) {
      log_("warn", options_.resource + ": " + e.what());
      sleep_unless_stopped(
          backoff_delay(failures++, options_.initial_backoff, options_.max_backoff, unit(rng)),
          stop);
    }
  }
}

}  // namespace carbonkube::host
