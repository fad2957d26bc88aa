// SIP calls (see call.h).
#include "sip/call.h"

#include <algorithm>

#include "sip/auth.h"
#include "sip/text.h"
#include "sip/uri.h"

namespace imsdc::sip {
namespace {

constexpr const char* kAllow = "INVITE, ACK, CANCEL, BYE, PRACK, UPDATE, OPTIONS";
constexpr const char* kIcsiTag = "+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\"";
constexpr std::uint64_t kAckWaitMs = kTransactionTimeoutMs; // RFC 3261 section 13.3.1.4

Status sip_error(Code code, const char* detail) {
  return Status(code, Module::kSip, detail);
}

std::string_view text_of(ByteSpan b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

const char* reason_phrase(int code) {
  switch (code) {
  case 180:
    return "Ringing";
  case 183:
    return "Session Progress";
  case 200:
    return "OK";
  case 400:
    return "Bad Request";
  case 420:
    return "Bad Extension";
  case 422:
    return "Session Interval Too Small";
  case 480:
    return "Temporarily Unavailable";
  case 481:
    return "Call/Transaction Does Not Exist";
  case 486:
    return "Busy Here";
  case 487:
    return "Request Terminated";
  case 488:
    return "Not Acceptable Here";
  case 491:
    return "Request Pending";
  case 500:
    return "Server Internal Error";
  case 501:
    return "Not Implemented";
  case 603:
    return "Decline";
  default:
    return code < 300 ? "OK" : "Rejected";
  }
}

const char* refresher_text(bool uac) {
  return uac ? "uac" : "uas";
}

void copy_headers(const Message& m, CallEvent* ev) {
  for (std::size_t i = 0; i < m.header_count(); ++i)
    ev->headers.emplace_back(std::string(m.header_name(i)), std::string(m.header_value(i)));
}

// Record-Route of a dialog-creating (or target refresh) request, copied into its 18x/2xx.
void copy_record_route(const Message& request, MessageBuilder* b) {
  for (std::size_t i = 0; i < request.header_count(); ++i)
    if (iequals(request.header_name(i), "Record-Route"))
      b->header("Record-Route", request.header_value(i));
}

bool is_call_method(std::string_view method) {
  for (std::string_view m :
       {"INVITE", "ACK", "CANCEL", "BYE", "PRACK", "UPDATE", "OPTIONS", "INFO"})
    if (method == m) return true;
  return false;
}

// A uniformly random delay in [lo, hi] ms from the random source (lo when it fails).
std::uint64_t random_delay(const RandomSource& random, std::uint64_t lo, std::uint64_t hi) {
  std::uint8_t r[2] = {};
  if (!random.fill(random.context, r, sizeof r)) return lo;
  return lo + ((std::uint64_t{r[0]} << 8) | r[1]) % (hi - lo + 1);
}

} // namespace

enum class Purpose : std::uint8_t { kPrack, kUpdate, kRefresh, kReinvite, kBye, kCancel };

struct Pending {
  ClientTransaction tx;
  Purpose purpose;
  bool offer = false; // carried our offer
};

struct CallAgent::Call {
  // Ordered by size (clang-tidy's padding check); grouped by role in the comments.
  std::optional<Dialog> dialog;
  OutgoingCall spec; // caller: sdp and identity; the token stays with its provider
  std::optional<ClientTransaction> invite_tx;  // caller: the INVITE
  std::optional<ServerTransaction> invite_stx; // callee: the initial INVITE or a re-INVITE
  std::vector<Pending> pending;                // PRACK, UPDATE, re-INVITE, BYE, CANCEL
  std::string ack;                             // caller: our ACK to the 2xx, for a retransmission
  std::string update_sdp;                      // caller: the UPDATE waiting for the PRACK's answer
  std::string deferred_sdp;                    // callee: the 200 waiting for the PRACK
  std::string local_sdp;
  std::string remote_sdp;
  std::string glare_sdp;                    // the offer to retry after a 491
  std::uint64_t ack_deadline = kNoDeadline; // callee: our 2xx waits for its ACK
  std::uint64_t refresh_at = kNoDeadline;   // session timer: we refresh
  std::uint64_t expire_at = kNoDeadline;    // session timer: the peer must have refreshed
  std::uint64_t glare_at = kNoDeadline;     // 491 retry
  CallId id = 0;
  std::uint32_t se_request = 0;  // caller: Session-Expires to ask for
  std::uint32_t remote_rseq = 0; // caller: last reliable provisional we PRACKed
  std::uint32_t local_rseq = 0;  // callee: RSeq of our last reliable 18x
  std::uint32_t invite_cseq = 0; // the INVITE (or re-INVITE) of the current transaction
  std::uint32_t se_s = 0;        // session interval in force, 0: none
  enum class State : std::uint8_t { kCalling, kEarly, kConfirmed, kEnding } state = State::kCalling;
  Purpose glare_kind = Purpose::kUpdate;
  EndReason end_reason = EndReason::kLocalHangup;
  bool uac = true;
  // Caller
  bool provisional_seen = false;
  bool cancel_pending = false;
  bool cancel_sent = false;
  bool token_sent = false;
  bool se_retry_used = false;
  bool update_after_prack = false;
  // Callee
  bool stx_reinvite = false;
  bool final_sent = false; // to the initial INVITE
  bool peer_100rel = false;
  bool prack_pending = false;
  bool answered_reliably = false; // our answer went in a reliable 18x
  bool deferred_200 = false;
  bool offer_in_2xx = false; // no offer in the INVITE: ours went in the 2xx, answer in ACK
  // Both
  bool offer_outstanding = false;
  bool we_refresh = false;
  bool ended = false;

  std::uint64_t deadline() const {
    std::uint64_t d = std::min({ack_deadline, refresh_at, expire_at, glare_at});
    if (invite_tx) d = std::min(d, invite_tx->deadline_ms());
    if (invite_stx) d = std::min(d, invite_stx->deadline_ms());
    for (const Pending& p : pending)
      d = std::min(d, p.tx.deadline_ms());
    return d;
  }
};

// The CallAgent's internals, as functions over it (keeps call.h free of them).
struct CallOps {
  using Call = CallAgent::Call;
  CallAgent& a;
  std::uint64_t now;
  CallOutput* out;

  Call* find(CallId id) {
    for (auto& c : a.calls_)
      if (c->id == id && !c->ended) return c.get();
    return nullptr;
  }

  void event(Call& c, CallEventKind kind, CallEvent ev = CallEvent()) {
    ev.kind = kind;
    ev.call = c.id;
    out->events.push_back(std::move(ev));
  }

  void end(Call& c, EndReason why, int sip_status = 0, Status status = Status::ok(),
           std::string_view reason = {}) {
    if (c.ended) return;
    c.ended = true;
    c.end_reason = why;
    CallEvent ev;
    ev.end = why;
    ev.sip_status = sip_status;
    ev.status = status;
    ev.reason = std::string(reason);
    event(c, CallEventKind::kEnded, std::move(ev));
  }

  Result<std::string> via() {
    auto branch = make_branch(a.config_.random);
    if (!branch) return branch.status();
    return format_via(a.config_.via_host, branch.value());
  }

  const std::string& contact(const Call& c) const {
    return c.spec.mmtel ? a.mmtel_contact_ : a.contact_;
  }

  void add_avatar(const Call& c, MessageBuilder* b) {
    const std::string& uri = c.spec.avatar_uri.empty() ? a.config_.avatar_uri : c.spec.avatar_uri;
    if (uri.empty()) return;
    auto v = format_avatar_header(uri);
    if (v) b->header(a.config_.avatar_header, v.value());
  }

  void add_session_timer(const Call& c, MessageBuilder* b, bool uac_refreshes) {
    if (c.se_s == 0) return;
    b->header("Session-Expires",
              std::to_string(c.se_s) + ";refresher=" + refresher_text(uac_refreshes));
  }

  // Parses what we built (the transactions keep parsed messages) and queues it.
  Result<Message> emit(std::string text) {
    auto parsed = parse_message(ByteSpan(text));
    if (!parsed) return parsed.status();
    out->send.push_back(std::move(text));
    return parsed;
  }

  // A response to `request` outside any transaction object (stateless answers, 2xx to
  // non-INVITE requests, which need no retransmission over a reliable transport).
  void respond(const Message& request, int code, std::string_view to_tag,
               const std::vector<std::pair<std::string, std::string>>& extra = {}) {
    MessageBuilder b = response_for(request, code, reason_phrase(code), to_tag);
    for (const auto& h : extra)
      b.header(h.first, h.second);
    auto text = b.build();
    if (text) out->send.push_back(std::move(text.value()));
  }

  // Sends a new request in c's dialog and keeps its client transaction.
  Status send_in_dialog(Call& c, std::string_view method, Purpose purpose, std::string_view sdp,
                        const std::vector<std::pair<std::string, std::string>>& extra) {
    if (!c.dialog) return sip_error(Code::kState, "no dialog");
    if (c.pending.size() >= kMaxPendingPerCall)
      return sip_error(Code::kNoMemory, "too many outstanding requests");
    auto v = via();
    if (!v) return v.status();
    MessageBuilder b = c.dialog->request(method, v.value());
    b.header("Contact", contact(c)).header("Allow", kAllow);
    for (const auto& h : extra)
      b.header(h.first, h.second);
    if (!sdp.empty()) b.body("application/sdp", ByteSpan(sdp));
    auto text = b.build();
    if (!text) return text.status();
    auto parsed = emit(std::move(text.value()));
    if (!parsed) return parsed.status();
    auto tx = ClientTransaction::create(std::move(parsed.value()), now);
    if (!tx) return tx.status();
    c.pending.push_back(Pending{std::move(tx.value()), purpose, !sdp.empty()});
    return Status::ok();
  }

  // Session timer (RFC 4028 section 10): the refresher refreshes at half the interval; the
  // other side gives up at SE - min(32, SE/3).
  void start_session_timer(Call& c) {
    c.refresh_at = c.expire_at = kNoDeadline;
    if (c.se_s == 0) return;
    std::uint64_t se_ms = std::uint64_t{c.se_s} * 1000;
    if (c.we_refresh)
      c.refresh_at = now + se_ms / 2;
    else
      c.expire_at = now + se_ms - std::min<std::uint64_t>(32000, se_ms / 3);
  }

  // Session-Expires of a 2xx to a request we sent (INVITE, UPDATE): "refresher=uac" is us.
  void session_timer_from_2xx(Call& c, const Message& response) {
    auto se = parse_session_expires(response.header("Session-Expires"));
    if (!se) { // no (or no new) session timer from the peer: keep what we have
      start_session_timer(c);
      return;
    }
    c.se_s = se->seconds;
    c.we_refresh = se->refresher != Refresher::kUas;
    start_session_timer(c);
  }

  // --- Caller ---------------------------------------------------------------------------

  Status send_invite(Call& c, bool with_token) {
    auto v = via();
    if (!v) return v.status();
    if (!c.dialog) return sip_error(Code::kInternal, "caller without dialog identifiers");
    Dialog& d = *c.dialog;
    std::uint32_t cseq = ++d.local_cseq;
    c.invite_cseq = cseq;
    std::string authorization;
    if (with_token) {
      SecretBytes token;
      IMSDC_TRY(
          c.spec.third_party_token.get(c.spec.third_party_token.context, c.token_sent, &token));
      auto value = bearer_authorization(text_of(ByteSpan(token.data(), token.size())));
      if (!value) return value.status();
      authorization = std::move(value.value());
      c.token_sent = true;
    }
    // Two builds: the wire copy (with the token) and the copy the transaction keeps for ACK
    // and CANCEL, which never carries it.
    std::string wire;
    std::string kept;
    for (int pass = 0; pass < 2; ++pass) {
      MessageBuilder b = MessageBuilder::request("INVITE", c.spec.to);
      b.header("Via", v.value())
          .header("Max-Forwards", "70")
          .header("From", d.local)
          .header("To", d.remote)
          .header("Call-ID", d.call_id)
          .header("CSeq", std::to_string(cseq) + " INVITE")
          .header("Contact", contact(c))
          .header("Allow", kAllow);
      std::string supported = a.config_.use_100rel ? "100rel" : "";
      if (c.se_request) supported += supported.empty() ? "timer" : ", timer";
      if (!supported.empty()) b.header("Supported", supported);
      if (c.se_request) {
        b.header("Session-Expires", std::to_string(c.se_request) + ";refresher=uac");
        b.header("Min-SE", std::to_string(std::min(c.se_request, a.config_.min_se_s)));
      }
      if (c.spec.mmtel) {
        b.header("Accept-Contact", std::string("*;") + kIcsiTag);
        b.header("P-Preferred-Service", kMmtelIcsi);
      }
      if (!c.spec.preferred_identity.empty())
        b.header("P-Preferred-Identity", "<" + c.spec.preferred_identity + ">");
      if (c.spec.privacy_id) b.header("Privacy", "id");
      add_avatar(c, &b);
      if (pass == 0 && !authorization.empty()) b.header("Proxy-Authorization", authorization);
      b.body("application/sdp", ByteSpan(c.spec.sdp));
      auto text = b.build();
      b.wipe();
      if (!text) {
        secure_zero(authorization.data(), authorization.size());
        return text.status();
      }
      (pass == 0 ? wire : kept) = std::move(text.value());
    }
    secure_zero(authorization.data(), authorization.size());
    auto parsed = parse_message(ByteSpan(kept));
    if (!parsed) {
      secure_zero(wire.data(), wire.size());
      return parsed.status();
    }
    auto tx = ClientTransaction::create(std::move(parsed.value()), now);
    if (!tx) {
      secure_zero(wire.data(), wire.size());
      return tx.status();
    }
    c.invite_tx.emplace(std::move(tx.value()));
    c.provisional_seen = false;
    c.local_sdp = c.spec.sdp;
    out->send.push_back(std::move(wire));
    return Status::ok();
  }

  Status send_cancel(Call& c) {
    auto text = cancel_for(c.invite_tx->request()).build();
    if (!text) return text.status();
    auto parsed = emit(std::move(text.value()));
    if (!parsed) return parsed.status();
    auto tx = ClientTransaction::create(std::move(parsed.value()), now);
    if (!tx) return tx.status();
    if (c.pending.size() < kMaxPendingPerCall)
      c.pending.push_back(Pending{std::move(tx.value()), Purpose::kCancel, false});
    c.cancel_sent = true;
    c.cancel_pending = false;
    return Status::ok();
  }

  Status send_prack(Call& c, std::uint32_t rseq) {
    return send_in_dialog(
        c, "PRACK", Purpose::kPrack, {},
        {{"RAck", std::to_string(rseq) + " " + std::to_string(c.invite_cseq) + " INVITE"}});
  }

  Status send_ack(Call& c, std::uint32_t cseq) {
    auto v = via();
    if (!v) return v.status();
    auto text = c.dialog->request("ACK", v.value(), cseq).build();
    if (!text) return text.status();
    c.ack = text.value();
    out->send.push_back(std::move(text.value()));
    return Status::ok();
  }

  void on_invite_response(Call& c, const Message& r) {
    auto step = c.invite_tx->on_response(r, now);
    if (!step) return;
    if (!step->send.empty()) out->send.push_back(step->send);
    int code = r.status_code();
    if (step->event == TransactionEvent::kNone) return;
    if (code < 200) {
      c.provisional_seen = true;
      if (c.cancel_pending) {
        (void)send_cancel(c);
        return;
      }
      if (code == 100 || c.cancel_sent) return;
      on_provisional(c, r);
      return;
    }
    if (code < 300) {
      on_invite_2xx(c, r);
      return;
    }
    c.invite_tx.reset();
    if (on_invite_failure(c, r)) return;
    if (c.cancel_sent && code == 487) {
      end(c, EndReason::kCancelled, code, Status::ok(), r.reason());
      return;
    }
    Code why = (code == 401 || code == 403 || code == 407) ? Code::kAuthRejected : Code::kRejected;
    end(c, EndReason::kRejected, code, sip_error(why, "call rejected"), r.reason());
  }

  // 407 Bearer challenge or 422: retried with a new INVITE. True when retried.
  bool on_invite_failure(Call& c, const Message& r) {
    int code = r.status_code();
    if (code == 407 && c.spec.third_party_token.get && !c.token_sent) {
      auto ch = select_challenge(r, CredentialKind::kBearer);
      if (ch && send_invite(c, true)) return true;
    }
    if (code == 422 && !c.se_retry_used && c.se_request) {
      auto min = parse_min_se(r.header("Min-SE"));
      if (min && min.value() > c.se_request) {
        c.se_retry_used = true;
        c.se_request = min.value();
        if (send_invite(c, c.token_sent)) return true;
      }
    }
    return false;
  }

  void on_provisional(Call& c, const Message& r) {
    CallEvent ev;
    ev.sip_status = r.status_code();
    ev.reason = std::string(r.reason());
    copy_headers(r, &ev);
    auto avatar = avatar_reference(r, a.config_.avatar_header);
    if (avatar) ev.avatar_uri = std::string(avatar.value());
    bool has_tag = !tag_of(r.header("To")).empty();
    if (has_tag && (!c.dialog || c.dialog->remote_tag.empty())) {
      auto d = Dialog::as_uac(c.invite_tx->request(), r);
      if (d) {
        d->local_cseq = c.dialog->local_cseq;
        c.dialog = std::move(d.value());
        c.state = Call::State::kEarly;
      }
    }
    bool ours =
        c.dialog && !c.dialog->remote_tag.empty() && tag_of(r.header("To")) == c.dialog->remote_tag;
    auto sdp = sdp_body(r);
    if (ours && sdp && !sdp->empty() && has_option_tag(r, "Require", "100rel")) {
      c.remote_sdp = std::string(text_of(sdp.value()));
      ev.sdp = c.remote_sdp;
    }
    if (ours && has_option_tag(r, "Require", "100rel")) {
      auto rseq = parse_rseq(r.header("RSeq"));
      if (rseq && (c.remote_rseq == 0 || rseq.value() == c.remote_rseq + 1)) {
        c.remote_rseq = rseq.value();
        Status s = send_prack(c, rseq.value());
        if (!s) {
          end(c, EndReason::kError, 0, s);
          return;
        }
      } else {
        return; // a retransmission or out of order: not reported again
      }
    }
    event(c, CallEventKind::kProgress, std::move(ev));
  }

  void on_invite_2xx(Call& c, const Message& r) {
    if (c.state == Call::State::kConfirmed || c.state == Call::State::kEnding) {
      if (!c.ack.empty()) out->send.push_back(c.ack); // a retransmitted 2xx
      return;
    }
    std::uint32_t cseq = c.dialog ? c.dialog->local_cseq : 0;
    if (!c.dialog || c.dialog->remote_tag.empty() ||
        c.dialog->remote_tag != tag_of(r.header("To"))) {
      auto d = Dialog::as_uac(c.invite_tx->request(), r);
      if (!d) {
        end(c, EndReason::kError, r.status_code(), d.status());
        return;
      }
      c.dialog = std::move(d.value());
    } else if (Status s = c.dialog->update_from_response(r); !s) {
      end(c, EndReason::kError, r.status_code(), s);
      return;
    }
    c.dialog->local_cseq = std::max(cseq, c.dialog->local_cseq);
    Status s = send_ack(c, c.invite_cseq);
    if (!s) {
      end(c, EndReason::kError, 0, s);
      return;
    }
    c.state = Call::State::kConfirmed;
    CallEvent ev;
    ev.sip_status = r.status_code();
    ev.reason = std::string(r.reason());
    copy_headers(r, &ev);
    auto sdp = sdp_body(r);
    if (sdp && !sdp->empty()) {
      c.remote_sdp = std::string(text_of(sdp.value()));
      ev.sdp = c.remote_sdp;
    }
    auto avatar = avatar_reference(r, a.config_.avatar_header);
    if (avatar) ev.avatar_uri = std::string(avatar.value());
    session_timer_from_2xx(c, r);
    event(c, CallEventKind::kAnswered, std::move(ev));
    if (c.cancel_sent || c.cancel_pending) { // the 2xx crossed our CANCEL
      (void)send_in_dialog(c, "BYE", Purpose::kBye, {}, {});
      c.state = Call::State::kEnding;
    } else if (c.update_after_prack) {
      c.update_after_prack = false;
      (void)send_offer(c, Purpose::kUpdate, c.update_sdp);
    }
  }

  // --- Offers in the middle of a call ------------------------------------------------------

  Status send_offer(Call& c, Purpose kind, const std::string& sdp) {
    std::vector<std::pair<std::string, std::string>> extra;
    if (c.se_s) {
      extra.emplace_back("Supported", "timer");
      extra.emplace_back("Session-Expires",
                         std::to_string(c.se_s) + ";refresher=" + refresher_text(c.we_refresh));
    }
    IMSDC_TRY(
        send_in_dialog(c, kind == Purpose::kReinvite ? "INVITE" : "UPDATE", kind, sdp, extra));
    c.offer_outstanding = true;
    c.local_sdp = sdp;
    return Status::ok();
  }

  Status send_refresh(Call& c) {
    return send_in_dialog(
        c, "UPDATE", Purpose::kRefresh, {},
        {{"Supported", "timer"}, {"Session-Expires", std::to_string(c.se_s) + ";refresher=uac"}});
  }

  void on_pending_response(Call& c, std::size_t i, const Message& r) {
    auto step = c.pending[i].tx.on_response(r, now);
    if (!step) return;
    if (!step->send.empty()) out->send.push_back(step->send);
    if (step->event != TransactionEvent::kFinal) return;
    Purpose p = c.pending[i].purpose;
    bool offer = c.pending[i].offer;
    std::uint32_t cseq = c.pending[i].tx.request().cseq().number;
    // A re-INVITE's 2xx is ACKed below; over a reliable transport it is not retransmitted,
    // so its transaction need not wait in Accepted.
    c.pending.erase(c.pending.begin() + static_cast<std::ptrdiff_t>(i));
    int code = r.status_code();
    switch (p) {
    case Purpose::kCancel:
      return;
    case Purpose::kPrack:
      if (c.update_after_prack) {
        c.update_after_prack = false;
        Status s = send_offer(c, Purpose::kUpdate, c.update_sdp);
        if (!s) end(c, EndReason::kError, 0, s);
      }
      return;
    case Purpose::kBye:
      end(c, EndReason::kLocalHangup, code);
      return;
    case Purpose::kReinvite:
      if (code < 300) {
        Status s = send_ack(c, cseq);
        if (!s) {
          end(c, EndReason::kError, 0, s);
          return;
        }
      }
      [[fallthrough]];
    case Purpose::kUpdate:
    case Purpose::kRefresh:
      if (code < 300) {
        (void)c.dialog->refresh_target(r);
        session_timer_from_2xx(c, r);
        if (p == Purpose::kRefresh) {
          CallEvent ev;
          ev.session_expires_s = c.se_s;
          event(c, CallEventKind::kRefreshed, std::move(ev));
        }
        if (offer) {
          c.offer_outstanding = false;
          CallEvent ev;
          ev.sip_status = code;
          copy_headers(r, &ev);
          auto sdp = sdp_body(r);
          if (sdp && !sdp->empty()) c.remote_sdp = std::string(text_of(sdp.value()));
          ev.sdp = c.remote_sdp;
          event(c, CallEventKind::kOfferAnswered, std::move(ev));
        }
        return;
      }
      if (offer) c.offer_outstanding = false;
      if (code == 491 && offer) {
        // RFC 3261 section 14.1: the owner of the Call-ID (the caller) waits 2.1-4 s, the
        // other side 0-2 s, so the retries do not collide again.
        c.glare_kind = p;
        c.glare_sdp = c.local_sdp;
        c.glare_at = now + (c.uac ? random_delay(a.config_.random, 2100, 4000)
                                  : random_delay(a.config_.random, 0, 2000));
        return;
      }
      if (code == 481 || code == 408) { // RFC 5057: the dialog is gone
        end(c, EndReason::kTimeout, code, sip_error(Code::kRejected, "dialog lost"), r.reason());
        return;
      }
      {
        CallEvent ev;
        ev.sip_status = code;
        ev.reason = std::string(r.reason());
        event(c, CallEventKind::kOfferFailed, std::move(ev));
      }
      return;
    }
  }

  // --- Callee ------------------------------------------------------------------------------

  void on_new_invite(const Message& m) {
    for (auto& c : a.calls_) {
      if (c->invite_stx && c->invite_stx->matches(m)) { // a retransmission
        auto step = c->invite_stx->on_request(m, now);
        if (step && !step->send.empty()) out->send.push_back(step->send);
        return;
      }
    }
    auto tag = make_tag(a.config_.random);
    if (!tag) return;
    if (a.calls_.size() >= kMaxCalls) {
      respond(m, 486, tag.value());
      return;
    }
    std::string supported = "100rel, timer";
    std::string_view bad = first_unsupported(m, supported);
    if (!bad.empty() || (!a.config_.use_100rel && has_option_tag(m, "Require", "100rel"))) {
      respond(m, 420, tag.value(), {{"Unsupported", std::string(bad.empty() ? "100rel" : bad)}});
      return;
    }
    auto sdp = sdp_body(m);
    if (!sdp) {
      respond(m, sdp.status() == Code::kMalformed ? 400 : 488, tag.value());
      return;
    }
    std::uint32_t se_s = 0;
    bool uac_refreshes = true;
    if (m.has_header("Session-Expires")) {
      auto se = parse_session_expires(m.header("Session-Expires"));
      if (!se) {
        respond(m, 400, tag.value());
        return;
      }
      if (se->seconds < a.config_.min_se_s) {
        respond(m, 422, tag.value(), {{"Min-SE", std::to_string(a.config_.min_se_s)}});
        return;
      }
      se_s = se->seconds;
      uac_refreshes = se->refresher == Refresher::kUac || (se->refresher == Refresher::kNone &&
                                                           has_option_tag(m, "Supported", "timer"));
    }
    auto d = Dialog::as_uas(m, tag.value());
    if (!d) {
      respond(m, 400, tag.value());
      return;
    }
    Step first;
    auto stx = ServerTransaction::create(m, now, &first);
    if (!stx) return;
    if (!first.send.empty()) out->send.push_back(first.send);

    auto c = std::make_unique<Call>();
    c->id = a.next_id_++;
    c->uac = false;
    c->state = Call::State::kEarly;
    c->dialog = std::move(d.value());
    c->invite_stx.emplace(std::move(stx.value()));
    c->invite_cseq = m.cseq().number;
    c->peer_100rel = a.config_.use_100rel && (has_option_tag(m, "Supported", "100rel") ||
                                              has_option_tag(m, "Require", "100rel"));
    c->se_s = se_s;
    c->we_refresh = !uac_refreshes;
    c->remote_sdp = std::string(text_of(sdp.value()));
    c->spec.mmtel =
        m.header("Accept-Contact").find("3gpp-service.ims.icsi.mmtel") != std::string_view::npos;

    CallEvent ev;
    ev.from = std::string(m.header("From"));
    ev.to = std::string(m.header("To"));
    ev.asserted_identity = std::string(m.header("P-Asserted-Identity"));
    ev.privacy = std::string(m.header("Privacy"));
    auto avatar = avatar_reference(m, a.config_.avatar_header);
    if (avatar) ev.avatar_uri = std::string(avatar.value());
    ev.sdp = c->remote_sdp;
    copy_headers(m, &ev);
    Call& ref = *c;
    a.calls_.push_back(std::move(c));
    event(ref, CallEventKind::kIncoming, std::move(ev));
  }

  Status send_response(Call& c, int code, std::string_view sdp, bool reliable) {
    const Message& invite = c.invite_stx->request();
    MessageBuilder b = response_for(invite, code, reason_phrase(code), c.dialog->local_tag);
    if (code > 100 && code < 300) copy_record_route(invite, &b); // RFC 3261 section 12.1.1
    if (code < 300) {
      b.header("Contact", contact(c)).header("Allow", kAllow);
      add_avatar(c, &b);
    }
    if (reliable) {
      b.header("Require", "100rel").header("RSeq", std::to_string(c.local_rseq));
    }
    if (code >= 200 && code < 300 && !c.stx_reinvite) {
      if (c.se_s) {
        b.header("Require", "timer");
        add_session_timer(c, &b, !c.we_refresh);
      }
      b.header("Supported", "100rel, timer");
    } else if (code >= 200 && code < 300 && c.se_s) {
      b.header("Require", "timer");
      add_session_timer(c, &b, !c.we_refresh);
    }
    if (!sdp.empty()) b.body("application/sdp", ByteSpan(sdp));
    auto text = b.build();
    if (!text) return text.status();
    auto parsed = parse_message(ByteSpan(text.value()));
    if (!parsed) return parsed.status();
    auto step = c.invite_stx->send_response(parsed.value(), now);
    if (!step) return step.status();
    out->send.push_back(std::move(step->send));
    return Status::ok();
  }

  Status send_200(Call& c, std::string_view sdp) {
    std::string_view body = sdp;
    if (c.answered_reliably) body = {};
    if (c.remote_sdp.empty()) c.offer_in_2xx = true; // no offer in the INVITE: ours goes here
    if (!body.empty()) c.local_sdp = std::string(body);
    IMSDC_TRY(send_response(c, 200, body, false));
    c.final_sent = true;
    c.state = Call::State::kConfirmed;
    c.ack_deadline = now + kAckWaitMs;
    start_session_timer(c);
    return Status::ok();
  }

  // An offer (or a refresh) from the peer in UPDATE or re-INVITE: the response's headers
  // and body; false with *code set when it must be refused.
  bool answer_offer(Call& c, const Message& m, std::string* answer_sdp, int* code,
                    std::vector<std::pair<std::string, std::string>>* extra, CallEvent* ev) {
    auto sdp = sdp_body(m);
    if (!sdp) {
      *code = 488;
      return false;
    }
    if (!sdp->empty() && c.offer_outstanding) {
      *code = 491;
      return false;
    }
    if (m.has_header("Session-Expires")) {
      auto se = parse_session_expires(m.header("Session-Expires"));
      if (!se || se->seconds < a.config_.min_se_s) {
        *code = se ? 422 : 400;
        if (se) extra->emplace_back("Min-SE", std::to_string(a.config_.min_se_s));
        return false;
      }
      c.se_s = se->seconds;
      // The peer sent this request: refresher=uac means the peer refreshes.
      c.we_refresh = se->refresher == Refresher::kUas;
      extra->emplace_back("Require", "timer");
      extra->emplace_back("Session-Expires",
                          std::to_string(c.se_s) + ";refresher=" + refresher_text(!c.we_refresh));
    }
    if (!sdp->empty()) {
      std::string answer = c.local_sdp;
      const OfferAnswerer& oa = a.config_.answerer;
      if (oa.answer && !oa.answer(oa.context, c.id, sdp.value(), &answer)) {
        *code = 488;
        return false;
      }
      c.remote_sdp = std::string(text_of(sdp.value()));
      c.local_sdp = answer;
      *answer_sdp = answer;
      ev->sdp = c.remote_sdp;
    }
    copy_headers(m, ev);
    (void)c.dialog->refresh_target(m);
    return true;
  }

  void on_update(Call& c, const Message& m) {
    std::string answer;
    int code = 200;
    std::vector<std::pair<std::string, std::string>> extra;
    CallEvent ev;
    if (!answer_offer(c, m, &answer, &code, &extra, &ev)) {
      respond(m, code, c.dialog->local_tag, extra);
      return;
    }
    extra.emplace_back("Contact", contact(c));
    MessageBuilder b = response_for(m, 200, "OK", c.dialog->local_tag);
    for (const auto& h : extra)
      b.header(h.first, h.second);
    if (!answer.empty()) b.body("application/sdp", ByteSpan(answer));
    auto text = b.build();
    if (!text) return;
    out->send.push_back(std::move(text.value()));
    bool refreshed = m.has_header("Session-Expires");
    bool offered = !answer.empty();
    if (refreshed) start_session_timer(c);
    if (offered) event(c, CallEventKind::kRemoteOffer, std::move(ev));
    if (refreshed) {
      CallEvent r;
      r.session_expires_s = c.se_s;
      event(c, CallEventKind::kRefreshed, std::move(r));
    }
  }

  void on_reinvite(Call& c, const Message& m) {
    bool ours_pending = false;
    for (const Pending& p : c.pending)
      ours_pending = ours_pending || p.purpose == Purpose::kReinvite;
    if (c.state != Call::State::kConfirmed || ours_pending) {
      respond(m, 491, c.dialog->local_tag);
      return;
    }
    if (c.invite_stx && (c.invite_stx->state() == TransactionState::kProceeding ||
                         c.invite_stx->state() == TransactionState::kTrying)) {
      respond(m, 500, c.dialog->local_tag, {{"Retry-After", "1"}});
      return;
    }
    std::string answer;
    int code = 200;
    std::vector<std::pair<std::string, std::string>> extra;
    CallEvent ev;
    if (!answer_offer(c, m, &answer, &code, &extra, &ev)) {
      respond(m, code, c.dialog->local_tag, extra);
      return;
    }
    Step first;
    auto stx = ServerTransaction::create(m, now, &first);
    if (!stx) return;
    if (!first.send.empty()) out->send.push_back(first.send);
    c.invite_stx.emplace(std::move(stx.value()));
    c.stx_reinvite = true;
    c.invite_cseq = m.cseq().number;
    c.offer_in_2xx = answer.empty();
    if (answer.empty()) answer = c.local_sdp; // no offer: ours goes in the 2xx
    MessageBuilder b = response_for(m, 200, "OK", c.dialog->local_tag);
    copy_record_route(m, &b);
    b.header("Contact", contact(c)).header("Allow", kAllow);
    for (const auto& h : extra)
      b.header(h.first, h.second);
    b.body("application/sdp", ByteSpan(answer));
    auto text = b.build();
    if (!text) return;
    auto parsed = parse_message(ByteSpan(text.value()));
    if (!parsed) return;
    auto step = c.invite_stx->send_response(parsed.value(), now);
    if (step) out->send.push_back(std::move(step->send));
    c.ack_deadline = now + kAckWaitMs;
    if (m.has_header("Session-Expires")) start_session_timer(c);
    if (!c.offer_in_2xx) event(c, CallEventKind::kRemoteOffer, std::move(ev));
  }

  void on_ack(Call& c, const Message& m) {
    if (c.invite_stx && c.invite_stx->matches(m)) { // ACK for a non-2xx final response
      (void)c.invite_stx->on_request(m, now);
      return;
    }
    if (m.cseq().number != c.invite_cseq || c.ack_deadline == kNoDeadline) return;
    c.ack_deadline = kNoDeadline;
    CallEvent ev;
    auto sdp = sdp_body(m);
    if (c.offer_in_2xx && sdp && !sdp->empty()) {
      c.remote_sdp = std::string(text_of(sdp.value()));
      ev.sdp = c.remote_sdp;
    }
    c.offer_in_2xx = false;
    if (!c.stx_reinvite) {
      copy_headers(m, &ev);
      event(c, CallEventKind::kConfirmed, std::move(ev));
    }
  }

  void on_prack(Call& c, const Message& m) {
    auto rack = parse_rack(m.header("RAck"));
    if (!rack || !c.prack_pending || rack->rseq != c.local_rseq || rack->cseq != c.invite_cseq ||
        rack->method != "INVITE") {
      respond(m, 481, c.dialog->local_tag);
      return;
    }
    c.prack_pending = false;
    respond(m, 200, c.dialog->local_tag);
    if (c.deferred_200) {
      c.deferred_200 = false;
      Status s = send_200(c, c.deferred_sdp);
      if (!s) end(c, EndReason::kError, 0, s);
    }
  }

  void on_cancel(const Message& m) {
    std::string_view branch = top_branch(m);
    for (auto& c : a.calls_) {
      if (c->ended || c->uac || c->final_sent || !c->invite_stx || c->stx_reinvite) continue;
      const Message& inv = c->invite_stx->request();
      if (inv.call_id() != m.call_id() || top_branch(inv) != branch) continue;
      respond(m, 200, c->dialog->local_tag);
      (void)send_response(*c, 487, {}, false);
      c->final_sent = true;
      end(*c, EndReason::kCancelled, 487);
      return;
    }
    respond(m, 481, {});
  }

  void on_request(const Message& m) {
    std::string_view method = m.method();
    if (!is_call_method(method)) return; // NOTIFY, SUBSCRIBE...: the registration's
    bool in_dialog = !tag_of(m.header("To")).empty();
    if (method == "CANCEL") {
      on_cancel(m);
      return;
    }
    if (!in_dialog) {
      if (method == "INVITE")
        on_new_invite(m);
      else if (method == "OPTIONS")
        respond(m, 200, "", {{"Allow", kAllow}});
      else if (method != "ACK")
        respond(m, 481, "");
      return;
    }
    Call* c = nullptr;
    for (auto& k : a.calls_)
      if (!k->ended && k->dialog && k->dialog->matches_request(m)) c = k.get();
    if (!c) {
      if (method != "ACK") respond(m, 481, "");
      return;
    }
    if (method == "ACK") {
      on_ack(*c, m);
      return;
    }
    Dialog& d = *c->dialog;
    if (d.has_remote_cseq && m.cseq().number <= d.remote_cseq) {
      respond(m, 500, d.local_tag);
      return;
    }
    d.remote_cseq = m.cseq().number;
    d.has_remote_cseq = true;
    if (method == "BYE") {
      respond(m, 200, d.local_tag);
      if (!c->uac && !c->final_sent && c->invite_stx) (void)send_response(*c, 487, {}, false);
      end(*c, EndReason::kRemoteHangup);
    } else if (method == "PRACK") {
      on_prack(*c, m);
    } else if (method == "UPDATE") {
      on_update(*c, m);
    } else if (method == "INVITE") {
      on_reinvite(*c, m);
    } else if (method == "OPTIONS") {
      respond(m, 200, d.local_tag, {{"Allow", kAllow}});
    } else {
      respond(m, 501, d.local_tag);
    }
  }

  void on_response(const Message& r) {
    for (auto& c : a.calls_) {
      if (c->ended && c->pending.empty()) continue;
      if (c->invite_tx && c->invite_tx->matches(r)) {
        on_invite_response(*c, r);
        return;
      }
      for (std::size_t i = 0; i < c->pending.size(); ++i) {
        if (c->pending[i].tx.matches(r)) {
          on_pending_response(*c, i, r);
          return;
        }
      }
    }
  }

  // --- Timers ------------------------------------------------------------------------------

  void run_timers(Call& c) {
    if (c.invite_tx && now >= c.invite_tx->deadline_ms()) {
      auto step = c.invite_tx->on_timer(now);
      if (step && step->event == TransactionEvent::kTimeout)
        end(c, EndReason::kTimeout, 0, sip_error(Code::kTimeout, "no answer to INVITE"));
      if (c.invite_tx->state() == TransactionState::kTerminated) c.invite_tx.reset();
    }
    if (c.invite_stx && now >= c.invite_stx->deadline_ms()) {
      (void)c.invite_stx->on_timer(now);
      if (c.invite_stx->state() == TransactionState::kTerminated) c.invite_stx.reset();
    }
    for (std::size_t i = 0; i < c.pending.size();) {
      if (now < c.pending[i].tx.deadline_ms()) {
        ++i;
        continue;
      }
      auto step = c.pending[i].tx.on_timer(now);
      Purpose p = c.pending[i].purpose;
      bool timeout = step && step->event == TransactionEvent::kTimeout;
      if (c.pending[i].tx.state() == TransactionState::kTerminated)
        c.pending.erase(c.pending.begin() + static_cast<std::ptrdiff_t>(i));
      else
        ++i;
      if (!timeout) continue;
      if (p == Purpose::kBye) end(c, EndReason::kLocalHangup);
      if (p == Purpose::kUpdate || p == Purpose::kRefresh || p == Purpose::kReinvite) {
        (void)send_in_dialog(c, "BYE", Purpose::kBye, {}, {});
        end(c, EndReason::kTimeout, 0, sip_error(Code::kTimeout, "no answer in the dialog"));
      }
    }
    if (c.ended) return;
    if (now >= c.ack_deadline) {
      c.ack_deadline = kNoDeadline;
      (void)send_in_dialog(c, "BYE", Purpose::kBye, {}, {});
      end(c, EndReason::kTimeout, 0, sip_error(Code::kTimeout, "no ACK"));
      return;
    }
    if (now >= c.expire_at) {
      c.expire_at = kNoDeadline;
      (void)send_in_dialog(c, "BYE", Purpose::kBye, {}, {});
      end(c, EndReason::kSessionExpired, 0, sip_error(Code::kTimeout, "session expired"));
      return;
    }
    if (now >= c.refresh_at) {
      c.refresh_at = kNoDeadline;
      Status s = send_refresh(c);
      if (!s) end(c, EndReason::kError, 0, s);
    }
    if (now >= c.glare_at) {
      c.glare_at = kNoDeadline;
      Status s = send_offer(c, c.glare_kind, c.glare_sdp);
      if (!s) {
        CallEvent ev;
        ev.status = s;
        event(c, CallEventKind::kOfferFailed, std::move(ev));
      }
    }
  }

  // Drops calls that are over and have nothing outstanding.
  void sweep() {
    auto gone = [](const std::unique_ptr<Call>& c) {
      return c->ended && c->pending.empty() && !c->invite_tx;
    };
    a.calls_.erase(std::remove_if(a.calls_.begin(), a.calls_.end(), gone), a.calls_.end());
  }

  void finish() {
    sweep();
    out->deadline_ms = a.deadline_ms();
  }
};

CallAgent::CallAgent(CallConfig config) : config_(std::move(config)) {}
CallAgent::CallAgent(CallAgent&&) noexcept = default;
CallAgent& CallAgent::operator=(CallAgent&&) noexcept = default;
CallAgent::~CallAgent() = default;

Result<CallAgent> CallAgent::create(CallConfig config) {
  if (!config.random.fill) return sip_error(Code::kInvalidArgument, "no random source");
  auto impu = parse_uri(config.impu);
  if (!impu || (impu->scheme != UriScheme::kSip && impu->scheme != UriScheme::kSips))
    return sip_error(Code::kInvalidArgument, "IMPU must be a sip: URI");
  auto contact = parse_uri(config.contact_uri);
  if (!contact || contact->scheme != UriScheme::kSip ||
      config.contact_uri.find('>') != std::string::npos)
    return sip_error(Code::kInvalidArgument, "bad contact URI");
  if (!parse_host(config.via_host)) return sip_error(Code::kInvalidArgument, "bad Via host");
  if (config.min_se_s == 0 ||
      (config.session_expires_s != 0 && config.session_expires_s < config.min_se_s))
    return sip_error(Code::kInvalidArgument, "session_expires_s below min_se_s");
  if (!is_token(config.avatar_header))
    return sip_error(Code::kInvalidArgument, "bad avatar header name");
  if (!config.avatar_uri.empty() && !format_avatar_header(config.avatar_uri))
    return sip_error(Code::kInvalidArgument, "bad avatar URI");
  CallAgent agent(std::move(config));
  agent.contact_ = "<" + agent.config_.contact_uri + ";ob>";
  agent.mmtel_contact_ = agent.contact_ + ";" + kIcsiTag;
  return agent;
}

Result<CallId> CallAgent::invite(const OutgoingCall& spec, std::uint64_t now_ms, CallOutput* out) {
  auto to = parse_uri(spec.to);
  if (!to || to->scheme == UriScheme::kOther || spec.to.find_first_of("<>") != std::string::npos)
    return sip_error(Code::kInvalidArgument, "bad callee URI");
  if (spec.sdp.empty()) return sip_error(Code::kInvalidArgument, "an INVITE needs an SDP offer");
  if (spec.sdp.size() > IMSDC_MAX_SDP_SIZE) return sip_error(Code::kTooLarge, "SDP too large");
  for (const std::string* u : {&spec.preferred_identity, &spec.from}) {
    if (u->empty()) continue;
    auto p = parse_uri(*u);
    if (!p || p->scheme == UriScheme::kOther || u->find_first_of("<>") != std::string::npos)
      return sip_error(Code::kInvalidArgument, "bad P-Preferred-Identity or From");
  }
  if (!spec.avatar_uri.empty() && !format_avatar_header(spec.avatar_uri))
    return sip_error(Code::kInvalidArgument, "bad avatar URI");
  if (spec.preemptive_token && !spec.third_party_token.get)
    return sip_error(Code::kInvalidArgument, "pre-emptive token without a provider");
  if (calls_.size() >= kMaxCalls) return sip_error(Code::kNoMemory, "too many calls");
  auto call_id = make_call_id(config_.random);
  if (!call_id) return call_id.status();
  auto tag = make_tag(config_.random);
  if (!tag) return tag.status();

  auto c = std::make_unique<Call>();
  c->id = next_id_++;
  c->uac = true;
  c->spec = spec;
  c->se_request = config_.session_expires_s;
  Dialog d;
  d.call_id = call_id.value();
  d.local_tag = tag.value();
  d.local = "<" + (spec.from.empty() ? config_.impu : spec.from) + ">;tag=" + tag.value();
  d.remote = "<" + spec.to + ">";
  c->dialog = std::move(d);
  CallOps ops{*this, now_ms, out};
  Status s = ops.send_invite(*c, spec.preemptive_token);
  if (!s) return s;
  CallId id = c->id;
  calls_.push_back(std::move(c));
  out->deadline_ms = deadline_ms();
  return id;
}

Status CallAgent::ring(CallId id, std::string_view sdp, std::uint64_t now_ms, CallOutput* out) {
  CallOps ops{*this, now_ms, out};
  Call* c = ops.find(id);
  if (!c) return sip_error(Code::kNotFound, "no such call");
  if (c->uac || c->final_sent || c->prack_pending)
    return sip_error(Code::kState, "not an unanswered incoming call");
  bool reliable = c->peer_100rel;
  if (reliable) ++c->local_rseq;
  bool answer = reliable && !sdp.empty() && !c->remote_sdp.empty() && !c->answered_reliably;
  IMSDC_TRY(ops.send_response(*c, 180, answer ? sdp : std::string_view(), reliable));
  if (reliable) c->prack_pending = true;
  if (answer) {
    c->answered_reliably = true;
    c->local_sdp = std::string(sdp);
  }
  ops.finish();
  return Status::ok();
}

Status CallAgent::answer(CallId id, std::string_view sdp, std::uint64_t now_ms, CallOutput* out) {
  CallOps ops{*this, now_ms, out};
  Call* c = ops.find(id);
  if (!c) return sip_error(Code::kNotFound, "no such call");
  if (c->uac || c->final_sent || c->deferred_200)
    return sip_error(Code::kState, "not an unanswered incoming call");
  if (sdp.empty() && !c->answered_reliably)
    return sip_error(Code::kInvalidArgument, "the 200 needs an SDP");
  if (c->prack_pending && c->answered_reliably) {
    c->deferred_200 = true; // RFC 3262 section 3: not before the PRACK
    c->deferred_sdp = std::string(sdp);
    return Status::ok();
  }
  Status s = ops.send_200(*c, sdp);
  ops.finish();
  return s;
}

Status CallAgent::reject(CallId id, int status_code, std::uint64_t now_ms, CallOutput* out) {
  if (status_code < 300 || status_code > 699)
    return sip_error(Code::kInvalidArgument, "reject needs a 3xx-6xx code");
  CallOps ops{*this, now_ms, out};
  Call* c = ops.find(id);
  if (!c) return sip_error(Code::kNotFound, "no such call");
  if (c->uac || c->final_sent) return sip_error(Code::kState, "not an unanswered incoming call");
  IMSDC_TRY(ops.send_response(*c, status_code, {}, false));
  c->final_sent = true;
  ops.end(*c, EndReason::kLocalHangup, status_code);
  ops.finish();
  return Status::ok();
}

Status CallAgent::update(CallId id, std::string_view sdp, std::uint64_t now_ms, CallOutput* out) {
  CallOps ops{*this, now_ms, out};
  Call* c = ops.find(id);
  if (!c) return sip_error(Code::kNotFound, "no such call");
  if (sdp.empty()) return sip_error(Code::kInvalidArgument, "an offer needs SDP");
  if (!c->dialog || c->dialog->remote_tag.empty() || c->offer_outstanding ||
      c->state == Call::State::kEnding)
    return sip_error(Code::kState, "no dialog, or an offer is outstanding");
  bool prack_open = false;
  for (const Pending& p : c->pending)
    prack_open = prack_open || p.purpose == Purpose::kPrack;
  if (prack_open) {
    // The UPDATE follows the PRACK's answer so the callee sees them in CSeq order.
    c->update_after_prack = true;
    c->update_sdp = std::string(sdp);
    return Status::ok();
  }
  Status s = ops.send_offer(*c, Purpose::kUpdate, std::string(sdp));
  ops.finish();
  return s;
}

Status CallAgent::reinvite(CallId id, std::string_view sdp, std::uint64_t now_ms, CallOutput* out) {
  CallOps ops{*this, now_ms, out};
  Call* c = ops.find(id);
  if (!c) return sip_error(Code::kNotFound, "no such call");
  if (sdp.empty()) return sip_error(Code::kInvalidArgument, "an offer needs SDP");
  if (c->state != Call::State::kConfirmed || c->offer_outstanding)
    return sip_error(Code::kState, "not confirmed, or an offer is outstanding");
  Status s = ops.send_offer(*c, Purpose::kReinvite, std::string(sdp));
  ops.finish();
  return s;
}

Status CallAgent::hangup(CallId id, std::uint64_t now_ms, CallOutput* out) {
  CallOps ops{*this, now_ms, out};
  Call* c = ops.find(id);
  if (!c) return sip_error(Code::kNotFound, "no such call");
  Status s = Status::ok();
  if (c->uac && c->state != Call::State::kConfirmed && c->state != Call::State::kEnding) {
    if (c->cancel_sent || c->cancel_pending) return Status::ok();
    if (c->provisional_seen && c->invite_tx)
      s = ops.send_cancel(*c);
    else
      c->cancel_pending = true; // RFC 3261 section 9.1: not before a provisional response
  } else if (!c->uac && !c->final_sent) {
    s = ops.send_response(*c, 603, {}, false);
    c->final_sent = true;
    ops.end(*c, EndReason::kLocalHangup, 603);
  } else if (c->state != Call::State::kEnding) {
    c->state = Call::State::kEnding;
    c->refresh_at = c->expire_at = c->glare_at = c->ack_deadline = kNoDeadline;
    s = ops.send_in_dialog(*c, "BYE", Purpose::kBye, {}, {});
    if (!s) ops.end(*c, EndReason::kLocalHangup, 0, s);
  }
  ops.finish();
  return s;
}

CallOutput CallAgent::on_message(ByteSpan message, std::uint64_t now_ms) {
  CallOutput out;
  CallOps ops{*this, now_ms, &out};
  auto m = parse_message(message);
  if (m) {
    if (m->is_request())
      ops.on_request(m.value());
    else
      ops.on_response(m.value());
  }
  ops.finish();
  return out;
}

CallOutput CallAgent::poll(std::uint64_t now_ms) {
  CallOutput out;
  CallOps ops{*this, now_ms, &out};
  for (std::size_t i = 0; i < calls_.size(); ++i)
    ops.run_timers(*calls_[i]);
  ops.finish();
  return out;
}

CallOutput CallAgent::on_transport_closed(std::uint64_t now_ms) {
  CallOutput out;
  CallOps ops{*this, now_ms, &out};
  for (auto& c : calls_) {
    ops.end(*c, EndReason::kTransportLost, 0, sip_error(Code::kNetwork, "transport closed"));
    c->pending.clear();
    c->invite_tx.reset();
  }
  ops.finish();
  return out;
}

std::size_t CallAgent::call_count() const {
  std::size_t n = 0;
  for (const auto& c : calls_)
    n += c->ended ? 0 : 1;
  return n;
}

std::uint64_t CallAgent::deadline_ms() const {
  std::uint64_t d = kNoDeadline;
  for (const auto& c : calls_)
    d = std::min(d, c->deadline());
  return d;
}

} // namespace imsdc::sip
