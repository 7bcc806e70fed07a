#include <doctest/doctest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/ssl.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "cortado/iostream.hpp"
#include "cortado/regex.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using cortado::IOLoop;
using cortado::IOStream;
using cortado::test::kTestTimeout;
using cortado::test::socket_pair;

namespace {

struct Pair {
  IOLoop loop;
  std::unique_ptr<IOStream> client, server;
  explicit Pair(cortado::IOStreamOptions server_options = {}) {
    auto [c, s] = socket_pair(loop.context());
    client = std::make_unique<IOStream>(std::move(c));
    server = std::make_unique<IOStream>(std::move(s), server_options);
  }
  template <class T>
  T run(asio::awaitable<T> task) {
    return loop.run_sync(std::move(task), kTestTimeout);
  }
};

std::uint64_t fnv1a(std::string_view data, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : data) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

TEST_CASE("read_until finds a delimiter split across TCP segments") {
  Pair p;
  auto got = p.run([](Pair& p) -> asio::awaitable<std::string> {
    co_await p.client->write("hello\r");
    co_await cortado::sleep(5ms);  // a separate segment in practice; correct either way
    co_await p.client->write("\nrest");
    co_return std::string(co_await p.server->read_until("\r\n"));
  }(p));
  CHECK(got == "hello\r\n");
  CHECK(p.server->buffered() == "rest");
}

TEST_CASE("pipelined reads are served from the buffer before the socket") {
  Pair p;
  p.run(p.client->write("one\ntwo\nthree\n"));
  std::vector<std::string> lines;
  p.run([](Pair& p, std::vector<std::string>& out) -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) out.emplace_back(co_await p.server->read_until("\n"));
  }(p, lines));
  CHECK(lines == std::vector<std::string>{"one\n", "two\n", "three\n"});
}

TEST_CASE("read_bytes: zero bytes, exact counts and partial reads") {
  Pair p;
  p.run(p.client->write("abcdef"));
  p.run([](Pair& p) -> asio::awaitable<void> {
    CHECK((co_await p.server->read_bytes(0)).empty());
    CHECK(co_await p.server->read_bytes(2) == "ab");
    auto partial = co_await p.server->read_bytes(100, true);
    CHECK(partial == "cdef");
  }(p));
}

TEST_CASE("read_into fills the caller's buffer, or part of it with partial") {
  Pair p;
  p.run(p.client->write("0123456789"));
  p.run([](Pair& p) -> asio::awaitable<void> {
    std::array<char, 4> four{};
    CHECK(co_await p.server->read_into(four) == 4);
    CHECK(std::string_view(four.data(), 4) == "0123");
    std::array<char, 64> big{};
    auto n = co_await p.server->read_into(big, true);
    CHECK(std::string_view(big.data(), n) == "456789");
  }(p));
}

TEST_CASE("read_until_regex stops at the first match") {
  Pair p;
  cortado::Regex blank_line("\r?\n\r?\n");
  p.run(p.client->write("a: b\n\nbody"));
  auto got = p.run([](Pair& p, const cortado::Regex& re) -> asio::awaitable<std::string> {
    co_return std::string(co_await p.server->read_until_regex(re));
  }(p, blank_line));
  CHECK(got == "a: b\n\n");
}

TEST_CASE("read_until_close returns everything the peer sent") {
  Pair p;
  p.run(p.client->write("last words"));
  p.client->close();
  auto got = p.run([](Pair& p) -> asio::awaitable<std::string> {
    co_return std::string(co_await p.server->read_until_close());
  }(p));
  CHECK(got == "last words");
}

TEST_CASE("64 MiB through read_bytes arrive intact (checksum)") {
  Pair p;
  constexpr std::size_t total = 64u << 20;
  std::string block(1 << 20, '\0');
  std::mt19937_64 rng(7);
  for (auto& c : block) c = static_cast<char>(rng());
  std::uint64_t sent = 1469598103934665603ull;
  for (std::size_t i = 0; i < total / block.size(); ++i) sent = fnv1a(block, sent);

  std::uint64_t received = 0;
  auto writer = [](Pair& p, const std::string& b) -> asio::awaitable<void> {
    for (std::size_t i = 0; i < total / b.size(); ++i) co_await p.client->write(b);
  };
  auto reader = [](Pair& p, std::uint64_t& out) -> asio::awaitable<void> {
    std::uint64_t h = 1469598103934665603ull;
    std::size_t got = 0;
    while (got < total) {
      auto chunk =
          co_await p.server->read_bytes(std::min<std::size_t>(256 * 1024, total - got), true);
      h = fnv1a(chunk, h);
      got += chunk.size();
    }
    out = h;
  };
  asio::co_spawn(p.loop.context(), writer(p, block), asio::detached);
  p.run(reader(p, received));
  CHECK(received == sent);
}

TEST_CASE("close() during a pending read fails the read with StreamClosedError") {
  Pair p;
  p.loop.call_later(5ms, [&] { p.server->close(); });
  p.run([](Pair& p) -> asio::awaitable<void> {
    try {
      co_await p.server->read_until("\n");
      FAIL("the read should have failed");
    } catch (const cortado::StreamClosedError& e) {
      CHECK(e.code() == cortado::stream_errc::closed);
    }
  }(p));
  CHECK(p.server->closed());
}

TEST_CASE("a peer's close is reported with the real cause") {
  Pair p;
  p.client->close();
  p.run([](Pair& p) -> asio::awaitable<void> {
    try {
      co_await p.server->read_bytes(1);
      FAIL("the read should have failed");
    } catch (const cortado::StreamClosedError& e) {
      CHECK(e.code() == asio::error::eof);
    }
  }(p));
}

TEST_CASE("max_bytes and max_buffer_size fail clearly and close the stream") {
  SUBCASE("delimiter not within max_bytes") {
    Pair p;
    std::string line(100, 'x');
    line.push_back('\n');
    p.run(p.client->write(line));
    CHECK_THROWS_AS(p.run(p.server->read_until("\n", 50)), cortado::UnsatisfiableReadError);
    CHECK(p.server->closed());
  }
  SUBCASE("buffer limit") {
    Pair p({.max_buffer_size = 1024, .read_chunk_size = 256});
    p.run(p.client->write(std::string(4096, 'x')));
    CHECK_THROWS_AS(p.run(p.server->read_until("\n")), cortado::StreamBufferFullError);
    CHECK(p.server->closed());
  }
}

TEST_CASE("a second concurrent read is refused") {
  Pair p;
  p.run([](Pair& p) -> asio::awaitable<void> {
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [](IOStream& s) -> asio::awaitable<void> {
          try {
            co_await s.read_until("\n");
          } catch (const cortado::StreamClosedError&) {
          }
        }(*p.server),
        asio::detached);
    co_await cortado::sleep(1ms);
    CHECK_THROWS_AS(co_await p.server->read_bytes(1), std::logic_error);
    p.server->close();
  }(p));
}

TEST_CASE("concurrent writes keep their call order") {
  Pair p;
  constexpr int writers = 50;
  std::vector<std::string> pieces;
  for (int i = 0; i < writers; ++i) pieces.emplace_back(64 * 1024, char('A' + i % 26));
  for (int i = 0; i < writers; ++i) {
    asio::co_spawn(p.loop.context(), p.client->write(pieces[i]), asio::detached);
  }
  std::string expected;
  for (auto& s : pieces) expected += s;
  auto got = p.run([](Pair& p, std::size_t n) -> asio::awaitable<std::string> {
    co_return std::string(co_await p.server->read_bytes(n));
  }(p, expected.size()));
  CHECK(got == expected);
}

namespace {

// As TCPServer accepts: TCP_INQ on the listening socket, so that reads learn when they emptied
// the socket and the next wait for a message skips the recv() that would fail.
std::pair<asio::ip::tcp::socket, asio::ip::tcp::socket> inq_socket_pair(asio::io_context& context) {
  using asio::ip::tcp;
  tcp::acceptor acceptor(context, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const int one = 1;
  REQUIRE(::setsockopt(acceptor.native_handle(), IPPROTO_TCP, TCP_INQ, &one, sizeof one) == 0);
  tcp::socket client(context);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  return {std::move(client), std::move(server)};
}

}  // namespace

// The kernel does not count a reset in what is left to read, so a wait that followed a read of
// the reset's last bytes, with nothing sent since (a send would have met the reset), must try a
// recv() rather than wait for an edge that will not come.
TEST_CASE("fill_idle finds a reset that came with the last bytes read, with no send since") {
  IOLoop loop;
  auto sockets = inq_socket_pair(loop.context());  // (clang 14 cannot capture a structured binding)
  asio::ip::tcp::socket& client = sockets.first;
  IOStream server(std::move(sockets.second), {.park_after = std::chrono::hours(1)});
  auto wait = [&]() -> asio::awaitable<std::error_code> {
    asio::write(client, asio::buffer(std::string_view("ping")));
    co_await server.read_bytes(4);
    co_await server.write("pong");
    char pong[4];
    asio::read(client, asio::buffer(pong));
    // While the stream waits, a byte and a reset arrive together: sent from this thread before
    // the loop polls the socket again.
    asio::post(loop.executor(), [&] {
      asio::write(client, asio::buffer(std::string_view("x")));
      client.set_option(asio::socket_base::linger(true, 0));
      client.close();
    });
    if (const std::error_code ec = co_await server.fill_idle()) co_return ec;
    server.consume(server.buffered().size());
    co_return co_await server.fill_idle();
  };
  CHECK(loop.run_sync(wait(), std::chrono::seconds(10)) == asio::error::connection_reset);
}

// A client's stream: connect() turns TCP_INQ on, and fill_reply() waits for each reply after the
// read before it emptied the socket (no recv() first), yet gets the reply and then the close.
TEST_CASE("fill_reply gets each reply after a request, then the peer's close") {
  using asio::ip::tcp;
  IOLoop loop;
  tcp::acceptor acceptor(loop.context(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  IOStream client(loop.executor());
  tcp::socket peer(loop.context());
  auto exchange = [&]() -> asio::awaitable<std::string> {
    co_await client.connect(acceptor.local_endpoint());
    int inq = 0;
    socklen_t size = sizeof inq;
    REQUIRE(::getsockopt(client.socket().native_handle(), IPPROTO_TCP, TCP_INQ, &inq, &size) == 0);
    CHECK(inq == 1);
    peer = acceptor.accept();
    std::string replies;
    for (std::string_view reply : {"one", "two"}) {
      co_await client.write("request");
      char request[7];
      asio::read(peer, asio::buffer(request));
      // The reply is written once the client waits for it.
      asio::post(loop.executor(), [&peer, reply] { asio::write(peer, asio::buffer(reply)); });
      while (client.buffered().size() < reply.size()) {
        if (const std::error_code ec = co_await client.fill_reply()) co_return "error";
      }
      replies += client.buffered();
      client.consume(client.buffered().size());
    }
    co_await client.write("bye");
    asio::post(loop.executor(), [&peer] { peer.shutdown(tcp::socket::shutdown_send); });
    const std::error_code end = co_await client.fill_reply();
    co_return end == asio::error::eof ? replies : "no eof";
  };
  CHECK(loop.run_sync(exchange(), std::chrono::seconds(10)) == "onetwo");
}

TEST_CASE("set_timeout closes an idle stream with timed_out") {
  Pair p;
  p.server->set_timeout(20ms);
  p.run([](Pair& p) -> asio::awaitable<void> {
    try {
      co_await p.server->read_bytes(1);
      FAIL("the read should have timed out");
    } catch (const cortado::StreamClosedError& e) {
      CHECK(e.code() == cortado::stream_errc::timed_out);
    }
  }(p));
}

TEST_CASE("set_close_callback runs once the stream closes") {
  Pair p;
  int calls = 0;
  p.server->set_close_callback([&] { ++calls; });
  p.server->close();
  p.loop.run_sync(cortado::sleep(1ms));
  CHECK(calls == 1);
}

TEST_CASE("TLS: handshake, echo and SNI over loopback") {
  IOLoop loop;
  auto [c, s] = socket_pair(loop.context());
  IOStream client(std::move(c)), server(std::move(s));
  asio::ssl::context server_ctx(asio::ssl::context::tls_server);
  server_ctx.use_certificate_chain_file(CORTADO_TEST_DATA "/tls/server.pem");
  server_ctx.use_private_key_file(CORTADO_TEST_DATA "/tls/server.key", asio::ssl::context::pem);
  asio::ssl::context client_ctx(asio::ssl::context::tls_client);
  client_ctx.load_verify_file(CORTADO_TEST_DATA "/tls/ca.pem");
  client_ctx.set_verify_mode(asio::ssl::verify_peer);

  asio::co_spawn(
      loop.context(),
      [](IOStream& s, asio::ssl::context& ctx) -> asio::awaitable<void> {
        co_await s.start_tls(true, ctx);
        auto line = co_await s.read_until("\n");
        std::string reply = "echo: ";
        reply.append(line);
        co_await s.write(reply);
      }(server, server_ctx),
      asio::detached);
  auto reply = loop.run_sync(
      [](IOStream& c, asio::ssl::context& ctx) -> asio::awaitable<std::string> {
        co_await c.start_tls(false, ctx, "localhost");
        co_await c.write("secret\n");
        co_return std::string(co_await c.read_until("\n"));
      }(client, client_ctx),
      kTestTimeout);
  CHECK(reply == "echo: secret\n");
  CHECK(client.is_tls());
}

TEST_CASE("TLS: a client that verifies rejects a certificate for another name") {
  IOLoop loop;
  auto [c, s] = socket_pair(loop.context());
  IOStream client(std::move(c)), server(std::move(s));
  asio::ssl::context server_ctx(asio::ssl::context::tls_server);
  server_ctx.use_certificate_chain_file(CORTADO_TEST_DATA "/tls/server.pem");
  server_ctx.use_private_key_file(CORTADO_TEST_DATA "/tls/server.key", asio::ssl::context::pem);
  asio::ssl::context client_ctx(asio::ssl::context::tls_client);
  client_ctx.load_verify_file(CORTADO_TEST_DATA "/tls/ca.pem");
  client_ctx.set_verify_mode(asio::ssl::verify_peer);
  asio::co_spawn(
      loop.context(),
      [](IOStream& s, asio::ssl::context& ctx) -> asio::awaitable<void> {
        try {
          co_await s.start_tls(true, ctx);
        } catch (const cortado::StreamClosedError&) {
        }
      }(server, server_ctx),
      asio::detached);
  CHECK_THROWS_AS(loop.run_sync(client.start_tls(false, client_ctx, "example.com"), kTestTimeout),
                  cortado::StreamClosedError);
}
