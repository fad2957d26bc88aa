// Small POSIX helpers shared by the integration tests (files, tools, shell commands).
#ifndef IMSDC_TESTS_INTEGRATION_TEST_UTIL_H
#define IMSDC_TESTS_INTEGRATION_TEST_UTIL_H

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace imsdc::testutil {

inline bool file_exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

inline bool have_tool(const char* name) {
  std::string cmd = std::string("command -v ") + name + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// rm -r without following symbolic links.
inline void remove_tree(const std::string& dir) {
  if (dir.empty()) return;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n == "." || n == "..") continue;
      std::string p = dir + "/" + n;
      struct stat st;
      if (::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        remove_tree(p);
      else
        ::unlink(p.c_str());
    }
    ::closedir(d);
  }
  ::rmdir(dir.c_str());
}

// Runs a shell command; returns its exit status and captures stdout+stderr.
inline int run(const std::string& cmd, std::string* output) {
  std::string full = cmd + " 2>&1";
  FILE* f = ::popen(full.c_str(), "r");
  if (!f) return -1;
  char buf[512];
  std::string out;
  while (std::size_t n = std::fread(buf, 1, sizeof buf, f))
    out.append(buf, n);
  int st = ::pclose(f);
  if (output) *output = out;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

} // namespace imsdc::testutil

#endif // IMSDC_TESTS_INTEGRATION_TEST_UTIL_H
