// parse_cookie's expected values come from Tornado 6.2's parse_cookie, and format_set_cookie's
// attribute layout from Python 3.11's http.cookies.Morsel.OutputString.
#include <doctest/doctest.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "cortado/httputil/cookies.hpp"

using namespace std::string_literals;
using cortado::Cookie;
using cortado::CookieOptions;
using cortado::format_set_cookie;
using cortado::parse_cookie;
using cortado::SameSite;
using Cookies = std::vector<Cookie>;

TEST_CASE("parse_cookie splits on ';' and strips") {
  CHECK(parse_cookie("a=1; b=2") == Cookies{{"a", "1"}, {"b", "2"}});
  CHECK(parse_cookie(" e = f ;; g=\"h") == Cookies{{"e", "f"}, {"g", "\"h"}});
  CHECK(parse_cookie("k=\"a b\"") == Cookies{{"k", "a b"}});
  CHECK(parse_cookie("a=b=c") == Cookies{{"a", "b=c"}});
  CHECK(parse_cookie("").empty());
  CHECK(parse_cookie(" ; ;; ").empty());
}

TEST_CASE("parse_cookie treats a piece without '=' as a value with no name") {
  CHECK(parse_cookie("c; =d") == Cookies{{"", "d"}});
  CHECK(parse_cookie("lonely") == Cookies{{"", "lonely"}});
}

TEST_CASE("parse_cookie unquotes values as Python's http.cookies") {
  CHECK(parse_cookie(R"(a="x\073y"; b="\"q\"")") == Cookies{{"a", "x;y"}, {"b", "\"q\""}});
  CHECK(parse_cookie(R"(q="\377\400\z")") == Cookies{{"q",
                                                      "\xff"
                                                      "400z"}});
  CHECK(parse_cookie(R"(q="\000")") == Cookies{{"q", "\0"s}});
  CHECK(parse_cookie(R"(q="ends\")") == Cookies{{"q", "ends\\"}});
  CHECK(parse_cookie("q=\"a\\\nb\"") == Cookies{{"q", "a\\\nb"}});
  CHECK(parse_cookie(R"(q=x\073y)") == Cookies{{"q", R"(x\073y)"}});  // not quoted: as is
  CHECK(parse_cookie(R"(q=")") == Cookies{{"q", "\""}});
  CHECK(parse_cookie(R"(q="")") == Cookies{{"q", ""}});
}

TEST_CASE("parse_cookie keeps a repeated name where it first came, with its last value") {
  CHECK(parse_cookie("dup=1; x=2; dup=3") == Cookies{{"dup", "3"}, {"x", "2"}});
  CHECK(parse_cookie("b=1; a=1; b=2; a=2; b=3") == Cookies{{"b", "3"}, {"a", "2"}});
}

TEST_CASE("parse_cookie reads at most max_cookies pieces") {
  std::string header;
  for (int i = 0; i < 1000; ++i) header.append("c").append(std::to_string(i)).append("=v; ");
  const Cookies cookies = parse_cookie(header);
  CHECK(cookies.size() == cortado::kDefaultMaxCookies);
  CHECK(cookies.back() == Cookie{"c255", "v"});
  CHECK(parse_cookie(header, 3).size() == 3);
}

// 100,000 distinct names: finding each earlier one by a scan would be 5 billion comparisons.
TEST_CASE("parse_cookie with 100,000 distinct names stays linear" * doctest::timeout(30)) {
  std::string header;
  for (int i = 0; i < 100000; ++i) header.append("c").append(std::to_string(i)).append("=v;");
  header.append("c0=last");
  const Cookies cookies = parse_cookie(header, 200000);
  REQUIRE(cookies.size() == 100000);
  CHECK(cookies.front() == Cookie{"c0", "last"});
  CHECK(cookies.back() == Cookie{"c99999", "v"});
}

TEST_CASE("parse_cookie on long and degenerate headers" * doctest::timeout(30)) {
  CHECK(parse_cookie(std::string(100000, ';')).empty());
  CHECK(parse_cookie(std::string(100000, '=')) == Cookies{{"", std::string(99999, '=')}});
  std::string same;
  for (int i = 0; i < 100000; ++i) same.append("a=").append(std::to_string(i)).append(";");
  CHECK(parse_cookie(same, 100000) == Cookies{{"a", "99999"}});
  const std::string quoted = "q=\"" + std::string(50000, '\\') + "\"";
  CHECK(parse_cookie(quoted) == Cookies{{"q", std::string(25000, '\\')}});
}

TEST_CASE("format_set_cookie writes attributes in Python's order") {
  CookieOptions options;
  options.domain = "ex.com";
  options.expires = std::chrono::system_clock::time_point{std::chrono::seconds{784111777}};
  options.max_age = std::chrono::seconds{10};
  options.secure = true;
  options.httponly = true;
  options.samesite = SameSite::lax;
  CHECK(format_set_cookie("n", "v", options) ==
        "n=v; Domain=ex.com; expires=Sun, 06 Nov 1994 08:49:37 GMT; HttpOnly; Max-Age=10; "
        "Path=/; SameSite=Lax; Secure");
}

TEST_CASE("format_set_cookie's defaults and omissions") {
  CHECK(format_set_cookie("n", "v") == "n=v; Path=/");
  CHECK(format_set_cookie("n", "", {.path = ""}) == "n=");
  CHECK(format_set_cookie("n", "\"quoted\"") == "n=\"quoted\"; Path=/");
  CHECK(format_set_cookie("sig", "2|1:0|10:1700000000|4:name|8:dmFsdWU=|abc") ==
        "sig=2|1:0|10:1700000000|4:name|8:dmFsdWU=|abc; Path=/");
  CHECK(format_set_cookie("n", "v", {.samesite = SameSite::strict}) ==
        "n=v; Path=/; SameSite=Strict");
  CHECK(format_set_cookie("n", "v", {.secure = true, .samesite = SameSite::none}) ==
        "n=v; Path=/; SameSite=None; Secure");
  CHECK(format_set_cookie("n", "v", {.max_age = std::chrono::seconds{-1}}) ==
        "n=v; Max-Age=-1; Path=/");
}

TEST_CASE("format_set_cookie refuses names that are not tokens") {
  for (std::string_view name : {"", "a b", "a;b", "a=b", "a,b", "a\"b", "a\r\nb", "a\tb", "(a)",
                                "a/b", "a@b", "\xc3\xa9"}) {
    CAPTURE(name);
    CHECK_THROWS_AS(format_set_cookie(name, "v"), std::invalid_argument);
  }
}

TEST_CASE("format_set_cookie refuses values that could inject attributes") {
  for (std::string_view value : {"a;b", "a b", "a\r\nSet-Cookie: x=y", "a\nb", "a\rb", "a,b",
                                 "a\\b", "a\"b", "\"a", "a\x7f", "\xc3\xa9", "a\tb"}) {
    CAPTURE(value);
    CHECK_THROWS_AS(format_set_cookie("n", value), std::invalid_argument);
  }
  CHECK_THROWS_AS(format_set_cookie("n", "a\0b"s), std::invalid_argument);
}

TEST_CASE("format_set_cookie refuses domains and paths that could inject attributes") {
  CHECK_THROWS_AS(format_set_cookie("n", "v", {.domain = "a.com; Secure"}), std::invalid_argument);
  CHECK_THROWS_AS(format_set_cookie("n", "v", {.domain = "a.com\r\n"}), std::invalid_argument);
  CHECK_THROWS_AS(format_set_cookie("n", "v", {.path = "/;HttpOnly"}), std::invalid_argument);
  CHECK_THROWS_AS(format_set_cookie("n", "v", {.path = "/\n"}), std::invalid_argument);
  CHECK_THROWS_AS(format_set_cookie("n", "v", {.path = "/\xc3\xa9"}), std::invalid_argument);
  CHECK(format_set_cookie("n", "v", {.domain = ".a-b.com", .path = "/a b/c"}) ==
        "n=v; Domain=.a-b.com; Path=/a b/c");
}

TEST_CASE("a formatted cookie parses back to its name and value") {
  const std::string header = format_set_cookie("session", "abc|123=", {.httponly = true});
  const std::string pair = header.substr(0, header.find(';'));
  CHECK(parse_cookie(pair) == Cookies{{"session", "abc|123="}});
}
