// src/document.hpp (private): JSON and YAML text to one document tree
// (nlohmann::json), with size and depth limits, plus typed field readers
// whose errors name the source and the field path. Every loader in the
// library parses through here, so limits and messages are the same everywhere.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/error.hpp"
#include "carbonkube/kube.hpp"

CARBONKUBE_NAMESPACE_BEGIN
namespace detail {

using Json = nlohmann::json;

/// Parses JSON (text starting with '{' or '[') or a stream of YAML documents.
/// Plain YAML scalars follow the YAML 1.2 core schema (null, bool, int,
/// float); quoted ones stay strings.
std::vector<Json> parse_documents(std::string_view text, std::string_view source,
                                  const ParseLimits& limits);

/// A location inside a document, for error messages: "nodes.json: items[3] (Node n1):
/// status.allocatable.cpu".
class Where {
 public:
  Where(std::string prefix, std::string field)
      : prefix_(std::move(prefix)), field_(std::move(field)) {}
  Where operator/(std::string_view key) const {
    return Where(prefix_, field_.empty() ? std::string(key) : field_ + "." + std::string(key));
  }
  Where operator[](std::size_t i) const {
    return Where(prefix_, field_ + "[" + std::to_string(i) + "]");
  }
  std::string str() const { return field_.empty() ? prefix_ : prefix_ + ": " + field_; }
  [[noreturn]] void fail(std::string_view what) const;

 private:
  std::string prefix_;
  std::string field_;
};

/// The member `key` of object `obj`, or nullptr when absent or null.
const Json* member(const Json& obj, std::string_view key);
/// Type-checked readers; absent/null gives the fallback.
std::string read_string(const Json& obj, std::string_view key, const Where& where,
                        std::string fallback = {});
bool read_bool(const Json& obj, std::string_view key, const Where& where, bool fallback);
std::int64_t read_int(const Json& obj, std::string_view key, const Where& where,
                      std::int64_t fallback, std::int64_t min, std::int64_t max);
double read_number(const Json& obj, std::string_view key, const Where& where, double fallback);
const Json* read_object(const Json& obj, std::string_view key, const Where& where);
const Json* read_array(const Json& obj, std::string_view key, const Where& where);
StringMap read_string_map(const Json& obj, std::string_view key, const Where& where);
/// A quantity given as a string ("100m") or a number (2).
Quantity read_quantity(const Json& value, const Where& where);
/// Text of a scalar JSON value for messages.
std::string scalar_text(const Json& value);

}  // namespace detail
CARBONKUBE_NAMESPACE_END
