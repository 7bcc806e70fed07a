// IOStream over io_uring (the default where the kernel allows it): the same promises as over
// epoll.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "cortado/build_config.hpp"
#include "cortado/ioloop.hpp"
#include "cortado/iostream.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using cortado::IOLoop;
using cortado::IOStream;
using cortado::test::kTestTimeout;
using cortado::test::socket_pair;

namespace {

// The ring for one test's io_contexts, even in a run that turned it off (CORTADO_IO_URING=0):
// they read the environment when their first stream starts.
class UringEnabled {
 public:
  UringEnabled() {
    if (const char* value = std::getenv("CORTADO_IO_URING")) saved_ = value;
    ::setenv("CORTADO_IO_URING", "1", 1);
  }
  ~UringEnabled() {
    if (saved_) {
      ::setenv("CORTADO_IO_URING", saved_->c_str(), 1);
    } else {
      ::unsetenv("CORTADO_IO_URING");
    }
  }
  UringEnabled(const UringEnabled&) = delete;
  UringEnabled& operator=(const UringEnabled&) = delete;

 private:
  std::optional<std::string> saved_;
};

// Whether this build and this kernel can use io_uring at all.
bool uring_possible() {
  if (!CORTADO_HAS_LIBURING) return false;
  std::ifstream disabled("/proc/sys/kernel/io_uring_disabled");
  int value = 0;
  return !(disabled >> value) || value == 0;
}

// The ring's descriptors, from /proc/self/fd.
std::vector<int> ring_fds() {
  std::vector<int> fds;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(entry.path(), ec);
    if (!ec && target.string().find("io_uring") != std::string::npos) {
      fds.push_back(std::stoi(entry.path().filename().string()));
    }
  }
  return fds;
}

// Entries the kernel has taken from a ring's submission queue (SqHead in its fdinfo): grows
// with every read and write made through it.
long submitted(int ring_fd) {
  std::ifstream info("/proc/self/fdinfo/" + std::to_string(ring_fd));
  std::string key;
  long value = -1;
  while (info >> key) {
    if (key == "SqHead:") {
      info >> value;
      break;
    }
  }
  return value;
}

// A synchronous call on socket() (the close watch peeks) must not put the loop to sleep.
bool non_blocking(IOStream& stream) {
  return (::fcntl(stream.socket().native_handle(), F_GETFL) & O_NONBLOCK) != 0;
}

std::string pattern(std::size_t size) {
  std::string data(size, '\0');
  std::mt19937 random(11);
  for (auto& c : data) c = static_cast<char>('a' + random() % 26);
  return data;
}

asio::awaitable<void> send_all(IOStream* stream, const std::string* data, bool* done) {
  co_await stream->write(*data);
  *done = true;
}

// Lets the loop run `turns` rounds of what is queued (FIFO): a coroutine that starts a read and
// then waits has had its read submitted by the flush queued behind it after two turns.
asio::awaitable<void> yield_turns(int turns) {
  for (int i = 0; i < turns; ++i) {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  }
}

asio::awaitable<void> close_later(IOStream* stream) {
  co_await yield_turns(2);
  stream->close();
}

asio::awaitable<void> write_later(IOStream* stream, std::string data) {
  co_await yield_turns(2);
  co_await stream->write(data);
}

// Runs `body(loop, client, server)` on a loop with the ring on, with a connected pair of
// streams; where io_uring is not available, says so and skips.
template <class Body>
void with_ring_streams(Body body, cortado::IOStreamOptions server_options = {}) {
  if (!uring_possible()) {
    MESSAGE("io_uring is not available here");
    return;
  }
  const UringEnabled enabled;
  IOLoop loop;
  loop.run_sync(
      [](IOLoop& loop, Body body, cortado::IOStreamOptions options) -> asio::awaitable<void> {
        auto [c, s] = socket_pair(loop.context());
        IOStream client(std::move(c));
        IOStream server(std::move(s), options);
        co_await body(loop, client, server);
      }(loop, std::move(body), server_options),
      kTestTimeout);
}

}  // namespace

TEST_CASE("io_uring: streams made in the loop use the ring; 4 MiB and a delimiter arrive intact") {
  if (!uring_possible()) {
    MESSAGE("io_uring is not available here (no liburing in the build, or the kernel forbids it)");
    return;
  }
  const UringEnabled enabled;
  IOLoop loop;
  const std::size_t rings_before = ring_fds().size();
  loop.run_sync(
      [](IOLoop& loop, std::size_t rings_before) -> asio::awaitable<void> {
        auto [c, s] = socket_pair(loop.context());
        IOStream client(std::move(c));
        IOStream server(std::move(s));
        const auto rings = ring_fds();
        REQUIRE(rings.size() == rings_before + 1);
        const int ring = rings.back();
        const long submitted_before = submitted(ring);
        CHECK(non_blocking(server));
        // More than the socket buffers hold: the send waits in the ring for the reader.
        const std::string big = pattern(4 << 20);
        bool sent = false;
        asio::co_spawn(loop.context(), send_all(&client, &big, &sent), asio::detached);
        std::string got;
        while (got.size() < big.size()) {
          got += co_await server.read_bytes(big.size() - got.size(), true);
        }
        CHECK(sent);
        CHECK(got == big);
        co_await client.write("line one\r\nline two\r\n");
        CHECK(co_await server.read_until("\r\n") == "line one\r\n");
        CHECK(co_await server.read_until("\r\n") == "line two\r\n");
        // At least a read for each delimiter and the writes went through the ring.
        CHECK(submitted(ring) >= submitted_before + 4);
      }(loop, rings_before),
      kTestTimeout);
}

TEST_CASE("io_uring: the default where the kernel allows it") {
  const char* setting = std::getenv("CORTADO_IO_URING");
  if (!uring_possible() || (setting && std::string_view(setting) == "0")) {
    MESSAGE("io_uring is not available here, or this run turned it off");
    return;
  }
  IOLoop loop;
  const std::size_t rings_before = ring_fds().size();
  loop.run_sync(
      [](IOLoop& loop, std::size_t rings_before) -> asio::awaitable<void> {
        auto [c, s] = socket_pair(loop.context());
        IOStream server(std::move(s));
        CHECK(ring_fds().size() == rings_before + 1);
        co_return;
      }(loop, rings_before),
      kTestTimeout);
}

TEST_CASE("io_uring: close() ends a read in flight, and the peer's close reads as end of file") {
  with_ring_streams([](IOLoop& loop, IOStream& client, IOStream& server) -> asio::awaitable<void> {
    // The read is in the kernel when close() comes: only the cancel can end it.
    asio::co_spawn(loop.context(), close_later(&server), asio::detached);
    CHECK(co_await server.fill() == cortado::stream_errc::closed);
    CHECK(server.closed());
    // The client sees the close (the cancel let the ring release the socket).
    CHECK(co_await client.fill() == asio::error::eof);
  });
}

TEST_CASE("io_uring: an idle stream parks, and a send larger than the socket buffers waits") {
  with_ring_streams(
      [](IOLoop& loop, IOStream& client, IOStream& server) -> asio::awaitable<void> {
        // The deadline sweep cancels the idle read in the ring.
        CHECK(co_await server.fill_idle() == cortado::stream_errc::parked);
        CHECK_FALSE(server.closed());
        // The read starts before the bytes come.
        asio::co_spawn(loop.context(), write_later(&client, "after"), asio::detached);
        CHECK(co_await server.read_bytes(5) == "after");
        // The send waits partway (in the ring, or through Asio where a kernel answers EAGAIN:
        // the kernel's choice, so this checks the outcome, not the path).
        const std::string big = pattern(4 << 20);
        bool sent = false;
        asio::co_spawn(loop.context(), send_all(&server, &big, &sent), asio::detached);
        std::string got;
        while (got.size() < big.size()) {
          got += co_await client.read_bytes(big.size() - got.size(), true);
        }
        CHECK(sent);
        CHECK(got == big);
      },
      {.park_after = 10ms});
}

TEST_CASE("io_uring: a peek on socket() while nothing is there does not block the loop") {
  with_ring_streams([](IOLoop&, IOStream& client, IOStream& server) -> asio::awaitable<void> {
    co_await client.write("request");
    CHECK(co_await server.read_bytes(7) == "request");
    // What the close watch does once epoll says the socket was readable: the ring has read
    // the bytes already, so the peek must answer would_block rather than wait (on a blocking
    // socket it would wait forever: checked first so that the test fails instead).
    REQUIRE(non_blocking(server));
    char byte = 0;
    std::error_code ec;
    server.socket().receive(asio::buffer(&byte, 1), asio::ip::tcp::socket::message_peek, ec);
    CHECK(ec == asio::error::would_block);
  });
}
