// JSON string literals that are safe inside an HTML <script> element (Tornado's json_encode).
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "cortado/escape.hpp"
#include "utf8.hpp"

namespace cortado {

namespace {

constexpr char kHexLower[] = "0123456789abcdef";

void append_u_escape(std::string& out, char32_t unit) {
  const char escaped[6] = {'\\',
                           'u',
                           kHexLower[(unit >> 12) & 0xf],
                           kHexLower[(unit >> 8) & 0xf],
                           kHexLower[(unit >> 4) & 0xf],
                           kHexLower[unit & 0xf]};
  out.append(escaped, 6);
}

// Outside the BMP JSON needs a UTF-16 surrogate pair, as Python writes it.
void append_code_point_escape(std::string& out, char32_t cp) {
  if (cp < 0x10000) {
    append_u_escape(out, cp);
  } else {
    cp -= 0x10000;
    append_u_escape(out, 0xD800 + (cp >> 10));
    append_u_escape(out, 0xDC00 + (cp & 0x3FF));
  }
}

// The short escapes Python uses; 0 for a character that takes \uXXXX or none.
constexpr char short_escape(char c) noexcept {
  switch (c) {
    case '"':
      return '"';
    case '\\':
      return '\\';
    case '\n':
      return 'n';
    case '\r':
      return 'r';
    case '\t':
      return 't';
    case '\b':
      return 'b';
    case '\f':
      return 'f';
    default:
      return 0;
  }
}

// Escaping "</" keeps "</script>" in a string from closing the element it is embedded in.
void replace_closing_tags(std::string& s) {
  std::size_t at = s.find("</");
  if (at == std::string::npos) return;
  std::string out;
  out.reserve(s.size() + 8);
  out.append(s, 0, at);
  for (std::size_t i = at; i < s.size(); ++i) {
    out.push_back(s[i]);
    if (s[i] == '<' && i + 1 < s.size() && s[i + 1] == '/') out.push_back('\\');
  }
  s = std::move(out);
}

}  // namespace

void json_encode_string_append(std::string_view s, std::string& out) {
  out.reserve(out.size() + s.size() + 2);
  out.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      const char32_t cp = detail::decode_utf8(s, i);
      if (cp == detail::kInvalidUtf8) {
        throw std::invalid_argument("json_encode_string: input is not valid UTF-8");
      }
      append_code_point_escape(out, cp);
      continue;
    }
    ++i;
    if (const char e = short_escape(c)) {
      const char escaped[2] = {'\\', e};
      out.append(escaped, 2);
    } else if (u < 0x20 || u == 0x7f) {
      append_u_escape(out, u);
    } else {
      out.push_back(c);
      if (c == '<' && i < s.size() && s[i] == '/') out.push_back('\\');
    }
  }
  out.push_back('"');
}

std::string json_encode_string(std::string_view s) {
  std::string out;
  json_encode_string_append(s, out);
  return out;
}

std::string json_encode(const nlohmann::json& value) {
  std::string out = value.dump(-1, ' ', /*ensure_ascii=*/true);
  replace_closing_tags(out);
  return out;
}

}  // namespace cortado
