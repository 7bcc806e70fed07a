// HTML/XML escaping (Tornado's xhtml_escape and xhtml_unescape).
#include <cstdint>

#include "../ascii.hpp"
#include "cortado/escape.hpp"
#include "html_entities.hpp"
#include "utf8.hpp"

namespace cortado {

namespace {

constexpr std::string_view replacement(char c) noexcept {
  switch (c) {
    case '&':
      return "&amp;";
    case '<':
      return "&lt;";
    case '>':
      return "&gt;";
    case '"':
      return "&quot;";
    case '\'':
      return "&#39;";
    default:
      return {};
  }
}

// Python's \w on ASCII: what the reference regex &(#?)(\w+?); accepts as a name.
constexpr bool is_word(char c) noexcept {
  return detail::is_alpha(c) || detail::is_digit(c) || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// The code point of "#65" / "#x41" style references, or nullopt-like kInvalidUtf8 when the
// digits are not a number or not a Unicode scalar value (those references stay as written).
char32_t numeric_reference(std::string_view digits) noexcept {
  int base = 10;
  if (!digits.empty() && detail::to_lower(digits.front()) == 'x') {
    base = 16;
    digits.remove_prefix(1);
  }
  if (digits.empty()) return detail::kInvalidUtf8;
  std::uint64_t value = 0;
  for (char c : digits) {
    const int d = base == 16 ? detail::hex_value(c) : (detail::is_digit(c) ? c - '0' : -1);
    if (d < 0) return detail::kInvalidUtf8;
    value = value * static_cast<unsigned>(base) + static_cast<unsigned>(d);
    if (value > 0x10FFFF) return detail::kInvalidUtf8;  // also keeps the sum from overflowing
  }
  if (!detail::is_scalar_value(value)) return detail::kInvalidUtf8;
  return static_cast<char32_t>(value);
}

// Decodes the reference whose body (between '&' and ';') is `body`; false if it stays as is.
bool append_reference(std::string_view body, std::string& out) {
  char32_t cp;
  if (body.front() == '#') {
    cp = numeric_reference(body.substr(1));
    if (cp == detail::kInvalidUtf8) return false;
  } else {
    cp = detail::html_entity(body);
    if (cp == 0) return false;
  }
  detail::append_utf8(out, cp);
  return true;
}

}  // namespace

void xhtml_escape_append(std::string_view s, std::string& out) {
  out.reserve(out.size() + s.size());
  for (char c : s) {
    if (auto r = replacement(c); !r.empty()) {
      out.append(r);
    } else {
      out.push_back(c);
    }
  }
}

std::string xhtml_escape(std::string_view s) {
  std::string out;
  xhtml_escape_append(s, out);
  return out;
}

std::string xhtml_unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t amp = s.find('&', i);
    if (amp == std::string_view::npos) break;
    out.append(s, i, amp - i);
    // A reference is '&', an optional '#', one or more word characters, then ';'.
    std::size_t end = amp + 1;
    if (end < s.size() && s[end] == '#') ++end;
    const std::size_t name_begin = end;
    while (end < s.size() && is_word(s[end])) ++end;
    const bool complete = end > name_begin && end < s.size() && s[end] == ';';
    if (complete && append_reference(s.substr(amp + 1, end - amp - 1), out)) {
      i = end + 1;
    } else {
      // Not a reference we decode: keep the '&' and rescan from the next byte, so that a
      // reference starting inside this run is still found.
      out.push_back('&');
      i = amp + 1;
    }
  }
  if (i < s.size()) out.append(s, i);
  return out;
}

}  // namespace cortado
