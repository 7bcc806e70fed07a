// A sans-I/O HTTP/1.x parser (RFC 9112): bytes in, start line / headers / body events out.
// It never touches a socket, so it is unit-tested table by table and fuzzed without one; the
// connection (http1connection.hpp) drives it over an IOStream.
//
// Usage:
//   HTTP1Parser parser(HTTP1Parser::Mode::request, options);
//   for (;;) {
//     std::size_t used = 0;
//     HTTP1Parser::Event ev = parser.next(input, used);   // consume `used` bytes of input
//     ... need_more: read more bytes; headers: parser.start_line()/headers() are ready;
//         body: ev.data is a piece of the body (a view into input); message_end: done;
//         error: parser.error() says why (an http_errc), status_for(error) which 4xx/5xx.
//   }
//   parser.reset() before the next message on the same connection.
//
// The parser never buffers body bytes: body events are views into the input it was given. The
// header block is parsed only once it is complete, so it must arrive contiguous in the input
// (the caller's buffer grows until "\r\n\r\n" or max_header_size).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "cortado/httputil/headers.hpp"

namespace cortado {

// Why a message was refused. Each value names the rule it enforces and the status it maps to.
enum class http_errc {
  bad_request_line = 1,       // 400: request line not `method SP target SP HTTP/x.y` (RFC 9112 3)
  bad_method,                 // 400: method is not a token (RFC 9110 9.1)
  bad_target,                 // 400: request-target empty or holds CTL/space (RFC 9112 3.2)
  uri_too_long,               // 414: request line longer than max_start_line
  unsupported_version,        // 505: a version other than HTTP/1.0 or HTTP/1.1
  header_too_large,           // 431: header block longer than max_header_size
  too_many_headers,           // 431: more than max_headers fields
  bad_header,                 // 400: malformed field line: space before colon (RFC 9112 5.1),
                              //      obs-fold (RFC 9112 5.2), CTL/NUL/bare CR in value (9110 5.5)
  bad_content_length,         // 400: Content-Length not digits, overflowing, or conflicting
                              //      values (RFC 9110 8.6, RFC 9112 6.3)
  conflicting_framing,        // 400: both Content-Length and Transfer-Encoding (RFC 9112 6.1)
  unsupported_transfer_coding,// 501: a request Transfer-Encoding other than `chunked` (9112 6.1)
  bad_chunk,                  // 400: malformed chunk size line, extension or missing CRLF (9112 7.1)
  chunk_extension_too_large,  // 400: chunk extensions beyond max_chunk_extension_size
  trailers_too_large,         // 431: trailer section beyond max_header_size / max_headers
  body_too_large,             // 413: body beyond max_body_size
  bad_status_line,            // (response mode) status line malformed
  bad_host,                   // 400: HTTP/1.1 request without exactly one Host (RFC 9112 3.2)
  unexpected_eof,             // the peer closed in the middle of a message
  bad_content_encoding,       // 400: a gzip request body that does not inflate (decompress_request)
};
const std::error_category& http_category() noexcept;
inline std::error_code make_error_code(http_errc e) noexcept {
  return {static_cast<int>(e), http_category()};
}
// The HTTP status a server answers with when a request fails with `e` (400 if not an http_errc).
int status_for(std::error_code e) noexcept;

}  // namespace cortado

template <>
struct std::is_error_code_enum<cortado::http_errc> : std::true_type {};

namespace cortado {

struct HTTP1ParserOptions {
  std::size_t max_start_line = 8 * 1024;       // request line or status line, CRLF included
  std::size_t max_header_size = 64 * 1024;     // start line + fields + final CRLF
  std::size_t max_headers = 100;               // field lines
  std::uint64_t max_body_size = 100 * 1024 * 1024;  // decoded body bytes (Tornado's default)
  std::size_t max_chunk_extension_size = 1024; // per chunk size line
};

// The parsed start line. Views point into the parser's own storage: valid until reset().
struct StartLine {
  std::string_view method;   // request mode
  std::string_view target;   // request mode: the request-target as sent
  int status = 0;            // response mode
  std::string_view reason;   // response mode
  int version_minor = 1;     // HTTP/1.<version_minor>
};

class HTTP1Parser {
 public:
  enum class Mode { request, response };

  struct Event {
    enum Kind { need_more, headers, body, message_end, error };
    Kind kind = need_more;
    std::string_view data;  // for body: a piece of the (de-chunked) body, a view into the input
  };

  explicit HTTP1Parser(Mode mode, HTTP1ParserOptions options = {});

  // Parses from `input`, sets `used` to the bytes consumed and returns the next event.
  // After `error`, every call returns error again until reset().
  Event next(std::string_view input, std::size_t& used);

  // Before the next message: clears the start line, headers and body state (keeps capacity).
  void reset();

  // Response mode: the request was HEAD (no body whatever the headers say), and the peer closed
  // (a close-delimited body ends here; elsewhere EOF mid-message is an error). Returns the event.
  void set_head_request(bool head) { head_request_ = head; }
  Event eof();

  // Ready after the headers event.
  const StartLine& start_line() const { return start_line_; }
  const HTTPHeaders& headers() const { return headers_; }
  HTTPHeaders& headers() { return headers_; }
  // Framing decided from the headers.
  bool chunked() const { return chunked_; }
  // Content-Length, when present (else -1).
  std::int64_t content_length() const { return content_length_; }
  // True when the message has a body to read (Content-Length > 0, chunked, or close-delimited).
  bool has_body() const;
  // Trailer fields of a chunked body, ready after message_end.
  const HTTPHeaders& trailers() const { return trailers_; }

  // May be changed after the headers (Tornado's set_max_body_size from prepare()).
  void set_max_body_size(std::uint64_t n) { options_.max_body_size = n; }
  const HTTP1ParserOptions& options() const { return options_; }

  std::error_code error() const { return error_; }
  std::uint64_t body_bytes() const { return body_bytes_; }

 private:
  // (the implementation's state machine lives here)
  enum class State { start, headers_done_pending, body_length, chunk_size, chunk_data, chunk_crlf,
                     trailers, body_until_close, done, failed };
  Event fail(http_errc e);
  Event parse_head(std::string_view input, std::size_t& used);
  Event parse_chunked(std::string_view input, std::size_t& used);

  Mode mode_;
  HTTP1ParserOptions options_;
  State state_ = State::start;
  std::string head_;       // a copy of the start line and header block (the views point here)
  std::size_t scanned_ = 0;  // how far the search for the end of the header block got
  StartLine start_line_;
  HTTPHeaders headers_;
  HTTPHeaders trailers_;
  bool chunked_ = false;
  bool head_request_ = false;
  std::int64_t content_length_ = -1;
  std::uint64_t remaining_ = 0;  // of the Content-Length body or of the current chunk
  std::uint64_t body_bytes_ = 0;
  std::error_code error_;
};

}  // namespace cortado
