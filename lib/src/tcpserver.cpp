#include "cortado/tcpserver.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/dispatch.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "cortado/ioloop.hpp"
#include "cortado/log.hpp"
#include "drain_aware_read.hpp"
#include "parking_lot.hpp"
#include "release_memory.hpp"
#include "uring_service.hpp"

namespace cortado {
namespace {

using asio::ip::tcp;

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

int bind_one(const sockaddr* addr, socklen_t len, int family, int backlog, bool reuse_port) {
  const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno("socket");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  // Keep IPv6 sockets to IPv6, as Tornado does: the IPv4 address gets its own socket.
  if (family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd, addr, len) != 0 || ::listen(fd, backlog) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    throw_errno("bind/listen");
  }
  return fd;
}

std::uint16_t bound_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

// Asio reports errno values in its own system category, which does not compare equal to
// std::errc conditions: compare the numbers.
bool is_descriptor_exhaustion(const std::error_code& ec) {
  if (ec.category() != asio::error::get_system_category()) return false;
  const int e = ec.value();
  return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

int g_task_id = -1;
volatile std::sig_atomic_t g_forward_signal = 0;
extern "C" void remember_signal(int signo) {
  g_forward_signal = signo;
}

}  // namespace

std::vector<int> bind_sockets(std::uint16_t port, std::string_view address, int backlog,
                              bool reuse_port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_ADDRCONFIG;
  const std::string host(address);
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc =
          ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
      rc != 0) {
    throw std::runtime_error("bind_sockets: cannot resolve '" + host + "': " + gai_strerror(rc));
  }
  std::vector<int> fds;
  std::vector<std::string> seen;
  try {
    for (addrinfo* ai = found; ai; ai = ai->ai_next) {
      const std::string key(reinterpret_cast<const char*>(ai->ai_addr), ai->ai_addrlen);
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
      seen.push_back(key);
      // With port 0, every address shares the port the first bind picked.
      if (port == 0 && !fds.empty()) {
        const std::uint16_t chosen = htons(bound_port(fds.front()));
        if (ai->ai_family == AF_INET6) {
          reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_port = chosen;
        } else {
          reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_port = chosen;
        }
      }
      fds.push_back(bind_one(ai->ai_addr, ai->ai_addrlen, ai->ai_family, backlog, reuse_port));
    }
  } catch (...) {
    ::freeaddrinfo(found);
    for (int fd : fds) ::close(fd);
    throw;
  }
  ::freeaddrinfo(found);
  return fds;
}

int task_id() {
  return g_task_id;
}

int fork_processes(int num_processes, int max_restarts) {
  if (num_processes <= 0) num_processes = static_cast<int>(std::thread::hardware_concurrency());
  if (num_processes <= 0) num_processes = 1;
  log::general().info("starting {} processes", num_processes);
  std::map<pid_t, int> children;
  auto start_child = [&](int id) -> bool {
    const pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork");
    if (pid == 0) {
      g_task_id = id;
      return true;
    }
    children[pid] = id;
    return false;
  };
  for (int i = 0; i < num_processes; ++i) {
    if (start_child(i)) return i;
  }
  // Without SA_RESTART, so that wait() returns EINTR and the signal is forwarded at once.
  struct sigaction action {};
  action.sa_handler = remember_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  int restarts = 0;
  bool stopping = false;
  while (!children.empty()) {
    int status = 0;
    const pid_t pid = ::wait(&status);
    if (pid < 0) {
      if (errno != EINTR) throw_errno("wait");
      if (g_forward_signal && !stopping) {
        stopping = true;
        for (const auto& [child, id] : children) ::kill(child, g_forward_signal);
      }
      continue;
    }
    const auto it = children.find(pid);
    if (it == children.end()) continue;
    const int id = it->second;
    children.erase(it);
    const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (clean || stopping) continue;
    log::general().warning("child {} (pid {}) exited with status {}", id, pid, status);
    if (++restarts > max_restarts) throw std::runtime_error("too many child restarts, giving up");
    if (start_child(id)) return id;
  }
  std::exit(0);
}

std::shared_ptr<asio::ssl::context> make_server_ssl_context(const std::string& certfile,
                                                            const std::string& keyfile) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1);
  context->use_certificate_chain_file(certfile);
  context->use_private_key_file(keyfile, asio::ssl::context::pem);
  return context;
}

struct TCPServer::Worker {
  explicit Worker(asio::any_io_executor ex) : executor(std::move(ex)) {}
  // Extra workers own their loop and thread; worker 0 runs on the embedder's executor.
  std::unique_ptr<IOLoop> loop;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  asio::any_io_executor executor;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::size_t index = 0;
  // Parked connections (made on the first parking, on the worker's thread).
  std::shared_ptr<detail::ParkingLot> parked;
  // Woken parked connections whose coroutine has not started yet: still counted as parked, so
  // that a drain never sees the worker empty while a request waits to be served.
  std::size_t resuming = 0;
  std::atomic<std::size_t> parked_count{0};
  void count_parked() {
    parked_count.store((parked ? parked->size() : 0) + resuming, std::memory_order_relaxed);
  }
  std::atomic<std::uint64_t> accepted{0};
};

TCPServer::TCPServer(asio::any_io_executor executor, int threads) {
  workers_.push_back(std::make_unique<Worker>(std::move(executor)));
  for (int i = 1; i < threads; ++i) {
    auto loop = std::make_unique<IOLoop>();
    auto worker = std::make_unique<Worker>(loop->executor());
    worker->work.emplace(loop->context().get_executor());
    worker->loop = std::move(loop);
    worker->index = workers_.size();
    workers_.push_back(std::move(worker));
  }
  start_threads();
}

TCPServer::~TCPServer() {
  stop();
  for (auto& w : workers_) {
    if (!w->loop) continue;
    w->work.reset();
    w->loop->stop();
    if (w->thread.joinable()) w->thread.join();
  }
  // Parked connections close here; their lot's pending handlers find it gone.
  for (auto& w : workers_) w->parked.reset();
  for (int fd : pending_fds_) ::close(fd);
}

void TCPServer::start_threads() {
  for (auto& w : workers_) {
    if (w->loop && !w->thread.joinable()) {
      w->thread = std::thread([loop = w->loop.get()] { loop->run(); });
    }
  }
}

asio::any_io_executor TCPServer::worker_executor(std::size_t worker) const {
  return workers_.at(worker)->executor;
}

void TCPServer::listen(std::uint16_t port, std::string_view address, int backlog) {
  bind(port, address, backlog, workers_.size() > 1);
  start(1);
}

void TCPServer::bind(std::uint16_t port, std::string_view address, int backlog, bool reuse_port) {
  // One listener per worker thread, all on the same port(s), for the kernel to balance.
  auto fds = bind_sockets(port, address, backlog, reuse_port || workers_.size() > 1);
  if (port == 0 && !fds.empty()) port = bound_port(fds.front());
  pending_fds_.insert(pending_fds_.end(), fds.begin(), fds.end());
  for (std::size_t i = 1; i < workers_.size(); ++i) {
    auto more = bind_sockets(port, address, backlog, true);
    pending_fds_.insert(pending_fds_.end(), more.begin(), more.end());
  }
}

void TCPServer::start(int num_processes, int max_restarts) {
  if (num_processes != 1) {
    if (workers_.size() > 1)
      throw std::logic_error("TCPServer: choose threads or processes, not both");
    auto& context = asio::query(workers_.front()->executor, asio::execution::context);
    context.notify_fork(asio::execution_context::fork_prepare);
    fork_processes(num_processes, max_restarts);
    context.notify_fork(asio::execution_context::fork_child);
  }
  deal_sockets(std::exchange(pending_fds_, {}));
}

void TCPServer::add_sockets(const std::vector<int>& fds) {
  // Every worker accepts on every socket (one accept queue, shared): the embedder's sockets are
  // not one per worker, as bind()'s are.
  for (const int fd : fds) {
    for (std::size_t w = 0; w < workers_.size(); ++w) {
      const int own = w == 0 ? fd : ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
      if (own < 0) throw_errno("dup of a listening socket");
      accept_on(w, adopt_listener(*workers_[w], own));
    }
  }
}

void TCPServer::deal_sockets(const std::vector<int>& fds) {
  // bind() made fds.size() / workers sockets per worker, in worker order, each worker's own
  // SO_REUSEPORT listeners for the kernel to balance.
  const std::size_t per_worker = std::max<std::size_t>(1, fds.size() / workers_.size());
  for (std::size_t i = 0; i < fds.size(); ++i) {
    const std::size_t w = std::min(i / per_worker, workers_.size() - 1);
    accept_on(w, adopt_listener(*workers_[w], fds[i]));
  }
}

tcp::acceptor TCPServer::adopt_listener(Worker& worker, int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  const tcp protocol = ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4();
  return tcp::acceptor(worker.executor, protocol, fd);
}

void TCPServer::add_acceptor(tcp::acceptor acceptor) {
  accept_on(0, std::move(acceptor));
}

void TCPServer::accept_on(std::size_t index, tcp::acceptor acceptor) {
  Worker* worker = workers_[index].get();
  acceptor.non_blocking(true);
  // Connections accepted from now on inherit it: it spares the recv() that would fail before
  // every keep-alive request.
  detail::report_queued_bytes(acceptor.native_handle());
  worker->acceptors.push_back(std::make_unique<tcp::acceptor>(std::move(acceptor)));
  asio::co_spawn(worker->executor, accept_loop(this, worker, worker->acceptors.back().get()),
                 asio::detached);
}

void TCPServer::stop() {
  for (auto& w : workers_) {
    // Each acceptor is closed on its own thread.
    asio::dispatch(w->executor, [worker = w.get()] {
      for (auto& a : worker->acceptors) {
        std::error_code ignored;
        a->close(ignored);
      }
    });
  }
}

std::vector<tcp::endpoint> TCPServer::local_endpoints() const {
  std::vector<tcp::endpoint> out;
  for (const auto& w : workers_) {
    for (const auto& a : w->acceptors) {
      std::error_code ec;
      auto ep = a->local_endpoint(ec);
      if (!ec) out.push_back(ep);
    }
  }
  for (int fd : pending_fds_) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    tcp::endpoint ep;
    std::memcpy(ep.data(), &ss, std::min<std::size_t>(len, ep.capacity()));
    out.push_back(ep);
  }
  return out;
}

void TCPServer::set_ssl_context(std::shared_ptr<asio::ssl::context> context) {
  ssl_context_ = std::move(context);
}

asio::awaitable<void> TCPServer::accept_loop(TCPServer* server, Worker* worker,
                                             tcp::acceptor* acceptor) {
  // Where streams will use io_uring, the ring opens now (from the loop's thread, as it must)
  // rather than with the first connection: the server's descriptors and memory are the same
  // before its first client and after its last.
  detail::UringService::usable(worker->executor);
  auto backoff = std::chrono::milliseconds(10);
  // Descriptors run out in episodes of many failed accepts: one log line per minute at most.
  std::optional<std::chrono::steady_clock::time_point> last_logged;
  for (;;) {
    std::error_code ec;
    tcp::socket socket =
        co_await acceptor->async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (!acceptor->is_open() || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      if (is_descriptor_exhaustion(ec)) {
        // Out of descriptors: retrying at once would spin. Wait for connections to close.
        const auto now = std::chrono::steady_clock::now();
        if (!last_logged || now - *last_logged >= std::chrono::minutes(1)) {
          log::general().error("accept: {}; backing off until descriptors free up", ec.message());
          last_logged = now;
        }
        co_await sleep(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
      }
      continue;
    }
    backoff = std::chrono::milliseconds(10);
    server->start_connection(*worker, std::move(socket));
    // Take what else waits in the listen queue now. Otherwise each accept waits for a turn of
    // the loop behind every busy connection's work, and under a flood of connections the
    // requests of those still queued wait seconds (p99 1.4 s at 4,096 connections before).
    // (The acceptor is non-blocking: see accept_on.)
    for (int i = 0; i < kAcceptBatch; ++i) {
      tcp::socket more = acceptor->accept(ec);
      if (ec) break;  // the queue is empty (would_block), or the error repeats on the await
      server->start_connection(*worker, std::move(more));
    }
  }
}

void TCPServer::start_connection(Worker& worker, tcp::socket socket) {
  worker.accepted.fetch_add(1, std::memory_order_relaxed);
  std::error_code ec;
  const tcp::endpoint remote = socket.remote_endpoint(ec);
  if (ec) return;  // already gone
  spawn_connection(worker, std::move(socket), remote, false);
}

void TCPServer::spawn_connection(Worker& worker, tcp::socket socket, tcp::endpoint remote,
                                 bool resumed) {
  // The signal outlives the coroutine: the completion handler owns it.
  auto cancel = std::make_shared<asio::cancellation_signal>();
  asio::co_spawn(worker.executor,
                 serve_connection(this, &worker, std::move(socket), remote, resumed, cancel.get()),
                 asio::bind_cancellation_slot(cancel->slot(), [cancel](std::exception_ptr) {}));
}

asio::awaitable<void> TCPServer::serve_connection(TCPServer* server, Worker* worker,
                                                  tcp::socket socket, tcp::endpoint remote,
                                                  bool resumed, asio::cancellation_signal* cancel) {
  if (resumed) {
    // From here to the connection's registration in handle_stream nothing suspends.
    --worker->resuming;
    worker->count_parked();
  }
  std::error_code ec;
  if (!resumed) socket.set_option(tcp::no_delay(true), ec);
  IOStream stream(std::move(socket), server->stream_options_);
  StreamEnd end = StreamEnd::closed;
  try {
    if (server->ssl_context_ && !resumed) {
      stream.set_timeout(std::chrono::seconds(30));
      co_await stream.start_tls(true, *server->ssl_context_);
      stream.set_timeout({});
    }
    end = co_await server->handle_stream(stream, remote, worker->index, *cancel);
  } catch (const std::exception& e) {
    log::general().debug("connection from {} ended: {}", remote.address().to_string(), e.what());
  }
  if (end == StreamEnd::idle && !stream.closed()) {
    const auto deadline = stream.deadline();
    server->park(*worker, stream.release_socket(), remote, deadline);
  }
}

namespace {

// A wave of parking (a sweep parks together the connections that went idle together) frees their
// streams, buffers and coroutine frames; once the wave has unwound, that memory goes back to the
// system, or glibc would keep the heap at its busiest size.
void give_back_memory_after_parking(const asio::any_io_executor& executor) {
  constexpr std::size_t kWave = 64;
  thread_local std::size_t parked = 0;
  thread_local bool posted = false;
  if (++parked < kWave || posted) return;
  posted = true;
  asio::post(executor, [parked = &parked, posted = &posted] {
    *parked = 0;
    *posted = false;
    detail::release_free_memory();
  });
}

}  // namespace

void TCPServer::park(Worker& worker, tcp::socket socket, tcp::endpoint remote,
                     std::chrono::steady_clock::time_point deadline) {
  give_back_memory_after_parking(worker.executor);
  if (!worker.parked) {
    worker.parked = detail::ParkingLot::create(
        worker.executor,
        [this, &worker](tcp::socket s, tcp::endpoint r) {
          ++worker.resuming;
          spawn_connection(worker, std::move(s), r, true);
        },
        [&worker] { worker.count_parked(); });
  }
  worker.parked->park(std::move(socket), remote, deadline);
}

void TCPServer::close_parked(std::size_t index, bool keep_pending) {
  Worker& worker = *workers_.at(index);
  if (worker.parked) worker.parked->close_all(keep_pending);
}

std::uint64_t TCPServer::accepted_count() const {
  std::uint64_t n = 0;
  for (const auto& w : workers_) n += w->accepted.load(std::memory_order_relaxed);
  return n;
}

std::size_t TCPServer::parked_count(std::size_t worker) const {
  return workers_.at(worker)->parked_count.load(std::memory_order_relaxed);
}

std::size_t TCPServer::parked_count() const {
  std::size_t n = 0;
  for (const auto& w : workers_) n += w->parked_count.load(std::memory_order_relaxed);
  return n;
}

}  // namespace cortado
