#include "imsdc/log.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "imsdc/config_defaults.h"

namespace imsdc::log {
namespace {

int g_level = IMSDC_LOG_INFO;
Sink g_sink = nullptr;
void* g_sink_user = nullptr;

bool starts_with_ci(const char* s, std::size_t n, const char* prefix) {
  std::size_t i = 0;
  for (; prefix[i]; ++i) {
    if (i >= n) return false;
    char a = s[i], b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

constexpr char kMask[] = "[redacted]";

// Replaces line[from, to) with kMask; returns the new length.
std::size_t mask(char* line, std::size_t len, std::size_t from, std::size_t to) {
  std::size_t mlen = sizeof(kMask) - 1;
  if (to - from < mlen) {
    // Never lengthen the line (the buffer may be full): blank the value instead.
    std::memset(line + from, '*', to - from);
    return len;
  }
  std::memcpy(line + from, kMask, mlen);
  std::memmove(line + from + mlen, line + to, len - to + 1); // include the NUL
  return len - (to - from) + mlen;
}

struct Rule {
  const char* key;   // case-insensitive prefix that introduces a secret
  char quote_or_end; // '"' when the value is quoted and ends at the next '"';
                     // '\n' when it runs to the end of the line (or CR);
                     // ' ' when it runs to whitespace, ',' or ';'
};

constexpr Rule kRules[] = {
    {"Proxy-Authorization:", '\n'}, {"Authorization:", '\n'}, {"Bearer ", ' '},
    {"response=\"", '"'},           {"password=", ' '},       {"\"d\":\"", '"'},
    {"\"password\":\"", '"'},       {"\"token\":\"", '"'},    {"\"access_token\":\"", '"'},
};

} // namespace

void set_level(int lvl) {
  g_level = lvl;
}
int level() {
  return g_level;
}

void set_sink(Sink sink, void* user) {
  g_sink = sink;
  g_sink_user = user;
}

std::size_t redact(char* line, std::size_t len) {
  for (std::size_t i = 0; i < len; ++i) {
    for (const Rule& r : kRules) {
      if (!starts_with_ci(line + i, len - i, r.key)) continue;
      std::size_t start = i + std::strlen(r.key);
      while (r.quote_or_end == '\n' && start < len && line[start] == ' ')
        ++start;
      std::size_t end = start;
      while (end < len) {
        char c = line[end];
        if (r.quote_or_end == '"' && c == '"') break;
        if (r.quote_or_end == '\n' && (c == '\n' || c == '\r')) break;
        if (r.quote_or_end == ' ' &&
            (c == ' ' || c == ',' || c == ';' || c == '\r' || c == '\n' || c == '&'))
          break;
        ++end;
      }
      if (end > start) len = mask(line, len, start, end);
      i = start; // continue after the mask
      break;
    }
  }
  return len;
}

void write(int lvl, const char* module, const char* fmt, ...) {
  if (lvl > g_level) return;
  char line[IMSDC_LOG_LINE_MAX];
  va_list ap;
  va_start(ap, fmt);
  // clang-analyzer's valist checker does not model GCC's __builtin_va_start and reports the
  // list as uninitialized; it is started on the line above.
  int n = std::vsnprintf(line, sizeof line, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
  va_end(ap);
  if (n < 0) return;
  std::size_t len =
      static_cast<std::size_t>(n) < sizeof line ? static_cast<std::size_t>(n) : sizeof line - 1;
  redact(line, len);
  if (g_sink) {
    g_sink(g_sink_user, lvl, module ? module : "imsdc", line);
    return;
  }
  imsdc_port_log_write(lvl, module ? module : "imsdc", line);
}

} // namespace imsdc::log
