// AsyncHTTPClient: the fetch as a whole (queueing, redirects, status errors) and the client's
// public face. One hop is in hop.cpp.
#include <stdexcept>

#include <asio/execution/context.hpp>
#include <asio/query.hpp>
#include <asio/this_coro.hpp>

#include "client_impl.hpp"
#include "redirects.hpp"

namespace cortado {
namespace {

using Clock = std::chrono::steady_clock;

std::optional<Duration> time_left(Clock::time_point deadline) {
  if (deadline == Clock::time_point::max()) return std::nullopt;
  return std::max(deadline - Clock::now(), Duration::zero());
}

// Counts a fetch in a Stats field for as long as it is in scope.
class Counted {
 public:
  explicit Counted(std::size_t& counter) : counter_(counter) { ++counter_; }
  ~Counted() { --counter_; }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;

 private:
  std::size_t& counter_;
};

// The client's connections, timers and semaphore belong to one single-threaded loop.
asio::awaitable<void> check_affinity(const asio::any_io_executor& client_executor) {
  const auto current = co_await asio::this_coro::executor;
  if (&asio::query(current, asio::execution::context) !=
      &asio::query(client_executor, asio::execution::context)) {
    throw std::logic_error("AsyncHTTPClient::fetch awaited outside the client's loop");
  }
}

// The next hop's request and URL, from a redirect's Location.
void follow_redirect(HTTPRequest& request, URL& url, int status, std::string_view location) {
  URL next;
  try {
    next = resolve_url(url, location);
  } catch (const InvalidURLError& e) {
    throw HTTPProtocolError(std::string("cannot follow redirect: ") + e.what());
  }
  request = detail::redirected_request(std::move(request), status, url, next);
  url = std::move(next);
}

// The final response, or the HTTPClientError it makes when raise_error asks for one.
HTTPResponse finish_response(HTTPResponse& response, const HTTPRequest& request, const URL& url,
                             Clock::time_point start, bool raise_error) {
  response.effective_url = url.str();
  response.request_time = Clock::now() - start;
  // A redirect still there after max_redirects is an error, as in Tornado.
  const bool too_many_redirects = request.follow_redirects &&
                                  detail::is_redirect_status(response.code) &&
                                  response.headers.contains("Location");
  if (raise_error && (response.code >= 400 || too_many_redirects)) {
    const std::string message = too_many_redirects ? "Too many redirects" : response.reason;
    const int code = response.code;
    throw HTTPClientError(code, message, std::make_shared<const HTTPResponse>(std::move(response)));
  }
  return std::move(response);
}

}  // namespace

AsyncHTTPClient::Impl::Impl(asio::any_io_executor executor_, HTTPClientOptions options_)
    : executor(std::move(executor_)),
      options(std::move(options_)),
      slots(options.max_clients),
      pool(options) {
  if (options.max_clients == 0) throw std::invalid_argument("max_clients must be at least 1");
}

asio::awaitable<Semaphore::Guard> AsyncHTTPClient::Impl::take_slot(Clock::time_point deadline) {
  Counted waiting(queued);
  try {
    co_return co_await slots.acquire_guard(time_left(deadline));
  } catch (const TimeoutError&) {
    throw HTTPTimeoutError("Timeout in request queue", make_error_code(stream_errc::timed_out));
  }
}

asio::awaitable<HTTPResponse> AsyncHTTPClient::Impl::fetch(std::shared_ptr<Impl> self,
                                                           HTTPRequest request, bool raise_error) {
  const auto start = Clock::now();
  const auto deadline = request.request_timeout > Duration::zero() ? start + request.request_timeout
                                                                   : Clock::time_point::max();
  co_await check_affinity(self->executor);
  if (self->closed) throw std::logic_error("fetch() on a closed AsyncHTTPClient");
  URL url = parse_url(request.url);
  const std::uint64_t max_body_size = request.max_body_size.value_or(self->options.max_body_size);
  const Semaphore::Guard slot = co_await self->take_slot(deadline);
  const Counted running(self->active);
  for (int redirects_left = request.max_redirects;; --redirects_left) {
    const bool may_follow = request.follow_redirects && redirects_left > 0;
    detail::ResponseBuilder builder(request, may_follow, max_body_size);
    co_await self->fetch_hop(request, url, deadline, builder);
    if (!builder.redirecting()) {
      co_return finish_response(builder.response(), request, url, start, raise_error);
    }
    follow_redirect(request, url, builder.code(), builder.location());
  }
}

AsyncHTTPClient::AsyncHTTPClient(asio::any_io_executor executor, HTTPClientOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options))) {}

AsyncHTTPClient::~AsyncHTTPClient() {
  close();
}

asio::awaitable<HTTPResponse> AsyncHTTPClient::fetch(std::string url, bool raise_error) {
  HTTPRequest request;
  request.url = std::move(url);
  return Impl::fetch(impl_, std::move(request), raise_error);
}

asio::awaitable<HTTPResponse> AsyncHTTPClient::fetch(HTTPRequest request, bool raise_error) {
  return Impl::fetch(impl_, std::move(request), raise_error);
}

void AsyncHTTPClient::close() {
  impl_->closed = true;
  impl_->pool.close();
}

asio::any_io_executor AsyncHTTPClient::get_executor() const {
  return impl_->executor;
}

const HTTPClientOptions& AsyncHTTPClient::options() const {
  return impl_->options;
}

AsyncHTTPClient::Stats AsyncHTTPClient::stats() const {
  return {.active = impl_->active,
          .queued = impl_->queued,
          .idle_connections = impl_->pool.idle(),
          .connections_opened = impl_->connections_opened};
}

}  // namespace cortado
