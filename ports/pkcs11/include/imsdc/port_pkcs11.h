// imsdc PKCS#11 port: the device key lives in a PKCS#11 token (a secure element, an HSM, or
// SoftHSM2 in tests). It is generated inside the token as a sensitive, non-extractable P-256
// key and used only through C_Sign; the certificate chain is stored as CKO_CERTIFICATE
// objects beside it. No PKCS#11 type appears in this header.
#ifndef IMSDC_PORT_PKCS11_H
#define IMSDC_PORT_PKCS11_H

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "imsdc/port/keystore.h"
#include "imsdc/status.h"

namespace imsdc::pkcs11 {

// What the token says about the private key's protection (PKCS#11 key attributes).
struct KeyProtection {
  bool sensitive = false;         // CKA_SENSITIVE: the value cannot be read
  bool extractable = true;        // CKA_EXTRACTABLE: the key can be wrapped out
  bool always_sensitive = false;  // CKA_ALWAYS_SENSITIVE
  bool never_extractable = false; // CKA_NEVER_EXTRACTABLE
};

// One logged-in session on one token, bound to one key label. Objects used:
//   private + public key   CKA_LABEL = key_label (EC P-256, same CKA_ID)
//   certificates           CKA_LABEL = key_label (leaf), key_label + "-ca1", "-ca2", ...
// The keystore port's methods are serialised by an internal mutex (a PKCS#11 session must
// not be used by two threads at once).
class Token {
public:
  // dlopen()s the module, C_Initialize (shared by every Token of the same module in the
  // process), finds the slot whose token label is `token_label`, opens a read-write session
  // and logs in as user with `pin`. The PIN is copied into a buffer that is zeroized right
  // after C_Login; it is never logged. A missing key is not an error (see generate_key).
  // Errors: kInvalidArgument (empty module or label), kNotFound (module or token not found),
  // kAuthRejected (PIN incorrect or locked), kPortFailure (other PKCS#11 failures).
  static Result<std::unique_ptr<Token>> open(const std::string& module_path,
                                             const std::string& token_label, std::string_view pin,
                                             const std::string& key_label);
  // Logs out, closes the session and releases the module (C_Finalize + dlclose with the
  // last Token of that module).
  ~Token();
  Token(const Token&) = delete;
  Token& operator=(const Token&) = delete;

  // Generates the P-256 key pair in the token (CKM_EC_KEY_PAIR_GEN): private key
  // CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, CKA_SIGN true, CKA_EXTRACTABLE false. Refuses if
  // a key with this label exists unless `replace`; replacing generates the new pair first,
  // then destroys the old pair and its certificates. Errors: kState (key exists),
  // kPortFailure.
  Status generate_key(bool replace = false);
  bool has_key() const;

  // The keystore port; valid while this object lives.
  const imsdc_port_keystore* port() const { return &port_; }
  const std::string& key_label() const { return key_label_; }

  // Attributes of the private key as the token reports them. Errors: kNotFound,
  // kPortFailure.
  Result<KeyProtection> key_protection() const;
  // True when the private key could leave the token: CKA_EXTRACTABLE is true or
  // CKA_SENSITIVE is false. Errors: as key_protection().
  Result<bool> is_private_key_extractable() const;

  struct Impl; // PKCS#11 state; defined in keystore_pkcs11.cpp

private:
  Token();
  static int public_key_cb(void* ctx, std::uint8_t out_xy[64]);
  static int sign_cb(void* ctx, const std::uint8_t digest[32], std::uint8_t out_rs[64]);
  static int chain_cb(void* ctx, std::size_t index, std::uint8_t* out, std::size_t cap,
                      std::size_t* out_len);
  static int store_cb(void* ctx, const std::uint8_t* const* ders, const std::size_t* lens,
                      std::size_t count);

  std::unique_ptr<Impl> impl_;
  std::string key_label_;
  mutable std::mutex mu_;
  imsdc_port_keystore port_{};
};

} // namespace imsdc::pkcs11

#endif // IMSDC_PORT_PKCS11_H
