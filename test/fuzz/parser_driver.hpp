// Shared by the HTTP/1 parser fuzz targets: drives an HTTP1Parser the way a connection does
// (bytes arrive in pieces into a buffer, `used` bytes are dropped after every event, the parser is
// reset after each message) and writes down everything observable, so that two ways of feeding
// the same bytes can be compared. Any broken invariant aborts, which libFuzzer reports as a crash.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cortado/http1parser.hpp"

namespace cortado::fuzz {

inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

inline std::uint64_t fnv1a(std::string_view data) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Small limits reach every "too large" path with short inputs.
inline HTTP1ParserOptions tight_options() {
  HTTP1ParserOptions o;
  o.max_start_line = 64;
  o.max_header_size = 256;
  o.max_headers = 8;
  o.max_body_size = 300;
  o.max_chunk_extension_size = 16;
  return o;
}

inline HTTP1ParserOptions roomy_options() {
  HTTP1ParserOptions o;
  o.max_body_size = 1 << 20;
  return o;
}

struct Setup {
  HTTP1Parser::Mode mode = HTTP1Parser::Mode::request;
  HTTP1ParserOptions options;
  bool head_request = false;
  bool eof = false;               // call eof() once all bytes are in
  std::size_t max_messages = 32;  // bounds the work per input
};

// One message as far as it got, then the error if any.
struct Message {
  std::string head;  // start line and fields, rendered
  std::string body;
  std::size_t consumed = 0;  // bytes of input the message took, when it ended
  bool complete = false;     // it reached message_end
  std::size_t trailers = 0;
};

struct Trace {
  std::string text;  // canonical rendering of every event
  std::vector<Message> messages;
  std::error_code error;
};

class Driver {
 public:
  explicit Driver(const Setup& setup) : setup_(setup), parser_(setup.mode, setup.options) {
    parser_.set_head_request(setup.head_request);
  }

  // Feeds `data` cut at the ascending offsets in `cuts`.
  Trace run(std::string_view data, const std::vector<std::size_t>& cuts) {
    std::size_t fed = 0;
    for (std::size_t i = 0; i <= cuts.size() && !stopped_; ++i) {
      const std::size_t end = i < cuts.size() ? cuts[i] : data.size();
      pending_.append(data.substr(fed, end - fed));
      fed = end;
      drain();
    }
    if (setup_.eof && !stopped_) {
      const HTTP1Parser::Event ev = parser_.eof();
      if (ev.kind != HTTP1Parser::Event::need_more) record(ev, 0);
    }
    // A message still in progress when the bytes ran out.
    if (!stopped_ && (!current_.head.empty() || current_.consumed > 0)) {
      trace_.messages.push_back(current_);
    }
    return std::move(trace_);
  }

 private:
  void drain() {
    std::size_t offset = 0;
    int idle = 0;  // events in a row that consumed nothing
    while (!stopped_) {
      const std::string_view input = std::string_view(pending_).substr(offset);
      std::size_t used = 0;
      const HTTP1Parser::Event ev = parser_.next(input, used);
      require(used <= input.size(), "used within the input");
      if (ev.kind == HTTP1Parser::Event::body) {
        require(!ev.data.empty(), "body events carry bytes");
        require(ev.data.data() >= input.data() &&
                    ev.data.data() + ev.data.size() <= input.data() + used,
                "body events are views into the consumed input");
      }
      offset += used;
      if (ev.kind == HTTP1Parser::Event::need_more) {
        current_.consumed += used;  // a chunk-size or trailer line may go before need_more
        break;
      }
      idle = used == 0 ? idle + 1 : 0;
      require(idle < 4, "the parser makes progress");
      record(ev, used);
    }
    pending_.erase(0, offset);
  }

  void record(const HTTP1Parser::Event& ev, std::size_t used) {
    current_.consumed += used;
    switch (ev.kind) {
      case HTTP1Parser::Event::headers:
        check_head();
        current_.head = render_head();
        trace_.text.append("H");
        break;
      case HTTP1Parser::Event::body:
        current_.body.append(ev.data);
        require(current_.body.size() <= parser_.options().max_body_size, "body within the limit");
        if (!trace_.text.ends_with("B")) trace_.text.append("B");
        break;
      case HTTP1Parser::Event::message_end:
        end_message();
        break;
      case HTTP1Parser::Event::error:
        require(static_cast<bool>(parser_.error()), "an error event has an error");
        trace_.error = parser_.error();
        trace_.text.append("X");
        trace_.text.append(std::to_string(parser_.error().value()));
        trace_.messages.push_back(current_);
        stopped_ = true;
        break;
      case HTTP1Parser::Event::need_more:
        break;
    }
  }

  void end_message() {
    require(parser_.body_bytes() == current_.body.size(), "body_bytes counts the body events");
    if (parser_.content_length() >= 0 && !parser_.chunked() && parser_.has_body()) {
      require(current_.body.size() == static_cast<std::uint64_t>(parser_.content_length()),
              "a Content-Length body has that length");
    }
    require(parser_.trailers().size() <= parser_.options().max_headers, "trailer count bounded");
    trace_.text.append("E");
    current_.complete = true;
    current_.trailers = parser_.trailers().size();
    parser_.trailers().for_each([&](HTTPHeaders::Field f) {
      current_.head.append("T:").append(f.name).append(":").append(f.value).append("\n");
    });
    trace_.messages.push_back(std::exchange(current_, Message{}));
    parser_.reset();
    if (trace_.messages.size() == setup_.max_messages) stopped_ = true;
  }

  // What the headers event promises about framing.
  void check_head() {
    const HTTPHeaders& h = parser_.headers();
    require(h.size() <= parser_.options().max_headers, "header count bounded");
    require(!(parser_.chunked() && parser_.content_length() >= 0), "never both framings");
    if (parser_.chunked()) require(parser_.has_body(), "chunked has a body");
    const StartLine& line = parser_.start_line();
    require(line.version_minor == 0 || line.version_minor == 1, "HTTP/1.0 or HTTP/1.1");
    if (setup_.mode == HTTP1Parser::Mode::request) {
      require(!line.method.empty() && !line.target.empty(), "method and target");
      const std::size_t hosts = h.get_list("host").size();
      require(hosts <= 1 && (line.version_minor == 0 || hosts == 1), "one Host (none in 1.0)");
      require(!(h.contains("content-length") && h.contains("transfer-encoding")),
              "never Content-Length with Transfer-Encoding");
      require(h.contains("transfer-encoding") == parser_.chunked(), "request TE means chunked");
      require(h.get_list("content-length").size() <= 1, "Content-Length collapsed to one");
    } else {
      require(line.status >= 100 && line.status <= 599, "status in range");
    }
  }

  std::string render_head() const {
    const StartLine& line = parser_.start_line();
    std::string s;
    s.append(line.method).append(" ").append(line.target).append(" ");
    s.append(std::to_string(line.status)).append(" ").append(line.reason).append(" 1.");
    s.append(std::to_string(line.version_minor)).append(parser_.chunked() ? " chunked" : "");
    s.append(" cl=").append(std::to_string(parser_.content_length()));
    s.append(parser_.has_body() ? " body\n" : "\n");
    parser_.headers().for_each(
        [&](HTTPHeaders::Field f) { s.append(f.name).append(":").append(f.value).append("\n"); });
    return s;
  }

  Setup setup_;
  HTTP1Parser parser_;
  std::string pending_;
  Trace trace_;
  Message current_;
  bool stopped_ = false;
};

inline std::string render(const Trace& t) {
  std::string s = t.text;
  for (const Message& m : t.messages) {
    s.append("\n---\n").append(m.head).append("body:").append(m.body);
    s.append("\nconsumed:").append(std::to_string(m.consumed));
  }
  return s;
}

// Parses `data` whole, cut at a position derived from it, and (when short) a byte at a time: all
// three must agree on every event, message and error. Returns the whole-input trace.
inline Trace run_all_ways(const Setup& setup, std::string_view data) {
  const Trace whole = Driver(setup).run(data, {});
  const std::string expected = render(whole);
  const std::uint64_t h = fnv1a(data);
  std::vector<std::size_t> cuts{static_cast<std::size_t>(h % (data.size() + 1))};
  const std::size_t second = static_cast<std::size_t>((h >> 32) % (data.size() + 1));
  if (second > cuts[0]) cuts.push_back(second);
  if (render(Driver(setup).run(data, cuts)) != expected) {
    std::fprintf(stderr, "whole:\n%s\nsplit:\n%s\n", expected.c_str(),
                 render(Driver(setup).run(data, cuts)).c_str());
    require(false, "split input parses like the whole");
  }
  if (data.size() <= 2048) {
    std::vector<std::size_t> bytes(data.size());
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = i;
    require(render(Driver(setup).run(data, bytes)) == expected, "byte-at-a-time parses the same");
  }
  if (whole.error) {
    const int status = status_for(whole.error);
    require(status == 400 || status == 413 || status == 414 || status == 431 || status == 501 ||
                status == 505,
            "errors map to a client or server error status");
  }
  return whole;
}

}  // namespace cortado::fuzz
