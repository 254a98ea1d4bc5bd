// Baseline: a bare libcurl-multi loop POSTing one body N times over C
// keep-alive connections, as fast as the receiver answers. It is the ceiling
// for punt's dispatcher (also libcurl multi) on the same machine and receiver.
// HEADERS_FILE's "Name: value" lines are sent as headers too (bench/run.sh
// gives it punt's User-Agent and webhook headers, so the request is as long
// as punt's); libcurl's own Accept header is left out, as punt sends none.
//
//   bench_curl_post URL BODY_FILE REQUESTS CONNECTIONS [MAX_SECONDS] [HEADERS_FILE]
//
// Prints one line: requests=N ok=N failed=N seconds=S rate=R (R counts 2xx
// answers per second). Stops after MAX_SECONDS (default 300) whatever is left.
#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

size_t Discard(char*, size_t size, size_t count, void*) { return size * count; }

bool ReadFile(const char* path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

CURL* MakeHandle(const std::string& url, const std::string& body, curl_slist* headers) {
  CURL* easy = curl_easy_init();
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Discard);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 15000L);
  return easy;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s URL BODY_FILE REQUESTS CONNECTIONS [MAX_SECONDS] [HEADERS_FILE]\n",
                 argv[0]);
    return 2;
  }
  const std::string url = argv[1];
  std::string body;
  if (!ReadFile(argv[2], &body)) {
    std::fprintf(stderr, "cannot read %s\n", argv[2]);
    return 2;
  }
  const long requests = std::atol(argv[3]);
  const long connections = std::atol(argv[4]);
  const double max_seconds = argc > 5 ? std::atof(argv[5]) : 300;
  if (requests < 1 || connections < 1) {
    std::fprintf(stderr, "REQUESTS and CONNECTIONS must be positive\n");
    return 2;
  }

  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, connections);
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  headers = curl_slist_append(headers, "Accept:");
  if (argc > 6) {
    std::ifstream in(argv[6]);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", argv[6]);
      return 2;
    }
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) headers = curl_slist_append(headers, line.c_str());
    }
  }

  std::vector<CURL*> handles;
  long started = 0;
  for (long i = 0; i < connections && started < requests; ++i, ++started) {
    handles.push_back(MakeHandle(url, body, headers));
    curl_multi_add_handle(multi, handles.back());
  }

  using Clock = std::chrono::steady_clock;
  const auto begin = Clock::now();
  const auto deadline = begin + std::chrono::duration<double>(max_seconds);
  long done = 0, ok = 0, failed = 0;
  while (done < started && Clock::now() < deadline) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      ++done;
      if (msg->data.result == CURLE_OK && status >= 200 && status < 300) {
        ++ok;
      } else {
        ++failed;
      }
      curl_multi_remove_handle(multi, easy);
      if (started < requests) {  // the same handle again: its connection is reused
        curl_multi_add_handle(multi, easy);
        ++started;
      }
    }
    if (done < started) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - begin).count();

  for (CURL* easy : handles) {
    curl_multi_remove_handle(multi, easy);
    curl_easy_cleanup(easy);
  }
  curl_slist_free_all(headers);
  curl_multi_cleanup(multi);
  curl_global_cleanup();

  std::printf("requests=%ld ok=%ld failed=%ld seconds=%.3f rate=%.1f\n", done, ok, failed, seconds,
              seconds > 0 ? ok / seconds : 0.0);
  return failed == 0 && done == requests ? 0 : 1;
}
