// Cookie request header parsing, with the leniency of Tornado's parse_cookie.
#include <algorithm>
#include <numeric>

#include "../ascii.hpp"
#include "cortado/httputil/cookies.hpp"

namespace cortado {

namespace {

constexpr bool is_octal(char c) noexcept {
  return c >= '0' && c <= '7';
}

// A \ooo escape in Python's http.cookies: the first digit is 0-3 so the value fits a byte.
bool is_octal_escape(std::string_view s, std::size_t i) {
  return i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && is_octal(s[i + 2]) &&
         is_octal(s[i + 3]);
}

// Python's http.cookies._unquote: only a value wrapped in double quotes is unescaped.
std::string unquote_cookie(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::string(s);
  s = s.substr(1, s.size() - 2);
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    // A backslash escapes the next character, except a newline (Python's '.' does not match
    // one) and except at the end; those backslashes stay.
    if (s[i] != '\\' || i + 1 == s.size() || s[i + 1] == '\n') {
      out.push_back(s[i]);
    } else if (is_octal_escape(s, i)) {
      out.push_back(
          static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[++i]);
    }
  }
  return out;
}

// Later duplicates give their value to the first cookie of that name and are dropped.
void merge_duplicates(std::vector<Cookie>& cookies) {
  if (cookies.size() < 2) return;
  std::vector<std::size_t> order(cookies.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  // Ties break on position: the same order std::stable_sort gives, without its temporary
  // buffer (libstdc++ 12 allocates it with new and ASan sees it freed with free).
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const int c = cookies[a].name.compare(cookies[b].name);
    return c < 0 || (c == 0 && a < b);
  });
  std::vector<bool> dropped(cookies.size(), false);
  for (std::size_t run = 0; run < order.size();) {
    std::size_t last = run;
    while (last + 1 < order.size() && cookies[order[last + 1]].name == cookies[order[run]].name) {
      dropped[order[++last]] = true;
    }
    if (last != run) cookies[order[run]].value = std::move(cookies[order[last]].value);
    run = last + 1;
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < cookies.size(); ++i) {
    if (!dropped[i]) {
      if (kept != i) cookies[kept] = std::move(cookies[i]);
      ++kept;
    }
  }
  cookies.resize(kept);
}

}  // namespace

std::vector<Cookie> parse_cookie(std::string_view header, std::size_t max_cookies) {
  std::vector<Cookie> cookies;
  std::size_t begin = 0;
  while (begin <= header.size() && cookies.size() < max_cookies) {
    const std::size_t end = std::min(header.find(';', begin), header.size());
    const std::string_view chunk = header.substr(begin, end - begin);
    begin = end + 1;
    const std::size_t eq = chunk.find('=');
    // Without '=' the whole chunk is a value with an empty name (as browsers treat it).
    const std::string_view name = eq == std::string_view::npos ? "" : chunk.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? chunk : chunk.substr(eq + 1);
    const std::string_view key = detail::trim_python(name);
    const std::string_view val = detail::trim_python(value);
    if (key.empty() && val.empty()) continue;
    cookies.push_back({std::string(key), unquote_cookie(val)});
  }
  merge_duplicates(cookies);
  return cookies;
}

}  // namespace cortado
