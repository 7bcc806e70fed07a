#include "cortado/httputil/dates.hpp"

#include <array>

#include "../ascii.hpp"

namespace cortado {

namespace {

using namespace std::chrono;

constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> kLongDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void put_digits(char* out, unsigned value, int count) noexcept {
  for (int i = count - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

void put_name(char* out, std::string_view name) noexcept {
  for (char c : name) *out++ = c;
}

}  // namespace

void format_http_date(system_clock::time_point t, char (&out)[kHttpDateSize]) noexcept {
  const auto secs = floor<seconds>(t);
  const auto day = floor<days>(secs);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> time{secs - day};
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  //  0    5  8   12   17 20 23 26
  put_name(out, kDays[weekday{day}.c_encoding()]);
  put_name(out + 3, ", ");
  put_digits(out + 5, static_cast<unsigned>(ymd.day()), 2);
  out[7] = ' ';
  put_name(out + 8, kMonths[static_cast<unsigned>(ymd.month()) - 1]);
  out[11] = ' ';
  put_digits(out + 12, static_cast<unsigned>(static_cast<int>(ymd.year())), 4);
  out[16] = ' ';
  put_digits(out + 17, static_cast<unsigned>(time.hours().count()), 2);
  out[19] = ':';
  put_digits(out + 20, static_cast<unsigned>(time.minutes().count()), 2);
  out[22] = ':';
  put_digits(out + 23, static_cast<unsigned>(time.seconds().count()), 2);
  put_name(out + 25, " GMT");
}

std::string format_http_date(system_clock::time_point t) {
  char buffer[kHttpDateSize];
  format_http_date(t, buffer);
  return std::string(buffer, kHttpDateSize);
}

namespace {

// A cursor over the date text: each step consumes a fixed piece or fails.
class DateReader {
 public:
  explicit DateReader(std::string_view s) : s_(s) {}

  bool literal(std::string_view text) {
    if (!s_.starts_with(text)) return false;
    s_.remove_prefix(text.size());
    return true;
  }

  // Exactly `count` digits.
  bool digits(int count, int& value) {
    if (s_.size() < static_cast<std::size_t>(count)) return false;
    value = 0;
    for (int i = 0; i < count; ++i) {
      if (!detail::is_digit(s_[static_cast<std::size_t>(i)])) return false;
      value = value * 10 + (s_[static_cast<std::size_t>(i)] - '0');
    }
    s_.remove_prefix(static_cast<std::size_t>(count));
    return true;
  }

  // One of `names`; its index in `index`.
  template <std::size_t N>
  bool name(const std::array<std::string_view, N>& names, int& index) {
    for (std::size_t i = 0; i < N; ++i) {
      if (literal(names[i])) {
        index = static_cast<int>(i);
        return true;
      }
    }
    return false;
  }

  bool time(int& h, int& m, int& sec) {
    return digits(2, h) && literal(":") && digits(2, m) && literal(":") && digits(2, sec);
  }

  bool done() const { return s_.empty(); }

 private:
  std::string_view s_;
};

struct Fields {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};

std::optional<system_clock::time_point> to_time_point(const Fields& f) {
  const year_month_day ymd{year{f.year}, month{static_cast<unsigned>(f.month + 1)},
                           std::chrono::day{static_cast<unsigned>(f.day)}};
  if (!ymd.ok() || f.hour > 23 || f.minute > 59 || f.second > 60) return std::nullopt;
  const sys_seconds t = sys_days{ymd} + hours{f.hour} + minutes{f.minute} + seconds{f.second};
  // system_clock counts nanoseconds in 64 bits (years 1677 to 2262), but "31 Dec 9999" is a
  // common way to say "never expires": saturate instead of overflowing.
  constexpr auto lowest = ceil<seconds>(system_clock::time_point::min());
  constexpr auto highest = floor<seconds>(system_clock::time_point::max());
  if (t.time_since_epoch() < lowest.time_since_epoch()) return lowest;
  if (t.time_since_epoch() > highest.time_since_epoch()) return highest;
  return time_point_cast<system_clock::duration>(t);
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
bool read_imf_fixdate(DateReader r, Fields& f) {
  int wd;
  return r.name(kDays, wd) && r.literal(", ") && r.digits(2, f.day) && r.literal(" ") &&
         r.name(kMonths, f.month) && r.literal(" ") && r.digits(4, f.year) && r.literal(" ") &&
         r.time(f.hour, f.minute, f.second) && r.literal(" GMT") && r.done();
}

// "Sunday, 06-Nov-94 08:49:37 GMT"; the century is settled by the caller.
bool read_rfc850(DateReader r, Fields& f) {
  int wd;
  return r.name(kLongDays, wd) && r.literal(", ") && r.digits(2, f.day) && r.literal("-") &&
         r.name(kMonths, f.month) && r.literal("-") && r.digits(2, f.year) && r.literal(" ") &&
         r.time(f.hour, f.minute, f.second) && r.literal(" GMT") && r.done();
}

// "Sun Nov  6 08:49:37 1994": the day is space-padded to two characters.
bool read_asctime(DateReader r, Fields& f) {
  int wd;
  if (!(r.name(kDays, wd) && r.literal(" ") && r.name(kMonths, f.month) && r.literal(" "))) {
    return false;
  }
  const bool day_ok = r.literal(" ") ? r.digits(1, f.day) : r.digits(2, f.day);
  return day_ok && r.literal(" ") && r.time(f.hour, f.minute, f.second) && r.literal(" ") &&
         r.digits(4, f.year) && r.done();
}

// RFC 9110 5.6.7: a two-digit year more than 50 years in the future is in the past century.
int settle_century(int two_digit_year, system_clock::time_point now) {
  const int current = static_cast<int>(year_month_day{floor<days>(now)}.year());
  int y = current - current % 100 + two_digit_year;
  if (y > current + 50) y -= 100;
  return y;
}

}  // namespace

std::optional<system_clock::time_point> parse_http_date(std::string_view s,
                                                        system_clock::time_point now) {
  s = detail::trim_ows(s);
  Fields f;
  if (read_imf_fixdate(DateReader(s), f) || read_asctime(DateReader(s), f)) {
    return to_time_point(f);
  }
  f = Fields{};
  if (read_rfc850(DateReader(s), f)) {
    f.year = settle_century(f.year, now);
    return to_time_point(f);
  }
  return std::nullopt;
}

std::optional<system_clock::time_point> parse_http_date(std::string_view s) {
  return parse_http_date(s, system_clock::now());
}

}  // namespace cortado
