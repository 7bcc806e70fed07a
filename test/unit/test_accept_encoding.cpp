#include <doctest/doctest.h>

#include <string>

#include "cortado/httputil/accept_encoding.hpp"

using cortado::accept_encoding_weight;
using cortado::accepts_gzip;

TEST_CASE("accepts_gzip for the headers browsers send") {
  CHECK(accepts_gzip("gzip"));
  CHECK(accepts_gzip("gzip, deflate, br"));
  CHECK(accepts_gzip("deflate, gzip;q=1.0, *;q=0.5"));
  CHECK(accepts_gzip("br;q=1.0, gzip;q=0.8, *;q=0.1"));
}

TEST_CASE("accepts_gzip honors q=0") {
  CHECK_FALSE(accepts_gzip("gzip;q=0"));
  CHECK_FALSE(accepts_gzip("gzip; q=0.000"));
  CHECK_FALSE(accepts_gzip("deflate, gzip;q=0"));
  CHECK_FALSE(accepts_gzip("*;q=0"));
  CHECK_FALSE(accepts_gzip("gzip;q=0, *"));  // the explicit entry wins over the wildcard
  CHECK(accepts_gzip("gzip;q=0.001"));
}

TEST_CASE("accepts_gzip uses the wildcard when gzip is not named") {
  CHECK(accepts_gzip("*"));
  CHECK(accepts_gzip("br, *;q=0.1"));
  CHECK_FALSE(accepts_gzip("br, *;q=0"));
}

TEST_CASE("accepts_gzip is case-insensitive and tolerant of whitespace") {
  CHECK(accepts_gzip("GZIP"));
  CHECK(accepts_gzip("  deflate ,\tGzip ; Q=0.5 "));
  CHECK_FALSE(accepts_gzip("gzip ;Q=0"));
  CHECK(accepts_gzip("x-gzip"));
}

TEST_CASE("accepts_gzip refuses without an acceptable mention") {
  CHECK_FALSE(accepts_gzip(""));
  CHECK_FALSE(accepts_gzip("identity"));
  CHECK_FALSE(accepts_gzip("deflate, br"));
  CHECK_FALSE(accepts_gzip("gzipx, xgzip, gzip-ish"));  // Tornado's substring test says yes
  CHECK_FALSE(accepts_gzip(",,,"));
}

TEST_CASE("an element with a malformed q-value is ignored") {
  CHECK_FALSE(accepts_gzip("gzip;q=abc"));
  CHECK_FALSE(accepts_gzip("gzip;q=1.5"));
  CHECK_FALSE(accepts_gzip("gzip;q=0.0001"));
  CHECK_FALSE(accepts_gzip("gzip;q="));
  CHECK(accepts_gzip("gzip;q=2, *"));  // the bad element is skipped, the wildcard answers
}

TEST_CASE("accept_encoding_weight takes the highest q of the elements naming the coding") {
  CHECK(accept_encoding_weight("gzip", "gzip") == 1000);
  CHECK(accept_encoding_weight("gzip;q=0.5", "gzip") == 500);
  CHECK(accept_encoding_weight("gzip;q=0.125", "gzip") == 125);
  CHECK(accept_encoding_weight("gzip;q=0.2, gzip;q=0.7", "gzip") == 700);
  CHECK(accept_encoding_weight("br;q=0.3, gzip", "br") == 300);
  CHECK(accept_encoding_weight("gzip;level=9;q=0.4", "gzip") == 400);
  CHECK(accept_encoding_weight("*;q=0.3", "zstd") == 300);
  CHECK(accept_encoding_weight("x-gzip", "br") == 0);
}

TEST_CASE("accepts_gzip on a long header with many elements") {
  std::string header;
  for (int i = 0; i < 20000; ++i) header.append("br;q=0.5,");
  CHECK_FALSE(accepts_gzip(header));
  header.append(" gzip;q=0.1");
  CHECK(accepts_gzip(header));
  CHECK_FALSE(accepts_gzip(std::string(100000, ';')));
  CHECK_FALSE(accepts_gzip(std::string(100000, ',')));
}
