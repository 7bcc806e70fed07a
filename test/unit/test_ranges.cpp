// parse_range_header's expected values come from Tornado 6.2's _parse_request_range, and
// resolve_range's from the decisions of its StaticFileHandler.get.
#include <doctest/doctest.h>

#include <limits>
#include <stdexcept>
#include <string>

#include "cortado/httputil/ranges.hpp"

using cortado::ByteRange;
using cortado::kMaxRangePosition;
using cortado::parse_range_header;
using cortado::RangeResolution;
using cortado::resolve_range;
using Kind = RangeResolution::Kind;
using std::nullopt;

TEST_CASE("parse_range_header returns Tornado's slice indices") {
  CHECK(parse_range_header("bytes=0-99") == ByteRange{0, 100});
  CHECK(parse_range_header("bytes=-500") == ByteRange{-500, nullopt});
  CHECK(parse_range_header("bytes=500-") == ByteRange{500, nullopt});
  CHECK(parse_range_header("bytes=0-0") == ByteRange{0, 1});
  CHECK(parse_range_header("bytes=-0") == ByteRange{nullopt, 0});
  CHECK(parse_range_header("bytes=") == ByteRange{nullopt, nullopt});
  CHECK(parse_range_header("bytes=-") == ByteRange{nullopt, nullopt});
  CHECK(parse_range_header("bytes=5") == ByteRange{5, nullopt});
  CHECK(parse_range_header(" bytes = 1 - 2 ") == ByteRange{1, 3});
  CHECK(parse_range_header("bytes=10-5") == ByteRange{10, 6});
}

TEST_CASE("parse_range_header ignores what it cannot serve") {
  CHECK(parse_range_header("foo=1-2") == nullopt);
  CHECK(parse_range_header("bytes=1-2,4-5") == nullopt);  // one range only, as Tornado
  CHECK(parse_range_header("bytes=a-b") == nullopt);
  CHECK(parse_range_header("bytes=1-2-3") == nullopt);
  CHECK(parse_range_header("bytes") == nullopt);
  CHECK(parse_range_header("") == nullopt);
  CHECK(parse_range_header("bytes=+1-2") == nullopt);  // Python's int() would take the sign
  CHECK(parse_range_header("bytes=--5") == nullopt);
}

TEST_CASE("parse_range_header reads the unit case-insensitively (RFC 9110 14.1)") {
  CHECK(parse_range_header("BYTES=1-2") == ByteRange{1, 3});  // Tornado: ignored
}

TEST_CASE("parse_range_header saturates huge positions instead of overflowing") {
  CHECK(parse_range_header("bytes=0-99999999999999999999999999") ==
        ByteRange{0, kMaxRangePosition + 1});
  CHECK(parse_range_header("bytes=99999999999999999999999999-") ==
        ByteRange{kMaxRangePosition, nullopt});
  CHECK(parse_range_header("bytes=-99999999999999999999999999") ==
        ByteRange{-kMaxRangePosition, nullopt});
  CHECK(parse_range_header("bytes=9223372036854775807-9223372036854775808") ==
        ByteRange{kMaxRangePosition, kMaxRangePosition + 1});
  std::string long_number = "bytes=";
  long_number.append(100000, '9').append("-");
  CHECK(parse_range_header(long_number) == ByteRange{kMaxRangePosition, nullopt});
}

TEST_CASE("resolve_range decides 200, 206 or 416 as StaticFileHandler does") {
  const auto resolve = [](std::string_view header, std::uint64_t size) {
    return resolve_range(*parse_range_header(header), size);
  };
  CHECK(resolve("bytes=0-99", 1000) == RangeResolution{Kind::partial, 0, 100});
  CHECK(resolve("bytes=990-", 1000) == RangeResolution{Kind::partial, 990, 1000});
  CHECK(resolve("bytes=-10", 1000) == RangeResolution{Kind::partial, 990, 1000});
  CHECK(resolve("bytes=1-", 1000) == RangeResolution{Kind::partial, 1, 1000});
  CHECK(resolve("bytes=0-", 1000) == RangeResolution{Kind::full});  // not 206 (Chrome audio)
  CHECK(resolve("bytes=0-999", 1000) == RangeResolution{Kind::full});
  CHECK(resolve("bytes=", 1000) == RangeResolution{Kind::full});
  // An end past the resource is capped; a suffix longer than it is the whole resource.
  CHECK(resolve("bytes=5-5000", 1000) == RangeResolution{Kind::partial, 5, 1000});
  CHECK(resolve("bytes=0-5000", 1000) == RangeResolution{Kind::full});
  CHECK(resolve("bytes=-5000", 1000) == RangeResolution{Kind::full});
  CHECK(resolve("bytes=0-99999999999999999999", 1000) == RangeResolution{Kind::full});
  CHECK(resolve("bytes=-99999999999999999999", 1000) == RangeResolution{Kind::full});
}

TEST_CASE("resolve_range refuses ranges that select nothing with 416") {
  const auto resolve = [](std::string_view header, std::uint64_t size) {
    return resolve_range(*parse_range_header(header), size).kind;
  };
  CHECK(resolve("bytes=1000-", 1000) == Kind::unsatisfiable);
  CHECK(resolve("bytes=1000-2000", 1000) == Kind::unsatisfiable);
  CHECK(resolve("bytes=99999999999999999999-", 1000) == Kind::unsatisfiable);
  CHECK(resolve("bytes=-0", 1000) == Kind::unsatisfiable);
  CHECK(resolve("bytes=10-5", 1000) == Kind::unsatisfiable);
  CHECK(resolve("bytes=0-", 0) == Kind::unsatisfiable);
  CHECK(resolve("bytes=-5", 0) == Kind::unsatisfiable);
  CHECK(resolve("bytes=", 0) == Kind::full);
}

TEST_CASE("resolve_range never overflows on extreme hand-built ranges") {
  constexpr auto min = std::numeric_limits<std::int64_t>::min();
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  CHECK(resolve_range({min, nullopt}, 10) == RangeResolution{Kind::full});
  CHECK(resolve_range({0, max}, 10) == RangeResolution{Kind::full});
  CHECK(resolve_range({nullopt, 5}, 10) == RangeResolution{Kind::partial, 0, 5});
  CHECK(resolve_range({max, nullopt}, std::numeric_limits<std::uint64_t>::max()) ==
        RangeResolution{Kind::partial, static_cast<std::uint64_t>(max),
                        std::numeric_limits<std::uint64_t>::max()});
}

TEST_CASE("format_content_range writes inclusive positions as Tornado's _get_content_range") {
  CHECK(cortado::format_content_range(0, 100, 1000) == "bytes 0-99/1000");
  CHECK(cortado::format_content_range(990, 1000, 1000) == "bytes 990-999/1000");
  CHECK(cortado::format_content_range(0, 1, 1) == "bytes 0-0/1");
  CHECK(cortado::format_unsatisfied_range(1000) == "bytes */1000");
  CHECK_THROWS_AS(cortado::format_content_range(5, 5, 10), std::invalid_argument);
  CHECK_THROWS_AS(cortado::format_content_range(0, 11, 10), std::invalid_argument);
}
