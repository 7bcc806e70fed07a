// Servers for the HTTP client's tests, besides harness.hpp's ServerThread:
//  - CountingServer: cortado's HTTPServer on a thread, on any loopback address (::1 too),
//    counting the TCP connections it accepts (what connection reuse is judged by);
//  - RawServer: a scripted TCP server for the responses no real server sends (hostile ones,
//    silent ones, connections closed at the worst moment);
//  - TornadoProcess: a Tornado app run by Debian's python3-tornado, for a peer that is not ours.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <asio/write.hpp>

#include "cortado/httpserver.hpp"
#include "cortado/ioloop.hpp"

namespace cortado::test {

// An HTTPServer that counts the connections it accepts.
class CountingHTTPServer : public HTTPServer {
 public:
  using HTTPServer::HTTPServer;
  int accepted() const { return static_cast<int>(accepted_count()); }
};

class CountingServer {
 public:
  explicit CountingServer(RequestCallback callback, HTTPServerOptions options = {},
                          std::string address = "127.0.0.1",
                          std::shared_ptr<asio::ssl::context> tls = nullptr)
      : loop_(std::make_unique<IOLoop>()),
        server_(std::make_unique<CountingHTTPServer>(loop_->executor(), std::move(callback),
                                                     std::move(options))) {
    if (tls) server_->set_ssl_context(std::move(tls));
    server_->listen(0, address);
    port_ = server_->local_endpoints().at(0).port();
    thread_ = std::thread([this] {
      auto guard = asio::make_work_guard(loop_->context());
      loop_->run();
    });
  }
  ~CountingServer() {
    asio::co_spawn(loop_->context(), server_->close_all_connections(std::chrono::seconds(5)),
                   asio::use_future)
        .get();
    loop_->stop();
    thread_.join();
  }
  CountingServer(const CountingServer&) = delete;
  CountingServer& operator=(const CountingServer&) = delete;

  std::uint16_t port() const { return port_; }
  int accepted() const { return server_->accepted(); }
  std::size_t open_connections() const { return server_->connection_count(); }

 private:
  std::unique_ptr<IOLoop> loop_;
  std::unique_ptr<CountingHTTPServer> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

// A TCP server on 127.0.0.1 whose every connection runs `script(socket, n)` (n counts accepted
// connections from 0), on a loop of its own.
class RawServer {
 public:
  using Script = std::function<asio::awaitable<void>(asio::ip::tcp::socket&, int)>;

  explicit RawServer(Script script)
      : acceptor_(context_, {asio::ip::make_address("127.0.0.1"), 0}), script_(std::move(script)) {
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(context_, accept_loop(this), asio::detached);
    thread_ = std::thread([this] { context_.run(); });
  }
  ~RawServer() {
    asio::post(context_, [this] {
      std::error_code ignored;
      acceptor_.close(ignored);
      context_.stop();
    });
    thread_.join();
  }
  RawServer(const RawServer&) = delete;
  RawServer& operator=(const RawServer&) = delete;

  std::uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }

  // Reads one request head (and nothing after it); false when the client closed first.
  static asio::awaitable<bool> read_head(asio::ip::tcp::socket& socket, std::string& buffer) {
    std::error_code ec;
    auto dynamic = asio::dynamic_buffer(buffer);
    const std::size_t n = co_await asio::async_read_until(
        socket, dynamic, "\r\n\r\n", asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
    buffer.erase(0, n);
    co_return true;
  }
  static asio::awaitable<bool> send(asio::ip::tcp::socket& socket, std::string_view bytes) {
    std::error_code ec;
    co_await asio::async_write(socket, asio::buffer(bytes.data(), bytes.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  }
  // Waits until the client closes (or resets) the connection.
  static asio::awaitable<void> wait_for_close(asio::ip::tcp::socket& socket) {
    char sink[4096];
    std::error_code ec;
    while (!ec) {
      co_await socket.async_read_some(asio::buffer(sink),
                                      asio::redirect_error(asio::use_awaitable, ec));
    }
  }

 private:
  static asio::awaitable<void> accept_loop(RawServer* self) {
    for (int n = 0;; ++n) {
      std::error_code ec;
      auto socket =
          co_await self->acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      self->accepted_.fetch_add(1);
      asio::co_spawn(self->context_, run_script(std::move(socket), n, self->script_),
                     asio::detached);
    }
  }
  static asio::awaitable<void> run_script(asio::ip::tcp::socket socket, int n, Script script) {
    co_await script(socket, n);
  }

  asio::io_context context_;
  asio::ip::tcp::acceptor acceptor_;
  Script script_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
};

// A Python program run with /usr/bin/python3; the first line it prints is its port. Killed (and
// reaped) when this goes out of scope.
class TornadoProcess {
 public:
  explicit TornadoProcess(const std::string& program) {
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
    const char* argv[] = {"/usr/bin/python3", "-c", program.c_str(), nullptr};
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      ::execv(argv[0], const_cast<char* const*>(argv));
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    if (pid_ < 0 || line.empty()) {
      stop();
      throw std::runtime_error("the Python server did not start (is python3-tornado installed?)");
    }
    // The ports it listens on, on one line.
    std::istringstream words(line);
    for (int port = 0; words >> port;) ports_.push_back(static_cast<std::uint16_t>(port));
  }
  ~TornadoProcess() { stop(); }
  TornadoProcess(const TornadoProcess&) = delete;
  TornadoProcess& operator=(const TornadoProcess&) = delete;

  std::uint16_t port(std::size_t index = 0) const { return ports_.at(index); }

 private:
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  pid_t pid_ = -1;
  std::vector<std::uint16_t> ports_;
};

}  // namespace cortado::test
