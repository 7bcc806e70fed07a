// Range headers: parsing is bounded, every resolution is consistent with the resource size,
// and a parsed single range written back parses to the same thing.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "cortado/httputil/ranges.hpp"
#include "invariant.hpp"

namespace {

void check_resolution(const cortado::ByteRange& range, std::uint64_t size) {
  using Kind = cortado::RangeResolution::Kind;
  const auto r = cortado::resolve_range(range, size);
  if (r.kind == Kind::partial) {
    FUZZ_CHECK(r.start < r.end);
    FUZZ_CHECK(r.end <= size);
    FUZZ_CHECK(r.end - r.start < size);
    const std::string header = cortado::format_content_range(r.start, r.end, size);
    FUZZ_CHECK(header.starts_with("bytes "));
  }
  if (r.kind == Kind::unsatisfiable) {
    FUZZ_CHECK(!cortado::format_unsatisfied_range(size).empty());
  }
}

void check_rewrite(const cortado::ByteRange& range) {
  if (!range.start || *range.start < 0 || !range.end || *range.end < 1) return;
  std::string header = "bytes=";
  header.append(std::to_string(*range.start)).append("-").append(std::to_string(*range.end - 1));
  FUZZ_CHECK(cortado::parse_range_header(header) == range);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto range = cortado::parse_range_header(input);
  if (!range) return 0;
  constexpr auto kMax = cortado::kMaxRangePosition;
  if (range->start) FUZZ_CHECK(*range->start >= -kMax && *range->start <= kMax);
  if (range->end) FUZZ_CHECK(*range->end >= 0 && *range->end <= kMax + 1);
  for (std::uint64_t resource :
       {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{100}, std::uint64_t{1} << 40,
        std::numeric_limits<std::uint64_t>::max(), static_cast<std::uint64_t>(size)}) {
    check_resolution(*range, resource);
  }
  check_rewrite(*range);
  return 0;
}
