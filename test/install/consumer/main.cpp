// Runs a coroutine on cortado's IOLoop: proves the installed headers, library and their
// dependencies (Asio compiled inside libcortado, fmt, OpenSSL) link into a foreign project.
#include <cortado/ioloop.hpp>

int main() {
  cortado::IOLoop loop;
  int answer = loop.run_sync([]() -> asio::awaitable<int> {
    co_await cortado::sleep(std::chrono::milliseconds(1));
    co_return 42;
  }());
  return answer == 42 ? 0 : 1;
}
