// Test helper: the log lines written while a LogCapture lives (any thread).
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "util/log.h"

namespace punt {

class LogCapture {
 public:
  LogCapture() {
    previous_ = SetLogSink([this](std::string_view line) {
      std::lock_guard lock(mu_);
      lines_.emplace_back(line);
    });
  }
  ~LogCapture() { SetLogSink(std::move(previous_)); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // The lines holding `text`.
  std::vector<std::string> With(std::string_view text) const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const std::string& line : lines_) {
      if (line.find(text) != std::string::npos) out.push_back(line);
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
  LogSink previous_;
};

}  // namespace punt
