#include "cortado/httputil/ranges.hpp"

#include <algorithm>
#include <stdexcept>

#include "../ascii.hpp"

namespace cortado {

namespace {

// A byte position: empty -> nullopt; digits -> their value, saturated at kMaxRangePosition;
// anything else -> false.
bool parse_position(std::string_view s, std::optional<std::int64_t>& out) {
  s = detail::trim_python(s);
  out.reset();
  if (s.empty()) return true;
  std::int64_t value = 0;
  for (char c : s) {
    if (!detail::is_digit(c)) return false;
    const int digit = c - '0';
    value = value > (kMaxRangePosition - digit) / 10 ? kMaxRangePosition : value * 10 + digit;
  }
  out = value;
  return true;
}

}  // namespace

std::optional<ByteRange> parse_range_header(std::string_view header) {
  const std::size_t eq = header.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  if (!detail::ascii_iequals(detail::trim_python(header.substr(0, eq)), "bytes")) {
    return std::nullopt;
  }
  const std::string_view spec = header.substr(eq + 1);
  const std::size_t dash = spec.find('-');
  ByteRange range;
  // Without a '-' the whole spec is the start, as Tornado's str.partition reads it:
  // "bytes=5" is "bytes=5-", "bytes=" is (None, None).
  const std::string_view first = spec.substr(0, dash);
  const std::string_view last = dash == std::string_view::npos ? "" : spec.substr(dash + 1);
  if (!parse_position(first, range.start) || !parse_position(last, range.end)) {
    return std::nullopt;  // includes "0-1,5-6": ',' is not a digit
  }
  if (range.end) {
    if (!range.start) {
      // A suffix "-N" means the last N bytes; "-0" stays as end 0, which is unsatisfiable.
      if (*range.end != 0) range = {-*range.end, std::nullopt};
    } else {
      ++*range.end;  // inclusive last position -> exclusive slice end
    }
  }
  return range;
}

RangeResolution resolve_range(const ByteRange& range, std::uint64_t size) {
  using Kind = RangeResolution::Kind;
  if (range.end == 0) return {Kind::unsatisfiable};
  std::uint64_t start = 0;
  if (range.start) {
    const std::int64_t s = *range.start;
    if (s < 0) {
      const std::uint64_t suffix = 0 - static_cast<std::uint64_t>(s);  // |s|, even for INT64_MIN
      start = suffix >= size ? 0 : size - suffix;
    } else {
      start = static_cast<std::uint64_t>(s);
    }
    const bool reversed = range.end && start >= static_cast<std::uint64_t>(*range.end);
    if (start >= size || reversed) return {Kind::unsatisfiable};
  }
  const std::uint64_t end =
      range.end ? std::min(static_cast<std::uint64_t>(*range.end), size) : size;
  if (end - start == size) return {Kind::full};
  return {Kind::partial, start, end};
}

std::string format_content_range(std::uint64_t start, std::uint64_t end, std::uint64_t total) {
  if (!(start < end && end <= total)) {
    throw std::invalid_argument("format_content_range: need start < end <= total");
  }
  std::string out = "bytes ";
  out.append(std::to_string(start)).append("-").append(std::to_string(end - 1));
  out.append("/").append(std::to_string(total));
  return out;
}

std::string format_unsatisfied_range(std::uint64_t total) {
  std::string out = "bytes */";
  out.append(std::to_string(total));
  return out;
}

}  // namespace cortado
