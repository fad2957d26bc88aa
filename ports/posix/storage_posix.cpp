// POSIX storage port: blobs and key-value entries as files in one directory.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "imsdc/port/storage.h"
#include "imsdc/port_posix.h"

struct imsdc_port_blob {
  int fd = -1;
  std::string tmp_path;
  std::string final_path;
  std::string dir;
};

namespace imsdc::posix {
namespace {

constexpr std::size_t kMaxKvValue = 4096;
constexpr std::size_t kMaxKeyLen = 64;
constexpr std::size_t kMaxBlobNameLen = 128;
constexpr const char* kKvDir = "kv";
constexpr const char* kKvTmpDir = ".kv-tmp";

bool valid_chars(const char* s, std::size_t max, std::size_t* len) {
  if (!s) return false;
  std::size_t n = 0;
  for (; s[n]; ++n) {
    if (n >= max) return false;
    char c = s[n];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  *len = n;
  return n > 0;
}

// Contract charset [A-Za-z0-9._-]{1,64}; "." and ".." name directories, not files.
bool valid_key(const char* key) {
  std::size_t n = 0;
  if (!valid_chars(key, kMaxKeyLen, &n)) return false;
  return std::strcmp(key, ".") != 0 && std::strcmp(key, "..") != 0;
}

// Blob names may not start with '.' (reserved for temporaries) and may not be "kv".
bool valid_blob_name(const char* name) {
  std::size_t n = 0;
  if (!valid_chars(name, kMaxBlobNameLen, &n)) return false;
  return name[0] != '.' && std::strcmp(name, kKvDir) != 0;
}

int io_error(int e) {
  switch (e) {
  case ENOSPC:
  case EDQUOT:
  case EFBIG:
    return IMSDC_PORT_ENOSPC;
  case ENOENT:
    return IMSDC_PORT_ENOENT;
  case EACCES:
  case EPERM:
  case EROFS:
    return IMSDC_PORT_EDENIED;
  case ENOMEM:
    return IMSDC_PORT_ENOMEM;
  default:
    return IMSDC_PORT_EIO;
  }
}

int write_all(int fd, const std::uint8_t* data, std::size_t len) {
  std::size_t off = 0;
  while (off < len) {
    ssize_t n = ::write(fd, data + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error(errno);
    if (n == 0) return IMSDC_PORT_EIO;
    off += static_cast<std::size_t>(n);
  }
  return IMSDC_PORT_OK;
}

int fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error(errno);
  int rc = ::fsync(fd) == 0 ? IMSDC_PORT_OK : io_error(errno);
  ::close(fd);
  return rc;
}

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Creates "<dir>/<prefix>XXXXXX" with mode 0600 (mkstemp) and returns the fd.
int make_temp(const std::string& dir, const std::string& prefix, std::string* path) {
  std::string tmpl = dir + "/" + prefix + "XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  int fd = ::mkstemp(buf.data());
  if (fd < 0) return -1;
  int fl = fcntl(fd, F_GETFD, 0);
  if (fl >= 0) fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
  path->assign(buf.data());
  return fd;
}

// fsync + close + rename + fsync(dir); on any failure the temporary is removed.
int publish(int fd, const std::string& tmp, const std::string& final_path, const std::string& dir) {
  int rc = ::fsync(fd) == 0 ? IMSDC_PORT_OK : io_error(errno);
  if (::close(fd) != 0 && rc == IMSDC_PORT_OK) rc = io_error(errno);
  if (rc == IMSDC_PORT_OK && ::rename(tmp.c_str(), final_path.c_str()) != 0) rc = io_error(errno);
  if (rc != IMSDC_PORT_OK) {
    ::unlink(tmp.c_str());
    return rc;
  }
  return fsync_dir(dir);
}

int mkdir_p1(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) == 0 || errno == EEXIST) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return IMSDC_PORT_EIO;
    return IMSDC_PORT_OK;
  }
  return io_error(errno);
}

// Removes what a crash can leave behind: ".NAME.tmp.XXXXXX" in the root and everything in
// the kv temporary directory.
void clean_temporaries(const std::string& dir) {
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      const char* n = e->d_name;
      if (n[0] == '.' && std::strstr(n, ".tmp.") != nullptr) ::unlinkat(dirfd(d), n, 0);
    }
    ::closedir(d);
  }
  std::string tmp = dir + "/" + kKvTmpDir;
  if (DIR* d = ::opendir(tmp.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
        ::unlinkat(dirfd(d), e->d_name, 0);
    }
    ::closedir(d);
  }
}

int blob_open(void* ctx, const char* name, imsdc_port_blob** out) {
  auto* st = static_cast<Storage*>(ctx);
  if (!st || !out) return IMSDC_PORT_EINVAL;
  *out = nullptr;
  if (!valid_blob_name(name)) return IMSDC_PORT_EINVAL;
  auto* b = new (std::nothrow) imsdc_port_blob;
  if (!b) return IMSDC_PORT_ENOMEM;
  b->dir = st->dir();
  b->final_path = st->dir() + "/" + name;
  b->fd = make_temp(st->dir(), std::string(".") + name + ".tmp.", &b->tmp_path);
  if (b->fd < 0) {
    int rc = io_error(errno);
    delete b;
    return rc;
  }
  *out = b;
  return IMSDC_PORT_OK;
}

int blob_write(imsdc_port_blob* b, const uint8_t* data, size_t len) {
  if (!b || b->fd < 0 || (!data && len > 0)) return IMSDC_PORT_EINVAL;
  return write_all(b->fd, data, len);
}

void blob_abort(imsdc_port_blob* b) {
  if (!b) return;
  if (b->fd >= 0) ::close(b->fd);
  ::unlink(b->tmp_path.c_str());
  delete b;
}

int blob_commit(imsdc_port_blob* b) {
  if (!b || b->fd < 0) return IMSDC_PORT_EINVAL;
  int rc = publish(b->fd, b->tmp_path, b->final_path, b->dir);
  delete b;
  return rc;
}

int kv_get(void* ctx, const char* key, uint8_t* out, size_t cap, size_t* out_len) {
  auto* st = static_cast<Storage*>(ctx);
  if (!st || !out_len || (!out && cap > 0)) return IMSDC_PORT_EINVAL;
  if (!valid_key(key)) return IMSDC_PORT_EINVAL;
  std::string path = st->dir() + "/" + kKvDir + "/" + key;
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return io_error(errno);
  struct stat s;
  if (::fstat(fd, &s) != 0 || !S_ISREG(s.st_mode)) {
    ::close(fd);
    return IMSDC_PORT_EIO;
  }
  std::size_t size = static_cast<std::size_t>(s.st_size);
  *out_len = size;
  if (size > cap) {
    ::close(fd);
    return IMSDC_PORT_ENOSPC;
  }
  std::size_t off = 0;
  while (off < size) {
    ssize_t n = ::read(fd, out + off, size - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return IMSDC_PORT_EIO;
    }
    off += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return IMSDC_PORT_OK;
}

int kv_put(void* ctx, const char* key, const uint8_t* value, size_t len) {
  auto* st = static_cast<Storage*>(ctx);
  if (!st || (!value && len > 0)) return IMSDC_PORT_EINVAL;
  if (!valid_key(key)) return IMSDC_PORT_EINVAL;
  if (len > kMaxKvValue) return IMSDC_PORT_ENOSPC;
  std::string tmp_dir = st->dir() + "/" + kKvTmpDir;
  std::string tmp;
  int fd = make_temp(tmp_dir, std::string(key) + ".", &tmp);
  if (fd < 0) return io_error(errno);
  int rc = write_all(fd, value, len);
  if (rc != IMSDC_PORT_OK) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return rc;
  }
  std::string kv_dir = st->dir() + "/" + kKvDir;
  return publish(fd, tmp, kv_dir + "/" + key, kv_dir);
}

int kv_delete(void* ctx, const char* key) {
  auto* st = static_cast<Storage*>(ctx);
  if (!st) return IMSDC_PORT_EINVAL;
  if (!valid_key(key)) return IMSDC_PORT_EINVAL;
  std::string kv_dir = st->dir() + "/" + kKvDir;
  if (::unlink((kv_dir + "/" + key).c_str()) != 0)
    return errno == ENOENT ? IMSDC_PORT_OK : io_error(errno);
  return fsync_dir(kv_dir);
}

} // namespace

Status write_file_atomic(const std::string& path, ByteSpan data, unsigned mode) {
  std::string dir = dir_of(path);
  auto slash = path.rfind('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string tmp;
  int fd = make_temp(dir, "." + base + ".tmp.", &tmp);
  if (fd < 0) return Status(Code::kIo, Module::kPort, "cannot create a temporary file");
  int rc = ::fchmod(fd, static_cast<mode_t>(mode)) == 0 ? IMSDC_PORT_OK : io_error(errno);
  if (rc == IMSDC_PORT_OK) rc = write_all(fd, data.data(), data.size());
  if (rc != IMSDC_PORT_OK) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status(Code::kIo, Module::kPort, "cannot write the file");
  }
  if (publish(fd, tmp, path, dir) != IMSDC_PORT_OK)
    return Status(Code::kIo, Module::kPort, "cannot replace the file");
  return Status::ok();
}

Result<SecretBytes> read_file_secret(const std::string& path, std::size_t max) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return Status(errno == ENOENT ? Code::kNotFound : Code::kIo, Module::kPort,
                  errno == ENOENT ? "file not found" : "cannot open the file");
  struct stat s;
  if (::fstat(fd, &s) != 0 || !S_ISREG(s.st_mode)) {
    ::close(fd);
    return Status(Code::kIo, Module::kPort, "not a regular file");
  }
  if (static_cast<std::uint64_t>(s.st_size) > max) {
    ::close(fd);
    return Status(Code::kTooLarge, Module::kPort, "file too large");
  }
  // Sized once, never grown: a reallocation would leave a copy of the secret behind.
  SecretBytes buf(static_cast<std::size_t>(s.st_size));
  std::size_t off = 0;
  while (off < buf.size()) {
    ssize_t n = ::read(fd, buf.data() + off, buf.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return Status(Code::kIo, Module::kPort, "cannot read the file");
    }
    off += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return buf;
}

Storage::Storage(std::string dir) : dir_(std::move(dir)) {
  port_.version = IMSDC_PORT_STORAGE_VERSION;
  port_.ctx = this;
  port_.blob_open = blob_open;
  port_.blob_write = blob_write;
  port_.blob_commit = blob_commit;
  port_.blob_abort = blob_abort;
  port_.kv_get = kv_get;
  port_.kv_put = kv_put;
  port_.kv_delete = kv_delete;
}

Storage::~Storage() = default;

Result<std::unique_ptr<Storage>> Storage::open(const std::string& dir) {
  if (dir.empty()) return Status(Code::kInvalidArgument, Module::kPort, "empty storage directory");
  std::string root = dir;
  while (root.size() > 1 && root.back() == '/')
    root.pop_back();
  if (mkdir_p1(root, 0700) != IMSDC_PORT_OK ||
      mkdir_p1(root + "/" + kKvDir, 0700) != IMSDC_PORT_OK ||
      mkdir_p1(root + "/" + kKvTmpDir, 0700) != IMSDC_PORT_OK)
    return Status(Code::kIo, Module::kPort, "cannot create the storage directory");
  clean_temporaries(root);
  std::unique_ptr<Storage> s(new (std::nothrow) Storage(root));
  if (!s) return Status(Code::kNoMemory, Module::kPort);
  return s;
}

} // namespace imsdc::posix
