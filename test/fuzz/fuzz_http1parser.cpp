// libFuzzer target: the HTTP/1 parser in request mode, on arbitrary bytes (pipelined messages
// included). The input is parsed whole, cut at positions derived from it, and a byte at a time;
// all must give the same events, messages and error, and every invariant in parser_driver.hpp must
// hold.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parser_driver.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cortado::fuzz;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::uint64_t h = fnv1a(input);
  Setup setup;
  setup.mode = cortado::HTTP1Parser::Mode::request;
  setup.options = (h & 1) != 0 ? tight_options() : roomy_options();
  setup.eof = (h & 2) != 0;
  run_all_ways(setup, input);
  return 0;
}
