// AsyncHTTPClient's state, shared by the client object and every fetch in flight (each fetch
// holds a shared_ptr, so destroying the client never pulls the pool from under a fetch).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "connection_pool.hpp"
#include "cortado/httpclient.hpp"
#include "cortado/locks.hpp"
#include "response_builder.hpp"
#include "tls_contexts.hpp"

namespace cortado {

struct AsyncHTTPClient::Impl {
  using Clock = std::chrono::steady_clock;

  Impl(asio::any_io_executor executor, HTTPClientOptions options);

  // The whole fetch: queueing, hops and redirects, status errors (async_client.cpp).
  static asio::awaitable<HTTPResponse> fetch(std::shared_ptr<Impl> self, HTTPRequest request,
                                             bool raise_error);
  // One request/response on a pooled or new connection, retried once on a new connection when
  // a reused one turns out to be closed (hop.cpp).
  asio::awaitable<void> fetch_hop(const HTTPRequest& request, const URL& url,
                                  Clock::time_point deadline, detail::ResponseHandler& handler);

  asio::awaitable<Semaphore::Guard> take_slot(Clock::time_point deadline);
  asio::awaitable<std::unique_ptr<detail::ClientConnection>> connect(
      const HTTPRequest& request, const URL& url, const std::string& key,
      asio::ssl::context* tls_context, Clock::time_point deadline);

  asio::any_io_executor executor;
  HTTPClientOptions options;
  Semaphore slots;
  detail::ConnectionPool pool;
  detail::TLSContexts tls;
  bool closed = false;
  std::size_t active = 0;
  std::size_t queued = 0;
  std::uint64_t connections_opened = 0;
};

}  // namespace cortado
