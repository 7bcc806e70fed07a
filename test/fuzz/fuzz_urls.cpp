// URL escaping and query strings: escaping round-trips, decoding never grows the text, and a
// query string built from escaped pairs parses back to exactly those pairs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cortado/escape.hpp"
#include "cortado/httputil/errors.hpp"
#include "cortado/httputil/urls.hpp"
#include "invariant.hpp"

namespace {

bool is_escaped_char(char c, bool plus) {
  const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' || c == '~';
  return unreserved || c == '%' || (plus ? c == '+' : c == '/');
}

void check_escaping(std::string_view text) {
  for (bool plus : {true, false}) {
    const std::string escaped = cortado::url_escape(text, plus);
    for (char c : escaped) FUZZ_CHECK(is_escaped_char(c, plus));
    FUZZ_CHECK(cortado::url_unescape(escaped, plus) == text);
    FUZZ_CHECK(cortado::url_unescape(text, plus).size() <= text.size());
  }
}

void check_raw_query(std::string_view qs) {
  constexpr std::size_t kMax = 64;
  for (bool keep : {true, false}) {
    cortado::Arguments args;
    try {
      cortado::parse_query(qs, args, keep, kMax);
    } catch (const cortado::HTTPInputError&) {
      FUZZ_CHECK(args.empty());  // refused inputs leave the output alone
      continue;
    }
    std::size_t values = 0;
    for (const auto& [name, list] : args) values += list.size();
    FUZZ_CHECK(values <= kMax);
  }
}

// Splits the input into name/value pairs at '\n' and '\t', escapes them into a query string,
// and expects parse_query to give them back.
void check_round_trip(std::string_view data) {
  cortado::Arguments expected;
  std::string qs;
  std::size_t count = 0;
  while (!data.empty() && count < 200) {
    std::size_t end = data.find('\n');
    if (end == std::string_view::npos) end = data.size();
    const std::string_view pair = data.substr(0, end);
    data.remove_prefix(end == data.size() ? end : end + 1);
    const std::size_t tab = pair.find('\t');
    const std::string_view name = pair.substr(0, tab);
    const std::string_view value = tab == std::string_view::npos ? "" : pair.substr(tab + 1);
    if (!qs.empty()) qs.push_back('&');
    cortado::url_escape_append(name, qs);
    qs.push_back('=');
    cortado::url_escape_append(value, qs);
    expected[std::string(name)].emplace_back(value);
    ++count;
  }
  cortado::Arguments parsed;
  cortado::parse_query(qs, parsed, true, 1000);
  FUZZ_CHECK(parsed == expected);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_escaping(input);
  check_raw_query(input);
  check_round_trip(input);
  return 0;
}
