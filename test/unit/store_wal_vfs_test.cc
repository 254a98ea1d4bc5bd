// The WAL-gathering VFS under Db: a commit's frames reach the file in one
// write, before COMMIT returns, and large or spilling transactions still work.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <memory>
#include <string>

#include "store/sqlite/db.h"
#include "store/sqlite/wal_gathering_vfs.h"

namespace punt::store::sqlite {
namespace {

namespace fs = std::filesystem;

// Counts the write calls the unix VFS makes, through its system-call hooks
// (whichever of them this build of SQLite uses).
std::atomic<int> g_writes{0};
sqlite3_syscall_ptr g_pwrite = nullptr;
sqlite3_syscall_ptr g_pwrite64 = nullptr;
sqlite3_syscall_ptr g_write = nullptr;

ssize_t CountingPwrite(int fd, const void* buf, size_t n, off_t offset) {
  ++g_writes;
  return reinterpret_cast<ssize_t (*)(int, const void*, size_t, off_t)>(g_pwrite)(fd, buf, n,
                                                                                  offset);
}
ssize_t CountingPwrite64(int fd, const void* buf, size_t n, off64_t offset) {
  ++g_writes;
  return reinterpret_cast<ssize_t (*)(int, const void*, size_t, off64_t)>(g_pwrite64)(
      fd, buf, n, offset);
}
ssize_t CountingWrite(int fd, const void* buf, size_t n) {
  ++g_writes;
  return reinterpret_cast<ssize_t (*)(int, const void*, size_t)>(g_write)(fd, buf, n);
}

class WriteCounter {
 public:
  WriteCounter() : unix_(sqlite3_vfs_find("unix")) {
    Hook("pwrite", &g_pwrite, reinterpret_cast<sqlite3_syscall_ptr>(CountingPwrite));
    Hook("pwrite64", &g_pwrite64, reinterpret_cast<sqlite3_syscall_ptr>(CountingPwrite64));
    Hook("write", &g_write, reinterpret_cast<sqlite3_syscall_ptr>(CountingWrite));
  }
  ~WriteCounter() {
    unix_->xSetSystemCall(unix_, "pwrite", nullptr);  // null restores the default
    unix_->xSetSystemCall(unix_, "pwrite64", nullptr);
    unix_->xSetSystemCall(unix_, "write", nullptr);
  }
  int writes() const { return g_writes.load(); }

 private:
  void Hook(const char* name, sqlite3_syscall_ptr* original, sqlite3_syscall_ptr counting) {
    *original = unix_->xGetSystemCall(unix_, name);
    if (*original != nullptr) unix_->xSetSystemCall(unix_, name, counting);
  }
  sqlite3_vfs* unix_;
};

// Fails every write call of exactly one page (4 KiB) while armed: the WAL is
// written in gathered runs of several frames, so only a run holding a single
// page is refused.
std::atomic<bool> g_fail_page_writes{false};
sqlite3_syscall_ptr g_real_pwrite = nullptr;
sqlite3_syscall_ptr g_real_pwrite64 = nullptr;

ssize_t FailingPwrite(int fd, const void* buf, size_t n, off_t offset) {
  if (g_fail_page_writes && n == 4096) {
    errno = EIO;
    return -1;
  }
  return reinterpret_cast<ssize_t (*)(int, const void*, size_t, off_t)>(g_real_pwrite)(fd, buf, n,
                                                                                       offset);
}
ssize_t FailingPwrite64(int fd, const void* buf, size_t n, off64_t offset) {
  if (g_fail_page_writes && n == 4096) {
    errno = EIO;
    return -1;
  }
  return reinterpret_cast<ssize_t (*)(int, const void*, size_t, off64_t)>(g_real_pwrite64)(
      fd, buf, n, offset);
}

class PageWriteFailer {
 public:
  PageWriteFailer() : unix_(sqlite3_vfs_find("unix")) {
    g_real_pwrite = unix_->xGetSystemCall(unix_, "pwrite");
    g_real_pwrite64 = unix_->xGetSystemCall(unix_, "pwrite64");
    if (g_real_pwrite != nullptr) {
      unix_->xSetSystemCall(unix_, "pwrite", reinterpret_cast<sqlite3_syscall_ptr>(FailingPwrite));
    }
    if (g_real_pwrite64 != nullptr) {
      unix_->xSetSystemCall(unix_, "pwrite64",
                            reinterpret_cast<sqlite3_syscall_ptr>(FailingPwrite64));
    }
  }
  ~PageWriteFailer() {
    g_fail_page_writes = false;
    unix_->xSetSystemCall(unix_, "pwrite", nullptr);
    unix_->xSetSystemCall(unix_, "pwrite64", nullptr);
  }
  void Arm(bool on) { g_fail_page_writes = on; }

 private:
  sqlite3_vfs* unix_;
};

class WalGatheringVfsTest : public testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("punt_wal_vfs_" + std::string(info->name()) + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::string error;
    db_ = Db::Open(Path(), &error);
    ASSERT_TRUE(db_) << error;
    ASSERT_TRUE(db_->Exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                          "CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL);",
                          &error))
        << error;
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }
  std::string Path() const { return (dir_ / "test.db").string(); }

  // Inserts `rows` rows of `bytes` bytes each in one transaction.
  void Insert(int rows, size_t bytes) {
    std::string error;
    ASSERT_TRUE(db_->Exec("BEGIN", &error)) << error;
    for (int i = 0; i < rows; ++i) {
      Query q = db_->Prepare("INSERT INTO t (body) VALUES (?1)");
      ASSERT_TRUE(q.BindBlob(1, std::string(bytes, static_cast<char>('a' + i % 26))).Run())
          << q.error();
    }
    ASSERT_TRUE(db_->Exec("COMMIT", &error)) << error;
  }

  int64_t CountRows(Db& db) {
    Query q = db.Prepare("SELECT count(*), coalesce(sum(length(body)), 0) FROM t");
    EXPECT_TRUE(q.Step()) << q.error();
    rows_bytes_ = q.Int(1);
    return q.Int(0);
  }

  fs::path dir_;
  std::unique_ptr<Db> db_;
  int64_t rows_bytes_ = 0;
};

TEST_F(WalGatheringVfsTest, IsRegistered) {
  const char* name = WalGatheringVfsName();
  ASSERT_NE(name, nullptr);
  EXPECT_NE(sqlite3_vfs_find(name), nullptr);
  EXPECT_NE(sqlite3_vfs_find(nullptr), sqlite3_vfs_find(name)) << "it must not be the default";
}

TEST_F(WalGatheringVfsTest, WritesACommitOfManyPagesWithOneCall) {
  Insert(1, 10);  // the WAL exists and has its header
  WriteCounter counter;
  Insert(20, 3000);  // about 20 leaf pages and their parents: 40+ writes unwrapped
  EXPECT_EQ(counter.writes(), 1);
}

// What COMMIT returned as committed is in the WAL file, not in a buffer: a
// copy of the files taken now, before the connection closes, holds it.
TEST_F(WalGatheringVfsTest, ACommitIsInTheFileWhenCommitReturns) {
  Insert(50, 1000);
  fs::path copy = dir_ / "copy";
  fs::create_directories(copy);
  fs::copy_file(Path(), copy / "test.db");
  fs::copy_file(Path() + "-wal", copy / "test.db-wal");
  std::string error;
  auto db = Db::Open((copy / "test.db").string(), &error);
  ASSERT_TRUE(db) << error;
  EXPECT_EQ(CountRows(*db), 50);
  EXPECT_EQ(rows_bytes_, 50 * 1000);
}

// Larger than one gathered write (SQLite's unix VFS takes under 128 KiB a
// call), and with a page cache so small that pages spill into the WAL and are
// read back before the commit.
TEST_F(WalGatheringVfsTest, LargeAndSpillingTransactionsCommit) {
  std::string error;
  ASSERT_TRUE(db_->Exec("PRAGMA cache_size = 10", &error)) << error;
  Insert(3000, 1000);
  ASSERT_TRUE(db_->Exec("UPDATE t SET body = upper(body) WHERE id % 3 = 0", &error)) << error;
  EXPECT_EQ(CountRows(*db_), 3000);
  EXPECT_EQ(rows_bytes_, 3000 * 1000);
  auto other = Db::Open(Path(), &error);
  ASSERT_TRUE(other) << error;
  Query q = other->Prepare("SELECT count(*) FROM t WHERE body = upper(body)");
  ASSERT_TRUE(q.Step()) << q.error();
  EXPECT_EQ(q.Int(0), 1000);
}

// Checkpoints read the WAL and copy it into the database; the WAL then
// starts over from its beginning, overwriting old frames.
TEST_F(WalGatheringVfsTest, SurvivesCheckpointsAndWalRestarts) {
  std::string error;
  ASSERT_TRUE(db_->Exec("PRAGMA wal_autocheckpoint = 20", &error)) << error;
  for (int i = 0; i < 40; ++i) Insert(10, 2000);
  ASSERT_TRUE(db_->Exec("PRAGMA wal_checkpoint(TRUNCATE)", &error)) << error;
  Insert(10, 2000);
  db_.reset();
  auto db = Db::Open(Path(), &error);
  ASSERT_TRUE(db) << error;
  EXPECT_EQ(CountRows(*db), 410);
  Query check = db->Prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check.Step()) << check.error();
  EXPECT_EQ(check.Text(0), "ok");
}

// A commit whose frames fill a gathered run so that its commit frame's page
// starts a new one: that page must still be written before COMMIT returns, so
// a failed write fails the COMMIT. It was left for the shared-memory barrier,
// whose failure COMMIT does not see: COMMIT returned OK, the sync that follows
// it syncs another descriptor, and the commit was gone after a restart.
TEST_F(WalGatheringVfsTest, AFailedWriteOfTheCommitFrameFailsTheCommit) {
  std::string error;
  // One row per page: updating n rows changes exactly n pages.
  for (int i = 0; i < 80; ++i) Insert(1, 3000);
  ASSERT_TRUE(db_->Exec("PRAGMA wal_checkpoint(TRUNCATE)", &error)) << error;
  PageWriteFailer failer;
  for (int pages = 20; pages <= 40; ++pages) {
    SCOPED_TRACE("a commit of " + std::to_string(pages) + " pages");
    std::string sql = "UPDATE t SET body = upper(body) WHERE id <= " + std::to_string(pages);
    failer.Arm(true);
    bool committed = db_->Exec(sql, &error);
    failer.Arm(false);
    if (!committed) return;  // the failed write reached COMMIT
    // COMMIT said the pages are in the WAL: a copy of the files, opened as
    // after a restart, has them.
    {
      fs::path copy = dir_ / ("copy" + std::to_string(pages));
      fs::create_directories(copy);
      fs::copy_file(Path(), copy / "test.db");
      fs::copy_file(Path() + "-wal", copy / "test.db-wal");
      auto restarted = Db::Open((copy / "test.db").string(), &error);
      ASSERT_TRUE(restarted) << error;
      Query q = restarted->Prepare("SELECT count(*) FROM t WHERE body = upper(body)");
      ASSERT_TRUE(q.Step()) << q.error();
      ASSERT_EQ(q.Int(0), pages) << "COMMIT returned OK, but the commit is not in the WAL";
    }
    ASSERT_TRUE(db_->Exec("UPDATE t SET body = lower(body)", &error)) << error;
  }
  ADD_FAILURE() << "no commit saw its failed page write";
}

}  // namespace
}  // namespace punt::store::sqlite
