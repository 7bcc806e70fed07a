// Expected strings come from Tornado 6.2's format_timestamp for the same Unix times.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "cortado/httputil/dates.hpp"

using namespace std::chrono;
using cortado::format_http_date;
using cortado::parse_http_date;

namespace {

system_clock::time_point at(std::int64_t unix_seconds) {
  return system_clock::time_point{seconds{unix_seconds}};
}

// 2024-06-01: the reference "now" for two-digit years.
const system_clock::time_point kNow = at(1717200000);

}  // namespace

TEST_CASE("format_http_date writes IMF-fixdate") {
  CHECK(format_http_date(at(0)) == "Thu, 01 Jan 1970 00:00:00 GMT");
  CHECK(format_http_date(at(784111777)) == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(format_http_date(at(1359312200)) == "Sun, 27 Jan 2013 18:43:20 GMT");
  CHECK(format_http_date(at(951782400)) == "Tue, 29 Feb 2000 00:00:00 GMT");
  CHECK(format_http_date(at(2147483648)) == "Tue, 19 Jan 2038 03:14:08 GMT");
  CHECK(format_http_date(at(-1)) == "Wed, 31 Dec 1969 23:59:59 GMT");
}

TEST_CASE("format_http_date drops fractions of a second, rounding down") {
  CHECK(format_http_date(at(784111777) + milliseconds(999)) == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(format_http_date(at(0) - milliseconds(1)) == "Wed, 31 Dec 1969 23:59:59 GMT");
}

TEST_CASE("format_http_date into a buffer writes exactly 29 bytes") {
  struct {
    char date[cortado::kHttpDateSize];
    char guard = '#';
  } buffer;
  format_http_date(at(784111777), buffer.date);
  CHECK(std::string_view(buffer.date, sizeof buffer.date) == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(buffer.guard == '#');
}

TEST_CASE("format_http_date covers system_clock's whole range") {
  CHECK(format_http_date(system_clock::time_point::max()).size() == 29);
  CHECK(format_http_date(system_clock::time_point::min()).size() == 29);
  CHECK(format_http_date(system_clock::time_point::max()).ends_with(" 2262 23:47:16 GMT"));
}

TEST_CASE("parse_http_date reads the three formats of RFC 9110") {
  CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == at(784111777));
  CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", kNow) == at(784111777));
  CHECK(parse_http_date("Sun Nov  6 08:49:37 1994") == at(784111777));
  CHECK(parse_http_date("Sun Nov 16 08:49:37 1994") == at(784111777 + 10 * 86400));
  CHECK(parse_http_date("Thu, 29 Feb 2024 23:59:59 GMT") == at(1709251199));
  CHECK(parse_http_date("  Sat, 01 Jan 2000 00:00:00 GMT\t") == at(946684800));
  CHECK(parse_http_date("Wed, 31 Dec 1969 23:59:59 GMT") == at(-1));
}

TEST_CASE("parse_http_date places two-digit years within 50 years of now") {
  CHECK(parse_http_date("Saturday, 01-Jan-00 00:00:00 GMT", kNow) == at(946684800));
  CHECK(parse_http_date("Wednesday, 01-Jan-70 00:00:00 GMT", kNow) == at(3155760000));
  CHECK(parse_http_date("Friday, 01-Jan-99 00:00:00 GMT", kNow) == at(915148800));
  // 2074 is exactly 50 years after 2024 and stays; 2075 would be too far and becomes 1975.
  CHECK(parse_http_date("Monday, 01-Jan-74 00:00:00 GMT", kNow) == at(3281990400));
  CHECK(parse_http_date("Wednesday, 01-Jan-75 00:00:00 GMT", kNow) == at(157766400));
}

TEST_CASE("parse_http_date accepts a leap second") {
  CHECK(parse_http_date("Sat, 31 Dec 2016 23:59:60 GMT") == at(1483228800));
}

TEST_CASE("parse_http_date saturates dates beyond system_clock") {
  const auto never = parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT");
  REQUIRE(never);
  CHECK(*never == floor<seconds>(system_clock::time_point::max()));
  const auto ancient = parse_http_date("Mon, 01 Jan 0001 00:00:00 GMT");
  REQUIRE(ancient);
  CHECK(*ancient == ceil<seconds>(system_clock::time_point::min()));
}

TEST_CASE("parse_http_date refuses anything else") {
  CHECK_FALSE(parse_http_date(""));
  CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37"));      // no zone
  CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"));  // not GMT
  CHECK_FALSE(parse_http_date("sun, 06 nov 1994 08:49:37 GMT"));  // case-sensitive
  CHECK_FALSE(parse_http_date("Sun, 6 Nov 1994 08:49:37 GMT"));   // day needs two digits
  CHECK_FALSE(parse_http_date("Sun, 06 Nov 94 08:49:37 GMT"));    // year needs four
  CHECK_FALSE(parse_http_date("Xyz, 06 Nov 1994 08:49:37 GMT"));  // not a day name
  CHECK_FALSE(parse_http_date("Sun, 30 Feb 1994 08:49:37 GMT"));  // no such date
  CHECK_FALSE(parse_http_date("Sun, 29 Feb 1900 08:49:37 GMT"));  // not a leap year
  CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 24:00:00 GMT"));
  CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 08:60:00 GMT"));
  CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:61 GMT"));
  CHECK_FALSE(parse_http_date("Sun, 00 Nov 1994 08:49:37 GMT"));
  CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT extra"));
  CHECK_FALSE(parse_http_date("Sun, 06-Nov-94 08:49:37 GMT", kNow));  // RFC 850 wants "Sunday"
  CHECK_FALSE(parse_http_date("Sun Nov 6 08:49:37 1994"));            // asctime pads the day
  CHECK_FALSE(parse_http_date("Sun Nov 06 08:49:37 1994 GMT"));
  CHECK_FALSE(parse_http_date("1994-11-06T08:49:37Z"));
}

TEST_CASE("parse_http_date inverts format_http_date") {
  for (std::int64_t t : {0LL, 1LL, 784111777LL, 951782400LL, 4102444799LL, -2208988800LL}) {
    CHECK(parse_http_date(format_http_date(at(t))) == at(t));
  }
}
