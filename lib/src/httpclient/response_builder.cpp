#include "response_builder.hpp"

#include <limits>

#include <fmt/format.h>

#include "cortado/http1parser.hpp"
#include "cortado/httpclient/errors.hpp"
#include "redirects.hpp"

namespace cortado::detail {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

[[noreturn]] void throw_too_large(std::uint64_t limit) {
  throw HTTPProtocolError(fmt::format("response body larger than max_body_size ({} bytes)", limit),
                          make_error_code(http_errc::body_too_large));
}

}  // namespace

ResponseBuilder::ResponseBuilder(const HTTPRequest& request, bool may_follow,
                                 std::uint64_t max_body_size)
    : request_(request), may_follow_(may_follow), max_body_size_(max_body_size) {}

void ResponseBuilder::headers_received(const StartLine& start, HTTPHeaders& headers) {
  response_.code = start.status;
  response_.reason.assign(start.reason);
  std::swap(response_.headers, headers);
  HTTPHeaders& h = response_.headers;
  redirecting_ = may_follow_ && is_redirect_status(start.status) && h.contains("Location");
  if (redirecting_) return;
  if (request_.decompress_response && iequals(trim(h.get("Content-Encoding")), "gzip")) {
    // As Tornado does: the body is delivered inflated, and the header says what was undone.
    const std::string coding(h.get("Content-Encoding"));
    h.remove("Content-Encoding");
    h.add("X-Consumed-Content-Encoding", coding);
    inflater_ = std::make_unique<GzipDecompressor>();
  }
  if (request_.header_callback) call_header_callback(start);
}

void ResponseBuilder::call_header_callback(const StartLine& start) {
  request_.header_callback(
      fmt::format("HTTP/1.{} {} {}\r\n", start.version_minor, start.status, start.reason));
  std::string line;
  response_.headers.for_each([&](const HTTPHeaders::Field& f) {
    line.assign(f.name);
    line += ": ";
    line += f.value;
    line += "\r\n";
    request_.header_callback(line);
  });
  request_.header_callback("\r\n");
}

void ResponseBuilder::data_received(std::string_view piece) {
  if (redirecting_) return;  // read to keep the connection usable, but nobody wants it
  if (inflater_) {
    inflate(piece);
  } else {
    deliver(piece);
  }
}

void ResponseBuilder::deliver(std::string_view bytes) {
  if (request_.streaming_callback) {
    request_.streaming_callback(bytes);
  } else {
    response_.body += bytes;  // the parser has already held the wire bytes to max_body_size
  }
}

// Inflated bytes count against max_body_size, so a small gzip bomb cannot become a large body:
// zlib is stopped as soon as the output passes the limit.
void ResponseBuilder::inflate(std::string_view piece) {
  compressed_bytes_ = compressed_bytes_ || !piece.empty();
  const bool streaming = static_cast<bool>(request_.streaming_callback);
  std::string& out = streaming ? scratch_ : response_.body;
  if (streaming) scratch_.clear();
  const std::size_t before = out.size();
  const std::uint64_t room = max_body_size_ - inflated_;
  // One byte past the room tells "too large" from "exactly full".
  const std::uint64_t max_growth =
      std::min<std::uint64_t>(room, std::numeric_limits<std::size_t>::max() - before - 1) + 1;
  try {
    inflater_->decompress(piece, out, before + static_cast<std::size_t>(max_growth));
  } catch (const GzipError&) {
    if (out.size() - before > room) throw_too_large(max_body_size_);
    throw HTTPProtocolError("response body is not valid gzip",
                            make_error_code(client_errc::bad_content_encoding));
  }
  inflated_ += out.size() - before;
  if (inflated_ > max_body_size_) throw_too_large(max_body_size_);
  if (streaming && !scratch_.empty()) request_.streaming_callback(scratch_);
}

void ResponseBuilder::finish() {
  if (inflater_ && compressed_bytes_ && !inflater_->finished()) {
    throw HTTPProtocolError("response body is truncated gzip",
                            make_error_code(client_errc::bad_content_encoding));
  }
}

}  // namespace cortado::detail
