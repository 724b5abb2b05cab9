// libcurl implementation of HttpClient: one easy handle per client (it keeps
// the connection alive between requests), TLS material from files or PEM
// blobs, streaming through a write callback, and errors that name the method
// and the URL without its query string (queries may carry tokens; header
// values never appear anywhere).
#include "http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <mutex>
#include <string>

#include "carbonkube/error.hpp"

namespace carbonkube::host {
namespace {

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string url_without_query(const std::string& url) {
  const auto cut = url.find_first_of("?#");
  return cut == std::string::npos ? url : url.substr(0, cut);
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// What the callbacks of one transfer see.
struct Transfer {
  HttpResponse* response = nullptr;
  const std::function<bool(std::string_view)>* on_chunk = nullptr;
  const std::function<bool()>* should_stop = nullptr;
  bool stopped_by_caller = false;
  // An exception from a caller's callback: it must not unwind through
  // libcurl's C frames, so it is kept here, the transfer aborted, and the
  // exception rethrown once curl_easy_perform has returned.
  std::exception_ptr error;
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  std::string_view line(data, bytes);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new status line (redirects, 100-continue): earlier headers belong to
    // an earlier response.
    transfer->response->headers.clear();
    return bytes;
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    transfer->response->headers.emplace_back(lower(trim(line.substr(0, colon))),
                                             std::string(trim(line.substr(colon + 1))));
  }
  return bytes;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  if (transfer->on_chunk != nullptr && *transfer->on_chunk) {
    try {
      if (!(*transfer->on_chunk)(std::string_view(data, bytes))) {
        transfer->stopped_by_caller = true;
        return 0;  // makes curl abort with CURLE_WRITE_ERROR
      }
    } catch (...) {
      transfer->error = std::current_exception();
      return 0;
    }
    return bytes;
  }
  transfer->response->body.append(data, bytes);
  return bytes;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* transfer = static_cast<Transfer*>(user);
  try {
    if (transfer->should_stop != nullptr && *transfer->should_stop && (*transfer->should_stop)()) {
      transfer->stopped_by_caller = true;
      return 1;  // aborts with CURLE_ABORTED_BY_CALLBACK
    }
  } catch (...) {
    transfer->error = std::current_exception();
    return 1;
  }
  return 0;
}

void set_blob(CURL* curl, CURLoption option, const std::string& pem) {
  curl_blob blob{};
  blob.data = const_cast<char*>(pem.data());
  blob.len = pem.size();
  blob.flags = CURL_BLOB_COPY;
  curl_easy_setopt(curl, option, &blob);
}

}  // namespace

std::string_view HttpResponse::header(std::string_view name) const {
  const std::string wanted = lower(name);
  for (const auto& [key, value] : headers) {
    if (key == wanted) return value;
  }
  return {};
}

struct HttpClient::Impl {
  TlsConfig tls;
  CURL* curl = nullptr;

  explicit Impl(TlsConfig config) : tls(std::move(config)) {
    global_init_once();
    curl = curl_easy_init();
    if (curl == nullptr) throw Error(ErrorKind::kIo, "http client: curl_easy_init failed");
  }
  ~Impl() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }

  void apply_tls() {
    if (!tls.ca_data.empty()) {
      set_blob(curl, CURLOPT_CAINFO_BLOB, tls.ca_data);
    } else if (!tls.ca_file.empty()) {
      curl_easy_setopt(curl, CURLOPT_CAINFO, tls.ca_file.c_str());
    }
    if (!tls.client_cert_data.empty()) {
      set_blob(curl, CURLOPT_SSLCERT_BLOB, tls.client_cert_data);
      curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
    } else if (!tls.client_cert_file.empty()) {
      curl_easy_setopt(curl, CURLOPT_SSLCERT, tls.client_cert_file.c_str());
      curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
    }
    if (!tls.client_key_data.empty()) {
      set_blob(curl, CURLOPT_SSLKEY_BLOB, tls.client_key_data);
      curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
    } else if (!tls.client_key_file.empty()) {
      curl_easy_setopt(curl, CURLOPT_SSLKEY, tls.client_key_file.c_str());
      curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
    }
    const long verify = tls.insecure_skip_verify ? 0L : 1L;
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, verify);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, tls.insecure_skip_verify ? 0L : 2L);
  }

  HttpResponse perform(const HttpRequest& request, Transfer& transfer) {
    HttpResponse response;
    transfer.response = &response;
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    if (transfer.on_chunk == nullptr) {
      // Compressed lists are much smaller; streams stay uncompressed because a
      // compressor buffers, which would hold watch events back.
      curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
    }
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(request.connect_timeout.count()));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
    if (transfer.should_stop != nullptr && *transfer.should_stop) {
      curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
      curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
      curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    }
    apply_tls();

    if (request.method == "GET") {
      curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
        request.method == "PATCH") {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    }

    curl_slist* headers = nullptr;
    for (const auto& [name, value] : request.headers) {
      const std::string line = name + ": " + value;
      headers = curl_slist_append(headers, line.c_str());
    }
    // No "Expect: 100-continue" round trip on larger bodies.
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

    char error_buffer[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
    const CURLcode code = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);

    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    if (transfer.error) std::rethrow_exception(transfer.error);
    if (code != CURLE_OK && !transfer.stopped_by_caller) {
      std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
      throw Error(ErrorKind::kIo,
                  request.method + " " + url_without_query(request.url) + ": " + detail);
    }
    return response;
  }
};

HttpClient::HttpClient(TlsConfig tls) : impl_(std::make_unique<Impl>(std::move(tls))) {}
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

HttpResponse HttpClient::send(const HttpRequest& request) {
  Transfer transfer;
  return impl_->perform(request, transfer);
}

HttpResponse HttpClient::stream(const HttpRequest& request,
                                const std::function<bool(std::string_view)>& on_chunk,
                                const std::function<bool()>& should_stop) {
  Transfer transfer;
  transfer.on_chunk = &on_chunk;
  transfer.should_stop = &should_stop;
  return impl_->perform(request, transfer);
}

}  // namespace carbonkube::host
