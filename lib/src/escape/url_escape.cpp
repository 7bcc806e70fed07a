// Percent-encoding (RFC 3986 2.1) as Python's urllib.parse.quote / quote_plus do it.

#include "../ascii.hpp"
#include "cortado/escape.hpp"

namespace cortado {

namespace {

// RFC 3986 unreserved characters: never encoded.
constexpr bool is_unreserved(char c) noexcept {
  return detail::is_alpha(c) || detail::is_digit(c) || c == '_' || c == '.' || c == '-' || c == '~';
}

constexpr char kHexUpper[] = "0123456789ABCDEF";

}  // namespace

void url_escape_append(std::string_view s, std::string& out, bool plus) {
  out.reserve(out.size() + s.size());
  for (char c : s) {
    if (is_unreserved(c) || (!plus && c == '/')) {
      out.push_back(c);
    } else if (plus && c == ' ') {
      out.push_back('+');
    } else {
      auto u = static_cast<unsigned char>(c);
      const char escaped[3] = {'%', kHexUpper[u >> 4], kHexUpper[u & 0xf]};
      out.append(escaped, 3);
    }
  }
}

std::string url_escape(std::string_view s, bool plus) {
  std::string out;
  url_escape_append(s, out, plus);
  return out;
}

void url_unescape_append(std::string_view s, std::string& out, bool plus) {
  out.reserve(out.size() + s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    // Copy the run of bytes that need no decoding in one go.
    std::size_t run = i;
    while (run < s.size() && s[run] != '%' && !(plus && s[run] == '+')) ++run;
    out.append(s.data() + i, run - i);
    i = run;
    if (i == s.size()) break;
    if (s[i] == '+') {
      out.push_back(' ');
      ++i;
      continue;
    }
    int hi = i + 2 < s.size() ? detail::hex_value(s[i + 1]) : -1;
    int lo = hi >= 0 ? detail::hex_value(s[i + 2]) : -1;
    if (lo >= 0) {
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 3;
    } else {
      out.push_back('%');  // not an escape: kept verbatim, as Python's unquote does
      ++i;
    }
  }
}

std::string url_unescape(std::string_view s, bool plus) {
  std::string out;
  url_unescape_append(s, out, plus);
  return out;
}

}  // namespace cortado
