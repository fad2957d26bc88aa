// Text codecs: canonical base64url (RFC 4648 section 5, no padding), standard base64 (for
// PEM, x5c and digests), and hex (lower case for output, either case for input).
//
// Decoding is strict and canonical (PROTOCOL_PROFILE.md section 7): characters outside the
// alphabet, padding in base64url, a length of 1 mod 4, or non-zero unused bits in the last
// character all fail with Code::kMalformed. Thus every byte string has exactly one encoding,
// and a changed last character can never decode to the same bytes.
#ifndef IMSDC_CODEC_H
#define IMSDC_CODEC_H

#include <cstddef>
#include <string>
#include <string_view>

#include "imsdc/bytes.h"
#include "imsdc/status.h"

namespace imsdc {

std::string base64url_encode(ByteSpan in);
// Errors: kMalformed (not canonical base64url), kTooLarge (decoded size > max_out).
Result<Bytes> base64url_decode(std::string_view in,
                               std::size_t max_out = static_cast<std::size_t>(-1));
// Decodes into caller memory; returns the number of bytes written. Errors as above, and
// kTooLarge when out_cap is too small.
Result<std::size_t> base64url_decode_to(std::string_view in, std::uint8_t* out,
                                        std::size_t out_cap);
// Exact decoded size of a canonical base64url text of in_len characters (0 when invalid).
std::size_t base64url_decoded_size(std::size_t in_len);

// Standard base64 with '=' padding (RFC 4648 section 4). Decoding requires canonical padding.
std::string base64_encode(ByteSpan in);
Result<Bytes> base64_decode(std::string_view in,
                            std::size_t max_out = static_cast<std::size_t>(-1));

std::string hex_encode(ByteSpan in);
// Accepts upper or lower case; optional separator character between bytes (e.g. ':').
Result<Bytes> hex_decode(std::string_view in, char separator = 0);

// ASCII case-insensitive equality (header names, tokens, schemes); other bytes must match.
bool ascii_iequals(std::string_view a, std::string_view b);

} // namespace imsdc

#endif // IMSDC_CODEC_H
