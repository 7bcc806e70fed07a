// Pushes 1 GiB over loopback into IOStream::read_bytes and into plain asio::async_read, in
// alternating rounds, and prints both rates and their ratio (the IOStream's overhead).
//   cortado_iostream_bench [MiB per round] [rounds]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "cortado/ioloop.hpp"
#include "cortado/iostream.hpp"

namespace {

using asio::ip::tcp;
constexpr std::size_t kChunk = 64 * 1024;

// Writes `total` bytes to a fresh connection from its own thread, so the reader has a core.
std::thread start_sender(tcp::endpoint endpoint, std::size_t total) {
  return std::thread([endpoint, total] {
    asio::io_context context;
    tcp::socket socket(context);
    socket.connect(endpoint);
    std::vector<char> block(1 << 20, 'x');
    for (std::size_t sent = 0; sent < total; sent += block.size()) {
      asio::write(socket, asio::buffer(block.data(), std::min(block.size(), total - sent)));
    }
  });
}

asio::awaitable<void> read_with_iostream(tcp::socket socket, std::size_t total) {
  cortado::IOStream stream(std::move(socket));
  for (std::size_t got = 0; got < total;) {
    got += (co_await stream.read_bytes(std::min(kChunk, total - got))).size();
  }
}

asio::awaitable<void> read_with_asio(tcp::socket socket, std::size_t total) {
  std::vector<char> buffer(kChunk);
  for (std::size_t got = 0; got < total;) {
    got += co_await asio::async_read(
        socket, asio::buffer(buffer.data(), std::min(kChunk, total - got)), asio::use_awaitable);
  }
}

template <class Reader>
double measure(Reader reader, std::size_t total) {
  cortado::IOLoop loop;
  tcp::acceptor acceptor(loop.context(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto sender = start_sender(acceptor.local_endpoint(), total);
  tcp::socket socket = acceptor.accept();
  const auto start = std::chrono::steady_clock::now();
  loop.run_sync(reader(std::move(socket), total));
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  sender.join();
  return static_cast<double>(total) / (1 << 20) / elapsed.count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t mib = argc > 1 ? std::stoul(argv[1]) : 1024;
  const int rounds = argc > 2 ? std::stoi(argv[2]) : 5;
  const std::size_t total = mib << 20;
  std::vector<double> iostream_rates, asio_rates;
  for (int round = 0; round < rounds; ++round) {
    iostream_rates.push_back(measure(read_with_iostream, total));
    asio_rates.push_back(measure(read_with_asio, total));
    fmt::print("round {}: IOStream::read_bytes {:8.0f} MiB/s   asio::async_read {:8.0f} MiB/s\n",
               round + 1, iostream_rates.back(), asio_rates.back());
  }
  const double a = median(iostream_rates), b = median(asio_rates);
  fmt::print(
      "median of {} rounds of {} MiB: IOStream {:.0f} MiB/s, asio {:.0f} MiB/s, ratio {:.2f}\n",
      rounds, mib, a, b, a / b);
  return 0;
}
