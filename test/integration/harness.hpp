// Integration-test helpers: a server on 127.0.0.1:0 running on its own thread, a blocking raw
// HTTP client that reads responses byte-exactly, and running curl.
#pragma once

#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <asio/co_spawn.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/use_future.hpp>

#include "cortado/httpserver.hpp"
#include "cortado/ioloop.hpp"

namespace cortado::test {

// An HTTPServer on an ephemeral port, served by a loop on a thread of its own.
class ServerThread {
 public:
  // Listens on 127.0.0.1, port 0, or, given `sockets`, accepts on those (add_sockets).
  explicit ServerThread(RequestCallback callback, HTTPServerOptions options = {}, int threads = 1,
                        std::shared_ptr<asio::ssl::context> tls = nullptr,
                        std::vector<int> sockets = {});
  explicit ServerThread(HTTPServerConnectionDelegate& delegate, HTTPServerOptions options = {});
  ~ServerThread();

  std::uint16_t port() const { return port_; }
  HTTPServer& server() { return *server_; }
  IOLoop& loop() { return *loop_; }

  // Runs `task` on the server's loop and waits for it.
  template <class T>
  T run(asio::awaitable<T> task) {
    return asio::co_spawn(loop_->context(), std::move(task), asio::use_future).get();
  }
  // Graceful shutdown, as SIGTERM does in the apps.
  void close_all(std::chrono::milliseconds grace);

 private:
  void start(std::shared_ptr<asio::ssl::context> tls, std::vector<int> sockets);
  std::unique_ptr<IOLoop> loop_;
  std::unique_ptr<HTTPServer> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  bool closed_ = false;
};

struct Response {
  std::string version;
  int code = 0;
  std::string reason;
  HTTPHeaders headers;
  std::string body;
  bool chunked = false;
};

// A blocking HTTP/1.1 client over one TCP connection, for byte-level tests.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port);
  void send(std::string_view bytes);
  // Reads one response; `head` for responses to HEAD (no body). Throws on EOF/timeout.
  Response read_response(bool head = false);
  // True when the server has closed the connection (reads EOF within the timeout).
  bool closed_by_peer(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::string read_all_until_close();
  asio::ip::tcp::socket& socket() { return socket_; }

 private:
  std::string read_line();
  void fill();
  asio::io_context context_;
  asio::ip::tcp::socket socket_;
  std::string buffer_;
};

struct CommandResult {
  int status = -1;
  std::string output;
};
// Runs a shell command, capturing stdout.
CommandResult run_command(const std::string& command);

// Data segments the kernel has received on a TCP socket (TCP_INFO's tcpi_data_segs_in).
unsigned data_segments_received(int fd);

std::string request_bytes(std::string_view method, std::string_view target,
                          std::string_view extra_headers = {}, std::string_view body = {});

}  // namespace cortado::test
