// Carbon signals: the series model, timestamps, evaluation against a policy,
// the node-to-zone map and the per-cycle zone intensities. The format
// loaders are in signals_loaders.cpp.
#include "carbonkube/signals.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "carbonkube/error.hpp"
#include "document.hpp"

CARBONKUBE_NAMESPACE_BEGIN

// ---------------------------------------------------------------------------
// Kinds

std::string_view to_string(IntensityKind kind) noexcept {
  switch (kind) {
    case IntensityKind::kAverageDirect:
      return "average/direct";
    case IntensityKind::kAverageLifecycle:
      return "average/lifecycle";
    case IntensityKind::kMarginalDirect:
      return "marginal/direct";
    case IntensityKind::kMarginalLifecycle:
      return "marginal/lifecycle";
  }
  return "unknown";
}

std::optional<IntensityKind> parse_intensity_kind(std::string_view text) {
  for (IntensityKind k : {IntensityKind::kAverageDirect, IntensityKind::kAverageLifecycle,
                          IntensityKind::kMarginalDirect, IntensityKind::kMarginalLifecycle})
    if (to_string(k) == text) return k;
  return std::nullopt;
}

std::string_view to_string(ReadingStatus status) noexcept {
  switch (status) {
    case ReadingStatus::kOk:
      return "ok";
    case ReadingStatus::kMissingZone:
      return "missing-zone";
    case ReadingStatus::kNoData:
      return "no-data";
    case ReadingStatus::kStale:
      return "stale";
    case ReadingStatus::kFuture:
      return "future";
    case ReadingStatus::kNotFinite:
      return "not-finite";
    case ReadingStatus::kNegative:
      return "negative";
    case ReadingStatus::kBelowMin:
      return "below-min";
    case ReadingStatus::kAboveMax:
      return "above-max";
    case ReadingStatus::kWrongKind:
      return "wrong-kind";
    case ReadingStatus::kEstimatedRejected:
      return "estimated-rejected";
    case ReadingStatus::kIncompleteWindow:
      return "incomplete-window";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------
// Timestamps

namespace {

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t y;
  unsigned m;
  unsigned d;
};

Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool try_parse_timestamp(std::string_view s, std::int64_t* out, std::string* error,
                         bool assume_utc) {
  std::size_t i = 0;
  auto fail = [&](std::string_view what) {
    if (error) *error = fmt::format("invalid timestamp \"{}\": {}", s, what);
    return false;
  };
  auto number = [&](std::size_t n, unsigned* v) {
    if (i + n > s.size()) return false;
    unsigned x = 0;
    for (std::size_t k = 0; k < n; ++k) {
      if (!is_digit(s[i + k])) return false;
      x = x * 10 + static_cast<unsigned>(s[i + k] - '0');
    }
    *v = x;
    i += n;
    return true;
  };
  auto expect = [&](char c) {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!number(4, &year) || !expect('-') || !number(2, &month) || !expect('-') || !number(2, &day))
    return fail("expected YYYY-MM-DD");
  if (month < 1 || month > 12) return fail(fmt::format("month {} is out of range", month));
  if (day < 1 || day > days_in_month(year, month))
    return fail(fmt::format("day {} is out of range for {:04}-{:02}", day, year, month));
  if (i == s.size()) return fail("expected a time after the date (YYYY-MM-DDTHH:MM:SS)");
  if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return fail("expected 'T' after the date");
  ++i;
  if (!number(2, &hour) || !expect(':') || !number(2, &minute))
    return fail("expected HH:MM after the date");
  if (expect(':') && !number(2, &second)) return fail("expected two digits of seconds");
  if (hour > 23) return fail(fmt::format("hour {} is out of range", hour));
  if (minute > 59) return fail(fmt::format("minute {} is out of range", minute));
  if (second > 60) return fail(fmt::format("second {} is out of range", second));
  if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
    ++i;
    std::size_t digits = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++digits;
    if (digits == 0) return fail("expected digits after the decimal point");
    // Fractions of a second are dropped: a point at 10:00:00.9 holds from 10:00:00.
  }
  std::int64_t offset = 0;
  if (i == s.size()) {
    if (!assume_utc) return fail("no UTC offset (append Z or +hh:mm)");
  } else if (s[i] == 'Z' || s[i] == 'z') {
    ++i;
  } else if (s[i] == '+' || s[i] == '-') {
    const int sign = s[i] == '-' ? -1 : 1;
    ++i;
    unsigned oh = 0, om = 0;
    if (!number(2, &oh)) return fail("expected hh after the offset sign");
    if (i < s.size()) {
      expect(':');
      if (!number(2, &om)) return fail("expected mm in the UTC offset");
    }
    if (oh > 23 || om > 59) return fail("UTC offset is out of range");
    offset = sign * static_cast<std::int64_t>(oh * 3600 + om * 60);
  } else {
    return fail(fmt::format("unexpected \"{}\" after the time", s.substr(i)));
  }
  if (i != s.size()) return fail(fmt::format("unexpected \"{}\" at the end", s.substr(i)));
  *out = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  return true;
}

std::int64_t parse_timestamp(std::string_view text, bool assume_utc, std::string_view where) {
  std::int64_t out = 0;
  std::string error;
  if (!try_parse_timestamp(text, &out, &error, assume_utc))
    throw InvalidInput(where.empty() ? error : fmt::format("{}: {}", where, error));
  return out;
}

std::string format_timestamp(std::int64_t unix_seconds) {
  std::int64_t days = unix_seconds / 86400;
  std::int64_t secs = unix_seconds % 86400;
  if (secs < 0) secs += 86400, --days;
  Civil c = civil_from_days(days);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", c.y, c.m, c.d, secs / 3600,
                     secs / 60 % 60, secs % 60);
}

// ---------------------------------------------------------------------------
// Series

namespace {

const SignalPoint* latest_at_or_before(const std::vector<SignalPoint>& pts, std::int64_t t) {
  auto it = std::upper_bound(pts.begin(), pts.end(), t, [](std::int64_t v, const SignalPoint& p) {
    return v < p.unix_seconds;
  });
  if (it == pts.begin()) return nullptr;
  return &*(it - 1);
}

// Caps a window so t + seconds cannot overflow (10,000 years is plenty).
constexpr std::int64_t kMaxWindowSeconds = std::int64_t{10000} * 366 * 86400;

void accumulate(const std::vector<SignalPoint>& pts, std::int64_t period, std::int64_t begin,
                std::int64_t end, bool forecast, WindowAverage& w, double& sum) {
  if (pts.empty() || begin >= end) return;
  auto it =
      std::upper_bound(pts.begin(), pts.end(), begin,
                       [](std::int64_t v, const SignalPoint& p) { return v < p.unix_seconds; });
  if (it != pts.begin()) --it;
  for (; it != pts.end() && it->unix_seconds < end; ++it) {
    std::int64_t hold_end = it->unix_seconds + period;
    if (it + 1 != pts.end()) hold_end = std::min(hold_end, (it + 1)->unix_seconds);
    const std::int64_t seg_begin = std::max(it->unix_seconds, begin);
    const std::int64_t seg_end = std::min(hold_end, end);
    if (seg_end <= seg_begin) continue;
    const std::int64_t len = seg_end - seg_begin;
    sum += it->g_per_kwh * static_cast<double>(len);
    if (w.covered_seconds == 0) {
      w.min_g_per_kwh = w.max_g_per_kwh = it->g_per_kwh;
    } else {
      w.min_g_per_kwh = std::min(w.min_g_per_kwh, it->g_per_kwh);
      w.max_g_per_kwh = std::max(w.max_g_per_kwh, it->g_per_kwh);
    }
    w.covered_seconds += len;
    w.estimated = w.estimated || it->estimated || forecast;
    w.from_forecast = w.from_forecast || forecast;
  }
}

}  // namespace

const SignalPoint* ZoneSeries::at(std::int64_t t) const { return latest_at_or_before(points, t); }

const SignalPoint* ZoneSeries::forecast_at(std::int64_t t) const {
  const SignalPoint* p = latest_at_or_before(forecast, t);
  if (!p) return nullptr;
  std::int64_t hold_end = p->unix_seconds + forecast_period_seconds;
  if (p + 1 != forecast.data() + forecast.size())
    hold_end = std::min(hold_end, (p + 1)->unix_seconds);
  return t < hold_end ? p : nullptr;
}

std::optional<std::int64_t> ZoneSeries::forecast_issue_time() const {
  if (forecast_issued_at) return forecast_issued_at;
  if (!forecast.empty()) return forecast.front().unix_seconds;
  return std::nullopt;
}

WindowAverage ZoneSeries::window_average(std::int64_t t, std::int64_t seconds,
                                         bool use_forecast) const {
  WindowAverage w;
  if (seconds <= 0) return w;
  seconds = std::min(seconds, kMaxWindowSeconds);
  const std::int64_t end = t + seconds;
  double sum = 0;
  accumulate(points, period_seconds, t, end, false, w, sum);
  if (use_forecast && !forecast.empty()) {
    const std::int64_t history_end =
        points.empty() ? t : std::max(t, points.back().unix_seconds + period_seconds);
    accumulate(forecast, forecast_period_seconds, history_end, end, true, w, sum);
  }
  if (w.covered_seconds > 0) w.g_per_kwh = sum / static_cast<double>(w.covered_seconds);
  return w;
}

// ---------------------------------------------------------------------------
// CarbonSignals

namespace {

// Stable-sorts by time and keeps the last of equal timestamps.
void sort_keep_last(std::vector<SignalPoint>& pts) {
  std::stable_sort(pts.begin(), pts.end(), [](const SignalPoint& a, const SignalPoint& b) {
    return a.unix_seconds < b.unix_seconds;
  });
  std::vector<SignalPoint> out;
  out.reserve(pts.size());
  for (const SignalPoint& p : pts) {
    if (!out.empty() && out.back().unix_seconds == p.unix_seconds)
      out.back() = p;
    else
      out.push_back(p);
  }
  pts.swap(out);
}

}  // namespace

namespace {

// Throws unless `s` may be added next to `existing` (its zone's current series).
void check_addable(const ZoneSeries& s, const ZoneSeries* existing) {
  if (s.zone.empty()) throw InvalidInput(fmt::format("{}: a series has no zone id", s.source));
  if (s.period_seconds <= 0 || s.forecast_period_seconds <= 0)
    throw InvalidInput(
        fmt::format("{}: zone \"{}\": the period must be positive", s.source, s.zone));
  if (existing && existing->kind != s.kind)
    throw InvalidInput(fmt::format(
        "zone \"{}\": cannot add {} data from {} to {} data from {}: a series never mixes "
        "intensity kinds",
        s.zone, to_string(s.kind), s.source.empty() ? "(unnamed)" : s.source,
        to_string(existing->kind), existing->source.empty() ? "(unnamed)" : existing->source));
}

}  // namespace

void CarbonSignals::add(ZoneSeries s) {
  auto it = series_.find(s.zone);
  check_addable(s, it == series_.end() ? nullptr : &it->second);
  if (it == series_.end()) {
    sort_keep_last(s.points);
    sort_keep_last(s.forecast);
    std::string zone = s.zone;
    series_.emplace(std::move(zone), std::move(s));
    return;
  }
  ZoneSeries& cur = it->second;
  if (!s.points.empty()) {
    cur.period_seconds =
        cur.points.empty() ? s.period_seconds : std::min(cur.period_seconds, s.period_seconds);
    cur.points.insert(cur.points.end(), s.points.begin(), s.points.end());
    sort_keep_last(cur.points);
  }
  if (!s.forecast.empty()) {
    auto new_issue = s.forecast_issue_time();
    auto cur_issue = cur.forecast_issue_time();
    if (!cur_issue || (new_issue && *new_issue >= *cur_issue)) {
      sort_keep_last(s.forecast);
      cur.forecast = std::move(s.forecast);
      cur.forecast_issued_at = s.forecast_issued_at;
      cur.forecast_period_seconds = s.forecast_period_seconds;
    }
  }
  if (!s.source.empty() && cur.source.find(s.source) == std::string::npos)
    cur.source = cur.source.empty() ? s.source : cur.source + ", " + s.source;
}

void CarbonSignals::add(std::vector<ZoneSeries> series) {
  // Check the whole batch first: a bad batch changes nothing.
  std::map<std::string_view, const ZoneSeries*> first_in_batch;
  for (const ZoneSeries& s : series) {
    const ZoneSeries* existing = find(s.zone);
    if (!existing) {
      auto [it, inserted] = first_in_batch.emplace(s.zone, &s);
      if (!inserted) existing = it->second;
    }
    check_addable(s, existing);
  }
  for (ZoneSeries& s : series) add(std::move(s));
}

const ZoneSeries* CarbonSignals::find(std::string_view zone) const {
  auto it = series_.find(zone);
  return it == series_.end() ? nullptr : &it->second;
}

std::optional<IntensityKind> CarbonSignals::common_kind() const {
  std::optional<IntensityKind> kind;
  for (const auto& [zone, s] : series_) {
    if (kind && *kind != s.kind) return std::nullopt;
    kind = s.kind;
  }
  return kind;
}

const SignalPoint* CarbonSignals::value_at(std::string_view zone, std::int64_t t) const {
  const ZoneSeries* s = find(zone);
  return s ? s->at(t) : nullptr;
}

WindowAverage CarbonSignals::window_average(std::string_view zone, std::int64_t t,
                                            std::int64_t seconds, bool use_forecast) const {
  const ZoneSeries* s = find(zone);
  return s ? s->window_average(t, seconds, use_forecast) : WindowAverage{};
}

// ---------------------------------------------------------------------------
// Evaluation

namespace {

ZoneReading unusable(ZoneReading r, ReadingStatus reason, std::string text) {
  r.usable = false;
  r.g_per_kwh = std::numeric_limits<double>::quiet_NaN();
  r.reason = reason;
  r.reason_text = std::move(text);
  return r;
}

// Checks a value against the policy; kOk when fine.
ReadingStatus check_value(double v, const SignalPolicy& policy, std::string* text) {
  if (!std::isfinite(v)) {
    *text = fmt::format("{} g/kWh is not a finite number", v);
    return ReadingStatus::kNotFinite;
  }
  if (v < 0) {
    *text = fmt::format("{} g/kWh is negative", v);
    return ReadingStatus::kNegative;
  }
  if (v < policy.min_g_per_kwh) {
    *text = fmt::format("{} g/kWh is below the minimum of {}", v, policy.min_g_per_kwh);
    return ReadingStatus::kBelowMin;
  }
  if (v > policy.max_g_per_kwh) {
    *text = fmt::format("{} g/kWh is above the maximum of {}", v, policy.max_g_per_kwh);
    return ReadingStatus::kAboveMax;
  }
  return ReadingStatus::kOk;
}

// Whether the series' forecast may be used at t: issued no later than t (plus
// the tolerance: no look-ahead) and not older than max_age.
bool forecast_fresh(const ZoneSeries& s, std::int64_t t, const SignalPolicy& policy,
                    std::int64_t* issued_out) {
  auto issued = s.forecast_issue_time();
  if (!issued) return false;
  *issued_out = *issued;
  return *issued <= t + policy.future_tolerance_seconds && t - *issued <= policy.max_age_seconds;
}

}  // namespace

ZoneReading evaluate(const CarbonSignals& signals, std::string_view zone, std::int64_t t,
                     const SignalPolicy& policy) {
  ZoneReading r;
  const ZoneSeries* s = signals.find(zone);
  if (!s)
    return unusable(r, ReadingStatus::kMissingZone,
                    fmt::format("no carbon signal for zone \"{}\"", zone));
  r.kind = s->kind;
  if (policy.kind && *policy.kind != s->kind)
    return unusable(r, ReadingStatus::kWrongKind,
                    fmt::format("zone \"{}\" has {} data, {} is required", zone, to_string(s->kind),
                                to_string(*policy.kind)));

  const SignalPoint* chosen = nullptr;
  const SignalPoint* hist = s->at(t);
  std::int64_t issued = 0;
  const bool fc_fresh = forecast_fresh(*s, t, policy, &issued);
  const SignalPoint* fc = fc_fresh ? s->forecast_at(t) : nullptr;
  // A history point holds for its period; past it, a fresh forecast for t is
  // better than holding the old value; past max_age, the data is stale.
  const bool hist_fresh = hist && t - hist->unix_seconds <= policy.max_age_seconds;
  const bool hist_covers = hist && t - hist->unix_seconds < s->period_seconds;
  if (hist_fresh && (hist_covers || !fc)) {
    chosen = hist;
    r.age_seconds = t - hist->unix_seconds;
  } else if (fc) {
    chosen = fc;
    r.age_seconds = t - issued;
    r.from_forecast = true;
  } else if (hist) {
    r.age_seconds = t - hist->unix_seconds;
    r.estimated = hist->estimated;
    return unusable(r, ReadingStatus::kStale,
                    fmt::format("zone \"{}\": the latest point ({}) is {} s old, over the "
                                "maximum age of {} s{}",
                                zone, format_timestamp(hist->unix_seconds), r.age_seconds,
                                policy.max_age_seconds,
                                s->forecast.empty() ? "" : "; no fresh forecast covers t"));
  } else {
    // Nothing at or before t: perhaps a point just ahead of t (clock skew).
    const SignalPoint* first = nullptr;
    bool first_is_forecast = false;
    if (!s->points.empty()) first = &s->points.front();
    if (!s->forecast.empty() && (!first || s->forecast.front().unix_seconds < first->unix_seconds))
      first = &s->forecast.front(), first_is_forecast = true;
    if (!first)
      return unusable(r, ReadingStatus::kNoData, fmt::format("zone \"{}\" has no data", zone));
    if (first->unix_seconds > t + policy.future_tolerance_seconds)
      return unusable(r, ReadingStatus::kFuture,
                      fmt::format("zone \"{}\": the data starts at {}, {} s after t ({})", zone,
                                  format_timestamp(first->unix_seconds), first->unix_seconds - t,
                                  format_timestamp(t)));
    if (first->unix_seconds > t && (!first_is_forecast || fc_fresh)) {
      chosen = first;
      r.age_seconds = t - first->unix_seconds;
      r.from_forecast = first_is_forecast;
    } else if (first_is_forecast && s->forecast_issue_time() &&
               *s->forecast_issue_time() > t + policy.future_tolerance_seconds) {
      return unusable(
          r, ReadingStatus::kFuture,
          fmt::format("zone \"{}\": the forecast was issued at {}, after t ({})", zone,
                      format_timestamp(*s->forecast_issue_time()), format_timestamp(t)));
    } else if (first_is_forecast && !fc_fresh) {
      r.age_seconds = t - issued;
      return unusable(
          r, ReadingStatus::kStale,
          fmt::format("zone \"{}\": the forecast issued at {} is {} s old, over the "
                      "maximum age of {} s",
                      zone, format_timestamp(issued), t - issued, policy.max_age_seconds));
    } else {
      return unusable(r, ReadingStatus::kNoData,
                      fmt::format("zone \"{}\": no point at or before {} and the forecast ends "
                                  "before it",
                                  zone, format_timestamp(t)));
    }
  }

  r.estimated = chosen->estimated || r.from_forecast;
  std::string text;
  ReadingStatus st = check_value(chosen->g_per_kwh, policy, &text);
  if (st != ReadingStatus::kOk)
    return unusable(
        r, st,
        fmt::format("zone \"{}\" at {}: {}", zone, format_timestamp(chosen->unix_seconds), text));
  if (r.estimated && !policy.accept_estimated)
    return unusable(r, ReadingStatus::kEstimatedRejected,
                    fmt::format("zone \"{}\": the value at {} is {} and estimated values are "
                                "not accepted",
                                zone, format_timestamp(chosen->unix_seconds),
                                r.from_forecast ? "a forecast" : "estimated"));
  r.usable = true;
  r.g_per_kwh = chosen->g_per_kwh;
  r.reason = ReadingStatus::kOk;
  r.reason_text = fmt::format("{} g/kWh ({}) from {}{}, {} s old", chosen->g_per_kwh,
                              to_string(s->kind), r.from_forecast ? "the forecast for " : "",
                              format_timestamp(chosen->unix_seconds), r.age_seconds);
  return r;
}

ZoneReading evaluate_window(const CarbonSignals& signals, std::string_view zone, std::int64_t t,
                            std::int64_t seconds, const SignalPolicy& policy) {
  ZoneReading start = evaluate(signals, zone, t, policy);
  if (seconds <= 0 || !start.usable) return start;
  seconds = std::min(seconds, kMaxWindowSeconds);
  const ZoneSeries& s = *signals.find(zone);
  std::int64_t issued = 0;
  const WindowAverage w = s.window_average(t, seconds, forecast_fresh(s, t, policy, &issued));
  ZoneReading r = start;
  r.estimated = start.estimated || w.estimated;
  r.from_forecast = w.from_forecast;
  const double coverage = static_cast<double>(w.covered_seconds) / static_cast<double>(seconds);
  if (w.covered_seconds == 0 || coverage < policy.min_window_coverage)
    return unusable(r, ReadingStatus::kIncompleteWindow,
                    fmt::format("zone \"{}\": {:.0f}% of the {} s window from {} has data, "
                                "{:.0f}% is required",
                                zone, coverage * 100, seconds, format_timestamp(t),
                                policy.min_window_coverage * 100));
  std::string text;
  ReadingStatus st = check_value(w.g_per_kwh, policy, &text);
  if (st == ReadingStatus::kOk) st = check_value(w.min_g_per_kwh, policy, &text);
  if (st == ReadingStatus::kOk) st = check_value(w.max_g_per_kwh, policy, &text);
  if (st != ReadingStatus::kOk)
    return unusable(r, st,
                    fmt::format("zone \"{}\": a value in the window from {}: {}", zone,
                                format_timestamp(t), text));
  if (r.estimated && !policy.accept_estimated)
    return unusable(r, ReadingStatus::kEstimatedRejected,
                    fmt::format("zone \"{}\": the window from {} uses estimated or forecast "
                                "values, which are not accepted",
                                zone, format_timestamp(t)));
  r.g_per_kwh = w.g_per_kwh;
  r.reason_text = fmt::format("{} g/kWh ({}) mean over {} s from {} ({:.0f}% covered{})",
                              w.g_per_kwh, to_string(s.kind), seconds, format_timestamp(t),
                              coverage * 100, w.from_forecast ? ", partly forecast" : "");
  return r;
}

// ---------------------------------------------------------------------------
// ZoneMap

namespace {

using detail::Json;
using detail::Where;

void check_zone_id(std::string_view zone, const Where& where) {
  if (zone.empty()) where.fail("the grid zone id is empty");
  for (char c : zone)
    if (static_cast<unsigned char>(c) <= ' ' || c == '\x7f')
      where.fail(
          fmt::format("grid zone id \"{}\" contains whitespace or control characters", zone));
}

ZoneIndex lookup_sorted(const std::vector<std::pair<std::string, ZoneIndex>>& table,
                        std::string_view value) {
  auto it = std::lower_bound(table.begin(), table.end(), value,
                             [](const auto& e, std::string_view v) { return e.first < v; });
  return it != table.end() && it->first == value ? it->second : kUnknownZone;
}

void insert_sorted(std::vector<std::pair<std::string, ZoneIndex>>& table, std::string value,
                   ZoneIndex zone) {
  auto it = std::lower_bound(table.begin(), table.end(), value,
                             [](const auto& e, const std::string& v) { return e.first < v; });
  if (it != table.end() && it->first == value)
    it->second = zone;
  else
    table.emplace(it, std::move(value), zone);
}

}  // namespace

ZoneIndex ZoneMap::intern_zone(std::string zone) {
  for (std::size_t i = 0; i < zones_.size(); ++i)
    if (zones_[i] == zone) return static_cast<ZoneIndex>(i);
  if (zones_.size() >= kUnknownZone)
    throw Error(ErrorKind::kLimitExceeded,
                fmt::format("{}: more than {} grid zones", source_, kUnknownZone));
  zones_.push_back(std::move(zone));
  return static_cast<ZoneIndex>(zones_.size() - 1);
}

void ZoneMap::add_rule(StringMap match_labels, std::string zone) {
  if (match_labels.empty())
    throw InvalidInput(fmt::format("{}: a rule for zone \"{}\" matches no labels", source_, zone));
  std::sort(match_labels.begin(), match_labels.end());
  ZoneIndex z = intern_zone(zone);
  rules_.push_back(Rule{std::move(match_labels), std::move(zone)});
  rule_zones_.push_back(z);
}

void ZoneMap::add_zone_label(std::string value, std::string zone) {
  insert_sorted(zone_labels_, std::move(value), intern_zone(std::move(zone)));
}

void ZoneMap::add_region_label(std::string value, std::string zone) {
  insert_sorted(region_labels_, std::move(value), intern_zone(std::move(zone)));
}

ZoneMap ZoneMap::parse(std::string_view text, std::string_view source, const ParseLimits& limits) {
  const Json root = detail::parse_one_document(text, source, limits);
  Where at{std::string(source), ""};
  if (!root.is_object()) at.fail(fmt::format("expected a mapping, got {}", root.type_name()));
  detail::check_keys(root, at, {"apiVersion", "kind", "unknownZone", "rules", "zones", "regions"});
  std::string kind = detail::read_string(root, "kind", at);
  if (!kind.empty() && kind != "ZoneMap")
    (at / "kind").fail(fmt::format("expected ZoneMap, got \"{}\"", kind));
  std::string unknown = detail::read_string(root, "unknownZone", at);
  ZoneMap map;
  if (unknown == "neutral")
    map.unknown_zone_ = UnknownZoneRule::kNeutral;
  else if (unknown == "error")
    map.unknown_zone_ = UnknownZoneRule::kError;
  else if (unknown.empty())
    (at / "unknownZone")
        .fail("required: say what happens to nodes no entry matches (neutral or error)");
  else
    (at / "unknownZone").fail(fmt::format("expected neutral or error, got \"{}\"", unknown));
  map.source_ = std::string(source);

  if (const Json* rules = detail::read_array(root, "rules", at)) {
    for (std::size_t i = 0; i < rules->size(); ++i) {
      const Json& rule = (*rules)[i];
      Where w = (at / "rules")[i];
      if (!rule.is_object()) w.fail(fmt::format("expected a mapping, got {}", rule.type_name()));
      detail::check_keys(rule, w, {"matchLabels", "zone"});
      StringMap labels = detail::read_string_map(rule, "matchLabels", w);
      if (labels.empty()) (w / "matchLabels").fail("required: the labels a node must have");
      std::string zone = detail::read_string(rule, "zone", w);
      check_zone_id(zone, w / "zone");
      map.add_rule(std::move(labels), std::move(zone));
    }
  }
  for (const char* key : {"zones", "regions"}) {
    StringMap entries = detail::read_string_map(root, key, at);
    for (auto& [value, zone] : entries) {
      check_zone_id(zone, at / key / value);
      if (std::string_view(key) == "zones")
        map.add_zone_label(value, zone);
      else
        map.add_region_label(value, zone);
    }
  }
  return map;
}

std::optional<ZoneIndex> ZoneMap::find_zone(std::string_view zone) const {
  for (std::size_t i = 0; i < zones_.size(); ++i)
    if (zones_[i] == zone) return static_cast<ZoneIndex>(i);
  return std::nullopt;
}

ZoneIndex ZoneMap::zone_index_for(const StringMap& labels) const {
  for (std::size_t r = 0; r < rules_.size(); ++r) {
    bool all = true;
    for (const auto& [k, v] : rules_[r].match_labels) {
      const std::string* have = detail::find_value(labels, k);
      if (!have || *have != v) {
        all = false;
        break;
      }
    }
    if (all) return rule_zones_[r];
  }
  if (const std::string* v = detail::find_value(labels, kTopologyZoneLabel)) {
    ZoneIndex z = lookup_sorted(zone_labels_, *v);
    if (z != kUnknownZone) return z;
  }
  if (const std::string* v = detail::find_value(labels, kTopologyRegionLabel)) {
    ZoneIndex z = lookup_sorted(region_labels_, *v);
    if (z != kUnknownZone) return z;
  }
  return kUnknownZone;
}

std::string_view ZoneMap::zone_for(const StringMap& labels) const {
  ZoneIndex z = zone_index_for(labels);
  return z == kUnknownZone ? std::string_view{} : std::string_view{zones_[z]};
}

std::vector<ZoneIndex> ZoneMap::node_zones(const ClusterSnapshot& snapshot) const {
  const StringPool& pool = snapshot.strings();
  struct CompiledRule {
    std::vector<LabelRef> match;
    ZoneIndex zone;
  };
  std::vector<CompiledRule> rules;
  for (std::size_t r = 0; r < rules_.size(); ++r) {
    CompiledRule cr{{}, rule_zones_[r]};
    bool possible = true;
    for (const auto& [k, v] : rules_[r].match_labels) {
      StringId kid = pool.find(k), vid = pool.find(v);
      if (kid == kNoString || vid == kNoString) {
        possible = false;  // no node has this label: the rule cannot match
        break;
      }
      cr.match.push_back(LabelRef{kid, vid});
    }
    if (possible) rules.push_back(std::move(cr));
  }
  auto compile_table = [&](const std::vector<std::pair<std::string, ZoneIndex>>& table) {
    std::unordered_map<StringId, ZoneIndex> out;
    for (const auto& [value, zone] : table) {
      StringId id = pool.find(value);
      if (id != kNoString) out.emplace(id, zone);
    }
    return out;
  };
  const StringId zone_key = pool.find(kTopologyZoneLabel);
  const StringId region_key = pool.find(kTopologyRegionLabel);
  const auto zone_table = compile_table(zone_labels_);
  const auto region_table = compile_table(region_labels_);

  std::vector<ZoneIndex> out(snapshot.node_count(), kUnknownZone);
  for (NodeIndex i = 0; i < snapshot.node_count(); ++i) {
    ZoneIndex z = kUnknownZone;
    for (const CompiledRule& cr : rules) {
      bool all = true;
      for (const LabelRef& m : cr.match)
        if (snapshot.label(i, m.key) != m.value) {
          all = false;
          break;
        }
      if (all) {
        z = cr.zone;
        break;
      }
    }
    auto from_table = [&](StringId key, const std::unordered_map<StringId, ZoneIndex>& table) {
      if (z != kUnknownZone || key == kNoString || table.empty()) return;
      StringId v = snapshot.label(i, key);
      if (v == kNoString) return;
      auto it = table.find(v);
      if (it != table.end()) z = it->second;
    };
    from_table(zone_key, zone_table);
    from_table(region_key, region_table);
    if (z == kUnknownZone && unknown_zone_ == UnknownZoneRule::kError) {
      auto label_text = [&](StringId key) {
        if (key == kNoString) return std::string("(absent)");
        StringId v = snapshot.label(i, key);
        return v == kNoString ? std::string("(absent)") : "\"" + pool.str(v) + "\"";
      };
      throw Error(ErrorKind::kNotFound,
                  fmt::format("{}: node \"{}\": no entry matches its labels ({}={}, {}={}) and "
                              "unknownZone is error",
                              source_, snapshot.node_name(i), kTopologyRegionLabel,
                              label_text(region_key), kTopologyZoneLabel, label_text(zone_key)));
    }
    out[i] = z;
  }
  return out;
}

// ---------------------------------------------------------------------------
// ZoneIntensities

ZoneIntensities ZoneIntensities::compute(const ZoneMap& map, const CarbonSignals& signals,
                                         std::int64_t t, const SignalPolicy& policy,
                                         std::int64_t window_seconds) {
  ZoneIntensities out;
  out.at = t;
  out.window_seconds = window_seconds;
  SignalPolicy p = policy;
  if (!p.kind) {
    const ZoneSeries* first = nullptr;
    for (const std::string& zone : map.zones()) {
      const ZoneSeries* s = signals.find(zone);
      if (!s) continue;
      if (first && first->kind != s->kind)
        throw InvalidInput(fmt::format(
            "{}: zones mix intensity kinds (\"{}\" is {}, \"{}\" is {}): set SignalPolicy::kind "
            "to the one to schedule on",
            map.source(), first->zone, to_string(first->kind), s->zone, to_string(s->kind)));
      if (!first) first = s;
    }
    if (first) p.kind = first->kind;
  }
  if (p.kind) out.kind = *p.kind;
  const std::size_t n = map.zones().size();
  out.g_per_kwh.assign(n, std::numeric_limits<double>::quiet_NaN());
  out.usable.assign(n, 0);
  out.readings.reserve(n);
  for (std::size_t z = 0; z < n; ++z) {
    const std::string& zone = map.zones()[z];
    ZoneReading r = window_seconds > 0 ? evaluate_window(signals, zone, t, window_seconds, p)
                                       : evaluate(signals, zone, t, p);
    if (r.usable) {
      out.g_per_kwh[z] = r.g_per_kwh;
      out.usable[z] = 1;
    }
    out.readings.push_back(std::move(r));
  }
  return out;
}

CARBONKUBE_NAMESPACE_END
