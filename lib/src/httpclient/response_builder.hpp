// Turns one response's parser events into an HTTPResponse, as the request asked: header and
// streaming callbacks, gzip inflation within the body limit, and a redirect's body dropped.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "client_connection.hpp"
#include "cortado/gzip.hpp"
#include "cortado/httpclient/request.hpp"

namespace cortado::detail {

class ResponseBuilder final : public ResponseHandler {
 public:
  // `may_follow`: the request follows redirects and has some left. `request` must outlive this.
  ResponseBuilder(const HTTPRequest& request, bool may_follow, std::uint64_t max_body_size);

  void headers_received(const StartLine& start, HTTPHeaders& headers) override;
  void data_received(std::string_view piece) override;
  void finish() override;

  // The response is a redirect to follow: its body was dropped and no callback ran.
  bool redirecting() const { return redirecting_; }
  int code() const { return response_.code; }
  std::string_view location() const { return response_.headers.get("Location"); }
  HTTPResponse& response() { return response_; }

 private:
  void call_header_callback(const StartLine& start);
  void deliver(std::string_view bytes);
  void inflate(std::string_view piece);

  const HTTPRequest& request_;
  const bool may_follow_;
  const std::uint64_t max_body_size_;
  HTTPResponse response_;
  bool redirecting_ = false;
  std::unique_ptr<GzipDecompressor> inflater_;
  std::uint64_t inflated_ = 0;     // inflated bytes so far
  std::string scratch_;            // inflated piece on its way to a streaming_callback
  bool compressed_bytes_ = false;  // some gzip input arrived (an empty body needs no trailer)
};

}  // namespace cortado::detail
