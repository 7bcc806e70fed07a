// Set-Cookie header values. Everything that goes in is checked, because a cookie value often
// carries user-influenced data and one stray ';' or CRLF would let it add attributes or headers.
#include <algorithm>
#include <stdexcept>

#include "../ascii.hpp"
#include "cortado/httputil/cookies.hpp"
#include "cortado/httputil/dates.hpp"

namespace cortado {

namespace {

[[noreturn]] void refuse(std::string_view what) {
  std::string message = "format_set_cookie: ";
  message.append(what);
  throw std::invalid_argument(message);
}

// cookie-octet of RFC 6265 4.1.1.
constexpr bool is_cookie_octet(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u == 0x21 || (u >= 0x23 && u <= 0x2B) || (u >= 0x2D && u <= 0x3A) ||
         (u >= 0x3C && u <= 0x5B) || (u >= 0x5D && u <= 0x7E);
}

bool is_valid_value(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return std::all_of(v.begin(), v.end(), is_cookie_octet);
}

// path-value of RFC 6265: any CHAR except CTLs or ';'.
bool is_valid_path(std::string_view v) {
  return std::all_of(v.begin(), v.end(), [](char c) {
    return !detail::is_ctl(c) && c != ';' && static_cast<unsigned char>(c) < 0x80;
  });
}

bool is_valid_domain(std::string_view v) {
  return std::all_of(v.begin(), v.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && c != ';' && c != ',';
  });
}

std::string_view samesite_name(SameSite s) {
  switch (s) {
    case SameSite::lax:
      return "Lax";
    case SameSite::strict:
      return "Strict";
    case SameSite::none:
      return "None";
    case SameSite::unset:
      break;
  }
  return {};
}

void check(std::string_view name, std::string_view value, const CookieOptions& options) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), detail::is_tchar)) {
    refuse("cookie name must be a non-empty token");
  }
  if (!is_valid_value(value)) refuse("cookie value holds a character not allowed in cookies");
  if (!is_valid_domain(options.domain)) refuse("cookie domain holds a forbidden character");
  if (!is_valid_path(options.path)) refuse("cookie path holds a forbidden character");
}

}  // namespace

std::string format_set_cookie(std::string_view name, std::string_view value,
                              const CookieOptions& options) {
  check(name, value, options);
  std::string out;
  out.reserve(name.size() + value.size() + options.domain.size() + options.path.size() + 96);
  out.append(name).append("=").append(value);
  if (!options.domain.empty()) out.append("; Domain=").append(options.domain);
  if (options.expires) {
    char date[kHttpDateSize];
    format_http_date(*options.expires, date);
    out.append("; expires=").append(date, sizeof date);
  }
  if (options.httponly) out.append("; HttpOnly");
  if (options.max_age) out.append("; Max-Age=").append(std::to_string(options.max_age->count()));
  if (!options.path.empty()) out.append("; Path=").append(options.path);
  if (options.samesite != SameSite::unset) {
    out.append("; SameSite=").append(samesite_name(options.samesite));
  }
  if (options.secure) out.append("; Secure");
  return out;
}

}  // namespace cortado
