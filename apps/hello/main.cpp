// apps/hello: the benchmark target, written the way a user writes a cortado app.
// GET /plaintext, GET /json, POST|PUT /echo; other paths 404, other methods 405.
//   cortado_hello --port 8888 [--threads N | --processes N] [--debug] [--access-log]
//                 [--certfile F --keyfile F] [--header-timeout S] [--idle-timeout S]
//                 [--write-timeout S] [--drain-timeout S] [--park-after S]
// --port 0 takes a free port; the first line on stdout names the one taken.
#include <CLI/CLI.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>

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
  std::string certfile;
  std::string keyfile;
  double header_timeout = 30;
  double idle_timeout = 60;
  double write_timeout = 60;
  double drain_timeout = 10;
  double park_after = 1;
};

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

cortado::HTTPServerOptions server_options(const Flags& flags) {
  cortado::HTTPServerOptions options;
  options.header_timeout = millis(flags.header_timeout);
  options.idle_connection_timeout = millis(flags.idle_timeout);
  options.write_timeout = millis(flags.write_timeout);
  options.idle_park_after = millis(flags.park_after);
  return options;
}

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
  cli.add_option("--certfile", flags.certfile, "TLS certificate chain (PEM): serve HTTPS");
  cli.add_option("--keyfile", flags.keyfile, "TLS private key (PEM)");
  cli.add_option("--header-timeout", flags.header_timeout, "seconds to send a request head")
      ->capture_default_str();
  cli.add_option("--idle-timeout", flags.idle_timeout, "seconds a keep-alive connection may idle")
      ->capture_default_str();
  cli.add_option("--write-timeout", flags.write_timeout,
                 "seconds a client may leave a response unread")
      ->capture_default_str();
  cli.add_option("--drain-timeout", flags.drain_timeout,
                 "seconds SIGTERM waits for requests in flight")
      ->capture_default_str();
  cli.add_option("--park-after", flags.park_after,
                 "seconds idle before a connection gives its read buffer back")
      ->capture_default_str();
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
    cortado::IOLoop loop;
    cortado::HTTPServer server(loop.executor(), app, server_options(flags), flags.threads);
    if (!flags.certfile.empty()) {
      server.set_ssl_context(cortado::make_server_ssl_context(flags.certfile, flags.keyfile));
    }
    // As in Tornado: bind, then start(n) forks n children that share the listening sockets and
    // each run their own loop (1: serve from this process).
    server.bind(flags.port, flags.address);
    server.start(flags.processes);
    // Drain on SIGINT/SIGTERM: finish what is in flight, then stop.
    loop.handle_signals([&](int) {
      asio::co_spawn(
          loop.context(),
          [](cortado::HTTPServer& s, cortado::IOLoop& l,
             std::chrono::milliseconds grace) -> asio::awaitable<void> {
            co_await s.close_all_connections(grace);
            l.stop();
          }(server, loop, millis(flags.drain_timeout)),
          asio::detached);
    });
    if (cortado::task_id() <= 0) {
      // Said from the loop, after the server's first steps there (queued before this): whoever
      // reads the line finds the server accepting, with the descriptors it keeps (io_uring's).
      asio::post(loop.executor(), [&server, &flags] {
        fmt::print("cortado hello listening on {}://{}:{}/plaintext\n",
                   flags.certfile.empty() ? "http" : "https", flags.address,
                   server.local_endpoints().at(0).port());
        std::fflush(stdout);
      });
    }
    loop.run();
  } catch (const std::exception& e) {
    cortado::log::general().error("{}", e.what());
    return 1;
  }
  return 0;
}
