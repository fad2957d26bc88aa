// PKCS#11 keystore port: the device key is generated in, and used through, a PKCS#11 token.
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>

#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "imsdc/bytes.h"
#include "imsdc/crypto.h"
#include "imsdc/port_pkcs11.h"

namespace imsdc::pkcs11 {
namespace {

// DER of the named curve OID prime256v1 / secp256r1 (1.2.840.10045.3.1.7), the value of
// CKA_EC_PARAMS for P-256.
const CK_BYTE kP256Params[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
constexpr std::size_t kMaxChain = 8;
constexpr std::size_t kMaxCertSize = 16 * 1024;

// One loaded module, shared by every Token that names the same path: PKCS#11 allows one
// C_Initialize per process, and logging out ends the login of every session on the token.
struct LoadedModule {
  std::string path;
  void* handle = nullptr;
  CK_FUNCTION_LIST_PTR f = nullptr;
  bool initialized_here = false;
  int refs = 0;
  std::vector<std::pair<CK_SLOT_ID, int>> logins; // per slot: Tokens logged in
};

std::mutex g_modules_mu;
std::vector<LoadedModule*> g_modules;

Status p11_status(CK_RV rv, const char* detail) {
  switch (rv) {
  case CKR_PIN_INCORRECT:
  case CKR_PIN_INVALID:
  case CKR_PIN_LEN_RANGE:
  case CKR_PIN_EXPIRED:
  case CKR_PIN_LOCKED:
    return Status(Code::kAuthRejected, Module::kPort, "PIN rejected by the token");
  case CKR_HOST_MEMORY:
  case CKR_DEVICE_MEMORY:
    return Status(Code::kNoMemory, Module::kPort, detail);
  default:
    return Status(Code::kPortFailure, Module::kPort, detail);
  }
}

int p11_port_error(CK_RV rv) {
  switch (rv) {
  case CKR_OK:
    return IMSDC_PORT_OK;
  case CKR_USER_NOT_LOGGED_IN:
  case CKR_KEY_FUNCTION_NOT_PERMITTED:
  case CKR_PIN_EXPIRED:
  case CKR_PIN_LOCKED:
    return IMSDC_PORT_EDENIED;
  case CKR_OBJECT_HANDLE_INVALID:
  case CKR_KEY_HANDLE_INVALID:
    return IMSDC_PORT_ENOENT;
  case CKR_HOST_MEMORY:
  case CKR_DEVICE_MEMORY:
    return IMSDC_PORT_ENOMEM;
  case CKR_SESSION_CLOSED:
  case CKR_SESSION_HANDLE_INVALID:
  case CKR_DEVICE_REMOVED:
  case CKR_TOKEN_NOT_PRESENT:
    return IMSDC_PORT_ECLOSED;
  case CKR_TEMPLATE_INCONSISTENT:
  case CKR_ATTRIBUTE_VALUE_INVALID:
  case CKR_ARGUMENTS_BAD:
    return IMSDC_PORT_EINVAL;
  default:
    return IMSDC_PORT_EFAIL;
  }
}

// Loads (or shares) the module at `path` and sets *out.
Status acquire_module(const std::string& path, LoadedModule** out) {
  std::lock_guard<std::mutex> lock(g_modules_mu);
  for (LoadedModule* m : g_modules) {
    if (m->path == path) {
      ++m->refs;
      *out = m;
      return Status::ok();
    }
  }
  void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) return Status(Code::kNotFound, Module::kPort, "cannot load the PKCS#11 module");
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(h, "C_GetFunctionList"));
  CK_FUNCTION_LIST_PTR f = nullptr;
  if (!get_list || get_list(&f) != CKR_OK || !f) {
    ::dlclose(h);
    return Status(Code::kPortFailure, Module::kPort, "not a PKCS#11 module (C_GetFunctionList)");
  }
  CK_C_INITIALIZE_ARGS args;
  std::memset(&args, 0, sizeof args);
  args.flags = CKF_OS_LOCKING_OK; // the module may be called from several threads
  CK_RV rv = f->C_Initialize(&args);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    ::dlclose(h);
    return p11_status(rv, "C_Initialize failed");
  }
  auto* m = new (std::nothrow) LoadedModule;
  if (!m) {
    if (rv == CKR_OK) f->C_Finalize(nullptr);
    ::dlclose(h);
    return Status(Code::kNoMemory, Module::kPort);
  }
  m->path = path;
  m->handle = h;
  m->f = f;
  // Someone else in the process initialised it: they finalise it, not us.
  m->initialized_here = rv == CKR_OK;
  m->refs = 1;
  g_modules.push_back(m);
  *out = m;
  return Status::ok();
}

void release_module(LoadedModule* m) {
  std::lock_guard<std::mutex> lock(g_modules_mu);
  if (--m->refs > 0) return;
  for (auto it = g_modules.begin(); it != g_modules.end(); ++it) {
    if (*it == m) {
      g_modules.erase(it);
      break;
    }
  }
  if (m->initialized_here) m->f->C_Finalize(nullptr);
  ::dlclose(m->handle);
  delete m;
}

std::string trim_label(const CK_UTF8CHAR* label, std::size_t n) {
  std::string s(reinterpret_cast<const char*>(label), n);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0'))
    s.pop_back();
  return s;
}

// --- Minimal DER walk: the certificate's serial, issuer and subject TLVs for the
// CKO_CERTIFICATE attributes (PKCS#11 wants them as separate DER values). ---
struct Tlv {
  const std::uint8_t* p = nullptr; // start of the tag
  std::size_t total = 0;           // tag + length + content
  const std::uint8_t* content = nullptr;
  std::size_t len = 0;
  std::uint8_t tag = 0;
};

bool read_tlv(const std::uint8_t* p, const std::uint8_t* end, Tlv* t) {
  if (end - p < 2) return false;
  const std::uint8_t* start = p;
  t->tag = *p++;
  std::size_t len = *p++;
  if (len & 0x80) {
    std::size_t nb = len & 0x7f;
    if (nb == 0 || nb > 4 || static_cast<std::size_t>(end - p) < nb) return false;
    len = 0;
    for (std::size_t i = 0; i < nb; ++i)
      len = (len << 8) | *p++;
  }
  if (static_cast<std::size_t>(end - p) < len) return false;
  t->p = start;
  t->content = p;
  t->len = len;
  t->total = static_cast<std::size_t>(p - start) + len;
  return true;
}

struct CertNames {
  ByteSpan serial, issuer, subject;
};

bool cert_names(ByteSpan der, CertNames* out) {
  const std::uint8_t* end = der.data() + der.size();
  Tlv cert, tbs, t;
  if (!read_tlv(der.data(), end, &cert) || cert.tag != 0x30) return false;
  if (!read_tlv(cert.content, cert.content + cert.len, &tbs) || tbs.tag != 0x30) return false;
  const std::uint8_t* p = tbs.content;
  const std::uint8_t* tend = tbs.content + tbs.len;
  if (!read_tlv(p, tend, &t)) return false;
  if (t.tag == 0xa0) { // [0] EXPLICIT version
    p += t.total;
    if (!read_tlv(p, tend, &t)) return false;
  }
  if (t.tag != 0x02) return false; // serialNumber
  out->serial = ByteSpan(t.p, t.total);
  p += t.total;
  if (!read_tlv(p, tend, &t) || t.tag != 0x30) return false; // signature AlgorithmIdentifier
  p += t.total;
  if (!read_tlv(p, tend, &t) || t.tag != 0x30) return false; // issuer
  out->issuer = ByteSpan(t.p, t.total);
  p += t.total;
  if (!read_tlv(p, tend, &t) || t.tag != 0x30) return false; // validity
  p += t.total;
  if (!read_tlv(p, tend, &t) || t.tag != 0x30) return false; // subject
  out->subject = ByteSpan(t.p, t.total);
  return true;
}

std::string cert_label(const std::string& key_label, std::size_t index) {
  return index == 0 ? key_label : key_label + "-ca" + std::to_string(index);
}

// True for key_label, key_label-ca1, key_label-ca2, ...
bool is_chain_label(const std::string& key_label, const std::string& label) {
  if (label == key_label) return true;
  std::string prefix = key_label + "-ca";
  if (label.size() <= prefix.size() || label.compare(0, prefix.size(), prefix) != 0) return false;
  for (std::size_t i = prefix.size(); i < label.size(); ++i)
    if (label[i] < '0' || label[i] > '9') return false;
  return true;
}

} // namespace

struct Token::Impl {
  LoadedModule* mod = nullptr;
  CK_FUNCTION_LIST_PTR f = nullptr;
  CK_SLOT_ID slot = 0;
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  bool logged_in = false; // counted in mod->logins

  std::vector<CK_OBJECT_HANDLE> find(const CK_ATTRIBUTE* tmpl, CK_ULONG n) const {
    std::vector<CK_OBJECT_HANDLE> out;
    if (f->C_FindObjectsInit(session, const_cast<CK_ATTRIBUTE*>(tmpl), n) != CKR_OK) return out;
    CK_OBJECT_HANDLE buf[16];
    CK_ULONG got = 0;
    while (f->C_FindObjects(session, buf, 16, &got) == CKR_OK && got > 0)
      out.insert(out.end(), buf, buf + got);
    f->C_FindObjectsFinal(session);
    return out;
  }

  std::vector<CK_OBJECT_HANDLE> find_labelled(CK_OBJECT_CLASS cls, const std::string& label) const {
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof cls},
        {CKA_LABEL, const_cast<char*>(label.data()), label.size()},
    };
    return find(t, 2);
  }

  // Two-call attribute read. Returns CKR_* and fills *out.
  CK_RV get_attr(CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type, Bytes* out,
                 std::size_t max = kMaxCertSize) const {
    CK_ATTRIBUTE a = {type, nullptr, 0};
    CK_RV rv = f->C_GetAttributeValue(session, obj, &a, 1);
    if (rv != CKR_OK) return rv;
    if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > max)
      return CKR_ATTRIBUTE_SENSITIVE;
    out->assign(a.ulValueLen, 0);
    a.pValue = out->data();
    return f->C_GetAttributeValue(session, obj, &a, 1);
  }

  CK_RV get_bool(CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type, bool* out) const {
    CK_BBOOL v = CK_FALSE;
    CK_ATTRIBUTE a = {type, &v, sizeof v};
    CK_RV rv = f->C_GetAttributeValue(session, obj, &a, 1);
    if (rv == CKR_OK) *out = v == CK_TRUE;
    return rv;
  }
};

Token::Token() : impl_(new Impl) {
  port_.version = IMSDC_PORT_KEYSTORE_VERSION;
  port_.ctx = this;
  port_.public_key = public_key_cb;
  port_.sign_digest = sign_cb;
  port_.cert_chain = chain_cb;
  port_.store_chain = store_cb;
}

Token::~Token() {
  Impl& im = *impl_;
  if (!im.mod) return;
  if (im.session != CK_INVALID_HANDLE) {
    if (im.logged_in) {
      bool last = false;
      {
        std::lock_guard<std::mutex> lock(g_modules_mu);
        for (auto& l : im.mod->logins)
          if (l.first == im.slot) last = --l.second == 0;
      }
      // The login belongs to the application, not the session: only the last Token on
      // this slot logs out.
      if (last) im.f->C_Logout(im.session);
    }
    im.f->C_CloseSession(im.session);
  }
  release_module(im.mod);
}

Result<std::unique_ptr<Token>> Token::open(const std::string& module_path,
                                           const std::string& token_label, std::string_view pin,
                                           const std::string& key_label) {
  if (module_path.empty() || token_label.empty() || key_label.empty())
    return Status(Code::kInvalidArgument, Module::kPort,
                  "module, token label and key label are required");
  std::unique_ptr<Token> t(new (std::nothrow) Token());
  if (!t || !t->impl_) return Status(Code::kNoMemory, Module::kPort);
  t->key_label_ = key_label;
  Impl& im = *t->impl_;
  IMSDC_TRY(acquire_module(module_path, &im.mod));
  im.f = im.mod->f;

  CK_ULONG n = 0;
  CK_RV rv = im.f->C_GetSlotList(CK_TRUE, nullptr, &n);
  if (rv != CKR_OK) return p11_status(rv, "C_GetSlotList failed");
  std::vector<CK_SLOT_ID> slots(n);
  if (n) rv = im.f->C_GetSlotList(CK_TRUE, slots.data(), &n);
  if (rv != CKR_OK) return p11_status(rv, "C_GetSlotList failed");
  slots.resize(n);
  bool found = false;
  for (CK_SLOT_ID s : slots) {
    CK_TOKEN_INFO info;
    if (im.f->C_GetTokenInfo(s, &info) != CKR_OK) continue;
    if (!(info.flags & CKF_TOKEN_INITIALIZED)) continue;
    if (trim_label(info.label, sizeof info.label) == token_label) {
      im.slot = s;
      found = true;
      break;
    }
  }
  if (!found) return Status(Code::kNotFound, Module::kPort, "no PKCS#11 token with that label");

  rv = im.f->C_OpenSession(im.slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr,
                           &im.session);
  if (rv != CKR_OK) {
    im.session = CK_INVALID_HANDLE;
    return p11_status(rv, "C_OpenSession failed");
  }

  {
    // C_Login takes a mutable buffer; the copy is zeroized when `pin_copy` goes away.
    SecretBytes pin_copy{ByteSpan(pin)};
    rv = im.f->C_Login(im.session, CKU_USER, pin_copy.data(), pin_copy.size());
  }
  if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) return p11_status(rv, "C_Login failed");
  {
    std::lock_guard<std::mutex> lock(g_modules_mu);
    bool counted = false;
    for (auto& l : im.mod->logins) {
      if (l.first == im.slot) {
        ++l.second;
        counted = true;
      }
    }
    if (!counted) im.mod->logins.emplace_back(im.slot, 1);
  }
  im.logged_in = true;
  return t;
}

bool Token::has_key() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !impl_->find_labelled(CKO_PRIVATE_KEY, key_label_).empty();
}

Status Token::generate_key(bool replace) {
  std::lock_guard<std::mutex> lock(mu_);
  Impl& im = *impl_;
  std::vector<CK_OBJECT_HANDLE> old_priv = im.find_labelled(CKO_PRIVATE_KEY, key_label_);
  std::vector<CK_OBJECT_HANDLE> old_pub = im.find_labelled(CKO_PUBLIC_KEY, key_label_);
  if ((!old_priv.empty() || !old_pub.empty()) && !replace)
    return Status(Code::kState, Module::kPort, "a key with this label exists in the token");

  // CKA_ID ties the key pair and its certificate together (tools pair them by ID).
  CK_BYTE id[16];
  if (im.f->C_GenerateRandom(im.session, id, sizeof id) != CKR_OK)
    IMSDC_TRY(crypto::random_bytes(id, sizeof id));

  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  CK_KEY_TYPE kt = CKK_EC;
  CK_OBJECT_CLASS pub_cls = CKO_PUBLIC_KEY, priv_cls = CKO_PRIVATE_KEY;
  char* label = const_cast<char*>(key_label_.data());
  CK_ATTRIBUTE pub_t[] = {
      {CKA_CLASS, &pub_cls, sizeof pub_cls},
      {CKA_KEY_TYPE, &kt, sizeof kt},
      {CKA_TOKEN, &yes, sizeof yes},
      {CKA_PRIVATE, &no, sizeof no},
      {CKA_VERIFY, &yes, sizeof yes},
      {CKA_EC_PARAMS, const_cast<CK_BYTE*>(kP256Params), sizeof kP256Params},
      {CKA_LABEL, label, key_label_.size()},
      {CKA_ID, id, sizeof id},
  };
  CK_ATTRIBUTE priv_t[] = {
      {CKA_CLASS, &priv_cls, sizeof priv_cls},
      {CKA_KEY_TYPE, &kt, sizeof kt},
      {CKA_TOKEN, &yes, sizeof yes},
      {CKA_PRIVATE, &yes, sizeof yes},
      {CKA_SENSITIVE, &yes, sizeof yes},
      {CKA_EXTRACTABLE, &no, sizeof no},
      {CKA_SIGN, &yes, sizeof yes},
      {CKA_DERIVE, &no, sizeof no},
      {CKA_LABEL, label, key_label_.size()},
      {CKA_ID, id, sizeof id},
  };
  CK_MECHANISM mech = {CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
  CK_RV rv = im.f->C_GenerateKeyPair(im.session, &mech, pub_t, sizeof pub_t / sizeof pub_t[0],
                                     priv_t, sizeof priv_t / sizeof priv_t[0], &pub, &priv);
  secure_zero(id, sizeof id);
  if (rv != CKR_OK) return p11_status(rv, "C_GenerateKeyPair failed");

  if (replace) {
    // The new pair exists; now the old one and the certificates that certified it go.
    CK_RV bad = CKR_OK;
    for (CK_OBJECT_HANDLE h : old_priv)
      if (CK_RV r = im.f->C_DestroyObject(im.session, h)) bad = r;
    for (CK_OBJECT_HANDLE h : old_pub)
      if (CK_RV r = im.f->C_DestroyObject(im.session, h)) bad = r;
    CK_OBJECT_CLASS cert_cls = CKO_CERTIFICATE;
    CK_ATTRIBUTE ct[] = {{CKA_CLASS, &cert_cls, sizeof cert_cls}};
    for (CK_OBJECT_HANDLE h : im.find(ct, 1)) {
      Bytes lab;
      if (im.get_attr(h, CKA_LABEL, &lab, 256) != CKR_OK) continue;
      if (is_chain_label(key_label_, std::string(lab.begin(), lab.end())))
        if (CK_RV r = im.f->C_DestroyObject(im.session, h)) bad = r;
    }
    if (bad != CKR_OK) return p11_status(bad, "cannot remove the replaced key");
  }
  return Status::ok();
}

Result<KeyProtection> Token::key_protection() const {
  std::lock_guard<std::mutex> lock(mu_);
  const Impl& im = *impl_;
  auto priv = im.find_labelled(CKO_PRIVATE_KEY, key_label_);
  if (priv.empty()) return Status(Code::kNotFound, Module::kPort, "no key with this label");
  KeyProtection k;
  CK_RV rv = im.get_bool(priv[0], CKA_SENSITIVE, &k.sensitive);
  if (rv == CKR_OK) rv = im.get_bool(priv[0], CKA_EXTRACTABLE, &k.extractable);
  if (rv == CKR_OK) rv = im.get_bool(priv[0], CKA_ALWAYS_SENSITIVE, &k.always_sensitive);
  if (rv == CKR_OK) rv = im.get_bool(priv[0], CKA_NEVER_EXTRACTABLE, &k.never_extractable);
  if (rv != CKR_OK) return p11_status(rv, "cannot read the key attributes");
  return k;
}

Result<bool> Token::is_private_key_extractable() const {
  auto k = key_protection();
  if (!k) return k.status();
  return k.value().extractable || !k.value().sensitive;
}

int Token::public_key_cb(void* ctx, std::uint8_t out_xy[64]) {
  auto* self = static_cast<Token*>(ctx);
  if (!self || !out_xy) return IMSDC_PORT_EINVAL;
  std::lock_guard<std::mutex> lock(self->mu_);
  const Impl& im = *self->impl_;
  auto pub = im.find_labelled(CKO_PUBLIC_KEY, self->key_label_);
  if (pub.empty()) return IMSDC_PORT_ENOENT;
  Bytes point;
  CK_RV rv = im.get_attr(pub[0], CKA_EC_POINT, &point, 256);
  if (rv != CKR_OK) return p11_port_error(rv);
  // PKCS#11 2.40 says DER OCTET STRING (04 41 04||X||Y); some tokens return the raw point.
  const std::uint8_t* q = nullptr;
  if (point.size() == 67 && point[0] == 0x04 && point[1] == 0x41 && point[2] == 0x04)
    q = point.data() + 3;
  else if (point.size() == 65 && point[0] == 0x04)
    q = point.data() + 1;
  if (!q) return IMSDC_PORT_EFAIL;
  auto key = crypto::ec_public_from_xy(ByteSpan(q, 64));
  if (!key) return IMSDC_PORT_EFAIL;
  std::memcpy(out_xy, key.value().xy.data(), 64);
  return IMSDC_PORT_OK;
}

int Token::sign_cb(void* ctx, const std::uint8_t digest[32], std::uint8_t out_rs[64]) {
  auto* self = static_cast<Token*>(ctx);
  if (!self || !digest || !out_rs) return IMSDC_PORT_EINVAL;
  std::lock_guard<std::mutex> lock(self->mu_);
  const Impl& im = *self->impl_;
  auto priv = im.find_labelled(CKO_PRIVATE_KEY, self->key_label_);
  if (priv.empty()) return IMSDC_PORT_ENOENT;
  // CKM_ECDSA signs a digest computed by the caller (SoftHSM has no CKM_ECDSA_SHA256, and
  // hashing on the host avoids streaming the message into the token).
  CK_MECHANISM mech = {CKM_ECDSA, nullptr, 0};
  CK_RV rv = im.f->C_SignInit(im.session, &mech, priv[0]);
  if (rv != CKR_OK) return p11_port_error(rv);
  CK_BYTE sig[132];
  CK_ULONG sig_len = sizeof sig;
  rv = im.f->C_Sign(im.session, const_cast<CK_BYTE*>(digest), 32, sig, &sig_len);
  if (rv != CKR_OK) return p11_port_error(rv);
  if (sig_len != 64) return IMSDC_PORT_EFAIL; // CKM_ECDSA on P-256 is r||s, 32 bytes each
  std::memcpy(out_rs, sig, 64);
  return IMSDC_PORT_OK;
}

int Token::chain_cb(void* ctx, std::size_t index, std::uint8_t* out, std::size_t cap,
                    std::size_t* out_len) {
  auto* self = static_cast<Token*>(ctx);
  if (!self || !out_len || (!out && cap > 0)) return IMSDC_PORT_EINVAL;
  if (index >= kMaxChain) return IMSDC_PORT_ENOENT;
  std::lock_guard<std::mutex> lock(self->mu_);
  const Impl& im = *self->impl_;
  auto certs = im.find_labelled(CKO_CERTIFICATE, cert_label(self->key_label_, index));
  if (certs.empty()) return IMSDC_PORT_ENOENT;
  Bytes der;
  CK_RV rv = im.get_attr(certs[0], CKA_VALUE, &der);
  if (rv != CKR_OK) return p11_port_error(rv);
  *out_len = der.size();
  if (der.size() > cap) return IMSDC_PORT_ENOSPC;
  std::memcpy(out, der.data(), der.size());
  return IMSDC_PORT_OK;
}

int Token::store_cb(void* ctx, const std::uint8_t* const* ders, const std::size_t* lens,
                    std::size_t count) {
  auto* self = static_cast<Token*>(ctx);
  if (!self || !ders || !lens || count == 0 || count > kMaxChain) return IMSDC_PORT_EINVAL;
  for (std::size_t i = 0; i < count; ++i)
    if (!ders[i] || lens[i] == 0 || lens[i] > kMaxCertSize) return IMSDC_PORT_EINVAL;

  // The leaf must certify the key in the token (read outside the lock: it locks itself).
  std::uint8_t xy[64];
  int prc = public_key_cb(ctx, xy);
  if (prc != IMSDC_PORT_OK) return prc;
  auto leaf = crypto::cert_info(ByteSpan(ders[0], lens[0]));
  if (!leaf || std::memcmp(leaf.value().public_key.xy.data(), xy, 64) != 0)
    return IMSDC_PORT_EINVAL;
  std::vector<CertNames> names(count);
  for (std::size_t i = 0; i < count; ++i)
    if (!cert_names(ByteSpan(ders[i], lens[i]), &names[i])) return IMSDC_PORT_EINVAL;

  std::lock_guard<std::mutex> lock(self->mu_);
  Impl& im = *self->impl_;
  Bytes key_id;
  auto priv = im.find_labelled(CKO_PRIVATE_KEY, self->key_label_);
  if (priv.empty()) return IMSDC_PORT_ENOENT;
  if (im.get_attr(priv[0], CKA_ID, &key_id, 256) != CKR_OK) key_id.clear();

  // Old chain objects are removed only after the new ones exist, so a failure midway leaves
  // the previous chain intact.
  CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
  CK_ATTRIBUTE ct[] = {{CKA_CLASS, &cls, sizeof cls}};
  std::vector<CK_OBJECT_HANDLE> old;
  for (CK_OBJECT_HANDLE h : im.find(ct, 1)) {
    Bytes lab;
    if (im.get_attr(h, CKA_LABEL, &lab, 256) != CKR_OK) continue;
    if (is_chain_label(self->key_label_, std::string(lab.begin(), lab.end()))) old.push_back(h);
  }

  std::vector<CK_OBJECT_HANDLE> created;
  CK_RV rv = CKR_OK;
  for (std::size_t i = 0; i < count && rv == CKR_OK; ++i) {
    std::string label = cert_label(self->key_label_, i);
    CK_CERTIFICATE_TYPE ctype = CKC_X_509;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    std::vector<CK_ATTRIBUTE> t = {
        {CKA_CLASS, &cls, sizeof cls},
        {CKA_CERTIFICATE_TYPE, &ctype, sizeof ctype},
        {CKA_TOKEN, &yes, sizeof yes},
        {CKA_PRIVATE, &no, sizeof no},
        {CKA_LABEL, const_cast<char*>(label.data()), label.size()},
        {CKA_SUBJECT, const_cast<std::uint8_t*>(names[i].subject.data()), names[i].subject.size()},
        {CKA_ISSUER, const_cast<std::uint8_t*>(names[i].issuer.data()), names[i].issuer.size()},
        {CKA_SERIAL_NUMBER, const_cast<std::uint8_t*>(names[i].serial.data()),
         names[i].serial.size()},
        {CKA_VALUE, const_cast<std::uint8_t*>(ders[i]), lens[i]},
    };
    // Only the leaf shares the key's CKA_ID: the issuers certify other keys.
    if (i == 0 && !key_id.empty()) t.push_back({CKA_ID, key_id.data(), key_id.size()});
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    rv = im.f->C_CreateObject(im.session, t.data(), t.size(), &h);
    if (rv == CKR_OK) created.push_back(h);
  }
  if (rv != CKR_OK) {
    for (CK_OBJECT_HANDLE h : created)
      im.f->C_DestroyObject(im.session, h);
    return p11_port_error(rv);
  }
  for (CK_OBJECT_HANDLE h : old) {
    rv = im.f->C_DestroyObject(im.session, h);
    if (rv != CKR_OK) return p11_port_error(rv);
  }
  return IMSDC_PORT_OK;
}

} // namespace imsdc::pkcs11
