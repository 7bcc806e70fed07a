// Hostile clients against apps/hello run as a user runs it (a child process): slowloris, 10,000
// idle connections, clients that never read, 100,000 pipelined requests, resets mid-request and
// mid-response, TLS garbage, random bytes. After each the server must answer normally with its
// descriptors back to the baseline and (outside the sanitizer build, whose allocator keeps freed
// memory in quarantine) its resident memory back near it.
#ifdef CORTADO_HAVE_HELLO
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "app_process.hpp"
#include "harness.hpp"
#include "sanitizers.hpp"

using namespace std::chrono_literals;
using asio::ip::tcp;
using cortado::test::app_binary;
using cortado::test::AppProcess;
using cortado::test::RawClient;
using cortado::test::request_bytes;

namespace {

// RSS is measured outside AddressSanitizer's build (see sanitizers.hpp).
constexpr bool kMeasureRss = !cortado::test::kAddressSanitizer;

constexpr std::string_view kGet = "GET /plaintext HTTP/1.1\r\nHost: test\r\n\r\n";
constexpr std::string_view kHello = "Hello, World!";
constexpr auto kRedirect = [](std::error_code& ec) {
  return asio::redirect_error(asio::use_awaitable, ec);
};

struct Baseline {
  long rss_kib = 0;
  int fds = 0;
};

// One request answered, then the figures the server must come back to. After a Connection:
// close response the server lingers, holding the socket until the client's EOF: counted while
// it certainly holds it, the baseline is one fewer.
Baseline warm_up(const AppProcess& app) {
  std::optional<RawClient> client(app.port());
  client->send(request_bytes("GET", "/plaintext", "Connection: close\r\n"));
  REQUIRE(client->read_response().body == kHello);
  REQUIRE(client->closed_by_peer());
  const int with_client = app.fd_count();
  client.reset();
  const int fds = app.wait_for_fds_at_most(with_client - 1, 10s);
  REQUIRE(fds == with_client - 1);
  return {.rss_kib = app.rss_kib(), .fds = fds};
}

// Latencies (ms) of `n` requests by a well-behaved client; every fourth on a new connection.
std::vector<double> timed_requests(std::uint16_t port, int n) {
  std::vector<double> ms;
  std::optional<RawClient> client;
  for (int i = 0; i < n; ++i) {
    const auto start = std::chrono::steady_clock::now();
    if (!client || i % 4 == 0) client.emplace(port);
    client->send(kGet);
    const auto response = client->read_response();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
    REQUIRE(response.body == kHello);
  }
  return ms;
}

double p99(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.at(static_cast<std::size_t>(std::ceil(0.99 * static_cast<double>(v.size()))) - 1);
}

// The server answers, its descriptors are back at the baseline, its memory near it (within
// `slack_kib`).
void expect_back_to_normal(const AppProcess& app, const Baseline& base, long slack_kib = 8 * 1024) {
  const int fds = app.wait_for_fds_at_most(base.fds, 30s);
  CHECK_MESSAGE(fds == base.fds, "descriptors: " << fds << ", baseline " << base.fds);
  RawClient client(app.port());
  client.send(kGet);
  CHECK(client.read_response().body == kHello);
  if (kMeasureRss) {
    const long rss = app.rss_kib();
    MESSAGE("RSS " << rss << " KiB, baseline " << base.rss_kib << " KiB");
    CHECK_MESSAGE(rss < base.rss_kib + slack_kib, "RSS " << rss << " KiB vs " << base.rss_kib);
  }
}

// Connects `n` sockets to the server (all on `io`, which runs them).
asio::awaitable<void> connect_one(tcp::socket& socket, std::uint16_t port) {
  co_await socket.async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
}

// Reads one /plaintext response off `socket` (they are all the same length, with Content-Length).
asio::awaitable<bool> read_hello(tcp::socket& socket, std::string& buffer) {
  std::error_code ec;
  while (buffer.find(kHello) == std::string::npos) {
    char chunk[1024];
    const std::size_t n = co_await socket.async_read_some(asio::buffer(chunk), kRedirect(ec));
    if (ec) co_return false;
    buffer.append(chunk, n);
  }
  buffer.erase(0, buffer.find(kHello) + kHello.size());
  co_return true;
}

// Runs the coroutines `make(i)` for i in [0, n) on `io`, at most `window` at a time.
template <class Make>
void run_all(asio::io_context& io, int n, int window, Make make) {
  for (int start = 0; start < n; start += window) {
    for (int i = start; i < std::min(n, start + window); ++i) {
      asio::co_spawn(io, make(i), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
    }
    io.run();
    io.restart();
  }
}

void reset(tcp::socket& socket) {
  std::error_code ignored;
  socket.set_option(asio::socket_base::linger(true, 0), ignored);
  socket.close(ignored);
}

}  // namespace

TEST_CASE("hostile: 1,000 slowloris connections do not slow a normal client") {
  cortado::test::raise_fd_limit();
  AppProcess app(app_binary("hello"), {});
  const Baseline base = warm_up(app);
  asio::io_context io;
  std::atomic<bool> done{false};
  std::vector<tcp::socket> sockets;
  for (int i = 0; i < 1000; ++i) sockets.emplace_back(io);
  for (auto& socket : sockets) {
    asio::co_spawn(
        io,
        [](tcp::socket& s, std::uint16_t port, std::atomic<bool>& stop) -> asio::awaitable<void> {
          co_await connect_one(s, port);
          const std::string_view head = "GET /plaintext HTTP/1.1\r\nX-Slow: ";
          co_await asio::async_write(s, asio::buffer(head), asio::use_awaitable);
          asio::steady_timer timer(s.get_executor());
          while (!stop) {  // one byte every 100 ms, never a whole header
            timer.expires_after(100ms);
            co_await timer.async_wait(asio::use_awaitable);
            co_await asio::async_write(s, asio::buffer("a", 1), asio::use_awaitable);
          }
        }(socket, app.port(), done),
        asio::detached);
  }
  std::thread dribblers([&] { io.run(); });
  CHECK(app.wait_for_fds_at_least(base.fds + 1000, 30s) >= base.fds + 1000);
  const auto latencies = timed_requests(app.port(), 400);
  done = true;
  dribblers.join();
  MESSAGE("p99 with 1,000 slowloris connections: " << p99(latencies) << " ms");
  CHECK(p99(latencies) < 50.0);
  sockets.clear();
  expect_back_to_normal(app, base);
  CHECK(app.stop(SIGTERM, 20s) == 0);
}

// 10,000 idle connections, twice. An idle connection is parked (a bare descriptor in the
// worker's parking lot: no stream, coroutine or Asio socket) once idle past --park-after, here
// 10 ms so that the figure is a parked connection's cost rather than that of connections all busy
// at once (docs/RELIABILITY.md has both). Measured with jemalloc, which the apps use when it is
// installed: 0.2-0.4 KiB (0.85-0.9 when parked connections were Asio sockets). On glibc's malloc
// the blocks that stay pin more of the pages freed around them. The reactor keeps the per-socket
// state of closed sockets for reuse, so after the first burst the memory is judged by reuse: the
// second burst must not need more.
#ifdef CORTADO_APPS_ON_JEMALLOC
constexpr double kParkedKiB = 0.75;
#else
constexpr double kParkedKiB = 1.5;
#endif
TEST_CASE("hostile: 10,000 idle keep-alive connections, each after one request, twice") {
  // The client's sockets share this process's descriptor limit; where the hard limit is below
  // 10,200 the test runs at the scale it allows, and says so.
  const long limit = cortado::test::raise_fd_limit();
  const int connections = static_cast<int>(std::min<long>(10'000, limit - 200));
  if (connections < 10'000) {
    MESSAGE("descriptor limit " << limit << ": testing " << connections << " connections");
  }
  REQUIRE(connections >= 1000);
  AppProcess app(app_binary("hello"), {"--park-after", "0.01"});
  const Baseline base = warm_up(app);
  long after_first_burst = 0;
  for (int burst = 0; burst < 2; ++burst) {
    asio::io_context io;
    std::vector<tcp::socket> sockets;
    for (int i = 0; i < connections; ++i) sockets.emplace_back(io);
    int answered = 0;
    run_all(io, connections, 500, [&](int i) -> asio::awaitable<void> {
      co_await connect_one(sockets[i], app.port());
      co_await asio::async_write(sockets[i], asio::buffer(kGet), asio::use_awaitable);
      std::string buffer;
      if (co_await read_hello(sockets[i], buffer)) ++answered;
    });
    CHECK(answered == connections);
    CHECK(app.fd_count() >= base.fds + connections);
    // Every connection parks (nginx: 0.5 KiB each; 3 to 7 KiB unparked).
    const long bound_kib = base.rss_kib + static_cast<long>(kParkedKiB * connections);
    const long parked_rss = kMeasureRss ? app.wait_for_rss_at_most(bound_kib, 30s) : app.rss_kib();
    const double per_connection =
        static_cast<double>(parked_rss - base.rss_kib) / static_cast<double>(connections);
    MESSAGE("idle keep-alive: " << per_connection << " KiB per connection above the baseline");
    if (kMeasureRss) CHECK(per_connection <= kParkedKiB);
    CHECK(p99(timed_requests(app.port(), 100)) < 50.0);  // still answering promptly
    sockets.clear();
    const int fds = app.wait_for_fds_at_most(base.fds, 30s);
    CHECK_MESSAGE(fds == base.fds, "descriptors: " << fds << ", baseline " << base.fds);
    const long rss = app.rss_kib();
    MESSAGE("RSS after burst " << burst + 1 << ": " << rss << " KiB, baseline " << base.rss_kib);
    if (burst == 0) after_first_burst = rss;
  }
  // (Allocators return freed pages on their own schedule, jemalloc's within about a second.)
  if (kMeasureRss) {
    CHECK(app.wait_for_rss_at_most(after_first_burst + 2 * 1024, 10s) <=
          after_first_burst + 2 * 1024);
  }
  expect_back_to_normal(app, base, after_first_burst - base.rss_kib + 2 * 1024);
  CHECK(app.stop(SIGTERM, 20s) == 0);
}

TEST_CASE("hostile: clients that never read are cut off by the write deadline, memory bounded") {
  constexpr int kClients = 50;
  AppProcess app(app_binary("hello"), {"--write-timeout", "1"});
  const Baseline base = warm_up(app);
  std::string pipeline;
  for (int i = 0; i < 1000; ++i) pipeline += kGet;
  asio::io_context io;
  std::vector<tcp::socket> sockets;
  for (int i = 0; i < kClients; ++i) sockets.emplace_back(io);
  std::atomic<int> cut_off{0};
  // A named closure: the coroutines reach its captures through it, so it outlives them.
  const auto never_read = [&](tcp::socket& s) -> asio::awaitable<void> {
    co_await connect_one(s, app.port());
    std::error_code ec;
    // Stalls once the server stops reading; fails when the server gives up on us.
    while (!ec) co_await asio::async_write(s, asio::buffer(pipeline), kRedirect(ec));
    ++cut_off;
  };
  for (auto& socket : sockets) asio::co_spawn(io, never_read(socket), asio::detached);
  std::thread writers([&] { io.run(); });
  long peak = 0;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (cut_off < kClients && std::chrono::steady_clock::now() < deadline) {
    peak = std::max(peak, app.rss_kib());
    std::this_thread::sleep_for(20ms);  // sampling the server's memory while it is under load
  }
  CHECK(cut_off.load() == kClients);
  asio::post(io, [&] {  // only if the server failed to cut some off
    for (auto& s : sockets) reset(s);
  });
  writers.join();
  if (kMeasureRss) {
    MESSAGE("peak RSS with " << kClients << " unread clients: " << peak << " KiB, baseline "
                             << base.rss_kib);
    CHECK(peak < base.rss_kib + 32 * 1024);
  }
  expect_back_to_normal(app, base);
  CHECK(app.stop(SIGTERM, 20s) == 0);
}

TEST_CASE("hostile: declared bodies reserve nothing; memory follows the bytes received") {
  // Ten requests each declare 100 MiB (the limit) and send 1,000 bytes. A server that sized a
  // buffer from Content-Length would have reserved 1,000 MiB of address space.
  constexpr int kClients = 10;
  AppProcess app(app_binary("hello"), {});
  const Baseline base = warm_up(app);
  const long data_before = app.data_kib();
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<RawClient>(app.port()));
    clients.back()->send(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n"
        "Expect: 100-continue\r\n\r\n");
    // The 100 says the server has the head and is reading the body.
    REQUIRE(clients.back()->read_response().code == 100);
    clients.back()->send(std::string(1000, 'b'));
  }
  // A request answered after all of that: the loop has had its turns.
  {
    RawClient other(app.port());
    other.send(kGet);
    CHECK(other.read_response().body == kHello);
  }
  const long grown = app.data_kib() - data_before;
  MESSAGE("address space grown by " << grown << " KiB for " << kClients
                                    << " bodies of 100 MiB declared, 1,000 bytes sent");
  CHECK(grown < 64 * 1024);
  clients.clear();
  expect_back_to_normal(app, base);
  CHECK(app.stop(SIGTERM, 20s) == 0);
}

TEST_CASE("hostile: 100,000 pipelined requests in one write are all answered") {
  constexpr int kRequests = 100'000;
  AppProcess app(app_binary("hello"), {});
  const Baseline base = warm_up(app);
  std::string pipeline;
  for (int i = 0; i < kRequests; ++i) pipeline += kGet;
  asio::io_context io;
  tcp::socket socket(io);
  int answered = 0;
  const auto client = [&]() -> asio::awaitable<void> {
    co_await connect_one(socket, app.port());
    // The writer sends everything at once; the reader keeps pace beside it.
    asio::co_spawn(io, asio::async_write(socket, asio::buffer(pipeline), asio::use_awaitable),
                   asio::detached);
    std::string buffer;
    while (answered < kRequests) {
      if (const bool ok = co_await read_hello(socket, buffer); !ok) break;
      ++answered;
    }
  };
  asio::co_spawn(io, client(), asio::detached);
  io.run();
  CHECK(answered == kRequests);
  socket.close();
  expect_back_to_normal(app, base);
  CHECK(app.stop(SIGTERM, 20s) == 0);
}

TEST_CASE("hostile: connections reset mid-request and mid-response") {
  AppProcess app(app_binary("hello"), {});
  const Baseline base = warm_up(app);
  const std::string body(4 << 20, 'x');
  std::atomic<int> partial_responses{0};
  // Mid-request: a head promising 1 MB, a part of the body, then a reset.
  asio::io_context io;
  run_all(io, 300, 100, [&](int i) -> asio::awaitable<void> {
    tcp::socket s(co_await asio::this_coro::executor);
    co_await connect_one(s, app.port());
    const std::string head = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n";
    co_await asio::async_write(s, asio::buffer(head), asio::use_awaitable);
    co_await asio::async_write(s, asio::buffer(body.data(), 1000 * (i % 50)), asio::use_awaitable);
    reset(s);
  });
  // Mid-response: a 4 MiB echo, of which the client reads 64 KiB before resetting.
  run_all(io, 40, 10, [&](int) -> asio::awaitable<void> {
    tcp::socket s(co_await asio::this_coro::executor);
    co_await connect_one(s, app.port());
    const std::string head =
        fmt::format("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n", body.size());
    std::error_code ec;
    co_await asio::async_write(s, asio::buffer(head), asio::use_awaitable);
    co_await asio::async_write(s, asio::buffer(body), kRedirect(ec));
    std::string got(64 * 1024, '\0');
    co_await asio::async_read(s, asio::buffer(got), kRedirect(ec));
    if (!ec && got.starts_with("HTTP/1.1 200")) ++partial_responses;
    reset(s);
  });
  CHECK(partial_responses.load() == 40);
  expect_back_to_normal(app, base);
  CHECK(app.stop(SIGTERM, 20s) == 0);
}

TEST_CASE("hostile: random bytes get a 400 with Connection: close, or a close") {
  AppProcess app(app_binary("hello"), {});
  const Baseline base = warm_up(app);
  std::atomic<int> bad_answers{0};
  std::atomic<int> answers{0};
  asio::io_context io;
  run_all(io, 500, 100, [&](int i) -> asio::awaitable<void> {
    std::mt19937 random(static_cast<unsigned>(i));
    std::string junk(1 + random() % 4096, '\0');
    for (char& c : junk) c = static_cast<char>(random());
    if (i % 2 == 1) junk = "GET / HTTP/1.1\r\n" + junk;  // garbage inside a head
    tcp::socket s(co_await asio::this_coro::executor);
    co_await connect_one(s, app.port());
    std::error_code ec;
    co_await asio::async_write(s, asio::buffer(junk), kRedirect(ec));
    s.shutdown(tcp::socket::shutdown_send, ec);
    std::string reply;
    char chunk[4096];
    for (;;) {  // until the server closes
      const std::size_t n = co_await s.async_read_some(asio::buffer(chunk), kRedirect(ec));
      if (ec) break;
      reply.append(chunk, n);
    }
    if (reply.empty()) co_return;
    ++answers;
    const bool clear_refusal =
        reply.starts_with("HTTP/1.1 4") && reply.find("Connection: close\r\n") != std::string::npos;
    if (!clear_refusal) ++bad_answers;
  });
  MESSAGE(answers.load() << " of 500 junk connections got an answer");
  CHECK(answers.load() > 0);
  CHECK(bad_answers.load() == 0);
  expect_back_to_normal(app, base);
  CHECK(app.stop(SIGTERM, 20s) == 0);
}

TEST_CASE("hostile: TLS handshakes of garbage leave the HTTPS server serving") {
  const std::string tls = CORTADO_TEST_DATA "/tls/";
  AppProcess app(app_binary("hello"),
                 {"--certfile", tls + "server.pem", "--keyfile", tls + "server.key"});
  const auto fetch = [&] {
    return cortado::test::run_command(
        fmt::format("curl -sS --max-time 20 --cacert {0}ca.pem https://localhost:{1}/plaintext "
                    "--resolve localhost:{1}:127.0.0.1",
                    tls, app.port()));
  };
  // The baseline before any connection: counted after one, it could still include it.
  const int fds = app.fd_count();
  REQUIRE(fetch().output == kHello);
  asio::io_context io;
  run_all(io, 300, 100, [&](int i) -> asio::awaitable<void> {
    std::mt19937 random(static_cast<unsigned>(i));
    // Half are random bytes; half open like a TLS record (handshake, TLS 1.0) and then lie.
    std::string junk = i % 2 == 0 ? std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc", 9) : "";
    junk.resize(junk.size() + 1 + random() % 2048);
    for (std::size_t k = i % 2 == 0 ? 9 : 0; k < junk.size(); ++k) {
      junk[k] = static_cast<char>(random());
    }
    tcp::socket s(co_await asio::this_coro::executor);
    co_await connect_one(s, app.port());
    std::error_code ec;
    co_await asio::async_write(s, asio::buffer(junk), kRedirect(ec));
    s.shutdown(tcp::socket::shutdown_send, ec);
    char chunk[4096];
    while (!ec) co_await s.async_read_some(asio::buffer(chunk), kRedirect(ec));
  });
  CHECK(app.wait_for_fds_at_most(fds, 30s) == fds);
  CHECK(fetch().output == kHello);
  CHECK(app.stop(SIGTERM, 20s) == 0);
}
#endif  // CORTADO_HAVE_HELLO
