// CPU micro-benchmarks of what an HTTP thread does for POST /v1/events,
// step by step, on one thread: single-core CPU time is steadier on a noisy
// machine than a wrk run, so a change that should save CPU per event can be
// measured here first (bench/README.md). The input is the golden event of
// every type (test/golden/events), each posted alone, as a batch of one is;
// every figure is per event, averaged over that mix.
//
//   build-bench/punt_bench [--benchmark_filter=REGEX]
#include <benchmark/benchmark.h>

#include <array>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "api/http/response.h"
#include "catalog/validate.h"
#include "security/api_keys.h"
#include "util/json.h"
#include "util/time.h"
#include "webhook/envelope.h"
#include "xapi/statement.h"

namespace {

namespace json = boost::json;

// The golden events, each as the text a platform would post.
const std::vector<std::string>& Events() {
  static const std::vector<std::string> events = [] {
    std::vector<std::string> out;
    for (const auto& entry :
         std::filesystem::directory_iterator(PUNT_SOURCE_DIR "/test/golden/events")) {
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      boost::system::error_code ec;
      json::value event = punt::ParseJson(text.str(), ec);
      if (ec) throw std::runtime_error("cannot parse " + entry.path().string());
      out.push_back(json::serialize(event));
    }
    if (out.empty()) throw std::runtime_error("no golden events");
    return out;
  }();
  return events;
}

// Parsed as the handler parses: into an arena over a thread-local buffer.
json::value Parse(const std::string& text, json::monotonic_resource& arena) {
  boost::system::error_code ec;
  unsigned char temp[2048];
  json::value value = punt::ParseJson(text, ec, &arena, {}, temp, sizeof temp);
  if (ec) throw std::runtime_error("parse failed");
  return value;
}

template <typename Step>
void ForEachEvent(benchmark::State& state, Step step) {
  const auto& events = Events();
  size_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& text : events) {
      std::array<unsigned char, 16384> scratch;
      json::monotonic_resource arena(scratch.data(), scratch.size());
      step(text, arena);
      bytes += text.size();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * events.size()));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_HashApiKey(benchmark::State& state) {
  const std::string key = "punt_live_4f8a0c2e9b7d1f3a5c6e8b0d2f4a6c8e";
  for (auto _ : state) benchmark::DoNotOptimize(punt::security::HashApiKey(key));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HashApiKey);

void BM_Parse(benchmark::State& state) {
  ForEachEvent(state, [](const std::string& text, json::monotonic_resource& arena) {
    benchmark::DoNotOptimize(Parse(text, arena));
  });
}
BENCHMARK(BM_Parse);

void BM_ParseValidate(benchmark::State& state) {
  ForEachEvent(state, [](const std::string& text, json::monotonic_resource& arena) {
    json::value event = Parse(text, arena);
    auto problems = punt::catalog::Validate(event);
    if (!problems.empty()) throw std::runtime_error("a golden event is invalid");
  });
}
BENCHMARK(BM_ParseValidate);

void BM_ParseWebhookBody(benchmark::State& state) {
  ForEachEvent(state, [](const std::string& text, json::monotonic_resource& arena) {
    json::value event = Parse(text, arena);
    benchmark::DoNotOptimize(punt::webhook::WebhookBody(event, text.size()));
  });
}
BENCHMARK(BM_ParseWebhookBody);

void BM_ParseStatement(benchmark::State& state) {
  const punt::xapi::OrgSettings org{"org_bench", "https://learn.example", false};
  ForEachEvent(state, [&](const std::string& text, json::monotonic_resource& arena) {
    json::value event = Parse(text, arena);
    const auto type = event.get_object().at("type").get_string();
    if (punt::xapi::HasStatement(type)) {
      benchmark::DoNotOptimize(punt::xapi::StatementJson(org, event, punt::xapi::Version::k1_0_3));
    }
  });
}
BENCHMARK(BM_ParseStatement);

// What the handler does for one event, its store call aside: parse,
// validate, the webhook body, the occurred_at time and the 202's JSON.
void BM_HandlerWork(benchmark::State& state) {
  ForEachEvent(state, [](const std::string& text, json::monotonic_resource& arena) {
    json::value event = Parse(text, arena);
    if (!punt::catalog::Validate(event).empty()) throw std::runtime_error("invalid");
    const json::object& e = event.get_object();
    std::string id(e.at("id").get_string());
    benchmark::DoNotOptimize(punt::ParseRfc3339(e.at("occurred_at").get_string()));
    benchmark::DoNotOptimize(punt::webhook::WebhookBody(event, text.size()));
    json::value answer(json::object_kind, &arena);
    json::array accepted(&arena);
    accepted.emplace_back(id);
    answer.get_object().emplace("accepted", std::move(accepted));
    benchmark::DoNotOptimize(punt::http::Json(202, answer));
  });
}
BENCHMARK(BM_HandlerWork);

}  // namespace

BENCHMARK_MAIN();
