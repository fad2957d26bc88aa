// C API: status names, hooks, the client and its poll loop.
#include <algorithm>
#include <cstring>
#include <new>

#include "capi/capi_internal.h"
#include "imsdc/log.h"
#include "imsdc/port/os.h"
#include "imsdc/version.h"

namespace imsdc::capi {

int copy_out(std::string_view text, char* out, std::size_t cap, std::size_t* out_len) {
  if (out_len) *out_len = text.size();
  if (!out || cap <= text.size()) {
    if (out && cap > 0) out[0] = '\0';
    return to_c(Code::kTooLarge);
  }
  std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\0';
  return IMSDC_OK;
}

Status fill_random(void* /*ctx*/, std::uint8_t* out, std::size_t length) {
  return crypto::random_bytes(out, length);
}

namespace {

constexpr int kLastCode = static_cast<int>(Code::kEntropy);

imsdc_log_fn g_log_fn = nullptr;
void* g_log_user = nullptr;

void log_trampoline(void* user, int level, const char* module, const char* line) {
  (void)user;
  if (g_log_fn) g_log_fn(g_log_user, level, module, line);
}

} // namespace
} // namespace imsdc::capi

using imsdc::capi::copy_out;
using imsdc::capi::to_c;

void imsdc_client::detach(imsdc::capi::Polled* p) {
  polled.erase(std::remove(polled.begin(), polled.end(), p), polled.end());
}

extern "C" {

const char* imsdc_status_str(int status) {
  if (status < 0 || status > imsdc::capi::kLastCode) return "unknown";
  return imsdc::code_name(static_cast<imsdc::Code>(status));
}

const char* imsdc_version(void) {
  return IMSDC_VERSION_STRING;
}

void imsdc_set_log_hook(imsdc_log_fn fn, void* user, int level) {
  imsdc::capi::g_log_fn = fn;
  imsdc::capi::g_log_user = user;
  imsdc::log::set_sink(fn ? imsdc::capi::log_trampoline : nullptr, nullptr);
  imsdc::log::set_level(
      std::clamp(level, static_cast<int>(IMSDC_LOG_ERROR), static_cast<int>(IMSDC_LOG_DEBUG)));
}

int imsdc_client_create(const imsdc_client_config* config, imsdc_client** out) {
  if (!config || !out) return IMSDC_E_INVALID_ARGUMENT;
  const bool dir = config->keystore_dir && *config->keystore_dir;
  const bool files = config->key_file && *config->key_file;
  if (dir == files || (!files && config->cert_file)) return IMSDC_E_INVALID_ARGUMENT;
  auto* c = new (std::nothrow) imsdc_client();
  if (!c) return IMSDC_E_NO_MEMORY;
  std::unique_ptr<imsdc_client> guard(c);
  if (dir) {
    c->key_file = std::string(config->keystore_dir) + "/device-key.pem";
    c->cert_file = std::string(config->keystore_dir) + "/device-cert.pem";
    auto ks = imsdc::posix::PemKeystore::load(config->keystore_dir);
    if (!ks) return to_c(ks.status());
    c->keystore = std::move(ks.value());
  } else {
    c->key_file = config->key_file;
    c->cert_file = config->cert_file ? config->cert_file : "";
    auto ks = imsdc::posix::PemKeystore::load_files(c->key_file, c->cert_file);
    if (!ks) return to_c(ks.status());
    c->keystore = std::move(ks.value());
  }
  if (config->ca_file) c->ca_file = config->ca_file;
  if (config->state_dir && *config->state_dir) {
    auto st = imsdc::posix::Storage::open(config->state_dir);
    if (!st) return to_c(st.status());
    c->storage = std::move(st.value());
  }
  *out = guard.release();
  return IMSDC_OK;
}

void imsdc_client_destroy(imsdc_client* client) {
  delete client;
}

int imsdc_client_poll(imsdc_client* client, uint32_t timeout_ms) {
  if (!client) return IMSDC_E_INVALID_ARGUMENT;
  // A callback may not destroy objects, but it may create them: iterate over a copy.
  std::vector<imsdc::capi::Polled*> objs = client->polled;
  std::uint64_t now = imsdc_port_clock_monotonic_ms();
  for (auto* p : objs)
    p->service(now);
  std::uint64_t wake = now + timeout_ms;
  for (auto* p : objs)
    wake = std::min(wake, p->next_deadline());
  now = imsdc_port_clock_monotonic_ms();
  const auto wait = static_cast<std::uint32_t>(wake > now ? wake - now : 0);
  std::vector<imsdc_port_udp*> socks;
  for (auto* p : objs)
    p->sockets(&socks);
  if (socks.empty()) {
    // Only WebSockets: the first one waits, the others are serviced without waiting.
    bool waited = false;
    for (auto* p : objs)
      if (p->wait_transport(waited ? 0 : wait)) waited = true;
  } else {
    // UDP and WebSockets cannot be waited on together through the ports: with both, the
    // UDP wait is kept short so that SIP messages are not held back for long.
    bool transports = false;
    for (auto* p : objs)
      transports = p->wait_transport(0) || transports;
    const imsdc_port_net* net = imsdc::posix::net();
    const std::uint32_t udp_wait = transports ? std::min<std::uint32_t>(wait, 10) : wait;
    if (net->wait) (void)net->wait(net->ctx, socks.data(), socks.size(), udp_wait);
  }
  now = imsdc_port_clock_monotonic_ms();
  for (auto* p : objs)
    p->service(now);
  return IMSDC_OK;
}

int imsdc_client_fingerprint(const imsdc_client* client, char* out, size_t cap, size_t* out_len) {
  if (!client || !out_len) return IMSDC_E_INVALID_ARGUMENT;
  auto chain = imsdc::crypto::keystore_chain(*client->keystore->port());
  if (!chain) return to_c(chain.status());
  if (chain.value().empty()) return IMSDC_E_NOT_FOUND;
  auto fp = imsdc::crypto::cert_fingerprint(imsdc::ByteSpan(chain.value()[0]));
  if (!fp) return to_c(fp.status());
  return copy_out(fp.value(), out, cap, out_len);
}

} // extern "C"
