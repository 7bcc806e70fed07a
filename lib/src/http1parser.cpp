#include "cortado/http1parser.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>

#include "ascii.hpp"

namespace cortado {
namespace {

constexpr http_errc kOk{};

// ---------------------------------------------------------------------------------------------
// Character classes, one table lookup per byte.

enum : std::uint8_t {
  kTchar = 1,       // RFC 9110 5.6.2 tchar: field names, methods, tokens
  kFieldChar = 2,   // RFC 9110 5.5 field-vchar / obs-text, SP, HTAB: field values, reasons
  kTargetChar = 4,  // RFC 9112 3.2 request-target: anything but CTL and SP (obs-text tolerated)
  kHostChar = 8,    // RFC 3986 3.2.2 host [":" port]: unreserved, pct-encoded, sub-delims, "[]"
  kQdtext = 16,     // RFC 9110 5.6.4 qdtext
  kHexDigit = 32,
};

constexpr bool one_of(std::string_view set, int c) {
  return set.find(static_cast<char>(c)) != std::string_view::npos;
}

constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> table{};
  for (int c = 0; c < 256; ++c) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    std::uint8_t k = 0;
    if (alpha || digit || one_of("!#$%&'*+-.^_`|~", c)) k |= kTchar;
    if ((c >= 0x21 && c <= 0x7e) || c >= 0x80 || c == ' ' || c == '\t') k |= kFieldChar;
    if (c > 0x20 && c != 0x7f) k |= kTargetChar;
    if (alpha || digit || one_of("-._~%!$&'()*+,;=:[]", c)) k |= kHostChar;
    if (c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
        (c >= 0x5d && c <= 0x7e) || c >= 0x80) {
      k |= kQdtext;
    }
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) k |= kHexDigit;
    table[static_cast<std::size_t>(c)] = k;
  }
  return table;
}

constexpr auto kClasses = make_classes();

inline bool is(char c, std::uint8_t cls) {
  return (kClasses[static_cast<unsigned char>(c)] & cls) != 0;
}

bool all_of(std::string_view s, std::uint8_t cls) {
  for (char c : s) {
    if (!is(c, cls)) return false;
  }
  return true;
}

bool is_token(std::string_view s) {
  return !s.empty() && all_of(s, kTchar);
}

inline bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Calls f(element) for each comma-separated element of a list-valued field, trimmed of OWS.
template <class F>
void for_each_element(std::string_view list, F&& f) {
  for (;;) {
    const std::size_t comma = list.find(',');
    f(trim_ows(list.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Start lines and field lines.

constexpr int kMalformedVersion = -1;
constexpr int kUnsupportedVersion = -2;

// The minor version of an HTTP/1.0 or HTTP/1.1 version string, or one of the two codes above.
int parse_version(std::string_view v) {
  // RFC 9112 2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive.
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || !digit(v[5]) || v[6] != '.' || !digit(v[7])) {
    return kMalformedVersion;
  }
  if (v[5] != '1' || v[7] > '1') return kUnsupportedVersion;
  return v[7] - '0';
}

// RFC 9110 5.5: a field value is field-vchar (VCHAR / obs-text), SP and HTAB. CR, LF and NUL are
// invalid, and so (our choice, like most servers) is every other CTL: a bare CR is a line end to
// some parsers. Values are mostly plain printable ASCII, so eight bytes are checked at once and
// only a word holding a byte below 0x20 or a DEL (a CTL, or an HTAB) is looked at bytewise.
bool valid_field_value(std::string_view v) {
  std::size_t i = 0;
  for (; i + 8 <= v.size(); i += 8) {
    const std::uint64_t w = detail::swar::load(v.data() + i);
    if ((detail::swar::has_below_space(w) || detail::swar::has_del(w)) &&
        !all_of(v.substr(i, 8), kFieldChar)) {
      return false;
    }
  }
  return all_of(v.substr(i), kFieldChar);
}

// Splits a field line into a name and a value trimmed of OWS.
http_errc split_field(std::string_view line, std::string_view& name, std::string_view& value) {
  std::size_t colon = 0;
  while (colon < line.size() && is(line[colon], kTchar)) ++colon;
  // RFC 9110 5.1: field-name = token, ended by the colon. So a line starting with SP or HTAB
  // (obs-fold, which RFC 9112 5.2 lets us reject rather than unfold; or whitespace between the
  // start line and the first field, RFC 9112 2.2) is refused, and so is whitespace between the
  // name and the colon, which RFC 9112 5.1 says a server MUST answer with 400.
  if (colon == 0 || colon == line.size() || line[colon] != ':') return http_errc::bad_header;
  name = line.substr(0, colon);
  std::size_t begin = colon + 1, end = line.size();
  while (begin < end && is_ows(line[begin])) ++begin;
  while (end > begin && is_ows(line[end - 1])) --end;
  value = line.substr(begin, end - begin);
  // Checking the trimmed value suffices: OWS is valid field content anyway.
  if (!valid_field_value(value)) return http_errc::bad_header;
  return kOk;
}

// RFC 9110 5.6.4: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE. `i` is at the opening
// quote; on success it is just past the closing one.
bool skip_quoted_string(std::string_view s, std::size_t& i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '"') {
      ++i;
      return true;
    }
    if (s[i] == '\\') {
      // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
      if (++i == s.size() || !is(s[i], kFieldChar)) return false;
    } else if (!is(s[i], kQdtext)) {
      return false;
    }
  }
  return false;
}

// RFC 9112 7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ),
// chunk-ext-name = token, chunk-ext-val = token / quoted-string. Nothing else may follow the
// chunk size, not even trailing whitespace.
bool valid_chunk_extensions(std::string_view ext) {
  std::size_t i = 0;
  const auto skip_bws = [&] {
    while (i < ext.size() && is_ows(ext[i])) ++i;
  };
  const auto skip_token = [&] {
    const std::size_t begin = i;
    while (i < ext.size() && is(ext[i], kTchar)) ++i;
    return i > begin;
  };
  while (i < ext.size()) {
    skip_bws();
    if (i == ext.size() || ext[i] != ';') return false;
    ++i;
    skip_bws();
    if (!skip_token()) return false;
    const std::size_t after_name = i;
    skip_bws();
    if (i == ext.size() || ext[i] != '=') {
      i = after_name;  // that whitespace belongs before the next ";"
      continue;
    }
    ++i;
    skip_bws();
    if (i < ext.size() && ext[i] == '"') {
      if (!skip_quoted_string(ext, i)) return false;
    } else if (!skip_token()) {
      return false;
    }
  }
  return true;
}

// RFC 9112 2.2 asks a server to ignore at least one empty line before a request line; a bounded
// number keeps a stream of CRLFs from holding a connection for free.
constexpr std::size_t kMaxLeadingEmptyLines = 8;
// Hex digits (leading zeros included) allowed on a chunk-size line besides its extensions.
constexpr std::size_t kMaxChunkSizeDigits = 64;

// Limits may be set to SIZE_MAX to mean "none": offsets built from them must not wrap.
constexpr std::size_t add_saturated(std::size_t a, std::size_t b) {
  return b > std::numeric_limits<std::size_t>::max() - a ? std::numeric_limits<std::size_t>::max()
                                                         : a + b;
}

constexpr std::string_view kMessages[] = {
    "success",
    "malformed request line",
    "request method is not a token",
    "malformed request target",
    "request line too long",
    "unsupported HTTP version",
    "header block too large",
    "too many header fields",
    "malformed header field",
    "invalid or conflicting Content-Length",
    "conflicting or ambiguous message framing",
    "unsupported transfer coding",
    "malformed chunk",
    "chunk extensions too large",
    "trailer section too large",
    "message body too large",
    "malformed status line",
    "missing, repeated or invalid Host header",
    "connection closed in the middle of a message",
    "request body is not valid gzip",
};

class HTTPCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "cortado.http"; }
  std::string message(int value) const override {
    if (value < 0 || static_cast<std::size_t>(value) >= std::size(kMessages)) {
      return "unknown HTTP parse error";
    }
    return std::string(kMessages[value]);
  }
};

}  // namespace

const std::error_category& http_category() noexcept {
  static const HTTPCategory category;
  return category;
}

int status_for(std::error_code e) noexcept {
  if (e.category() != http_category()) return 400;
  switch (static_cast<http_errc>(e.value())) {
    case http_errc::uri_too_long:
      return 414;
    case http_errc::unsupported_version:
      return 505;
    case http_errc::header_too_large:
    case http_errc::too_many_headers:
    case http_errc::trailers_too_large:
      return 431;
    case http_errc::unsupported_transfer_coding:
      return 501;
    case http_errc::body_too_large:
      return 413;
    default:
      return 400;
  }
}

http_errc HTTP1Parser::HeadScan::note(std::string_view name, std::string_view value) {
  switch (name.size()) {
    case 4:
      if (iequals(name, "host")) {
        ++hosts;
        // RFC 9112 3.2: a Host with an invalid value gets a 400.
        if (!all_of(value, kHostChar)) host_valid = false;
      }
      return kOk;
    case 14:
      return iequals(name, "content-length") ? note_content_length(value) : kOk;
    case 17:
      if (iequals(name, "transfer-encoding")) note_transfer_encoding(value);
      return kOk;
    default:
      return kOk;
  }
}

http_errc HTTP1Parser::HeadScan::note_content_length(std::string_view value) {
  // RFC 9110 8.6: Content-Length = 1*DIGIT. A list of identical values (duplicates merged by a
  // proxy) may be taken as one; different values leave the length unknown, RFC 9112 6.3 rule 5.
  ++length_fields;
  http_errc result = kOk;
  bool first = true;
  for_each_element(value, [&](std::string_view element) {
    if (result != kOk) return;
    std::uint64_t n = 0;
    const auto* end = element.data() + element.size();
    const auto [ptr, ec] = std::from_chars(element.data(), end, n);
    // from_chars alone would take a leading '-' or stop early; digits only, and no overflow past
    // what content_length() can report.
    const bool digits_only = !element.empty() && element.front() >= '0' && element.front() <= '9';
    if (!digits_only || ec != std::errc{} || ptr != end ||
        n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
        (length_seen && n != length)) {
      result = http_errc::bad_content_length;
      return;
    }
    if (!first) length_list = true;
    first = false;
    length_seen = true;
    length = n;
  });
  return result;
}

void HTTP1Parser::HeadScan::note_transfer_encoding(std::string_view value) {
  // RFC 9110 5.3: several Transfer-Encoding lines read as one list, in order.
  transfer_encoding = true;
  for_each_element(value, [&](std::string_view coding) {
    if (coding.empty()) return;  // RFC 9110 5.6.1: empty list elements are ignored
    ++codings;
    last_chunked = iequals(coding, "chunked");
    if (last_chunked) ++chunked_codings;
  });
}

// ---------------------------------------------------------------------------------------------

HTTP1Parser::HTTP1Parser(Mode mode, HTTP1ParserOptions options)
    : mode_(mode), options_(options), default_max_body_size_(options.max_body_size) {}

void HTTP1Parser::reset() {
  state_ = State::start;
  framing_ = Framing::none;
  restart_head();
  trailers_.clear();
  trailer_bytes_ = 0;
  chunked_ = false;
  content_length_ = -1;
  remaining_ = 0;
  body_bytes_ = 0;
  error_ = {};
  options_.max_body_size = default_max_body_size_;
}

bool HTTP1Parser::has_body() const {
  switch (framing_) {
    case Framing::length:
      return content_length_ > 0;
    case Framing::chunked:
    case Framing::close:
      return true;
    default:
      return false;
  }
}

HTTP1Parser::Event HTTP1Parser::fail(http_errc e) {
  state_ = State::failed;
  error_ = e;
  return {Event::error, {}};
}

http_errc HTTP1Parser::start_line_error() const {
  return mode_ == Mode::request ? http_errc::bad_request_line : http_errc::bad_status_line;
}

std::uint64_t HTTP1Parser::body_room() const {
  return options_.max_body_size > body_bytes_ ? options_.max_body_size - body_bytes_ : 0;
}

HTTP1Parser::LineSearch HTTP1Parser::find_line(std::string_view rest, std::size_t limit) {
  const std::size_t end = std::min(rest.size(), limit);
  if (scanned_ > end) scanned_ = 0;  // offered less than last time: search it all again
  const void* lf =
      scanned_ < end ? std::memchr(rest.data() + scanned_, '\n', end - scanned_) : nullptr;
  if (lf == nullptr) {
    scanned_ = end;
    return {rest.size() >= limit ? LineSearch::too_long : LineSearch::partial, 0};
  }
  scanned_ = 0;
  return {LineSearch::found, static_cast<std::size_t>(static_cast<const char*>(lf) - rest.data())};
}

HTTP1Parser::Event HTTP1Parser::next(std::string_view input, std::size_t& used) {
  used = 0;
  for (;;) {
    switch (state_) {
      case State::start:
        return parse_head(input, used);
      case State::headers_done_pending:
        if (const http_errc e = begin_body(); e != kOk) return fail(e);
        continue;
      case State::body_length:
        return read_length_body(input, used);
      case State::chunk_size:
      case State::chunk_data:
      case State::chunk_crlf:
      case State::trailers:
        return parse_chunked(input, used);
      case State::body_until_close:
        return read_until_close(input, used);
      case State::done:
        return {Event::message_end, {}};
      case State::failed:
        return {Event::error, {}};
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The head.

HTTP1Parser::Event HTTP1Parser::parse_head(std::string_view input, std::size_t& used) {
  if (input.size() < seen_) restart_head();  // offered less than last time, against the contract
  seen_ = input.size();
  if (start_line_end_ == 0 && scanned_ == 0) {
    if (std::optional<Event> ev = skip_empty_lines(input)) return *ev;
  }
  const std::size_t head_limit = add_saturated(lead_, options_.max_header_size);
  for (;;) {
    const bool first = start_line_end_ == 0;
    std::size_t limit = head_limit - line_start_;
    if (first) limit = std::min(limit, options_.max_start_line);
    const LineSearch found =
        find_line({input.data() + line_start_, input.size() - line_start_}, limit);
    if (found.result == LineSearch::partial) return {};
    if (found.result == LineSearch::too_long) return fail(head_line_too_long(first, head_limit));
    const std::size_t lf = line_start_ + found.lf;
    // RFC 9112 2.2: a bare LF is not taken as a line end (see the header's comment).
    if (lf == line_start_ || input[lf - 1] != '\r') {
      return fail(first ? start_line_error() : http_errc::bad_header);
    }
    const std::string_view line(input.data() + line_start_, lf - 1 - line_start_);
    line_start_ = lf + 1;
    http_errc e = kOk;
    if (first) {
      start_line_end_ = line_start_;
      e = mode_ == Mode::request ? parse_request_line(line) : parse_status_line(line);
    } else if (line.empty()) {
      e = decide_framing();
      if (e == kOk) {
        used = line_start_;
        state_ = State::headers_done_pending;
        return {Event::headers, {}};
      }
    } else if (++field_lines_ > options_.max_headers) {
      e = http_errc::too_many_headers;
    } else {
      e = parse_field(line);
    }
    if (e != kOk) return fail(e);
  }
}

void HTTP1Parser::restart_head() {
  lead_ = line_start_ = scanned_ = start_line_end_ = field_lines_ = seen_ = 0;
  scan_ = {};
  start_line_ = {};
  head_.clear();
  headers_.clear();
}

// RFC 9112 2.2: empty lines before the start line are skipped, a bounded number of them.
std::optional<HTTP1Parser::Event> HTTP1Parser::skip_empty_lines(std::string_view input) {
  while (line_start_ < input.size() && (input[line_start_] == '\r' || input[line_start_] == '\n')) {
    if (line_start_ + 1 == input.size() && input[line_start_] == '\r') return Event{};
    if (input[line_start_] == '\n' || input[line_start_ + 1] != '\n' ||
        lead_ == 2 * kMaxLeadingEmptyLines) {
      return fail(start_line_error());
    }
    lead_ = line_start_ += 2;
  }
  return std::nullopt;
}

http_errc HTTP1Parser::head_line_too_long(bool first, std::size_t head_limit) const {
  if (first && options_.max_start_line <= head_limit - line_start_) {
    return mode_ == Mode::request ? http_errc::uri_too_long : http_errc::bad_status_line;
  }
  return http_errc::header_too_large;
}

http_errc HTTP1Parser::parse_request_line(std::string_view line) {
  // RFC 9112 3: request-line = method SP request-target SP HTTP-version, single spaces. Taking
  // the version after the last space makes a space inside the target a bad target.
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == sp2) return http_errc::bad_request_line;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const int minor = parse_version(line.substr(sp2 + 1));
  if (minor == kMalformedVersion) return http_errc::bad_request_line;
  if (!is_token(method)) return http_errc::bad_method;  // RFC 9110 9.1
  // RFC 9112 3.2: no CTL or SP in the target (which would let the line be split two ways).
  if (target.empty() || !all_of(target, kTargetChar)) return http_errc::bad_target;
  if (minor == kUnsupportedVersion) return http_errc::unsupported_version;  // RFC 9110 15.6.6
  head_.assign(line.data(), sp2);
  start_line_.method = std::string_view(head_).substr(0, sp1);
  start_line_.target = std::string_view(head_).substr(sp1 + 1);
  start_line_.version_minor = minor;
  return kOk;
}

http_errc HTTP1Parser::parse_status_line(std::string_view line) {
  // RFC 9112 4: status-line = HTTP-version SP status-code SP [ reason-phrase ]. A missing SP
  // before an empty reason is tolerated: common in the wild, and harmless to framing.
  const int minor = parse_version(line.substr(0, 8));
  if (minor == kMalformedVersion || line.size() < 12 || line[8] != ' ') {
    return http_errc::bad_status_line;
  }
  int status = 0;
  for (char c : line.substr(9, 3)) {
    if (c < '0' || c > '9') return http_errc::bad_status_line;
    status = status * 10 + (c - '0');
  }
  if (status < 100 || status > 599) return http_errc::bad_status_line;  // RFC 9110 15
  std::string_view reason;
  if (line.size() > 12) {
    if (line[12] != ' ') return http_errc::bad_status_line;
    reason = line.substr(13);
    if (!all_of(reason, kFieldChar)) return http_errc::bad_status_line;
  }
  if (minor == kUnsupportedVersion) return http_errc::unsupported_version;
  head_.assign(reason);
  start_line_.status = status;
  start_line_.reason = head_;
  start_line_.version_minor = minor;
  return kOk;
}

http_errc HTTP1Parser::parse_field(std::string_view line) {
  std::string_view name, value;
  if (const http_errc e = split_field(line, name, value); e != kOk) return e;
  if (const http_errc e = scan_.note(name, value); e != kOk) return e;
  headers_.add_from_line(line, name.size(), static_cast<std::size_t>(value.data() - line.data()),
                         value.size());
  return kOk;
}

http_errc HTTP1Parser::decide_framing() {
  const HeadScan& scan = scan_;
  const bool request = mode_ == Mode::request;
  // RFC 9112 3.2: exactly one Host in an HTTP/1.1 request, never two, and a valid value.
  if (request &&
      (scan.hosts > 1 || !scan.host_valid || (scan.hosts == 0 && start_line_.version_minor == 1))) {
    return http_errc::bad_host;
  }
  if (scan.transfer_encoding) {
    // RFC 9112 6.1 forbids sending both; 6.3 rule 3 says a message with both "ought to be handled
    // as an error": it is the classic request smuggling vector.
    if (scan.length_fields > 0) return http_errc::conflicting_framing;
    // RFC 9112 6.1: chunked MUST NOT be applied twice.
    if (scan.chunked_codings > 1) return http_errc::conflicting_framing;
    if (request) {
      // RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 means faulty framing. RFC 9112 6.3 rule 4:
      // a request whose final coding is not chunked (or that has none) gets a 400.
      if (start_line_.version_minor == 0 || (scan.chunked_codings == 1 && !scan.last_chunked) ||
          scan.codings == 0) {
        return http_errc::conflicting_framing;
      }
      // RFC 9112 6.1: a coding we do not implement gets a 501.
      if (scan.codings > 1 || !scan.last_chunked) return http_errc::unsupported_transfer_coding;
      chunked_ = true;
    } else {
      // RFC 9112 6.3 rule 4: a response whose final coding is not chunked runs until close; so
      // does an HTTP/1.0 one, whose Transfer-Encoding cannot be trusted (RFC 9112 6.1).
      chunked_ = scan.last_chunked && start_line_.version_minor == 1;
    }
    framing_ = chunked_ ? Framing::chunked : Framing::close;
  } else if (scan.length_fields > 0) {
    content_length_ = static_cast<std::int64_t>(scan.length);
    framing_ = Framing::length;
    if (scan.length_fields > 1 || scan.length_list) {
      // Collapse the identical values into one field, as Tornado does.
      char digits[24];
      const auto end = std::to_chars(digits, digits + sizeof digits, scan.length).ptr;
      headers_.set("Content-Length", std::string_view(digits, end - digits));
    }
  } else {
    // RFC 9112 6.3: a request without either has no body; a response runs until close.
    framing_ = request ? Framing::none : Framing::close;
  }
  const int status = start_line_.status;
  if (!request &&
      (head_request_ || (status >= 100 && status < 200) || status == 204 || status == 304)) {
    // RFC 9112 6.3 rule 1: these responses end with their header block.
    framing_ = Framing::none;
    chunked_ = false;
  }
  return kOk;
}

// ---------------------------------------------------------------------------------------------
// The body.

http_errc HTTP1Parser::begin_body() {
  switch (framing_) {
    case Framing::none:
      state_ = State::done;
      return kOk;
    case Framing::length:
      // Checked here rather than with the headers: set_max_body_size may have changed the limit.
      if (static_cast<std::uint64_t>(content_length_) > options_.max_body_size) {
        return http_errc::body_too_large;
      }
      remaining_ = static_cast<std::uint64_t>(content_length_);
      state_ = State::body_length;
      return kOk;
    case Framing::chunked:
      state_ = State::chunk_size;
      return kOk;
    case Framing::close:
      state_ = State::body_until_close;
      return kOk;
  }
  return kOk;
}

HTTP1Parser::Event HTTP1Parser::read_length_body(std::string_view input, std::size_t& used) {
  if (remaining_ == 0) {
    state_ = State::done;
    return {Event::message_end, {}};
  }
  if (input.empty()) return {};
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size()));
  remaining_ -= n;
  body_bytes_ += n;
  used = n;
  return {Event::body, input.substr(0, n)};
}

HTTP1Parser::Event HTTP1Parser::read_until_close(std::string_view input, std::size_t& used) {
  if (input.empty()) return {};
  // Hand out what fits first, so the events do not depend on how the input was split.
  const std::uint64_t room = body_room();
  if (room == 0) return fail(http_errc::body_too_large);
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(room, input.size()));
  body_bytes_ += n;
  used = n;
  return {Event::body, input.substr(0, n)};
}

HTTP1Parser::Event HTTP1Parser::parse_chunked(std::string_view input, std::size_t& used) {
  for (;;) {
    const std::string_view rest = input.substr(used);
    std::optional<Event> event;
    switch (state_) {
      case State::chunk_size:
        event = parse_chunk_size(rest, used);
        break;
      case State::chunk_data:
        event = read_chunk_data(rest, used);
        break;
      case State::chunk_crlf:
        event = parse_chunk_crlf(rest, used);
        break;
      case State::trailers:
        event = parse_trailer_line(rest, used);
        break;
      default:  // not reached: the steps above return before leaving the chunked states
        return fail(http_errc::bad_chunk);
    }
    if (event) return *event;
  }
}

// RFC 9112 7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF; last-chunk has size 0.
std::optional<HTTP1Parser::Event> HTTP1Parser::parse_chunk_size(std::string_view rest,
                                                                std::size_t& used) {
  const std::size_t limit =
      add_saturated(kMaxChunkSizeDigits + 2, options_.max_chunk_extension_size);
  const LineSearch line = find_line(rest, limit);
  if (line.result == LineSearch::partial) return Event{};
  if (line.result == LineSearch::too_long) {
    const bool has_ext = rest.substr(0, limit).find(';') != std::string_view::npos;
    return fail(has_ext ? http_errc::chunk_extension_too_large : http_errc::bad_chunk);
  }
  if (line.lf == 0 || rest[line.lf - 1] != '\r') return fail(http_errc::bad_chunk);
  const std::string_view text = rest.substr(0, line.lf - 1);
  std::size_t i = 0;
  std::uint64_t size = 0;
  for (; i < text.size() && is(text[i], kHexDigit); ++i) {
    // RFC 9112 7.1: a recipient MUST anticipate large sizes and guard against overflow.
    if (size >> 60 != 0) return fail(http_errc::bad_chunk);
    const char c = text[i];
    const int digit = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    size = size << 4 | static_cast<std::uint64_t>(digit);
  }
  if (i == 0) return fail(http_errc::bad_chunk);
  const std::string_view ext = text.substr(i);
  if (ext.size() > options_.max_chunk_extension_size) {
    return fail(http_errc::chunk_extension_too_large);
  }
  if (!valid_chunk_extensions(ext)) return fail(http_errc::bad_chunk);
  if (size > body_room()) return fail(http_errc::body_too_large);
  used += line.lf + 1;
  remaining_ = size;
  state_ = size == 0 ? State::trailers : State::chunk_data;
  return std::nullopt;
}

std::optional<HTTP1Parser::Event> HTTP1Parser::read_chunk_data(std::string_view rest,
                                                               std::size_t& used) {
  if (rest.empty()) return Event{};
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size()));
  remaining_ -= n;
  body_bytes_ += n;
  used += n;
  if (remaining_ == 0) state_ = State::chunk_crlf;
  return Event{Event::body, rest.substr(0, n)};
}

std::optional<HTTP1Parser::Event> HTTP1Parser::parse_chunk_crlf(std::string_view rest,
                                                                std::size_t& used) {
  // RFC 9112 7.1: chunk-data is followed by exactly CRLF.
  if (rest.empty()) return Event{};
  if (rest[0] != '\r') return fail(http_errc::bad_chunk);
  if (rest.size() == 1) return Event{};
  if (rest[1] != '\n') return fail(http_errc::bad_chunk);
  used += 2;
  state_ = State::chunk_size;
  return std::nullopt;
}

// RFC 9112 7.1.2: trailer-section = *( field-line CRLF ), then the CRLF that ends the body. The
// trailers are bounded like a header block and kept apart from the headers (RFC 9110 6.5.1).
std::optional<HTTP1Parser::Event> HTTP1Parser::parse_trailer_line(std::string_view rest,
                                                                  std::size_t& used) {
  const LineSearch line = find_line(rest, options_.max_header_size - trailer_bytes_);
  if (line.result == LineSearch::partial) return Event{};
  if (line.result == LineSearch::too_long) return fail(http_errc::trailers_too_large);
  if (line.lf == 0 || rest[line.lf - 1] != '\r') return fail(http_errc::bad_chunk);
  used += line.lf + 1;
  trailer_bytes_ += line.lf + 1;
  if (line.lf == 1) {
    state_ = State::done;
    return Event{Event::message_end, {}};
  }
  if (trailers_.size() >= options_.max_headers) return fail(http_errc::trailers_too_large);
  const std::string_view field = rest.substr(0, line.lf - 1);
  std::string_view name, value;
  if (const http_errc e = split_field(field, name, value); e != kOk) return fail(e);
  trailers_.add_from_line(field, name.size(), static_cast<std::size_t>(value.data() - field.data()),
                          value.size());
  return std::nullopt;
}

HTTP1Parser::Event HTTP1Parser::eof() {
  switch (state_) {
    case State::failed:
      return {Event::error, {}};
    case State::done:
      return {Event::message_end, {}};
    case State::start:
      // Nothing but empty lines offered since the last message: a clean close.
      if (seen_ <= lead_) return {};
      break;
    case State::headers_done_pending:
      if (!has_body()) {
        state_ = State::done;
        return {Event::message_end, {}};
      }
      if (framing_ != Framing::close) break;
      [[fallthrough]];
    case State::body_until_close:
      // RFC 9112 6.3 rule 8: a close-delimited body ends with the connection.
      state_ = State::done;
      return {Event::message_end, {}};
    case State::body_length:
      if (remaining_ == 0) {
        state_ = State::done;
        return {Event::message_end, {}};
      }
      break;
    default:
      break;
  }
  return fail(http_errc::unexpected_eof);
}

}  // namespace cortado
