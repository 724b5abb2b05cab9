// Helpers for the host's tests: a cpp-httplib server on a free loopback port
// running in its own thread, a throwaway PKI (CA, server and client
// certificates made with the openssl tool) and small file helpers.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

namespace carbonkube::host::test {

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

/// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("carbonkube-host-test-" + std::to_string(::getpid()) + "-" +
             std::to_string(counter.fetch_add(1)));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// Runs `server` on 127.0.0.1 at a free port until destroyed.
class ServerThread {
 public:
  explicit ServerThread(httplib::Server& server, std::string scheme = "http")
      : server_(server), scheme_(std::move(scheme)) {
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("test server: cannot bind a loopback port");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~ServerThread() {
    server_.stop();
    thread_.join();
  }
  ServerThread(const ServerThread&) = delete;
  ServerThread& operator=(const ServerThread&) = delete;

  int port() const { return port_; }
  std::string base_url() const { return scheme_ + "://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server& server_;
  std::string scheme_;
  int port_ = 0;
  std::thread thread_;
};

/// A CA, a server certificate for 127.0.0.1/localhost and a client
/// certificate, all signed by the CA. Files live as long as the object.
struct TestPki {
  std::shared_ptr<TempDir> dir = std::make_shared<TempDir>();
  std::string ca_cert_file, ca_key_file;
  std::string server_cert_file, server_key_file;
  std::string client_cert_file, client_key_file;

  static TestPki generate() {
    TestPki pki;
    const TempDir& d = *pki.dir;
    pki.ca_cert_file = d.file("ca.crt");
    pki.ca_key_file = d.file("ca.key");
    pki.server_cert_file = d.file("server.crt");
    pki.server_key_file = d.file("server.key");
    pki.client_cert_file = d.file("client.crt");
    pki.client_key_file = d.file("client.key");
    write_text(d.file("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    const std::string q = " 2>/dev/null";
    run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout " +
        pki.ca_key_file + " -out " + pki.ca_cert_file + q);
    run("openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout " + pki.server_key_file +
        " -out " + d.file("server.csr") + q);
    run("openssl x509 -req -days 2 -in " + d.file("server.csr") + " -CA " + pki.ca_cert_file +
        " -CAkey " + pki.ca_key_file + " -CAcreateserial -extfile " + d.file("server.ext") +
        " -out " + pki.server_cert_file + q);
    run("openssl req -newkey rsa:2048 -nodes -subj /CN=test-client/O=system:masters -keyout " +
        pki.client_key_file + " -out " + d.file("client.csr") + q);
    run("openssl x509 -req -days 2 -in " + d.file("client.csr") + " -CA " + pki.ca_cert_file +
        " -CAkey " + pki.ca_key_file + " -CAcreateserial -out " + pki.client_cert_file + q);
    return pki;
  }

 private:
  static void run(const std::string& command) {
    if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
  }
};

}  // namespace carbonkube::host::test
