// Carbon-signal loaders: the Electricity Maps portal CSV and API JSON, WattTime
// v3, the UK Carbon Intensity API and the Carbon Aware SDK WebAPI, parsed into
// ZoneSeries. Parsing only: the caller fetches. Every error names the source
// and the line or field path of the point.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <limits>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "carbonkube/error.hpp"
#include "carbonkube/signals.hpp"
#include "document.hpp"

CARBONKUBE_NAMESPACE_BEGIN
namespace {

using detail::Json;
using detail::Where;

constexpr std::size_t kMaxWarnings = 100;
/// 1 lb = 453.59237 g and 1 MWh = 1000 kWh, so lbs/MWh × 0.45359237 = g/kWh.
constexpr double kGramsPerKwhPerLbsPerMwh = 0.45359237;

struct Pending {
  SignalPoint point;
  std::string where;  // "line 12", "history[3]": for duplicate messages
};

struct Builder {
  std::string zone;
  std::vector<Pending> history;
  std::vector<Pending> forecast;
  std::optional<IntensityKind> kind;
  std::string kind_where;
  std::optional<std::int64_t> issued;
  std::int64_t period = 0;  // 0: infer from the spacing of the points
  std::int64_t forecast_period = 0;
};

/// Gathers points per zone (in order of first appearance), skipped-point
/// warnings and the kinds the input states, then makes the series.
class Collector {
 public:
  Collector(std::string_view source, const SignalLoadOptions& options)
      : source_(source), options_(options) {}

  Builder& zone(const std::string& zone) {
    auto it = index_.find(zone);
    if (it != index_.end()) return builders_[it->second];
    index_.emplace(zone, builders_.size());
    builders_.emplace_back();
    builders_.back().zone = zone;
    return builders_.back();
  }

  void skip(std::string message) {
    ++out_.skipped;
    if (out_.warnings.size() < kMaxWarnings) out_.warnings.push_back(std::move(message));
  }

  /// Records the kind the input states at `where`; a second, different kind
  /// for the zone, or one other than options.kind, is an error.
  void note_kind(Builder& b, IntensityKind kind, const Where& where) {
    if (options_.kind && *options_.kind != kind)
      where.fail(fmt::format("the data is {}, but {} was asked for", to_string(kind),
                             to_string(*options_.kind)));
    if (b.kind && *b.kind != kind)
      where.fail(fmt::format("{} differs from {} at {}: a series never mixes intensity kinds",
                             to_string(kind), to_string(*b.kind), b.kind_where));
    if (!b.kind) {
      b.kind = kind;
      b.kind_where = where.str();
    }
  }

  void add(Builder& b, bool forecast, SignalPoint p, std::string where) {
    if (++points_ > options_.limits.max_objects)
      throw Error(ErrorKind::kLimitExceeded,
                  fmt::format("{}: more than the limit of {} points (max_objects)", source_,
                              options_.limits.max_objects));
    (forecast ? b.forecast : b.history).push_back(Pending{p, std::move(where)});
  }

  SignalLoad finish(IntensityKind default_kind, std::int64_t fallback_period) {
    for (Builder& b : builders_) {
      ZoneSeries s;
      s.zone = b.zone;
      s.kind = b.kind.value_or(default_kind);
      s.source = std::string(source_);
      s.points = finalize(b.history, b.zone);
      s.forecast = finalize(b.forecast, b.zone);
      s.period_seconds = b.period > 0 ? b.period : infer_period(s.points, fallback_period);
      s.forecast_period_seconds =
          b.forecast_period > 0 ? b.forecast_period : infer_period(s.forecast, fallback_period);
      s.forecast_issued_at = b.issued;
      out_.series.push_back(std::move(s));
    }
    return std::move(out_);
  }

  const SignalLoadOptions& options() const { return options_; }
  std::string_view source() const { return source_; }

 private:
  // Sorts by time; drops exact repeats; rejects two values for one time.
  std::vector<SignalPoint> finalize(std::vector<Pending>& pts, const std::string& zone) const {
    std::stable_sort(pts.begin(), pts.end(), [](const Pending& a, const Pending& b) {
      return a.point.unix_seconds < b.point.unix_seconds;
    });
    std::vector<SignalPoint> out;
    out.reserve(pts.size());
    for (std::size_t i = 0; i < pts.size(); ++i) {
      if (i > 0 && pts[i].point.unix_seconds == pts[i - 1].point.unix_seconds) {
        const SignalPoint& a = pts[i - 1].point;
        const SignalPoint& b = pts[i].point;
        const bool same_value =
            a.g_per_kwh == b.g_per_kwh || (std::isnan(a.g_per_kwh) && std::isnan(b.g_per_kwh));
        if (same_value && a.estimated == b.estimated) continue;  // an exact repeat
        throw InvalidInput(fmt::format(
            "{}: zone \"{}\": {} and {} give different values for {} ({}{} and {}{})", source_,
            zone, pts[i - 1].where, pts[i].where, format_timestamp(a.unix_seconds), a.g_per_kwh,
            a.estimated ? ", estimated" : "", b.g_per_kwh, b.estimated ? ", estimated" : ""));
      }
      out.push_back(pts[i].point);
    }
    return out;
  }

  // The smallest spacing between consecutive points: the data's resolution.
  static std::int64_t infer_period(const std::vector<SignalPoint>& pts, std::int64_t fallback) {
    std::int64_t best = 0;
    for (std::size_t i = 1; i < pts.size(); ++i) {
      std::int64_t d = pts[i].unix_seconds - pts[i - 1].unix_seconds;
      if (d > 0 && (best == 0 || d < best)) best = d;
    }
    return best > 0 ? best : fallback;
  }

  std::string_view source_;
  const SignalLoadOptions& options_;
  std::deque<Builder> builders_;
  std::unordered_map<std::string, std::size_t> index_;
  std::size_t points_ = 0;
  SignalLoad out_;
};

/// Rejects NaN, ±inf and negative values unless the load is lenient.
void check_value(double v, bool lenient, const Where& where) {
  if (lenient) return;
  if (std::isnan(v))
    where.fail("NaN is not a carbon intensity (SignalLoadOptions::lenient keeps such points)");
  if (!std::isfinite(v))
    where.fail(
        fmt::format("{} is not a finite carbon intensity (SignalLoadOptions::lenient "
                    "keeps such points)",
                    v));
  if (v < 0)
    where.fail(
        fmt::format("{} is negative: a carbon intensity is at least 0 "
                    "(SignalLoadOptions::lenient keeps such points)",
                    v));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// ---------------------------------------------------------------------------
// JSON helpers

/// Fails with the API's own error text when the response is an error object.
void fail_not_a(const Json& root, const Where& at, std::string_view what) {
  for (const char* key : {"error", "message", "detail"})
    if (const Json* e = detail::member(root, key))
      at.fail(fmt::format("not {}: the response is an API error: {}", what,
                          e->is_string() ? e->get<std::string>() : e->dump()));
  at.fail(fmt::format("not {}", what));
}

std::int64_t read_time(const Json& obj, std::string_view key, const Where& where) {
  const Json* v = detail::member(obj, key);
  if (!v) (where / key).fail("required: a timestamp");
  if (!v->is_string())
    (where / key).fail(fmt::format("expected a timestamp, got {}", detail::scalar_text(*v)));
  std::int64_t t = 0;
  std::string error;
  if (!try_parse_timestamp(v->get_ref<const std::string&>(), &t, &error)) (where / key).fail(error);
  return t;
}

std::optional<std::int64_t> read_optional_time(const Json& obj, std::string_view key,
                                               const Where& where) {
  if (!detail::member(obj, key)) return std::nullopt;
  return read_time(obj, key, where);
}

/// A required intensity: false for an explicit null (the point is skipped).
bool read_intensity(const Json& obj, std::string_view key, const Where& where, bool lenient,
                    double scale, double* out) {
  if (!obj.is_object() || !obj.contains(key)) (where / key).fail("required: the carbon intensity");
  const Json& v = obj.at(std::string(key));
  if (v.is_null()) return false;
  if (!v.is_number() || v.is_boolean())
    (where / key).fail(fmt::format("expected a number, got {}", detail::scalar_text(v)));
  const double value = v.get<double>() * scale;
  check_value(value, lenient, where / key);
  *out = value;
  return true;
}

const Json& require_object(const Json& v, const Where& where) {
  if (!v.is_object()) where.fail(fmt::format("expected an object, got {}", v.type_name()));
  return v;
}

/// .NET TimeSpan text "[-][d.]hh:mm:ss[.fffffff]" to seconds.
bool parse_timespan(std::string_view s, std::int64_t* out) {
  if (s.empty() || s.front() == '-') return false;
  std::int64_t days = 0;
  std::size_t colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view head = s.substr(0, colon);
  if (std::size_t dot = head.find('.'); dot != std::string_view::npos) {
    auto r = std::from_chars(head.data(), head.data() + dot, days);
    if (r.ec != std::errc() || r.ptr != head.data() + dot) return false;
    head = head.substr(dot + 1);
  }
  std::int64_t h = 0, m = 0, sec = 0;
  auto r = std::from_chars(head.data(), head.data() + head.size(), h);
  if (r.ec != std::errc() || r.ptr != head.data() + head.size()) return false;
  std::string_view rest = s.substr(colon + 1);
  std::size_t colon2 = rest.find(':');
  if (colon2 == std::string_view::npos) return false;
  r = std::from_chars(rest.data(), rest.data() + colon2, m);
  if (r.ec != std::errc() || r.ptr != rest.data() + colon2) return false;
  std::string_view secs = rest.substr(colon2 + 1);
  std::size_t dot = secs.find('.');
  std::string_view whole = secs.substr(0, dot);
  r = std::from_chars(whole.data(), whole.data() + whole.size(), sec);
  if (r.ec != std::errc() || r.ptr != whole.data() + whole.size() || whole.empty()) return false;
  if (dot != std::string_view::npos) {
    std::string_view frac = secs.substr(dot + 1);
    if (frac.empty() ||
        !std::all_of(frac.begin(), frac.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
  }
  if (h > 23 || m > 59 || sec > 59 || days > 36500) return false;
  *out = days * 86400 + h * 3600 + m * 60 + sec;
  return true;
}

/// The Carbon Aware SDK's duration: minutes as a number, or TimeSpan text.
std::int64_t read_duration(const Json& obj, std::string_view key, const Where& where) {
  const Json* v = detail::member(obj, key);
  if (!v) return 0;
  std::int64_t seconds = 0;
  if (v->is_number() && !v->is_boolean()) {
    const double minutes = v->get<double>();
    if (!std::isfinite(minutes) || minutes <= 0 || minutes > 1e7)
      (where / key).fail(fmt::format("{} is not a positive number of minutes", v->dump()));
    seconds = std::llround(minutes * 60);
  } else if (v->is_string()) {
    if (!parse_timespan(v->get_ref<const std::string&>(), &seconds))
      (where / key)
          .fail(fmt::format("invalid duration \"{}\": expected minutes or hh:mm:ss",
                            v->get<std::string>()));
  } else {
    (where / key).fail(fmt::format("expected a duration, got {}", detail::scalar_text(*v)));
  }
  if (seconds <= 0) (where / key).fail("the duration must be positive");
  return seconds;
}

void shorter_period(std::int64_t& period, std::int64_t candidate) {
  if (candidate > 0 && (period == 0 || candidate < period)) period = candidate;
}

// ---------------------------------------------------------------------------
// CSV

/// RFC 4180 records: quoted fields with "" escapes and embedded commas or
/// line breaks; CRLF, LF or CR line ends; a leading UTF-8 BOM is skipped.
class CsvReader {
 public:
  CsvReader(std::string_view text, std::string_view source) : text_(text), source_(source) {
    if (text_.size() >= 3 && text_.substr(0, 3) == "\xEF\xBB\xBF") text_.remove_prefix(3);
  }

  /// The next record, false at the end of the text.
  bool next(std::vector<std::string>& fields) {
    fields.clear();
    if (pos_ >= text_.size()) return false;
    record_line_ = line_;
    const std::size_t n = text_.size();
    std::string field;
    while (true) {
      field.clear();
      if (pos_ < n && text_[pos_] == '"') {
        ++pos_;
        while (true) {
          if (pos_ >= n)
            throw InvalidInput(
                fmt::format("{}: line {}: unterminated quoted field", source_, record_line_));
          const char c = text_[pos_++];
          if (c == '"') {
            if (pos_ < n && text_[pos_] == '"') {
              field += '"';
              ++pos_;
            } else {
              break;
            }
          } else {
            if (c == '\n') ++line_;
            field += c;
          }
        }
        if (pos_ < n && text_[pos_] != ',' && text_[pos_] != '\n' && text_[pos_] != '\r')
          throw InvalidInput(
              fmt::format("{}: line {}: text after a closing quote", source_, line_));
      } else {
        const std::size_t start = pos_;
        while (pos_ < n && text_[pos_] != ',' && text_[pos_] != '\n' && text_[pos_] != '\r') ++pos_;
        field.assign(text_.substr(start, pos_ - start));
      }
      fields.push_back(field);
      if (pos_ >= n) return true;
      const char c = text_[pos_++];
      if (c == ',') continue;
      if (c == '\r' && pos_ < n && text_[pos_] == '\n') ++pos_;
      ++line_;
      return true;
    }
  }

  std::size_t line() const { return record_line_; }

 private:
  std::string_view text_;
  std::string_view source_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::size_t record_line_ = 1;
};

}  // namespace

SignalLoad load_electricitymaps_csv(std::string_view text, std::string_view source,
                                    IntensityScope scope, const SignalLoadOptions& options) {
  detail::check_input_size(text, source, options.limits);
  const IntensityKind kind = make_intensity_kind(IntensityBasis::kAverage, scope);
  if (options.kind && *options.kind != kind)
    throw InvalidInput(fmt::format("{}: the data is {}, but {} was asked for", source,
                                   to_string(kind), to_string(*options.kind)));
  const std::string_view suffix = scope == IntensityScope::kDirect ? "(direct)" : "(lca)";
  CsvReader csv(text, source);
  std::vector<std::string> header;
  if (!csv.next(header) || (header.size() == 1 && trim(header[0]).empty()))
    throw InvalidInput(
        fmt::format("{}: empty file (expected an Electricity Maps CSV header)", source));
  constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
  std::size_t time_col = kNone, zone_col = kNone, value_col = kNone, estimated_col = kNone;
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string name = lower(trim(header[i]));
    std::size_t* col = nullptr;
    if (name == "datetime (utc)")
      col = &time_col;
    else if (name == "zone id")
      col = &zone_col;
    else if (name == "data estimated")
      col = &estimated_col;
    else if (name.starts_with("carbon intensity") && name.ends_with(suffix))
      col = &value_col;
    if (!col) continue;
    if (*col != kNone)
      throw InvalidInput(
          fmt::format("{}: line 1: column \"{}\" appears twice", source, trim(header[i])));
    *col = i;
  }
  auto missing = [&](std::string_view what) {
    throw InvalidInput(
        fmt::format("{}: line 1: no \"{}\" column (not an Electricity Maps "
                    "portal CSV?)",
                    source, what));
  };
  if (time_col == kNone) missing("Datetime (UTC)");
  if (zone_col == kNone) missing("Zone Id");
  if (value_col == kNone)
    missing(scope == IntensityScope::kDirect ? "Carbon Intensity gCO₂eq/kWh (direct)"
                                             : "Carbon Intensity gCO₂eq/kWh (LCA)");
  const std::string value_name(trim(header[value_col]));
  const std::string time_name(trim(header[time_col]));

  Collector col(source, options);
  std::vector<std::string> fields;
  while (csv.next(fields)) {
    const std::size_t line = csv.line();
    if (fields.size() == 1 && trim(fields[0]).empty()) continue;  // a blank line
    if (fields.size() != header.size())
      throw InvalidInput(fmt::format("{}: line {}: {} fields, the header has {}", source, line,
                                     fields.size(), header.size()));
    auto at = [&](std::string_view column) {
      return Where(std::string(source), fmt::format("line {}: {}", line, column));
    };
    std::int64_t t = 0;
    std::string error;
    if (!try_parse_timestamp(trim(fields[time_col]), &t, &error, /*assume_utc=*/true))
      at(time_name).fail(error);
    const std::string zone(trim(fields[zone_col]));
    if (zone.empty()) at("Zone Id").fail("empty");
    Builder& b = col.zone(zone);
    const std::string_view value_text = trim(fields[value_col]);
    if (value_text.empty()) {
      col.skip(fmt::format("{}: line {}: zone \"{}\" at {}: {} is empty: point skipped", source,
                           line, zone, format_timestamp(t), value_name));
      continue;
    }
    double value = 0;
    auto r = std::from_chars(value_text.data(), value_text.data() + value_text.size(), value);
    if (r.ec != std::errc() || r.ptr != value_text.data() + value_text.size())
      at(value_name).fail(fmt::format("\"{}\" is not a number", value_text));
    if (!options.lenient && !(value >= 0 && std::isfinite(value)))
      check_value(value, false, at(value_name));
    bool estimated = false;
    if (estimated_col != kNone) {
      const std::string flag = lower(trim(fields[estimated_col]));
      if (flag == "true")
        estimated = true;
      else if (flag != "false" && !flag.empty())
        at(trim(header[estimated_col]))
            .fail(fmt::format("expected true or false, got \"{}\"", trim(fields[estimated_col])));
    }
    col.add(b, false, SignalPoint{t, value, estimated}, fmt::format("line {}", line));
  }
  return col.finish(kind, 3600);
}

SignalLoad load_electricitymaps_json(std::string_view text, std::string_view source,
                                     const SignalLoadOptions& options) {
  if (options.kind && basis_of(*options.kind) != IntensityBasis::kAverage)
    throw InvalidInput(fmt::format("{}: Electricity Maps carbon intensity is an average, not {}",
                                   source, to_string(*options.kind)));
  const Json root = detail::parse_one_document(text, source, options.limits);
  const Where at(std::string(source), "");
  constexpr std::string_view kWhat =
      "an Electricity Maps carbon-intensity response (latest, history or forecast)";
  if (!root.is_object()) at.fail(fmt::format("not {}: got a {}", kWhat, root.type_name()));
  Collector col(source, options);

  auto stated_kind = [&](const Json& obj, const Where& w, Builder& b) {
    const std::string type = detail::read_string(obj, "emissionFactorType", w);
    if (type.empty()) return;
    IntensityKind k = IntensityKind::kAverageLifecycle;
    if (type == "direct")
      k = IntensityKind::kAverageDirect;
    else if (type != "lifecycle")
      (w / "emissionFactorType")
          .fail(fmt::format("expected lifecycle or direct, got \"{}\"", type));
    col.note_kind(b, k, w / "emissionFactorType");
  };
  auto point = [&](const Json& e, const Where& w, Builder& b, bool forecast) {
    const std::int64_t t = read_time(e, "datetime", w);
    double v = 0;
    if (!read_intensity(e, "carbonIntensity", w, options.lenient, 1.0, &v)) {
      col.skip(fmt::format("{}: zone \"{}\" at {}: carbonIntensity is null: point skipped", w.str(),
                           b.zone, format_timestamp(t)));
      return;
    }
    const bool estimated = forecast || detail::read_bool(e, "isEstimated", w, false);
    col.add(b, forecast, SignalPoint{t, v, estimated}, w.str());
  };
  auto zone_of = [&]() {
    std::string zone = detail::read_string(root, "zone", at);
    if (zone.empty()) (at / "zone").fail("required: the Electricity Maps zone");
    return zone;
  };

  std::string list_key = "history";
  const Json* list = detail::read_array(root, "history", at);
  if (!list) {
    list_key = "data";  // carbon-intensity/past-range
    list = detail::read_array(root, "data", at);
  }
  if (list) {
    Builder& b = col.zone(zone_of());
    stated_kind(root, at, b);
    for (std::size_t i = 0; i < list->size(); ++i) {
      const Where w = (at / list_key)[i];
      const Json& e = require_object((*list)[i], w);
      const std::string zone = detail::read_string(e, "zone", w);
      if (!zone.empty() && zone != b.zone)
        (w / "zone")
            .fail(fmt::format("\"{}\" differs from the response's zone \"{}\"", zone, b.zone));
      stated_kind(e, w, b);
      point(e, w, b, false);
    }
  } else if (const Json* fc = detail::read_array(root, "forecast", at)) {
    Builder& b = col.zone(zone_of());
    stated_kind(root, at, b);
    b.issued = read_optional_time(root, "updatedAt", at);
    for (std::size_t i = 0; i < fc->size(); ++i) {
      const Where w = (at / "forecast")[i];
      const Json& e = require_object((*fc)[i], w);
      stated_kind(e, w, b);
      point(e, w, b, true);
    }
  } else if (root.contains("carbonIntensity")) {
    Builder& b = col.zone(zone_of());
    stated_kind(root, at, b);
    point(root, at, b, false);
  } else {
    fail_not_a(root, at, kWhat);
  }
  return col.finish(options.kind.value_or(IntensityKind::kAverageLifecycle), 3600);
}

SignalLoad load_watttime_json(std::string_view text, std::string_view source,
                              const SignalLoadOptions& options) {
  const Json root = detail::parse_one_document(text, source, options.limits);
  const Where at(std::string(source), "");
  constexpr std::string_view kWhat = "a WattTime v3 response ({\"data\": [...], \"meta\": {...}})";
  if (!root.is_object()) at.fail(fmt::format("not {}: got a {}", kWhat, root.type_name()));
  const Json* data = detail::read_array(root, "data", at);
  if (!data) fail_not_a(root, at, kWhat);
  const Json* meta = detail::read_object(root, "meta", at);
  if (!meta) (at / "meta").fail("required: region, signal_type and units");
  const Where mw = at / "meta";

  const std::string signal = detail::read_string(*meta, "signal_type", mw);
  IntensityKind kind = IntensityKind::kMarginalDirect;
  if (signal == "co2_aoer")
    kind = IntensityKind::kAverageDirect;
  else if (signal.empty())
    (mw / "signal_type").fail("required: co2_moer or co2_aoer");
  else if (signal != "co2_moer")
    (mw / "signal_type")
        .fail(fmt::format("\"{}\" is not a carbon intensity: expected co2_moer (marginal) or "
                          "co2_aoer (average)",
                          signal));
  const std::string units = detail::read_string(*meta, "units", mw);
  if (units != "lbs_co2_per_mwh")
    (mw / "units")
        .fail(units.empty() ? std::string("required: lbs_co2_per_mwh")
                            : fmt::format("expected lbs_co2_per_mwh, got \"{}\"", units));
  std::string zone = detail::read_string(*meta, "region", mw);
  if (zone.empty()) zone = options.zone;
  if (zone.empty()) (mw / "region").fail("required: the WattTime region");

  Collector col(source, options);
  Builder& b = col.zone(zone);
  col.note_kind(b, kind, mw / "signal_type");
  const std::optional<std::int64_t> generated = read_optional_time(*meta, "generated_at", mw);
  const bool forecast = generated.has_value();
  b.issued = generated;
  const std::int64_t period =
      detail::read_int(*meta, "data_point_period_seconds", mw, 0, 1, std::int64_t{31} * 86400);
  (forecast ? b.forecast_period : b.period) = period;
  for (std::size_t i = 0; i < data->size(); ++i) {
    const Where w = (at / "data")[i];
    const Json& e = require_object((*data)[i], w);
    const std::int64_t t = read_time(e, "point_time", w);
    double v = 0;
    if (!read_intensity(e, "value", w, options.lenient, kGramsPerKwhPerLbsPerMwh, &v)) {
      col.skip(fmt::format("{}: region \"{}\" at {}: value is null: point skipped", w.str(), zone,
                           format_timestamp(t)));
      continue;
    }
    col.add(b, forecast, SignalPoint{t, v, forecast}, w.str());
  }
  return col.finish(kind, 300);
}

SignalLoad load_uk_carbon_intensity_json(std::string_view text, std::string_view source,
                                         const SignalLoadOptions& options) {
  const Json root = detail::parse_one_document(text, source, options.limits);
  const Where at(std::string(source), "");
  constexpr std::string_view kWhat =
      "a UK Carbon Intensity API response ({\"data\": [...]}, national or regional)";
  if (!root.is_object()) at.fail(fmt::format("not {}: got a {}", kWhat, root.type_name()));
  const Json* data = detail::member(root, "data");
  if (!data) fail_not_a(root, at, kWhat);
  // The per-region forecast endpoints return "data" as one object, the others a list.
  if (!data->is_array() && !data->is_object())
    (at / "data").fail(fmt::format("expected a list, got {}", data->type_name()));
  const bool single = data->is_object();
  Collector col(source, options);
  const std::string national_zone = options.zone.empty() ? std::string("GB") : options.zone;

  auto region_zone = [&](const Json& obj, const Where& w) -> Builder& {
    const std::int64_t id = detail::read_int(obj, "regionid", w, -1, 0, 1000);
    if (id < 0) (w / "regionid").fail("required: the region id");
    return col.zone(fmt::format("UKCI-{}", id));
  };
  // One half-hour: {from, to, intensity: {forecast, actual, index}}.
  auto point = [&](Builder& b, std::int64_t from, std::int64_t to, const Json& obj,
                   const Where& w) {
    col.note_kind(b, IntensityKind::kAverageDirect, w);
    if (to <= from) (w / "to").fail(fmt::format("{} is not after from", format_timestamp(to)));
    shorter_period(b.period, to - from);
    const Json* intensity = detail::read_object(obj, "intensity", w);
    if (!intensity) (w / "intensity").fail("required: {forecast, actual}");
    const Where iw = w / "intensity";
    if (!intensity->contains("actual") && !intensity->contains("forecast"))
      iw.fail("has neither actual nor forecast");
    double v = 0;
    bool estimated = false;
    bool have = intensity->contains("actual") &&
                read_intensity(*intensity, "actual", iw, options.lenient, 1.0, &v);
    if (!have) {
      estimated = true;
      have = intensity->contains("forecast") &&
             read_intensity(*intensity, "forecast", iw, options.lenient, 1.0, &v);
    }
    if (!have) {
      col.skip(fmt::format("{}: zone \"{}\" at {}: actual and forecast are null: point skipped",
                           w.str(), b.zone, format_timestamp(from)));
      return;
    }
    col.add(b, false, SignalPoint{from, v, estimated}, w.str());
  };

  const std::size_t count = single ? 1 : data->size();
  for (std::size_t i = 0; i < count; ++i) {
    const Where w = single ? at / "data" : (at / "data")[i];
    const Json& e = require_object(single ? *data : (*data)[i], w);
    if (e.contains("regionid") && e.contains("data")) {
      // /regional/regionid/{id}, /regional/postcode/{pc}: one region, many half-hours.
      Builder& b = region_zone(e, w);
      const Json* series = detail::read_array(e, "data", w);
      for (std::size_t j = 0; series && j < series->size(); ++j) {
        const Where sw = (w / "data")[j];
        const Json& p = require_object((*series)[j], sw);
        point(b, read_time(p, "from", sw), read_time(p, "to", sw), p, sw);
      }
    } else if (e.contains("regions")) {
      // /regional, /regional/intensity/{from}/fw24h: one half-hour, many regions.
      const std::int64_t from = read_time(e, "from", w);
      const std::int64_t to = read_time(e, "to", w);
      const Json* regions = detail::read_array(e, "regions", w);
      for (std::size_t j = 0; regions && j < regions->size(); ++j) {
        const Where rw = (w / "regions")[j];
        const Json& r = require_object((*regions)[j], rw);
        point(region_zone(r, rw), from, to, r, rw);
      }
    } else if (e.contains("from")) {
      // /intensity, /intensity/date, /intensity/{from}/fw24h: national.
      point(col.zone(national_zone), read_time(e, "from", w), read_time(e, "to", w), e, w);
    } else {
      w.fail(
          "expected {from, to, intensity} (national), {regionid, data} or {from, to, regions} "
          "(regional)");
    }
  }
  return col.finish(IntensityKind::kAverageDirect, 1800);
}

SignalLoad load_carbon_aware_sdk_json(std::string_view text, std::string_view source,
                                      const SignalLoadOptions& options) {
  const Json root = detail::parse_one_document(text, source, options.limits);
  const Where at(std::string(source), "");
  constexpr std::string_view kWhat =
      "a Carbon Aware SDK response (emissions [{location, time, rating}] or forecasts "
      "[{location, forecastData}])";
  if (root.is_object() && !root.contains("location")) fail_not_a(root, at, kWhat);
  if (!root.is_object() && !root.is_array())
    at.fail(fmt::format("not {}: got a {}", kWhat, root.type_name()));
  const IntensityKind kind = options.kind.value_or(IntensityKind::kAverageLifecycle);
  Collector col(source, options);

  struct Forecast {
    std::optional<std::int64_t> issued;
    std::string where;
  };
  std::unordered_map<std::string, Forecast> kept;  // zone -> forecast kept so far

  const std::size_t n = root.is_array() ? root.size() : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const Where w = root.is_array() ? at[i] : at;
    const Json& e = require_object(root.is_array() ? root[i] : root, w);
    const std::string location = detail::read_string(e, "location", w);
    if (location.empty()) (w / "location").fail("required: the location");
    Builder& b = col.zone(location);
    b.kind = kind;
    if (const Json* fd = detail::read_array(e, "forecastData", w)) {
      const std::optional<std::int64_t> issued = read_optional_time(e, "generatedAt", w);
      auto prev = kept.find(location);
      if (prev != kept.end()) {
        // One forecast per zone: keep the most recently generated.
        const bool newer = !prev->second.issued || (issued && *issued >= *prev->second.issued);
        const std::string dropped = newer ? prev->second.where : w.str();
        col.skip(
            fmt::format("{}: location \"{}\": an older forecast, dropped (one forecast per "
                        "zone is kept)",
                        dropped, location));
        if (!newer) continue;
        b.forecast.clear();
        b.forecast_period = 0;
      }
      kept[location] = Forecast{issued, w.str()};
      b.issued = issued;
      for (std::size_t j = 0; j < fd->size(); ++j) {
        const Where pw = (w / "forecastData")[j];
        const Json& p = require_object((*fd)[j], pw);
        const std::int64_t t = read_time(p, "timestamp", pw);
        shorter_period(b.forecast_period, read_duration(p, "duration", pw));
        double v = 0;
        if (!read_intensity(p, "value", pw, options.lenient, 1.0, &v)) {
          col.skip(fmt::format("{}: location \"{}\" at {}: value is null: point skipped", pw.str(),
                               location, format_timestamp(t)));
          continue;
        }
        col.add(b, true, SignalPoint{t, v, true}, pw.str());
      }
    } else if (e.contains("rating")) {
      const std::int64_t t = read_time(e, "time", w);
      shorter_period(b.period, read_duration(e, "duration", w));
      double v = 0;
      if (!read_intensity(e, "rating", w, options.lenient, 1.0, &v)) {
        col.skip(fmt::format("{}: location \"{}\" at {}: rating is null: point skipped", w.str(),
                             location, format_timestamp(t)));
        continue;
      }
      col.add(b, false, SignalPoint{t, v, false}, w.str());
    } else {
      w.fail(fmt::format("not {}: no rating or forecastData", kWhat));
    }
  }
  return col.finish(kind, 3600);
}

namespace {

constexpr std::pair<SignalFormat, std::string_view> kSignalFormatNames[] = {
    {SignalFormat::kElectricityMapsCsv, "electricitymaps-csv"},
    {SignalFormat::kElectricityMapsJson, "electricitymaps-json"},
    {SignalFormat::kWattTimeJson, "watttime"},
    {SignalFormat::kUkCarbonIntensityJson, "uk-carbon-intensity"},
    {SignalFormat::kCarbonAwareSdkJson, "carbon-aware-sdk"},
};

bool starts_with_csv_header(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  if (text.starts_with('"')) text.remove_prefix(1);
  return text.starts_with("Datetime (UTC)");
}

}  // namespace

std::string_view signal_format_name(SignalFormat format) {
  for (const auto& [f, name] : kSignalFormatNames)
    if (f == format) return name;
  return "unknown";
}

std::optional<SignalFormat> parse_signal_format(std::string_view name) {
  for (const auto& [f, n] : kSignalFormatNames)
    if (n == name) return f;
  return std::nullopt;
}

std::optional<SignalFormat> detect_signal_format(std::string_view text, std::string_view name) {
  if (name.ends_with(".csv") || starts_with_csv_header(text))
    return SignalFormat::kElectricityMapsCsv;
  auto has_key = [&](std::string_view quoted_key) {
    return text.find(quoted_key) != std::string_view::npos;
  };
  if (has_key("\"point_time\"")) return SignalFormat::kWattTimeJson;
  if (has_key("\"forecastData\"") || has_key("\"location\""))
    return SignalFormat::kCarbonAwareSdkJson;
  if (has_key("\"intensity\"")) return SignalFormat::kUkCarbonIntensityJson;
  if (has_key("\"carbonIntensity\"")) return SignalFormat::kElectricityMapsJson;
  return std::nullopt;
}

SignalLoad load_signals(std::string_view text, std::string_view source, SignalFormat format,
                        IntensityScope scope, const SignalLoadOptions& options) {
  switch (format) {
    case SignalFormat::kElectricityMapsCsv:
      return load_electricitymaps_csv(text, source, scope, options);
    case SignalFormat::kElectricityMapsJson:
      return load_electricitymaps_json(text, source, options);
    case SignalFormat::kWattTimeJson:
      return load_watttime_json(text, source, options);
    case SignalFormat::kUkCarbonIntensityJson:
      return load_uk_carbon_intensity_json(text, source, options);
    case SignalFormat::kCarbonAwareSdkJson:
      return load_carbon_aware_sdk_json(text, source, options);
  }
  throw InvalidInput(
      fmt::format("{}: unknown carbon signal format {}", source, static_cast<int>(format)));
}

CARBONKUBE_NAMESPACE_END
