// Building SIP messages: request/response builder, derived requests (ACK for a non-2xx
// final response, CANCEL), identifiers (branch, tag, Call-ID, instance UUID, the random
// ".invalid" host of RFC 7118) and the Via and Contact values of PROTOCOL_PROFILE.md
// section 1.
//
// Pure: randomness comes from a caller-supplied RandomSource (the core passes its DRBG), so
// tests can make every identifier deterministic.
#ifndef IMSDC_SRC_SIP_BUILDER_H
#define IMSDC_SRC_SIP_BUILDER_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "imsdc/bytes.h"
#include "imsdc/status.h"
#include "sip/message.h"

namespace imsdc::sip {

// Caller-supplied randomness. fill must write exactly length bytes or return an error
// (typically kEntropy), which the functions below pass on unchanged.
struct RandomSource {
  Status (*fill)(void* context, std::uint8_t* out, std::size_t length) = nullptr;
  void* context = nullptr;
};

// `bytes` random bytes as lower-case hex. Errors: kInvalidArgument (no fill function or
// bytes > 64), or the error of fill.
Result<std::string> random_hex(const RandomSource& random, std::size_t bytes);
// RFC 3261 section 8.1.1.7 branch: "z9hG4bK" + 96 random bits. Errors: as random_hex.
Result<std::string> make_branch(const RandomSource& random);
// From/To tag with 64 random bits. Errors: as random_hex.
Result<std::string> make_tag(const RandomSource& random);
// Call-ID with 128 random bits (no host part: it would only leak the device's address).
// Errors: as random_hex.
Result<std::string> make_call_id(const RandomSource& random);
// RFC 4122 version-4 UUID in lower case ("f81d4fae-7dec-41d0-a765-00a0c91e6bf6"), for the
// +sip.instance of a device that has none stored yet. Errors: as random_hex.
Result<std::string> make_uuid_v4(const RandomSource& random);
// A random host name "<16 hex>.invalid" for Via and Contact (RFC 7118 section 5.2: the
// client has no reachable address of its own). Errors: as random_hex.
Result<std::string> make_invalid_host(const RandomSource& random);

// "SIP/2.0/WSS <host>;branch=<branch>" (PROTOCOL_PROFILE.md section 1). Errors:
// kInvalidArgument (host not a host name or branch not a token starting with z9hG4bK).
Result<std::string> format_via(std::string_view host, std::string_view branch);

// The Contact of a WebSocket UE (PROTOCOL_PROFILE.md section 1):
// <sip:USER@HOST;transport=ws>;+sip.instance="<urn:uuid:UUID>";reg-id=N[;+sip.app-subtype=
// "webrtc-datachannel"]. reg_id 0 omits reg-id (and RFC 5626 outbound with it).
struct ContactSpec {
  std::string_view user;          // user part of the IMPU, e.g. "alice" or "+12025550100"
  std::string_view host;          // from make_invalid_host
  std::string_view instance_uuid; // UUID only, without "urn:uuid:"
  std::uint32_t reg_id = 1;
  bool data_channel = true; // add the TS 24.186 data-channel feature tag
};
// Errors: kInvalidArgument (user with characters that need escaping, bad host or UUID).
Result<std::string> format_contact(const ContactSpec& spec);

// Builds one message. Errors are sticky and reported by build(), so call chains stay short.
// The builder writes Content-Length itself (always, also for an empty body).
class MessageBuilder {
public:
  // A request line "METHOD URI SIP/2.0". Errors at build(): kInvalidArgument (method not a
  // token, URI not a valid URI or containing white space).
  static MessageBuilder request(std::string_view method, std::string_view request_uri);
  // A status line "SIP/2.0 CODE REASON". Errors at build(): kInvalidArgument (code outside
  // 100..699, CR/LF in reason).
  static MessageBuilder response(int status_code, std::string_view reason);

  // Appends "Name: value". Errors at build(): kInvalidArgument (name not a token, value
  // with CR, LF or NUL (header injection), or a Content-Length, which the builder owns).
  MessageBuilder& header(std::string_view name, std::string_view value);
  // Sets the body and its Content-Type. Errors at build(): kInvalidArgument (bad type).
  MessageBuilder& body(std::string_view content_type, ByteSpan content);

  // The message text. Errors: the first sticky error, or kTooLarge when the message would
  // exceed IMSDC_MAX_SIP_MESSAGE.
  Result<std::string> build() const;
  // Overwrites the text held so far with zeros (after building a message that carried a
  // credential); the builder is empty afterwards.
  void wipe();

private:
  friend MessageBuilder response_for(const Message&, int, std::string_view, std::string_view);
  friend MessageBuilder ack_for_failure(const Message&, const Message&);
  friend MessageBuilder cancel_for(const Message&);
  MessageBuilder& fail(const char* detail);

  std::string head_;
  Bytes body_;
  Status error_;
};

// A response to `request` (RFC 3261 section 8.2.6): status line, all Via values in order,
// From, To (with ";tag=to_tag" added when the To has no tag, the code is above 100 and
// to_tag is not empty), Call-ID and CSeq. Add further headers to the returned builder.
// Errors at build(): as MessageBuilder.
MessageBuilder response_for(const Message& request, int status_code, std::string_view reason,
                            std::string_view to_tag);

// The ACK a client INVITE transaction sends for a 3xx-6xx response (RFC 3261 section
// 17.1.1.3): Request-URI, top Via, From, Call-ID, Route of the INVITE, To of the response,
// CSeq "<n> ACK", Max-Forwards 70. Errors at build(): kInvalidArgument when `invite` is not
// an INVITE or `response` not a final non-2xx response.
MessageBuilder ack_for_failure(const Message& invite, const Message& response);

// CANCEL for a pending request (RFC 3261 section 9.1): same Request-URI, top Via, From, To,
// Call-ID, Route and CSeq number. Errors at build(): kInvalidArgument when `request` is an
// ACK or a CANCEL.
MessageBuilder cancel_for(const Message& request);

} // namespace imsdc::sip

#endif // IMSDC_SRC_SIP_BUILDER_H
