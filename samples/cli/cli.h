// Shared helpers of the imsdc command-line tool: argument parsing, the exit-code table and
// error lines of PROTOCOL_PROFILE.md section 11, file I/O.
#ifndef IMSDC_CLI_CLI_H
#define IMSDC_CLI_CLI_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "imsdc/bytes.h"
#include "imsdc/port/keystore.h"
#include "imsdc/port/net.h"
#include "imsdc/status.h"

namespace imsdc::cli {

// Parsed "--name value" options, "--flag" switches and positional arguments.
class Args {
public:
  // `flags` lists the options that take no value. Returns false (and sets error) on misuse.
  bool parse(int argc, char** argv, int first, const std::vector<std::string>& flags,
             const std::vector<std::string>& valued);
  bool has(const std::string& name) const { return opts_.count(name) != 0; }
  std::string get(const std::string& name, const std::string& def = "") const;
  const std::vector<std::string>& all(const std::string& name) const;
  const std::vector<std::string>& positional() const { return pos_; }
  const std::string& error() const { return error_; }

private:
  std::map<std::string, std::vector<std::string>> opts_;
  std::vector<std::string> pos_;
  std::string error_;
};

// Prints "imsdc: <class>: <message>" to stderr and returns the section 11 exit code.
int fail(const Status& s, const std::string& context = "");
int usage_error(const std::string& message); // exit 2

Result<Bytes> read_file(const std::string& path, std::size_t max = 64u << 20);
Result<std::string> read_text(const std::string& path, std::size_t max = 1u << 20);
// Writes atomically (temp file + rename); mode applies to the new file.
Status write_file(const std::string& path, ByteSpan data, unsigned mode = 0644);
std::string trim(const std::string& s);
// s as the inside of a JSON string ("\"", "\\" and control characters escaped).
std::string json_escape(std::string_view s);
// The SDK's DRBG as a sip::RandomSource function.
Status fill_random(void* ctx, std::uint8_t* out, std::size_t length);
// Reads a secret (PIN, password) from a file; trailing newline removed.
Result<SecretBytes> read_secret(const std::string& path);
// A DTLS key log sink (dc::DtlsConfig::KeyLogFn) for --keylog: appends each line to the
// file whose name is *static_cast<const std::string*>(path), which must outlive the link.
void append_key_log(void* path, const char* line);
// The data-channel addresses of imsdc mf and avatar-call: each --bind, or 127.0.0.1 (the
// labnet's) without any. False when one is not an IP address.
bool labnet_binds(const Args& a, std::vector<imsdc_port_addr>* out);

// A device keystore chosen by the common options (--dir D | --key F --cert F |
// --pkcs11 MODULE --token LABEL --pin-file F [--key-label L]).
class DeviceKeystore {
public:
  virtual ~DeviceKeystore() = default;
  virtual const imsdc_port_keystore* port() const = 0;
};
Result<std::unique_ptr<DeviceKeystore>> open_keystore(const Args& args);
// Options every keystore-using command accepts.
extern const std::vector<std::string> kKeystoreOptions;

// The wall clock every command uses (--now EPOCH overrides the port's).
std::int64_t now_s();

bool stderr_is_terminal();

// Subcommands.
int cmd_keygen(int argc, char** argv);
int cmd_cert(int argc, char** argv);
int cmd_jws(int argc, char** argv);
int cmd_identity(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_avatar(int argc, char** argv);
// imsdc bench avatar (cmd_avatar.cpp), dispatched by cmd_bench.
int bench_avatar(const Args& a, int rounds);
// imsdc bench dc --in-process (cmd_bench_dc.cpp), dispatched by cmd_bench.
int bench_dc(const Args& a, int rounds);
// imsdc register; round_trips (if not null) receives the requests sent until registered.
int run_register(int argc, char** argv, int* round_trips);
int cmd_register(int argc, char** argv);
// imsdc call / imsdc answer (cmd_call.cpp).
int cmd_call(int argc, char** argv);
int cmd_answer(int argc, char** argv);
// imsdc dc peer and imsdc sdp offer (cmd_dc.cpp).
int cmd_dc(int argc, char** argv);
int cmd_sdp(int argc, char** argv);
// The avatar call demo: imsdc mf (cmd_mf.cpp) and imsdc avatar-call (cmd_avatar_call.cpp).
int cmd_mf(int argc, char** argv);
int cmd_avatar_call(int argc, char** argv);
// imsdc dc relay, the DC AS relay (cmd_dc_relay.cpp), dispatched by cmd_dc.
int cmd_dc_relay(int argc, char** argv);

} // namespace imsdc::cli

#endif // IMSDC_CLI_CLI_H
