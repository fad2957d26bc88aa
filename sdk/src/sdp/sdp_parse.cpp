// Bounded SDP parser. Every size is checked before anything grows, and every error carries a
// static detail string, so the parser can be fed hostile input from the network and fuzzed.
#include <algorithm>
#include <tuple>

#include "imsdc/codec.h"
#include "sdp/sdp.h"
#include "sdp/sdp_lines.h"

namespace imsdc::sdp {
namespace {

Status malformed(const char* detail) {
  return Status(Code::kMalformed, Module::kSdp, detail);
}
Status too_large(const char* detail) {
  return Status(Code::kTooLarge, Module::kSdp, detail);
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

// Next space-separated token; runs of spaces count as one separator (lenient).
std::string_view next_token(std::string_view* s) {
  std::size_t i = 0;
  while (i < s->size() && (*s)[i] == ' ')
    ++i;
  std::size_t j = i;
  while (j < s->size() && (*s)[j] != ' ')
    ++j;
  std::string_view tok = s->substr(i, j - i);
  *s = s->substr(j);
  return tok;
}

std::string_view skip_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  return s;
}

// Decimal without sign or leading '+'; at most 10 digits so the value fits in 64 bits.
std::optional<std::uint64_t> parse_uint(std::string_view s, std::uint64_t max) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

bool is_ice_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

bool is_ice_token(std::string_view s) {
  return !s.empty() && s.size() <= 256 && std::all_of(s.begin(), s.end(), is_ice_char);
}

// RFC 8842 section 5: tls-id-char = ALPHA / DIGIT / "+" / "/" / "-" / "_".
bool is_tls_id(std::string_view s) {
  return !s.empty() && s.size() <= 255 && std::all_of(s.begin(), s.end(), [](char c) {
    return is_ice_char(c) || c == '-' || c == '_';
  });
}

Status parse_connection(std::string_view v, Connection* out) {
  std::string_view net = next_token(&v), type = next_token(&v), addr = next_token(&v);
  if (net != "IN" || addr.empty() || !skip_spaces(v).empty()) return malformed("sdp: bad c= line");
  if (type == "IP4") {
    out->type = AddrType::kIp4;
  } else if (type == "IP6") {
    out->type = AddrType::kIp6;
  } else {
    return malformed("sdp: c= address type is not IP4 or IP6");
  }
  out->address = std::string(addr);
  return Status::ok();
}

Status parse_origin(std::string_view v, Origin* out) {
  std::string_view user = next_token(&v), id = next_token(&v), version = next_token(&v);
  Connection c;
  if (user.empty() || id.empty() || version.empty() || !parse_connection(v, &c)) {
    return malformed("sdp: bad o= line");
  }
  *out = Origin{std::string(user), std::string(id), std::string(version), c.type, c.address};
  return Status::ok();
}

std::optional<HashFunc> parse_hash_name(std::string_view name) {
  for (HashFunc h : {HashFunc::kSha1, HashFunc::kSha224, HashFunc::kSha256, HashFunc::kSha384,
                     HashFunc::kSha512}) {
    if (ascii_iequals(name, hash_name(h))) return h;
  }
  return std::nullopt;
}

// Appends the fingerprint to `list` unless its hash function is one we cannot check.
Status parse_fingerprint(std::string_view v, std::vector<Fingerprint>* list) {
  std::string_view name = next_token(&v), hex = next_token(&v);
  if (name.empty() || hex.empty() || !skip_spaces(v).empty())
    return malformed("sdp: bad fingerprint");
  std::optional<HashFunc> hash = parse_hash_name(name);
  if (!hash) return Status::ok(); // md5, md2 or a future name: ignore (RFC 8122 section 5)
  if (list->size() >= kMaxFingerprints) return too_large("sdp: too many fingerprints");
  Result<Bytes> digest = hex_decode(hex, ':');
  if (!digest || digest->size() != hash_size(*hash))
    return malformed("sdp: bad fingerprint digest");
  list->push_back(Fingerprint{*hash, std::move(digest.value())});
  return Status::ok();
}

Status parse_candidate(std::string_view v, Candidate* out) {
  std::string_view foundation = next_token(&v), component = next_token(&v),
                   transport = next_token(&v), priority = next_token(&v), addr = next_token(&v),
                   port = next_token(&v), typ = next_token(&v), type = next_token(&v);
  auto comp = parse_uint(component, 256);
  auto prio = parse_uint(priority, 0xFFFFFFFFu);
  auto p = parse_uint(port, 65535);
  if (!is_ice_token(foundation) || foundation.size() > 32 || !comp || *comp == 0 ||
      transport.empty() || !prio || addr.empty() || !p || typ != "typ" || type.empty()) {
    return malformed("sdp: bad candidate");
  }
  *out = Candidate{std::string(foundation), static_cast<std::uint16_t>(*comp),
                   std::string(transport),  static_cast<std::uint32_t>(*prio),
                   std::string(addr),       static_cast<std::uint16_t>(*p),
                   std::string(type),       std::string(skip_spaces(v))};
  return Status::ok();
}

// RFC 8864 quoted-string: DQUOTE *(visible except '"' and '%', or "%" HEXDIG HEXDIG) DQUOTE.
// Leniently accepts any byte but '"' unescaped. On success *v is advanced past the quote.
Status parse_quoted(std::string_view* v, std::string* out) {
  out->clear();
  std::size_t i = 1;
  for (; i < v->size() && (*v)[i] != '"'; ++i) {
    char c = (*v)[i];
    if (c == '%') {
      Result<Bytes> byte =
          i + 2 < v->size() ? hex_decode(v->substr(i + 1, 2)) : Result<Bytes>(malformed(""));
      if (!byte) return malformed("sdp: bad %-escape in dcmap string");
      c = static_cast<char>(byte->front());
      i += 2;
    }
    out->push_back(c);
  }
  if (i >= v->size()) return malformed("sdp: unterminated dcmap string");
  v->remove_prefix(i + 1);
  return Status::ok();
}

// Applies the 3GPP attributes that live in a=dcsa (or, leniently, as bare media attributes).
// Returns false when `attr` is not one of them, or has a value we do not know.
bool apply_3gpp(std::string_view attr, DcMap* ch) {
  if (starts_with(attr, "3gpp-req-app:")) {
    std::string_view app = attr.substr(13);
    if (app.empty() || app.find(' ') != std::string_view::npos) return false;
    ch->req_app = std::string(app);
    return true;
  }
  if (attr == "3gpp-bdc-used-by:sender") {
    ch->bdc_used_by = BdcUsedBy::kSender;
    return true;
  }
  if (attr == "3gpp-bdc-used-by:receiver") {
    ch->bdc_used_by = BdcUsedBy::kReceiver;
    return true;
  }
  return false;
}

void sort_extras(std::vector<std::string>* lines, int (*rank)(char)) {
  std::stable_sort(
      lines->begin(), lines->end(),
      [rank](const std::string& a, const std::string& b) { return rank(a[0]) < rank(b[0]); });
}

class Parser {
public:
  explicit Parser(SessionDescription* out) : out_(out) {}

  Status line(char type, std::string_view value, std::string_view raw) {
    if (out_->media.empty()) return session_line(type, value, raw);
    MediaSection& m = out_->media.back();
    if (!m.is_data_channel) {
      if (type == 'a' && starts_with(value, "mid:")) m.mid = std::string(value.substr(4));
      m.extra.emplace_back(raw);
      return Status::ok();
    }
    return dc_line(m, type, value, raw);
  }

  Status begin_media(std::string_view v) {
    IMSDC_TRY(finish_media());
    if (out_->media.size() >= kMaxMediaSections) return too_large("sdp: too many m-lines");
    MediaSection m;
    std::string_view media = next_token(&v), port = next_token(&v), proto = next_token(&v);
    std::string_view fmt = skip_spaces(v);
    auto p = parse_uint(port, 65535);
    if (media.empty() || !p || proto.empty() || fmt.empty()) return malformed("sdp: bad m= line");
    m.media = std::string(media);
    m.port = static_cast<std::uint16_t>(*p);
    m.proto = std::string(proto);
    m.fmt = std::string(fmt);
    if (media == "application") {
      if ((proto == "UDP/DTLS/SCTP" || proto == "TCP/DTLS/SCTP") && fmt == "webrtc-datachannel") {
        m.is_data_channel = true;
      } else if (proto == "DTLS/SCTP") {
        // Legacy draft form: the format is the SCTP port (lenient, profile section 3).
        auto sctp = parse_uint(fmt, 65535);
        if (!sctp || *sctp == 0) return malformed("sdp: bad legacy DTLS/SCTP port");
        m.is_data_channel = true;
        m.sctp_port = static_cast<std::uint16_t>(*sctp);
      }
    }
    out_->media.push_back(std::move(m));
    return Status::ok();
  }

  // Attaches a=dcsa lines to their channels once the whole m-line has been read (dcsa may
  // precede its dcmap); dcsa for an undeclared stream is dropped (RFC 8864 section 5.2).
  Status finish_media() {
    if (out_->media.empty()) return Status::ok();
    MediaSection& m = out_->media.back();
    if (!m.is_data_channel) return Status::ok();
    for (auto& [id, attr] : dcsa_) {
      auto ch = std::find_if(m.channels.begin(), m.channels.end(),
                             [id = id](const DcMap& c) { return c.stream_id == id; });
      if (ch == m.channels.end() || apply_3gpp(attr, &*ch)) continue;
      if (ch->dcsa.size() >= kMaxDcsaPerChannel) return too_large("sdp: too many dcsa lines");
      ch->dcsa.push_back(std::move(attr));
    }
    dcsa_.clear();
    sort_extras(&m.extra, media_rank);
    return Status::ok();
  }

private:
  Status session_line(char type, std::string_view v, std::string_view raw) {
    switch (type) {
    case 'o':
      return parse_origin(v, &out_->origin);
    case 's':
      out_->session_name = v.empty() ? "-" : std::string(v);
      return Status::ok();
    case 'c':
      return parse_connection(v, &out_->connection);
    case 't':
      if (!seen_timing_) {
        seen_timing_ = true;
        out_->timing = std::string(v);
        return Status::ok();
      }
      break;
    case 'a':
      if (v == "ice-lite") {
        out_->ice_lite = true;
        return Status::ok();
      }
      if (starts_with(v, "fingerprint:"))
        return parse_fingerprint(v.substr(12), &out_->fingerprints);
      if (starts_with(v, "group:BUNDLE")) {
        std::string_view rest = v.substr(12);
        out_->bundle.clear();
        for (std::string_view mid = next_token(&rest); !mid.empty(); mid = next_token(&rest)) {
          if (out_->bundle.size() >= kMaxMediaSections) return too_large("sdp: BUNDLE too long");
          out_->bundle.emplace_back(mid);
        }
        return Status::ok();
      }
      {
        bool handled = false;
        IMSDC_TRY(ice_attr(v, &out_->ice, &handled));
        if (handled) return Status::ok();
      }
      break;
    default:
      break;
    }
    out_->extra.emplace_back(raw);
    return Status::ok();
  }

  static Status ice_attr(std::string_view v, IceParams* ice, bool* handled) {
    *handled = true;
    if (starts_with(v, "ice-ufrag:")) {
      if (!is_ice_token(v.substr(10))) return malformed("sdp: bad ice-ufrag");
      ice->ufrag = std::string(v.substr(10));
    } else if (starts_with(v, "ice-pwd:")) {
      if (!is_ice_token(v.substr(8))) return malformed("sdp: bad ice-pwd");
      ice->pwd = std::string(v.substr(8));
    } else if (starts_with(v, "ice-options:")) {
      std::string_view rest = v.substr(12);
      ice->options.clear();
      for (std::string_view t = next_token(&rest); !t.empty(); t = next_token(&rest)) {
        if (ice->options.size() >= 8) return too_large("sdp: too many ice-options");
        ice->options.emplace_back(t);
      }
    } else {
      *handled = false;
    }
    return Status::ok();
  }

  Status dc_line(MediaSection& m, char type, std::string_view v, std::string_view raw) {
    if (type == 'c') return parse_connection(v, &m.connection);
    if (type != 'a') {
      m.extra.emplace_back(raw);
      return Status::ok();
    }
    bool handled = false;
    IMSDC_TRY(ice_attr(v, &m.ice, &handled));
    if (handled) return Status::ok();
    if (starts_with(v, "setup:")) {
      std::string_view s = v.substr(6);
      if (ascii_iequals(s, "actpass"))
        m.setup = Setup::kActpass;
      else if (ascii_iequals(s, "active"))
        m.setup = Setup::kActive;
      else if (ascii_iequals(s, "passive"))
        m.setup = Setup::kPassive;
      else if (ascii_iequals(s, "holdconn"))
        m.setup = Setup::kHoldconn;
      else
        return malformed("sdp: bad setup value");
      return Status::ok();
    }
    if (starts_with(v, "fingerprint:")) return parse_fingerprint(v.substr(12), &m.fingerprints);
    if (starts_with(v, "tls-id:")) {
      std::string_view id = skip_spaces(v.substr(7)); // TS 26.114 examples put a space here
      if (!is_tls_id(id)) return malformed("sdp: bad tls-id");
      m.tls_id = std::string(id);
      return Status::ok();
    }
    if (starts_with(v, "sctp-port:") && !m.is_legacy()) { // legacy: the port is on m=
      auto p = parse_uint(v.substr(10), 65535);
      if (!p || *p == 0) return malformed("sdp: bad sctp-port");
      m.sctp_port = static_cast<std::uint16_t>(*p);
      return Status::ok();
    }
    if (starts_with(v, "max-message-size:")) {
      auto n = parse_uint(v.substr(17), 0xFFFFFFFFu);
      if (!n) return malformed("sdp: bad max-message-size");
      m.max_message_size = static_cast<std::uint32_t>(*n);
      return Status::ok();
    }
    if (starts_with(v, "sctpmap:") && m.is_legacy()) return Status::ok(); // implied by m=
    if (starts_with(v, "mid:")) {
      std::string_view mid = v.substr(4);
      if (mid.empty() || mid.find(' ') != std::string_view::npos) return malformed("sdp: bad mid");
      m.mid = std::string(mid);
      return Status::ok();
    }
    if (starts_with(v, "candidate:")) {
      if (m.candidates.size() >= kMaxCandidates) return too_large("sdp: too many candidates");
      Candidate c;
      IMSDC_TRY(parse_candidate(v.substr(10), &c));
      m.candidates.push_back(std::move(c));
      return Status::ok();
    }
    if (starts_with(v, "dcmap:")) {
      if (m.channels.size() >= IMSDC_DC_MAX_CHANNELS) return too_large("sdp: too many dcmap lines");
      Result<DcMap> ch = parse_dcmap(v.substr(6));
      if (!ch) return ch.status();
      for (const DcMap& other : m.channels) {
        if (other.stream_id == ch->stream_id) return malformed("sdp: duplicate dcmap stream id");
      }
      m.channels.push_back(std::move(ch.value()));
      return Status::ok();
    }
    if (starts_with(v, "dcsa:")) {
      std::string_view rest = v.substr(5);
      auto id = parse_uint(next_token(&rest), kMaxStreamId);
      rest = skip_spaces(rest);
      if (!id || rest.empty()) return malformed("sdp: bad dcsa");
      if (dcsa_.size() >= IMSDC_DC_MAX_CHANNELS * kMaxDcsaPerChannel)
        return too_large("sdp: too many dcsa lines");
      dcsa_.emplace_back(static_cast<std::uint16_t>(*id), std::string(rest));
      return Status::ok();
    }
    // Bare 3GPP attributes bind to the dcmap line they follow (lenient: the dcsa form is the
    // one that names its stream and is what we generate). Before any dcmap they name no
    // channel and are dropped: kept as text they would bind on the next parse.
    if (starts_with(v, "3gpp-req-app:") || starts_with(v, "3gpp-bdc-used-by:")) {
      if (m.channels.empty() || apply_3gpp(v, &m.channels.back())) return Status::ok();
    }
    m.extra.emplace_back(raw);
    return Status::ok();
  }

  SessionDescription* out_;
  bool seen_timing_ = false;
  std::vector<std::pair<std::uint16_t, std::string>> dcsa_;
};

// Splits `text` into lines and feeds them to `parser`. `media_only`: the text is a list of
// m= sections (no session part).
Status run(std::string_view text, Parser* parser, bool media_only) {
  if (text.size() > IMSDC_MAX_SDP_SIZE) return too_large("sdp: larger than IMSDC_MAX_SDP_SIZE");
  bool first = true;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    if (raw.empty()) continue;
    if (raw.size() > kMaxLineLength) return too_large("sdp: line too long");
    if (raw.size() < 2 || raw[1] != '=' || raw[0] < 'a' || raw[0] > 'z') {
      return malformed("sdp: line is not <letter>=<value>");
    }
    if (raw.find('\r') != std::string_view::npos || raw.find('\0') != std::string_view::npos) {
      return malformed("sdp: control character in line");
    }
    char type = raw[0];
    std::string_view value = raw.substr(2);
    if (first) {
      first = false;
      if (media_only ? type != 'm' : (type != 'v' || value != "0")) {
        return malformed(media_only ? "sdp: media text must start with m="
                                    : "sdp: first line must be v=0");
      }
      if (!media_only) continue;
    } else if (type == 'v') {
      return malformed("sdp: repeated v= line");
    }
    if (type == 'm') {
      IMSDC_TRY(parser->begin_media(value));
    } else {
      IMSDC_TRY(parser->line(type, value, raw));
    }
  }
  if (first) return malformed("sdp: empty");
  return parser->finish_media();
}

} // namespace

Result<DcMap> parse_dcmap(std::string_view v) {
  DcMap ch;
  std::string_view id_text = next_token(&v);
  auto id = parse_uint(id_text, kMaxStreamId);
  if (!id) return malformed("sdp: bad dcmap stream id");
  ch.stream_id = static_cast<std::uint16_t>(*id);
  v = skip_spaces(v);
  while (!v.empty()) {
    std::size_t eq = v.find('=');
    if (eq == std::string_view::npos || eq == 0) return malformed("sdp: bad dcmap option");
    std::string_view name = v.substr(0, eq);
    v.remove_prefix(eq + 1);
    std::string text;
    bool quoted = !v.empty() && v.front() == '"';
    if (quoted) {
      IMSDC_TRY(parse_quoted(&v, &text));
    } else {
      std::size_t end = std::min(v.find(';'), v.size());
      text = std::string(v.substr(0, end));
      v.remove_prefix(end);
    }
    if (!v.empty()) {
      if (v.front() != ';') return malformed("sdp: bad dcmap option separator");
      v = skip_spaces(v.substr(1));
      if (v.empty()) return malformed("sdp: trailing ';' in dcmap");
    }
    auto number = [&](std::uint64_t max) { return quoted ? std::nullopt : parse_uint(text, max); };
    if (name == "label" || name == "subprotocol") {
      if (!quoted) return malformed("sdp: dcmap label/subprotocol must be quoted");
      (name == "label" ? ch.label : ch.subprotocol) = std::move(text);
    } else if (name == "ordered") {
      if (text != "true" && text != "false") return malformed("sdp: bad dcmap ordered");
      ch.ordered = text == "true";
    } else if (name == "max-retr" || name == "max-time") {
      auto n = number(0xFFFFFFFFu);
      if (!n) return malformed("sdp: bad dcmap max-retr/max-time");
      (name == "max-retr" ? ch.max_retr : ch.max_time) = static_cast<std::uint32_t>(*n);
    } else if (name == "priority") {
      auto n = number(65535);
      if (!n) return malformed("sdp: bad dcmap priority");
      ch.priority = static_cast<std::uint16_t>(*n);
    }
    // Other names are RFC 8864 ext-opt: ignored.
  }
  // A channel is either reliable, limited by retransmissions, or limited by lifetime.
  if (ch.max_retr && ch.max_time) return malformed("sdp: dcmap has both max-retr and max-time");
  return ch;
}

Result<SessionDescription> parse(std::string_view text) {
  SessionDescription sdp;
  sdp.origin = Origin{"", "", "", AddrType::kIp4, ""};
  Parser parser(&sdp);
  IMSDC_TRY(run(text, &parser, false));
  if (sdp.origin.username.empty()) return malformed("sdp: missing o= line");
  sort_extras(&sdp.extra, session_rank);
  return sdp;
}

Result<std::vector<MediaSection>> parse_media(std::string_view text) {
  SessionDescription sdp;
  Parser parser(&sdp);
  IMSDC_TRY(run(text, &parser, true));
  return std::move(sdp.media);
}

const MediaSection* SessionDescription::data_channel() const {
  for (const MediaSection& m : media) {
    if (m.is_data_channel) return &m;
  }
  return nullptr;
}

MediaSection* SessionDescription::data_channel() {
  return const_cast<MediaSection*>(static_cast<const SessionDescription*>(this)->data_channel());
}

bool operator==(const Connection& a, const Connection& b) {
  return a.type == b.type && a.address == b.address;
}
bool operator==(const Origin& a, const Origin& b) {
  return std::tie(a.username, a.session_id, a.session_version, a.type, a.address) ==
         std::tie(b.username, b.session_id, b.session_version, b.type, b.address);
}
bool operator==(const Fingerprint& a, const Fingerprint& b) {
  return a.hash == b.hash && a.digest == b.digest;
}
bool operator==(const Candidate& a, const Candidate& b) {
  return std::tie(a.foundation, a.component, a.transport, a.priority, a.address, a.port, a.type,
                  a.extensions) == std::tie(b.foundation, b.component, b.transport, b.priority,
                                            b.address, b.port, b.type, b.extensions);
}
bool operator==(const IceParams& a, const IceParams& b) {
  return a.ufrag == b.ufrag && a.pwd == b.pwd && a.options == b.options;
}
bool operator==(const DcMap& a, const DcMap& b) {
  return std::tie(a.stream_id, a.label, a.subprotocol, a.ordered, a.max_retr, a.max_time,
                  a.priority, a.bdc_used_by, a.req_app,
                  a.dcsa) == std::tie(b.stream_id, b.label, b.subprotocol, b.ordered, b.max_retr,
                                      b.max_time, b.priority, b.bdc_used_by, b.req_app, b.dcsa);
}
bool operator==(const MediaSection& a, const MediaSection& b) {
  return std::tie(a.media, a.port, a.proto, a.fmt, a.is_data_channel, a.mid, a.extra, a.connection,
                  a.setup, a.fingerprints, a.tls_id, a.sctp_port, a.max_message_size, a.ice,
                  a.candidates, a.channels) ==
         std::tie(b.media, b.port, b.proto, b.fmt, b.is_data_channel, b.mid, b.extra, b.connection,
                  b.setup, b.fingerprints, b.tls_id, b.sctp_port, b.max_message_size, b.ice,
                  b.candidates, b.channels);
}
bool operator==(const SessionDescription& a, const SessionDescription& b) {
  return std::tie(a.origin, a.session_name, a.connection, a.timing, a.ice_lite, a.ice,
                  a.fingerprints, a.bundle, a.extra,
                  a.media) == std::tie(b.origin, b.session_name, b.connection, b.timing, b.ice_lite,
                                       b.ice, b.fingerprints, b.bundle, b.extra, b.media);
}

} // namespace imsdc::sdp
