// imsdc bench crypto: the SDK's crypto paths next to raw mbedTLS doing the same work, in one
// process, interleaved, reporting medians and the ratio SDK/raw (higher is better for
// throughput). Absolute numbers depend on the machine; the ratio is the figure to track.
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/entropy.h>
#include <mbedtls/gcm.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cli.h"
#include "crypto/internal.h"
#include "identity/identity.h"
#include "identity/jcs.h"
#include "imsdc/codec.h"
#include "imsdc/config_defaults.h"
#include "imsdc/crypto.h"
#include "imsdc/jose.h"
#include "sip/builder.h"
#include "sip/message.h"

namespace imsdc::cli {
namespace {

constexpr const char* kHelp =
    "usage: imsdc bench crypto [--rounds N] [--json]\n"
    "       imsdc bench avatar [--size-mib N] [--rounds N] [--json]\n"
    "       imsdc bench dc [--in-process | --delay-ms MS] [--size-mib N] [--rounds N] [--json]\n"
    "       imsdc bench identity [--rounds N] [--json]\n"
    "       imsdc bench sip [--invite FILE] [--rounds N] [--json]\n"
    "                       [--server wss://localhost:P --origin URL --impu URI --impi ID\n"
    "                        --password-file F --ca F [--state DIR]]\n"
    "\n"
    "sip: parse, and parse + build of the 180 answer, of a SIP INVITE captured from the\n"
    "labnet Kamailio (tests/unit/data/sip/kamailio/invite-relayed.sip by default), in\n"
    "messages/s; with --server and credentials, also one digest registration against that\n"
    "server and the number of network round trips it took.\n"
    "\n"
    "ES256 JWS sign and verify per second through the SDK (keystore port, JOSE encoding)\n"
    "next to raw mbedTLS ECDSA P-256 over SHA-256 of the same signing input, and AES-256-GCM\n"
    "MB/s through the SDK's streaming interface (IMSDC_STREAM_CHUNK pieces) next to one raw\n"
    "mbedtls_gcm_crypt_and_tag call. Each figure is the median of N interleaved rounds.\n"
    "avatar: streaming JWE decryption (base64url + GCM + sink, in IMSDC_STREAM_CHUNK pieces)\n"
    "of an N MiB representation next to one raw mbedtls_gcm_auth_decrypt; attestation\n"
    "build + sign next to one raw ECDSA sign; ephemeral key generation on its own.\n"
    "dc: two data-channel peers in this process, over two UDP sockets on 127.0.0.1 (or, with\n"
    "--in-process, over in-memory queues): throughput of one reliable ordered channel in 64 KiB\n"
    "messages through DTLS+SCTP next to raw usrsctp without DTLS (same path MTU) and with a raw\n"
    "AEAD per packet; over UDP also the time from the answer to the first delivered message\n"
    "with --delay-ms (default 25) each way, in round trips; heap high-water of a pair of\n"
    "associations with two channels (release builds).\n"
    "identity: caller-card verification (identity verify on a parsed INVITE) of a SHAKEN and\n"
    "of a Rich Call Data PASSporT (nam, jcd, icn with rcdi), x5u certificate and icon served\n"
    "from memory (cached), next to one raw mbedTLS ES256 verify and to raw mbedTLS doing the\n"
    "same public-key work (X.509 chain verify + ES256 verify).\n";

using Clock = std::chrono::steady_clock;

// Runs fn until at least min_ms passed; returns operations per second.
double rate(const std::function<bool()>& fn, int min_ms) {
  auto start = Clock::now();
  long n = 0;
  double elapsed = 0;
  do {
    if (!fn()) return -1;
    ++n;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed * 1000 < min_ms);
  return n / elapsed;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Row {
  const char* what;
  const char* unit;
  std::vector<double> sdk, raw;
};

int bench_sip(const Args& a, int rounds) {
#ifdef IMSDC_SOURCE_DIR
  const std::string def =
      std::string(IMSDC_SOURCE_DIR) + "/tests/unit/data/sip/kamailio/invite-relayed.sip";
#else
  const std::string def;
#endif
  std::string path = a.get("--invite", def);
  auto text = read_file(path, IMSDC_MAX_SIP_MESSAGE + 1);
  if (!text) return fail(text.status(), path);
  const Bytes& invite = text.value();
  auto first = sip::parse_message(invite);
  if (!first) return fail(first.status(), path);
  if (first.value().method() != "INVITE")
    return fail(Status(Code::kInvalidArgument, Module::kCli, "not an INVITE"), path);
  std::vector<double> parse, both;
  std::size_t built_size = 0;
  for (int r = 0; r < rounds; ++r) {
    parse.push_back(rate([&] { return sip::parse_message(invite).is_ok(); }, 300));
    both.push_back(rate(
        [&] {
          auto m = sip::parse_message(invite);
          if (!m) return false;
          auto out = sip::response_for(m.value(), 180, "Ringing", "a73kszlfl").build();
          if (!out) return false;
          built_size = out.value().size();
          return true;
        },
        300));
  }
  int round_trips = -1;
  if (a.has("--server")) {
    std::vector<std::string> args = {"register"};
    for (const char* o :
         {"--server", "--origin", "--impu", "--impi", "--password-file", "--ca", "--state"})
      if (a.has(o)) {
        args.push_back(o);
        args.push_back(a.get(o));
      }
    args.push_back("--hold");
    args.push_back("0");
    std::vector<char*> av;
    for (auto& s : args)
      av.push_back(&s[0]);
    av.push_back(nullptr);
    int rc = run_register(static_cast<int>(args.size()), av.data(), &round_trips);
    if (rc != 0) return rc;
  }
  if (a.has("--json")) {
    std::printf("{\"invite_bytes\":%zu,\"parse_msg_per_s\":%.0f,\"parse_build_msg_per_s\":%.0f,"
                "\"registration_round_trips\":%d}\n",
                invite.size(), median(parse), median(both), round_trips);
  } else {
    std::printf("imsdc bench sip: captured INVITE (%zu bytes), median of %d rounds\n",
                invite.size(), rounds);
    std::printf("  parse                       %12.0f msg/s\n", median(parse));
    std::printf("  parse + build 180 (%4zu B)  %12.0f msg/s\n", built_size, median(both));
    if (round_trips >= 0)
      std::printf("  digest registration         %12d round trips (REGISTER/401, REGISTER/200)\n",
                  round_trips);
  }
  return 0;
}

// Serves the x5u certificate and the RCD icon from memory: the "certificates cached" case.
int memory_fetch(void* ctx, const char* url, std::size_t url_len, std::uint8_t* out,
                 std::size_t cap, std::size_t* out_len) {
  const auto* files = static_cast<const std::map<std::string, std::string>*>(ctx);
  auto it = files->find(std::string(url, url_len));
  if (it == files->end() || it->second.size() > cap) return -1;
  std::copy(it->second.begin(), it->second.end(), out);
  *out_len = it->second.size();
  return 0;
}

std::string sti_digest(std::string_view data) {
  const crypto::Digest d = crypto::sha256(ByteSpan(data));
  return "sha256-" + base64_encode(ByteSpan(d.data(), d.size()));
}

int bench_identity(const Args& a, int rounds) {
  // --- a test STI PKI in memory: root -> SHAKEN leaf, the leaf signs both PASSporTs ---
  const std::int64_t now = now_s();
  auto root_key = crypto::EcPrivateKey::generate();
  auto sti_key = crypto::EcPrivateKey::generate();
  if (!root_key || !sti_key) return fail(Status(Code::kEntropy, Module::kCli), "key generation");
  crypto::MemoryKeystore root_ks(std::move(root_key.value()));
  crypto::MemoryKeystore sti_ks(std::move(sti_key.value()));
  crypto::internal::CertSpec spec;
  spec.issuer_cn = "STI Bench Root";
  spec.not_before = now - 86400;
  spec.not_after = now + 86400;
  spec.subject_cn = "STI Bench Root";
  spec.subject_key = root_ks.key().public_key();
  spec.is_ca = true;
  auto root = crypto::internal::issue_cert(*root_ks.port(), spec);
  spec.subject_cn = "SHAKEN 1234";
  spec.subject_key = sti_ks.key().public_key();
  spec.is_ca = false;
  auto leaf = crypto::internal::issue_cert(*root_ks.port(), spec);
  if (!root || !leaf) return fail(root ? leaf.status() : root.status(), "certificate");
  crypto::TrustStore trust;
  if (Status s = trust.add_der(root.value()); !s) return fail(s, "trust store");
  const std::string x5u = "https://cert.sti.example/sti.pem";
  const std::string icon = "https://rcd.sti.example/icon.png";
  std::map<std::string, std::string> files;
  files[x5u] = crypto::cert_to_pem(leaf.value());
  files[icon] = "\x89PNG\r\n\x1a\n" + std::string(2048, 'i'); // a small icon

  // --- the two PASSporTs and the INVITEs that carry them ---
  const std::string jcd = R"(["vcard",[["version",{},"text","4.0"],["fn",{},"text","Alice Ltd"],)"
                          R"(["org",{},"text","Example Org"]]])";
  auto jcd_canon = identity::jcs_canonicalize(jcd);
  if (!jcd_canon) return fail(jcd_canon.status(), "jCard");
  const std::string base = "{\"dest\":{\"tn\":[\"15552220002\"]},\"iat\":" + std::to_string(now) +
                           ",\"orig\":{\"tn\":\"15551110001\"}";
  const std::string shaken_claims =
      base + ",\"attest\":\"A\",\"origid\":\"4437c7eb-8f7a-4f0e-a863-f53a0e60251a\"}";
  const std::string rcd_claims =
      base + ",\"crn\":\"Quarterly review\",\"rcd\":{\"icn\":\"" + icon + "\",\"jcd\":" + jcd +
      ",\"nam\":\"Alice\"},\"rcdi\":{\"/nam\":\"" + sti_digest("\"Alice\"") + "\",\"/jcd\":\"" +
      sti_digest(jcd_canon.value()) + "\",\"/icn\":\"" + sti_digest(files[icon]) + "\"}}";
  auto sign = [&](const char* ppt, const std::string& claims) {
    const std::string header = std::string("{\"alg\":\"ES256\",\"ppt\":\"") + ppt +
                               "\",\"typ\":\"passport\",\"x5u\":\"" + x5u + "\"}";
    return jose::jws_sign_with_header(*sti_ks.port(), header, ByteSpan(claims));
  };
  auto shaken = sign("shaken", shaken_claims);
  auto rcd = sign("rcd", rcd_claims);
  if (!shaken || !rcd) return fail(shaken ? rcd.status() : shaken.status(), "PASSporT");
  auto invite = [&](const std::string& jws, const char* ppt) {
    return "INVITE sip:+15552220002@ims.example;user=phone SIP/2.0\r\n"
           "Via: SIP/2.0/WSS a.invalid;branch=z9hG4bK1\r\n"
           "From: <sip:+15551110001@ims.example;user=phone>;tag=1\r\n"
           "To: <sip:+15552220002@ims.example;user=phone>\r\n"
           "Call-ID: c1\r\nCSeq: 1 INVITE\r\n"
           "Identity: " +
           jws + ";info=<" + x5u + ">;alg=ES256;ppt=" + ppt + "\r\nContent-Length: 0\r\n\r\n";
  };
  const std::string shaken_text = invite(shaken.value(), "shaken");
  const std::string rcd_text = invite(rcd.value(), "rcd");
  auto shaken_msg = sip::parse_message(ByteSpan(std::string_view(shaken_text)));
  auto rcd_msg = sip::parse_message(ByteSpan(std::string_view(rcd_text)));
  if (!shaken_msg || !rcd_msg) return fail(Status(Code::kInternal, Module::kCli), "INVITE");
  identity::VerifyConfig cfg;
  cfg.trust = &trust;
  cfg.now_s = now;
  cfg.fetcher.fetch = memory_fetch;
  cfg.fetcher.ctx = &files;
  // Each iteration must reach the verdict the benchmark claims to measure.
  auto shaken_ok = [&] {
    auto c = identity::verify_request(shaken_msg.value(), cfg);
    return c.is_ok() && c->number.status == identity::FieldStatus::kVerifiedE2e;
  };
  auto rcd_ok = [&] {
    auto c = identity::verify_request(rcd_msg.value(), cfg);
    return c.is_ok() && c->passport_verified &&
           c->name.status == identity::FieldStatus::kVerifiedE2e &&
           c->organization.status == identity::FieldStatus::kVerifiedE2e &&
           c->photo.status == identity::FieldStatus::kVerifiedE2e;
  };
  if (!shaken_ok() || !rcd_ok())
    return fail(Status(Code::kInternal, Module::kCli, "a PASSporT does not verify"), "bench");

  // --- raw mbedTLS: the SHAKEN signature (r||s over SHA-256 of the signing input) with the
  // leaf's key, and the same plus the leaf's X.509 chain to the root ---
  auto parts = jose::jws_parse(shaken.value().substr(0, shaken.value().find(';')));
  if (!parts) return fail(parts.status(), "JWS");
  const std::string& input = parts.value().signing_input;
  const crypto::RawSignature sig = parts.value().signature;
  const crypto::EcPublicKey& pub = sti_ks.key().public_key();
  mbedtls_ecp_group grp;
  mbedtls_ecp_point q;
  mbedtls_mpi r, s;
  mbedtls_ecp_group_init(&grp);
  mbedtls_ecp_point_init(&q);
  mbedtls_mpi_init(&r);
  mbedtls_mpi_init(&s);
  std::uint8_t point[65] = {0x04};
  std::memcpy(point + 1, pub.xy.data(), 64);
  mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
  mbedtls_ecp_point_read_binary(&grp, &q, point, sizeof point);
  mbedtls_x509_crt root_crt;
  mbedtls_x509_crt_init(&root_crt);
  mbedtls_x509_crt_parse_der(&root_crt, root.value().data(), root.value().size());
  auto raw_verify = [&] {
    std::uint8_t h[32];
    mbedtls_sha256_ret(reinterpret_cast<const std::uint8_t*>(input.data()), input.size(), h, 0);
    return mbedtls_mpi_read_binary(&r, sig.data(), 32) == 0 &&
           mbedtls_mpi_read_binary(&s, sig.data() + 32, 32) == 0 &&
           mbedtls_ecdsa_verify(&grp, h, 32, &q, &r, &s) == 0;
  };
  auto raw_chain_verify = [&] {
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    std::uint32_t flags = 0;
    bool ok =
        mbedtls_x509_crt_parse_der(&crt, leaf.value().data(), leaf.value().size()) == 0 &&
        mbedtls_x509_crt_verify(&crt, &root_crt, nullptr, nullptr, &flags, nullptr, nullptr) == 0;
    mbedtls_x509_crt_free(&crt);
    return ok && raw_verify();
  };

  std::vector<double> v_shaken, v_rcd, v_raw, v_chain;
  bool ok = raw_verify() && raw_chain_verify();
  for (int i = 0; i < rounds && ok; ++i) {
    v_shaken.push_back(rate(shaken_ok, 300));
    v_rcd.push_back(rate(rcd_ok, 300));
    v_raw.push_back(rate(raw_verify, 300));
    v_chain.push_back(rate(raw_chain_verify, 300));
    ok = v_shaken.back() > 0 && v_rcd.back() > 0 && v_raw.back() > 0 && v_chain.back() > 0;
  }
  mbedtls_x509_crt_free(&root_crt);
  mbedtls_mpi_free(&r);
  mbedtls_mpi_free(&s);
  mbedtls_ecp_point_free(&q);
  mbedtls_ecp_group_free(&grp);
  if (!ok) return fail(Status(Code::kInternal, Module::kCli, "a benchmark operation failed"));

  const double raw = median(v_raw), chain = median(v_chain);
  struct {
    const char* what;
    double rate;
  } rows[] = {{"SHAKEN PASSporT", median(v_shaken)},
              {"RCD PASSporT", median(v_rcd)},
              {"raw ES256 verify", raw},
              {"raw chain+ES256", chain}};
  if (a.has("--json")) {
    std::printf("{\"rounds\":%d,\"results\":[", rounds);
    for (std::size_t i = 0; i < 4; ++i)
      std::printf("%s{\"what\":\"%s\",\"per_s\":%.1f,\"ratio_raw_es256\":%.3f,"
                  "\"ratio_raw_chain_es256\":%.3f}",
                  i ? "," : "", rows[i].what, rows[i].rate, rows[i].rate / raw,
                  rows[i].rate / chain);
    std::printf("]}\n");
  } else {
    std::printf("imsdc bench identity: median of %d interleaved rounds, one process, "
                "certificates cached\n",
                rounds);
    std::printf("%-18s %12s %14s %18s\n", "verification", "per second", "vs raw ES256",
                "vs raw chain+ES256");
    for (const auto& row : rows)
      std::printf("%-18s %12.1f %14.3f %18.3f\n", row.what, row.rate, row.rate / raw,
                  row.rate / chain);
  }
  return 0;
}

} // namespace

int cmd_bench(int argc, char** argv) {
  Args a;
  if (!a.parse(argc, argv, 1, {"--help", "--json", "--in-process"},
               {"--rounds", "--invite", "--server", "--origin", "--impu", "--impi",
                "--password-file", "--ca", "--state", "--size-mib", "--delay-ms"}))
    return usage_error(a.error());
  if (a.has("--help") || a.positional().empty()) {
    std::fputs(kHelp, a.has("--help") ? stdout : stderr);
    return a.has("--help") ? 0 : 2;
  }
  int rounds = std::max(1, std::atoi(a.get("--rounds", "5").c_str()));
  if (a.positional()[0] == "sip") return bench_sip(a, rounds);
  if (a.positional()[0] == "avatar") return bench_avatar(a, rounds);
  if (a.positional()[0] == "dc") return bench_dc(a, rounds);
  if (a.positional()[0] == "identity") return bench_identity(a, rounds);
  if (a.positional()[0] != "crypto")
    return usage_error("unknown benchmark '" + a.positional()[0] + "'");

  // --- set-up: one key, used by both sides ---
  auto key = crypto::EcPrivateKey::generate();
  if (!key) return fail(key.status(), "key generation");
  Bytes scalar(key.value().scalar().begin(), key.value().scalar().end());
  crypto::MemoryKeystore ks(std::move(key.value()));
  auto self =
      crypto::make_self_signed_cert(*ks.port(), "bench", "sip:bench@ims.example", now_s(), 1);
  if (!self) return fail(self.status(), "certificate");
  if (!ks.set_chain({self.value()})) return fail(Status(Code::kInternal, Module::kCli));
  const std::string claims =
      "{\"iss\":\"sip:bench@ims.example\",\"avatar_id\":\"a1\",\"aud\":\"bar.example\","
      "\"rendering\":"
      "\"network\",\"iat\":1767225600,\"exp\":1767225660,\"jti\":\"bench-0001\"}";

  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_entropy_init(&entropy);
  mbedtls_ctr_drbg_init(&drbg);
  mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, nullptr, 0);
  mbedtls_ecdsa_context raw_key;
  mbedtls_ecdsa_init(&raw_key);
  mbedtls_ecp_group_load(&raw_key.grp, MBEDTLS_ECP_DP_SECP256R1);
  mbedtls_mpi_read_binary(&raw_key.d, scalar.data(), scalar.size());
  mbedtls_ecp_mul(&raw_key.grp, &raw_key.Q, &raw_key.d, &raw_key.grp.G, mbedtls_ctr_drbg_random,
                  &drbg);
  secure_zero(scalar.data(), scalar.size());

  auto token = jose::jws_sign(*ks.port(), ByteSpan(claims), "avatar-attestation+jwt", true);
  if (!token) return fail(token.status(), "JWS");
  auto parts = jose::jws_parse(token.value());
  if (!parts) return fail(parts.status(), "JWS");
  const std::string& input = parts.value().signing_input;
  std::uint8_t raw_sig[MBEDTLS_ECDSA_MAX_LEN];
  std::size_t raw_sig_len = 0;
  {
    std::uint8_t h[32];
    mbedtls_sha256_ret(reinterpret_cast<const std::uint8_t*>(input.data()), input.size(), h, 0);
    mbedtls_ecdsa_write_signature(&raw_key, MBEDTLS_MD_SHA256, h, 32, raw_sig, &raw_sig_len,
                                  mbedtls_ctr_drbg_random, &drbg);
  }

  const std::size_t kBuf = 16u << 20;
  std::vector<std::uint8_t> plain(kBuf, 0xa5), out(kBuf + 16), out2(kBuf);
  std::uint8_t aes_key[32], iv[12], tag[16];
  if (!crypto::random_bytes(aes_key, sizeof aes_key) || !crypto::random_bytes(iv, sizeof iv))
    return fail(Status(Code::kEntropy, Module::kCli));
  mbedtls_gcm_context gcm;
  mbedtls_gcm_init(&gcm);
  mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, aes_key, 256);

  Row sign{"ES256 sign", "op/s", {}, {}}, verify{"ES256 verify", "op/s", {}, {}},
      aes{"AES-256-GCM", "MB/s", {}, {}};
  bool ok = true;
  for (int r = 0; r < rounds && ok; ++r) {
    sign.sdk.push_back(rate(
        [&] {
          return jose::jws_sign(*ks.port(), ByteSpan(claims), "avatar-attestation+jwt", true)
              .is_ok();
        },
        300));
    sign.raw.push_back(rate(
        [&] {
          std::uint8_t h[32], sig[MBEDTLS_ECDSA_MAX_LEN];
          std::size_t n = 0;
          mbedtls_sha256_ret(reinterpret_cast<const std::uint8_t*>(input.data()), input.size(), h,
                             0);
          return mbedtls_ecdsa_write_signature(&raw_key, MBEDTLS_MD_SHA256, h, 32, sig, &n,
                                               mbedtls_ctr_drbg_random, &drbg) == 0;
        },
        300));
    verify.sdk.push_back(rate(
        [&] {
          auto p = jose::jws_parse(token.value());
          return p.is_ok() && jose::jws_verify(p.value(), ks.key().public_key()).is_ok();
        },
        300));
    verify.raw.push_back(rate(
        [&] {
          std::uint8_t h[32];
          mbedtls_sha256_ret(reinterpret_cast<const std::uint8_t*>(input.data()), input.size(), h,
                             0);
          return mbedtls_ecdsa_read_signature(&raw_key, h, 32, raw_sig, raw_sig_len) == 0;
        },
        300));
    aes.sdk.push_back(
        rate(
            [&] {
              crypto::AesGcm g;
              if (!g.start(crypto::AesGcm::Mode::kEncrypt, ByteSpan(aes_key, 32), ByteSpan(iv, 12),
                           ByteSpan()))
                return false;
              std::size_t off = 0, n = 0;
              for (std::size_t i = 0; i < kBuf; i += IMSDC_STREAM_CHUNK) {
                if (!g.update(ByteSpan(plain.data() + i, IMSDC_STREAM_CHUNK), out.data() + off,
                              out.size() - off, &n))
                  return false;
                off += n;
              }
              return g.finish(out.data() + off, out.size() - off, &n, tag, 16).is_ok();
            },
            300) *
        kBuf / 1e6);
    aes.raw.push_back(rate(
                          [&] {
                            return mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, kBuf, iv,
                                                             12, nullptr, 0, plain.data(),
                                                             out2.data(), 16, tag) == 0;
                          },
                          300) *
                      kBuf / 1e6);
    ok = sign.sdk.back() > 0 && sign.raw.back() > 0 && verify.sdk.back() > 0 && aes.sdk.back() > 0;
  }
  mbedtls_gcm_free(&gcm);
  mbedtls_ecdsa_free(&raw_key);
  mbedtls_ctr_drbg_free(&drbg);
  mbedtls_entropy_free(&entropy);
  secure_zero(aes_key, sizeof aes_key);
  if (!ok) return fail(Status(Code::kInternal, Module::kCli, "a benchmark operation failed"));

  const Row* rows[] = {&sign, &verify, &aes};
  if (a.has("--json")) {
    std::printf("{\"rounds\":%d,\"results\":[", rounds);
    for (int i = 0; i < 3; ++i) {
      double s = median(rows[i]->sdk), w = median(rows[i]->raw);
      std::printf(
          "%s{\"what\":\"%s\",\"unit\":\"%s\",\"sdk\":%.1f,\"raw_mbedtls\":%.1f,\"ratio\":%.3f}",
          i ? "," : "", rows[i]->what, rows[i]->unit, s, w, w > 0 ? s / w : 0);
    }
    std::printf("]}\n");
  } else {
    std::printf("imsdc bench crypto: median of %d interleaved rounds, one process\n", rounds);
    std::printf("%-14s %6s %14s %14s %8s\n", "operation", "unit", "imsdc", "raw mbedTLS", "ratio");
    for (const Row* row : rows) {
      double s = median(row->sdk), w = median(row->raw);
      std::printf("%-14s %6s %14.1f %14.1f %8.3f\n", row->what, row->unit, s, w, w > 0 ? s / w : 0);
    }
  }
  return 0;
}

} // namespace imsdc::cli
