// Read connections for the store's readers, so reads never wait for the
// writer (WAL lets them see the last commit while a write is under way).
//
// Thread-safety: Acquire may be called from any thread; a Lease is used by
// one thread.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/sqlite/db.h"

namespace punt::store::sqlite {

class ReadPool {
 public:
  // Keeps up to `idle_limit` idle connections to the database at `path`.
  ReadPool(std::string path, size_t idle_limit);

  class Lease {
   public:
    Lease(ReadPool* pool, std::unique_ptr<Db> db) : pool_(pool), db_(std::move(db)) {}
    Lease(Lease&&) = default;
    ~Lease();
    explicit operator bool() const { return db_ != nullptr; }
    Db& operator*() const { return *db_; }
    Db* operator->() const { return db_.get(); }

   private:
    ReadPool* pool_;
    std::unique_ptr<Db> db_;
  };

  // An idle connection, or a new one; an empty Lease with `*error` set when
  // a connection cannot be opened.
  Lease Acquire(std::string* error);

  // While set, Acquire fails as if no connection could be opened.
  void FailForTest(bool fail) { fail_for_test_ = fail; }

 private:
  void Release(std::unique_ptr<Db> db);

  const std::string path_;
  const size_t idle_limit_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Db>> idle_;  // protected by mu_
  std::atomic<bool> fail_for_test_{false};
};

}  // namespace punt::store::sqlite
