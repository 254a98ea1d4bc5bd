// The one thread that writes: it owns the write connection and commits the
// jobs waiting in its queue in groups (one transaction and one fsync each).
//
// Durability: a group holding any durable job commits with synchronous=FULL
// (fsync of the WAL). A group of only non-durable jobs (the dispatcher's
// claims and attempt records) commits with synchronous=NORMAL: no fsync, so
// a process crash loses nothing, and a power loss can lose only a suffix of
// such commits, since every FULL commit syncs the whole WAL before it. Losing
// a claim or a record only makes a delivery go again (at-least-once).
//
// A job that fails rolls back only its own work. The jobs of a group first
// run without savepoints (a savepoint costs a copy of every page earlier jobs
// of the group changed); when one fails, the whole transaction rolls back and
// the group runs again with a SAVEPOINT per job. So a job's `run` must be
// safe to call twice: it starts from the state it captured, not from what an
// earlier call left behind. After COMMIT every job of the group is finished, in submission
// order, on the writer thread. If a group cannot be committed, every job of
// it fails and the writer refuses all later jobs (bg_error): it never carries
// on as if data were safe.
//
// Thread-safety: Submit, RunSync, stats and the test hooks may be called from
// any thread; jobs run only on the writer thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/db.h"
#include "store/store.h"

namespace punt::store::sqlite {

struct WriteJob {
  // Runs inside the group's transaction, possibly twice (see above). A non-OK
  // status rolls back the job's work. Setting `*made_due` asks for the commit
  // listener.
  std::function<Status(Db& db, bool* made_due)> run;
  // Runs after the group committed (with run's status) or failed (with a
  // Failed status). Must not block.
  std::function<void(const Status& status)> finish;
  // False when losing the commit to a power failure only repeats work.
  bool durable = true;
};

struct WriterStats {
  int64_t jobs = 0;     // jobs run
  int64_t commits = 0;  // groups committed
  int64_t largest_group = 0;
  int64_t synced_commits = 0;  // commits with an fsync (a durable job in the group)
  int64_t groups_run_again = 0;  // a job failed: run again with a savepoint per job
};

class Writer {
 public:
  // Starts the thread. `on_due` runs on it after a commit in which a job
  // set `made_due`, before the group's jobs are finished.
  Writer(std::unique_ptr<Db> db, std::function<void()> on_due);
  // Finishes the jobs already queued, then stops.
  ~Writer();

  void Submit(WriteJob job);
  // Submits `run` and waits for its group's outcome.
  Status RunSync(std::function<Status(Db& db, bool* made_due)> run, bool durable = true);

  WriterStats stats() const;

  // Test hooks. While paused, jobs queue up without running, so a test can
  // put chosen jobs into one group.
  void PauseForTest();
  void ResumeForTest();
  size_t QueuedForTest() const;
  // Makes the next group fail at COMMIT (which then rolls back).
  void FailNextCommitForTest();

 private:
  struct Outcome {
    Status status;
    bool made_due = false;
  };

  // How running a group's jobs in one transaction went.
  enum class Pass {
    kDone,       // every job ran: ready to commit
    kJobFailed,  // without savepoints, a job failed: roll back, run again
    kLost,       // the transaction itself is lost: the group must fail
  };

  void Loop();
  void RunGroup(std::deque<WriteJob>& group);
  // Runs the group's jobs in an open transaction; with `savepoints`, each
  // under its own, so a failing job rolls back alone.
  Pass RunJobs(std::deque<WriteJob>& group, bool savepoints, std::vector<Outcome>& outcomes,
               std::string* error);
  void Fail(std::deque<WriteJob>& group, const std::string& error);

  std::unique_ptr<Db> db_;  // used on the writer thread only
  bool synchronous_full_ = true;  // the connection's setting (writer thread only)
  std::function<void()> on_due_;

  mutable std::mutex mu_;
  // State below is protected by mu_.
  std::condition_variable work_;
  std::deque<WriteJob> queue_;
  bool stopping_ = false;
  bool paused_ = false;
  bool fail_next_commit_ = false;
  std::string bg_error_;  // set once a commit failed; never cleared
  WriterStats stats_;

  std::thread thread_;  // last: starts after the state above exists
};

}  // namespace punt::store::sqlite
