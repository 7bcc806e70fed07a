// libFuzzer target: chunked body framing. The fuzz input follows a fixed chunked request head.
// Besides the checks every parser target makes (parser_driver.hpp), a deliberately simple and
// laxer reading of the chunked framing (extensions skipped, trailers only counted) must agree
// with every body the parser accepts: same bytes, same length consumed, same trailer count.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "parser_driver.hpp"

namespace {

constexpr std::string_view kHead =
    "POST /upload HTTP/1.1\r\nHost: fuzz\r\nTransfer-Encoding: chunked\r\n\r\n";

struct Decoded {
  std::string body;
  std::size_t consumed = 0;
  std::size_t trailers = 0;
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<Decoded> reference_decode(std::string_view in) {
  Decoded d;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t eol = in.find("\r\n", pos);
    if (eol == std::string_view::npos) return std::nullopt;
    std::uint64_t size = 0;
    std::size_t i = pos;
    for (; i < eol && hex_value(in[i]) >= 0; ++i) {
      if (size >> 60 != 0) return std::nullopt;
      size = size * 16 + static_cast<std::uint64_t>(hex_value(in[i]));
    }
    if (i == pos) return std::nullopt;
    pos = eol + 2;
    if (size == 0) break;
    if (in.size() - pos < size) return std::nullopt;
    d.body.append(in.substr(pos, size));
    pos += size;
    if (in.substr(pos, 2) != "\r\n") return std::nullopt;
    pos += 2;
  }
  for (;;) {
    const std::size_t eol = in.find("\r\n", pos);
    if (eol == std::string_view::npos) return std::nullopt;
    const bool last = eol == pos;
    pos = eol + 2;
    if (last) break;
    ++d.trailers;
  }
  d.consumed = pos;
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cortado::fuzz;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  std::string input(kHead);
  input.append(body);
  const std::uint64_t h = fnv1a(body);
  Setup setup;
  setup.mode = cortado::HTTP1Parser::Mode::request;
  setup.options = (h & 1) != 0 ? tight_options() : roomy_options();
  setup.max_messages = 4;
  const Trace trace = run_all_ways(setup, input);
  require(!trace.messages.empty(), "the fixed head always parses");
  const Message& first = trace.messages.front();
  if (first.complete) {
    const std::optional<Decoded> ref = reference_decode(body);
    require(ref.has_value(), "the reference accepts what the parser accepts");
    require(ref->body == first.body, "same body as the reference");
    require(kHead.size() + ref->consumed == first.consumed, "same length as the reference");
    require(first.trailers == ref->trailers, "same trailer count as the reference");
  }
  return 0;
}
