// deploy/ and the extender example: every manifest is valid YAML of the
// expected kinds; RBAC grants exactly the verbs the host's requests need;
// the Deployment's probes, security and mounts line up with the ConfigMap;
// every file the ConfigMap carries is accepted by the parser that reads it;
// the CarbonProfile CRD's schema has exactly the fields parse_carbon_profile reads.
#include <doctest/doctest.h>

#include <yaml-cpp/yaml.h>
#include <carbonkube/error.hpp>
#include <carbonkube/profile.hpp>
#include <carbonkube/qos.hpp>
#include <carbonkube/signals.hpp>

#include <filesystem>
#include <map>
#include <set>

#include "host_options.hpp"
#include "http_server.hpp"
#include "providers.hpp"
#include "test_support.hpp"

namespace ck = carbonkube;

namespace {

const std::string kSource = CARBONKUBE_SOURCE_DIR;

std::vector<YAML::Node> documents(const std::string& path) {
  std::vector<YAML::Node> out;
  for (const auto& doc : YAML::LoadAllFromFile(path))
    if (doc && !doc.IsNull()) out.push_back(doc);
  return out;
}

std::map<std::string, YAML::Node> objects_by_kind_and_name() {
  std::map<std::string, YAML::Node> out;
  for (const auto& entry : std::filesystem::directory_iterator(kSource + "/deploy")) {
    if (entry.path().extension() != ".yaml") continue;
    for (const auto& doc : documents(entry.path().string())) {
      REQUIRE_MESSAGE(doc["kind"], entry.path().string());
      const std::string kind = doc["kind"].as<std::string>();
      if (kind == "Kustomization") {
        for (const auto& r : doc["resources"])
          CHECK_MESSAGE(std::filesystem::exists(kSource + "/deploy/" + r.as<std::string>()),
                        r.as<std::string>());
        continue;
      }
      out[kind + "/" + doc["metadata"]["name"].as<std::string>()] = doc;
    }
  }
  return out;
}

// "group/resource" -> verbs over every rule of a (Cluster)Role.
std::map<std::string, std::set<std::string>> grants(const YAML::Node& role) {
  std::map<std::string, std::set<std::string>> out;
  for (const auto& rule : role["rules"])
    for (const auto& group : rule["apiGroups"])
      for (const auto& resource : rule["resources"])
        for (const auto& verb : rule["verbs"])
          out[group.as<std::string>() + "/" + resource.as<std::string>()].insert(
              verb.as<std::string>());
  return out;
}

// Every key path under a YAML map (a.b.c), for comparing field sets.
void key_paths(const YAML::Node& node, const std::string& prefix, std::set<std::string>& out) {
  if (!node.IsMap()) return;
  for (const auto& kv : node) {
    const std::string path = prefix + kv.first.as<std::string>();
    out.insert(path);
    key_paths(kv.second, path + ".", out);
  }
}
void schema_paths(const YAML::Node& schema, const std::string& prefix, std::set<std::string>& out) {
  if (!schema["properties"]) return;
  for (const auto& kv : schema["properties"]) {
    const std::string path = prefix + kv.first.as<std::string>();
    out.insert(path);
    schema_paths(kv.second, path + ".", out);
  }
}

}  // namespace

TEST_CASE("deploy: manifests parse and hold the expected objects") {
  const auto objects = objects_by_kind_and_name();
  for (const char* name :
       {"Namespace/carbonkube-system", "ServiceAccount/carbonkube-host",
        "ClusterRole/carbonkube-host", "ClusterRoleBinding/carbonkube-host",
        "Role/carbonkube-host-leader-election", "RoleBinding/carbonkube-host-leader-election",
        "ConfigMap/carbonkube-host", "Deployment/carbonkube-host", "Service/carbonkube-host",
        "CustomResourceDefinition/carbonprofiles.carbon.katalyst.io"})
    CHECK_MESSAGE(objects.count(name) == 1, name);
}

TEST_CASE("deploy: RBAC grants exactly what the host's requests need") {
  const auto objects = objects_by_kind_and_name();
  const auto cluster = grants(objects.at("ClusterRole/carbonkube-host"));
  using Verbs = std::set<std::string>;
  const std::map<std::string, Verbs> expected{
      {"/nodes", {"get", "list", "watch", "patch"}},
      {"/pods", {"get", "list", "watch"}},
      {"/pods/binding", {"create"}},
      {"/events", {"create", "patch"}},
      {"events.k8s.io/events", {"create", "patch"}},
      {"node.katalyst.kubewharf.io/customnoderesources", {"get", "list", "watch"}},
      {"carbon.katalyst.io/carbonprofiles", {"get", "list", "watch"}},
  };
  CHECK(cluster == expected);
  const auto role = objects.at("Role/carbonkube-host-leader-election");
  CHECK(grants(role) ==
        std::map<std::string, Verbs>{{"coordination.k8s.io/leases", {"get", "create", "update"}}});
  // The Lease namespace of the Role is the one host.yaml elects in.
  const YAML::Node host =
      YAML::Load(objects.at("ConfigMap/carbonkube-host")["data"]["host.yaml"].as<std::string>());
  CHECK(role["metadata"]["namespace"].as<std::string>() ==
        host["lease-namespace"].as<std::string>());
  for (const char* binding :
       {"ClusterRoleBinding/carbonkube-host", "RoleBinding/carbonkube-host-leader-election"}) {
    const auto subject = objects.at(binding)["subjects"][0];
    CHECK(subject["name"].as<std::string>() == "carbonkube-host");
    CHECK(subject["namespace"].as<std::string>() == "carbonkube-system");
  }
}

TEST_CASE("deploy: Deployment probes, security and mounts match the config") {
  const auto objects = objects_by_kind_and_name();
  const YAML::Node deployment = objects.at("Deployment/carbonkube-host");
  CHECK(deployment["spec"]["replicas"].as<int>() == 2);
  const YAML::Node pod = deployment["spec"]["template"]["spec"];
  CHECK(pod["serviceAccountName"].as<std::string>() == "carbonkube-host");
  CHECK(pod["securityContext"]["runAsNonRoot"].as<bool>());
  const YAML::Node c = pod["containers"][0];
  CHECK(c["livenessProbe"]["httpGet"]["path"].as<std::string>() == "/healthz");
  CHECK(c["readinessProbe"]["httpGet"]["path"].as<std::string>() == "/readyz");
  CHECK(c["securityContext"]["readOnlyRootFilesystem"].as<bool>());
  CHECK_FALSE(c["securityContext"]["allowPrivilegeEscalation"].as<bool>());
  CHECK(c["resources"]["requests"]["cpu"]);
  CHECK(c["resources"]["limits"]["memory"]);
  const YAML::Node host =
      YAML::Load(objects.at("ConfigMap/carbonkube-host")["data"]["host.yaml"].as<std::string>());
  ck::host::HttpServerOptions listen;
  ck::host::parse_listen_address(host["listen"].as<std::string>(), listen);
  CHECK(c["ports"][0]["containerPort"].as<int>() == listen.port);
  CHECK(objects.at("Service/carbonkube-host")["spec"]["ports"][0]["port"].as<int>() == listen.port);
  CHECK(c["args"][1].as<std::string>() == "/etc/carbonkube/host.yaml");
}

TEST_CASE("deploy: every file in the ConfigMap is accepted by its parser") {
  const auto objects = objects_by_kind_and_name();
  const YAML::Node data = objects.at("ConfigMap/carbonkube-host")["data"];
  auto text = [&](const char* key) { return data[key].as<std::string>(); };
  const YAML::Node host = YAML::Load(text("host.yaml"));
  // Every path host.yaml names is a key of this ConfigMap (mounted at /etc/carbonkube).
  for (const char* key : {"scheduler-config", "zones", "providers", "carbon-profile"}) {
    const std::string path = host[key].as<std::string>();
    REQUIRE(path.rfind("/etc/carbonkube/", 0) == 0);
    CHECK_MESSAGE(data[path.substr(16)], path);
  }
  // host.yaml through HOSTCORE's --config reader.
  ck::host::test::TempDir dir;
  ck::host::test::write_text(dir.file("host.yaml"), text("host.yaml"));
  const auto options = ck::host::parse_host_options({"--config", dir.file("host.yaml")});
  CHECK(options.mode_scheduler);
  CHECK(options.mode_extender);
  CHECK(options.mode_qos);
  CHECK(options.lease_namespace == "carbonkube-system");

  const ck::ZoneMap zones = ck::ZoneMap::parse(text("zones.yaml"), "zones.yaml");
  CHECK(zones.find_zone("GB"));
  const auto providers = ck::host::parse_provider_configs_yaml(text("providers.yaml"), "providers");
  REQUIRE(providers.size() == 2);
  CHECK(providers[1].token.file.rfind("/var/run/secrets/carbonkube/", 0) == 0);
  const ck::Profile profile = ck::compile_profile(
      ck::parse_scheduler_config(text("scheduler-config.yaml"), "scheduler-config.yaml"),
      host["scheduler-name"].as<std::string>());
  CHECK(profile.scheduler_name() == "katalyst-carbon-scheduler");
  CHECK(profile.score_index("CarbonAwareScore") >= 0);
  const ck::CarbonProfile carbon = ck::parse_carbon_profile(text("carbon-profile.yaml"), "cp");
  CHECK(carbon.budget.daily_limit_kg == 100.0);
}

TEST_CASE("deploy: the CarbonProfile CRD's schema has exactly parse_carbon_profile's fields") {
  const auto objects = objects_by_kind_and_name();
  const YAML::Node crd = objects.at("CustomResourceDefinition/carbonprofiles.carbon.katalyst.io");
  CHECK(crd["spec"]["group"].as<std::string>() == "carbon.katalyst.io");
  const YAML::Node version = crd["spec"]["versions"][0];
  CHECK(version["name"].as<std::string>() == "v1alpha1");
  std::set<std::string> schema;
  schema_paths(version["schema"]["openAPIV3Schema"]["properties"]["spec"], "", schema);
  // The ConfigMap's CarbonProfile sets every field; the parser accepts it
  // (previous test) and rejects any other (it is strict), so the sets match.
  std::set<std::string> profile_fields;
  const YAML::Node cm = objects.at("ConfigMap/carbonkube-host");
  key_paths(YAML::Load(cm["data"]["carbon-profile.yaml"].as<std::string>())["spec"], "",
            profile_fields);
  CHECK(schema == profile_fields);
  CHECK(schema.size() == 19);  // 3 groups, 3 qos entries, 12 leaves
  // And the parser really is strict about a field the schema lacks.
  CHECK_THROWS_AS(ck::parse_carbon_profile("apiVersion: carbon.katalyst.io/v1alpha1\n"
                                           "kind: CarbonProfile\nmetadata: {name: x}\n"
                                           "spec: {carbonBudget: {weeklyLimit: 3}}\n",
                                           "cp"),
                  ck::InvalidInput);
  // The example file uses only schema fields.
  std::set<std::string> example;
  key_paths(YAML::LoadFile(kSource + "/examples/config/carbon-profile.yaml")["spec"], "", example);
  for (const auto& field : example) CHECK_MESSAGE(schema.count(field) == 1, field);
}

TEST_CASE("deploy: the kube-scheduler extender example points at the host") {
  const std::string path = kSource + "/examples/config/kube-scheduler-extender.yaml";
  const YAML::Node doc = YAML::LoadFile(path);
  CHECK(doc["apiVersion"].as<std::string>() == "kubescheduler.config.k8s.io/v1");
  const YAML::Node e = doc["extenders"][0];
  CHECK(e["filterVerb"].as<std::string>() == "filter");
  CHECK(e["prioritizeVerb"].as<std::string>() == "prioritize");
  CHECK(e["weight"].as<int>() > 0);
  CHECK(e["nodeCacheCapable"].as<bool>());
  CHECK_FALSE(e["enableHTTPS"].as<bool>());
  CHECK(e["ignorable"].as<bool>());
  const auto objects = objects_by_kind_and_name();
  const int port = objects.at("Service/carbonkube-host")["spec"]["ports"][0]["port"].as<int>();
  CHECK(e["urlPrefix"].as<std::string>() ==
        "http://carbonkube-host.carbonkube-system.svc:" + std::to_string(port));
  // The engine reads the same file (extenders are accepted and left to kube-scheduler).
  CHECK_NOTHROW(ck::parse_scheduler_config(ck::read_file(path), path));
}
