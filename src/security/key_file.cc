#include "security/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace punt::security {
namespace {

constexpr size_t kMaxKeyFileSize = 4096;

std::string Errno(std::string_view what, const std::filesystem::path& path) {
  return std::string(what) + " " + path.string() + ": " + std::strerror(errno);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now, reporting the result (close can report a failed write).
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

bool EnsureDirectory(const std::filesystem::path& dir, std::string* error) {
  if (dir.empty()) {
    *error = "the data directory is not set";
    return false;
  }
  std::error_code ec;
  if (dir.has_parent_path() && dir.parent_path() != dir) {
    std::filesystem::create_directories(dir.parent_path(), ec);
    if (ec) {
      *error = "cannot create " + dir.parent_path().string() + ": " + ec.message();
      return false;
    }
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    *error = Errno("cannot create data directory", dir);
    return false;
  }
  if (!std::filesystem::is_directory(dir, ec)) {
    *error = dir.string() + " is not a directory";
    return false;
  }
  return true;
}

enum class ReadStatus { kOk, kMissing, kError };

ReadStatus ReadKeyFile(const std::filesystem::path& path, std::string* text, std::string* error) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return ReadStatus::kMissing;
    *error = Errno("cannot open", path);
    return ReadStatus::kError;
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    *error = Errno("cannot stat", path);
    return ReadStatus::kError;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = path.string() + " is not a regular file";
    return ReadStatus::kError;
  }
  if ((st.st_mode & 077) != 0) {
    *error = path.string() + " is accessible by group or others; run: chmod 600 " + path.string();
    return ReadStatus::kError;
  }
  std::string raw(kMaxKeyFileSize + 1, '\0');
  size_t size = 0;
  while (size < raw.size()) {
    ssize_t n = ::read(fd.get(), raw.data() + size, raw.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      OPENSSL_cleanse(raw.data(), raw.size());
      *error = Errno("cannot read", path);
      return ReadStatus::kError;
    }
    if (n == 0) break;
    size += static_cast<size_t>(n);
  }
  if (size > kMaxKeyFileSize) {
    OPENSSL_cleanse(raw.data(), raw.size());
    *error = path.string() + " is too large to be a key file";
    return ReadStatus::kError;
  }
  *text = TrimWhitespace(std::string_view(raw.data(), size));
  OPENSSL_cleanse(raw.data(), raw.size());
  if (text->empty()) {
    *error = path.string() + " is empty; delete it to have a new key made";
    return ReadStatus::kError;
  }
  return ReadStatus::kOk;
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

enum class CreateStatus { kCreated, kExists, kError };

// Writes `contents` to a fresh 0600 file and links it to `path`; kExists if
// `path` appeared meanwhile (nothing is replaced).
CreateStatus CreateKeyFile(const std::filesystem::path& path, std::string_view contents,
                           std::string* error) {
  std::string tmp = path.string() + ".tmp-XXXXXX";
  Fd fd(::mkostemp(tmp.data(), O_CLOEXEC));  // O_CREAT | O_EXCL, mode 0600
  if (fd.get() < 0) {
    *error = Errno("cannot create", tmp);
    return CreateStatus::kError;
  }
  bool ok = ::fchmod(fd.get(), 0600) == 0 && WriteAll(fd.get(), contents) &&
            ::fsync(fd.get()) == 0;
  if (fd.Close() != 0) ok = false;
  if (!ok) {
    *error = Errno("cannot write", tmp);
    ::unlink(tmp.c_str());
    return CreateStatus::kError;
  }
  int rc = ::link(tmp.c_str(), path.c_str());
  int saved = errno;
  ::unlink(tmp.c_str());
  if (rc != 0) {
    if (saved == EEXIST) return CreateStatus::kExists;
    errno = saved;
    *error = Errno("cannot create", path);
    return CreateStatus::kError;
  }
  Fd dir(::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) ::fsync(dir.get());  // best effort: the file itself is synced
  return CreateStatus::kCreated;
}

}  // namespace

std::string_view TrimWhitespace(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(kSpace);
  return text.substr(begin, end - begin + 1);
}

std::optional<KeyFileContents> ReadOrCreateKeyFile(const std::filesystem::path& dir,
                                                   std::string_view name,
                                                   const std::function<std::string()>& make,
                                                   std::string* error) {
  if (!EnsureDirectory(dir, error)) return std::nullopt;
  std::filesystem::path path = dir / name;
  KeyFileContents out{{}, false};
  switch (ReadKeyFile(path, &out.text, error)) {
    case ReadStatus::kOk:
      return out;
    case ReadStatus::kError:
      return std::nullopt;
    case ReadStatus::kMissing:
      break;
  }
  std::string text = make();
  std::string contents = text + "\n";
  CreateStatus status = CreateKeyFile(path, contents, error);
  OPENSSL_cleanse(contents.data(), contents.size());
  if (status == CreateStatus::kCreated) {
    out.text = std::move(text);
    out.created = true;
    return out;
  }
  OPENSSL_cleanse(text.data(), text.size());
  if (status == CreateStatus::kError) return std::nullopt;
  // Another process created it first; use theirs.
  switch (ReadKeyFile(path, &out.text, error)) {
    case ReadStatus::kOk:
      return out;
    case ReadStatus::kMissing:
      *error = path.string() + " vanished while being created";
      return std::nullopt;
    case ReadStatus::kError:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace punt::security
