// A line echo server on IOStream: the smallest complete use of the transport layer.
//   cortado_echo [port]      then: nc 127.0.0.1 8888
#include <cstdlib>
#include <string>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>

#include "cortado/ioloop.hpp"
#include "cortado/iostream.hpp"
#include "cortado/log.hpp"

namespace {

asio::awaitable<void> echo(asio::ip::tcp::socket socket) {
  cortado::IOStream stream(std::move(socket));
  try {
    for (;;) {
      stream.set_timeout(std::chrono::minutes(5));
      std::string_view line = co_await stream.read_until("\n", 64 * 1024);
      co_await stream.write(line);
    }
  } catch (const std::system_error& e) {
    cortado::log::general().debug("connection ended: {}", e.code().message());
  }
}

asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor acceptor) {
  for (;;) {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    asio::co_spawn(acceptor.get_executor(), echo(std::move(socket)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8888);
  cortado::IOLoop loop;
  asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  asio::ip::tcp::acceptor acceptor(loop.context(), endpoint);
  fmt::print("echo server on {}:{} (nc 127.0.0.1 {})\n", endpoint.address().to_string(), port, port);
  std::fflush(stdout);
  asio::co_spawn(loop.context(), accept_loop(std::move(acceptor)), asio::detached);
  loop.handle_signals();
  loop.run();
  return 0;
}
