// The step events of the avatar call demo's programs (imsdc mf, imsdc avatar-call): one JSON
// object per line, appended with one write(2) on an O_APPEND descriptor so that several
// processes can share the file (samples/demo.sh prints them as they come):
//   {"t":EPOCH_MS,"who":W,"step":S,"result":"ok|refused|failed|info","path":"e2e|e2ae|sip|-",
//    "ms":DURATION,"detail":TEXT}
// Each event is also printed on stdout (the program's log). Details never hold secrets: no
// token, key or password is passed to emit().
#ifndef IMSDC_CLI_DEMO_EVENTS_H
#define IMSDC_CLI_DEMO_EVENTS_H

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "cli.h"

namespace imsdc::cli {

class EventLog {
public:
  EventLog() = default;
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;
  ~EventLog() {
    if (fd_ >= 0) ::close(fd_);
  }
  // path empty: stdout only.
  bool open(const std::string& path, std::string who) {
    who_ = std::move(who);
    if (path.empty()) return true;
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    return fd_ >= 0;
  }
  static std::uint64_t wall_ms() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  }
  void emit(const char* step, const char* result, const char* path, std::uint64_t ms,
            const std::string& detail) {
    const std::string line = "{\"t\":" + std::to_string(wall_ms()) + ",\"who\":\"" + who_ +
                             "\",\"step\":\"" + step + "\",\"result\":\"" + result +
                             "\",\"path\":\"" + path + "\",\"ms\":" + std::to_string(ms) +
                             ",\"detail\":\"" + json_escape(detail) + "\"}\n";
    if (fd_ >= 0) (void)!::write(fd_, line.data(), line.size());
    std::printf("event %s", line.c_str());
    (void)std::fflush(stdout);
    if (std::string(result) == "failed") failed_ = true;
  }
  bool any_failed() const { return failed_; }

private:
  int fd_ = -1;
  std::string who_;
  bool failed_ = false;
};

} // namespace imsdc::cli

#endif // IMSDC_CLI_DEMO_EVENTS_H
