#include "cli.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "ice/agent.h"
#include "imsdc/crypto.h"
#include "imsdc/port/os.h"
#if IMSDC_CLI_WITH_PKCS11
#include "imsdc/port_pkcs11.h"
#endif
#include "imsdc/port_posix.h"

namespace imsdc::cli {

const std::vector<std::string> kKeystoreOptions = {
    "--dir", "--key", "--cert", "--pkcs11", "--token", "--pin-file", "--key-label"};

bool Args::parse(int argc, char** argv, int first, const std::vector<std::string>& flags,
                 const std::vector<std::string>& valued) {
  auto in = [](const std::vector<std::string>& v, const std::string& s) {
    for (const auto& x : v)
      if (x == s) return true;
    return false;
  };
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() > 2 && a[0] == '-' && a[1] == '-') {
      std::string value;
      auto eq = a.find('=');
      if (eq != std::string::npos) {
        value = a.substr(eq + 1);
        a = a.substr(0, eq);
      }
      if (in(flags, a)) {
        opts_[a].push_back("1");
      } else if (in(valued, a)) {
        if (eq == std::string::npos) {
          if (i + 1 >= argc) {
            error_ = a + " needs a value";
            return false;
          }
          value = argv[++i];
        }
        opts_[a].push_back(value);
      } else {
        error_ = "unknown option " + a;
        return false;
      }
    } else {
      pos_.push_back(a);
    }
  }
  return true;
}

std::string Args::get(const std::string& name, const std::string& def) const {
  auto it = opts_.find(name);
  return it == opts_.end() || it->second.empty() ? def : it->second.back();
}

const std::vector<std::string>& Args::all(const std::string& name) const {
  static const std::vector<std::string> kEmpty;
  auto it = opts_.find(name);
  return it == opts_.end() ? kEmpty : it->second;
}

int fail(const Status& s, const std::string& context) {
  std::fprintf(stderr, "imsdc: %s: %s%s%s\n", s.name(), context.c_str(),
               context.empty() ? "" : ": ", s.message());
  return static_cast<int>(s.exit_class());
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "imsdc: usage: %s (see --help)\n", message.c_str());
  return 2;
}

Result<Bytes> read_file(const std::string& path, std::size_t max) {
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (!f) return Status(Code::kIo, Module::kCli, "cannot open file");
  Bytes out;
  std::uint8_t buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    if (out.size() + n > max) {
      if (f != stdin) std::fclose(f);
      return Status(Code::kTooLarge, Module::kCli, "file too large");
    }
    out.insert(out.end(), buf, buf + n);
  }
  bool err = std::ferror(f);
  if (f != stdin) std::fclose(f);
  if (err) return Status(Code::kIo, Module::kCli, "read error");
  return out;
}

Result<std::string> read_text(const std::string& path, std::size_t max) {
  auto r = read_file(path, max);
  if (!r) return r.status();
  return std::string(r.value().begin(), r.value().end());
}

Status write_file(const std::string& path, ByteSpan data, unsigned mode) {
  if (path == "-") {
    if (std::fwrite(data.data(), 1, data.size(), stdout) != data.size())
      return Status(Code::kIo, Module::kCli, "write to stdout failed");
    std::fflush(stdout);
    return Status::ok();
  }
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Status(Code::kIo, Module::kCli, "cannot create output file");
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t w = ::write(fd, data.data() + off, data.size() - off);
    if (w <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status(Code::kIo, Module::kCli, "write failed");
    }
    off += static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status(Code::kIo, Module::kCli, "cannot publish output file");
  }
  return Status::ok();
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", static_cast<unsigned>(c));
      out += b;
    } else {
      out += c;
    }
  }
  return out;
}

Status fill_random(void*, std::uint8_t* out, std::size_t length) {
  return crypto::random_bytes(out, length);
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

Result<SecretBytes> read_secret(const std::string& path) {
  auto r = read_file(path, 4096);
  if (!r) return r.status();
  Bytes& v = r.value();
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r'))
    v.pop_back();
  SecretBytes s{ByteSpan(v)};
  secure_zero(v.data(), v.size());
  return s;
}

bool labnet_binds(const Args& a, std::vector<imsdc_port_addr>* out) {
  for (const auto& b : a.all("--bind")) {
    imsdc_port_addr x{};
    if (!ice::parse_ip(b, 0, &x)) return false;
    out->push_back(x);
  }
  if (out->empty()) {
    imsdc_port_addr lo{};
    (void)ice::parse_ip("127.0.0.1", 0, &lo);
    out->push_back(lo);
  }
  return true;
}

void append_key_log(void* path, const char* line) {
  if (FILE* f = std::fopen(static_cast<const std::string*>(path)->c_str(), "a")) {
    (void)std::fputs(line, f);
    (void)std::fclose(f);
  }
}

namespace {

class PemDevice : public DeviceKeystore {
public:
  explicit PemDevice(std::unique_ptr<posix::PemKeystore> ks) : ks_(std::move(ks)) {}
  const imsdc_port_keystore* port() const override { return ks_->port(); }

private:
  std::unique_ptr<posix::PemKeystore> ks_;
};

#if IMSDC_CLI_WITH_PKCS11
class TokenDevice : public DeviceKeystore {
public:
  explicit TokenDevice(std::unique_ptr<pkcs11::Token> t) : t_(std::move(t)) {}
  const imsdc_port_keystore* port() const override { return t_->port(); }

private:
  std::unique_ptr<pkcs11::Token> t_;
};
#endif

} // namespace

Result<std::unique_ptr<DeviceKeystore>> open_keystore(const Args& args) {
  if (args.has("--pkcs11")) {
#if !IMSDC_CLI_WITH_PKCS11
    return Status(Code::kUnsupported, Module::kCli, "this build has no PKCS#11 support");
#else
    if (!args.has("--token") || !args.has("--pin-file"))
      return Status(Code::kInvalidArgument, Module::kCli, "--pkcs11 needs --token and --pin-file");
    auto pin = read_secret(args.get("--pin-file"));
    if (!pin) return pin.status();
    auto tok = pkcs11::Token::open(args.get("--pkcs11"), args.get("--token"),
                                   pin.value().span().as_string(),
                                   args.get("--key-label", "imsdc-device"));
    if (!tok) return tok.status();
    return std::unique_ptr<DeviceKeystore>(new TokenDevice(std::move(tok.value())));
#endif
  }
  Result<std::unique_ptr<posix::PemKeystore>> ks = Status(Code::kInvalidArgument, Module::kCli);
  if (args.has("--dir")) {
    ks = posix::PemKeystore::load(args.get("--dir"));
  } else if (args.has("--key")) {
    ks = posix::PemKeystore::load_files(args.get("--key"), args.get("--cert"));
  } else {
    return Status(Code::kInvalidArgument, Module::kCli,
                  "choose a keystore: --dir D, --key F [--cert F], or --pkcs11 MODULE --token L "
                  "--pin-file F");
  }
  if (!ks) return ks.status();
  return std::unique_ptr<DeviceKeystore>(new PemDevice(std::move(ks.value())));
}

std::int64_t now_s() {
  return imsdc_port_clock_wall_s();
}

bool stderr_is_terminal() {
  return ::isatty(2) == 1;
}

} // namespace imsdc::cli
