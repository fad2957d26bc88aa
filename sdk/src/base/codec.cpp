// Base64 (RFC 4648 sections 4 and 5) and hex. mbedTLS has a standard base64 codec but none
// for the URL alphabet and none that enforces canonical form, which JOSE needs (a changed
// unused bit must never decode to the same bytes), so both alphabets share this one strict
// implementation.
#include "imsdc/codec.h"

namespace imsdc {
namespace {

constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// 256-entry decode tables (0x80 = not in the alphabet), built at compile time: decoding
// runs inside every avatar download, where a per-character branch chain cost as much as
// the AES-GCM it feeds.
struct DecodeTable {
  std::uint8_t v[256];
};

constexpr DecodeTable make_table(const char* alphabet) {
  DecodeTable t{};
  for (int i = 0; i < 256; ++i)
    t.v[i] = 0x80;
  for (int i = 0; i < 64; ++i)
    t.v[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
  return t;
}

std::string encode(ByteSpan in, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    std::uint32_t v = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  std::size_t rest = in.size() - i;
  if (rest) {
    std::uint32_t v = in[i] << 16;
    if (rest == 2) v |= in[i + 1] << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2) out += alphabet[(v >> 6) & 63];
    if (pad) out.append(rest == 1 ? "==" : "=");
  }
  return out;
}

// Decodes unpadded text of a valid length; rejects non-zero unused bits.
Status decode_core(std::string_view in, bool url, std::uint8_t* out, std::size_t out_cap,
                   std::size_t* out_len) {
  static constexpr DecodeTable kStdTable = make_table(kStd);
  static constexpr DecodeTable kUrlTable = make_table(kUrl);
  const std::uint8_t* t = url ? kUrlTable.v : kStdTable.v;
  std::size_t rem = in.size() % 4;
  if (rem == 1) return Status(Code::kMalformed, Module::kBase, "base64: impossible length");
  std::size_t need = in.size() / 4 * 3 + (rem ? rem - 1 : 0);
  if (need > out_cap) return Status(Code::kTooLarge, Module::kBase, "base64: output too large");
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t whole = in.size() - rem;
  std::size_t o = 0;
  for (std::size_t i = 0; i < whole; i += 4) {
    std::uint32_t a = t[p[i]], b = t[p[i + 1]], c = t[p[i + 2]], d = t[p[i + 3]];
    if ((a | b | c | d) & 0x80)
      return Status(Code::kMalformed, Module::kBase, "base64: character outside the alphabet");
    std::uint32_t v = a << 18 | b << 12 | c << 6 | d;
    out[o] = static_cast<std::uint8_t>(v >> 16);
    out[o + 1] = static_cast<std::uint8_t>(v >> 8);
    out[o + 2] = static_cast<std::uint8_t>(v);
    o += 3;
  }
  if (rem) {
    std::uint32_t a = t[p[whole]], b = t[p[whole + 1]], c = rem == 3 ? t[p[whole + 2]] : 0;
    if ((a | b | c) & 0x80)
      return Status(Code::kMalformed, Module::kBase, "base64: character outside the alphabet");
    // Unused bits: the low 4 bits of the 2nd character (rem 2) or the low 2 of the 3rd (rem 3).
    if ((rem == 2 && (b & 0x0f)) || (rem == 3 && (c & 0x03)))
      return Status(Code::kMalformed, Module::kBase,
                    "base64: non-zero unused bits (not canonical)");
    std::uint32_t v = a << 18 | b << 12 | c << 6;
    out[o++] = static_cast<std::uint8_t>(v >> 16);
    if (rem == 3) out[o++] = static_cast<std::uint8_t>(v >> 8);
  }
  *out_len = o;
  return Status::ok();
}

} // namespace

std::string base64url_encode(ByteSpan in) {
  return encode(in, kUrl, false);
}

std::size_t base64url_decoded_size(std::size_t in_len) {
  std::size_t rem = in_len % 4;
  if (rem == 1) return 0;
  return in_len / 4 * 3 + (rem ? rem - 1 : 0);
}

Result<std::size_t> base64url_decode_to(std::string_view in, std::uint8_t* out,
                                        std::size_t out_cap) {
  std::size_t n = 0;
  Status s = decode_core(in, true, out, out_cap, &n);
  if (!s) return s;
  return n;
}

Result<Bytes> base64url_decode(std::string_view in, std::size_t max_out) {
  if (in.size() % 4 == 1)
    return Status(Code::kMalformed, Module::kBase, "base64: impossible length");
  std::size_t need = base64url_decoded_size(in.size());
  if (need > max_out) return Status(Code::kTooLarge, Module::kBase, "base64: output too large");
  Bytes out(need);
  std::size_t n = 0;
  Status s = decode_core(in, true, out.data(), out.size(), &n);
  if (!s) return s;
  return out;
}

std::string base64_encode(ByteSpan in) {
  return encode(in, kStd, true);
}

Result<Bytes> base64_decode(std::string_view in, std::size_t max_out) {
  if (in.size() % 4 != 0)
    return Status(Code::kMalformed, Module::kBase, "base64: length not a multiple of 4");
  std::size_t pad = 0;
  while (pad < 2 && pad < in.size() && in[in.size() - 1 - pad] == '=')
    ++pad;
  std::string_view body = in.substr(0, in.size() - pad);
  if (body.size() % 4 == 1) return Status(Code::kMalformed, Module::kBase, "base64: bad padding");
  std::size_t need = base64url_decoded_size(body.size());
  if (need > max_out) return Status(Code::kTooLarge, Module::kBase, "base64: output too large");
  Bytes out(need);
  std::size_t n = 0;
  Status s = decode_core(body, false, out.data(), out.size(), &n);
  if (!s) return s;
  return out;
}

std::string hex_encode(ByteSpan in) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(in.size() * 2);
  for (std::uint8_t b : in) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

Result<Bytes> hex_decode(std::string_view in, char separator) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Bytes out;
  std::size_t i = 0;
  while (i < in.size()) {
    if (!out.empty() && separator) {
      if (in[i] != separator)
        return Status(Code::kMalformed, Module::kBase, "hex: missing separator");
      ++i;
    }
    if (i + 2 > in.size())
      return Status(Code::kMalformed, Module::kBase, "hex: odd number of digits");
    int hi = nibble(in[i]), lo = nibble(in[i + 1]);
    if (hi < 0 || lo < 0) return Status(Code::kMalformed, Module::kBase, "hex: not a hex digit");
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
    i += 2;
  }
  return out;
}

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

} // namespace imsdc
