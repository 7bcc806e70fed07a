// ASCII character classes and comparisons shared by the byte parsers. Locale-free on purpose:
// <cctype> depends on the C locale and on signedness of char, neither of which HTTP cares about.
#pragma once

#include <cstddef>
#include <string_view>

namespace cortado::detail {

constexpr bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
constexpr bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr char to_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? char(c + 32) : c;
}

// -1 if `c` is not a hex digit.
constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Optional whitespace of HTTP fields (RFC 9110 5.6.3).
constexpr bool is_ows(char c) noexcept {
  return c == ' ' || c == '\t';
}

// Control characters (RFC 5234 CTL): what may never appear in a field value we emit.
constexpr bool is_ctl(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// tchar of RFC 9110 5.6.2: what a token (method, header name, cookie name) is made of.
constexpr bool is_tchar(char c) noexcept {
  if (is_digit(c) || is_alpha(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// A token: one or more tchars (header names, methods).
constexpr bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

// Whether `s` holds CR, LF or NUL: what would let emitted header text end its line early
// (response splitting). A plain loop: find_first_of calls memchr once per byte.
constexpr bool has_line_break(std::string_view s) noexcept {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
}

constexpr bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

constexpr std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// What Python's str.strip() removes from ASCII text, so that parsers mirroring Tornado strip
// exactly the same bytes (\t \n \v \f \r, \x1c-\x1f and space).
constexpr bool is_python_space(char c) noexcept {
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f');
}

constexpr std::string_view trim_python(std::string_view s) noexcept {
  while (!s.empty() && is_python_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_python_space(s.back())) s.remove_suffix(1);
  return s;
}

// Removes from `rest` and returns the text before the next `separator` (all of `rest` if there
// is none); the separator itself is dropped. A plain loop, where find() + substr() trips a
// g++ 12 -Wstringop-overread false positive.
constexpr std::string_view split_off(std::string_view& rest, char separator) noexcept {
  std::size_t i = 0;
  while (i < rest.size() && rest[i] != separator) ++i;
  const std::string_view piece = rest.substr(0, i);
  rest = i < rest.size() ? rest.substr(i + 1) : std::string_view{};
  return piece;
}

}  // namespace cortado::detail
