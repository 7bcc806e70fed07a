// apps/hello: the benchmark target, written the way a user writes a cortado app.
// GET /plaintext, GET /json, POST|PUT /echo; other paths 404, other methods 405.
//   cortado_hello --port 8888 [--threads N | --processes N] [--debug] [--access-log]
#include <CLI/CLI.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

#include "cortado/httpserver.hpp"
#include "cortado/ioloop.hpp"
#include "cortado/log.hpp"
#include "cortado/web.hpp"

namespace {

struct Flags {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8888;
  int threads = 1;
  int processes = 1;
  bool debug = false;
  bool access_log = false;
};

class PlaintextHandler : public cortado::web::RequestHandler {
 public:
  asio::awaitable<void> get() override {
    set_header("Content-Type", "text/plain");
    write("Hello, World!");
    co_return;
  }
};

class JsonHandler : public cortado::web::RequestHandler {
 public:
  asio::awaitable<void> get() override {
    write(nlohmann::json{{"message", "Hello, World!"}});
    co_return;
  }
};

// Sends the body back with the request's Content-Type.
class EchoHandler : public cortado::web::RequestHandler {
 public:
  asio::awaitable<void> post() override {
    set_header("Content-Type", request().headers.get("Content-Type", "application/octet-stream"));
    write(request().body);
    co_return;
  }
  asio::awaitable<void> put() override { return post(); }
};

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App cli("cortado hello: the benchmark app (/plaintext, /json, /echo)");
  cli.add_option("--address", flags.address, "address to listen on")->capture_default_str();
  cli.add_option("--port", flags.port, "port to listen on")->capture_default_str();
  cli.add_option("--threads", flags.threads, "event loops, one per thread")->capture_default_str();
  cli.add_option("--processes", flags.processes, "pre-forked processes (0: one per CPU)")
      ->capture_default_str();
  cli.add_flag("--debug", flags.debug, "log at DEBUG level");
  cli.add_flag("--access-log", flags.access_log, "log every request");
  CLI11_PARSE(cli, argc, argv);

  cortado::log::set_level(flags.debug ? cortado::log::Level::debug : cortado::log::Level::info);
  if (!flags.access_log) cortado::log::access().set_level(cortado::log::Level::off);

  namespace web = cortado::web;
  web::Application app(
      {
          web::url<PlaintextHandler>("/plaintext"),
          web::url<JsonHandler>("/json"),
          web::url<EchoHandler>("/echo"),
      },
      {.debug = flags.debug});
  try {
    // Pre-forked children inherit the listening sockets, as in Tornado: bind, fork, then loop.
    std::vector<int> sockets;
    if (flags.processes != 1) {
      sockets = cortado::bind_sockets(flags.port, flags.address);
      cortado::fork_processes(flags.processes);
    }
    cortado::IOLoop loop;
    cortado::HTTPServer server(loop.executor(), app, {}, flags.threads);
    if (flags.processes != 1) {
      server.add_sockets(sockets);
    } else {
      server.listen(flags.port, flags.address);
    }
    // Drain on SIGINT/SIGTERM: finish what is in flight, then stop.
    loop.handle_signals([&](int) {
      asio::co_spawn(
          loop.context(),
          [](cortado::HTTPServer& s, cortado::IOLoop& l) -> asio::awaitable<void> {
            co_await s.close_all_connections(std::chrono::seconds(10));
            l.stop();
          }(server, loop),
          asio::detached);
    });
    if (cortado::task_id() <= 0) {
      fmt::print("cortado hello listening on http://{}:{}/plaintext\n", flags.address, flags.port);
      std::fflush(stdout);
    }
    loop.run();
  } catch (const std::exception& e) {
    cortado::log::general().error("{}", e.what());
    return 1;
  }
  return 0;
}
