// Where the host finds the Kubernetes API and how it authenticates: a
// kubeconfig file (current-context, certificate or token users, CA) or the
// in-cluster service account. Secrets stay in memory; errors name the file
// and field, never a secret's value.
#pragma once

#include <string>

#include "http_client.hpp"

namespace carbonkube::host {

struct KubeCredentials {
  std::string server;  // https://host:port, no trailing slash
  TlsConfig tls;
  std::string bearer_token;       // static token (kubeconfig `token`)
  std::string bearer_token_file;  // re-read on each client (rotated SA tokens)
  std::string default_namespace = "default";

  /// The token to send now: the file's content when a file is set.
  std::string current_token() const;
};

/// Parses a kubeconfig (YAML or JSON). Relative file paths inside it resolve
/// against the kubeconfig's directory, as kubectl does. `context` overrides
/// current-context when not empty. Throws InvalidInput naming `path` and the field.
KubeCredentials load_kubeconfig(const std::string& path, const std::string& context = {});

/// The pod's service account: KUBERNETES_SERVICE_HOST / _PORT and the files
/// token, ca.crt, namespace under `account_dir`.
KubeCredentials load_in_cluster(
    const std::string& account_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

/// --kubeconfig if given, else $KUBECONFIG, else in-cluster.
KubeCredentials resolve_credentials(const std::string& kubeconfig_flag);

/// RFC 4648 base64 (whitespace ignored); throws InvalidInput naming `what`.
std::string base64_decode(std::string_view text, const std::string& what);

}  // namespace carbonkube::host
