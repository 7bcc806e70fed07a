// One hop of a fetch: pick a connection (pooled or new), exchange one request and response on
// it, give the connection back, and turn failures into the client's exceptions.
#include <algorithm>

#include <fmt/format.h>

#include "client_impl.hpp"
#include "connect.hpp"
#include "request_head.hpp"

namespace cortado {
namespace {

using Clock = std::chrono::steady_clock;

// RFC 9110 9.2.2: these may be repeated without a different outcome, so a request that may
// or may not have reached a server that closed the connection can be sent again.
bool is_idempotent(std::string_view method) {
  for (std::string_view m : {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"}) {
    if (method == m) return true;
  }
  return false;
}

[[noreturn]] void throw_exchange_error(std::error_code ec, const URL& url) {
  // The fetch's own coroutine was cancelled: report it as Asio does.
  if (ec == asio::error::operation_aborted) throw std::system_error(ec);
  if (ec == stream_errc::timed_out) throw HTTPTimeoutError("Timeout during request", ec);
  const bool protocol = (ec.category() == http_category() && ec != http_errc::unexpected_eof) ||
                        ec.category() == client_category() || ec == stream_errc::buffer_full;
  if (protocol) {
    throw HTTPProtocolError(fmt::format("bad response from {}: {}", url.authority(), ec.message()),
                            ec);
  }
  throw HTTPStreamClosedError(
      fmt::format("connection to {} closed: {}", url.authority(), ec.message()), ec);
}

std::string pool_key(const HTTPRequest& request, const URL& url) {
  std::string key = url.scheme;
  key += "://";
  key += url.authority();
  if (url.scheme == "https") {
    key += '\0';
    key += detail::tls_settings_key(request);
  }
  return key;
}

}  // namespace

asio::awaitable<std::unique_ptr<detail::ClientConnection>> AsyncHTTPClient::Impl::connect(
    const HTTPRequest& request, const URL& url, const std::string& key,
    asio::ssl::context* tls_context, Clock::time_point deadline) {
  const auto connect_deadline = request.connect_timeout > Duration::zero()
                                    ? std::min(deadline, Clock::now() + request.connect_timeout)
                                    : deadline;
  // The read buffer never needs more than a header block (the parser bounds it) plus a read.
  constexpr std::size_t kReadRoom = 64 * 1024;
  const IOStreamOptions stream_options{
      .max_buffer_size = std::max(options.max_header_size, options.max_header_size + kReadRoom)};
  auto stream = co_await detail::open_stream(executor, {.url = &url,
                                                        .tls = tls_context,
                                                        .stream_options = stream_options,
                                                        .connect_deadline = connect_deadline,
                                                        .request_deadline = deadline});
  ++connections_opened;
  const HTTP1ParserOptions limits{.max_header_size = options.max_header_size,
                                  .max_body_size = options.max_body_size};
  co_return std::make_unique<detail::ClientConnection>(std::move(stream), key, limits);
}

asio::awaitable<void> AsyncHTTPClient::Impl::fetch_hop(const HTTPRequest& request, const URL& url,
                                                       Clock::time_point deadline,
                                                       detail::ResponseHandler& handler) {
  const detail::OutgoingRequest outgoing = detail::prepare_request(request, url, options);
  const auto tls_context = url.scheme == "https" ? tls.get(request) : nullptr;
  const std::string key = pool_key(request, url);
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<detail::ClientConnection> connection;
    if (attempt == 0) connection = pool.checkout(key);
    if (!connection) connection = co_await connect(request, url, key, tls_context.get(), deadline);
    const bool reused = connection->requests() > 0;
    connection->stream().set_deadline(deadline);
    const detail::ExchangeResult result = co_await connection->exchange(outgoing, handler);
    if (!result.error) {
      pool.checkin(std::move(connection));
      co_return;
    }
    // The server closed the idle connection just as it was reused (the peek before reuse
    // cannot see a close that is still on its way): nothing of a response arrived, so an
    // idempotent request goes again, once, on a new connection.
    const bool retry = attempt == 0 && reused && !result.response_started &&
                       result.error != stream_errc::timed_out &&
                       result.error != asio::error::operation_aborted &&
                       is_idempotent(request.method);
    if (!retry) throw_exchange_error(result.error, url);
  }
}

}  // namespace cortado
