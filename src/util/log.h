// JSON-lines logging. Each line is one JSON object:
//   {"ts":"2026-11-28T12:00:00.123Z","level":"info","msg":"...",<fields>...}
// Fields named "ts", "level" or "msg" are dropped so that every key is unique.
//
// Thread-safety: every function may be called from any thread. Lines never
// interleave: the sink is called under one mutex, and the default sink writes
// each line (with its '\n') to stderr in a single write().
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "util/time.h"

namespace punt {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Receives one line without its trailing newline.
using LogSink = std::function<void(std::string_view line)>;

void LogDebug(std::string_view msg, boost::json::object fields = {});
void LogInfo(std::string_view msg, boost::json::object fields = {});
void LogWarn(std::string_view msg, boost::json::object fields = {});
void LogError(std::string_view msg, boost::json::object fields = {});
void Log(LogLevel level, std::string_view msg, boost::json::object fields = {});

// Lines below `level` are dropped before they are formatted. Default: kInfo.
void SetMinLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);

// Replaces the sink and returns the previous one. An empty sink restores the
// default (stderr). Meant for tests and for embedding.
LogSink SetLogSink(LogSink sink);

// "debug", "info", "warn" (or "warning"), "error".
std::optional<LogLevel> ParseLogLevel(std::string_view name);
std::string_view LogLevelName(LogLevel level);

// The line Log() would write at time `ts`, without a newline. Pure.
std::string FormatLogLine(TimePoint ts, LogLevel level, std::string_view msg,
                          const boost::json::object& fields);

}  // namespace punt
