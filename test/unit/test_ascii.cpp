// The byte classes the parsers and the response-head checks rely on, byte by byte against the
// RFCs' definitions.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "../../lib/src/ascii.hpp"

namespace {

// RFC 9110 5.6.2, spelled out as the grammar does.
bool reference_tchar(unsigned char c) {
  const std::string_view specials = "!#$%&'*+-.^_`|~";
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c != 0 && specials.find(static_cast<char>(c)) != std::string_view::npos);
}

}  // namespace

TEST_CASE("is_tchar is RFC 9110's tchar, for every byte") {
  int tchars = 0;
  for (int c = 0; c < 256; ++c) {
    CAPTURE(c);
    CHECK(cortado::detail::is_tchar(static_cast<char>(c)) == reference_tchar(c));
    tchars += reference_tchar(c);
  }
  CHECK(tchars == 10 + 26 + 26 + 15);
}

TEST_CASE("is_token: one or more tchars") {
  using cortado::detail::is_token;
  CHECK(is_token("Content-Length"));
  CHECK(is_token("X-Custom_Header.1~"));
  CHECK_FALSE(is_token(""));
  CHECK_FALSE(is_token("Bad Name"));
  CHECK_FALSE(is_token("Name:"));
  CHECK_FALSE(is_token(std::string("Na\0me", 5)));
  CHECK_FALSE(is_token("caf\xc3\xa9"));
  for (int c = 0; c < 256; ++c) {
    const std::string s = "ab" + std::string(1, static_cast<char>(c)) + "cd";
    CAPTURE(c);
    CHECK(is_token(s) == reference_tchar(c));
  }
}

TEST_CASE("has_line_break: CR, LF or NUL anywhere, nothing else") {
  using cortado::detail::has_line_break;
  CHECK_FALSE(has_line_break(""));
  CHECK_FALSE(has_line_break("text/html; charset=UTF-8"));
  CHECK_FALSE(has_line_break("tab\there \x7f \xff"));
  CHECK(has_line_break("a\r\nInjected: yes"));
  CHECK(has_line_break("\n"));
  CHECK(has_line_break(std::string("nul\0", 4)));
  // Every byte at every position of strings long enough for the eight-byte path and its tail.
  for (std::size_t size : {1, 7, 8, 9, 16, 23}) {
    for (std::size_t at = 0; at < size; ++at) {
      for (int c = 0; c < 256; ++c) {
        std::string s(size, 'v');
        s[at] = static_cast<char>(c);
        CAPTURE(size);
        CAPTURE(at);
        CAPTURE(c);
        REQUIRE(has_line_break(s) == (c == '\r' || c == '\n' || c == 0));
      }
    }
  }
  CHECK_FALSE(has_line_break(
      "\t\t\t\t\t\t\t\t\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f"));  // controls, none a break
}
