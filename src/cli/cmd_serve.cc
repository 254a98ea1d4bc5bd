#include <csignal>
#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "server/app.h"
#include "server/config.h"
#include "util/log.h"

namespace punt::cli {

int RunServe(Args args) {
  if (WantsHelp(args)) {
    std::cout << server::kServeUsage;
    return 0;
  }
  server::Config config;
  if (auto error = server::ParseConfig(args, [](const char* n) { return std::getenv(n); }, config)) {
    std::cerr << "punt serve: " << *error << "\n\n" << server::kServeUsage;
    return 2;
  }
  // Block the stop signals before any thread starts, so every thread inherits
  // the mask and this one takes them with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  std::string error;
  auto app = server::App::Start(config, &error);
  if (!app) {
    LogError("punt could not start", {{"error", error}});
    return 1;
  }
  std::string host = config.host.find(':') != std::string::npos ? "[" + config.host + "]"
                                                                 : config.host;
  boost::json::object fields{{"address", "http://" + host + ":" + std::to_string(app->port())},
                             {"data_dir", config.data_dir}};
  if (!app->admin_key_file().empty()) fields["admin_key_file"] = app->admin_key_file();
  LogInfo("punt listening", std::move(fields));

  int signal = 0;
  sigwait(&stop_signals, &signal);
  LogInfo("punt stopping", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
  app->Stop();
  LogInfo("punt stopped");
  return 0;
}

}  // namespace punt::cli
