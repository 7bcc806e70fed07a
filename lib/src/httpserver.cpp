#include "cortado/httpserver.hpp"

#include <atomic>
#include <charconv>
#include <unordered_set>

#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "cortado/log.hpp"
#include "release_memory.hpp"

namespace cortado {
namespace {

IOStreamOptions stream_options(const HTTPServerOptions& options) {
  return {.max_buffer_size = options.max_buffer_size, .park_after = options.idle_park_after};
}

}  // namespace

// The connections of one worker; only that worker's thread touches it.
struct HTTPServer::Registry {
  // A burst is this many connections at once; when they have fallen to a quarter, the memory
  // they used goes back to the operating system. Small on purpose: fifty clients that never read
  // left 8 MB with the allocator of an idle server (an allocator returns pages only when it is
  // next called), and a purge costs little when there is little to purge.
  static constexpr std::size_t kBurst = 32;

  std::unordered_set<HTTP1ServerConnection*> connections;
  std::atomic<std::size_t> count{0};
  std::size_t peak = 0;
  bool draining = false;
  std::function<void()> on_empty;
  std::function<std::size_t()> parked;  // the worker's parked connections

  void notify_if_empty() {
    if (draining && connections.empty() && parked() == 0 && on_empty) {
      std::exchange(on_empty, {})();
    }
  }

  void add(HTTP1ServerConnection* c) {
    connections.insert(c);
    count.store(connections.size(), std::memory_order_relaxed);
    peak = std::max(peak, connections.size());
  }
  void remove(HTTP1ServerConnection* c) {
    connections.erase(c);
    count.store(connections.size(), std::memory_order_relaxed);
    if (peak >= kBurst && connections.size() * 4 <= peak) {
      peak = connections.size();
      HTTP1ServerConnection::shrink_exchange_pool(connections.size());
      detail::release_free_memory();
    }
    notify_if_empty();
  }
};

// Adapts a plain coroutine function: the body is gathered, then the function runs.
struct HTTPServer::CallbackDelegate final : HTTPServerConnectionDelegate {
  struct Message final : HTTPMessageDelegate {
    explicit Message(RequestCallback& cb) : callback(cb) {}
    asio::awaitable<void> headers_received(HTTPServerRequest& r) override {
      headers_received_now(r);
      co_return;
    }
    bool headers_received_now(HTTPServerRequest& r) override {
      request = &r;
      return true;
    }
    asio::awaitable<void> data_received(std::string_view chunk) override {
      request->body.append(chunk);
      co_return;
    }
    asio::awaitable<void> finish() override { co_await callback(*request); }
    void on_connection_close() override {}
    RequestCallback& callback;
    HTTPServerRequest* request = nullptr;
  };
  explicit CallbackDelegate(RequestCallback cb) : callback(std::move(cb)) {}
  std::unique_ptr<HTTPMessageDelegate> start_request(HTTPConnection&) override {
    return std::make_unique<Message>(callback);
  }
  RequestCallback callback;
};

HTTPServer::HTTPServer(asio::any_io_executor executor, HTTPServerConnectionDelegate& delegate,
                       HTTPServerOptions options, int threads)
    : TCPServer(std::move(executor), threads), delegate_(delegate), options_(std::move(options)) {
  make_registries();
  set_stream_options(stream_options(options_));
}

HTTPServer::HTTPServer(asio::any_io_executor executor, RequestCallback callback,
                       HTTPServerOptions options, int threads)
    : TCPServer(std::move(executor), threads),
      callback_delegate_(std::make_unique<CallbackDelegate>(std::move(callback))),
      delegate_(*callback_delegate_),
      options_(std::move(options)) {
  make_registries();
  set_stream_options(stream_options(options_));
}

HTTPServer::~HTTPServer() = default;

void HTTPServer::make_registries() {
  for (std::size_t i = 0; i < worker_count(); ++i) {
    registries_.push_back(std::make_unique<Registry>());
    registries_.back()->parked = [this, i] { return parked_count(i); };
  }
}

std::size_t HTTPServer::connection_count() const {
  std::size_t n = parked_count();
  for (const auto& r : registries_) n += r->count.load(std::memory_order_relaxed);
  return n;
}

asio::awaitable<TCPServer::StreamEnd> HTTPServer::handle_stream(IOStream& stream,
                                                                asio::ip::tcp::endpoint remote,
                                                                std::size_t worker,
                                                                asio::cancellation_signal& cancel) {
  Registry& registry = *registries_[worker];
  HTTP1ServerConnection connection(stream, options_, remote.address().to_string());
  connection.set_cancellation_signal(&cancel);
  registry.add(&connection);
  // Draining already: a request that is waiting is served (with Connection: close); a
  // connection with nothing to say closes now.
  if (registry.draining) connection.drain();
  const bool idle = co_await connection.serve(delegate_);
  registry.remove(&connection);
  co_return idle ? StreamEnd::idle : StreamEnd::closed;
}

void HTTPServer::drain_worker(std::size_t worker, std::function<void()> on_empty) {
  Registry& registry = *registries_[worker];
  registry.draining = true;
  registry.on_empty = std::move(on_empty);
  // drain() may close a connection, whose coroutine then unregisters itself later.
  for (auto* c : std::vector(registry.connections.begin(), registry.connections.end())) c->drain();
  close_parked(worker, true);
  registry.notify_if_empty();
}

void HTTPServer::close_worker(std::size_t worker) {
  for (auto* c : registries_[worker]->connections) c->close();
  close_parked(worker, false);
}

asio::awaitable<void> HTTPServer::close_all_connections(std::chrono::milliseconds grace) {
  stop();
  auto executor = co_await asio::this_coro::executor;
  struct Waiter {
    explicit Waiter(asio::any_io_executor ex) : timer(ex), executor(ex) {}
    asio::steady_timer timer;
    asio::any_io_executor executor;
    std::atomic<std::size_t> pending{0};
  };
  auto waiter = std::make_shared<Waiter>(executor);
  waiter->pending = worker_count();
  for (std::size_t i = 0; i < worker_count(); ++i) {
    asio::post(worker_executor(i), [this, i, waiter] {
      drain_worker(i, [waiter] {
        if (--waiter->pending == 0)
          asio::post(waiter->executor, [waiter] { waiter->timer.cancel(); });
      });
    });
  }
  std::error_code ec;
  waiter->timer.expires_after(grace);
  co_await waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (waiter->pending == 0) co_return;
  log::general().warning("closing {} connections still busy after the shutdown grace period",
                         connection_count());
  for (std::size_t i = 0; i < worker_count(); ++i) {
    asio::post(worker_executor(i), [this, i] { close_worker(i); });
  }
  waiter->timer.expires_after(std::chrono::seconds(5));
  co_await waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> respond(HTTPServerRequest& request, int code, std::string_view body,
                              HTTPHeaders headers) {
  char length[24];
  const auto end = std::to_chars(length, length + sizeof length, body.size()).ptr;
  headers.set("Content-Length", std::string_view(length, static_cast<std::size_t>(end - length)));
  if (!headers.contains("Content-Type")) headers.set("Content-Type", "text/plain; charset=utf-8");
  co_await request.connection->write_headers({code, {}}, headers, body);
  co_await request.connection->finish();
}

}  // namespace cortado
