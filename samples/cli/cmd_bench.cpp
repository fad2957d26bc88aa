// imsdc bench crypto: the SDK's crypto paths next to raw mbedTLS doing the same work, in one
// process, interleaved, reporting medians and the ratio SDK/raw (higher is better for
// throughput). Absolute numbers depend on the machine; the ratio is the figure to track.
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/entropy.h>
#include <mbedtls/gcm.h>
#include <mbedtls/sha256.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "cli.h"
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
    "build + sign next to one raw ECDSA sign; ephemeral key generation on its own.\n";

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

} // namespace

int cmd_bench(int argc, char** argv) {
  Args a;
  if (!a.parse(argc, argv, 1, {"--help", "--json"},
               {"--rounds", "--invite", "--server", "--origin", "--impu", "--impi",
                "--password-file", "--ca", "--state", "--size-mib"}))
    return usage_error(a.error());
  if (a.has("--help") || a.positional().empty()) {
    std::fputs(kHelp, a.has("--help") ? stdout : stderr);
    return a.has("--help") ? 0 : 2;
  }
  int rounds = std::max(1, std::atoi(a.get("--rounds", "5").c_str()));
  if (a.positional()[0] == "sip") return bench_sip(a, rounds);
  if (a.positional()[0] == "avatar") return bench_avatar(a, rounds);
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
