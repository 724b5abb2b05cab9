// Kubernetes REST client (kube_client.hpp).
#include "kube_client.hpp"

#include <nlohmann/json.hpp>

#include "carbonkube/error.hpp"

namespace carbonkube::host {
namespace {

std::string without_query(const std::string& path) {
  const auto q = path.find('?');
  return q == std::string::npos ? path : path.substr(0, q);
}

std::string url_encode(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

}  // namespace

ApiError api_error(const std::string& method, const std::string& path,
                   const HttpResponse& response) {
  long code = response.status;
  std::string reason;
  std::string message;
  try {
    const auto status = nlohmann::json::parse(response.body);
    if (status.is_object() && status.value("kind", "") == "Status") {
      code = status.value("code", code);
      reason = status.value("reason", "");
      message = status.value("message", "");
    }
  } catch (const nlohmann::json::exception&) {
    message = response.body.substr(0, 200);
  }
  return ApiError(code, reason,
                  method + " " + without_query(path) + ": HTTP " + std::to_string(response.status) +
                      (reason.empty() ? "" : " " + reason) +
                      (message.empty() ? "" : ": " + message));
}

WatchEvent decode_watch_event(std::string_view line) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    throw InvalidInput(std::string("watch stream: a line is not JSON (") + e.what() + ")");
  }
  if (!doc.is_object() || !doc.contains("type") || !doc["type"].is_string() ||
      !doc.contains("object") || !doc["object"].is_object()) {
    throw InvalidInput("watch stream: an event without type or object");
  }
  WatchEvent event;
  event.type = doc["type"].get<std::string>();
  const auto& object = doc["object"];
  if (event.type == "ERROR") event.error_code = object.value("code", 0L);
  if (auto m = object.find("metadata"); m != object.end() && m->is_object()) {
    event.resource_version = m->value("resourceVersion", "");
  }
  event.object_json = object.dump();
  return event;
}

void WatchDecoder::feed(std::string_view chunk, const std::function<void(WatchEvent&&)>& on_event) {
  partial_.append(chunk);
  std::size_t start = 0;
  for (;;) {
    const auto end = partial_.find('\n', start);
    if (end == std::string::npos) break;
    std::string_view line(partial_.data() + start, end - start);
    start = end + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty()) continue;
    on_event(decode_watch_event(line));
  }
  partial_.erase(0, start);
}

KubeClient::KubeClient(KubeCredentials credentials)
    : credentials_(std::move(credentials)), http_(credentials_.tls) {}

HttpRequest KubeClient::make(const std::string& method, const std::string& path) {
  HttpRequest request;
  request.method = method;
  request.url = credentials_.server + path;
  request.headers.emplace_back("Accept", "application/json");
  request.headers.emplace_back("User-Agent", "carbonkube-host");
  if (const std::string token = credentials_.current_token(); !token.empty()) {
    request.headers.emplace_back("Authorization", "Bearer " + token);
  }
  return request;
}

HttpResponse KubeClient::request(const std::string& method, const std::string& path,
                                 const std::string& body, const std::string& content_type) {
  HttpRequest request = make(method, path);
  if (!body.empty()) {
    request.headers.emplace_back("Content-Type", content_type);
    request.body = body;
  }
  request.timeout = std::chrono::milliseconds(30'000);
  return http_.send(request);
}

std::string KubeClient::call(const std::string& method, const std::string& path,
                             const std::string& body, const std::string& content_type) {
  HttpResponse response = request(method, path, body, content_type);
  if (response.status < 200 || response.status >= 300) throw api_error(method, path, response);
  return std::move(response.body);
}

ListResult KubeClient::list(const std::string& path, int page_size) {
  const char separator = path.find('?') == std::string::npos ? '?' : '&';
  for (int attempt = 0;; ++attempt) {
    ListResult result;
    std::string continue_token;
    bool restarted = false;
    do {
      std::string page = path + separator + "limit=" + std::to_string(page_size);
      if (!continue_token.empty()) page += "&continue=" + url_encode(continue_token);
      HttpResponse response = request("GET", page);
      if (response.status == 410 && !continue_token.empty() && attempt < 3) {
        restarted = true;  // the continue token expired: list again from the start
        break;
      }
      if (response.status < 200 || response.status >= 300) throw api_error("GET", path, response);
      nlohmann::json doc;
      try {
        doc = nlohmann::json::parse(response.body);
      } catch (const nlohmann::json::exception& e) {
        throw InvalidInput("GET " + path + ": the list is not JSON (" + e.what() + ")");
      }
      const auto& metadata = doc["metadata"];
      result.resource_version = metadata.value("resourceVersion", "");
      continue_token = metadata.value("continue", "");
      std::string list_kind = doc.value("kind", "");
      std::string item_kind = list_kind.size() > 4 && list_kind.ends_with("List")
                                  ? list_kind.substr(0, list_kind.size() - 4)
                                  : std::string();
      result.kind = item_kind;
      const std::string api_version = doc.value("apiVersion", "v1");
      if (auto items = doc.find("items"); items != doc.end() && items->is_array()) {
        for (auto& item : *items) {
          if (!item.contains("kind")) item["kind"] = item_kind;
          if (!item.contains("apiVersion")) item["apiVersion"] = api_version;
          result.items.push_back(item.dump());
        }
      }
    } while (!continue_token.empty());
    if (!restarted) return result;
  }
}

void KubeClient::watch(const std::string& path, const std::string& resource_version,
                       int timeout_seconds, const std::function<void(WatchEvent&&)>& on_event,
                       const std::function<bool()>& should_stop) {
  const char separator = path.find('?') == std::string::npos ? '?' : '&';
  HttpRequest request =
      make("GET", path + separator + "watch=true&allowWatchBookmarks=true&resourceVersion=" +
                      url_encode(resource_version) +
                      "&timeoutSeconds=" + std::to_string(timeout_seconds));
  request.timeout = std::chrono::milliseconds(0);
  WatchDecoder decoder;
  // Watch events are objects beginning with "type"; an error answer (a
  // Status object) is collected whole and reported once the status is known.
  enum class Body { kUnknown, kEvents, kError } body = Body::kUnknown;
  std::string error_body;
  HttpResponse response = http_.stream(
      request,
      [&](std::string_view chunk) {
        if (body == Body::kUnknown) {
          std::string_view head = chunk;
          while (!head.empty() && (head.front() == ' ' || head.front() == '\n')) {
            head.remove_prefix(1);
          }
          if (head.empty()) return true;
          body = head.starts_with("{\"type\"") ? Body::kEvents : Body::kError;
        }
        if (body == Body::kError) {
          error_body.append(chunk);
          return error_body.size() < 65536;
        }
        decoder.feed(chunk, on_event);
        return !(should_stop && should_stop());
      },
      should_stop);
  if (response.status < 200 || response.status >= 300) {
    response.body = error_body;
    throw api_error("GET", path, response);
  }
}

}  // namespace carbonkube::host
