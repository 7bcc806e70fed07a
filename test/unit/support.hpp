// Helpers shared by the unit tests: loopback socket pairs and running a coroutine to completion.
#pragma once

#include <chrono>
#include <utility>

#include <asio/ip/tcp.hpp>

#include "cortado/ioloop.hpp"

namespace cortado::test {

// Two connected TCP sockets on 127.0.0.1 (the listener binds port 0).
inline std::pair<asio::ip::tcp::socket, asio::ip::tcp::socket> socket_pair(
    asio::io_context& context) {
  using asio::ip::tcp;
  tcp::acceptor acceptor(context, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(context);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  return {std::move(client), std::move(server)};
}

// Generous: a bound that only a hang can break.
inline constexpr auto kTestTimeout = std::chrono::seconds(30);

}  // namespace cortado::test
