// A sample app run as a user runs it, in a child process. Tests that judge the server by its
// resident memory, its descriptors, its log and its exit status need it outside the test's own
// process, where the clients' sockets and allocations would blur every figure.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cortado::test {

class AppProcess {
 public:
  // Starts `binary args... --port 0` and reads the port it took from the first line it prints
  // ("... listening on http://127.0.0.1:PORT/..."). `in_child` runs after fork, before exec
  // (to lower a resource limit, say). stderr goes to a file that log() reads.
  AppProcess(const std::string& binary, std::vector<std::string> args,
             std::function<void()> in_child = {});
  ~AppProcess();
  AppProcess(const AppProcess&) = delete;
  AppProcess& operator=(const AppProcess&) = delete;

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }

  // From /proc: resident set (KiB) and open descriptors of the server.
  long rss_kib() const;
  // Its private writable address space (VmData, KiB): memory reserved, touched or not.
  long data_kib() const;
  int fd_count() const;
  // CPU time it has used so far, user and system (from /proc/<pid>/stat).
  double cpu_seconds() const;
  // Polls /proc until the server holds at most `target` descriptors, up to `timeout`; returns
  // the last count seen. (Closing is asynchronous on the server's side: there is no event for
  // the test to wait on.)
  int wait_for_fds_at_most(int target, std::chrono::milliseconds timeout) const;
  // The same until it holds at least `target` (connections being accepted).
  int wait_for_fds_at_least(int target, std::chrono::milliseconds timeout) const;
  // The same until its resident set is at most `kib` (memory given back after a burst).
  long wait_for_rss_at_most(long kib, std::chrono::milliseconds timeout) const;

  // Sends `signal` and waits up to `timeout` for the exit; the exit status, or nothing (and the
  // process killed) when it did not exit in time or died of a signal.
  std::optional<int> stop(int signal, std::chrono::milliseconds timeout);
  // Everything the server wrote to stderr so far.
  std::string log() const;

 private:
  long status_kib(std::string_view field) const;  // a "Vm...:" line of /proc/<pid>/status
  pid_t pid_ = -1;
  int pidfd_ = -1;
  std::uint16_t port_ = 0;
  std::string log_path_;
};

// The path of a sample app built next to the tests.
std::string app_binary(const std::string& name);

// Raises this process's descriptor limit to its hard limit (children inherit it); returns it.
long raise_fd_limit();

}  // namespace cortado::test
