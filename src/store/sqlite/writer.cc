#include "store/sqlite/writer.h"

#include <algorithm>
#include <future>
#include <memory>
#include <utility>
#include <vector>

#include "util/log.h"
#include "util/thread_name.h"

namespace punt::store::sqlite {
namespace {

// The most jobs a group takes in while it is held open for the sync thread:
// a stalled sync does not make one transaction grow without bound.
constexpr size_t kMaxHeldGroup = 1024;

// Runs one statement without parameters through the connection's statement
// cache: the writer's BEGIN, SAVEPOINT, RELEASE and COMMIT are not parsed
// again for every group and job.
bool Run(Db& db, std::string_view sql, std::string* error) {
  Query q = db.Prepare(sql);
  if (q.Run()) return true;
  if (error != nullptr) *error = q.error();
  return false;
}

}  // namespace

Writer::Writer(std::unique_ptr<Db> db, std::unique_ptr<WalSync> wal,
               std::function<void()> on_due)
    : db_(std::move(db)),
      wal_(std::move(wal)),
      on_due_(std::move(on_due)),
      sync_thread_([this] {
        NameThisThread("punt-wal-sync");
        SyncLoop();
      }),
      thread_([this] {
        NameThisThread("punt-writer");
        Loop();
      }) {}

Writer::~Writer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_.notify_one();
  thread_.join();  // every group committed, the durable ones handed to the sync thread
  {
    std::lock_guard lock(mu_);
    sync_stopping_ = true;
  }
  sync_work_.notify_one();
  sync_thread_.join();
}

void Writer::Submit(WriteJob job) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(job));
    // A busy writer takes the queue when its group is done: waking it would
    // only cost the caller a futex call.
    wake = writer_waiting_;
  }
  if (wake) work_.notify_one();
}

Status Writer::RunSync(std::function<Status(Db& db, bool* made_due)> run, bool durable,
                       bool urgent) {
  if (std::this_thread::get_id() == thread_.get_id() ||
      std::this_thread::get_id() == sync_thread_.get_id()) {
    return Status::Failed("a synchronous store write was called on the writer thread");
  }
  // Shared: the waiting caller may return while set_value is still finishing.
  auto promise = std::make_shared<std::promise<Status>>();
  std::future<Status> result = promise->get_future();
  Submit({std::move(run), [promise](const Status& status) { promise->set_value(status); }, durable,
          urgent && !durable});
  return result.get();
}

bool Writer::failed() const {
  std::lock_guard lock(mu_);
  return !bg_error_.empty();
}

std::string Writer::refusal() const {
  std::lock_guard lock(mu_);
  return bg_error_;
}

WriterStats Writer::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Writer::PauseForTest() {
  std::lock_guard lock(mu_);
  paused_ = true;
}

void Writer::ResumeForTest() {
  {
    std::lock_guard lock(mu_);
    paused_ = false;
  }
  work_.notify_one();
}

size_t Writer::QueuedForTest() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void Writer::FailNextCommitForTest() {
  std::lock_guard lock(mu_);
  fail_next_commit_ = true;
}

void Writer::HoldSyncForTest() {
  std::lock_guard lock(mu_);
  sync_held_for_test_ = true;
}

void Writer::ReleaseSyncForTest() {
  {
    std::lock_guard lock(mu_);
    sync_held_for_test_ = false;
  }
  sync_work_.notify_one();
}

bool Writer::SyncingForTest() const {
  std::lock_guard lock(mu_);
  return syncing_;
}

void Writer::FailNextSyncForTest() {
  std::lock_guard lock(mu_);
  fail_next_sync_ = true;
}

void Writer::Loop() {
  for (;;) {
    std::deque<WriteJob> group;
    {
      std::unique_lock lock(mu_);
      writer_waiting_ = true;
      work_.wait(lock, [this] { return stopping_ || (!paused_ && !queue_.empty()); });
      writer_waiting_ = false;
      if (queue_.empty()) return;  // stopping, and nothing left to do
      group.swap(queue_);
    }
    RunGroup(group);
  }
}

void Writer::RunGroup(std::deque<WriteJob>& group) {
  std::string bg_error;
  bool fail_commit = false;
  {
    std::lock_guard lock(mu_);
    bg_error = bg_error_;
    fail_commit = std::exchange(fail_next_commit_, false);
  }
  if (!bg_error.empty()) {
    Fail(group, "the store refuses writes after a failed commit: " + bg_error);
    return;
  }
  std::string error;
  if (!Run(*db_, "BEGIN IMMEDIATE", &error)) {  // nothing was written: no bg_error
    Fail(group, "cannot begin a transaction: " + error);
    return;
  }
  std::vector<Outcome> outcomes;
  outcomes.reserve(group.size());
  Pass pass = RunJobs(group, 0, /*savepoints=*/false, outcomes, &error);
  // While the sync thread is busy, the group stays open and takes in the
  // jobs that come meanwhile (see TakeMoreWhileSyncing).
  for (size_t ran = group.size(); pass == Pass::kDone && TakeMoreWhileSyncing(group);
       ran = group.size()) {
    pass = RunJobs(group, ran, /*savepoints=*/false, outcomes, &error);
  }
  if (pass == Pass::kJobFailed) {
    // Run the group again with a savepoint per job, so the failing job fails
    // alone. Every job can run again: it starts from what it captured.
    const bool rolled_back = Run(*db_, "ROLLBACK", &error);
    if (rolled_back_) rolled_back_();
    if (!rolled_back) {
      pass = Pass::kLost;
    } else if (!Run(*db_, "BEGIN IMMEDIATE", &error)) {
      Fail(group, "cannot begin a transaction: " + error);
      return;
    } else {
      {
        std::lock_guard lock(mu_);
        ++stats_.groups_run_again;
      }
      outcomes.clear();
      pass = RunJobs(group, 0, /*savepoints=*/true, outcomes, &error);
    }
  }
  bool committed = pass == Pass::kDone;
  if (committed && fail_commit) {
    committed = false;
    error = "injected commit failure";
  }
  if (committed) committed = Run(*db_, "COMMIT", &error);
  if (!committed) {
    if (db_->InTransaction()) db_->Exec("ROLLBACK", nullptr);
    if (rolled_back_) rolled_back_();
    bool first = false;
    {
      std::lock_guard lock(mu_);
      first = bg_error_.empty();
      bg_error_ = error;
    }
    if (first) {
      LogError("a commit failed: the store refuses every write until punt restarts",
               {{"error", error}});
    }
    Fail(group, "commit failed: " + error);
    return;
  }
  bool durable =
      std::any_of(group.begin(), group.end(), [](const WriteJob& job) { return job.durable; });
  {
    std::lock_guard lock(mu_);
    ++stats_.commits;
    if (durable) ++stats_.synced_commits;
    stats_.jobs += static_cast<int64_t>(group.size());
    stats_.largest_group = std::max(stats_.largest_group, static_cast<int64_t>(group.size()));
  }
  // The listener runs first: by the time a caller hears of its commit, the
  // dispatcher has heard of the deliveries it made due. It runs before the
  // sync: a delivery may go out before its event is durable, and a power
  // loss then can only make it go again (the event's POST was not answered).
  bool made_due = std::any_of(outcomes.begin(), outcomes.end(),
                              [](const Outcome& o) { return o.status.ok() && o.made_due; });
  if (made_due && on_due_) on_due_();
  if (!durable) {
    for (size_t i = 0; i < group.size(); ++i) group[i].finish(outcomes[i].status);
    return;
  }
  for (size_t i = 0; i < group.size(); ++i) {
    if (group[i].urgent) group[i].finish(outcomes[i].status);
  }
  {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < group.size(); ++i) {
      if (group[i].urgent) continue;
      to_sync_.push_back({std::move(group[i].finish), std::move(outcomes[i].status)});
    }
  }
  sync_work_.notify_one();
}

void Writer::SyncLoop() {
  for (;;) {
    std::vector<Committed> batch;
    bool fail = false;
    std::string error;
    {
      std::unique_lock lock(mu_);
      sync_work_.wait(lock, [this] { return sync_stopping_ || !to_sync_.empty(); });
      if (to_sync_.empty()) return;  // stopping, and everything synced
      batch.swap(to_sync_);
      syncing_ = true;
      // A test may hold the sync here, as a slow fdatasync would be.
      sync_work_.wait(lock, [this] { return !sync_held_for_test_ || sync_stopping_; });
      error = sync_error_;
      fail = std::exchange(fail_next_sync_, false) || !error.empty();
    }
    if (fail && error.empty()) error = "injected sync failure";
    if (!fail && !wal_->Sync(&error)) fail = true;
    bool wake_writer = false;
    bool first_failure = false;
    {
      std::lock_guard lock(mu_);
      syncing_ = false;
      wake_writer = holding_;
      if (fail) {
        // What the failed sync should have made durable may be lost, and a
        // later sync cannot tell: refuse every write from now on.
        first_failure = sync_error_.empty();
        sync_error_ = error;
        if (bg_error_.empty()) bg_error_ = error;
      } else {
        ++stats_.syncs;
      }
    }
    if (first_failure) {
      LogError("a sync of the WAL failed: the store refuses every write until punt restarts",
               {{"error", error}});
    }
    if (wake_writer) work_.notify_one();  // commit the group it held open
    for (Committed& job : batch) {
      job.finish(fail ? Status::Failed("commit not made durable: " + error) : job.status);
    }
  }
}

bool Writer::TakeMoreWhileSyncing(std::deque<WriteJob>& group) {
  // Only non-durable jobs: they are finished at their commit, not held. An
  // urgent job's caller waits for its commit.
  if (std::none_of(group.begin(), group.end(), [](const WriteJob& job) { return job.durable; }) ||
      std::any_of(group.begin(), group.end(), [](const WriteJob& job) { return job.urgent; })) {
    return false;
  }
  std::unique_lock lock(mu_);
  for (;;) {
    if (stopping_ || paused_ || group.size() >= kMaxHeldGroup) return false;
    if (!syncing_ && to_sync_.empty()) return false;  // nothing to wait for: commit now
    if (!queue_.empty()) {
      while (!queue_.empty() && group.size() < kMaxHeldGroup) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      return true;
    }
    writer_waiting_ = true;
    holding_ = true;
    work_.wait(lock);
    writer_waiting_ = false;
    holding_ = false;
  }
}

Writer::Pass Writer::RunJobs(std::deque<WriteJob>& group, size_t from, bool savepoints,
                             std::vector<Outcome>& outcomes, std::string* error) {
  for (size_t i = from; i < group.size(); ++i) {
    WriteJob& job = group[i];
    if (savepoints && !Run(*db_, "SAVEPOINT job", error)) return Pass::kLost;
    Outcome outcome;
    outcome.status = job.run(*db_, &outcome.made_due);
    if (!db_->InTransaction()) {  // SQLite rolled back everything (e.g. disk full)
      *error = "the transaction was rolled back: " + outcome.status.message;
      return Pass::kLost;
    }
    if (!outcome.status.ok()) {
      if (!savepoints) return Pass::kJobFailed;
      if (!Run(*db_, "ROLLBACK TO job", error)) return Pass::kLost;
    }
    if (savepoints && !Run(*db_, "RELEASE job", error)) return Pass::kLost;
    outcomes.push_back(std::move(outcome));
  }
  return Pass::kDone;
}

void Writer::Fail(std::deque<WriteJob>& group, const std::string& error) {
  for (WriteJob& job : group) job.finish(Status::Failed(error));
}

}  // namespace punt::store::sqlite
