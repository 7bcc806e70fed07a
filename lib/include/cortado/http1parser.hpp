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
// header block is consumed only once it is complete, so it must arrive contiguous in the input
// (the caller's buffer grows until "\r\n\r\n" or max_header_size): while it is incomplete, next()
// returns need_more and consumes nothing, and the caller offers the same bytes again with more
// behind them (parsing resumes at the first line not yet parsed; errors come in line order).
// Chunk-size lines and trailer lines are likewise consumed only once complete. Whatever the event,
// the caller drops `used` bytes.
//
// Strictness (RFC 9112 2.2): every line ends in CRLF. A bare LF is rejected rather than accepted
// as a line end (Tornado accepts it in headers); two parsers that disagree on where a line ends
// are what request smuggling is made of. Up to 8 empty lines before a start line are skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "cortado/httputil/headers.hpp"

namespace cortado {

// Why a message was refused. Each value names the rule it enforces and the status it maps to.
// clang-format off
enum class http_errc {
  bad_request_line = 1,         // 400: request line not `method SP target SP HTTP/x.y` (RFC 9112 3)
  bad_method,                   // 400: method is not a token (RFC 9110 9.1)
  bad_target,                   // 400: request-target empty or holds CTL/space (RFC 9112 3.2)
  uri_too_long,                 // 414: request line longer than max_start_line
  unsupported_version,          // 505: a version other than HTTP/1.0 or HTTP/1.1
  header_too_large,             // 431: header block longer than max_header_size
  too_many_headers,             // 431: more than max_headers fields
  bad_header,                   // 400: malformed field line: space before colon (RFC 9112 5.1),
                                //      obs-fold (RFC 9112 5.2), CTL/NUL/bare CR in value (9110 5.5)
  bad_content_length,           // 400: Content-Length not digits, overflowing, or conflicting
                                //      values (RFC 9110 8.6, RFC 9112 6.3)
  conflicting_framing,          // 400: both Content-Length and Transfer-Encoding (RFC 9112 6.1),
                                //      request `chunked` not final or repeated, or a
                                //      Transfer-Encoding in an HTTP/1.0 request (RFC 9112 6.3)
  unsupported_transfer_coding,  // 501: a request Transfer-Encoding other than `chunked` (9112 6.1)
  bad_chunk,                    // 400: malformed chunk size line, extension or missing CRLF
                                //      (RFC 9112 7.1)
  chunk_extension_too_large,    // 400: chunk extensions beyond max_chunk_extension_size
  trailers_too_large,           // 431: trailer section beyond max_header_size / max_headers
  body_too_large,               // 413: body beyond max_body_size
  bad_status_line,              // 400: (response mode) status line malformed or too long
  bad_host,                     // 400: HTTP/1.1 request without exactly one Host, or a request
                                //      with several or an invalid one (RFC 9112 3.2)
  unexpected_eof,               // 400: the peer closed in the middle of a message
  bad_content_encoding,         // 400: a gzip request body that does not inflate
                                //      (HTTPServerOptions::decompress_request)
};
// clang-format on
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
  std::size_t max_start_line = 8 * 1024;            // request line or status line, CRLF included
  std::size_t max_header_size = 64 * 1024;          // start line + fields + final CRLF
  std::size_t max_headers = 100;                    // field lines
  std::uint64_t max_body_size = 100 * 1024 * 1024;  // decoded body bytes (Tornado's default)
  std::size_t max_chunk_extension_size = 1024;      // per chunk size line
};

// The parsed start line. Views point into the parser's own storage: valid until reset().
struct StartLine {
  std::string_view method;  // request mode
  std::string_view target;  // request mode: the request-target as sent
  int status = 0;           // response mode
  std::string_view reason;  // response mode
  int version_minor = 1;    // HTTP/1.<version_minor>
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
  // After `error`, every call returns error again until reset(); after message_end, every call
  // returns message_end (consuming nothing) until reset().
  Event next(std::string_view input, std::size_t& used);

  // Before the next message: clears the start line, headers and body state (keeps capacity) and
  // restores the max_body_size given at construction. set_head_request's setting stays.
  void reset();

  // Response mode: the request was HEAD (no body whatever the headers say); it stays set across
  // reset() (a 1xx response may come first) until changed.
  // eof(): the peer closed. A close-delimited body, or a message with nothing left to read, ends
  // here (message_end); in the middle of a message it is an error (unexpected_eof); between
  // messages (nothing of a new one offered yet) it returns need_more: a clean close.
  void set_head_request(bool head) { head_request_ = head; }
  Event eof();

  // Ready after the headers event.
  const StartLine& start_line() const { return start_line_; }
  const HTTPHeaders& headers() const { return headers_; }
  HTTPHeaders& headers() { return headers_; }
  // Framing decided from the headers (false when the message has no body: 1xx, 204, 304, HEAD).
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
  enum class State {
    start,                 // reading the start line and header block
    headers_done_pending,  // headers returned; the body framing starts on the next call
    body_length,           // Content-Length body: remaining_ bytes to go
    chunk_size,            // a chunk-size line (RFC 9112 7.1)
    chunk_data,            // remaining_ bytes of the current chunk
    chunk_crlf,            // the CRLF after chunk data
    trailers,              // trailer field lines, then the final CRLF (RFC 9112 7.1.2)
    body_until_close,      // close-delimited response body (RFC 9112 6.3, rule 8)
    done,
    failed
  };
  enum class Framing { none, length, chunked, close };
  // What the field lines said about framing and Host, gathered as they are parsed.
  struct HeadScan {
    std::size_t hosts = 0;
    bool host_valid = true;
    std::size_t length_fields = 0;
    bool length_list = false;  // some Content-Length field held a list of (identical) values
    bool length_seen = false;
    std::uint64_t length = 0;
    bool transfer_encoding = false;
    std::size_t codings = 0;
    std::size_t chunked_codings = 0;
    bool last_chunked = false;

    http_errc note(std::string_view name, std::string_view value);
    http_errc note_content_length(std::string_view value);
    void note_transfer_encoding(std::string_view value);
  };
  struct LineSearch {
    enum Result { found, partial, too_long } result;
    std::size_t lf;  // where the LF is, when found
  };

  Event fail(http_errc e);
  http_errc start_line_error() const;
  std::uint64_t body_room() const;
  LineSearch find_line(std::string_view rest, std::size_t limit);

  Event parse_head(std::string_view input, std::size_t& used);
  void restart_head();
  std::optional<Event> skip_empty_lines(std::string_view input);
  http_errc head_line_too_long(bool first, std::size_t head_limit) const;
  http_errc parse_request_line(std::string_view line);
  http_errc parse_status_line(std::string_view line);
  http_errc parse_field(std::string_view line);
  http_errc decide_framing();

  http_errc begin_body();
  Event read_length_body(std::string_view input, std::size_t& used);
  Event read_until_close(std::string_view input, std::size_t& used);
  // The chunked steps return no event when they moved on to the next state.
  Event parse_chunked(std::string_view input, std::size_t& used);
  std::optional<Event> parse_chunk_size(std::string_view rest, std::size_t& used);
  std::optional<Event> read_chunk_data(std::string_view rest, std::size_t& used);
  std::optional<Event> parse_chunk_crlf(std::string_view rest, std::size_t& used);
  std::optional<Event> parse_trailer_line(std::string_view rest, std::size_t& used);

  Mode mode_;
  HTTP1ParserOptions options_;
  std::uint64_t default_max_body_size_;  // restored by reset(): set_max_body_size is per message
  State state_ = State::start;
  Framing framing_ = Framing::none;
  std::string head_;  // a copy of the start line (the start_line_ views point here)
  // Each head line is parsed as soon as its CRLF arrives, and the search for the next one resumes
  // where the previous call stopped, so bytes that arrive one at a time cost linear, not
  // quadratic, time. Offsets are into the caller's input, which holds the whole unconsumed head
  // every time.
  std::size_t lead_ = 0;        // bytes of empty lines skipped before the start line
  std::size_t line_start_ = 0;  // where the head line being searched begins
  // How far the search for the current line's LF got, from the line's start (head, chunk-size
  // and trailer lines alike).
  std::size_t scanned_ = 0;
  std::size_t start_line_end_ = 0;  // just past the start line's CRLF, once found
  std::size_t field_lines_ = 0;     // field lines found so far
  std::size_t seen_ = 0;            // size of the input last offered while reading the head
  HeadScan scan_;
  StartLine start_line_;
  HTTPHeaders headers_;
  HTTPHeaders trailers_;
  std::size_t trailer_bytes_ = 0;  // trailer section bytes consumed so far
  bool chunked_ = false;
  bool head_request_ = false;
  std::int64_t content_length_ = -1;
  std::uint64_t remaining_ = 0;  // of the Content-Length body or of the current chunk
  std::uint64_t body_bytes_ = 0;
  std::error_code error_;
};

}  // namespace cortado
