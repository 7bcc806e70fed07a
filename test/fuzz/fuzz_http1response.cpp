// libFuzzer target: the HTTP/1 parser in response mode (status lines, no-body statuses, HEAD,
// close-delimited bodies ended by eof()). Whole, split and byte-at-a-time feeding must agree.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parser_driver.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cortado::fuzz;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::uint64_t h = fnv1a(input);
  Setup setup;
  setup.mode = cortado::HTTP1Parser::Mode::response;
  setup.options = (h & 1) != 0 ? tight_options() : roomy_options();
  setup.head_request = (h & 2) != 0;
  setup.eof = (h & 12) != 0;  // mostly: a close-delimited body only ends there
  run_all_ways(setup, input);
  return 0;
}
