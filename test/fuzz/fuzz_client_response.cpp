// libFuzzer target: what the HTTP client makes of a server's response, past the parser (which
// fuzz_http1response covers): 1xx skipped, redirects recognised and their bodies dropped, gzip
// inflated within max_body_size, header and streaming callbacks. The first byte picks the
// request's settings; the rest is the response. A hostile server may make the fetch fail with an
// HTTPClientError; anything else escaping, or a body past the limit, is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cortado/http1parser.hpp"
#include "cortado/httpclient/errors.hpp"
#include "cortado/httpclient/request.hpp"
#include "httpclient/response_builder.hpp"
#include "invariant.hpp"

namespace {

constexpr std::uint64_t kLimit = 64 * 1024;

struct Observed {
  std::uint64_t streamed = 0;
  std::size_t header_lines = 0;
};

cortado::HTTPRequest request_for(std::uint8_t flags, Observed& seen) {
  cortado::HTTPRequest request;
  request.decompress_response = (flags & 1) != 0;
  if ((flags & 2) != 0) {
    request.streaming_callback = [&seen](std::string_view piece) { seen.streamed += piece.size(); };
  }
  if ((flags & 4) != 0) {
    request.header_callback = [&seen](std::string_view) { ++seen.header_lines; };
  }
  return request;
}

// Feeds the response to the builder as the client's connection does; true once it is complete.
bool exchange(std::string_view input, bool head, cortado::detail::ResponseBuilder& builder) {
  using Event = cortado::HTTP1Parser::Event;
  cortado::HTTP1Parser parser(cortado::HTTP1Parser::Mode::response,
                              {.max_header_size = 8 * 1024, .max_body_size = kLimit});
  parser.set_head_request(head);
  // The whole response is offered at once, so need_more means it ended: the peer closed.
  bool closed = false;
  for (int interim = 0; interim < 64;) {
    std::size_t used = 0;
    const Event event = closed ? parser.eof() : parser.next(input, used);
    input.remove_prefix(used);
    switch (event.kind) {
      case Event::headers:
        if (parser.start_line().status < 200) {  // interim: skipped (101 is refused earlier)
          parser.reset();
          ++interim;
          break;
        }
        builder.headers_received(parser.start_line(), parser.headers());
        break;
      case Event::body:
        builder.data_received(event.data);
        break;
      case Event::message_end:
        builder.finish();
        return true;
      case Event::need_more:
        if (closed) return false;  // a clean close before any response
        closed = true;
        break;
      case Event::error:
        return false;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  Observed seen;
  const cortado::HTTPRequest request = request_for(flags, seen);
  const bool may_follow = (flags & 8) != 0;
  cortado::detail::ResponseBuilder builder(request, may_follow, kLimit);
  try {
    if (!exchange(input, (flags & 16) != 0, builder)) return 0;
  } catch (const cortado::HTTPClientError&) {
    return 0;  // what a hostile server may cause: the fetch fails with a reason
  }
  const cortado::HTTPResponse& response = builder.response();
  FUZZ_CHECK(response.body.size() <= kLimit);
  FUZZ_CHECK(seen.streamed <= kLimit);
  if (request.streaming_callback) FUZZ_CHECK(response.body.empty());
  if (builder.redirecting()) {
    FUZZ_CHECK(response.body.empty() && seen.streamed == 0 && seen.header_lines == 0);
  }
  return 0;
}
