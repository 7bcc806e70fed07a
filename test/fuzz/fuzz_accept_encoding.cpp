// Accept-Encoding: weights stay in range, accepts_gzip agrees with the weight, and neither
// letter case nor extra whitespace around separators changes the answer.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cortado/httputil/accept_encoding.hpp"
#include "invariant.hpp"

namespace {

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return out;
}

std::string spaced(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 2);
  for (char c : s) {
    const bool separator = c == ',' || c == ';' || c == '=';
    if (separator) out.push_back(' ');
    out.push_back(c);
    if (separator) out.push_back('\t');
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const int weight = cortado::accept_encoding_weight(input, "gzip");
  FUZZ_CHECK(weight >= 0 && weight <= 1000);
  FUZZ_CHECK(cortado::accepts_gzip(input) == (weight > 0));
  FUZZ_CHECK(cortado::accept_encoding_weight(ascii_upper(input), "gzip") == weight);
  FUZZ_CHECK(cortado::accept_encoding_weight(spaced(input), "gzip") == weight);
  const int br = cortado::accept_encoding_weight(input, "br");
  FUZZ_CHECK(br >= 0 && br <= 1000);
  return 0;
}
