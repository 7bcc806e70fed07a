// HTTP dates (RFC 9110 5.6.7): Date, Last-Modified, Expires, If-Modified-Since, cookies.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cortado {

// Length of an IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
inline constexpr std::size_t kHttpDateSize = 29;

// Writes `t` (truncated to the second) as an IMF-fixdate into `out`, without a terminating
// NUL: no locale, no allocation, no failure (system_clock's range is well inside 4-digit
// years). Tornado's format_timestamp.
void format_http_date(std::chrono::system_clock::time_point t, char (&out)[kHttpDateSize]) noexcept;
std::string format_http_date(std::chrono::system_clock::time_point t);

// Reads an HTTP-date in any of the three forms a recipient must accept:
//   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
//   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT"
//   asctime      "Sun Nov  6 08:49:37 1994"
// Names are case-sensitive, as RFC 9110 specifies; surrounding whitespace is ignored; the day
// of the week must be a valid name but is not checked against the date; second 60 (a leap
// second) is accepted. A two-digit RFC 850 year that would be more than 50 years after `now`
// is taken in the previous century (RFC 9110 5.6.7). Dates beyond what system_clock can hold
// (before 1678 or after 2261, such as the "never expires" 9999) saturate to its min or max,
// rounded to the second. nullopt if `s` is none of these forms or not a real date.
std::optional<std::chrono::system_clock::time_point> parse_http_date(
    std::string_view s, std::chrono::system_clock::time_point now);
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view s);

}  // namespace cortado
