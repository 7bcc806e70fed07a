// One hop's request, ready for the wire: the request line and header block the client sends.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cortado/httpclient.hpp"

namespace cortado::detail {

struct OutgoingRequest {
  std::string head{};            // request line + header fields + the empty line
  std::string_view body{};       // the request's own body (not copied)
  bool head_request = false;     // HEAD: the response has no body whatever it says
  bool expect_continue = false;  // the body waits for a 100 Continue
  bool close_after = false;      // the request asked the server to close (Connection: close)
  std::uint64_t max_body_size = 0;
};

// Builds the head for `request` sent to `url`. Throws std::invalid_argument for a method that is
// not a token, a header name that is not a token, a header value with a control byte (a way to
// smuggle extra header lines), or a Transfer-Encoding header.
OutgoingRequest prepare_request(const HTTPRequest& request, const URL& url,
                                const HTTPClientOptions& options);

// RFC 7617: "Basic " + base64(user ":" password).
std::string basic_authorization(std::string_view user, std::string_view password);

}  // namespace cortado::detail
