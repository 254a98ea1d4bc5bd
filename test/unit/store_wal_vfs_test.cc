// The WAL-gathering VFS under Db: a commit's frames reach the file in one
// write, before COMMIT returns, and large or spilling transactions still work;
// a checkpoint reads the WAL from memory and writes runs of pages, and a
// checkpoint whose last write fails breaks the database rather than let a
// reader see pages that are not there.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "log_capture.h"
#include "store/sqlite/db.h"
#include "store/sqlite/wal_gathering_vfs.h"

namespace punt::store::sqlite {
namespace {

namespace fs = std::filesystem;

// Replaces system calls of SQLite's unix VFS while it lives (through the
// VFS's hooks; a call this build of SQLite does not use is left alone).
class UnixCallHooks {
 public:
  UnixCallHooks() : unix_(sqlite3_vfs_find("unix")) {}
  ~UnixCallHooks() {
    for (const char* name : hooked_) unix_->xSetSystemCall(unix_, name, nullptr);  // the default
  }
  UnixCallHooks(const UnixCallHooks&) = delete;
  UnixCallHooks& operator=(const UnixCallHooks&) = delete;

  // `*original` becomes the call replaced, for the replacement to call.
  void Hook(const char* name, sqlite3_syscall_ptr* original, sqlite3_syscall_ptr replacement) {
    *original = unix_->xGetSystemCall(unix_, name);
    if (*original == nullptr) return;
    unix_->xSetSystemCall(unix_, name, replacement);
    hooked_.push_back(name);
  }

 private:
  sqlite3_vfs* unix_;
  std::vector<const char*> hooked_;
};

template <typename F>
sqlite3_syscall_ptr AsSyscall(F* f) {
  return reinterpret_cast<sqlite3_syscall_ptr>(f);
}

// Counts the write calls the unix VFS makes.
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
  WriteCounter() {
    hooks_.Hook("pwrite", &g_pwrite, AsSyscall(CountingPwrite));
    hooks_.Hook("pwrite64", &g_pwrite64, AsSyscall(CountingPwrite64));
    hooks_.Hook("write", &g_write, AsSyscall(CountingWrite));
  }
  int writes() const { return g_writes.load(); }

 private:
  UnixCallHooks hooks_;
};

// Counts the read calls the unix VFS makes.
std::atomic<int> g_reads{0};
sqlite3_syscall_ptr g_pread = nullptr;
sqlite3_syscall_ptr g_pread64 = nullptr;
sqlite3_syscall_ptr g_read = nullptr;

ssize_t CountingPread(int fd, void* buf, size_t n, off_t offset) {
  ++g_reads;
  return reinterpret_cast<ssize_t (*)(int, void*, size_t, off_t)>(g_pread)(fd, buf, n, offset);
}
ssize_t CountingPread64(int fd, void* buf, size_t n, off64_t offset) {
  ++g_reads;
  return reinterpret_cast<ssize_t (*)(int, void*, size_t, off64_t)>(g_pread64)(fd, buf, n, offset);
}
ssize_t CountingRead(int fd, void* buf, size_t n) {
  ++g_reads;
  return reinterpret_cast<ssize_t (*)(int, void*, size_t)>(g_read)(fd, buf, n);
}

class ReadCounter {
 public:
  ReadCounter() {
    hooks_.Hook("pread", &g_pread, AsSyscall(CountingPread));
    hooks_.Hook("pread64", &g_pread64, AsSyscall(CountingPread64));
    hooks_.Hook("read", &g_read, AsSyscall(CountingRead));
  }
  int reads() const { return g_reads.load(); }

 private:
  UnixCallHooks hooks_;
};

// Fails every write call of exactly one page (4 KiB) while armed: the WAL is
// written in gathered runs of several frames, so only a run holding a single
// page is refused. Or, armed for every write, every write call.
std::atomic<bool> g_fail_page_writes{false};
std::atomic<bool> g_fail_all_writes{false};
sqlite3_syscall_ptr g_real_pwrite = nullptr;
sqlite3_syscall_ptr g_real_pwrite64 = nullptr;

bool FailThisWrite(size_t n) { return g_fail_all_writes || (g_fail_page_writes && n == 4096); }

ssize_t FailingPwrite(int fd, const void* buf, size_t n, off_t offset) {
  if (FailThisWrite(n)) {
    errno = EIO;
    return -1;
  }
  return reinterpret_cast<ssize_t (*)(int, const void*, size_t, off_t)>(g_real_pwrite)(fd, buf, n,
                                                                                       offset);
}
ssize_t FailingPwrite64(int fd, const void* buf, size_t n, off64_t offset) {
  if (FailThisWrite(n)) {
    errno = EIO;
    return -1;
  }
  return reinterpret_cast<ssize_t (*)(int, const void*, size_t, off64_t)>(g_real_pwrite64)(
      fd, buf, n, offset);
}

class PageWriteFailer {
 public:
  PageWriteFailer() {
    hooks_.Hook("pwrite", &g_real_pwrite, AsSyscall(FailingPwrite));
    hooks_.Hook("pwrite64", &g_real_pwrite64, AsSyscall(FailingPwrite64));
  }
  ~PageWriteFailer() {
    g_fail_page_writes = false;
    g_fail_all_writes = false;
  }
  void Arm(bool on) { g_fail_page_writes = on; }
  void ArmForEveryWrite(bool on) { g_fail_all_writes = on; }

 private:
  UnixCallHooks hooks_;
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

  // A copy of the database file alone, opened: what a checkpoint wrote there.
  std::unique_ptr<Db> OpenCopyOfDatabaseFile(const std::string& name) {
    fs::path copy = dir_ / name;
    fs::create_directories(copy);
    fs::copy_file(Path(), copy / "test.db");
    std::string error;
    auto db = Db::Open((copy / "test.db").string(), &error);
    EXPECT_TRUE(db) << error;
    return db;
  }

  static std::string IntegrityCheck(Db& db) {
    Query check = db.Prepare("PRAGMA integrity_check");
    if (!check.Step()) return check.error();
    return check.Text(0);
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

// A checkpoint copies each page's newest frame into the database file in
// page order: it reads the frames from a map of the WAL (no read call a page)
// and writes runs of adjacent pages with one call each.
TEST_F(WalGatheringVfsTest, ACheckpointReadsTheWalFromMemoryAndWritesRunsOfPages) {
  std::string error;
  ASSERT_TRUE(db_->Exec("PRAGMA wal_autocheckpoint = 0", &error)) << error;
  Insert(1, 10);
  ASSERT_TRUE(db_->Exec("PRAGMA wal_checkpoint(TRUNCATE)", &error)) << error;
  // One row a page: 200 new pages, adjacent in the database file.
  for (int i = 0; i < 4; ++i) Insert(50, 3000);
  int reads = 0;
  int writes = 0;
  {
    ReadCounter read_counter;
    WriteCounter write_counter;
    const int reads_before = read_counter.reads();
    const int writes_before = write_counter.writes();
    Query q = db_->Prepare("PRAGMA wal_checkpoint(TRUNCATE)");
    ASSERT_TRUE(q.Step()) << q.error();
    ASSERT_EQ(q.Int(0), 0) << "the checkpoint was not complete";
    reads = read_counter.reads() - reads_before;
    writes = write_counter.writes() - writes_before;
  }
  EXPECT_LE(reads, 2) << "the WAL's frames were read one call each";
  EXPECT_GT(writes, 0);
  EXPECT_LE(writes, 20) << "200 adjacent pages were not written in runs";
  // The database file alone holds every row.
  auto copy = OpenCopyOfDatabaseFile("copy");
  ASSERT_TRUE(copy);
  EXPECT_EQ(IntegrityCheck(*copy), "ok");
  EXPECT_EQ(CountRows(*copy), 201);
  EXPECT_EQ(rows_bytes_, 10 + 200 * 3000);
}

// Checkpoints of a WAL that grew between them (the map grows with it), with
// a reader holding an older snapshot so that some copy only part of it.
TEST_F(WalGatheringVfsTest, PartialCheckpointsAndAGrowingWalKeepEveryRow) {
  std::string error;
  ASSERT_TRUE(db_->Exec("PRAGMA wal_autocheckpoint = 0", &error)) << error;
  auto reader = Db::Open(Path(), &error);
  ASSERT_TRUE(reader) << error;
  int rows = 0;
  for (int round = 1; round <= 6; ++round) {
    Insert(40 * round, 1500);
    rows += 40 * round;
    // The reader's snapshot stops this round's checkpoint before the rows
    // inserted next.
    ASSERT_TRUE(reader->Exec("BEGIN", &error)) << error;
    EXPECT_EQ(CountRows(*reader), rows);
    Insert(25, 1500);
    rows += 25;
    ASSERT_TRUE(db_->Exec("PRAGMA wal_checkpoint(PASSIVE)", &error)) << error;
    ASSERT_TRUE(reader->Exec("COMMIT", &error)) << error;
    EXPECT_EQ(CountRows(*reader), rows);
  }
  ASSERT_TRUE(db_->Exec("PRAGMA wal_checkpoint(TRUNCATE)", &error)) << error;
  auto copy = OpenCopyOfDatabaseFile("copy");
  ASSERT_TRUE(copy);
  EXPECT_EQ(IntegrityCheck(*copy), "ok");
  EXPECT_EQ(CountRows(*copy), rows);
}

// The last run of a checkpoint is written at its end, whose result SQLite
// does not look at; when the checkpoint copied only part of the WAL (a reader
// holds an older snapshot), SQLite then publishes the copy as done, and new
// readers would read those pages from the database file, where they are not.
// So such a failure fails every later read and write of the database, and
// reopening it once every connection closed recovers every row from the WAL.
TEST_F(WalGatheringVfsTest, AFailedLastCheckpointWriteFailsEveryReadUntilReopened) {
  std::string error;
  ASSERT_TRUE(db_->Exec("PRAGMA wal_autocheckpoint = 0", &error)) << error;
  ASSERT_TRUE(db_->Exec("PRAGMA wal_checkpoint(TRUNCATE)", &error)) << error;
  Insert(10, 3000);  // pages 1 to 12: one run, written at the checkpoint's end
  auto old_reader = Db::Open(Path(), &error);
  ASSERT_TRUE(old_reader) << error;
  ASSERT_TRUE(old_reader->Exec("BEGIN", &error)) << error;
  ASSERT_EQ(CountRows(*old_reader), 10);
  Insert(1, 3000);  // past the old reader's snapshot: this checkpoint is partial
  auto new_reader = Db::Open(Path(), &error);  // reads after the checkpoint
  ASSERT_TRUE(new_reader) << error;
  {
    LogCapture log;
    PageWriteFailer failer;
    failer.ArmForEveryWrite(true);
    db_->Exec("PRAGMA wal_checkpoint(PASSIVE)", nullptr);
    failer.ArmForEveryWrite(false);
    EXPECT_EQ(log.With("a checkpoint could not write the database file").size(), 1u);
  }
  ASSERT_TRUE(old_reader->Exec("COMMIT", &error)) << error;
  // A new read would take the first 10 rows' pages from the database file.
  // It fails, or it reads every row: never pages that were not written.
  Query q = new_reader->Prepare("SELECT count(*), sum(length(body)) FROM t");
  if (q.Step()) {
    EXPECT_EQ(q.Int(0), 11);
    EXPECT_EQ(q.Int(1), 11 * 3000);
  } else {
    EXPECT_EQ(q.rc() & 0xff, SQLITE_IOERR) << q.error();
  }
  EXPECT_FALSE(db_->Exec("INSERT INTO t (body) VALUES ('x')", &error));
  std::string opening_error;
  EXPECT_FALSE(Db::Open(Path(), &opening_error)) << "a new connection opened it";
  // Every connection closes; the database opens again with every row.
  new_reader.reset();
  old_reader.reset();
  db_.reset();
  auto reopened = Db::Open(Path(), &error);
  ASSERT_TRUE(reopened) << error;
  EXPECT_EQ(IntegrityCheck(*reopened), "ok");
  EXPECT_EQ(CountRows(*reopened), 11);
  EXPECT_EQ(rows_bytes_, 11 * 3000);
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
