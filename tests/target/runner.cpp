// The on-target test runner: runs every registered case (or those of the suites named on the
// semihosting command line, e.g. `-append "sip sdp"` under QEMU) and prints one summary line
// "N passed, M failed". main's return value is QEMU's exit code: 0 only when all passed.
#include "runner.h"

#include <cstdio>
#include <cstring>

#include "imsdc/port/log.h"
#include "imsdc/port_baremetal.h"

namespace imsdc::target {
namespace {

struct Case {
  const char* suite;
  const char* name;
  CaseFn fn;
};

constexpr std::size_t kMaxCases = 256;
Case g_cases[kMaxCases];
std::size_t g_count = 0;
bool g_overflow = false;

const Case* g_current = nullptr;
int g_case_failures = 0;

bool selected(const Case& c, int argc, char** argv) {
  if (argc <= 1) return true;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], c.suite) == 0) return true;
  }
  return false;
}

} // namespace

Registrar::Registrar(const char* suite, const char* name, CaseFn fn) {
  if (g_count == kMaxCases) {
    g_overflow = true;
    return;
  }
  g_cases[g_count++] = Case{suite, name, fn};
}

void fail(const char* file, int line, const char* what, const std::string& detail) {
  ++g_case_failures;
  const char* base = std::strrchr(file, '/');
  std::printf("  %s:%d: check failed: %s%s%s\n", base ? base + 1 : file, line, what,
              detail.empty() ? "" : "\n    ", detail.c_str());
}

// newlib-nano's printf has no %ll: format by hand.
std::string to_text(unsigned long long v) {
  char buf[24];
  char* p = buf + sizeof buf;
  *--p = '\0';
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  return p;
}

std::string to_text(long long v) {
  if (v >= 0) return to_text(static_cast<unsigned long long>(v));
  return "-" + to_text(0ull - static_cast<unsigned long long>(v));
}

std::string describe(const Status& s) {
  if (s.is_ok()) return "ok";
  return std::string(s.name()) + ": " + s.message();
}

bool read_data(const char* relative_path, std::string* out) {
  std::string path = std::string(IMSDC_TEST_DATA_DIR) + "/" + relative_path;
  out->clear();
  std::FILE* f = std::fopen(path.c_str(), "rb"); // semihosting SYS_OPEN on the host
  if (!f) {
    fail(__FILE__, __LINE__, "test data readable", path);
    return false;
  }
  char buf[512];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    out->append(buf, n);
  std::fclose(f);
  return true;
}

bool read_data(const char* relative_path, Bytes* out) {
  std::string s;
  if (!read_data(relative_path, &s)) return false;
  out->assign(s.begin(), s.end());
  return true;
}

std::string read_data_line(const char* relative_path) {
  std::string s;
  if (!read_data(relative_path, &s)) return s;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
    s.pop_back();
  if (s.empty()) fail(__FILE__, __LINE__, "test data not empty", relative_path);
  return s;
}

std::size_t split_fields(std::string_view line, std::string_view* out, std::size_t max) {
  std::size_t n = 0, i = 0;
  while (i < line.size() && n < max) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
      ++i;
    std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
      ++i;
    if (i > start) out[n++] = line.substr(start, i - start);
  }
  return n;
}

} // namespace imsdc::target

int main(int argc, char** argv) {
  using namespace imsdc::target;
  imsdc::baremetal::init();
  imsdc::baremetal::set_log_level(IMSDC_LOG_ERROR);
  std::printf("imsdc on-target tests (Cortex-M4F, ports/baremetal): %u cases registered\n",
              static_cast<unsigned>(g_count));
  int passed = 0, failed = 0;
  if (g_overflow) {
    std::printf("runner: more than %u cases; raise kMaxCases\n", static_cast<unsigned>(kMaxCases));
    ++failed;
  }
  for (std::size_t i = 0; i < g_count; ++i) {
    const Case& c = g_cases[i];
    if (!selected(c, argc, argv)) continue;
    g_current = &c;
    g_case_failures = 0;
    std::uint64_t t0 = imsdc::baremetal::uptime_ms();
    c.fn();
    unsigned ms = static_cast<unsigned>(imsdc::baremetal::uptime_ms() - t0);
    if (g_case_failures == 0) {
      ++passed;
      std::printf("[ ok ] %s.%s (%u ms)\n", c.suite, c.name, ms);
    } else {
      ++failed;
      std::printf("[FAIL] %s.%s (%u ms)\n", c.suite, c.name, ms);
    }
  }
  imsdc::baremetal::ArenaStats a = imsdc::baremetal::arena_stats();
  std::printf("arena: peak %u of %u bytes, %u blocks still live, %u failed requests\n",
              static_cast<unsigned>(a.peak), static_cast<unsigned>(a.capacity),
              static_cast<unsigned>(a.blocks), static_cast<unsigned>(a.failures));
  if (passed + failed == 0) {
    std::printf("runner: no case selected\n");
    failed = 1;
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
