// The HTTP client's URL splitter and redirect resolution (RFC 3986, section 5.4's examples).
#include <doctest/doctest.h>

#include <string>

#include "cortado/httpclient/url.hpp"

using cortado::InvalidURLError;
using cortado::parse_url;
using cortado::resolve_url;
using cortado::URL;

TEST_CASE("parse_url splits scheme, host, port and target") {
  const URL u = parse_url("HTTP://Example.COM:8080/a/b?x=1&y=2#frag");
  CHECK(u.scheme == "http");
  CHECK(u.host == "example.com");
  CHECK(u.port == 8080);
  CHECK(u.target == "/a/b?x=1&y=2");
  CHECK(u.authority() == "example.com:8080");
  CHECK(u.str() == "http://example.com:8080/a/b?x=1&y=2");

  CHECK(parse_url("https://example.com").port == 443);
  CHECK(parse_url("https://example.com").target == "/");
  CHECK(parse_url("https://example.com:443/").authority() == "example.com");
  CHECK(parse_url("http://example.com?q").target == "/?q");
  CHECK(parse_url("http://10.0.0.1:81/").host == "10.0.0.1");
}

TEST_CASE("parse_url takes bracketed IPv6 literals") {
  const URL u = parse_url("http://[::1]:8888/x");
  CHECK(u.host == "::1");
  CHECK(u.port == 8888);
  CHECK(u.is_ipv6_literal());
  CHECK(u.authority() == "[::1]:8888");
  CHECK(parse_url("https://[2001:DB8::1]/").host == "2001:db8::1");
  CHECK(parse_url("https://[2001:db8::1]/").authority() == "[2001:db8::1]");
}

TEST_CASE("parse_url refuses what it does not handle") {
  for (const char* bad : {
           "ftp://example.com/",        // scheme
           "example.com/path",          // not absolute
           "/path",                     // not absolute
           "http:example.com",          // no authority
           "http://",                   // empty host
           "http://:80/",               // empty host
           "http://user:pw@host/",      // user info
           "http://host:0/",            // port 0
           "http://host:65536/",        // port too large
           "http://host:/",             // empty port
           "http://host:8a/",           // not a number
           "http://ho st/",             // space in host
           "http://host%41/",           // percent in host
           "http://[::1/",              // unclosed bracket
           "http://[fe80::1%25eth0]/",  // zone id
           "http://[not:an:address]/",  // not IPv6
           "http://host/a b",           // space in path
           "http://host/a\r\nX: y",     // CRLF in path
           "http://host/caf\xc3\xa9",   // raw non-ASCII
           "http://host/a\\b",          // backslash
       }) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_url(bad), InvalidURLError);
  }
}

TEST_CASE("resolve_url follows RFC 3986's reference resolution") {
  const URL base = parse_url("http://a/b/c/d;p?q");
  const auto resolved = [&](const char* ref) { return resolve_url(base, ref).str(); };
  CHECK(resolved("g") == "http://a/b/c/g");
  CHECK(resolved("./g") == "http://a/b/c/g");
  CHECK(resolved("g/") == "http://a/b/c/g/");
  CHECK(resolved("/g") == "http://a/g");
  CHECK(resolved("//g") == "http://g/");
  CHECK(resolved("?y") == "http://a/b/c/d;p?y");
  CHECK(resolved("g?y") == "http://a/b/c/g?y");
  CHECK(resolved("#s") == "http://a/b/c/d;p?q");
  CHECK(resolved("g#s") == "http://a/b/c/g");
  CHECK(resolved("") == "http://a/b/c/d;p?q");
  CHECK(resolved(".") == "http://a/b/c/");
  CHECK(resolved("./") == "http://a/b/c/");
  CHECK(resolved("..") == "http://a/b/");
  CHECK(resolved("../") == "http://a/b/");
  CHECK(resolved("../g") == "http://a/b/g");
  CHECK(resolved("../..") == "http://a/");
  CHECK(resolved("../../g") == "http://a/g");
  CHECK(resolved("../../../g") == "http://a/g");
  CHECK(resolved("/./g") == "http://a/g");
  CHECK(resolved("/../g") == "http://a/g");
  CHECK(resolved("g.") == "http://a/b/c/g.");
  CHECK(resolved("..g") == "http://a/b/c/..g");
  CHECK(resolved("./g/.") == "http://a/b/c/g/");
  CHECK(resolved("g/../h") == "http://a/b/c/h");
  CHECK(resolved("g;x=1/../y") == "http://a/b/c/y");
  CHECK(resolved("https://other:8443/x") == "https://other:8443/x");
  CHECK(resolve_url(parse_url("https://a:8443/x"), "//b/y").str() == "https://b/y");
}

TEST_CASE("resolve_url refuses references parse_url would refuse") {
  const URL base = parse_url("http://a/b");
  CHECK_THROWS_AS(resolve_url(base, "javascript:alert(1)"), InvalidURLError);
  CHECK_THROWS_AS(resolve_url(base, "ftp://a/"), InvalidURLError);
  CHECK_THROWS_AS(resolve_url(base, "/a b"), InvalidURLError);
  CHECK_THROWS_AS(resolve_url(base, "//user@evil/"), InvalidURLError);
}

TEST_CASE("same_origin compares scheme, host and port") {
  const URL a = parse_url("http://a:80/x");
  CHECK(a.same_origin(parse_url("http://A/y")));
  CHECK_FALSE(a.same_origin(parse_url("https://a/")));
  CHECK_FALSE(a.same_origin(parse_url("http://a:81/")));
  CHECK_FALSE(a.same_origin(parse_url("http://b/")));
}
