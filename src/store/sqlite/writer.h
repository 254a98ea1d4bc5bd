// The one thread that writes: it owns the write connection and commits the
// jobs waiting in its queue in groups (one transaction each).
//
// Durability: the connection commits with synchronous=NORMAL (no fsync), and
// a second thread, the sync thread, makes commits durable with one fdatasync
// of the WAL (WalSync) for every commit written before it. The jobs of a
// group holding any durable job are finished only after that sync; the
// writer meanwhile runs the next group, so the fsync does not stall it.
// While the sync thread is busy, a group with a durable job is not committed
// when its jobs have run: they could not be answered before that sync ends
// anyway. The writer keeps the transaction open and runs the jobs queued
// meanwhile in it, and commits when the sync ends (or the group reaches
// 1,024 jobs), so one commit and one sync carry them all: fewer commits,
// fewer WAL frames per job. A group of only non-durable jobs (the
// dispatcher's attempt records) is finished at once: losing it to a power
// loss only makes a delivery go again (at-least-once), and the WAL is
// replayed in order, so a power loss loses only a suffix of commits.
//
// A job that fails rolls back only its own work. The jobs of a group first
// run without savepoints (a savepoint costs a copy of every page earlier jobs
// of the group changed); when one fails, the whole transaction rolls back and
// the group runs again with a SAVEPOINT per job. So a job's `run` must be
// safe to call twice: it starts from the state it captured, not from what an
// earlier call left behind. After COMMIT every job of the group is finished
// in submission order: on the writer thread for a group of only non-durable
// jobs, on the sync thread after the sync otherwise (but an urgent job at
// its commit, on the writer thread: see WriteJob). If a group cannot be
// committed, or a sync fails, every job waiting on it fails and the writer
// refuses all later jobs (bg_error): it never carries on as if data were
// safe.
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
#include "store/sqlite/wal_sync.h"
#include "store/store.h"

namespace punt::store::sqlite {

struct WriteJob {
  // Runs inside the group's transaction, possibly twice (see above). A non-OK
  // status rolls back the job's work. Setting `*made_due` asks for the commit
  // listener.
  std::function<Status(Db& db, bool* made_due)> run;
  // Runs after the group committed (with run's status; for a group with a
  // durable job, once the commit is synced) or failed (with a Failed
  // status), on the writer or the sync thread. Must not block.
  std::function<void(const Status& status)> finish;
  // False when losing the commit to a power failure only repeats work.
  bool durable = true;
  // For a non-durable job a caller waits on before it reads what the job
  // wrote: a group holding it is not kept open for a sync, and it is
  // finished at its commit even in a group that waits for a sync.
  bool urgent = false;
};

struct WriterStats {
  int64_t jobs = 0;     // jobs run
  int64_t commits = 0;  // groups committed
  int64_t largest_group = 0;
  int64_t synced_commits = 0;  // commits that waited for a sync (a durable job in the group)
  int64_t syncs = 0;           // fdatasync calls of the WAL: one may cover several commits
  int64_t groups_run_again = 0;  // a job failed: run again with a savepoint per job
};

class Writer {
 public:
  // Starts the threads. `db` must commit with synchronous=NORMAL; `wal`
  // syncs its WAL. `on_due` runs on the writer thread after a commit in
  // which a job set `made_due`, before the group's jobs are finished.
  Writer(std::unique_ptr<Db> db, std::unique_ptr<WalSync> wal, std::function<void()> on_due);
  // Finishes the jobs already queued (synced), then stops.
  ~Writer();

  // `rolled_back` runs on the writer thread whenever a group's transaction
  // is rolled back (to run it again job by job, or for good): state a job
  // kept in memory from inside that transaction is no longer true. Set it
  // before the first Submit.
  void SetRollbackListener(std::function<void()> rolled_back) {
    rolled_back_ = std::move(rolled_back);
  }

  void Submit(WriteJob job);
  // Submits `run` and waits for its group's outcome (`urgent` only when not
  // `durable`: see WriteJob).
  Status RunSync(std::function<Status(Db& db, bool* made_due)> run, bool durable = true,
                 bool urgent = false);

  WriterStats stats() const;
  // True once a commit or a sync failed: every later job is refused.
  bool failed() const;
  // That failure's error; empty while the writer takes jobs.
  std::string refusal() const;

  // Test hooks. While paused, jobs queue up without running, so a test can
  // put chosen jobs into one group.
  void PauseForTest();
  void ResumeForTest();
  size_t QueuedForTest() const;
  // Makes the next group fail at COMMIT (which then rolls back).
  void FailNextCommitForTest();
  // Makes the next sync fail (as an fdatasync error would).
  void FailNextSyncForTest();
  // While held, the sync thread takes its next batch and then waits before
  // its fdatasync, as a slow one would. SyncingForTest: it has taken one.
  void HoldSyncForTest();
  void ReleaseSyncForTest();
  bool SyncingForTest() const;

 private:
  struct Outcome {
    Status status;
    bool made_due = false;
  };
  // A committed job of a durable group, waiting for the sync.
  struct Committed {
    std::function<void(const Status&)> finish;
    Status status;
  };

  // How running a group's jobs in one transaction went.
  enum class Pass {
    kDone,       // every job ran: ready to commit
    kJobFailed,  // without savepoints, a job failed: roll back, run again
    kLost,       // the transaction itself is lost: the group must fail
  };

  void Loop();
  void RunGroup(std::deque<WriteJob>& group);
  // Runs the group's jobs from index `from` on in an open transaction; with
  // `savepoints`, each under its own, so a failing job rolls back alone.
  Pass RunJobs(std::deque<WriteJob>& group, size_t from, bool savepoints,
               std::vector<Outcome>& outcomes, std::string* error);
  // Called with a group's jobs run and its transaction open. While the sync
  // thread is busy with earlier commits, the jobs of a group with a durable
  // job could not be answered before that sync ends anyway: the writer keeps
  // the transaction open, waits, and appends the jobs queued meanwhile, so
  // one commit carries them all. True when it appended jobs (to run); false
  // when the group should commit now (the sync thread is idle, the group has
  // only non-durable jobs or is large, the writer stops or is paused).
  bool TakeMoreWhileSyncing(std::deque<WriteJob>& group);
  void Fail(std::deque<WriteJob>& group, const std::string& error);
  // The sync thread: syncs the WAL, then finishes what waited for it.
  void SyncLoop();

  std::unique_ptr<Db> db_;  // used on the writer thread only
  std::unique_ptr<WalSync> wal_;  // used on the sync thread only
  std::function<void()> on_due_;
  std::function<void()> rolled_back_;  // SetRollbackListener

  mutable std::mutex mu_;
  // State below is protected by mu_.
  std::condition_variable work_;
  std::deque<WriteJob> queue_;
  bool stopping_ = false;
  bool writer_waiting_ = false;  // the writer thread waits for work (Submit wakes it)
  bool holding_ = false;  // ... with a group held open (the sync's end wakes it too)
  bool paused_ = false;
  bool fail_next_commit_ = false;
  std::string bg_error_;  // set once a commit or a sync failed; never cleared
  WriterStats stats_;
  std::condition_variable sync_work_;
  std::vector<Committed> to_sync_;  // committed, waiting for the next sync
  bool sync_stopping_ = false;
  bool syncing_ = false;  // the sync thread is syncing (it took to_sync_'s jobs)
  bool fail_next_sync_ = false;
  bool sync_held_for_test_ = false;
  std::string sync_error_;  // set once a sync failed: every later one fails too

  // Last: they start after the state above exists. The sync thread stops
  // after the writer thread (see ~Writer).
  std::thread sync_thread_;
  std::thread thread_;
};

}  // namespace punt::store::sqlite
