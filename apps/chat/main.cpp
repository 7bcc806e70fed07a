// apps/chat: Tornado's chat demo on cortado. Messages are posted with fetch() and arrive in
// every open page through long polling, on a Condition that the posting handler notifies.
//   cortado_chat [--address 127.0.0.1] [--port 8888] [--debug] [--static-path DIR]
//                [--cookie-secret SECRET]
// --port 0 picks a free port; the first line on stdout gives the URL to open.
#include <sys/random.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

#include "cortado/httpserver.hpp"
#include "cortado/ioloop.hpp"
#include "cortado/log.hpp"
#include "cortado/web.hpp"
#include "handlers.hpp"

namespace {

namespace fs = std::filesystem;

struct Flags {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8888;
  bool debug = false;
  std::string static_path;
  std::string cookie_secret;
};

// The static files, wherever the binary runs from: installed next to it
// (<prefix>/bin/cortado_chat and <prefix>/share/cortado/chat/static), else in the source tree
// it was built from. Empty when neither exists.
std::string find_static_path() {
  std::error_code ec;
  const fs::path executable = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = executable.parent_path() / "../share/cortado/chat/static";
    if (fs::is_directory(installed, ec)) return fs::canonical(installed, ec).string();
  }
  const fs::path source = CORTADO_CHAT_SOURCE_DIR "/static";
  if (fs::is_directory(source, ec)) return source.string();
  return {};
}

// 32 bytes from the kernel's CSPRNG, hex-encoded: a cookie secret for this run only.
std::string random_secret() {
  unsigned char bytes[32];
  std::size_t filled = 0;
  while (filled < sizeof bytes) {
    const ssize_t n = ::getrandom(bytes + filled, sizeof bytes - filled, 0);
    if (n < 0 && errno != EINTR)
      throw std::system_error(errno, std::generic_category(), "getrandom");
    if (n > 0) filled += static_cast<std::size_t>(n);
  }
  std::string hex;
  for (unsigned char b : bytes) hex += fmt::format("{:02x}", b);
  return hex;
}

// http://host:port/, with an IPv6 address in brackets.
std::string url_for(const std::string& address, std::uint16_t port) {
  if (address.find(':') != std::string::npos) return fmt::format("http://[{}]:{}/", address, port);
  return fmt::format("http://{}:{}/", address, port);
}

// Serves until SIGINT or SIGTERM; returns the exit status.
int serve(Flags flags) {
  namespace log = cortado::log;
  if (flags.static_path.empty()) flags.static_path = find_static_path();
  if (!fs::is_directory(flags.static_path)) {
    log::general().error("no static files at '{}': pass --static-path", flags.static_path);
    return 1;
  }
  if (flags.cookie_secret.empty()) {
    flags.cookie_secret = random_secret();
    log::general().info(
        "no --cookie-secret: using a random one, so names set before a restart are forgotten");
  }

  // The buffer outlives the app and the server that use it (destroyed in reverse order).
  chat::MessageBuffer messages;
  cortado::web::Application app(
      chat::routes(messages), chat::settings(flags.static_path, flags.cookie_secret, flags.debug));
  // One loop: the message buffer and its Condition belong to it (see message_buffer.hpp).
  cortado::IOLoop loop;
  auto server = app.listen(loop.executor(), flags.port, flags.address);

  // SIGINT/SIGTERM: answer the long polls now (they would hold the drain for its whole grace
  // period), finish what is in flight, then stop.
  loop.handle_signals([&](int) {
    messages.close();
    asio::co_spawn(
        loop.context(),
        [](cortado::HTTPServer& s, cortado::IOLoop& l) -> asio::awaitable<void> {
          co_await s.close_all_connections(std::chrono::seconds(10));
          l.stop();
        }(*server, loop),
        asio::detached);
  });

  const std::uint16_t port = server->local_endpoints().at(0).port();
  fmt::print("cortado chat on {}\n", url_for(flags.address, port));
  std::fflush(stdout);
  log::general().info("static files from {}", flags.static_path);
  loop.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App cli("cortado chat: Tornado's chat demo, on cortado");
  cli.add_option("--address", flags.address, "address to listen on")->capture_default_str();
  cli.add_option("--port", flags.port, "port to listen on (0: any free port)")
      ->capture_default_str();
  cli.add_flag("--debug", flags.debug, "log at DEBUG level, show exceptions in error pages");
  cli.add_option("--static-path", flags.static_path,
                 "directory of chat.css and chat.js (default: found next to the binary)");
  cli.add_option("--cookie-secret", flags.cookie_secret,
                 "key for signed cookies (default: a random one per start)")
      ->envname("CORTADO_CHAT_COOKIE_SECRET");  // keeps it out of `ps` output
  CLI11_PARSE(cli, argc, argv);

  cortado::log::set_level(flags.debug ? cortado::log::Level::debug : cortado::log::Level::info);
  try {
    return serve(std::move(flags));
  } catch (const std::exception& e) {
    cortado::log::general().error("{}", e.what());
    return 1;
  }
}
