// The HTTP client's throughput on GET /plaintext, side by side with Python's http.client:
//   1. N sequential fetches on one keep-alive connection, by cortado's AsyncHTTPClient;
//   2. the same with Python's http.client on one HTTPConnection (timed inside Python);
//   3. N fetches by 64 concurrent fetchers through the client's pool (max_clients = 64).
// The server is an in-process cortado HTTPServer on a thread of its own, or, with --port, a
// server already running (say build/apps/hello/cortado_hello --port 8888).
//   cortado_client_bench [--requests N] [--port PORT] [--concurrency C]
#include <time.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/use_future.hpp>

#include "cortado/httpclient.hpp"
#include "cortado/httpserver.hpp"
#include "cortado/ioloop.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// A sequential run: its rate, and the client's own CPU time per request (user + system): on one
// connection the rate is bound by the server's turnaround, the CPU time by the client alone.
struct Sequential {
  double per_second = 0;
  double cpu_us_per_request = 0;
};

double process_cpu_seconds() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

struct Flags {
  int requests = 20000;
  int concurrency = 64;
  std::uint16_t port = 0;  // 0: start an in-process server
};

Flags parse_flags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    const int value = std::stoi(argv[i + 1]);
    if (name == "--requests") {
      flags.requests = value;
    } else if (name == "--port") {
      flags.port = static_cast<std::uint16_t>(value);
    } else if (name == "--concurrency") {
      flags.concurrency = value;
    } else {
      throw std::invalid_argument("unknown flag " + name);
    }
  }
  return flags;
}

asio::awaitable<void> plaintext(cortado::HTTPServerRequest& request) {
  cortado::HTTPHeaders headers;
  headers.set("Content-Type", "text/plain");
  co_await cortado::respond(request, 200, "Hello, World!", std::move(headers));
}

// apps/hello's /plaintext, served from a thread of its own.
class Server {
 public:
  Server()
      : loop_(std::make_unique<cortado::IOLoop>()),
        server_(std::make_unique<cortado::HTTPServer>(loop_->executor(), plaintext)) {
    server_->listen(0, "127.0.0.1");
    port_ = server_->local_endpoints().at(0).port();
    thread_ = std::thread([this] {
      auto guard = asio::make_work_guard(loop_->context());
      loop_->run();
    });
  }
  ~Server() {
    asio::co_spawn(loop_->context(), server_->close_all_connections(std::chrono::seconds(1)),
                   asio::use_future)
        .get();
    loop_->stop();
    thread_.join();
  }
  std::uint16_t port() const { return port_; }

 private:
  std::unique_ptr<cortado::IOLoop> loop_;
  std::unique_ptr<cortado::HTTPServer> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

asio::awaitable<void> fetch_many(cortado::AsyncHTTPClient* client, std::string url, int count) {
  for (int i = 0; i < count; ++i) {
    const cortado::HTTPResponse r = co_await client->fetch(url);
    if (r.body != "Hello, World!") throw std::runtime_error("unexpected body: " + r.body);
  }
}

Sequential cortado_sequential(const std::string& url, int requests) {
  cortado::IOLoop loop;
  cortado::AsyncHTTPClient client(loop.executor());
  loop.run_sync(fetch_many(&client, url, std::min(requests / 10, 1000)));  // warm-up
  const auto start = Clock::now();
  const double cpu_start = process_cpu_seconds();
  loop.run_sync(fetch_many(&client, url, requests));
  const double cpu = process_cpu_seconds() - cpu_start;
  const std::chrono::duration<double> elapsed = Clock::now() - start;
  if (client.stats().connections_opened != 1)
    throw std::runtime_error("the connection was not reused");
  return {requests / elapsed.count(), cpu * 1e6 / requests};
}

double cortado_concurrent(const std::string& url, int requests, int fetchers) {
  cortado::IOLoop loop;
  cortado::AsyncHTTPClient client(loop.executor(),
                                  {.max_clients = static_cast<std::size_t>(fetchers),
                                   .max_idle_per_host = static_cast<std::size_t>(fetchers)});
  // Timed to the last fetch, not to loop.run()'s return: an armed deadline sweep (up to a
  // second) keeps the loop running after the work is done.
  const auto start = Clock::now();
  auto end = start;
  int running = fetchers;
  for (int i = 0; i < fetchers; ++i) {
    const int share = requests / fetchers + (i < requests % fetchers ? 1 : 0);
    asio::co_spawn(loop.context(), fetch_many(&client, url, share), [&](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
      if (--running == 0) {
        end = Clock::now();
        loop.stop();
      }
    });
  }
  loop.run();
  const std::chrono::duration<double> elapsed = end - start;
  fmt::print("  (connections opened: {})\n", client.stats().connections_opened);
  return requests / elapsed.count();
}

// Python's http.client on one keep-alive connection, timed inside Python.
constexpr const char* kPython = R"(
import http.client, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
conn = http.client.HTTPConnection("127.0.0.1", port)
def fetch():
    conn.request("GET", "/plaintext")
    response = conn.getresponse()
    if response.read() != b"Hello, World!":
        raise SystemExit("unexpected body")
for _ in range(min(n // 10, 1000)):
    fetch()
start, cpu = time.perf_counter(), time.process_time()
for _ in range(n):
    fetch()
cpu, elapsed = time.process_time() - cpu, time.perf_counter() - start
print(n / elapsed, cpu * 1e6 / n)
)";

Sequential python_sequential(std::uint16_t port, int requests) {
  const std::string command =
      fmt::format("/usr/bin/python3 -c '{}' {} {}", kPython, port, requests);
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run /usr/bin/python3");
  char line[128] = {};
  const bool got = std::fgets(line, sizeof line, pipe) != nullptr;
  if (::pclose(pipe) != 0 || !got) throw std::runtime_error("the Python client failed");
  Sequential result;
  if (std::sscanf(line, "%lf %lf", &result.per_second, &result.cpu_us_per_request) != 2)
    throw std::runtime_error("the Python client printed: " + std::string(line));
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  const Flags flags = parse_flags(argc, argv);
  std::unique_ptr<Server> server;
  std::uint16_t port = flags.port;
  if (port == 0) {
    server = std::make_unique<Server>();
    port = server->port();
  }
  const std::string url = fmt::format("http://127.0.0.1:{}/plaintext", port);
  fmt::print("GET {} x {}\n", url, flags.requests);

  const Sequential ours = cortado_sequential(url, flags.requests);
  fmt::print("cortado AsyncHTTPClient, sequential keep-alive: {:>9.0f} req/s, {:5.1f} us CPU/req\n",
             ours.per_second, ours.cpu_us_per_request);
  const Sequential python = python_sequential(port, flags.requests);
  fmt::print("Python http.client,      sequential keep-alive: {:>9.0f} req/s, {:5.1f} us CPU/req\n",
             python.per_second, python.cpu_us_per_request);
  fmt::print("ratio cortado / Python: {:.2f}x the rate, {:.2f}x less client CPU per request\n",
             ours.per_second / python.per_second,
             python.cpu_us_per_request / ours.cpu_us_per_request);
  const double concurrent = cortado_concurrent(url, flags.requests, flags.concurrency);
  fmt::print(
      "cortado AsyncHTTPClient, {} concurrent fetchers: {:>9.0f} req/s ({:.2f}x sequential)\n",
      flags.concurrency, concurrent, concurrent / ours.per_second);
}
