#include "util/log.h"

#include <unistd.h>

#include <atomic>
#include <boost/json/string.hpp>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <utility>

#include "util/json.h"

namespace punt {
namespace {

std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};

std::mutex& SinkMutex() {
  static std::mutex mu;
  return mu;
}

// Guarded by SinkMutex(). Empty means stderr.
LogSink& Sink() {
  static LogSink sink;
  return sink;
}

void WriteToStderr(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(STDERR_FILENO, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // Nowhere left to report a failed log write.
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

bool IsReservedKey(std::string_view key) { return key == "ts" || key == "level" || key == "msg"; }

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

std::optional<LogLevel> ParseLogLevel(std::string_view name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn" || name == "warning") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  return std::nullopt;
}

std::string FormatLogLine(TimePoint ts, LogLevel level, std::string_view msg,
                          const boost::json::object& fields) {
  std::string line;
  line.reserve(64 + msg.size());
  line += "{\"ts\":\"";
  line += FormatTimestamp(ts);
  line += "\",\"level\":\"";
  line += LogLevelName(level);
  line += "\",\"msg\":";
  AppendJson(line, boost::json::string(msg));
  for (const auto& [key, value] : fields) {
    if (IsReservedKey(key)) continue;
    line += ',';
    AppendJson(line, boost::json::string(key));
    line += ':';
    AppendJson(line, value);
  }
  line += '}';
  return line;
}

void SetMinLogLevel(LogLevel level) {
  min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= min_level.load(std::memory_order_relaxed);
}

LogSink SetLogSink(LogSink sink) {
  std::lock_guard lock(SinkMutex());
  return std::exchange(Sink(), std::move(sink));
}

void Log(LogLevel level, std::string_view msg, boost::json::object fields) {
  if (!LogEnabled(level)) return;
  auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  std::string line = FormatLogLine(now, level, msg, fields);
  std::lock_guard lock(SinkMutex());
  if (Sink()) {
    Sink()(line);
    return;
  }
  line += '\n';
  WriteToStderr(line);
}

void LogDebug(std::string_view msg, boost::json::object fields) {
  Log(LogLevel::kDebug, msg, std::move(fields));
}
void LogInfo(std::string_view msg, boost::json::object fields) {
  Log(LogLevel::kInfo, msg, std::move(fields));
}
void LogWarn(std::string_view msg, boost::json::object fields) {
  Log(LogLevel::kWarn, msg, std::move(fields));
}
void LogError(std::string_view msg, boost::json::object fields) {
  Log(LogLevel::kError, msg, std::move(fields));
}

}  // namespace punt
