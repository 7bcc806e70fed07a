#include "cortado/log.hpp"

#include <cstdio>
#include <ctime>
#include <mutex>

namespace cortado::log {
namespace {

Sink& sink_slot() {
  static Sink sink;
  return sink;
}

char level_letter(Level level) {
  switch (level) {
    case Level::debug: return 'D';
    case Level::info: return 'I';
    case Level::warning: return 'W';
    case Level::error: return 'E';
    default: return '?';
  }
}

}  // namespace

Sink set_sink(Sink sink) { return std::exchange(sink_slot(), std::move(sink)); }

void write_default(const Record& record) {
  static std::mutex mutex;
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%y%m%d %H:%M:%S", &tm);
  auto line = fmt::format("[{} {} {}] {}\n", level_letter(record.level), stamp, record.channel,
                          record.message);
  std::lock_guard lock(mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

void Logger::emit(Level level, std::string_view message) const {
  Record record{name_, level, message};
  if (const Sink& sink = sink_slot()) {
    sink(record);
  } else {
    write_default(record);
  }
}

Logger& access() {
  static Logger logger("access", Level::info);
  return logger;
}
Logger& app() {
  static Logger logger("application", Level::info);
  return logger;
}
Logger& general() {
  static Logger logger("general", Level::info);
  return logger;
}

void set_level(Level level) {
  access().set_level(level);
  app().set_level(level);
  general().set_level(level);
}

}  // namespace cortado::log
