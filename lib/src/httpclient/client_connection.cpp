#include "client_connection.hpp"

#include <sys/socket.h>

#include <cerrno>

#include <asio/buffer.hpp>

#include "cortado/httpclient/errors.hpp"

namespace cortado::detail {
namespace {

bool has_token(std::string_view list, std::string_view token) {
  for (;;) {
    const std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace

ClientConnection::ClientConnection(std::unique_ptr<IOStream> stream, std::string pool_key,
                                   const HTTP1ParserOptions& limits)
    : stream_(std::move(stream)),
      pool_key_(std::move(pool_key)),
      parser_(HTTP1Parser::Mode::response, limits) {}

ClientConnection::~ClientConnection() = default;

bool ClientConnection::looks_alive() {
  if (stream_->closed() || !stream_->buffered().empty()) return false;
  // A server that closed an idle connection has sent a FIN (recv returns 0) or a reset; one
  // that is still there has sent nothing, so the peek would block.
  char byte;
  const ssize_t n = ::recv(stream_->socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n >= 0) return false;
  return errno == EAGAIN || errno == EWOULDBLOCK;
}

asio::awaitable<std::error_code> ClientConnection::send(std::string_view head,
                                                        std::string_view body) {
  // One write for head and body: small requests leave in one segment.
  const asio::const_buffer parts[2] = {asio::buffer(head.data(), head.size()),
                                       asio::buffer(body.data(), body.size())};
  std::error_code ec;
  co_await stream_->write(parts, ec);
  co_return ec;
}

// RFC 9112 9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive". A body that
// runs until the server closes ends the connection too.
bool ClientConnection::response_allows_keep_alive() const {
  const std::string_view connection = parser_.headers().get("Connection");
  if (has_token(connection, "close")) return false;
  if (parser_.start_line().version_minor == 0 && !has_token(connection, "keep-alive")) return false;
  const bool close_delimited =
      parser_.has_body() && !parser_.chunked() && parser_.content_length() < 0;
  return !close_delimited;
}

asio::awaitable<HTTP1Parser::Event> ClientConnection::next_event(ExchangeResult& result) {
  for (;;) {
    std::size_t used = 0;
    const auto event = parser_.next(stream_->buffered(), used);
    stream_->consume(used);
    if (event.kind != HTTP1Parser::Event::need_more) co_return event;
    // The response's bytes come after the request's: the read waits as a reply's does.
    const std::error_code ec = co_await stream_->fill_reply();
    if (!ec) {
      result.response_started = true;
      continue;
    }
    if (ec == asio::error::eof) {
      // A close-delimited body ends here; a response cut short is an error; nothing at all
      // (need_more) means the server closed before answering.
      const auto end = parser_.eof();
      if (end.kind != HTTP1Parser::Event::need_more) co_return end;
    }
    result.error = ec;
    co_return event;
  }
}

asio::awaitable<ExchangeResult> ClientConnection::exchange(const OutgoingRequest& request,
                                                           ResponseHandler& handler) {
  ExchangeResult result;
  reusable_ = false;
  const auto begin_message = [&] {
    parser_.reset();
    parser_.set_head_request(request.head_request);
    parser_.set_max_body_size(request.max_body_size);
  };
  begin_message();
  bool body_waiting = request.expect_continue;
  result.error = co_await send(request.head, body_waiting ? std::string_view() : request.body);
  if (result.error) co_return result;
  bool keep_alive = false;
  for (;;) {
    const auto event = co_await next_event(result);
    if (result.error) co_return result;
    switch (event.kind) {
      case HTTP1Parser::Event::headers: {
        const int status = parser_.start_line().status;
        if (status == 101) {
          result.error = make_error_code(client_errc::unexpected_upgrade);
          co_return result;
        }
        if (status < 200) {
          // RFC 9110 15.2: interim responses are skipped; a 100 releases a waiting body.
          if (status == 100 && body_waiting) {
            body_waiting = false;
            result.error = co_await send({}, request.body);
            if (result.error) co_return result;
          }
          begin_message();
          break;
        }
        // A final answer before the 100 leaves the body unsent: the server may still expect it,
        // so the connection cannot carry another request (RFC 9110 10.1.1).
        keep_alive = !request.close_after && !body_waiting && response_allows_keep_alive();
        handler.headers_received(parser_.start_line(), parser_.headers());
        break;
      }
      case HTTP1Parser::Event::body:
        handler.data_received(event.data);
        break;
      case HTTP1Parser::Event::message_end:
        handler.finish();
        ++requests_;
        // Bytes after the response were not asked for (no pipelining): do not trust the rest.
        reusable_ = keep_alive && !stream_->closed() && stream_->buffered().empty();
        co_return result;
      case HTTP1Parser::Event::error:
        result.error = parser_.error();
        co_return result;
      case HTTP1Parser::Event::need_more:
        break;  // not returned by next_event without an error
    }
  }
}

}  // namespace cortado::detail
