// imsdc::Status and imsdc::Result<T>: the only way errors leave an imsdc function.
//
// A Status is a stable numeric code plus the module that produced it. Codes never change
// meaning once released; new codes are only appended. No heap is used: the human message
// is a static string chosen by code (and optionally a static detail string).
#ifndef IMSDC_STATUS_H
#define IMSDC_STATUS_H

#include <cstdint>
#include <new>
#include <utility>

namespace imsdc {

// Stable error codes. The numeric values are part of the ABI and of the C API.
enum class Code : std::uint16_t {
  kOk = 0,
  kInvalidArgument = 1, // caller passed something unusable
  kMalformed = 2,       // input does not parse (syntax, base64, header)
  kTooLarge = 3,        // input or output exceeds a configured bound
  kBadKey = 4,          // key not usable (point not on curve, wrong type or size)
  kBinding = 5,         // value does not bind to what it must (apv != jti, iss != IMPU, alg)
  kAuthFailed = 6,      // integrity check failed (AEAD tag)
  kExpired = 7,         // outside its validity period (exp, certificate dates, iat freshness)
  kKeyUsed = 8,         // single-use key already consumed
  kIo = 9,              // storage or file I/O failed
  kNotFound = 10,       // no such item (key-value entry, certificate, channel)
  kUnsupported = 11,    // valid but not supported (algorithm, version)
  kBadSignature = 12,   // signature does not verify
  kUntrusted = 13,      // certificate chain does not lead to a configured trust anchor
  kNoMemory = 14,       // allocator failed or a bounded pool is exhausted
  kWouldBlock = 15,     // non-blocking operation cannot proceed now
  kClosed = 16,         // peer or transport closed
  kTimeout = 17,        // deadline passed
  kInternal = 18,       // a dependency failed in an unexpected way
  kRejected = 19,       // the peer refused for a reason other than authentication
  kAuthRejected = 20,   // the peer refused our credentials (SIP 401/403, BAR 401/403)
  kTls = 21,            // TLS/DTLS handshake or certificate failure
  kNetwork = 22,        // connect, send or receive failed
  kState = 23,          // call not valid in the current state
  kPortFailure = 24,    // a port function failed or broke its contract
  kEntropy = 25,        // entropy source failed
};

// Where a status came from; only for diagnostics (not part of equality).
enum class Module : std::uint8_t {
  kNone = 0,
  kBase,
  kCrypto,
  kPort,
  kSip,
  kSdp,
  kTransport,
  kDc,
  kAvatar,
  kIdentity,
  kCli,
};

// Process exit classes of PROTOCOL_PROFILE.md section 11.
enum class ExitClass : int {
  kSuccess = 0,
  kUsage = 2,
  kVerification = 3,
  kIo = 4,
  kAuth = 5,
  kTls = 6,
  kNetwork = 7,
  kRefused = 8,
  kInternal = 9,
};

class [[nodiscard]] Status {
public:
  constexpr Status() = default;
  constexpr Status(Code code, Module module, const char* detail = nullptr)
      : code_(code), module_(module), detail_(detail) {}
  static constexpr Status ok() { return Status(); }

  constexpr bool is_ok() const { return code_ == Code::kOk; }
  constexpr explicit operator bool() const { return is_ok(); }
  constexpr Code code() const { return code_; }
  constexpr Module module() const { return module_; }
  // Static detail string set by the producer (may be null). Never contains secrets.
  constexpr const char* detail() const { return detail_; }
  // Stable short name of the code, e.g. "auth_failed" (matches PROTOCOL_PROFILE.md classes).
  const char* name() const;
  // Human message: the detail if set, else a sentence for the code.
  const char* message() const;
  ExitClass exit_class() const;

  friend constexpr bool operator==(const Status& a, const Status& b) { return a.code_ == b.code_; }
  friend constexpr bool operator!=(const Status& a, const Status& b) { return a.code_ != b.code_; }
  friend constexpr bool operator==(const Status& a, Code c) { return a.code_ == c; }
  friend constexpr bool operator!=(const Status& a, Code c) { return a.code_ != c; }

private:
  Code code_ = Code::kOk;
  Module module_ = Module::kNone;
  const char* detail_ = nullptr;
};

const char* code_name(Code code);
const char* module_name(Module module);

// Result<T>: a T or a non-ok Status. No exceptions; accessing value() of an error aborts.
template <typename T> class [[nodiscard]] Result {
public:
  Result(const T& value) : status_(), has_(true) { new (&storage_) T(value); }       // NOLINT
  Result(T&& value) : status_(), has_(true) { new (&storage_) T(std::move(value)); } // NOLINT
  Result(Status status) : status_(status), has_(false) {                             // NOLINT
    if (status_.is_ok())
      status_ = Status(Code::kInternal, Module::kBase, "ok status without value");
  }
  Result(Code code, Module module, const char* detail = nullptr)
      : Result(Status(code, module, detail)) {}
  Result(const Result& o) : status_(o.status_), has_(o.has_) {
    if (has_) new (&storage_) T(*o.ptr());
  }
  Result(Result&& o) noexcept : status_(o.status_), has_(o.has_) {
    if (has_) new (&storage_) T(std::move(*o.ptr()));
  }
  Result& operator=(Result o) noexcept {
    reset();
    status_ = o.status_;
    has_ = o.has_;
    if (has_) new (&storage_) T(std::move(*o.ptr()));
    return *this;
  }
  ~Result() { reset(); }

  bool is_ok() const { return has_; }
  explicit operator bool() const { return has_; }
  const Status& status() const { return status_; }
  T& value() & {
    check();
    return *ptr();
  }
  const T& value() const& {
    check();
    return *ptr();
  }
  T&& value() && {
    check();
    return std::move(*ptr());
  }
  T* operator->() {
    check();
    return ptr();
  }
  const T* operator->() const {
    check();
    return ptr();
  }
  T& operator*() & {
    check();
    return *ptr();
  }

private:
  void reset() {
    if (has_) ptr()->~T();
    has_ = false;
  }
  void check() const {
    if (!has_) __builtin_trap();
  }
  T* ptr() { return std::launder(reinterpret_cast<T*>(&storage_)); }
  const T* ptr() const { return std::launder(reinterpret_cast<const T*>(&storage_)); }

  Status status_;
  bool has_;
  alignas(T) unsigned char storage_[sizeof(T)];
};

} // namespace imsdc

// Propagate a non-ok Status from an expression returning Status.
#define IMSDC_TRY(expr)                                                                            \
  do {                                                                                             \
    ::imsdc::Status imsdc_try_s_ = (expr);                                                         \
    if (!imsdc_try_s_.is_ok()) return imsdc_try_s_;                                                \
  } while (0)

#endif // IMSDC_STATUS_H
