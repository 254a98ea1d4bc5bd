#include "store/sqlite/wal_gathering_vfs.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>

#include "util/log.h"

namespace punt::store::sqlite {
namespace {

constexpr char kName[] = "punt-wal-gathering";
constexpr size_t kFrameHeaderBytes = 24;
// The unix VFS writes at most 128 KiB - 1 bytes a call (it masks the length
// to 17 bits), so a gathered write stays below that.
constexpr size_t kMaxGathered = 120 << 10;
// A checkpoint reads a WAL up to this size through a memory map of it;
// beyond, through read calls.
constexpr sqlite3_int64 kMaxMappedWal = sqlite3_int64{64} << 20;
constexpr size_t kMapGrain = size_t{1} << 20;

// What every connection's files of one database share. `broken` is set when a
// checkpoint's last gathered pages could not be written: SQLite may already
// have published them as copied, so the database file is not what the WAL says
// it is, and every read and write of it fails from then on. The WAL keeps
// every frame (nothing restarts it while writes fail), so reopening the
// database after every connection closed recovers it.
struct Database {
  std::atomic<bool> broken{false};
  int open_files = 0;  // guarded by DatabasesMutex()
};

std::mutex& DatabasesMutex() {
  static std::mutex mu;
  return mu;
}

// By the database's full path. Node-based: a Database stays where it is.
std::unordered_map<std::string, Database>& Databases() {
  static auto* databases = new std::unordered_map<std::string, Database>();
  return *databases;
}

Database* AcquireDatabase(const std::string& path) {
  std::lock_guard lock(DatabasesMutex());
  Database& database = Databases()[path];
  ++database.open_files;
  return &database;
}

void ReleaseDatabase(const std::string& path) {
  std::lock_guard lock(DatabasesMutex());
  auto it = Databases().find(path);
  if (it != Databases().end() && --it->second.open_files == 0) Databases().erase(it);
}

// Our part of every file this VFS opens. The wrapped VFS's own file object
// follows it in the same allocation (SQLite allocates szOsFile bytes).
struct File {
  sqlite3_file base;  // First: SQLite sees a File as a sqlite3_file.
  sqlite3_file* real;
  bool wal;
  std::string database_path;     // Empty for temporary files.
  Database* database = nullptr;  // Null for temporary files.
  // Writes gathered (a WAL's appends; a checkpoint's pages of a database).
  std::string gathered;        // Bytes not yet written, for offsets [start, start + size).
  sqlite3_int64 start = 0;
  int deferred_error = SQLITE_OK;  // A write-out from the barrier failed.
  // WAL files only.
  File* db;                   // The database file of the same connection, if found.
  bool commit_frame = false;  // The last write was the header of a commit frame.
  std::string path;           // The WAL's own path, to map it.
  int map_fd = -1;            // Opened on the first checkpoint.
  char* map = nullptr;        // The WAL mapped read-only, map_len bytes.
  size_t map_len = 0;
  sqlite3_int64 mapped_readable = 0;  // During a checkpoint: reads below it use the map.
  // Database files only.
  File* wal_file = nullptr;    // The connection's WAL file, while it is open.
  bool checkpointing = false;  // Between a checkpoint's start and its end.
};

bool Broken(const File* f) {
  return f->database != nullptr && f->database->broken.load(std::memory_order_acquire);
}

sqlite3_vfs* Real(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }
File* Self(sqlite3_file* file) { return reinterpret_cast<File*>(file); }
sqlite3_file* RealOf(sqlite3_file* file) { return Self(file)->real; }

// Writes out what is gathered. The buffer is emptied even on failure: its
// bytes were handed to SQLite's caller as written, and the error goes back
// in their place.
int WriteOut(File* f) {
  if (f->gathered.empty()) return SQLITE_OK;
  int rc = f->real->pMethods->xWrite(f->real, f->gathered.data(),
                                     static_cast<int>(f->gathered.size()), f->start);
  f->gathered.clear();
  f->commit_frame = false;
  return rc;
}

// WriteOut, and any error a barrier could not report.
int Settle(File* f) {
  int rc = WriteOut(f);
  if (rc == SQLITE_OK && f->deferred_error != SQLITE_OK) {
    rc = f->deferred_error;
    f->deferred_error = SQLITE_OK;
  }
  return rc;
}

uint32_t BigEndian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

int Close(sqlite3_file* file) {
  File* f = Self(file);
  int rc = Broken(f) ? SQLITE_OK : Settle(f);
  if (f->wal && f->db != nullptr && f->db->wal_file == f) f->db->wal_file = nullptr;
  if (!f->wal && f->wal_file != nullptr) f->wal_file->db = nullptr;
  if (f->map != nullptr) ::munmap(f->map, f->map_len);
  if (f->map_fd >= 0) ::close(f->map_fd);
  int closed = f->real->pMethods->xClose(f->real);
  if (f->database != nullptr) ReleaseDatabase(f->database_path);
  f->~File();
  return rc != SQLITE_OK ? rc : closed;
}

// Maps the WAL for the checkpoint about to read it: its frames are then
// copied from memory rather than with a read call each. The map is kept
// between checkpoints (the WAL is rewritten in place from its start) and
// grown when the WAL has grown. Reads are served from it only below the
// WAL's size at the checkpoint's start, and only until the checkpoint ends:
// nothing truncates the WAL while a checkpoint copies it. Without a map
// (the WAL is very large, or mapping failed) reads go to the file.
void MapForCheckpoint(File* wal) {
  wal->mapped_readable = 0;
  if (!wal->gathered.empty() || wal->deferred_error != SQLITE_OK) return;  // read by Read
  sqlite3_int64 size = 0;
  if (wal->real->pMethods->xFileSize(wal->real, &size) != SQLITE_OK || size <= 0 ||
      size > kMaxMappedWal) {
    return;
  }
  if (static_cast<size_t>(size) > wal->map_len) {
    if (wal->map_fd < 0) wal->map_fd = ::open(wal->path.c_str(), O_RDONLY | O_CLOEXEC);
    if (wal->map_fd < 0) return;
    if (wal->map != nullptr) ::munmap(wal->map, wal->map_len);
    wal->map = nullptr;
    wal->map_len = 0;
    const size_t len = (static_cast<size_t>(size) + kMapGrain - 1) & ~(kMapGrain - 1);
    void* map = ::mmap(nullptr, len, PROT_READ, MAP_SHARED, wal->map_fd, 0);
    if (map == MAP_FAILED) return;
    wal->map = static_cast<char*>(map);
    wal->map_len = len;
  }
  wal->mapped_readable = size;
}

int Read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  File* f = Self(file);
  if (Broken(f)) return SQLITE_IOERR_READ;
  if (int rc = Settle(f); rc != SQLITE_OK) return rc;
  if (offset >= 0 && amount >= 0 && offset + amount <= f->mapped_readable) {
    std::memcpy(out, f->map + offset, static_cast<size_t>(amount));
    return SQLITE_OK;
  }
  return f->real->pMethods->xRead(f->real, out, amount, offset);
}

int Write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  File* f = Self(file);
  if (Broken(f)) return SQLITE_IOERR_WRITE;
  if (!f->wal && !f->checkpointing) return f->real->pMethods->xWrite(f->real, data, amount, offset);
  if (f->deferred_error != SQLITE_OK) return Settle(f);
  const auto n = static_cast<size_t>(amount);
  // Taken before a write-out below clears it: the page of a commit frame
  // whose header was just written out must still be written before COMMIT
  // returns, not left for the barrier, whose failure COMMIT never sees.
  const bool completes_commit = f->commit_frame;
  bool follows = !f->gathered.empty() &&
                 offset == f->start + static_cast<sqlite3_int64>(f->gathered.size());
  if (!follows || f->gathered.size() + n > kMaxGathered) {
    if (int rc = WriteOut(f); rc != SQLITE_OK) return rc;
  }
  if (n > kMaxGathered) return f->real->pMethods->xWrite(f->real, data, amount, offset);
  if (f->gathered.empty()) f->start = offset;
  f->gathered.append(static_cast<const char*>(data), n);
  f->commit_frame = false;
  if (f->wal && n == kFrameHeaderBytes) {
    f->commit_frame = BigEndian32(static_cast<const unsigned char*>(data) + 4) != 0;
  }
  if (completes_commit || f->gathered.size() >= kMaxGathered) return WriteOut(f);
  return SQLITE_OK;
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  File* f = Self(file);
  if (Broken(f)) return SQLITE_IOERR_TRUNCATE;
  if (int rc = Settle(f); rc != SQLITE_OK) return rc;
  if (f->mapped_readable > size) f->mapped_readable = size;
  return f->real->pMethods->xTruncate(f->real, size);
}

int Sync(sqlite3_file* file, int flags) {
  File* f = Self(file);
  if (Broken(f)) return SQLITE_IOERR_FSYNC;
  if (int rc = Settle(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xSync(f->real, flags);
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  File* f = Self(file);
  if (int rc = Settle(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFileSize(f->real, size);
}

int Lock(sqlite3_file* file, int level) {
  return RealOf(file)->pMethods->xLock(RealOf(file), level);
}

int Unlock(sqlite3_file* file, int level) {
  return RealOf(file)->pMethods->xUnlock(RealOf(file), level);
}

int CheckReservedLock(sqlite3_file* file, int* out) {
  return RealOf(file)->pMethods->xCheckReservedLock(RealOf(file), out);
}

// A checkpoint's end: its last gathered pages are written out. SQLite does
// not look at this call's result, and when the checkpoint copied only part of
// the WAL it publishes the copy as done without another call here: pages that
// could not be written would be read from the database file as if they were.
// So a failure breaks the database (see Database) instead.
void EndCheckpoint(File* f) {
  f->checkpointing = false;
  if (f->wal_file != nullptr) f->wal_file->mapped_readable = 0;
  int rc = Settle(f);
  if (rc == SQLITE_OK) return;
  if (f->database != nullptr) f->database->broken.store(true, std::memory_order_release);
  LogError(
      "a checkpoint could not write the database file: every read and write of the store "
      "fails until punt restarts (the WAL keeps the data)",
      {{"path", f->database_path}, {"error", sqlite3_errstr(rc)}});
}

int FileControl(sqlite3_file* file, int op, void* arg) {
  File* f = Self(file);
  if (!f->wal && op == SQLITE_FCNTL_CKPT_DONE) {
    EndCheckpoint(f);
  } else if (int rc = Settle(f); rc != SQLITE_OK) {
    return rc;
  }
  // A checkpoint copies the WAL's newest frame of each page, in page order,
  // into the database file: its writes are gathered into runs of adjacent
  // pages until its end (SQLite sends this start only with the end, 3.32 on).
  // Until then no connection reads those pages from the database file: a
  // reader takes a page from the WAL when the WAL has it at or before the
  // reader's snapshot, and the checkpoint copies no frame past the oldest
  // snapshot in use.
  if (!f->wal && op == SQLITE_FCNTL_CKPT_START) {
    f->checkpointing = true;
    if (f->wal_file != nullptr) MapForCheckpoint(f->wal_file);
  }
  return f->real->pMethods->xFileControl(f->real, op, arg);
}

int SectorSize(sqlite3_file* file) { return RealOf(file)->pMethods->xSectorSize(RealOf(file)); }

int DeviceCharacteristics(sqlite3_file* file) {
  return RealOf(file)->pMethods->xDeviceCharacteristics(RealOf(file));
}

int ShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  return RealOf(file)->pMethods->xShmMap(RealOf(file), region, size, extend, out);
}

int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  return RealOf(file)->pMethods->xShmLock(RealOf(file), offset, n, flags);
}

// SQLite calls the barrier between the two copies of a new WAL index header:
// the frames the header makes visible must be in the file first.
void ShmBarrier(sqlite3_file* file) {
  File* f = Self(file);
  if (File* wal = f->wal_file; wal != nullptr && !wal->gathered.empty()) {
    int rc = WriteOut(wal);
    if (rc != SQLITE_OK && wal->deferred_error == SQLITE_OK) wal->deferred_error = rc;
  }
  f->real->pMethods->xShmBarrier(f->real);
}

int ShmUnmap(sqlite3_file* file, int delete_flag) {
  return RealOf(file)->pMethods->xShmUnmap(RealOf(file), delete_flag);
}

int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  if (Broken(Self(file))) {  // no page: SQLite reads it instead, and that fails
    *out = nullptr;
    return SQLITE_OK;
  }
  return RealOf(file)->pMethods->xFetch(RealOf(file), offset, amount, out);
}

int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  return RealOf(file)->pMethods->xUnfetch(RealOf(file), offset, page);
}

// Version 3 methods; a wrapped file of an older version gets its own subset.
sqlite3_io_methods MethodsFor(int version) {
  sqlite3_io_methods m{};
  m.iVersion = version;
  m.xClose = Close;
  m.xRead = Read;
  m.xWrite = Write;
  m.xTruncate = Truncate;
  m.xSync = Sync;
  m.xFileSize = FileSize;
  m.xLock = Lock;
  m.xUnlock = Unlock;
  m.xCheckReservedLock = CheckReservedLock;
  m.xFileControl = FileControl;
  m.xSectorSize = SectorSize;
  m.xDeviceCharacteristics = DeviceCharacteristics;
  if (version >= 2) {
    m.xShmMap = ShmMap;
    m.xShmLock = ShmLock;
    m.xShmBarrier = ShmBarrier;
    m.xShmUnmap = ShmUnmap;
  }
  if (version >= 3) {
    m.xFetch = Fetch;
    m.xUnfetch = Unfetch;
  }
  return m;
}

const sqlite3_io_methods kMethods1 = MethodsFor(1);
const sqlite3_io_methods kMethods2 = MethodsFor(2);
const sqlite3_io_methods kMethods3 = MethodsFor(3);

constexpr size_t RealOffset() { return (sizeof(File) + 7) & ~size_t{7}; }

int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  auto* f = new (file) File{};
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + RealOffset());
  f->wal = (flags & SQLITE_OPEN_WAL) != 0;
  int rc = Real(vfs)->xOpen(Real(vfs), name, f->real, flags, out_flags);
  if (f->real->pMethods == nullptr) {
    f->~File();
    file->pMethods = nullptr;
    return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
  }
  if (name != nullptr && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)) != 0) {
    f->database_path = f->wal ? sqlite3_filename_database(name) : name;
    f->database = AcquireDatabase(f->database_path);
    if (f->wal) f->path = name;
  }
  int version = f->real->pMethods->iVersion;
  f->base.pMethods = version >= 3 ? &kMethods3 : version == 2 ? &kMethods2 : &kMethods1;
  if (rc == SQLITE_OK && f->wal && name != nullptr) {
    // The database file of this WAL's connection, opened through this VFS too.
    f->db = Self(sqlite3_database_file_object(name));
    if (f->db != nullptr && f->db->base.pMethods != nullptr && !f->db->wal) {
      f->db->wal_file = f;
    } else {
      f->db = nullptr;
    }
  }
  return rc;
}

int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return Real(vfs)->xDelete(Real(vfs), name, sync_dir);
}
int Access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return Real(vfs)->xAccess(Real(vfs), name, flags, out);
}
int FullPathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return Real(vfs)->xFullPathname(Real(vfs), name, n, out);
}
void* DlOpen(sqlite3_vfs* vfs, const char* name) { return Real(vfs)->xDlOpen(Real(vfs), name); }
void DlError(sqlite3_vfs* vfs, int n, char* out) { Real(vfs)->xDlError(Real(vfs), n, out); }
void (*DlSym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return Real(vfs)->xDlSym(Real(vfs), handle, symbol);
}
void DlClose(sqlite3_vfs* vfs, void* handle) { Real(vfs)->xDlClose(Real(vfs), handle); }
int Randomness(sqlite3_vfs* vfs, int n, char* out) {
  return Real(vfs)->xRandomness(Real(vfs), n, out);
}
int Sleep(sqlite3_vfs* vfs, int micros) { return Real(vfs)->xSleep(Real(vfs), micros); }
int CurrentTime(sqlite3_vfs* vfs, double* out) { return Real(vfs)->xCurrentTime(Real(vfs), out); }
int GetLastError(sqlite3_vfs* vfs, int n, char* out) {
  return Real(vfs)->xGetLastError(Real(vfs), n, out);
}
int CurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return Real(vfs)->xCurrentTimeInt64(Real(vfs), out);
}
int SetSystemCall(sqlite3_vfs* vfs, const char* name, sqlite3_syscall_ptr call) {
  return Real(vfs)->xSetSystemCall(Real(vfs), name, call);
}
sqlite3_syscall_ptr GetSystemCall(sqlite3_vfs* vfs, const char* name) {
  return Real(vfs)->xGetSystemCall(Real(vfs), name);
}
const char* NextSystemCall(sqlite3_vfs* vfs, const char* name) {
  return Real(vfs)->xNextSystemCall(Real(vfs), name);
}

sqlite3_vfs* Register() {
  sqlite3_vfs* real = sqlite3_vfs_find(nullptr);
  // Versions 2 and 3 add CurrentTimeInt64 and the system-call hooks; every
  // VFS SQLite ships on Linux is version 3.
  if (real == nullptr || real->iVersion < 3) return nullptr;
  static sqlite3_vfs vfs{};
  vfs.iVersion = 3;
  vfs.szOsFile = static_cast<int>(RealOffset()) + real->szOsFile;
  vfs.mxPathname = real->mxPathname;
  vfs.zName = kName;
  vfs.pAppData = real;
  vfs.xOpen = Open;
  vfs.xDelete = Delete;
  vfs.xAccess = Access;
  vfs.xFullPathname = FullPathname;
  vfs.xDlOpen = DlOpen;
  vfs.xDlError = DlError;
  vfs.xDlSym = DlSym;
  vfs.xDlClose = DlClose;
  vfs.xRandomness = Randomness;
  vfs.xSleep = Sleep;
  vfs.xCurrentTime = CurrentTime;
  vfs.xGetLastError = GetLastError;
  vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  vfs.xSetSystemCall = SetSystemCall;
  vfs.xGetSystemCall = GetSystemCall;
  vfs.xNextSystemCall = NextSystemCall;
  if (sqlite3_vfs_register(&vfs, /*makeDflt=*/0) != SQLITE_OK) return nullptr;
  return &vfs;
}

}  // namespace

const char* WalGatheringVfsName() {
  static sqlite3_vfs* vfs = Register();  // thread-safe once
  return vfs != nullptr ? vfs->zName : nullptr;
}

}  // namespace punt::store::sqlite
