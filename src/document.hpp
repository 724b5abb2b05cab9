// src/document.hpp (private): JSON and YAML text to one document tree
// (nlohmann::json), with size and depth limits, plus typed field readers
// whose errors name the source and the field path. Every loader in the
// library parses through here, so limits and messages are the same everywhere.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "carbonkube/error.hpp"
#include "carbonkube/kube.hpp"

CARBONKUBE_NAMESPACE_BEGIN
namespace detail {

using Json = nlohmann::json;

/// Throws Error(kLimitExceeded) naming max_bytes when text is longer than
/// limits.max_bytes. Every parser calls it before reading anything.
void check_input_size(std::string_view text, std::string_view source, const ParseLimits& limits);

/// Parses JSON (text starting with '{' or '[') or a stream of YAML documents.
/// Plain YAML scalars follow the YAML 1.2 core schema (null, bool, int,
/// float); quoted ones stay strings.
std::vector<Json> parse_documents(std::string_view text, std::string_view source,
                                  const ParseLimits& limits);

/// parse_documents for inputs that must hold exactly one document; `what`
/// names it in the error ("cp.yaml: expected one CarbonProfile document, got 2").
Json parse_one_document(std::string_view text, std::string_view source, const ParseLimits& limits,
                        std::string_view what = {});

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

/// Reads kubectl output (`kubectl get ... -o json|yaml`): every document of
/// `text`, each a single object or a List / <Kind>List whose items are read
/// in turn (an item without a kind takes <Kind> from a <Kind>List when <Kind>
/// is one of `kinds`). Calls visit(object, where, kind) for each object of
/// one of `kinds`; adds every other kind once, in order, to `skipped`.
/// Fails on a non-object, a missing kind or more than limits.max_objects
/// objects; with several documents, messages say "source: document N".
using ObjectVisitor = std::function<void(const Json&, const Where&, std::string_view kind)>;
void read_objects(std::string_view text, std::string_view source, const ParseLimits& limits,
                  std::initializer_list<std::string_view> kinds, std::vector<std::string>& skipped,
                  const ObjectVisitor& visit);

/// The value of `key` in labels or annotations, or nullptr. Linear: maps
/// built by hand need not be sorted.
const std::string* find_value(const StringMap& map, std::string_view key);

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

/// Resource name -> quantity, sorted by name.
using QuantityList = std::vector<std::pair<std::string, Quantity>>;
/// The Kubernetes ResourceList `obj[key]` (a map of resource names to
/// quantities): every non-null entry must be a quantity >= 0; null entries
/// are skipped. Sorted by name; empty when absent or null.
QuantityList read_quantity_list(const Json& obj, std::string_view key, const Where& where);
/// `q` in the resource's base units as Kubernetes reads them: millicores for
/// cpu (is_milli_resource), else Quantity.Value() (rounded up). Fails when
/// negative or above kMaxQuantityBaseUnits.
std::int64_t to_base_units(std::string_view resource, const Quantity& q, const Where& where);

/// Strict objects: fails on the first member of `obj` whose name is not in
/// `known` ("<where>.<key>: unknown field (known: a, b, c)"). Does nothing
/// when `obj` is not an object.
void check_keys(const Json& obj, const Where& where, std::initializer_list<std::string_view> known);

/// Text of a scalar JSON value for messages.
std::string scalar_text(const Json& value);

}  // namespace detail
CARBONKUBE_NAMESPACE_END
