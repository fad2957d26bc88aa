// SIP parser tables over tests/unit/data/sip: RFC 4475 torture messages (valid and
// invalid) and Kamailio-shaped registration messages.
// Shared by the host unit tests (tests/unit) and the on-target runner (tests/target), so both
// check the same vectors byte for byte.
#ifndef IMSDC_TESTS_VECTORS_SIP_VECTORS_H
#define IMSDC_TESTS_VECTORS_SIP_VECTORS_H

#include <cstdint>

#include "imsdc/status.h"

namespace imsdc::test_vectors {

struct ValidCase {
  const char* file;
  const char* method; // empty for responses
  int status;
  const char* call_id;
  std::uint32_t cseq;
  std::size_t via_count;
  std::size_t body_size;
};

const ValidCase kValid[] = {
    {"rfc4475_wsinv.sip", "INVITE", 0, "wsinv.ndaksdj@192.0.2.1", 9, 3, 150},
    {"rfc4475_intmeth.sip", "!interesting-Method0123456789_*+`.%indeed'~", 0,
     "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{", 139122385, 1, 0},
    {"rfc4475_esc01.sip", "INVITE", 0, "esc01.239409asdfakjkn23onasd0-3234", 234234, 1, 150},
    {"rfc4475_escnull.sip", "REGISTER", 0, "escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd", 14398234,
     1, 0},
    {"rfc4475_esc02.sip", "RE%47IST%45R", 0, "esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf", 29344, 1,
     0},
    {"rfc4475_lwsdisp.sip", "OPTIONS", 0, "lwsdisp.1234abcd@funky.example.com", 60, 1, 0},
    {"rfc4475_longreq.sip", "INVITE", 0, nullptr, 3882340, 34, 150},
    {"rfc4475_dblreq.sip", "REGISTER", 0, "dblreq.0ha0isndaksdj99sdfafnl3lk233412", 8, 1, 0},
    {"rfc4475_semiuri.sip", "OPTIONS", 0, "semiuri.0ha0isndaksdj", 8, 1, 0},
    {"rfc4475_transports.sip", "OPTIONS", 0, "transports.kijh4akdnaqjkwendsasfdj", 60, 5, 0},
    {"rfc4475_unreason.sip", "", 200, "unreason.1234ksdfak3j2erwedfsASdf", 35, 1, 154},
    {"rfc4475_noreason.sip", "", 100, "noreason.asndj203insdf99223ndf", 35, 1, 0},
    {"kamailio_register.sip", "REGISTER", 0, "3b1c8e1f9a2d4c5e6f708192a3b4c5d6", 1, 1, 0},
    {"kamailio_401.sip", "", 401, "3b1c8e1f9a2d4c5e6f708192a3b4c5d6", 1, 1, 0},
    {"kamailio_200.sip", "", 200, "3b1c8e1f9a2d4c5e6f708192a3b4c5d6", 2, 1, 0},
    {"kamailio_401_bearer.sip", "", 401, "5f2a9c@x", 2, 1, 0},
    {"kamailio_403_scope.sip", "", 403, "5f2a9c@x", 3, 1, 0},
    {"invite_ipv6_verstat.sip", "INVITE", 0, "a84b4c76e66710@[2001:db8::1]", 314159, 1, 150},
};

struct InvalidCase {
  const char* file;
  Code code;
};

// RFC 4475 section 3.1.2: each of these must not be accepted as a valid request.
const InvalidCase kInvalid[] = {
    {"rfc4475_badinv01.sip", Code::kMalformed},   // ;;,;,, in Via and Contact
    {"rfc4475_clerr.sip", Code::kMalformed},      // Content-Length 9999 > body
    {"rfc4475_ncl.sip", Code::kMalformed},        // Content-Length -999
    {"rfc4475_scalar02.sip", Code::kMalformed},   // CSeq 2**65, Max-Forwards 300
    {"rfc4475_quotbal.sip", Code::kMalformed},    // unterminated quoted display name
    {"rfc4475_ltgtruri.sip", Code::kMalformed},   // <sip:...> as Request-URI
    {"rfc4475_lwsruri.sip", Code::kMalformed},    // LWS inside the Request-URI
    {"rfc4475_lwsstart.sip", Code::kMalformed},   // double SP in the request line
    {"rfc4475_trws.sip", Code::kMalformed},       // SP after SIP/2.0
    {"rfc4475_escruri.sip", Code::kMalformed},    // ?headers in the Request-URI
    {"rfc4475_regbadct.sip", Code::kMalformed},   // addr-spec Contact with ?headers
    {"rfc4475_badaspec.sip", Code::kMalformed},   // spaces inside <>
    {"rfc4475_baddn.sip", Code::kMalformed},      // comma in unquoted display name
    {"rfc4475_badvers.sip", Code::kUnsupported},  // SIP/7.0 -> 505
    {"rfc4475_mismatch01.sip", Code::kMalformed}, // CSeq method differs from method
    {"rfc4475_bigcode.sip", Code::kMalformed},    // status code 4294967301
};

} // namespace imsdc::test_vectors

#endif // IMSDC_TESTS_VECTORS_SIP_VECTORS_H
