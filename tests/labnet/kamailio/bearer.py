# labnet eP-CSCF authentication, run inside Kamailio by app_python3.
#
# TEST NETWORK ONLY. This decides how the labnet eP-CSCF (tests/labnet/kamailio) authenticates a
# REGISTER, and answers the 503 test hook. It is not production code: keys, passwords and the
# nonce secret it reads are test material made by labnet-kamailio.sh.
#
# Why digest is here and not in Kamailio's auth module: in Kamailio 5.6 the digest algorithm is a
# module-wide parameter (modparam("auth","algorithm",...)); the per-call auth_algorithm() only
# arrived in 5.8. The labnet must serve alice (SHA-256 only) and bob (MD5) from one instance, so
# digest (RFC 7616 / RFC 8760, qop=auth) is checked here, per user.
#
# Selection rule (documented in README.md):
#   1. "Authorization: Bearer <token>"  -> bearer check (TR 33.871 trusted-node authentication).
#   2. "Authorization: Digest ..."      -> digest check against the users file.
#   3. no Authorization: the To AoR belongs to a digest user -> 401 Digest challenge with that
#      user's algorithm; otherwise -> 401 "Bearer realm=..." challenge.
#
# Also (PROTOCOL_PROFILE section 2, README.md): the third-party identity check of out-of-dialog
# requests (labnet_proxy_bearer), the telephone numbers of numbers.conf (labnet_numbers) and,
# with --mf, the identity the media function asserts on its trusted connection
# (labnet_mf_identity; whether a request comes from the MF is decided in the config, by the
# connection, not here), and with --third-party-ids the Rich Call Data PASSporT of the
# third-party ID server's name cards (labnet_rcd, built by rcd.py beside this file).
#
# The Kamailio config calls the methods below through python_exec("name", "<settings.json>") and
# then answers from $var(auth_code), $var(auth_reason) and $var(auth_hdrs) (extra reply headers,
# each ending in CRLF). Secrets (passwords, tokens) are never logged.

import base64
import fnmatch
import hashlib
import hmac
import json
import os
import re
import secrets
import struct
import sys
import time

import KSR
import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rcd  # noqa: E402  (tests/labnet/kamailio/rcd.py)

_SETTINGS = {}

_HASHES = {
    "MD5": hashlib.md5,
    "SHA-256": hashlib.sha256,
}


def _load_settings(path):
    cached = _SETTINGS.get(path)
    if cached is not None:
        return cached
    with open(path, "r", encoding="utf-8") as f:
        s = json.load(f)
    with open(s["wwsf_public_key"], "rb") as f:
        s["_wwsf_key"] = load_pem_public_key(f.read())
    with open(s["nonce_secret_file"], "rb") as f:
        s["_nonce_secret"] = f.read().strip()
    _SETTINGS[path] = s
    return s


def _users(settings):
    """users file: IMPI  AoR  ALGORITHM  PASSWORD-FILE (relative to the file's directory)."""
    users = {}
    path = settings["users_file"]
    base = os.path.dirname(path)
    with open(path, "r", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            impi, aor, alg, pwfile = line.split()
            if alg not in _HASHES:
                KSR.err("labnet: users file: unsupported algorithm %s for %s\n" % (alg, impi))
                continue
            users[impi] = {
                "impi": impi,
                "aor": aor,
                "alg": alg,
                "pwfile": pwfile if os.path.isabs(pwfile) else os.path.join(base, pwfile),
            }
    return users


def _numbers(settings):
    """numbers file: AoR  TELEPHONE-NUMBER -> {AoR: digits} (RFC 8224 section 8.3 form)."""
    numbers = {}
    path = settings.get("numbers_file")
    if not path or not os.path.exists(path):
        return numbers
    with open(path, "r", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            aor, tn = line.split()
            digits = re.sub(r"[-.()]", "", tn.lstrip("+"))
            if not digits.isdigit():
                KSR.err("labnet: numbers file: %s is not a telephone number\n" % tn)
                continue
            numbers[aor] = digits
    return numbers


def _sti_key(settings):
    """The labnet STI signing key (PEM), read once per process."""
    key = settings.get("_sti_key")
    if key is None:
        with open(settings["sti_key"], "rb") as f:
            key = settings["_sti_key"] = f.read()
    return key


def _password(user):
    with open(user["pwfile"], "r", encoding="utf-8") as f:
        return f.read().strip()


def _uri_aor(uri):
    """sip:user@host;params -> sip:user@host (lower-case host, no port or parameters)."""
    m = re.match(r"^\s*<?\s*(sips?):([^@;>]+@)?([^;>?:]+|\[[^\]]+\])", uri or "")
    if not m:
        return None
    userpart = m.group(2) or ""
    return "%s:%s%s" % ("sip", userpart, m.group(3).lower())


def _header_uris(value):
    """'<sip:a@b>, "A" <tel:+1>' (one or more header fields, as $(hdr(X)[*]) joins them) or a
    bare 'sip:a@b' -> ['sip:a@b', 'tel:+1']."""
    if not value:
        return []
    uris = re.findall(r"<([^>]*)>", value)
    if not uris:
        uris = [v.strip() for v in value.split(",") if v.strip()]
    return uris


def _identity_aor(uri, numbers):
    """A sip/sips URI -> its AoR; a tel URI -> the AoR that has this number in numbers.conf
    (None when no labnet user has it, or for other schemes)."""
    if re.match(r"^\s*sips?:", uri, re.I):
        return _uri_aor(uri)
    m = re.match(r"^\s*tel:\+?([0-9().-]+)", uri, re.I)
    if m:
        digits = re.sub(r"[-.()]", "", m.group(1))
        return next((a for a, tn in numbers.items() if tn == digits), None)
    return None


def _set(code, reason, hdrs=""):
    KSR.pv.seti("$var(auth_code)", int(code))
    KSR.pv.sets("$var(auth_reason)", reason)
    KSR.pv.sets("$var(auth_hdrs)", hdrs)
    return 1


def _get(pv):
    v = KSR.pv.get(pv)
    return None if v is None else str(v)


# ---------------------------------------------------------------- digest (RFC 7616, qop=auth)

def _make_nonce(settings):
    ts = struct.pack(">Q", int(time.time()))
    rnd = secrets.token_bytes(8)
    mac = hmac.new(settings["_nonce_secret"], ts + rnd, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(ts + rnd + mac).decode().rstrip("=")


def _check_nonce(settings, nonce):
    """Returns 'ok', 'stale' (well-formed, ours, too old) or 'bad'."""
    try:
        raw = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
    except (ValueError, TypeError):
        return "bad"
    if len(raw) != 32:
        return "bad"
    mac = hmac.new(settings["_nonce_secret"], raw[:16], hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(mac, raw[16:]):
        return "bad"
    (ts,) = struct.unpack(">Q", raw[:8])
    age = time.time() - ts
    if age < -5 or age > int(settings["nonce_ttl"]):
        return "stale"
    return "ok"


def _digest_challenge(settings, alg, stale=False):
    hdr = 'WWW-Authenticate: Digest realm="%s", nonce="%s", qop="auth", algorithm=%s' % (
        settings["realm"], _make_nonce(settings), alg)
    if stale:
        hdr += ", stale=true"
    return hdr + "\r\n"


_PARAM_RE = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^\s,]+)\s*(,|$)')


def _parse_auth_params(s):
    params = {}
    pos = 0
    while pos < len(s):
        m = _PARAM_RE.match(s, pos)
        if not m:
            return None
        value = m.group(3) if m.group(3) is not None else m.group(2)
        if m.group(3) is not None:
            value = re.sub(r"\\(.)", r"\1", value)
        params[m.group(1).lower()] = value
        pos = m.end()
    return params


def _digest_response(alg, username, realm, password, method, uri, nonce, nc, cnonce, qop):
    h = lambda x: _HASHES[alg](x.encode("utf-8")).hexdigest()
    ha1 = h("%s:%s:%s" % (username, realm, password))
    ha2 = h("%s:%s" % (method, uri))
    return h("%s:%s:%s:%s:%s:%s" % (ha1, nonce, nc, cnonce, qop, ha2))


def _check_digest(settings, users, creds, to_aor):
    p = _parse_auth_params(creds)
    if p is None:
        return _set(400, "Bad Request - malformed Authorization")
    username = p.get("username", "")
    user = users.get(username)
    if user is None:
        # Unknown digest user: answer like a wrong password (no user enumeration).
        KSR.info("labnet: digest: unknown user\n")
        return _set(403, "Forbidden")
    alg = p.get("algorithm", "MD5")
    if alg.upper() == "SHA-256":
        alg = "SHA-256"
    elif alg.upper() == "MD5":
        alg = "MD5"
    if alg != user["alg"]:
        KSR.info("labnet: digest: %s used algorithm %s, only %s allowed\n" % (username, alg, user["alg"]))
        return _set(401, "Unauthorized", _digest_challenge(settings, user["alg"]))
    for key in ("realm", "nonce", "uri", "response", "qop", "nc", "cnonce"):
        if key not in p:
            return _set(400, "Bad Request - digest parameter %s missing" % key)
    if p["realm"] != settings["realm"] or p["qop"] != "auth":
        return _set(401, "Unauthorized", _digest_challenge(settings, user["alg"]))
    if p["uri"] != _get("$ru"):
        return _set(400, "Bad Request - digest uri does not match the Request-URI")
    state = _check_nonce(settings, p["nonce"])
    if state == "bad":
        return _set(401, "Unauthorized", _digest_challenge(settings, user["alg"]))
    expected = _digest_response(alg, username, p["realm"], _password(user), _get("$rm"),
                                p["uri"], p["nonce"], p["nc"], p["cnonce"], p["qop"])
    if not hmac.compare_digest(expected, p["response"].lower()):
        KSR.info("labnet: digest: wrong response for %s\n" % username)
        return _set(401, "Unauthorized", _digest_challenge(settings, user["alg"]))
    if state == "stale":
        return _set(401, "Unauthorized", _digest_challenge(settings, user["alg"], stale=True))
    if to_aor != user["aor"]:
        KSR.info("labnet: digest: %s may not register %s\n" % (username, to_aor))
        return _set(403, "Forbidden - AoR does not belong to the authenticated user")
    KSR.info("labnet: digest OK for %s (%s)\n" % (username, alg))
    return _set(200, "OK")


# ---------------------------------------------------------------- bearer (TR 33.871)

def _bearer_hdr(settings, hdr_name, error=None):
    v = '%s: Bearer realm="%s"' % (hdr_name, settings["realm"])
    if error == "insufficient_scope":
        v += ', error="insufficient_scope", scope="%s"' % settings["scope"]
    elif error:
        v += ', error="%s"' % error
    return v + "\r\n"


def _validate_token(settings, users, token, identity_aor, hdr_name, challenge_code):
    """Checks one bearer token; identity_aor is the AoR it must authorise. Returns via _set."""
    opts = {"require": ["exp", "aud", "sub", "scope", "impu"]}
    issuer = settings.get("issuer") or None
    if issuer:
        opts["require"].append("iss")
    try:
        claims = jwt.decode(token, key=settings["_wwsf_key"], algorithms=["ES256"],
                            audience=settings["pcscf_id"], issuer=issuer, options=opts)
    except jwt.ExpiredSignatureError:
        KSR.info("labnet: bearer: token expired\n")
        return _set(challenge_code, "Unauthorized",
                    _bearer_hdr(settings, hdr_name, "invalid_token"))
    except jwt.InvalidTokenError as e:
        KSR.info("labnet: bearer: invalid token (%s)\n" % type(e).__name__)
        return _set(challenge_code, "Unauthorized",
                    _bearer_hdr(settings, hdr_name, "invalid_token"))
    scopes = str(claims.get("scope", "")).split()
    if settings["scope"] not in scopes:
        KSR.info("labnet: bearer: insufficient scope\n")
        return _set(403, "Forbidden - insufficient scope",
                    _bearer_hdr(settings, hdr_name, "insufficient_scope"))
    impi = str(claims["sub"])
    if "@" not in impi or not any(fnmatch.fnmatchcase(impi, pat) for pat in settings["pool"]):
        KSR.info("labnet: bearer: IMPI %s is not in the WWSF pool\n" % impi)
        return _set(403, "Forbidden - IMPI not in the WWSF pool")
    impu = _uri_aor(str(claims["impu"]))
    if impu is None or impu != identity_aor:
        KSR.info("labnet: bearer: token impu does not match %s\n" % identity_aor)
        return _set(403, "Forbidden - token identity does not match the AoR")
    domain = impu.split("@", 1)[-1]
    if domain not in settings["impu_domains"]:
        KSR.info("labnet: bearer: IMPU domain %s not allowed\n" % domain)
        return _set(403, "Forbidden - IMPU domain not served")
    if any(u["aor"] == impu for u in users.values()):
        KSR.info("labnet: bearer: %s is a digest user's AoR\n" % impu)
        return _set(403, "Forbidden - AoR requires digest")
    KSR.info("labnet: bearer OK for IMPI %s IMPU %s\n" % (impi, impu))
    return _set(200, "OK")


class LabnetAuth:
    def child_init(self, rank):
        return 0

    def labnet_register(self, msg, args):
        """REGISTER: 503 hook, then the authentication decision."""
        settings = _load_settings(args)
        fail = settings["fail503_file"]
        try:
            with open(fail, "r", encoding="utf-8") as f:
                content = f.read().strip()
            os.remove(fail)
        except FileNotFoundError:
            content = None
        if content is not None:
            retry = content if content.isdigit() else "2"
            KSR.info("labnet: 503 test hook fired (Retry-After %s)\n" % retry)
            return _set(503, "Service Unavailable", "Retry-After: %s\r\n" % retry)

        users = _users(settings)
        to_aor = _uri_aor(_get("$tu"))
        if to_aor is None:
            return _set(400, "Bad Request - To URI")
        authz = _get("$hdr(Authorization)")
        if authz:
            scheme, _, creds = authz.strip().partition(" ")
            if scheme.lower() == "bearer":
                return _validate_token(settings, users, creds.strip(), to_aor,
                                       "WWW-Authenticate", 401)
            if scheme.lower() == "digest":
                return _check_digest(settings, users, creds, to_aor)
            return _set(400, "Bad Request - unsupported authorization scheme")
        for u in users.values():
            if u["aor"] == to_aor:
                return _set(401, "Unauthorized", _digest_challenge(settings, u["alg"]))
        return _set(401, "Unauthorized", _bearer_hdr(settings, "WWW-Authenticate"))

    def labnet_proxy_bearer(self, msg, args):
        """Out-of-dialog request (PROTOCOL_PROFILE §2, originating third-party identity):
        a P-Preferred-Identity other than the (registered) From AoR needs
        "Proxy-Authorization: Bearer <token>" authorising it (407 with a Bearer challenge
        without one); a Proxy-Authorization without P-Preferred-Identity must authorise the
        From AoR. Sets $var(asserted) to the identity the proxy asserts (the accepted
        P-Preferred-Identity, else the From AoR)."""
        settings = _load_settings(args)
        from_aor = _uri_aor(_get("$fu"))
        ppi = _get("$hdr(P-Preferred-Identity)")
        identity = _uri_aor(ppi) if ppi else from_aor
        if identity is None or from_aor is None:
            return _set(400, "Bad Request - identity")
        KSR.pv.sets("$var(asserted)", identity)
        authz = _get("$hdr(Proxy-Authorization)")
        if not authz:
            if identity != from_aor:
                KSR.info("labnet: third-party identity %s without a token -> 407\n" % identity)
                return _set(407, "Proxy Authentication Required",
                            _bearer_hdr(settings, "Proxy-Authenticate"))
            return _set(200, "OK")
        scheme, _, creds = authz.strip().partition(" ")
        if scheme.lower() != "bearer":
            return _set(400, "Bad Request - only Bearer is accepted in Proxy-Authorization")
        return _validate_token(settings, _users(settings), creds.strip(), identity,
                               "Proxy-Authenticate", 407)

    def labnet_mf_identity(self, msg, args):
        """Initial INVITE from the media function's trusted connection (--mf; the trust domain,
        RFC 3325): no token is needed. $var(asserted) = the AoR of its P-Preferred-Identity,
        else of its P-Asserted-Identity (a SIP URI first; a tel URI names the AoR with that
        number in numbers.conf), else "" (nothing asserted). The From header plays no part."""
        numbers = _numbers(_load_settings(args))
        source = "P-Preferred-Identity"
        uris = _header_uris(_get("$(hdr(P-Preferred-Identity)[*])"))
        if not uris:
            source = "P-Asserted-Identity"
            uris = _header_uris(_get("$(hdr(P-Asserted-Identity)[*])"))
        KSR.pv.sets("$var(asserted)", "")
        if not uris:
            KSR.info("labnet: MF: no P-Preferred-Identity or P-Asserted-Identity\n")
            return _set(200, "OK")
        uris.sort(key=lambda u: 0 if re.match(r"^\s*sips?:", u, re.I) else 1)
        identity = _identity_aor(uris[0], numbers)
        if identity is None:
            KSR.info("labnet: MF: %s %s is no labnet identity\n" % (source, uris[0]))
            return _set(403, "Forbidden - %s unknown" % source)
        KSR.pv.sets("$var(asserted)", identity)
        KSR.info("labnet: MF: asserting %s (from its %s)\n" % (identity, source))
        return _set(200, "OK")

    def labnet_numbers(self, msg, args):
        """INVITE: $var(asserted_tn) = the number of the asserted identity $var(asserted);
        when the Request-URI is a telephone number (user=phone or a leading '+'),
        $var(called_tn) = its digits and $var(called_aor) = the AoR it belongs to (empty when
        no labnet user has it). Empty values mean none."""
        numbers = _numbers(_load_settings(args))
        asserted = _get("$var(asserted)") or ""
        KSR.pv.sets("$var(asserted_tn)", numbers.get(asserted, ""))
        user = _get("$rU") or ""
        ruri = _get("$ru") or ""
        called = ""
        if user.startswith("+") or re.search(r";user=phone(;|$)", ruri, re.I):
            digits = re.sub(r"[-.()]", "", user.lstrip("+"))
            if digits.isdigit():
                called = digits
        KSR.pv.sets("$var(called_tn)", called)
        aor = ""
        if called:
            aor = next((a for a, tn in numbers.items() if tn == called), "")
        KSR.pv.sets("$var(called_aor)", aor)
        return 1

    def labnet_rcd(self, msg, args):
        """Route STI, after secsipid signed an initial INVITE: when the third-party ID server
        (--third-party-ids, DIR/thirdparty/ids.json) has a name card for the asserted identity
        $var(asserted), a second Identity header with an rcd PASSporT (RFC 9795: nam, jcl,
        rcdi; orig $var(asserted_tn), dest $var(called_tn); the labnet STI key and x5u).
        $var(rcd_signed) = 1 when added (0: the identity has no entry), $var(rcd_nam) and
        $var(rcd_jcl) what it signed (for the log). Returns -1 when the entry cannot be signed
        (the config answers 500)."""
        settings = _load_settings(args)
        KSR.pv.seti("$var(rcd_signed)", 0)
        path = settings.get("third_party_ids")
        if not path:
            return 1
        asserted = _get("$var(asserted)") or ""
        try:
            entry = rcd.load_cached(path).get(asserted)
            if entry is None:
                KSR.info("labnet: STI: no third-party ID server entry for %s: no rich call data\n"
                         % asserted)
                return 1
            value = rcd.identity_header(entry, _sti_key(settings), settings["sti_x5u"],
                                        _get("$var(asserted_tn)"), _get("$var(called_tn)"),
                                        int(time.time()))
        except (OSError, ValueError, jwt.PyJWTError) as e:
            KSR.err("labnet: STI: rich call data for %s failed: %s: %s\n"
                    % (asserted, type(e).__name__, e))
            return -1
        KSR.hdr.append("Identity: %s\r\n" % value)
        KSR.pv.seti("$var(rcd_signed)", 1)
        KSR.pv.sets("$var(rcd_nam)", "none, the jCard's fn" if entry.nam is None else entry.nam)
        KSR.pv.sets("$var(rcd_jcl)", entry.jcl)
        return 1


def mod_init():
    return LabnetAuth()
