#include "connect.hpp"

#include <vector>

#include <fmt/format.h>
#include <asio/ip/tcp.hpp>

#include "cortado/httpclient/errors.hpp"
#include "cortado/locks.hpp"

namespace cortado::detail {
namespace {

using Clock = std::chrono::steady_clock;
using tcp = asio::ip::tcp;

std::optional<Duration> time_left(Clock::time_point deadline) {
  if (deadline == Clock::time_point::max()) return std::nullopt;
  return std::max(deadline - Clock::now(), Duration::zero());
}

[[noreturn]] void throw_timeout(const ConnectTarget& target) {
  const bool whole_request = Clock::now() >= target.request_deadline;
  throw HTTPTimeoutError(whole_request ? "Timeout during request" : "Timeout while connecting",
                         make_error_code(stream_errc::timed_out));
}

// A lookup outlives the fetch that started it when the fetch times out first: getaddrinfo cannot
// be interrupted, so the fetch stops waiting and the lookup finishes on its own.
struct Lookup {
  explicit Lookup(const asio::any_io_executor& executor) : resolver(executor) {}
  tcp::resolver resolver;
  Event done;
  std::error_code error;
  std::vector<tcp::endpoint> endpoints;
};

asio::awaitable<std::vector<tcp::endpoint>> resolve(asio::any_io_executor executor,
                                                    const ConnectTarget& target) {
  const URL& url = *target.url;
  std::error_code ec;
  const auto address = asio::ip::make_address(url.host, ec);
  if (!ec) co_return std::vector<tcp::endpoint>{tcp::endpoint(address, url.port)};

  auto lookup = std::make_shared<Lookup>(executor);
  lookup->resolver.async_resolve(
      url.host, std::to_string(url.port),
      [lookup](std::error_code error, const tcp::resolver::results_type& results) {
        lookup->error = error;
        for (const auto& entry : results) lookup->endpoints.push_back(entry.endpoint());
        lookup->done.set();
      });
  try {
    co_await lookup->done.wait(time_left(target.connect_deadline));
  } catch (const TimeoutError&) {
    lookup->resolver.cancel();
    throw_timeout(target);
  }
  if (lookup->error || lookup->endpoints.empty()) {
    const std::error_code why =
        lookup->error ? lookup->error : make_error_code(asio::error::host_not_found);
    throw HTTPConnectionError(fmt::format("cannot resolve {}: {}", url.host, why.message()), why);
  }
  co_return std::move(lookup->endpoints);
}

}  // namespace

asio::awaitable<std::unique_ptr<IOStream>> open_stream(asio::any_io_executor executor,
                                                       const ConnectTarget& target) {
  const URL& url = *target.url;
  const auto endpoints = co_await resolve(executor, target);
  std::error_code last_error;
  for (const auto& endpoint : endpoints) {
    if (Clock::now() >= target.connect_deadline) throw_timeout(target);
    auto stream = std::make_unique<IOStream>(executor, target.stream_options);
    stream->set_deadline(target.connect_deadline);
    try {
      co_await stream->connect(endpoint);
    } catch (const std::system_error& e) {
      if (stream->error() == stream_errc::timed_out) throw_timeout(target);
      if (e.code() == asio::error::operation_aborted) throw;  // the fetch was cancelled
      last_error = e.code();
      continue;  // the next address, if any (say 127.0.0.1 after ::1)
    }
    stream->set_nodelay(true);
    if (target.tls) {
      try {
        co_await stream->start_tls(false, *target.tls, url.host);
      } catch (const std::system_error& e) {
        if (stream->error() == stream_errc::timed_out) throw_timeout(target);
        if (e.code() == asio::error::operation_aborted) throw;
        throw HTTPConnectionError(
            fmt::format("TLS handshake with {} failed: {}", url.authority(), e.code().message()),
            e.code());
      }
    }
    stream->set_deadline(Clock::time_point::max());
    co_return stream;
  }
  throw HTTPConnectionError(
      fmt::format("cannot connect to {}: {}", url.authority(), last_error.message()), last_error);
}

}  // namespace cortado::detail
