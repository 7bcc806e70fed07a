// Logging in Tornado's three channels: access (one line per request), application (errors from
// handlers) and general (the server's own events). Formatting is lazy: a disabled level costs a
// load and a compare, so log calls can stay on the hot path.
#pragma once

#include <atomic>
#include <functional>
#include <string_view>

#include <fmt/format.h>

namespace cortado::log {

enum class Level { debug = 10, info = 20, warning = 30, error = 40, off = 100 };

struct Record {
  std::string_view channel;
  Level level;
  std::string_view message;
};

// Where formatted records go. The default writes Tornado-style lines to stderr.
using Sink = std::function<void(const Record&)>;

// Replaces the process-wide sink (an empty function restores the default); returns the old one.
// Set it before serving: the sink is read without a lock on every record.
Sink set_sink(Sink sink);
void write_default(const Record& record);

class Logger {
 public:
  constexpr Logger(std::string_view name, Level level) : name_(name), level_(level) {}

  std::string_view name() const { return name_; }
  Level level() const { return level_.load(std::memory_order_relaxed); }
  void set_level(Level level) { level_.store(level, std::memory_order_relaxed); }
  bool enabled(Level level) const { return level >= this->level(); }

  template <class... Args>
  void log(Level level, fmt::format_string<Args...> format, Args&&... args) const {
    if (enabled(level)) emit(level, fmt::vformat(format, fmt::make_format_args(args...)));
  }
  template <class... Args>
  void debug(fmt::format_string<Args...> f, Args&&... a) const {
    log(Level::debug, f, std::forward<Args>(a)...);
  }
  template <class... Args>
  void info(fmt::format_string<Args...> f, Args&&... a) const {
    log(Level::info, f, std::forward<Args>(a)...);
  }
  template <class... Args>
  void warning(fmt::format_string<Args...> f, Args&&... a) const {
    log(Level::warning, f, std::forward<Args>(a)...);
  }
  template <class... Args>
  void error(fmt::format_string<Args...> f, Args&&... a) const {
    log(Level::error, f, std::forward<Args>(a)...);
  }

 private:
  void emit(Level level, std::string_view message) const;

  std::string_view name_;
  std::atomic<Level> level_;
};

// Tornado's tornado.access, tornado.application and tornado.general.
Logger& access();
Logger& app();
Logger& general();

// Sets all three channels at once (for --debug and for tests).
void set_level(Level level);

}  // namespace cortado::log
