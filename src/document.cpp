#include "document.hpp"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

CARBONKUBE_NAMESPACE_BEGIN
namespace detail {
namespace {

// Strict UTF-8 (no overlong forms, surrogates or code points above
// U+10FFFF), as nlohmann::json requires of every string it serialises:
// yaml-cpp passes any bytes through, and an invalid string would make a
// later dump() (re-serialised plugin args, messages) throw type_error.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < (k == 1 ? lo : 0x80u) || b > (k == 1 ? hi : 0xBFu)) return false;
    }
    i += n + 1;
  }
  return true;
}

const std::string& utf8_scalar(const YAML::Node& node, std::string_view source) {
  const std::string& s = node.Scalar();
  if (!valid_utf8(s))
    throw InvalidInput(fmt::format("{}: malformed YAML at line {}, column {}: invalid UTF-8",
                                   source, node.Mark().line + 1, node.Mark().column + 1));
  return s;
}

// yaml-cpp 0.7's LoadAll() never returns on some malformed streams (a
// document starting with a token its parser does not consume, such as ","):
// it appends empty documents until memory runs out (fixed upstream in
// jbeder/yaml-cpp#1319). This pass sees the events first and stops when a
// document starts where the previous one did, i.e. the parser made no progress.
class YamlProgressGuard : public YAML::EventHandler {
 public:
  explicit YamlProgressGuard(std::string_view source) : source_(source) {}
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (documents_++ > 0 && mark.pos == last_pos_)
      throw InvalidInput(fmt::format("{}: malformed YAML at line {}, column {}: unexpected token",
                                     source_, mark.line + 1, mark.column + 1));
    last_pos_ = mark.pos;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

 private:
  std::string_view source_;
  std::size_t documents_ = 0;
  int last_pos_ = -1;
};

struct YamlBudget {
  std::size_t nodes_left;
  std::size_t max_depth;
};

// YAML 1.2 core schema resolution of a plain scalar.
Json resolve_plain_scalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf")
    return std::numeric_limits<double>::infinity();
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF") return -std::numeric_limits<double>::infinity();
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return std::numeric_limits<double>::quiet_NaN();
  // Numbers: [-+]?digits, or a decimal with optional fraction and exponent.
  std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  std::size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++int_digits;
  bool is_integer = i == s.size() && int_digits > 0;
  if (is_integer) {
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (errno == 0 && *end == '\0') return static_cast<std::int64_t>(v);
    return std::strtod(s.c_str(), nullptr);
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return s;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    std::size_t exp_digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++exp_digits;
    if (exp_digits == 0) return s;
  }
  if (i != s.size()) return s;
  return std::strtod(s.c_str(), nullptr);
}

Json yaml_to_json(const YAML::Node& node, std::size_t depth, YamlBudget& budget,
                  std::string_view source) {
  if (budget.nodes_left == 0)
    throw Error(ErrorKind::kLimitExceeded,
                fmt::format("{}: YAML expands to too many nodes (aliases?)", source));
  --budget.nodes_left;
  if (depth > budget.max_depth)
    throw Error(ErrorKind::kLimitExceeded,
                fmt::format("{}: nesting deeper than the limit of {} (max_depth; line {})", source,
                            budget.max_depth, node.Mark().line + 1));
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str")
        return utf8_scalar(node, source);
      return resolve_plain_scalar(utf8_scalar(node, source));
    case YAML::NodeType::Sequence: {
      Json arr = Json::array();
      for (const auto& item : node) arr.push_back(yaml_to_json(item, depth + 1, budget, source));
      return arr;
    }
    case YAML::NodeType::Map: {
      Json obj = Json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar())
          throw InvalidInput(fmt::format("{}: line {}: mapping key is not a scalar", source,
                                         kv.first.Mark().line + 1));
        obj[utf8_scalar(kv.first, source)] = yaml_to_json(kv.second, depth + 1, budget, source);
      }
      return obj;
    }
  }
  return nullptr;
}

}  // namespace

void check_input_size(std::string_view text, std::string_view source, const ParseLimits& limits) {
  if (text.size() > limits.max_bytes)
    throw Error(ErrorKind::kLimitExceeded,
                fmt::format("{}: input is {} bytes, over the limit of {} bytes (max_bytes)", source,
                            text.size(), limits.max_bytes));
}

std::vector<Json> parse_documents(std::string_view text, std::string_view source,
                                  const ParseLimits& limits) {
  check_input_size(text, source, limits);
  auto first = std::find_if(text.begin(), text.end(),
                            [](char c) { return c != ' ' && c != '\n' && c != '\r' && c != '\t'; });
  if (first == text.end()) throw InvalidInput(fmt::format("{}: empty document", source));
  std::vector<Json> docs;
  if (*first == '{' || *first == '[') {
    const std::size_t max_depth = limits.max_depth;
    Json::parser_callback_t depth_guard = [&](int depth, Json::parse_event_t, Json&) {
      if (static_cast<std::size_t>(depth) > max_depth)
        throw Error(
            ErrorKind::kLimitExceeded,
            fmt::format("{}: nesting deeper than the limit of {} (max_depth)", source, max_depth));
      return true;
    };
    try {
      docs.push_back(Json::parse(text.begin(), text.end(), depth_guard));
    } catch (const Json::parse_error& e) {
      throw InvalidInput(fmt::format("{}: malformed JSON: {}", source, e.what()));
    } catch (const Json::exception& e) {
      // e.g. out_of_range for a number such as 1e999 that no double holds
      throw InvalidInput(fmt::format("{}: malformed JSON: {}", source, e.what()));
    }
    return docs;
  }
  try {
    YamlBudget budget{std::max<std::size_t>(1'000'000, text.size() * 4), limits.max_depth};
    std::string copy(text);
    {
      std::istringstream in(copy);
      YAML::Parser parser(in);
      YamlProgressGuard guard(source);
      while (parser.HandleNextDocument(guard)) {
      }
    }
    std::vector<YAML::Node> nodes = YAML::LoadAll(copy);
    for (const auto& n : nodes) {
      if (n.IsNull()) continue;  // empty document between '---' separators
      docs.push_back(yaml_to_json(n, 0, budget, source));
    }
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own recursion guard (2000 levels) fires before our depth
    // check sees the tree; its message is a bare "bad file".
    throw Error(
        ErrorKind::kLimitExceeded,
        fmt::format("{}: nesting deeper than the YAML parser's limit of {} levels (line {}, "
                    "column {})",
                    source, e.depth(), e.mark.line + 1, e.mark.column + 1));
  } catch (const YAML::Exception& e) {
    throw InvalidInput(fmt::format("{}: malformed YAML at line {}, column {}: {}", source,
                                   e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  if (docs.empty()) throw InvalidInput(fmt::format("{}: no documents", source));
  return docs;
}

Json parse_one_document(std::string_view text, std::string_view source, const ParseLimits& limits,
                        std::string_view what) {
  std::vector<Json> docs = parse_documents(text, source, limits);
  if (docs.size() != 1)
    throw InvalidInput(fmt::format("{}: expected one {}{}document, got {}", source, what,
                                   what.empty() ? "" : " ", docs.size()));
  return std::move(docs[0]);
}

namespace {

struct ObjectReader {
  const ParseLimits& limits;
  std::initializer_list<std::string_view> kinds;
  std::vector<std::string>& skipped;
  const ObjectVisitor& visit;
  std::size_t count = 0;

  bool known(std::string_view kind) const {
    return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
  }

  void read(const Json& obj, const Where& where, std::string_view implied_kind) {
    if (!obj.is_object()) where.fail(fmt::format("expected an object, got {}", obj.type_name()));
    const std::string kind = read_string(obj, "kind", where, std::string(implied_kind));
    if (const Json* items = member(obj, "items"); items && kind.ends_with("List")) {
      if (!items->is_array()) (where / "items").fail("expected a list");
      std::string_view item_kind = std::string_view(kind).substr(0, kind.size() - 4);
      if (!known(item_kind)) item_kind = {};
      for (std::size_t i = 0; i < items->size(); ++i)
        read((*items)[i], (where / "items")[i], item_kind);
      return;
    }
    if (++count > limits.max_objects)
      throw Error(ErrorKind::kLimitExceeded,
                  fmt::format("{}: more than the limit of {} objects (max_objects)", where.str(),
                              limits.max_objects));
    if (kind.empty()) where.fail("missing kind");
    if (known(kind)) {
      visit(obj, where, kind);
    } else if (std::find(skipped.begin(), skipped.end(), kind) == skipped.end()) {
      skipped.push_back(kind);
    }
  }
};

}  // namespace

void read_objects(std::string_view text, std::string_view source, const ParseLimits& limits,
                  std::initializer_list<std::string_view> kinds, std::vector<std::string>& skipped,
                  const ObjectVisitor& visit) {
  std::vector<Json> docs = parse_documents(text, source, limits);
  ObjectReader reader{limits, kinds, skipped, visit};
  for (std::size_t d = 0; d < docs.size(); ++d) {
    std::string prefix =
        docs.size() > 1 ? fmt::format("{}: document {}", source, d + 1) : std::string(source);
    reader.read(docs[d], Where(prefix, ""), "");
  }
}

void Where::fail(std::string_view what) const {
  throw InvalidInput(fmt::format("{}: {}", str(), what));
}

const std::string* find_value(const StringMap& map, std::string_view key) {
  for (const auto& [k, v] : map)
    if (k == key) return &v;
  return nullptr;
}

const Json* member(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  const auto& fields = obj.get_ref<const Json::object_t&>();
  auto it = fields.find(key);
  if (it == fields.end() || it->second.is_null()) return nullptr;
  return &it->second;
}

std::string scalar_text(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  std::string s = value.dump();
  if (s.size() > 64) s = s.substr(0, 61) + "...";
  return s;
}

namespace {
std::string type_name(const Json& v) { return v.type_name(); }
}  // namespace

std::string read_string(const Json& obj, std::string_view key, const Where& where,
                        std::string fallback) {
  const Json* v = member(obj, key);
  if (!v) return fallback;
  if (!v->is_string()) (where / key).fail(fmt::format("expected a string, got {}", type_name(*v)));
  return v->get<std::string>();
}

bool read_bool(const Json& obj, std::string_view key, const Where& where, bool fallback) {
  const Json* v = member(obj, key);
  if (!v) return fallback;
  if (!v->is_boolean())
    (where / key).fail(fmt::format("expected true or false, got {}", scalar_text(*v)));
  return v->get<bool>();
}

std::int64_t read_int(const Json& obj, std::string_view key, const Where& where,
                      std::int64_t fallback, std::int64_t min, std::int64_t max) {
  const Json* v = member(obj, key);
  if (!v) return fallback;
  std::int64_t out = 0;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(max))
      (where / key).fail(fmt::format("{} is out of range [{}, {}]", scalar_text(*v), min, max));
    out = v->get<std::int64_t>();
  } else if (v->is_number_float() && std::isfinite(v->get<double>()) &&
             v->get<double>() == std::floor(v->get<double>()) &&
             std::fabs(v->get<double>()) < 9e15) {
    out = static_cast<std::int64_t>(v->get<double>());
  } else {
    (where / key).fail(fmt::format("expected an integer, got {}", scalar_text(*v)));
  }
  if (out < min || out > max)
    (where / key).fail(fmt::format("{} is out of range [{}, {}]", out, min, max));
  return out;
}

double read_number(const Json& obj, std::string_view key, const Where& where, double fallback) {
  const Json* v = member(obj, key);
  if (!v) return fallback;
  if (!v->is_number())
    (where / key).fail(fmt::format("expected a number, got {}", scalar_text(*v)));
  double d = v->get<double>();
  if (!std::isfinite(d)) (where / key).fail("expected a finite number");
  return d;
}

const Json* read_object(const Json& obj, std::string_view key, const Where& where) {
  const Json* v = member(obj, key);
  if (v && !v->is_object())
    (where / key).fail(fmt::format("expected an object, got {}", type_name(*v)));
  return v;
}

const Json* read_array(const Json& obj, std::string_view key, const Where& where) {
  const Json* v = member(obj, key);
  if (v && !v->is_array())
    (where / key).fail(fmt::format("expected a list, got {}", type_name(*v)));
  return v;
}

StringMap read_string_map(const Json& obj, std::string_view key, const Where& where) {
  StringMap out;
  const Json* m = read_object(obj, key, where);
  if (!m) return out;
  for (auto it = m->begin(); it != m->end(); ++it) {
    const Json& v = it.value();
    if (v.is_string()) {
      out.emplace_back(it.key(), v.get<std::string>());
    } else if (v.is_null()) {
      out.emplace_back(it.key(), "");
    } else if (v.is_boolean() || v.is_number()) {
      // Unquoted YAML such as `gpu: true` is a string in Kubernetes' eyes.
      out.emplace_back(it.key(), v.dump());
    } else {
      (where / key / it.key()).fail(fmt::format("expected a string, got {}", v.type_name()));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Quantity read_quantity(const Json& value, const Where& where) {
  std::string text;
  if (value.is_string()) {
    text = value.get<std::string>();
  } else if (value.is_number_integer()) {
    text = value.dump();
  } else if (value.is_number_float()) {
    double d = value.get<double>();
    if (!std::isfinite(d)) where.fail(fmt::format("invalid quantity {}: not finite", value.dump()));
    text = fmt::format("{}", d);
    // fmt prints 1e+20 style; the quantity grammar wants an unsigned exponent sign too.
    auto e = text.find("e+");
    if (e != std::string::npos) text.erase(e + 1, 1);
  } else {
    where.fail(fmt::format("expected a quantity, got {}", value.type_name()));
  }
  Quantity q;
  std::string error;
  if (!try_parse_quantity(text, &q, &error)) where.fail(error);
  return q;
}

QuantityList read_quantity_list(const Json& obj, std::string_view key, const Where& where) {
  QuantityList out;
  const Json* m = read_object(obj, key, where);
  if (!m) return out;
  for (auto it = m->begin(); it != m->end(); ++it) {
    if (it.value().is_null()) continue;
    Where w = where / key / it.key();
    Quantity q = read_quantity(it.value(), w);
    if (q.is_negative()) w.fail(fmt::format("{} must not be negative", format_quantity(q)));
    out.emplace_back(it.key(), q);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::int64_t to_base_units(std::string_view resource, const Quantity& q, const Where& where) {
  if (q.is_negative()) where.fail(fmt::format("{} must not be negative", format_quantity(q)));
  // Kubernetes reads every resource but cpu with Quantity.Value(); so does
  // Katalyst, which includes reclaimed_millicpu (already in millicores).
  const bool milli = is_milli_resource(resource);
  std::int64_t v = milli ? q.milli_value() : q.value();
  if (v > kMaxQuantityBaseUnits)
    where.fail(fmt::format("{} is larger than the limit of {} {}", format_quantity(q),
                           kMaxQuantityBaseUnits, milli ? "millicores" : "units"));
  return v;
}

void check_keys(const Json& obj, const Where& where,
                std::initializer_list<std::string_view> known) {
  if (!obj.is_object()) return;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::find(known.begin(), known.end(), it.key()) != known.end()) continue;
    std::string names;
    for (std::string_view k : known) names += (names.empty() ? "" : ", ") + std::string(k);
    (where / it.key()).fail(fmt::format("unknown field (known: {})", names));
  }
}

}  // namespace detail
CARBONKUBE_NAMESPACE_END
