// Soak: mixed load against apps/hello for a set time, then a verdict.
//
//   cortado_soak --hello build/apps/hello/cortado_hello --seconds 600
//
// The load, all at once on one loop: keep-alive clients (GET /plaintext and /json), a new
// connection per request, 16-deep pipelines, 1 MiB uploads echoed back as downloads, and clients
// that abort mid-request or mid-response. Every response to a valid request is checked byte for
// byte. Passes when no valid request failed, the server's RSS grew by less than 5 MiB between the
// end of the warm-up (a sixth of the run) and the end, and its descriptors are back to the
// baseline once the clients are gone. Prints the figures either way.
#include <csignal>
#include <cstdio>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "app_process.hpp"

namespace {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Counters {
  std::uint64_t ok = 0;
  std::uint64_t failed = 0;
  std::uint64_t aborted = 0;
  std::string first_failure;
};

struct Soak {
  std::uint16_t port = 0;
  Clock::time_point end;
  Counters counters;
  std::string upload = std::string(1 << 20, 'x');

  bool running() const { return Clock::now() < end; }
  void fail(std::string what) {
    if (counters.failed++ == 0) counters.first_failure = std::move(what);
  }
};

constexpr std::string_view kHello = "Hello, World!";
constexpr std::string_view kJson = R"({"message":"Hello, World!"})";

std::string get(std::string_view path, bool close = false) {
  return fmt::format("GET {} HTTP/1.1\r\nHost: soak\r\n{}\r\n", path,
                     close ? "Connection: close\r\n" : "");
}

// One response, framed by Content-Length; its body, or nothing on any error.
asio::awaitable<std::optional<std::string>> read_response(tcp::socket& s, std::string& buffer) {
  std::error_code ec;
  const std::size_t head = co_await asio::async_read_until(
      s, asio::dynamic_buffer(buffer), "\r\n\r\n", asio::redirect_error(asio::use_awaitable, ec));
  if (ec || !buffer.starts_with("HTTP/1.1 200 ")) co_return std::nullopt;
  const auto at = buffer.find("Content-Length: ");
  if (at == std::string::npos || at > head) co_return std::nullopt;
  const std::size_t length = std::stoul(buffer.substr(at + 16));
  if (buffer.size() < head + length) {
    std::string rest(head + length - buffer.size(), '\0');
    co_await asio::async_read(s, asio::buffer(rest), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return std::nullopt;
    buffer += rest;
  }
  std::string body = buffer.substr(head, length);
  buffer.erase(0, head + length);
  co_return body;
}

asio::awaitable<bool> connect(tcp::socket& s, Soak& soak) {
  std::error_code ec;
  co_await s.async_connect({asio::ip::make_address("127.0.0.1"), soak.port},
                           asio::redirect_error(asio::use_awaitable, ec));
  if (ec) soak.fail("connect: " + ec.message());
  co_return !ec;
}

// Sends `request` and checks that the response body is `expected`.
asio::awaitable<bool> exchange(tcp::socket& s, std::string& buffer, Soak& soak,
                               std::string_view request, std::string_view expected) {
  std::error_code ec;
  co_await asio::async_write(s, asio::buffer(request),
                             asio::redirect_error(asio::use_awaitable, ec));
  // (No co_await inside ?: -- g++ 12 miscompiles it.)
  std::optional<std::string> body;
  if (!ec) body = co_await read_response(s, buffer);
  if (body && *body == expected) {
    ++soak.counters.ok;
    co_return true;
  }
  soak.fail(fmt::format("{} -> {}", request.substr(0, request.find('\r')),
                        body ? "a wrong body" : "no complete response"));
  co_return false;
}

asio::awaitable<void> keep_alive_client(Soak& soak) {
  while (soak.running()) {
    tcp::socket s(co_await asio::this_coro::executor);
    if (!co_await connect(s, soak)) co_return;
    std::string buffer;
    for (int i = 0; i < 100 && soak.running(); ++i) {
      const bool json = i % 2 == 1;
      if (!co_await exchange(s, buffer, soak, get(json ? "/json" : "/plaintext"),
                             json ? kJson : kHello)) {
        co_return;
      }
    }
  }
}

asio::awaitable<void> new_connection_client(Soak& soak) {
  while (soak.running()) {
    tcp::socket s(co_await asio::this_coro::executor);
    if (!co_await connect(s, soak)) co_return;
    std::string buffer;
    if (!co_await exchange(s, buffer, soak, get("/plaintext", true), kHello)) co_return;
  }
}

asio::awaitable<void> pipelining_client(Soak& soak) {
  std::string batch;
  for (int i = 0; i < 16; ++i) batch += get("/plaintext");
  while (soak.running()) {
    tcp::socket s(co_await asio::this_coro::executor);
    if (!co_await connect(s, soak)) co_return;
    std::string buffer;
    for (int round = 0; round < 50 && soak.running(); ++round) {
      std::error_code ec;
      co_await asio::async_write(s, asio::buffer(batch),
                                 asio::redirect_error(asio::use_awaitable, ec));
      for (int i = 0; i < 16; ++i) {
        std::optional<std::string> body;
        if (!ec) body = co_await read_response(s, buffer);
        if (!body || *body != kHello) {
          soak.fail("pipelined /plaintext -> no complete response");
          co_return;
        }
        ++soak.counters.ok;
      }
    }
  }
}

asio::awaitable<void> upload_client(Soak& soak) {
  const std::string request =
      fmt::format("POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: {}\r\n\r\n{}",
                  soak.upload.size(), soak.upload);
  while (soak.running()) {
    tcp::socket s(co_await asio::this_coro::executor);
    if (!co_await connect(s, soak)) co_return;
    std::string buffer;
    for (int i = 0; i < 10 && soak.running(); ++i) {
      if (!co_await exchange(s, buffer, soak, request, soak.upload)) co_return;
    }
  }
}

// Leaves in the middle: half-way through a request body, or after a few bytes of a download.
asio::awaitable<void> aborting_client(Soak& soak) {
  const std::string head = fmt::format(
      "POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: {}\r\n\r\n", soak.upload.size());
  for (int n = 0; soak.running(); ++n) {
    tcp::socket s(co_await asio::this_coro::executor);
    if (!co_await connect(s, soak)) co_return;
    std::error_code ec;
    const std::size_t sent = n % 2 == 0 ? soak.upload.size() / 2 : soak.upload.size();
    co_await asio::async_write(s, asio::buffer(head),
                               asio::redirect_error(asio::use_awaitable, ec));
    co_await asio::async_write(s, asio::buffer(soak.upload.data(), sent),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (n % 2 == 1) {
      char some[4096];
      co_await asio::async_read(s, asio::buffer(some),
                                asio::redirect_error(asio::use_awaitable, ec));
    }
    s.set_option(asio::socket_base::linger(true, 0), ec);  // a reset, not a polite close
    s.close(ec);
    ++soak.counters.aborted;
  }
}

struct Args {
  std::string hello;
  double seconds = 60;
};

Args parse(int argc, char** argv) {
  Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--hello") args.hello = argv[i + 1];
    if (flag == "--seconds") args.seconds = std::stod(argv[i + 1]);
  }
  if (args.hello.empty()) {
    std::fprintf(stderr, "usage: cortado_soak --hello PATH [--seconds N]\n");
    std::exit(2);
  }
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  cortado::test::AppProcess app(args.hello, {});
  Soak soak;
  soak.port = app.port();
  const auto run_time =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(args.seconds));
  const auto start = Clock::now();
  soak.end = start + run_time;

  asio::io_context io;
  int base_fds = 0;
  {  // The baseline: after one request. The server lingers after its Connection: close
     // response until our EOF, so it holds one descriptor more until then.
    tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), soak.port});
    asio::write(s, asio::buffer(get("/plaintext", true)));
    std::string all;
    std::error_code ec;
    asio::read(s, asio::dynamic_buffer(all), ec);
    const int with_client = app.fd_count();
    s.close();
    base_fds = app.wait_for_fds_at_most(with_client - 1, std::chrono::seconds(10));
  }
  for (int i = 0; i < 16; ++i) asio::co_spawn(io, keep_alive_client(soak), asio::detached);
  for (int i = 0; i < 4; ++i) asio::co_spawn(io, new_connection_client(soak), asio::detached);
  for (int i = 0; i < 4; ++i) asio::co_spawn(io, pipelining_client(soak), asio::detached);
  for (int i = 0; i < 2; ++i) asio::co_spawn(io, upload_client(soak), asio::detached);
  for (int i = 0; i < 2; ++i) asio::co_spawn(io, aborting_client(soak), asio::detached);

  // The server's RSS, sampled each second from another thread while the load runs. Growth is
  // the highest sample of the last sixth of the run against the highest of the warm-up (the
  // first sixth): transient buffers (1 MiB uploads in flight) peak alike in both windows.
  long warm_rss = 0;
  long late_rss = 0;
  std::thread sampler([&] {
    const auto warm_end = start + run_time / 6;
    const auto late_start = soak.end - run_time / 6;
    while (Clock::now() < soak.end) {
      std::this_thread::sleep_for(std::chrono::seconds(1));  // the sampling period
      const long rss = app.rss_kib();
      const auto now = Clock::now();
      if (now < warm_end) warm_rss = std::max(warm_rss, rss);
      if (now >= late_start) late_rss = std::max(late_rss, rss);
    }
  });
  io.run();
  sampler.join();
  const long end_rss = app.rss_kib();
  const int end_fds = app.wait_for_fds_at_most(base_fds, std::chrono::seconds(30));
  const auto status = app.stop(SIGTERM, std::chrono::seconds(20));

  const long growth = late_rss - warm_rss;
  const bool ok = soak.counters.failed == 0 && growth < 5 * 1024 && end_fds == base_fds &&
                  status == 0 && soak.counters.ok > 0;
  fmt::print("soak {:.0f} s against {}\n", args.seconds, args.hello);
  fmt::print("  valid requests answered : {}\n", soak.counters.ok);
  fmt::print("  valid requests failed   : {}{}\n", soak.counters.failed,
             soak.counters.failed ? " (first: " + soak.counters.first_failure + ")" : "");
  fmt::print("  aborted connections     : {}\n", soak.counters.aborted);
  fmt::print("  RSS peak, warm-up       : {} KiB\n", warm_rss);
  fmt::print("  RSS peak, last sixth    : {} KiB (growth {} KiB, limit 5120)\n", late_rss, growth);
  fmt::print("  RSS once clients left   : {} KiB\n", end_rss);
  fmt::print("  descriptors             : baseline {}, at the end {}\n", base_fds, end_fds);
  fmt::print("  server exit on SIGTERM  : {}\n", status ? std::to_string(*status) : "none");
  fmt::print("  verdict                 : {}\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
