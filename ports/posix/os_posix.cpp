// POSIX link-time primitives: mutex, clocks, entropy, log sink.
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#if defined(__ANDROID__) && __ANDROID_API__ < 28
#include <sys/syscall.h> // bionic gained getrandom() only in API 28
#else
#include <sys/random.h>
#endif

#include <atomic>
#include <cstdio>
#include <cstring>
#include <new>

#include "imsdc/port/entropy.h"
#include "imsdc/port/log.h"
#include "imsdc/port/os.h"
#include "imsdc/port_posix.h"

struct imsdc_port_mutex {
  pthread_mutex_t m;
};

namespace imsdc::posix {
namespace {

std::atomic<std::int64_t> g_wall_override{-1};

// A real-time clock that reads earlier than this has never been set (a board without an RTC
// boots at 1970): report "unknown" rather than let certificate checks run against it.
constexpr std::int64_t kEarliestPlausibleWall = 1704067200; // 2024-01-01T00:00:00Z

ssize_t os_getrandom(std::uint8_t* out, std::size_t len) {
#if defined(__ANDROID__) && __ANDROID_API__ < 28
  return static_cast<ssize_t>(syscall(SYS_getrandom, out, len, 0));
#else
  return getrandom(out, len, 0);
#endif
}

// Kernels older than 3.17 have no getrandom(2); /dev/urandom is the same CSPRNG there.
int urandom_fill(std::uint8_t* out, std::size_t len) {
  int fd;
  do {
    fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return IMSDC_PORT_EIO;
  std::size_t done = 0;
  while (done < len) {
    ssize_t n = ::read(fd, out + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return IMSDC_PORT_EIO;
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return IMSDC_PORT_OK;
}

} // namespace

void set_wall_clock_override(std::int64_t s) {
  g_wall_override.store(s < 0 ? -1 : s, std::memory_order_relaxed);
}

} // namespace imsdc::posix

extern "C" {

imsdc_port_mutex* imsdc_port_mutex_create(void) {
  auto* m = new (std::nothrow) imsdc_port_mutex;
  if (!m) return nullptr;
  if (pthread_mutex_init(&m->m, nullptr) != 0) {
    delete m;
    return nullptr;
  }
  return m;
}

void imsdc_port_mutex_destroy(imsdc_port_mutex* m) {
  if (!m) return;
  pthread_mutex_destroy(&m->m);
  delete m;
}

void imsdc_port_mutex_lock(imsdc_port_mutex* m) {
  if (m) pthread_mutex_lock(&m->m);
}

void imsdc_port_mutex_unlock(imsdc_port_mutex* m) {
  if (m) pthread_mutex_unlock(&m->m);
}

uint64_t imsdc_port_clock_monotonic_ms(void) {
  struct timespec ts;
  // CLOCK_MONOTONIC cannot fail with a valid pointer on Linux; the contract needs a value.
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0;
  return static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
}

int64_t imsdc_port_clock_wall_s(void) {
  std::int64_t o = imsdc::posix::g_wall_override.load(std::memory_order_relaxed);
  if (o >= 0) return o;
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -1;
  if (ts.tv_sec < imsdc::posix::kEarliestPlausibleWall) return -1;
  return static_cast<int64_t>(ts.tv_sec);
}

int imsdc_port_entropy(uint8_t* out, size_t len) {
  if (len == 0) return IMSDC_PORT_OK;
  if (!out) return IMSDC_PORT_EINVAL;
  std::size_t done = 0;
  while (done < len) {
    // getrandom may return fewer bytes than asked (above 256 bytes, or on a signal): loop.
    ssize_t n = imsdc::posix::os_getrandom(out + done, len - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOSYS) {
        int rc = imsdc::posix::urandom_fill(out + done, len - done);
        if (rc != IMSDC_PORT_OK) std::memset(out, 0, len);
        return rc;
      }
      std::memset(out, 0, len); // never leave partial output behind a failure
      return IMSDC_PORT_EIO;
    }
    done += static_cast<std::size_t>(n);
  }
  return IMSDC_PORT_OK;
}

void imsdc_port_log_write(int level, const char* module, const char* line) {
  static const char kLetters[] = {'E', 'W', 'I', 'D'};
  char letter = level >= 0 && level <= 3 ? kLetters[level] : '?';
  uint64_t t = imsdc_port_clock_monotonic_ms();
  char buf[1024];
  int n = std::snprintf(
      buf, sizeof buf, "%c %llu.%03llu %s: %s\n", letter, static_cast<unsigned long long>(t / 1000),
      static_cast<unsigned long long>(t % 1000), module ? module : "-", line ? line : "");
  if (n < 0) return;
  std::size_t len = static_cast<std::size_t>(n);
  if (len >= sizeof buf) { // truncated: keep the line terminated
    len = sizeof buf - 1;
    buf[len - 1] = '\n';
  }
  // One write(2) per line, so lines from several threads never interleave.
  std::size_t off = 0;
  while (off < len) {
    ssize_t w = ::write(STDERR_FILENO, buf + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return; // the contract allows dropping lines
    off += static_cast<std::size_t>(w);
  }
}

} // extern "C"
