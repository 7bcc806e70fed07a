// The floor: the least CPU an Asio server spends per keep-alive request on this machine. It reads
// with the same drain-aware read as cortado's IOStream (one recvmsg() per request), takes every
// complete request head in the buffer, and answers each with a canned response: no parsing
// beyond the path's first bytes, no headers object, no handler. Not an HTTP server (bodies,
// errors and limits are ignored); a yardstick for how much of cortado's CPU per request is the
// framework's.
//   cortado_asio_floor --port 18085 [--plain-read]
// --plain-read reads with Asio's async_read_some, which tries a recv() before every wait.
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/signal_set.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "drain_aware_read.hpp"

namespace {

using asio::ip::tcp;

constexpr std::string_view kPlaintext =
    "HTTP/1.1 200 OK\r\nServer: floor\r\nContent-Type: text/plain\r\n"
    "Content-Length: 13\r\n\r\nHello, World!";
constexpr std::string_view kJson =
    "HTTP/1.1 200 OK\r\nServer: floor\r\nContent-Type: application/json\r\n"
    "Content-Length: 27\r\n\r\n{\"message\":\"Hello, World!\"}";

bool plain_read = false;

std::string_view reply_to(std::string_view head) {
  return head.starts_with("GET /json") ? kJson : kPlaintext;
}

// Answers every complete head in `buffer` (one write for all of them); returns the bytes used.
std::size_t answer(tcp::socket& socket, std::string_view buffer, std::string& out) {
  out.clear();
  std::size_t used = 0;
  for (std::size_t end; (end = buffer.find("\r\n\r\n", used)) != std::string_view::npos;) {
    out += reply_to(buffer.substr(used));
    used = end + 4;
  }
  std::error_code ignored;
  if (!out.empty()) asio::write(socket, asio::buffer(out), ignored);
  return used;
}

asio::awaitable<void> serve(tcp::socket socket) {
  cortado::detail::ReadState state;
  std::string buffer(4096, '\0');
  std::string out;
  std::size_t have = 0;
  for (;;) {
    std::error_code ec;
    const auto space = asio::buffer(buffer.data() + have, buffer.size() - have);
    std::size_t n = 0;
    if (plain_read) {
      n = co_await socket.async_read_some(space, asio::redirect_error(asio::use_awaitable, ec));
    } else {
      n = co_await cortado::detail::drain_aware_read_some(
          socket, state, state.sent, space, asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) co_return;
    have += n;
    const std::size_t used = answer(socket, {buffer.data(), have}, out);
    state.sent = used > 0;
    std::memmove(buffer.data(), buffer.data() + used, have - used);
    have -= used;
    if (have == buffer.size()) co_return;  // a head larger than the buffer: not for this server
  }
}

asio::awaitable<void> accept_loop(tcp::acceptor acceptor) {
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = 18085;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--port" && i + 1 < argc) {
      port = static_cast<unsigned short>(std::atoi(argv[++i]));
    } else if (arg == "--plain-read") {
      plain_read = true;
    } else {
      std::cerr << "usage: cortado_asio_floor [--port N] [--plain-read]\n";
      return 2;
    }
  }
  asio::io_context io(1);
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  // As TCPServer does: accepted sockets inherit it, and the drain-aware read needs it.
  cortado::detail::report_queued_bytes(acceptor.native_handle());
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io](std::error_code, int) { io.stop(); });
  asio::co_spawn(io, accept_loop(std::move(acceptor)), asio::detached);
  io.run();
  return 0;
}
