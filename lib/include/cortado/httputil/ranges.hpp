// Range requests (RFC 9110 14), as Tornado's StaticFileHandler serves them: one byte range.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cortado {

// A parsed Range header in Tornado's form (_parse_request_range): Python slice indices.
//   "bytes=1-2" -> {1, 3}       "bytes=6-" -> {6, nullopt}     "bytes=-6" -> {-6, nullopt}
//   "bytes=-0"  -> {nullopt, 0} "bytes="   -> {nullopt, nullopt}  "bytes=5" -> {5, nullopt}
// Positions larger than kMaxRangePosition are read as kMaxRangePosition: such a range is beyond
// any real file, so it resolves as it would have (416 for a start, capped for an end).
struct ByteRange {
  std::optional<std::int64_t> start;
  std::optional<std::int64_t> end;
  friend bool operator==(const ByteRange&, const ByteRange&) = default;
};

inline constexpr std::int64_t kMaxRangePosition = std::int64_t{1} << 62;

// nullopt when the header is to be ignored (serve the whole resource with 200): a unit other
// than "bytes" (case-insensitive), anything but digits in a position, or several ranges
// ("bytes=0-1,5-6": Tornado supports only one). Linear; never overflows.
std::optional<ByteRange> parse_range_header(std::string_view header);

// What to send for a ByteRange on a resource of `size` bytes, as StaticFileHandler decides:
//  - full: 200 with the whole body, also when the range covers all of it (Chrome refuses a
//    206 answering "bytes=0-" for audio);
//  - partial: 206, bytes [start, end), Content-Range: format_content_range(start, end, size);
//  - unsatisfiable: 416, Content-Range: format_unsatisfied_range(size): the first position is
//    at or past the end, the range is reversed (Tornado's choice), or it is the suffix "-0".
// An end past the resource is capped at its size; a suffix longer than it starts at 0.
struct RangeResolution {
  enum class Kind { full, partial, unsatisfiable };
  Kind kind = Kind::full;
  std::uint64_t start = 0;  // partial only
  std::uint64_t end = 0;    // partial only, exclusive
  friend bool operator==(const RangeResolution&, const RangeResolution&) = default;
};
RangeResolution resolve_range(const ByteRange& range, std::uint64_t size);

// "bytes 0-99/1000" for the bytes [start, end) of `total` (Tornado's _get_content_range).
// Throws std::invalid_argument unless start < end <= total.
std::string format_content_range(std::uint64_t start, std::uint64_t end, std::uint64_t total);
// "bytes */1000", for a 416.
std::string format_unsatisfied_range(std::uint64_t total);

}  // namespace cortado
