// Strict SDP generator (PROTOCOL_PROFILE.md section 3 line order) and small helpers.
//
// Every string written is checked: a field that could end a line (CR, LF, NUL) or split a
// token (space) is refused, so a label or an address coming from the application or from a
// peer can never inject SDP lines.
#include <algorithm>
#include <charconv>

#include "imsdc/codec.h"
#include "sdp/sdp.h"
#include "sdp/sdp_lines.h"

namespace imsdc::sdp {
namespace {

class Writer {
public:
  // Starts a line "<type>=".
  Writer& begin(char type) {
    out_.push_back(type);
    out_.push_back('=');
    return *this;
  }
  // Free text: anything but line breaks and NUL.
  Writer& text(std::string_view s) {
    for (char c : s)
      ok_ = ok_ && c != '\r' && c != '\n' && c != '\0';
    out_.append(s.data(), s.size());
    return *this;
  }
  // A token: non-empty free text without spaces.
  Writer& token(std::string_view s) {
    ok_ = ok_ && !s.empty() && s.find(' ') == std::string_view::npos;
    return text(s);
  }
  Writer& num(std::uint64_t v) {
    // std::to_chars, not snprintf("%llu"): newlib-nano's printf has no long long.
    char buf[24];
    std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, static_cast<std::size_t>(r.ptr - buf));
    return *this;
  }
  Writer& ch(char c) {
    out_.push_back(c);
    return *this;
  }
  // Ends the line. A line the parser would refuse (percent-encoding can triple a label) makes
  // the whole result kTooLarge rather than an SDP we could not read back.
  void end() {
    long_line_ = long_line_ || out_.size() - line_start_ > kMaxLineLength;
    out_.append("\r\n");
    line_start_ = out_.size();
  }
  // A verbatim line kept from a parsed SDP; must look like "<letter>=".
  void raw(const std::string& line) {
    ok_ = ok_ && line.size() >= 2 && line[0] >= 'a' && line[0] <= 'z' && line[1] == '=';
    text(line);
    end();
  }
  void extras(const std::vector<std::string>& lines, int (*rank)(char), int lo, int hi) {
    for (const std::string& l : lines) {
      int r = l.empty() ? lo : rank(l[0]); // an empty line fails in raw()
      if (r >= lo && r <= hi) raw(l);
    }
  }
  void fail() { ok_ = false; }
  bool ok() const { return ok_; }
  bool long_line() const { return long_line_; }
  std::string& str() { return out_; }

private:
  std::string out_;
  std::size_t line_start_ = 0;
  bool ok_ = true;
  bool long_line_ = false;
};

const char* addr_type(AddrType t) {
  return t == AddrType::kIp6 ? "IP6" : "IP4";
}

void connection(Writer& w, const Connection& c) {
  if (c.address.empty()) return;
  w.begin('c').text("IN ").text(addr_type(c.type)).ch(' ').token(c.address).end();
}

void fingerprints(Writer& w, const std::vector<Fingerprint>& list) {
  for (const Fingerprint& f : list) {
    if (f.digest.size() != hash_size(f.hash)) w.fail();
    w.begin('a').text("fingerprint:").text(hash_name(f.hash)).ch(' ');
    w.text(format_fingerprint(f.digest)).end();
  }
}

void ice(Writer& w, const IceParams& p) {
  if (!p.ufrag.empty()) w.begin('a').text("ice-ufrag:").token(p.ufrag).end();
  if (!p.pwd.empty()) w.begin('a').text("ice-pwd:").token(p.pwd).end();
  if (!p.options.empty()) {
    w.begin('a').text("ice-options:");
    for (std::size_t i = 0; i < p.options.size(); ++i) {
      if (i) w.ch(' ');
      w.token(p.options[i]);
    }
    w.end();
  }
}

// RFC 8864 quoted-string: visible ASCII except '"' and '%' as is, every other byte %XX.
void quoted(Writer& w, std::string_view s) {
  w.ch('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u <= 0x7E && c != '"' && c != '%') {
      w.ch(c);
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      w.ch('%').ch(kHex[u >> 4]).ch(kHex[u & 15]);
    }
  }
  w.ch('"');
}

void dcmap(Writer& w, const DcMap& c) {
  w.begin('a').text("dcmap:").num(c.stream_id);
  char sep = ' ';
  auto opt = [&](const char* name) -> Writer& {
    w.ch(sep).text(name).ch('=');
    sep = ';';
    return w;
  };
  if (!c.label.empty()) quoted(opt("label"), c.label);
  if (!c.subprotocol.empty()) quoted(opt("subprotocol"), c.subprotocol);
  if (c.ordered) opt("ordered").text(*c.ordered ? "true" : "false");
  if (c.max_retr) opt("max-retr").num(*c.max_retr);
  if (c.max_time) opt("max-time").num(*c.max_time);
  if (c.priority) opt("priority").num(*c.priority);
  w.end();
}

void dcsa(Writer& w, const DcMap& c) {
  if (c.bdc_used_by != BdcUsedBy::kNone) {
    w.begin('a').text("dcsa:").num(c.stream_id).text(" 3gpp-bdc-used-by:");
    w.text(c.bdc_used_by == BdcUsedBy::kSender ? "sender" : "receiver").end();
  }
  if (!c.req_app.empty()) {
    w.begin('a').text("dcsa:").num(c.stream_id).text(" 3gpp-req-app:").token(c.req_app).end();
  }
  for (const std::string& attr : c.dcsa) {
    w.begin('a').text("dcsa:").num(c.stream_id).ch(' ');
    // The parser drops spaces before the attribute, so they could not round-trip.
    if (attr.empty() || attr.front() == ' ') w.fail();
    w.text(attr).end();
  }
}

void media_line(Writer& w, const MediaSection& m) {
  // For the legacy DTLS/SCTP form fmt is the SCTP port, kept as text like any format list.
  w.begin('m').token(m.media).ch(' ').num(m.port).ch(' ').token(m.proto).ch(' ');
  if (m.fmt.empty()) w.fail();
  w.text(m.fmt).end();
}

void data_channel(Writer& w, const MediaSection& m) {
  media_line(w, m);
  w.extras(m.extra, media_rank, 0, 0);
  connection(w, m.connection);
  w.extras(m.extra, media_rank, 1, 2);
  switch (m.setup) {
  case Setup::kNone:
    break;
  case Setup::kActpass:
    w.begin('a').text("setup:actpass").end();
    break;
  case Setup::kActive:
    w.begin('a').text("setup:active").end();
    break;
  case Setup::kPassive:
    w.begin('a').text("setup:passive").end();
    break;
  case Setup::kHoldconn:
    w.begin('a').text("setup:holdconn").end();
    break;
  }
  fingerprints(w, m.fingerprints);
  if (!m.tls_id.empty()) w.begin('a').text("tls-id:").token(m.tls_id).end();
  if (m.is_legacy()) {
    w.begin('a').text("sctpmap:").num(m.sctp_port).text(" webrtc-datachannel 65535").end();
  } else {
    w.begin('a').text("sctp-port:").num(m.sctp_port).end();
  }
  w.begin('a').text("max-message-size:").num(m.max_message_size).end();
  for (const DcMap& c : m.channels) {
    if (c.stream_id > kMaxStreamId || (c.max_retr && c.max_time)) w.fail();
    dcmap(w, c);
  }
  for (const DcMap& c : m.channels)
    dcsa(w, c);
  ice(w, m.ice);
  for (const Candidate& c : m.candidates) {
    w.begin('a').text("candidate:").token(c.foundation).ch(' ').num(c.component).ch(' ');
    w.token(c.transport).ch(' ').num(c.priority).ch(' ').token(c.address).ch(' ').num(c.port);
    w.text(" typ ").token(c.type);
    if (!c.extensions.empty()) w.ch(' ').text(c.extensions);
    w.end();
  }
  if (!m.mid.empty()) w.begin('a').text("mid:").token(m.mid).end();
  w.extras(m.extra, media_rank, 3, 4);
}

} // namespace

const char* hash_name(HashFunc hash) {
  switch (hash) {
  case HashFunc::kSha1:
    return "sha-1";
  case HashFunc::kSha224:
    return "sha-224";
  case HashFunc::kSha256:
    return "sha-256";
  case HashFunc::kSha384:
    return "sha-384";
  case HashFunc::kSha512:
    return "sha-512";
  }
  return "unknown";
}

std::size_t hash_size(HashFunc hash) {
  switch (hash) {
  case HashFunc::kSha1:
    return 20;
  case HashFunc::kSha224:
    return 28;
  case HashFunc::kSha256:
    return 32;
  case HashFunc::kSha384:
    return 48;
  case HashFunc::kSha512:
    return 64;
  }
  return 0;
}

std::string format_fingerprint(ByteSpan digest) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(digest.size() * 3);
  for (std::size_t i = 0; i < digest.size(); ++i) {
    if (i) out.push_back(':');
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

Result<std::string> make_tls_id(RandomFn random, void* ctx) {
  if (random == nullptr)
    return Status(Code::kInvalidArgument, Module::kSdp, "sdp: no random source");
  // 18 bytes encode to exactly 24 base64 characters without padding.
  std::uint8_t bytes[18];
  Status s = random(ctx, bytes, sizeof bytes);
  if (!s) return s;
  std::string id = base64_encode(ByteSpan(bytes, sizeof bytes));
  secure_zero(bytes, sizeof bytes);
  return id;
}

Result<std::string> generate(const SessionDescription& sdp) {
  Writer w;
  w.begin('v').text("0").end();
  const Origin& o = sdp.origin;
  w.begin('o').token(o.username).ch(' ').token(o.session_id).ch(' ').token(o.session_version);
  w.text(" IN ").text(addr_type(o.type)).ch(' ').token(o.address).end();
  w.begin('s').text(sdp.session_name.empty() ? "-" : sdp.session_name).end();
  w.extras(sdp.extra, session_rank, 0, 3);
  connection(w, sdp.connection);
  w.extras(sdp.extra, session_rank, 4, 4);
  w.begin('t').text(sdp.timing).end();
  w.extras(sdp.extra, session_rank, 5, 7);
  if (sdp.ice_lite) w.begin('a').text("ice-lite").end();
  ice(w, sdp.ice);
  fingerprints(w, sdp.fingerprints);
  if (!sdp.bundle.empty()) {
    w.begin('a').text("group:BUNDLE");
    for (const std::string& mid : sdp.bundle)
      w.ch(' ').token(mid);
    w.end();
  }
  w.extras(sdp.extra, session_rank, 8, 9);
  for (const MediaSection& m : sdp.media) {
    if (m.is_data_channel) {
      data_channel(w, m);
    } else {
      media_line(w, m);
      for (const std::string& l : m.extra)
        w.raw(l);
    }
  }
  if (!w.ok()) return Status(Code::kInvalidArgument, Module::kSdp, "sdp: value cannot be written");
  if (w.long_line()) return Status(Code::kTooLarge, Module::kSdp, "sdp: generated line too long");
  if (w.str().size() > IMSDC_MAX_SDP_SIZE) {
    return Status(Code::kTooLarge, Module::kSdp, "sdp: generated SDP exceeds IMSDC_MAX_SDP_SIZE");
  }
  return std::move(w.str());
}

} // namespace imsdc::sdp
