#include "store/sqlite/wal_sync.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace punt::store::sqlite {
namespace {

std::string ErrnoText() { return std::strerror(errno); }

bool SyncPath(const std::string& path, int flags, std::string* error) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) {
    *error = "cannot open " + path + ": " + ErrnoText();
    return false;
  }
  bool ok = ::fsync(fd) == 0;
  if (!ok) *error = "cannot sync " + path + ": " + ErrnoText();
  ::close(fd);
  return ok;
}

}  // namespace

std::unique_ptr<WalSync> WalSync::Open(const std::string& db_path, std::string* error) {
  const std::string wal_path = db_path + "-wal";
  int fd = ::open(wal_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = "cannot open the write-ahead log " + wal_path + ": " + ErrnoText();
    return nullptr;
  }
  std::unique_ptr<WalSync> wal(new WalSync(fd));
  std::filesystem::path dir = std::filesystem::absolute(db_path).parent_path();
  if (::fsync(fd) != 0) {
    *error = "cannot sync the write-ahead log " + wal_path + ": " + ErrnoText();
    return nullptr;
  }
  if (!SyncPath(dir.string(), O_RDONLY | O_DIRECTORY, error)) return nullptr;
  return wal;
}

WalSync::~WalSync() { ::close(fd_); }

bool WalSync::Sync(std::string* error) {
  if (::fdatasync(fd_) == 0) return true;
  *error = "cannot sync the write-ahead log: " + ErrnoText();
  return false;
}

}  // namespace punt::store::sqlite
