#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <limits>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "cortado/http1parser.hpp"

using namespace std::string_literals;
using cortado::HTTP1Parser;
using cortado::HTTP1ParserOptions;
using cortado::http_errc;
using Mode = HTTP1Parser::Mode;
using Event = HTTP1Parser::Event;

// ---------------------------------------------------------------------------------------------
// Counting allocations: the parser must not allocate once a connection has warmed up. The
// replacement operators count only while `counting` is set, so the rest of the suite is unaffected.
namespace {
std::atomic<bool> counting{false};
std::atomic<std::size_t> allocations{0};
}  // namespace

// GCC takes free() inside a replacement operator delete for a mismatch; here it pairs with the
// malloc() just above.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  return ::operator new(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  ::operator delete(p);
}
void operator delete(void* p, std::size_t) noexcept {
  ::operator delete(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  ::operator delete(p);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

// Everything observable about one parsed message.
struct Message {
  std::string method, target, reason;
  int status = 0;
  int minor = -1;
  Fields headers, trailers;
  std::string body;
  bool chunked = false;
  bool has_body = false;
  std::int64_t content_length = -1;
};

// Everything observable about parsing one input: the events (body events merged, need_more
// left out), the messages and the error.
struct Outcome {
  std::string events;
  std::vector<Message> messages;
  std::error_code error;
};

Fields fields_of(const cortado::HTTPHeaders& h) {
  Fields out;
  h.for_each([&](cortado::HTTPHeaders::Field f) { out.emplace_back(f.name, f.value); });
  return out;
}

std::string escape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      constexpr char hex[] = "0123456789abcdef";
      out.append("\\x");
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

// A readable rendering, so that two outcomes compare in one CHECK with a useful diff.
std::string describe(const Outcome& o) {
  std::string s = o.events;
  s.append(" | error=");
  s.append(o.error ? o.error.message() : "none");
  for (const Message& m : o.messages) {
    s.append("\n  [");
    s.append(m.method);
    s.append(" ");
    s.append(escape(m.target));
    s.append(" 1.");
    s.append(std::to_string(m.minor));
    s.append(" ");
    s.append(std::to_string(m.status));
    s.append(" ");
    s.append(escape(m.reason));
    s.append("] chunked=");
    s.append(m.chunked ? "1" : "0");
    s.append(" has_body=");
    s.append(m.has_body ? "1" : "0");
    s.append(" cl=");
    s.append(std::to_string(m.content_length));
    for (const auto& [name, value] : m.headers) {
      s.append(" {");
      s.append(escape(name));
      s.append(":");
      s.append(escape(value));
      s.append("}");
    }
    s.append(" body=");
    s.append(escape(m.body));
    for (const auto& [name, value] : m.trailers) {
      s.append(" trailer{");
      s.append(escape(name));
      s.append(":");
      s.append(escape(value));
      s.append("}");
    }
  }
  return s;
}

struct Run {
  Mode mode = Mode::request;
  HTTP1ParserOptions options = {};
  bool head_request = false;
  bool eof = false;  // tell the parser the peer closed after the input
};

// Drives a parser the way a connection does: bytes arrive `piece` at a time into a buffer, every
// event's `used` bytes are dropped from it, and after each message the parser is reset.
class Driver {
 public:
  explicit Driver(const Run& run) : parser_(run.mode, run.options) {
    parser_.set_head_request(run.head_request);
  }

  Outcome parse(std::string_view input, std::size_t piece, bool eof) {
    for (std::size_t fed = 0; fed < input.size() && !stopped_;) {
      const std::size_t n = std::min(piece, input.size() - fed);
      pending_.append(input.substr(fed, n));
      fed += n;
      drain();
    }
    if (eof && !stopped_) {
      const Event ev = parser_.eof();
      if (ev.kind != Event::need_more) record(ev);
    }
    return std::move(out_);
  }

 private:
  void drain() {
    std::size_t offset = 0;
    for (std::size_t guard = 0; !stopped_; ++guard) {
      REQUIRE(guard < 10'000'000);  // every event makes progress
      const std::string_view input = std::string_view(pending_).substr(offset);
      std::size_t used = 0;
      const Event ev = parser_.next(input, used);
      REQUIRE(used <= input.size());
      if (ev.kind == Event::body) {
        // Body events are views into the input, never copies.
        REQUIRE(ev.data.data() >= input.data());
        REQUIRE(ev.data.data() + ev.data.size() <= input.data() + input.size());
      }
      offset += used;
      if (ev.kind == Event::need_more) break;
      record(ev);
    }
    pending_.erase(0, offset);
  }

  void record(const Event& ev) {
    switch (ev.kind) {
      case Event::headers: {
        add_event("headers");
        const auto& line = parser_.start_line();
        current_.method = line.method;
        current_.target = line.target;
        current_.reason = line.reason;
        current_.status = line.status;
        current_.minor = line.version_minor;
        current_.headers = fields_of(parser_.headers());
        current_.chunked = parser_.chunked();
        current_.has_body = parser_.has_body();
        current_.content_length = parser_.content_length();
        break;
      }
      case Event::body:
        if (!out_.events.ends_with("body")) add_event("body");
        current_.body.append(ev.data);
        break;
      case Event::message_end:
        add_event("end");
        current_.trailers = fields_of(parser_.trailers());
        CHECK(parser_.body_bytes() == current_.body.size());
        out_.messages.push_back(std::exchange(current_, Message{}));
        parser_.reset();
        break;
      case Event::error:
        add_event("error");
        out_.error = parser_.error();
        stopped_ = true;
        break;
      case Event::need_more:
        break;
    }
  }

  void add_event(std::string_view name) {
    if (!out_.events.empty()) out_.events.push_back(',');
    out_.events.append(name);
  }

  HTTP1Parser parser_;
  std::string pending_;
  Outcome out_;
  Message current_;
  bool stopped_ = false;
};

constexpr std::size_t kWhole = std::numeric_limits<std::size_t>::max();

Outcome parse(std::string_view input, std::size_t piece = kWhole, const Run& run = {}) {
  return Driver(run).parse(input, piece, run.eof);
}

// One row of a table: the input and what must come out of it.
struct Case {
  const char* name;
  std::string input;
  std::string events;  // e.g. "headers,body,end"; ends in "error" when `error` is expected
  http_errc error = http_errc{};
  int status = 0;  // for errors: status_for(error)
  std::string method = {}, target = {};
  int minor = 1;
  Fields headers = {};  // the first message's headers, checked when not empty
  std::string body = {};
  Fields trailers = {};
};

void check_case(const Case& c, const Run& run = {}) {
  INFO("case: ", std::string(c.name), " input: ", escape(c.input));
  const Outcome whole = parse(c.input, kWhole, run);
  CHECK(whole.events == c.events);
  if (c.error != http_errc{}) {
    CHECK(whole.error == make_error_code(c.error));
    CHECK(cortado::status_for(whole.error) == c.status);
  } else {
    CHECK_FALSE(whole.error);
  }
  if (!whole.messages.empty()) {
    const Message& m = whole.messages.front();
    if (run.mode == Mode::request) {
      CHECK(m.method == c.method);
      CHECK(m.target == c.target);
    }
    CHECK(m.minor == c.minor);
    if (!c.headers.empty()) CHECK(m.headers == c.headers);
    CHECK(m.body == c.body);
    CHECK(m.trailers == c.trailers);
  }
  // The same bytes in any split give the same result: every event, message and error.
  for (std::size_t piece : {1, 2, 3, 7, 64}) {
    INFO("piece size ", piece);
    CHECK(describe(parse(c.input, piece, run)) == describe(whole));
  }
}

// Concatenation by append (g++ 12 warns falsely on some operator+ chains of std::string).
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::string out;
  (out.append(std::string_view(parts)), ...);
  return out;
}

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) out.append(s);
  return out;
}

std::string request_with_header_lines(std::size_t n) {
  std::string s = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (std::size_t i = 0; i < n; ++i) {
    s.append("X-Repeated: ");
    s.append(std::to_string(i));
    s.append("\r\n");
  }
  s.append("\r\n");
  return s;
}

const std::string kPost = "POST /submit HTTP/1.1\r\nHost: h\r\n";
const std::string kChunkedPost =
    "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";

std::string post_with(std::string_view header_lines, std::string_view rest = "") {
  std::string s = kPost;
  s.append(header_lines);
  s.append("\r\n");
  s.append(rest);
  return s;
}

std::string chunked_post(std::string_view body) {
  std::string s = kChunkedPost;
  s.append(body);
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

TEST_CASE("http1parser: valid requests") {
  const std::vector<Case> cases = {
      {.name = "simple GET",
       .input = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
       .events = "headers,end",
       .method = "GET",
       .target = "/",
       .headers = {{"Host", "example.com"}}},
      {.name = "fields keep order and case, values lose OWS",
       .input = "GET /p?q=1&r=%20 HTTP/1.1\r\nHost: h\r\nX-A:  v1 \t\r\nx-a:v2\r\nEmpty:\r\n"
                "Sp: \t \r\nTab: a\tb\r\n\r\n",
       .events = "headers,end",
       .method = "GET",
       .target = "/p?q=1&r=%20",
       .headers = {{"Host", "h"},
                   {"X-A", "v1"},
                   {"x-a", "v2"},
                   {"Empty", ""},
                   {"Sp", ""},
                   {"Tab", "a\tb"}}},
      {.name = "HTTP/1.0 needs no Host",
       .input = "GET /old HTTP/1.0\r\n\r\n",
       .events = "headers,end",
       .method = "GET",
       .target = "/old",
       .minor = 0},
      {.name = "obs-text in values and target",
       .input = "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9\x80\xff\r\n\r\n",
       .events = "headers,end",
       .method = "GET",
       .target = "/caf\xc3\xa9",
       .headers = {{"Host", "h"}, {"X-Name", "caf\xc3\xa9\x80\xff"}}},
      {.name = "asterisk-form and an extension method",
       .input = "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
       .events = "headers,end",
       .method = "OPTIONS",
       .target = "*"},
      {.name = "absolute-form target",
       .input = "PURGE http://a.example/x?y HTTP/1.1\r\nHost: a.example\r\n\r\n",
       .events = "headers,end",
       .method = "PURGE",
       .target = "http://a.example/x?y"},
      {.name = "Host: empty, IPv6 literal with port",
       .input = "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
       .events = "headers,end",
       .method = "GET",
       .target = "/"},
      {.name = "empty Host is allowed",
       .input = "GET / HTTP/1.1\r\nHost:\r\n\r\n",
       .events = "headers,end",
       .method = "GET",
       .target = "/"},
      {.name = "leading empty lines are skipped",
       .input = "\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
       .events = "headers,end",
       .method = "GET",
       .target = "/"},
      {.name = "Content-Length body",
       .input = post_with("Content-Length: 11\r\n", "hello world"),
       .events = "headers,body,end",
       .method = "POST",
       .target = "/submit",
       .body = "hello world"},
      {.name = "Content-Length: 0",
       .input = post_with("Content-Length: 0\r\n"),
       .events = "headers,end",
       .method = "POST",
       .target = "/submit"},
      {.name = "Content-Length with leading zeros",
       .input = post_with("Content-Length: 003\r\n", "abc"),
       .events = "headers,body,end",
       .method = "POST",
       .target = "/submit",
       .body = "abc"},
      {.name = "identical Content-Length lines collapse into one",
       .input = post_with("Content-Length: 3\r\nX: y\r\ncontent-length: 3\r\n", "abc"),
       .events = "headers,body,end",
       .method = "POST",
       .target = "/submit",
       .headers = {{"Host", "h"}, {"Content-Length", "3"}, {"X", "y"}},
       .body = "abc"},
      {.name = "an identical Content-Length list collapses into one value",
       .input = post_with("Content-Length: 3, 3,03\r\n", "abc"),
       .events = "headers,body,end",
       .method = "POST",
       .target = "/submit",
       .headers = {{"Host", "h"}, {"Content-Length", "3"}},
       .body = "abc"},
      {.name = "chunked",
       .input = chunked_post("4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n"),
       .events = "headers,body,end",
       .method = "POST",
       .target = "/up",
       .body = "Wikipedia in\r\n\r\nchunks."},
      {.name = "chunked with extensions",
       .input = chunked_post("4;a=b;c\r\nWiki\r\n5 ; name=\"quoted \\\" ;val\" ;x=y\r\npedia\r\n"
                             "a;\tt=\"\"\r\n0123456789\r\n0000;last\r\n\r\n"),
       .events = "headers,body,end",
       .method = "POST",
       .target = "/up",
       .body = "Wikipedia0123456789"},
      {.name = "chunked with trailers kept apart from the headers",
       .input = chunked_post("3\r\nabc\r\n0\r\nX-Checksum: 42\r\nx-more:  a b \r\n\r\n"),
       .events = "headers,body,end",
       .method = "POST",
       .target = "/up",
       .headers = {{"Host", "h"}, {"Transfer-Encoding", "chunked"}},
       .body = "abc",
       .trailers = {{"X-Checksum", "42"}, {"x-more", "a b"}}},
      {.name = "chunked: empty body, hex in both cases, leading zeros",
       .input = chunked_post("0000000A\r\n0123456789\r\nf\r\nabcdefghijklmno\r\n0\r\n\r\n"),
       .events = "headers,body,end",
       .method = "POST",
       .target = "/up",
       .body = "0123456789abcdefghijklmno"},
      {.name = "Transfer-Encoding is case-insensitive and may hold empty elements",
       .input = post_with("Transfer-Encoding: , CHUNKED ,\r\n", "1\r\nx\r\n0\r\n\r\n"),
       .events = "headers,body,end",
       .method = "POST",
       .target = "/submit",
       .body = "x"},
  };
  for (const Case& c : cases) check_case(c);
}

TEST_CASE("http1parser: malformed request lines") {
  const auto line = [](std::string_view start) {
    std::string s(start);
    s.append("\r\nHost: h\r\n\r\n");
    return s;
  };
  const std::vector<Case> cases = {
      {"HTTP/0.9 style", line("GET /"), "error", http_errc::bad_request_line, 400},
      {"one word", line("GET"), "error", http_errc::bad_request_line, 400},
      {"trailing space", line("GET / HTTP/1.1 "), "error", http_errc::bad_request_line, 400},
      {"lowercase version", line("GET / http/1.1"), "error", http_errc::bad_request_line, 400},
      {"two-digit minor", line("GET / HTTP/1.10"), "error", http_errc::bad_request_line, 400},
      {"no minor", line("GET / HTTP/1"), "error", http_errc::bad_request_line, 400},
      {"garbage version", line("GET / FOO"), "error", http_errc::bad_request_line, 400},
      {"HTTP/2.0", line("GET / HTTP/2.0"), "error", http_errc::unsupported_version, 505},
      {"HTTP/1.2", line("GET / HTTP/1.2"), "error", http_errc::unsupported_version, 505},
      {"HTTP/0.9", line("GET / HTTP/0.9"), "error", http_errc::unsupported_version, 505},
      {"method not a token", line("G(T / HTTP/1.1"), "error", http_errc::bad_method, 400},
      {"method with obs-text", line("G\xc3\x89T / HTTP/1.1"), "error", http_errc::bad_method, 400},
      {"empty method", line(" / HTTP/1.1"), "error", http_errc::bad_method, 400},
      {"double space", line("GET  / HTTP/1.1"), "error", http_errc::bad_target, 400},
      {"space in target", line("GET /a b HTTP/1.1"), "error", http_errc::bad_target, 400},
      {"tab in target", line("GET /a\tb HTTP/1.1"), "error", http_errc::bad_target, 400},
      {"CTL in target", line("GET /a\x01 HTTP/1.1"), "error", http_errc::bad_target, 400},
      {"DEL in target", line("GET /a\x7f HTTP/1.1"), "error", http_errc::bad_target, 400},
      {"NUL in target", line("GET /a\0b HTTP/1.1"s), "error", http_errc::bad_target, 400},
      {"bare CR in target", line("GET /a\rb HTTP/1.1"), "error", http_errc::bad_target, 400},
      {"bare LF ends the request line", "GET / HTTP/1.1\nHost: h\r\n\r\n", "error",
       http_errc::bad_request_line, 400},
      {"bare LF before the request line", "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", "error",
       http_errc::bad_request_line, 400},
      {"bare LFs as empty lines", "\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", "error",
       http_errc::bad_request_line, 400},
      {"bare CR before the request line", "\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", "error",
       http_errc::bad_request_line, 400},
      {"too many leading empty lines", repeat("\r\n", 9).append(line("GET / HTTP/1.1")), "error",
       http_errc::bad_request_line, 400},
      {"request line too long", line(cat("GET /", std::string(9000, 'a'), " HTTP/1.1")), "error",
       http_errc::uri_too_long, 414},
      {"request line never ends", cat("GET /", std::string(9000, 'a')), "error",
       http_errc::uri_too_long, 414},
  };
  for (const Case& c : cases) check_case(c);
}

TEST_CASE("http1parser: malformed header fields") {
  const auto head = [](std::string_view fields) {
    std::string s = "GET / HTTP/1.1\r\n";
    s.append(fields);
    s.append("\r\n");
    return s;
  };
  const auto bad = [&](const char* name, std::string fields) {
    return Case{name, head(fields), "error", http_errc::bad_header, 400};
  };
  const std::vector<Case> cases = {
      bad("space before colon", "Host : h\r\n"),
      bad("tab before colon", "Host\t: h\r\n"),
      bad("obs-fold", "Host: h\r\nX: a\r\n b\r\n"),
      bad("obs-fold with a tab", "Host: h\r\nX: a\r\n\tb\r\n"),
      bad("whitespace before the first field", " Host: h\r\n"),
      bad("no colon", "Host: h\r\nNoColon\r\n"),
      bad("empty name", "Host: h\r\n: v\r\n"),
      bad("name not a token", "Host: h\r\nX(y): v\r\n"),
      bad("name with obs-text", "Host: h\r\nX\xe9: v\r\n"),
      bad("NUL in value", "Host: h\r\nX: a\0b\r\n"s),
      bad("bare CR in value", "Host: h\r\nX: a\rb\r\n"),
      bad("CR before CRLF", "Host: h\r\nX: a\r\r\n"),
      bad("CTL in value", "Host: h\r\nX: a\x01\r\n"),
      bad("ESC in value", "Host: h\r\nX: \x1b[0m\r\n"),
      bad("DEL in value", "Host: h\r\nX: a\x7f\r\n"),
      bad("bare LF ends a field", "Host: h\nX: y\r\n"),
      bad("bare LF ends the block", "Host: h\r\n\n"),
      bad("bare LF as an empty line after CR", "Host: h\r\n\r\r\n"),
  };
  for (const Case& c : cases) check_case(c);
}

TEST_CASE("http1parser: framing that could be smuggled") {
  const auto bad_cl = [](const char* name, std::string fields) {
    return Case{name, post_with(fields, "abc"), "error", http_errc::bad_content_length, 400};
  };
  const std::vector<Case> cases = {
      bad_cl("letters", "Content-Length: abc\r\n"),
      bad_cl("negative", "Content-Length: -1\r\n"),
      bad_cl("plus sign", "Content-Length: +3\r\n"),
      bad_cl("decimal point", "Content-Length: 3.0\r\n"),
      bad_cl("hex", "Content-Length: 0x3\r\n"),
      bad_cl("empty", "Content-Length:\r\n"),
      bad_cl("inner space", "Content-Length: 1 2\r\n"),
      bad_cl("overflowing uint64", "Content-Length: 99999999999999999999999\r\n"),
      bad_cl("past int64", "Content-Length: 9223372036854775808\r\n"),
      bad_cl("two different values", "Content-Length: 3\r\nContent-Length: 4\r\n"),
      bad_cl("a list of different values", "Content-Length: 3, 4\r\n"),
      bad_cl("an empty list element", "Content-Length: 3,,3\r\n"),
      bad_cl("a trailing comma", "Content-Length: 3,\r\n"),
      {"Content-Length and Transfer-Encoding",
       post_with("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), "error",
       http_errc::conflicting_framing, 400},
      {"Transfer-Encoding and Content-Length",
       post_with("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", "0\r\n\r\n"), "error",
       http_errc::conflicting_framing, 400},
      {"chunked not final", post_with("Transfer-Encoding: chunked, gzip\r\n"), "error",
       http_errc::conflicting_framing, 400},
      {"chunked twice", post_with("Transfer-Encoding: chunked, chunked\r\n"), "error",
       http_errc::conflicting_framing, 400},
      {"chunked twice over two lines",
       post_with("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), "error",
       http_errc::conflicting_framing, 400},
      {"empty Transfer-Encoding", post_with("Transfer-Encoding: \r\n"), "error",
       http_errc::conflicting_framing, 400},
      {"Transfer-Encoding in HTTP/1.0",
       "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "error",
       http_errc::conflicting_framing, 400},
      {"gzip", post_with("Transfer-Encoding: gzip\r\n"), "error",
       http_errc::unsupported_transfer_coding, 501},
      {"identity", post_with("Transfer-Encoding: identity\r\n"), "error",
       http_errc::unsupported_transfer_coding, 501},
      {"gzip then chunked", post_with("Transfer-Encoding: gzip, chunked\r\n"), "error",
       http_errc::unsupported_transfer_coding, 501},
      {"gzip and chunked on two lines",
       post_with("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), "error",
       http_errc::unsupported_transfer_coding, 501},
      {"quoted chunked", post_with("Transfer-Encoding: \"chunked\"\r\n"), "error",
       http_errc::unsupported_transfer_coding, 501},
      {"chunked with a parameter", post_with("Transfer-Encoding: chunked;q=1\r\n"), "error",
       http_errc::unsupported_transfer_coding, 501},
      {"HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", "error", http_errc::bad_host, 400},
      {"two Host lines", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", "error",
       http_errc::bad_host, 400},
      {"two Host lines in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", "error",
       http_errc::bad_host, 400},
      {"Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "error", http_errc::bad_host,
       400},
      {"Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", "error", http_errc::bad_host,
       400},
      {"Host with a path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", "error", http_errc::bad_host,
       400},
  };
  for (const Case& c : cases) check_case(c);
}

TEST_CASE("http1parser: malformed chunked bodies") {
  const auto bad = [](const char* name, std::string body, std::string events = "headers,error") {
    return Case{name, chunked_post(body), events, http_errc::bad_chunk, 400, "POST", "/up"};
  };
  const std::vector<Case> cases = {
      bad("size not hex", "x\r\n"),
      bad("no size", "\r\n"),
      bad("negative size", "-1\r\n"),
      bad("size with a 0x prefix", "0x1\r\nx\r\n0\r\n\r\n"),
      bad("size overflows 64 bits", "10000000000000000\r\n"),
      bad("size then a space", "1 \r\nx\r\n0\r\n\r\n"),
      bad("size ended by a bare LF", "1\nx\r\n0\r\n\r\n"),
      bad("size ended by a bare LF, as a lax parser reads it", "11\nx\r\n0\r\n\r\n"),
      bad("extensions ended by a bare LF", "1;a=b\nx\r\n0\r\n\r\n"),
      bad("size line with a bare CR", "1\rx\r\n0\r\n\r\n"),
      bad("data longer than its size", "1\r\nxy\r\n0\r\n\r\n", "headers,body,error"),
      bad("data ended by a bare LF", "1\r\nx\n0\r\n\r\n", "headers,body,error"),
      bad("data ended by a bare CR", "1\r\nx\r0\r\n\r\n", "headers,body,error"),
      bad("data ended by CR and another byte", "1\r\nx\rZ0\r\n\r\n", "headers,body,error"),
      bad("empty extension", "1;\r\nx\r\n0\r\n\r\n"),
      bad("extension without a value", "1;a=\r\nx\r\n0\r\n\r\n"),
      bad("extension name not a token", "1;a b\r\nx\r\n0\r\n\r\n"),
      bad("extension value not a token", "1;a=b c\r\nx\r\n0\r\n\r\n"),
      bad("unterminated quoted extension", "1;a=\"b\r\nx\r\n0\r\n\r\n"),
      bad("CTL in a quoted extension", "1;a=\"\x01\"\r\nx\r\n0\r\n\r\n"),
      bad("extension after trailing space", "1;a \r\nx\r\n0\r\n\r\n"),
      bad("last chunk ended by a bare LF", "0\n\r\n"),
      bad("final CRLF replaced by a bare LF", "0\r\n\n"),
      bad("trailer ended by a bare LF", "0\r\nX: y\n\r\n"),
      bad("trailer ended by a bare LF, as a lax parser reads it", "0\r\nX: yy\n\r\n"),
      bad("size line longer than the bound", cat(std::string(1200, '0'), "1\r\nx\r\n0\r\n\r\n")),
      {"extensions too large",
       chunked_post(cat("1;a=", std::string(2000, 'b'), "\r\nx\r\n0\r\n\r\n")), "headers,error",
       http_errc::chunk_extension_too_large, 400, "POST", "/up"},
      {"extensions just over the limit",
       chunked_post(cat("1;a=", std::string(1022, 'b'), "\r\nx\r\n0\r\n\r\n")), "headers,error",
       http_errc::chunk_extension_too_large, 400, "POST", "/up"},
      {"extensions at the limit",
       chunked_post(cat("1;a=", std::string(1021, 'b'), "\r\nx\r\n0\r\n\r\n")),
       "headers,body,end",
       http_errc{},
       0,
       "POST",
       "/up",
       1,
       {},
       "x"},
      {"extensions never end", chunked_post(cat("1;a=", std::string(2000, 'b'))), "headers,error",
       http_errc::chunk_extension_too_large, 400, "POST", "/up"},
      {"malformed trailer", chunked_post("0\r\nX : y\r\n\r\n"), "headers,error",
       http_errc::bad_header, 400, "POST", "/up"},
      {"folded trailer", chunked_post("0\r\nX: y\r\n z\r\n\r\n"), "headers,error",
       http_errc::bad_header, 400, "POST", "/up"},
      {"too many trailers", chunked_post(cat("0\r\n", repeat("T: v\r\n", 101), "\r\n")),
       "headers,error", http_errc::trailers_too_large, 431, "POST", "/up"},
      {"trailer section too large",
       chunked_post(cat("0\r\nT: ", std::string(70000, 'v'), "\r\n\r\n")), "headers,error",
       http_errc::trailers_too_large, 431, "POST", "/up"},
  };
  for (const Case& c : cases) check_case(c);
}

TEST_CASE("http1parser: limits") {
  SUBCASE("too many header fields") {
    check_case(
        {"101 fields", request_with_header_lines(100), "error", http_errc::too_many_headers, 431});
    check_case({"100 fields", request_with_header_lines(99), "headers,end", {}, 0, "GET", "/"});
  }
  SUBCASE("header block too large") {
    std::string big = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
    big.append(70000, 'v');
    big.append("\r\n\r\n");
    check_case({"70 kB block", big, "error", http_errc::header_too_large, 431});
    big.resize(big.size() - 4);  // and one that never ends
    check_case({"70 kB unterminated", big, "error", http_errc::header_too_large, 431});
  }
  SUBCASE("exact bounds are inclusive") {
    const std::string request = "GET /abc HTTP/1.1\r\nHost: h\r\n\r\n";
    Run run;
    run.options.max_start_line = 19;  // "GET /abc HTTP/1.1\r\n"
    run.options.max_header_size = request.size();
    check_case({"exactly at the limits", request, "headers,end", {}, 0, "GET", "/abc"}, run);
    run.options.max_start_line = 18;
    check_case({"start line one over", request, "error", http_errc::uri_too_long, 414}, run);
    run.options.max_start_line = 19;
    run.options.max_header_size = request.size() - 1;
    check_case({"block one over", request, "error", http_errc::header_too_large, 431}, run);
  }
  SUBCASE("body too large") {
    Run run;
    run.options.max_body_size = 10;
    check_case({"Content-Length over the limit", post_with("Content-Length: 11\r\n", "01234567890"),
                "headers,error", http_errc::body_too_large, 413},
               run);
    check_case({"Content-Length at the limit",
                post_with("Content-Length: 10\r\n", "0123456789"),
                "headers,body,end",
                {},
                0,
                "POST",
                "/submit",
                1,
                {},
                "0123456789"},
               run);
    check_case({"one chunk over", chunked_post("b\r\n01234567890\r\n0\r\n\r\n"), "headers,error",
                http_errc::body_too_large, 413},
               run);
    check_case({"chunks adding up past it", chunked_post("6\r\n012345\r\n5\r\n67890\r\n0\r\n\r\n"),
                "headers,body,error", http_errc::body_too_large, 413},
               run);
    check_case({"chunks at the limit",
                chunked_post("6\r\n012345\r\n4\r\n6789\r\n0\r\n\r\n"),
                "headers,body,end",
                {},
                0,
                "POST",
                "/up",
                1,
                {},
                "0123456789"},
               run);
  }
  SUBCASE("huge declared sizes allocate nothing up front") {
    Run run;
    run.options.max_body_size = std::numeric_limits<std::uint64_t>::max();
    const Outcome cl = parse(post_with("Content-Length: 9223372036854775807\r\n", "abc"), 1, run);
    CHECK(cl.events == "headers,body");
    const Outcome chunk = parse(chunked_post("7fffffffffffffff\r\nabc"), 1, run);
    CHECK(chunk.events == "headers,body");
  }
}

TEST_CASE("http1parser: set_max_body_size applies to the current message only") {
  HTTP1Parser parser(Mode::request);
  const std::string request = post_with("Content-Length: 100\r\n", std::string(100, 'x'));
  std::size_t used = 0;
  REQUIRE(parser.next(request, used).kind == Event::headers);
  parser.set_max_body_size(99);
  CHECK(parser.next(std::string_view(request).substr(used), used).kind == Event::error);
  CHECK(parser.error() == http_errc::body_too_large);
  CHECK(parser.next("", used).kind == Event::error);  // errors stick until reset
  parser.reset();
  CHECK(parser.options().max_body_size == HTTP1ParserOptions{}.max_body_size);
  REQUIRE(parser.next(request, used).kind == Event::headers);
  const Event body = parser.next(std::string_view(request).substr(used), used);
  CHECK(body.kind == Event::body);
  CHECK(body.data.size() == 100);
  CHECK(parser.next("", used).kind == Event::message_end);
  CHECK(parser.next("more", used).kind == Event::message_end);  // until reset
  CHECK(used == 0);
}

TEST_CASE("http1parser: the head is consumed only once complete") {
  HTTP1Parser parser(Mode::request);
  const std::string request = "GET /x HTTP/1.1\r\nHost: h\r\n\r\nNEXT";
  std::size_t used = 99;
  for (std::size_t n = 0; n < request.size() - 4; ++n) {
    CHECK(parser.next(std::string_view(request).substr(0, n), used).kind == Event::need_more);
    CHECK(used == 0);
  }
  CHECK(parser.next(request, used).kind == Event::headers);
  CHECK(used == request.size() - 4);
  CHECK(parser.start_line().target == "/x");
  CHECK_FALSE(parser.has_body());
}

TEST_CASE("http1parser: pipelined requests in one input") {
  std::string input = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n";
  input.append(post_with("Content-Length: 5\r\n", "hello"));
  input.append("\r\n");  // a stray CRLF between messages, as old clients send after a body
  input.append(chunked_post("3\r\nabc\r\n0\r\nT: 1\r\n\r\n"));
  input.append("HEAD /4 HTTP/1.0\r\n\r\n");
  const Outcome whole = parse(input);
  CHECK(whole.events == "headers,end,headers,body,end,headers,body,end,headers,end");
  REQUIRE(whole.messages.size() == 4);
  CHECK(whole.messages[0].target == "/1");
  CHECK(whole.messages[1].body == "hello");
  CHECK(whole.messages[2].body == "abc");
  CHECK(whole.messages[2].trailers == Fields{{"T", "1"}});
  CHECK(whole.messages[3].method == "HEAD");
  CHECK(whole.messages[3].headers.empty());
  for (std::size_t piece : {1, 2, 5, 11, 64}) {
    CHECK(describe(parse(input, piece)) == describe(whole));
  }
  // A later message's error does not disturb the earlier ones.
  input.append("GET / HTTP/1.1\r\nHost : h\r\n\r\n");
  const Outcome failed = parse(input);
  CHECK(failed.events == "headers,end,headers,body,end,headers,body,end,headers,end,error");
  CHECK(failed.error == http_errc::bad_header);
  CHECK(failed.messages.size() == 4);
}

// With max_headers raised, 100,000 fields of one name are parsed, even a byte at a time (which
// would be quadratic without the resumed search: billions of steps, minutes); linear, it takes
// well under a second. The timeout is far from either.
TEST_CASE("http1parser: thousands of repeated header names stay linear" * doctest::timeout(60)) {
  Run run;
  run.options.max_headers = 200'000;
  run.options.max_header_size = 4 << 20;
  const std::string input = request_with_header_lines(100'000);
  for (std::size_t piece : {kWhole, std::size_t{1}}) {
    const Outcome out = parse(input, piece, run);
    REQUIRE(out.events == "headers,end");
    const Fields& headers = out.messages.at(0).headers;
    CHECK(headers.size() == 100'001);
    CHECK(headers.back() == std::pair<std::string, std::string>{"X-Repeated", "99999"});
  }
  HTTP1Parser parser(Mode::request, run.options);
  std::size_t used = 0;
  REQUIRE(parser.next(input, used).kind == Event::headers);
  CHECK(parser.headers().get_list("x-repeated").size() == 100'000);
}

// Rescanning the partial line on every call would make this take minutes (measured: 136 s against
// 1 s); the timeout is far from either.
TEST_CASE("http1parser: a long header line fed a byte at a time is scanned once" *
          doctest::timeout(60)) {
  Run run;
  run.options.max_header_size = 4 << 20;
  std::string input = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
  input.append(3 << 20, 'v');
  input.append("\r\n\r\n");
  const Outcome out = parse(input, 1, run);
  CHECK(out.events == "headers,end");
  CHECK(out.messages.at(0).headers.at(1).second.size() == std::size_t{3} << 20);
}

TEST_CASE("http1parser: a warmed-up parser does not allocate") {
  const std::string request =
      "GET /index.html?user=42 HTTP/1.1\r\nHost: www.example.com\r\n"
      "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept: text/html\r\n"
      "Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n";
  const std::string post = chunked_post("5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n");
  HTTP1Parser parser(Mode::request);
  // No doctest assertion inside the counted loop: the outcome is checked afterwards.
  const auto parse_all = [&](std::string_view input) {
    std::size_t used = 0;
    for (Event ev = parser.next(input, used);; ev = parser.next(input, used)) {
      input.remove_prefix(used);
      if (ev.kind == Event::error || ev.kind == Event::need_more) return false;
      if (ev.kind == Event::message_end) break;
    }
    parser.reset();
    return true;
  };
  REQUIRE(parse_all(request));
  REQUIRE(parse_all(post));
  allocations = 0;
  counting = true;
  bool ok = true;
  for (int i = 0; i < 100; ++i) ok = parse_all(request) && parse_all(post) && ok;
  counting = false;
  CHECK(ok);
  CHECK(allocations == 0);
}

TEST_CASE("http1parser: responses") {
  Run run{.mode = Mode::response, .eof = true};
  const std::vector<Case> cases = {
      {.name = "Content-Length",
       .input = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
       .events = "headers,body,end",
       .headers = {{"Content-Length", "5"}},
       .body = "hello"},
      {.name = "chunked",
       .input =
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;e=1\r\nok\r\n0\r\nT: 1\r\n\r\n",
       .events = "headers,body,end",
       .body = "ok",
       .trailers = {{"T", "1"}}},
      {.name = "close-delimited",
       .input = "HTTP/1.1 200 OK\r\nX: y\r\n\r\nall of it\r\n\r\nuntil close",
       .events = "headers,body,end",
       .body = "all of it\r\n\r\nuntil close"},
      {.name = "close-delimited and empty",
       .input = "HTTP/1.0 200 OK\r\n\r\n",
       .events = "headers,end",
       .minor = 0},
      {.name = "final coding not chunked: close-delimited",
       .input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
       .events = "headers,body,end",
       .body = "0\r\n\r\n"},
      {.name = "gzip then chunked",
       .input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n",
       .events = "headers,body,end",
       .body = "z"},
      {.name = "HTTP/1.0 with Transfer-Encoding: close-delimited",
       .input = "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n",
       .events = "headers,body,end",
       .minor = 0,
       .body = "1\r\nz\r\n0\r\n\r\n"},
      {.name = "204 has no body whatever it says",
       .input = "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
       .events = "headers,end"},
      {.name = "304 has no body",
       .input = "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
       .events = "headers,end"},
      {.name = "1xx then the final response",
       .input = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
       .events = "headers,end,headers,end,headers,body,end"},
      {.name = "no reason phrase, no space",
       .input = "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
       .events = "headers,end"},
      {.name = "empty reason phrase",
       .input = "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n",
       .events = "headers,end"},
      {.name = "reason with obs-text and tabs",
       .input = "HTTP/1.1 418 I'm a\tteapot \xe2\x98\x95\r\nContent-Length: 0\r\n\r\n",
       .events = "headers,end"},
      {.name = "no Host needed", .input = "HTTP/1.1 200 OK\r\n\r\n", .events = "headers,end"},
  };
  for (const Case& c : cases) check_case(c, run);

  const auto bad = [](const char* name, std::string input, http_errc e) {
    return Case{name, std::move(input), "error", e, cortado::status_for(e)};
  };
  const std::vector<Case> errors = {
      bad("two-digit status", "HTTP/1.1 20 OK\r\n\r\n", http_errc::bad_status_line),
      bad("four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", http_errc::bad_status_line),
      bad("status below 100", "HTTP/1.1 099 Hm\r\n\r\n", http_errc::bad_status_line),
      bad("status above 599", "HTTP/1.1 600 Hm\r\n\r\n", http_errc::bad_status_line),
      bad("letters in status", "HTTP/1.1 2x0 Hm\r\n\r\n", http_errc::bad_status_line),
      bad("no space after version", "HTTP/1.1200 OK\r\n\r\n", http_errc::bad_status_line),
      bad("CTL in reason", "HTTP/1.1 200 O\x01K\r\n\r\n", http_errc::bad_status_line),
      bad("lowercase version", "http/1.1 200 OK\r\n\r\n", http_errc::bad_status_line),
      bad("HTTP/2.0", "HTTP/2.0 200 OK\r\n\r\n", http_errc::unsupported_version),
      bad("bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", http_errc::bad_status_line),
      bad("status line too long", cat("HTTP/1.1 200 ", std::string(9000, 'x')),
          http_errc::bad_status_line),
      bad("Content-Length and Transfer-Encoding",
          "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
          http_errc::conflicting_framing),
      bad("chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
          http_errc::conflicting_framing),
      bad("bad Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
          http_errc::bad_content_length),
      bad("obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", http_errc::bad_header),
      {"closed before the Content-Length body ended",
       "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", "headers,body,error",
       http_errc::unexpected_eof, 400},
      {"closed inside a chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
       "headers,body,error", http_errc::unexpected_eof, 400},
      {"closed before the trailers ended",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: 1\r\n", "headers,error",
       http_errc::unexpected_eof, 400},
      {"closed inside the head", "HTTP/1.1 200 OK\r\nContent-Le", "error",
       http_errc::unexpected_eof, 400},
      {"closed inside the status line", "HTT", "error", http_errc::unexpected_eof, 400},
  };
  for (const Case& c : errors) check_case(c, run);
}

TEST_CASE("http1parser: HEAD responses have no body") {
  Run run{.mode = Mode::response, .head_request = true, .eof = true};
  const std::string input =
      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "HTTP/1.1 200 OK\r\n\r\n";
  const Outcome out = parse(input, kWhole, run);
  CHECK(out.events == "headers,end,headers,end,headers,end");
  REQUIRE(out.messages.size() == 3);
  CHECK(out.messages[0].content_length == 100);  // still reported, for the client's use
  CHECK_FALSE(out.messages[0].has_body);
  CHECK_FALSE(out.messages[1].chunked);
  CHECK_FALSE(out.messages[1].has_body);
  for (std::size_t piece : {1, 3}) CHECK(describe(parse(input, piece, run)) == describe(out));
}

TEST_CASE("http1parser: close-delimited response bodies are bounded") {
  Run run{.mode = Mode::response, .eof = true};
  run.options.max_body_size = 5;
  check_case({"at the limit",
              "HTTP/1.1 200 OK\r\n\r\n12345",
              "headers,body,end",
              {},
              0,
              {},
              {},
              1,
              {},
              "12345"},
             run);
  const Case over{"over the limit", "HTTP/1.1 200 OK\r\n\r\n123456", "headers,body,error",
                  http_errc::body_too_large, 413};
  check_case(over, run);
  // The bytes up to the limit are handed out first, however the input is split.
  CHECK(parse(over.input, 2, run).messages.empty());
}

TEST_CASE("http1parser: eof") {
  SUBCASE("between messages is a clean close") {
    HTTP1Parser parser(Mode::response);
    CHECK(parser.eof().kind == Event::need_more);
    std::size_t used = 0;
    CHECK(parser.next("\r\n", used).kind == Event::need_more);
    CHECK(parser.eof().kind == Event::need_more);  // only an empty line so far
    CHECK_FALSE(parser.error());
  }
  SUBCASE("after the headers of a message without a body") {
    HTTP1Parser parser(Mode::request);
    std::size_t used = 0;
    REQUIRE(parser.next("GET / HTTP/1.1\r\nHost: h\r\n\r\n", used).kind == Event::headers);
    CHECK(parser.eof().kind == Event::message_end);
    CHECK(parser.next("", used).kind == Event::message_end);
  }
  SUBCASE("in request mode, inside a body") {
    HTTP1Parser parser(Mode::request);
    std::size_t used = 0;
    REQUIRE(parser.next(post_with("Content-Length: 3\r\n"), used).kind == Event::headers);
    CHECK(parser.eof().kind == Event::error);
    CHECK(parser.error() == http_errc::unexpected_eof);
    CHECK(parser.eof().kind == Event::error);
  }
  SUBCASE("once a Content-Length body is complete") {
    HTTP1Parser parser(Mode::response);
    std::size_t used = 0;
    const std::string input = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    REQUIRE(parser.next(input, used).kind == Event::headers);
    REQUIRE(parser.next(std::string_view(input).substr(used), used).kind == Event::body);
    CHECK(parser.eof().kind == Event::message_end);
  }
}

TEST_CASE("http1parser: status_for and the error category") {
  const std::vector<std::pair<http_errc, int>> statuses = {
      {http_errc::bad_request_line, 400},
      {http_errc::bad_method, 400},
      {http_errc::bad_target, 400},
      {http_errc::uri_too_long, 414},
      {http_errc::unsupported_version, 505},
      {http_errc::header_too_large, 431},
      {http_errc::too_many_headers, 431},
      {http_errc::bad_header, 400},
      {http_errc::bad_content_length, 400},
      {http_errc::conflicting_framing, 400},
      {http_errc::unsupported_transfer_coding, 501},
      {http_errc::bad_chunk, 400},
      {http_errc::chunk_extension_too_large, 400},
      {http_errc::trailers_too_large, 431},
      {http_errc::body_too_large, 413},
      {http_errc::bad_status_line, 400},
      {http_errc::bad_host, 400},
      {http_errc::unexpected_eof, 400},
  };
  std::vector<std::string> messages;
  for (const auto& [e, status] : statuses) {
    const std::error_code code = e;
    CAPTURE(code.message());
    CHECK(cortado::status_for(code) == status);
    CHECK(&code.category() == &cortado::http_category());
    CHECK(code.message().find("unknown") == std::string::npos);
    for (const std::string& m : messages) CHECK(m != code.message());
    messages.push_back(code.message());
  }
  CHECK(std::string(cortado::http_category().name()) == "cortado.http");
  CHECK(cortado::http_category().message(0) == "success");
  CHECK(cortado::http_category().message(999) == "unknown HTTP parse error");
  CHECK(cortado::status_for(std::make_error_code(std::errc::io_error)) == 400);
}
