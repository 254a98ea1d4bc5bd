// An HTTP/1.1 keep-alive client for deliveries to plain http:// URLs, on
// Boost.Beast, with a thread of its own. https:// stays with libcurl
// (Transfer), which brings TLS verification and HTTP/2; a plain request
// here costs a fraction of a curl transfer (bench/RESULTS.md).
//
// It keeps every delivery rule Transfer keeps: the connect and total
// timeouts, no redirects (a 3xx is an answer like any other), and the
// destination guard on every resolved address before connecting. A request
// on a reused connection that the receiver had closed before answering is
// sent once more on a new connection, as libcurl does. A kept connection is
// checked (a peek) before it is taken again: one the receiver closed, or sent
// anything on since its last answer, is dropped, as libcurl drops it.
//
// Calls may name a lane (the dispatcher's subscription) with a limit: at
// most that many of the lane's requests are open at once, and the rest wait
// in the client, in order. When one ends, the next starts at once on this
// thread, on the connection just freed, without a round trip through the
// caller: a caller that keeps a lane's queue filled keeps its receiver busy.
// The caller takes a lane's queue back when what it was built from changed.
//
// Thread-safety: Start, Stop, Submit and TakeFinished may be called from any
// thread; connections and requests belong to the client's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "delivery/request.h"
#include "delivery/transfer.h"

namespace punt::delivery {

class PlainClient {
 public:
  struct Call {
    uint64_t tag = 0;  // the caller's name for the request
    OutgoingRequest request;
    std::string lane;    // empty: no lane, started at once
    int lane_limit = 1;  // the lane's requests open at once (the latest call's counts)
  };
  struct Finished {
    uint64_t tag = 0;
    TransferResult result;
    bool withdrawn = false;  // taken back by Withdraw before it started: no result
    std::string body;        // withdrawn: the request's body, handed back unsent
  };

  // `on_finished` runs on the client's thread whenever finished requests
  // wait where there were none: the caller then calls TakeFinished.
  // `stops_lane`, if set, tells the answers after which a lane starts none
  // of its queued calls: they come back withdrawn at once (the dispatcher's
  // 410, which disables the subscription), before the caller has seen it.
  // The lane stays stopped (calls handed to it come back withdrawn, unsent)
  // until the caller's next Withdraw of it, which says it saw the answer:
  // calls it handed over before then were built without knowing.
  PlainClient(const TransportOptions& options, std::function<void()> on_finished,
              std::function<bool(int status)> stops_lane = {});
  ~PlainClient();
  PlainClient(const PlainClient&) = delete;
  PlainClient& operator=(const PlainClient&) = delete;

  // True for the URLs this client carries: http://, not https://.
  static bool Carries(const std::string& url);

  void Start();
  // Abandons the requests still open: they never finish.
  void Stop();
  void Submit(std::vector<Call> calls);
  // Takes back the lane's calls that have not started (those submitted
  // before this included): each comes out of TakeFinished withdrawn. Those
  // already open go on. A lane a stop answer stopped takes calls again.
  void Withdraw(const std::string& lane);
  std::vector<Finished> TakeFinished();

  class Impl;  // the io_context, its thread and the connection pool

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace punt::delivery
