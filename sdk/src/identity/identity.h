// Verified caller identity (PROTOCOL_PROFILE.md section 10): the Identity header (RFC 8224),
// PASSporT verification (RFC 8225, SHAKEN RFC 8588, Rich Call Data RFC 9795), the network's
// verstat verdict, and the caller card in which every field carries its own status.
//
// Everything is sans-I/O: certificates (x5u) and linked Rich Call Data (jcl, icn) arrive
// through a CertificateFetcher the caller supplies, and the wall clock is a parameter.
#ifndef IMSDC_SRC_IDENTITY_IDENTITY_H
#define IMSDC_SRC_IDENTITY_IDENTITY_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "imsdc/config_defaults.h"
#include "imsdc/crypto.h"
#include "imsdc/status.h"
#include "sip/message.h"

struct cJSON;

namespace imsdc::identity {

// Most Identity header fields examined per request; real calls carry one or two (SHAKEN
// plus rcd), so more means a malformed or hostile request.
constexpr std::size_t kMaxIdentityHeaders = 4;
// Longest Identity header value: the PASSporT plus its parameters.
constexpr std::size_t kMaxIdentityHeaderSize = IMSDC_MAX_JWS_SIZE + 1024;
// Largest resource (certificate chain, jCard, icon) a fetch may return, bytes.
constexpr std::size_t kMaxFetchSize = 65536;
// Default iat freshness window of RFC 8224 section 6.2.1, seconds.
constexpr std::int64_t kDefaultIatWindow = 60;

// One Identity header field: `<jws>;info=<url>;alg=ES256;ppt=shaken`.
struct IdentityHeader {
  std::string_view jws;  // full compact form (header.payload.signature)
  std::string_view info; // the URI inside <>
  std::string_view alg;  // empty when absent
  std::string_view ppt;  // empty when absent
};

// Parses one Identity header value (RFC 8224 section 4.1). Views point into value.
// Errors: kTooLarge (over kMaxIdentityHeaderSize), kMalformed (no JWS, missing or
// unbracketed info, bad parameters, a JWS that is not three base64url segments),
// kUnsupported (alg other than ES256; the compact form with an empty payload, whose
// reconstruction from SIP headers imsdc does not implement).
Result<IdentityHeader> parse_identity_header(std::string_view value);

// The claims set of a PASSporT (RFC 8225 section 5; SHAKEN RFC 8588; RCD RFC 9795) as parsed,
// before it is compared with the request and the clock.
struct PassportClaims {
  std::int64_t iat = 0;
  std::string orig;              // orig.tn, normalized (digits)
  std::vector<std::string> dest; // the dest.tn entries that are telephone numbers, normalized
  std::string attest;            // "A", "B", "C"; empty: none
  struct JsonDeleter {
    void operator()(cJSON* node) const;
  };
  std::unique_ptr<cJSON, JsonDeleter> json; // the whole set (rcd, rcdi, crn are read from it)
};

// Most dest.tn entries a PASSporT may carry.
constexpr std::size_t kMaxDestNumbers = 16;

// Parses the claims of a PASSporT whose header says ppt ("shaken", "rcd" or empty). Pure and
// bounded (IMSDC_MAX_JWS_SIZE). Errors: kTooLarge (input, more than kMaxDestNumbers dest
// numbers), kMalformed (not a JSON object, iat not a non-negative integer, orig.tn not a
// telephone number, dest.tn not an array of strings, attest not A/B/C, shaken without
// attest).
Result<PassportClaims> parse_passport_claims(std::string_view json, std::string_view ppt);

// What the caller card takes from a jCard (RFC 7095): the first fn and org texts and the
// photo and logo URIs, with their index in the property array (for rcdi JSON Pointers).
struct JCard {
  std::string fn;
  std::string org;
  struct Link {
    std::size_t index = 0;
    std::string name; // "photo" or "logo"
    std::string uri;
  };
  std::vector<Link> links;
};

// Most jCard properties examined (photo/logo links beyond them are ignored).
constexpr std::size_t kMaxJCardProperties = 64;

// Parses a jCard ["vcard", [[name, params, type, value...]...]] (the bytes of a jcl resource,
// at most kMaxFetchSize). Errors: kTooLarge, kMalformed (not JSON, not a jCard).
Result<JCard> parse_jcard(std::string_view json);

// Where x5u certificates and linked Rich Call Data come from (HTTPS in a device, a local
// directory in the CLI and tests).
struct CertificateFetcher {
  // MUST write the resource named by url (url_len bytes, not NUL-terminated) to out, at
  // most cap bytes, set *out_len and return 0; MUST return a negative value when the
  // resource is unavailable or larger than cap. MUST NOT block longer than the caller's
  // call-setup budget. Null: nothing can be fetched (every x5u fails).
  int (*fetch)(void* ctx, const char* url, std::size_t url_len, std::uint8_t* out, std::size_t cap,
               std::size_t* out_len) = nullptr;
  void* ctx = nullptr;
};

struct VerifyConfig {
  const crypto::TrustStore* trust = nullptr; // STI roots; required
  std::int64_t now_s = -1;                   // the port's wall clock, seconds
  std::int64_t iat_window_s = kDefaultIatWindow;
  CertificateFetcher fetcher;
};

// Status of one caller card field. Only the two "verified" values may be shown as verified.
enum class FieldStatus : std::uint8_t {
  kVerifiedNetwork, // the network vouched (verstat TN-Validation-Passed)
  kVerifiedE2e,     // covered by a verified PASSporT (and its rcdi digest when linked)
  kNotAttested,     // carried by a valid PASSporT that does not attest it (attest B/C)
  kUnverified,      // nobody vouched for it
  kFailed,          // a check that should have covered it failed
};
const char* field_status_name(FieldStatus status);

struct CardField {
  bool present = false; // false: value is JSON null
  std::string value;
  FieldStatus status = FieldStatus::kUnverified;
  std::string reason;
};

struct CallerCard {
  CardField number;
  CardField name;
  CardField organization;
  CardField photo;
  CardField avatar;
  CardField call_reason;
  std::string verstat; // empty: none
  std::string attest;  // "A", "B", "C"; empty: null
  // True when the request carries an Identity header.
  bool has_identity = false;
  // True when at least one PASSporT verified.
  bool passport_verified = false;
  // Why the first PASSporT failed (ok when none failed).
  Status passport_status;
};

// Verifies the Identity headers of a request and builds its caller card. PASSporT failures
// do not fail the call: they appear in the card (failed fields, passport_status).
// Errors: kInvalidArgument (no trust store, not a request).
Result<CallerCard> verify_request(const sip::Message& request, const VerifyConfig& config);

// The caller card as the JSON object of PROTOCOL_PROFILE.md section 10.
std::string caller_card_json(const CallerCard& card);

} // namespace imsdc::identity

#endif // IMSDC_SRC_IDENTITY_IDENTITY_H
