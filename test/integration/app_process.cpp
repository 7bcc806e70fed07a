#include "app_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

namespace cortado::test {
namespace {

std::string read_line(int fd) {
  std::string line;
  char c = 0;
  while (::read(fd, &c, 1) == 1) {
    if (c == '\n') return line;
    line.push_back(c);
  }
  return line;
}

std::uint16_t port_from(const std::string& line) {
  // "... listening on http://127.0.0.1:PORT/plaintext"
  const auto slash = line.find('/', line.find("://") + 3);
  const auto colon = line.rfind(':', slash);
  if (line.find("://") == std::string::npos || colon == std::string::npos) {
    throw std::runtime_error("the app did not print where it listens; it printed: " + line);
  }
  return static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1, slash - colon - 1)));
}

}  // namespace

AppProcess::AppProcess(const std::string& binary, std::vector<std::string> args,
                       std::function<void()> in_child) {
  char path[] = "/tmp/cortado-app-XXXXXX";
  const int log_fd = ::mkstemp(path);
  if (log_fd < 0) throw std::runtime_error("mkstemp failed");
  log_path_ = path;
  int out[2];
  if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
  args.insert(args.begin(), binary);
  args.insert(args.end(), {"--address", "127.0.0.1", "--port", "0"});
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(out[1], 1);
    ::dup2(log_fd, 2);
    ::close(out[0]);
    ::close(out[1]);
    ::close(log_fd);
    // Nothing of the test's own (its sockets, its pidfds) leaks into the server.
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
    if (in_child) in_child();
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(log_fd);
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  const std::string first = read_line(out[0]);
  ::close(out[0]);
  try {
    port_ = port_from(first);
  } catch (...) {
    stop(SIGKILL, std::chrono::seconds(5));
    throw std::runtime_error(
        fmt::format("{} did not start: '{}'; its log: {}", binary, first, log()));
  }
}

AppProcess::~AppProcess() {
  if (pid_ > 0) stop(SIGKILL, std::chrono::seconds(10));
  if (pidfd_ >= 0) ::close(pidfd_);
  std::error_code ignored;
  std::filesystem::remove(log_path_, ignored);
}

long AppProcess::rss_kib() const {
  return status_kib("VmRSS:");
}

long AppProcess::data_kib() const {
  return status_kib("VmData:");
}

long AppProcess::status_kib(std::string_view field) const {
  std::ifstream status(fmt::format("/proc/{}/status", pid_));
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(field)) return std::stol(line.substr(field.size()));
  }
  return -1;
}

double AppProcess::cpu_seconds() const {
  std::ifstream stat(fmt::format("/proc/{}/stat", pid_));
  std::string all;
  std::getline(stat, all);
  // Fields after the command name (which may hold spaces, inside parentheses): utime and stime
  // are the 12th and 13th of them (the 14th and 15th of the line), in clock ticks.
  std::istringstream rest(all.substr(all.rfind(')') + 2));
  std::string field;
  for (int i = 0; i < 11; ++i) rest >> field;
  long utime = 0;
  long stime = 0;
  rest >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

int AppProcess::fd_count() const {
  std::error_code ec;
  int n = 0;
  for (auto it = std::filesystem::directory_iterator(fmt::format("/proc/{}/fd", pid_), ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

// A bounded poll of /proc: the server's closes and frees are asynchronous, with no event for
// the test to wait on.
template <class Read, class Done>
auto poll_until(Read read, Done done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto value = read();
  while (!done(value) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    value = read();
  }
  return value;
}

int AppProcess::wait_for_fds_at_most(int target, std::chrono::milliseconds timeout) const {
  return poll_until([this] { return fd_count(); }, [target](int n) { return n <= target; },
                    timeout);
}

int AppProcess::wait_for_fds_at_least(int target, std::chrono::milliseconds timeout) const {
  return poll_until([this] { return fd_count(); }, [target](int n) { return n >= target; },
                    timeout);
}

long AppProcess::wait_for_rss_at_most(long kib, std::chrono::milliseconds timeout) const {
  return poll_until([this] { return rss_kib(); }, [kib](long n) { return n <= kib; }, timeout);
}

std::optional<int> AppProcess::stop(int signal, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  ::kill(pid_, signal);
  pollfd exited{pidfd_, POLLIN, 0};
  const bool in_time = pidfd_ >= 0 && ::poll(&exited, 1, static_cast<int>(timeout.count())) == 1;
  if (!in_time) ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  if (!in_time || !WIFEXITED(status)) return std::nullopt;
  return WEXITSTATUS(status);
}

std::string AppProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

std::string app_binary(const std::string& name) {
  return fmt::format("{}/apps/{}/cortado_{}", CORTADO_BINARY_DIR, name, name);
}

long raise_fd_limit() {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
  return static_cast<long>(limit.rlim_cur);
}

}  // namespace cortado::test
