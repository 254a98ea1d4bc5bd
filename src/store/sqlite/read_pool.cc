#include "store/sqlite/read_pool.h"

#include <utility>

#include "store/sqlite/schema.h"
#include "util/log.h"

namespace punt::store::sqlite {

ReadPool::ReadPool(std::string path, size_t idle_limit)
    : path_(std::move(path)), idle_limit_(idle_limit) {}

ReadPool::Lease::~Lease() {
  if (db_ != nullptr && pool_ != nullptr) pool_->Release(std::move(db_));
}

ReadPool::Lease ReadPool::Acquire(std::string* error) {
  if (fail_for_test_) {
    *error = "reads made to fail by a test";
    return Lease(this, nullptr);
  }
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Db> db = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(db));
    }
  }
  std::unique_ptr<Db> db = Db::Open(path_, error);
  if (db != nullptr && !ConfigureConnection(*db, /*reader=*/true, error)) db.reset();
  if (db == nullptr) {
    LogError("cannot open a read connection to the database", {{"error", *error}});
  } else {
    db->set_log_errors(true);
  }
  return Lease(this, std::move(db));
}

void ReadPool::Release(std::unique_ptr<Db> db) {
  if (db->InTransaction()) db->Exec("ROLLBACK", nullptr);  // never keep a snapshot open
  std::lock_guard lock(mu_);
  if (idle_.size() < idle_limit_) idle_.push_back(std::move(db));
}

}  // namespace punt::store::sqlite
