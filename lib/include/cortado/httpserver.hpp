// HTTPServer = TCPServer + HTTP1ServerConnection (Tornado's httpserver.py).
//
//   cortado::HTTPServer server(loop.executor(), [](cortado::HTTPServerRequest& request)
//       -> asio::awaitable<void> { co_await cortado::respond(request, 200, "Hello"); });
//   server.listen(8888);
//
// The callback runs once the whole body has arrived. Behind it can also sit any
// HTTPServerConnectionDelegate, such as web::Application.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "cortado/http1connection.hpp"
#include "cortado/httputil/delegate.hpp"
#include "cortado/httputil/request.hpp"
#include "cortado/tcpserver.hpp"

namespace cortado {

using RequestCallback = std::function<asio::awaitable<void>(HTTPServerRequest&)>;

class HTTPServer : public TCPServer {
 public:
  HTTPServer(asio::any_io_executor executor, HTTPServerConnectionDelegate& delegate,
             HTTPServerOptions options = {}, int threads = 1);
  HTTPServer(asio::any_io_executor executor, RequestCallback callback,
             HTTPServerOptions options = {}, int threads = 1);
  ~HTTPServer() override;

  const HTTPServerOptions& options() const { return options_; }

  // Graceful shutdown (call stop() first or let this do it): idle connections close now,
  // requests in flight get their whole response, and whatever is left after `grace` is cut off.
  asio::awaitable<void> close_all_connections(std::chrono::milliseconds grace);
  // Open connections (parked idle ones included), across every worker thread.
  std::size_t connection_count() const;

 protected:
  asio::awaitable<StreamEnd> handle_stream(IOStream& stream, asio::ip::tcp::endpoint remote,
                                           std::size_t worker,
                                           asio::cancellation_signal& cancel) override;

 private:
  struct Registry;
  struct CallbackDelegate;
  void make_registries();
  void drain_worker(std::size_t worker, std::function<void()> on_empty);
  void close_worker(std::size_t worker);

  std::unique_ptr<CallbackDelegate> callback_delegate_;
  HTTPServerConnectionDelegate& delegate_;
  HTTPServerOptions options_;
  std::vector<std::unique_ptr<Registry>> registries_;  // one per worker, touched on its thread
};

// A whole response in one call, for callbacks that need no more (text body, optional headers).
asio::awaitable<void> respond(HTTPServerRequest& request, int code, std::string_view body,
                              HTTPHeaders headers = {});

}  // namespace cortado
