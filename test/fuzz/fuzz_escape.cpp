// HTML and JSON escaping: xhtml_unescape inverts xhtml_escape; json_encode_string accepts
// exactly the UTF-8 inputs, writes pure ASCII without "</", and parses back to the input.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cortado/escape.hpp"
#include "invariant.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  FUZZ_CHECK(cortado::xhtml_unescape(cortado::xhtml_escape(input)) == input);
  (void)cortado::xhtml_unescape(input);

  const bool utf8 = cortado::is_valid_utf8(input);
  std::string json;
  try {
    json = cortado::json_encode_string(input);
  } catch (const std::invalid_argument&) {
    FUZZ_CHECK(!utf8);
    return 0;
  }
  FUZZ_CHECK(utf8);
  FUZZ_CHECK(json.find("</") == std::string::npos);
  for (char c : json) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
  for (char c : json) FUZZ_CHECK(static_cast<unsigned char>(c) < 0x80);
  FUZZ_CHECK(nlohmann::json::parse(json).get<std::string>() == input);
  FUZZ_CHECK(cortado::json_encode(nlohmann::json(std::string(input))) == json);
  return 0;
}
