// kubeconfig and in-cluster credentials (kube_config.hpp).
#include "kube_config.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>

#include "carbonkube/error.hpp"
#include "carbonkube/kube.hpp"

namespace carbonkube::host {
namespace {

std::string trim_line_ends(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// The entry of `list` (clusters/users/contexts) whose name is `name`.
YAML::Node named_entry(const YAML::Node& root, const char* list, const std::string& name,
                       const std::string& path) {
  const YAML::Node entries = root[list];
  if (entries && entries.IsSequence()) {
    for (const auto& entry : entries) {
      if (entry["name"] && entry["name"].as<std::string>() == name) return entry;
    }
  }
  throw InvalidInput(path + ": " + list + ": no entry named \"" + name + "\"");
}

std::string string_field(const YAML::Node& node, const char* key) {
  const YAML::Node value = node[key];
  if (!value || value.IsNull()) return {};
  return value.as<std::string>();
}

std::string resolve_path(const std::string& file, const std::filesystem::path& base) {
  if (file.empty()) return file;
  std::filesystem::path p(file);
  return p.is_absolute() ? file : (base / p).string();
}

}  // namespace

std::string base64_decode(std::string_view text, const std::string& what) {
  auto value_of = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned buffer = 0;
  int bits = 0;
  bool padding = false;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    const int v = value_of(c);
    if (v < 0 || padding) throw InvalidInput(what + ": not valid base64");
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFFu));
    }
  }
  if (bits >= 6) throw InvalidInput(what + ": not valid base64 (truncated)");
  return out;
}

std::string KubeCredentials::current_token() const {
  if (!bearer_token_file.empty()) return trim_line_ends(read_file(bearer_token_file));
  return bearer_token;
}

KubeCredentials load_kubeconfig(const std::string& path, const std::string& context) {
  const std::string text = read_file(path);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw InvalidInput(path + ": not a kubeconfig (YAML: " + e.msg + ")");
  }
  if (!root.IsMap()) throw InvalidInput(path + ": not a kubeconfig (expected a mapping)");
  const std::filesystem::path base = std::filesystem::path(path).parent_path();
  try {
    std::string context_name = context.empty() ? string_field(root, "current-context") : context;
    if (context_name.empty()) throw InvalidInput(path + ": current-context is not set");
    const YAML::Node ctx = named_entry(root, "contexts", context_name, path)["context"];
    if (!ctx) throw InvalidInput(path + ": contexts[" + context_name + "]: no context field");
    const std::string cluster_name = string_field(ctx, "cluster");
    const std::string user_name = string_field(ctx, "user");
    KubeCredentials creds;
    if (const std::string ns = string_field(ctx, "namespace"); !ns.empty()) {
      creds.default_namespace = ns;
    }

    const YAML::Node cluster = named_entry(root, "clusters", cluster_name, path)["cluster"];
    if (!cluster) throw InvalidInput(path + ": clusters[" + cluster_name + "]: no cluster field");
    creds.server = string_field(cluster, "server");
    if (creds.server.empty()) {
      throw InvalidInput(path + ": clusters[" + cluster_name + "].cluster.server is empty");
    }
    while (!creds.server.empty() && creds.server.back() == '/') creds.server.pop_back();
    const std::string where = path + ": clusters[" + cluster_name + "].cluster.";
    if (const std::string ca = string_field(cluster, "certificate-authority-data"); !ca.empty()) {
      creds.tls.ca_data = base64_decode(ca, where + "certificate-authority-data");
    }
    creds.tls.ca_file = resolve_path(string_field(cluster, "certificate-authority"), base);
    if (cluster["insecure-skip-tls-verify"]) {
      creds.tls.insecure_skip_verify = cluster["insecure-skip-tls-verify"].as<bool>();
    }

    if (!user_name.empty()) {
      const YAML::Node user = named_entry(root, "users", user_name, path)["user"];
      const std::string uwhere = path + ": users[" + user_name + "].user.";
      if (user) {
        creds.bearer_token = string_field(user, "token");
        creds.bearer_token_file = resolve_path(string_field(user, "tokenFile"), base);
        if (const std::string d = string_field(user, "client-certificate-data"); !d.empty()) {
          creds.tls.client_cert_data = base64_decode(d, uwhere + "client-certificate-data");
        }
        if (const std::string d = string_field(user, "client-key-data"); !d.empty()) {
          creds.tls.client_key_data = base64_decode(d, uwhere + "client-key-data");
        }
        creds.tls.client_cert_file = resolve_path(string_field(user, "client-certificate"), base);
        creds.tls.client_key_file = resolve_path(string_field(user, "client-key"), base);
        if (user["exec"] || user["auth-provider"]) {
          throw InvalidInput(uwhere +
                             "exec / auth-provider plugins are not supported; use a token or "
                             "client certificate");
        }
        const bool has_cert =
            !creds.tls.client_cert_data.empty() || !creds.tls.client_cert_file.empty();
        const bool has_key =
            !creds.tls.client_key_data.empty() || !creds.tls.client_key_file.empty();
        if (has_cert != has_key) {
          throw InvalidInput(uwhere +
                             "a client certificate needs both the certificate and the key");
        }
      }
    }
    return creds;
  } catch (const YAML::Exception& e) {
    throw InvalidInput(path + ": malformed kubeconfig (" + e.msg + ")");
  }
}

KubeCredentials load_in_cluster(const std::string& account_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || *host == '\0' || port == nullptr || *port == '\0') {
    throw InvalidInput(
        "no --kubeconfig, no $KUBECONFIG, and not in a cluster (KUBERNETES_SERVICE_HOST / "
        "KUBERNETES_SERVICE_PORT are not set)");
  }
  KubeCredentials creds;
  const std::string h = host;
  creds.server = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + port;
  const std::filesystem::path dir(account_dir);
  creds.bearer_token_file = (dir / "token").string();
  if (!std::filesystem::exists(creds.bearer_token_file)) {
    throw InvalidInput("in-cluster: the service account token " + creds.bearer_token_file +
                       " does not exist");
  }
  creds.tls.ca_file = (dir / "ca.crt").string();
  if (!std::filesystem::exists(creds.tls.ca_file)) {
    throw InvalidInput("in-cluster: the cluster CA " + creds.tls.ca_file + " does not exist");
  }
  const std::string ns_file = (dir / "namespace").string();
  if (std::filesystem::exists(ns_file))
    creds.default_namespace = trim_line_ends(read_file(ns_file));
  return creds;
}

KubeCredentials resolve_credentials(const std::string& kubeconfig_flag) {
  if (!kubeconfig_flag.empty()) return load_kubeconfig(kubeconfig_flag);
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    std::string first(env);
    if (auto colon = first.find(':'); colon != std::string::npos) first.resize(colon);
    return load_kubeconfig(first);
  }
  return load_in_cluster();
}

}  // namespace carbonkube::host
