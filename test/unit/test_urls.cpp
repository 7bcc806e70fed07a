// Expected values come from Python 3.11's urllib.parse.parse_qs (what Tornado's parse_qs_bytes
// wraps) for the same inputs.
#include <doctest/doctest.h>

#include <string>

#include "cortado/httputil/errors.hpp"
#include "cortado/httputil/urls.hpp"

using cortado::Arguments;
using cortado::parse_query;
using Values = std::vector<std::string>;

TEST_CASE("parse_query splits on '&' only and decodes names and values") {
  Arguments args;
  parse_query("a=1&a=2&b=&c&&d=x+y%20z;e=3&=v&f=%zz", args);
  CHECK(args == Arguments{{"a", {"1", "2"}},
                          {"b", {""}},
                          {"c", {""}},
                          {"d", {"x y z;e=3"}},
                          {"", {"v"}},
                          {"f", {"%zz"}}});
}

TEST_CASE("parse_query drops blank values unless asked to keep them") {
  Arguments args;
  parse_query("a=1&a=2&b=&c&&d=x+y%20z;e=3&=v", args, /*keep_blank_values=*/false);
  CHECK(args == Arguments{{"a", {"1", "2"}}, {"d", {"x y z;e=3"}}, {"", {"v"}}});
}

TEST_CASE("parse_query appends to arguments already present") {
  Arguments args{{"a", {"0"}}};
  parse_query("a=1&b%5B%5D=2", args);
  CHECK(args == Arguments{{"a", {"0", "1"}}, {"b[]", {"2"}}});
}

TEST_CASE("parse_query keeps bytes as they are: no charset is applied") {
  Arguments args;
  parse_query("n=%C3%A9%FF&%00=x", args);
  CHECK(args.at("n") == Values{"\xc3\xa9\xff"});
  CHECK(args.at(std::string(1, '\0')) == Values{"x"});
}

TEST_CASE("parse_query only splits a field at its first '='") {
  Arguments args;
  parse_query("a==b=c", args);
  CHECK(args == Arguments{{"a", {"=b=c"}}});
}

TEST_CASE("parse_query of nothing adds nothing") {
  Arguments args;
  parse_query("", args);
  parse_query("&&&", args);
  CHECK(args.empty());
}

TEST_CASE("parse_query refuses more than max_fields fields and leaves the output alone") {
  Arguments args{{"keep", {"me"}}};
  CHECK_THROWS_AS(parse_query("a=1&b=2&c=3", args, true, 2), cortado::HTTPInputError);
  CHECK(args == Arguments{{"keep", {"me"}}});
  parse_query("a=1&b=2&&", args, true, 2);  // empty fields do not count
  CHECK(args.size() == 3);
}

TEST_CASE("parse_query's default limit is 1000 fields") {
  std::string qs;
  for (int i = 0; i < 1000; ++i) qs.append("k=v&");
  Arguments args;
  parse_query(qs, args);
  CHECK(args.at("k").size() == 1000);
  qs.append("k=v");
  Arguments more;
  CHECK_THROWS_WITH_AS(parse_query(qs, more),
                       "too many fields in query string or form body (1001, limit 1000)",
                       cortado::HTTPInputError);
}

TEST_CASE("parse_query handles 100k separators and one huge field") {
  Arguments args;
  parse_query(std::string(100000, '&'), args);
  CHECK(args.empty());
  std::string big = "x=";
  big.append(300000, '+');
  parse_query(big, args);
  CHECK(args.at("x") == Values{std::string(300000, ' ')});
  Arguments many;
  std::string names;
  for (int i = 0; i < 100000; ++i) names.append("%41&");
  CHECK_THROWS_AS(parse_query(names, many), cortado::HTTPInputError);
  parse_query(names, many, true, 100000);
  CHECK(many.at("A").size() == 100000);
}
