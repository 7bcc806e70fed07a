// Cookie headers: parse_cookie's output is bounded, unique by name and stripped; and whatever
// format_set_cookie accepts cannot inject an attribute or a header, and parses back.
#include <cstddef>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include "cortado/httputil/cookies.hpp"
#include "invariant.hpp"

namespace {

bool is_python_space(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f');
}

void check_parse(std::string_view header) {
  constexpr std::size_t kMax = 32;
  const auto cookies = cortado::parse_cookie(header, kMax);
  FUZZ_CHECK(cookies.size() <= kMax);
  std::set<std::string_view> names;
  for (const auto& c : cookies) {
    FUZZ_CHECK(names.insert(c.name).second);
    FUZZ_CHECK(c.name.find(';') == std::string::npos);
    FUZZ_CHECK(c.name.find('=') == std::string::npos);
    if (!c.name.empty()) {
      FUZZ_CHECK(!is_python_space(c.name.front()) && !is_python_space(c.name.back()));
    }
    FUZZ_CHECK(c.name.size() + c.value.size() <= header.size());
  }
}

// Input layout: name '\n' value '\n' domain '\n' path.
std::string_view next_line(std::string_view& rest) {
  const std::size_t end = rest.find('\n');
  const std::string_view line = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
  return line;
}

void check_format(std::string_view input) {
  const std::string_view name = next_line(input);
  const std::string_view value = next_line(input);
  cortado::CookieOptions options;
  options.domain = next_line(input);
  options.path = next_line(input);
  options.httponly = true;
  std::string header;
  try {
    header = cortado::format_set_cookie(name, value, options);
  } catch (const std::invalid_argument&) {
    return;
  }
  for (char c : header) {
    FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f);
  }
  // Exactly the attributes we set, each introduced by "; ".
  std::size_t separators = 0;
  for (std::size_t at = header.find(';'); at != std::string::npos; at = header.find(';', at + 1)) {
    ++separators;
  }
  const std::size_t attributes =
      1 + (options.domain.empty() ? 0 : 1) + (options.path.empty() ? 0 : 1);
  FUZZ_CHECK(separators == attributes);
  // The name=value pair parses back; a quoted value comes back without its quotes.
  const std::string pair = header.substr(0, header.find(';'));
  std::string_view expected = value;
  if (expected.size() >= 2 && expected.front() == '"' && expected.back() == '"') {
    expected = expected.substr(1, expected.size() - 2);
  }
  const auto cookies = cortado::parse_cookie(pair);
  FUZZ_CHECK(cookies.size() == 1);
  FUZZ_CHECK(cookies[0].name == name);
  FUZZ_CHECK(cookies[0].value == expected);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_parse(input);
  check_format(input);
  return 0;
}
