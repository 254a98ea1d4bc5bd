// Makes the write-ahead log durable from outside SQLite.
//
// The writer commits with synchronous=NORMAL, so COMMIT only write()s the
// WAL's frames, and the writer's sync thread then calls Sync before it tells
// anyone that a durable job is done. One fdatasync covers every commit
// written before it (the WAL is appended in order, and recovery stops at the
// first frame that does not check out), so the writer can run the next group
// while the last one is being synced, and one sync can cover several
// commits. SQLite still syncs the WAL itself before every checkpoint.
//
// Thread-safety: Sync may be called from any one thread at a time.
#pragma once

#include <memory>
#include <string>

namespace punt::store::sqlite {

class WalSync {
 public:
  // Opens the WAL of the database at `db_path` (it must exist: the database
  // is open in WAL mode) and makes the file itself durable (a sync of the
  // file and of its directory). Null with `*error` set on failure.
  static std::unique_ptr<WalSync> Open(const std::string& db_path, std::string* error);

  WalSync(const WalSync&) = delete;
  WalSync& operator=(const WalSync&) = delete;
  ~WalSync();

  // fdatasync of the WAL: every commit written before the call is durable
  // when it returns true.
  bool Sync(std::string* error);

 private:
  explicit WalSync(int fd) : fd_(fd) {}

  int fd_;
};

}  // namespace punt::store::sqlite
