// Cookie and Set-Cookie headers (Tornado's parse_cookie and RequestHandler.set_cookie).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cortado {

struct Cookie {
  std::string name;
  std::string value;
  friend bool operator==(const Cookie&, const Cookie&) = default;
};

inline constexpr std::size_t kDefaultMaxCookies = 256;

// Parses a Cookie request header the lenient way browsers and Tornado do (not RFC 6265):
//  - the header is split on ';', each piece split at its first '=' and both sides stripped of
//    ASCII whitespace; a piece without '=' is a value with an empty name; pieces with neither
//    a name nor a value are skipped;
//  - a value in double quotes is unquoted as Python's http.cookies does: \ooo octal escapes
//    (000-377) become that byte, \x becomes x;
//  - a name given twice keeps the place of its first occurrence and the value of its last
//    (Tornado returns a dict).
// Only the first `max_cookies` non-empty pieces are read; the rest are ignored (a bad or oversized
// Cookie header must not fail a request). O(n log n) in the number of cookies, linear in bytes.
std::vector<Cookie> parse_cookie(std::string_view header,
                                 std::size_t max_cookies = kDefaultMaxCookies);

enum class SameSite { unset, lax, strict, none };

struct CookieOptions {
  std::string domain{};    // omitted if empty
  std::string path = "/";  // omitted if empty (Tornado's default is "/")
  std::optional<std::chrono::system_clock::time_point> expires{};
  std::optional<std::chrono::seconds> max_age{};
  bool secure = false;
  bool httponly = false;
  SameSite samesite = SameSite::unset;
};

// The value of a Set-Cookie header, attributes in the order Python's http.cookies writes them:
//   name=value; Domain=d; expires=Sun, 06 Nov 1994 08:49:37 GMT; HttpOnly; Max-Age=60; Path=/;
//   SameSite=Lax; Secure
// Refuses with std::invalid_argument anything that could end the value early or inject an
// attribute or a header:
//  - name: must be a non-empty token (RFC 9110 5.6.2: no separators, spaces or controls);
//  - value: RFC 6265 cookie-octets, optionally wrapped in one pair of double quotes: no
//    controls, space, '"', ',', ';', '\' or non-ASCII (url_escape such a value first);
//  - domain and path: printable ASCII without ';' (domain also without space and ',').
std::string format_set_cookie(std::string_view name, std::string_view value,
                              const CookieOptions& options = {});

}  // namespace cortado
