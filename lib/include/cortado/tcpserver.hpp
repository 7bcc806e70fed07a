// TCPServer: listening sockets, the accept loop, TLS handshakes, threads and pre-forking
// (Tornado's tcpserver.py and netutil.bind_sockets / process.fork_processes).
//
// Embedding: give it your executor and it accepts on your loop. With threads > 1 it also runs
// one io_context per extra thread, each with its own SO_REUSEPORT listener (shared-nothing:
// a connection lives and dies on the thread that accepted it).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "cortado/iostream.hpp"

namespace asio::ssl {
class context;
}

namespace cortado {

// Listening sockets (native descriptors) for `port` on `address` ("" = every interface, IPv4
// and IPv6; "localhost" = each address it resolves to). Port 0 picks a free port, the same for
// every address. Tornado's bind_sockets: call before fork_processes, hand to add_sockets after.
std::vector<int> bind_sockets(std::uint16_t port, std::string_view address = {}, int backlog = 1024,
                              bool reuse_port = false);

// Forks `num_processes` children (0: one per CPU) and returns the child's task id (0..n-1) in
// each child. The parent never returns: it restarts children that crash (up to max_restarts),
// forwards SIGINT/SIGTERM to them, and exits 0 once they have all exited cleanly.
int fork_processes(int num_processes, int max_restarts = 100);
// This process's task id after fork_processes, or -1.
int task_id();

// A server certificate context for TCPServer::set_ssl_context.
std::shared_ptr<asio::ssl::context> make_server_ssl_context(const std::string& certfile,
                                                            const std::string& keyfile);

class TCPServer {
 public:
  // `threads` > 1 adds threads-1 worker threads with their own loops beside `executor`'s.
  explicit TCPServer(asio::any_io_executor executor, int threads = 1);
  virtual ~TCPServer();
  TCPServer(const TCPServer&) = delete;
  TCPServer& operator=(const TCPServer&) = delete;

  // bind + accept right away.
  void listen(std::uint16_t port, std::string_view address = {}, int backlog = 1024);
  // Binds now; accepting starts with start(), after an optional fork.
  void bind(std::uint16_t port, std::string_view address = {}, int backlog = 1024,
            bool reuse_port = false);
  // Tornado's start(num_processes): 1 serves here; otherwise fork_processes first.
  void start(int num_processes = 1, int max_restarts = 100);
  // Listening sockets made elsewhere (bind_sockets, systemd socket activation...). The server
  // owns them from now on; with threads, every loop accepts on each of them.
  void add_sockets(const std::vector<int>& fds);
  void add_acceptor(asio::ip::tcp::acceptor acceptor);
  // Stops accepting; connections already open go on.
  void stop();

  // Where the server listens (the real ports, when bound to port 0).
  std::vector<asio::ip::tcp::endpoint> local_endpoints() const;
  void set_ssl_context(std::shared_ptr<asio::ssl::context> context);
  void set_stream_options(IOStreamOptions options) { stream_options_ = options; }

  std::size_t worker_count() const { return workers_.size(); }
  asio::any_io_executor worker_executor(std::size_t worker) const;

  // TCP connections accepted so far (a connection parked and resumed counts once).
  std::uint64_t accepted_count() const;
  // Idle connections parked (see StreamEnd::idle), across every worker.
  std::size_t parked_count() const;

 protected:
  // How handle_stream left the connection. `idle`: open, with nothing to read or write, after
  // IOStream::fill_idle() ended with stream_errc::parked. The server then parks it: it keeps the
  // bare descriptor (no IOStream, no coroutine frame, not even an Asio socket) until the peer
  // sends more, and then calls handle_stream again on a new stream. So a long-idle keep-alive
  // connection costs well under 1 KiB (see lib/src/parking_lot.hpp).
  enum class StreamEnd { closed, idle };

  // One connection, on its worker's thread; the stream dies when this returns. Emitting
  // `cancel` cancels whatever the connection's coroutine is awaiting (a handler's timer or
  // Condition) -- how a vanished client stops the work done for it.
  virtual asio::awaitable<StreamEnd> handle_stream(IOStream& stream, asio::ip::tcp::endpoint remote,
                                                   std::size_t worker,
                                                   asio::cancellation_signal& cancel) = 0;
  // Closes the worker's parked connections (on its thread). With `keep_pending`, those whose
  // peer has already sent something stay: they resume and are served.
  void close_parked(std::size_t worker, bool keep_pending);
  // The worker's parked connections (readable from any thread).
  std::size_t parked_count(std::size_t worker) const;

 private:
  struct Worker;
  static asio::awaitable<void> accept_loop(TCPServer* server, Worker* worker,
                                           asio::ip::tcp::acceptor* acceptor);
  static asio::awaitable<void> serve_connection(TCPServer* server, Worker* worker,
                                                asio::ip::tcp::socket socket,
                                                asio::ip::tcp::endpoint remote, bool resumed,
                                                asio::cancellation_signal* cancel);
  // Connections accepted in one go, after an awaited accept, before the loop gets a turn.
  static constexpr int kAcceptBatch = 64;
  void start_connection(Worker& worker, asio::ip::tcp::socket socket);
  void spawn_connection(Worker& worker, asio::ip::tcp::socket socket,
                        asio::ip::tcp::endpoint remote, bool resumed);
  void park(Worker& worker, asio::ip::tcp::socket socket, asio::ip::tcp::endpoint remote,
            std::chrono::steady_clock::time_point deadline);
  void start_threads();
  void accept_on(std::size_t worker, asio::ip::tcp::acceptor acceptor);
  // bind()'s sockets, one set per worker, each to its worker.
  void deal_sockets(const std::vector<int>& fds);
  static asio::ip::tcp::acceptor adopt_listener(Worker& worker, int fd);

  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<int> pending_fds_;
  std::shared_ptr<asio::ssl::context> ssl_context_;
  IOStreamOptions stream_options_;
};

}  // namespace cortado
