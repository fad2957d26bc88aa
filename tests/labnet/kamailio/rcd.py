#!/usr/bin/python3
"""Rich Call Data (RFC 9795) for the labnet eP-CSCF: the third-party ID server data. TEST ONLY.

The labnet's third-party ID server knows the name cards of some asserted identities (e.g. the
enterprise identity sip:e12345@enterprise.example). labnet-kamailio.sh start DIR
--third-party-ids FILE installs FILE as DIR/thirdparty/ids.json; when Kamailio signs an INVITE
(route STI) whose asserted identity has an entry, bearer.py (labnet_rcd) adds a second Identity
header next to secsipid's SHAKEN one: an "rcd" PASSporT built here.

The data file (JSON):
  {"identities": {
     "sip:e12345@enterprise.example": {
       "nam": "Alice Example",
       "jcl": "https://id.enterprise.example/jcards/e12345.json",
       "jcard": ["vcard", [["version", {}, "text", "4.0"],
                           ["fn", {}, "text", "Alice Example"],
                           ["org", {}, "text", "Example Enterprise"],
                           ["photo", {}, "uri", "https://id.enterprise.example/jcards/e12345.png"]]]
     }}}
  - key: the asserted identity as the proxy asserts it, sip:USER@DOMAIN (lower-case domain).
  - nam: the display name (RFC 9795 "nam"); optional: without it the rcd claim has jcl only
    and a verifier takes the name from the jCard's fn.
  - jcard: the jCard (RFC 7095) the ID server publishes at jcl; it needs "version" and "fn"
    (RFC 6350), at most 64 properties. A photo/logo property with a URI value is optional; the
    bytes it links are the file next to FILE named by the URL's last path segment.
  - jcl: https URL of the jCard, without query or fragment. Nothing serves it: the callee
    resolves it, like the x5u URL, from its certificate cache directory by the URL's last path
    segment, so "publishing" writes the jCard (and the linked photo/logo files) into
    DIR/sti/certs (the directory callees use as --certs).

The PASSporT (RFC 8225, RFC 9795): header {"alg":"ES256","ppt":"rcd","typ":"passport",
"x5u":X5U} (the labnet STI certificate, as secsipid uses), claims
  {"orig":{"tn":N}, "dest":{"tn":[N]}, "iat":T, "rcd":{"nam":...,"jcl":...},
   "rcdi":{"/nam":"sha256-..","/jcl":"sha256-..","/jcl/1/I/3":"sha256-.."}}
rcdi (RFC 9795 section 6, PROTOCOL_PROFILE section 10): sha256-<base64> of the JCS (RFC 8785)
form of nam, of the jCard's bytes as published, and of the bytes of each photo/logo URI of the
jCard (pointer /jcl/1/<property index>/3). The signer computes the digests from its own data
(the jCard serialised here, the files in DIR/thirdparty), never from the published copies: a
copy changed after publishing no longer matches.

  rcd.py install FILE DIR   validates FILE, copies it (and the files its jCards link) to
                            DIR/thirdparty/, publishes the jCards and linked files into
                            DIR/sti/certs/; prints one line per identity. Exit 0, or 2 with a
                            message when FILE is not valid.
  rcd.py check FILE         validates FILE only.
Imported by bearer.py inside Kamailio (no KSR here).
"""
import base64
import hashlib
import json
import os
import re
import shutil
import sys

import jwt

MAX_FETCH = 65536  # the SDK's kMaxFetchSize: a linked resource larger than this is not read
MAX_PROPERTIES = 64  # the SDK's kMaxJCardProperties: photo links past this are never checked
SEGMENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
URL_RE = re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~%!$&'()*+,;=:@-]*)*$")
AOR_RE = re.compile(r"^sip:[^\s@;<>?:]+@[a-z0-9.-]+$")
RESERVED = {"sti.pem"}  # the x5u certificate lives in the same directory


class Invalid(ValueError):
    pass


def digest(data):
    """The rcdi digest form of RFC 9795 section 6: sha256-<base64 (with padding)>."""
    return "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def jcs_string(s):
    """RFC 8785 form of a JSON string: Python's escaping with ensure_ascii=False is exactly
    ECMAScript's JSON.stringify for strings (\\b \\t \\n \\f \\r, \\uXXXX in lower-case hex for
    the other controls, '"' and '\\\\'; everything else as UTF-8)."""
    return json.dumps(s, ensure_ascii=False).encode("utf-8")


def jcard_bytes(jcard):
    """The jCard as the ID server publishes it (and as rcdi /jcl covers it)."""
    return (json.dumps(jcard, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def segment(url, what):
    if not isinstance(url, str) or len(url) > 2048 or not URL_RE.match(url):
        raise Invalid("%s must be an https URL without query or fragment (got %r)" % (what, url))
    name = url.rsplit("/", 1)[-1]
    if not SEGMENT_RE.match(name) or name in RESERVED:
        raise Invalid("%s: the last path segment %r must name a file ([A-Za-z0-9._-], not %s)"
                      % (what, name, ", ".join(sorted(RESERVED))))
    return name


def _text(s, what):
    if not isinstance(s, str) or not s or len(s) > 256:
        raise Invalid("%s must be a non-empty string of at most 256 characters" % what)
    if any(ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF for c in s):
        raise Invalid("%s has control or surrogate characters" % what)
    return s


class Entry:
    """One identity's name card: nam, jcl, the published jCard bytes, the linked files."""

    def __init__(self, aor, nam, jcl, jcard, links):
        self.aor, self.nam, self.jcl = aor, nam, jcl
        self.jcard = jcard
        self.jcard_bytes = jcard_bytes(jcard)
        self.links = links  # [(rcdi pointer, url, file name, bytes)]
        self.fn = next(p[3] for p in jcard[1] if p[0] == "fn")
        org = next((p[3] for p in jcard[1] if p[0] == "org"), None)
        self.org = org[0] if isinstance(org, list) and org else org

    def rcd(self):
        return {"jcl": self.jcl} if self.nam is None else {"nam": self.nam, "jcl": self.jcl}

    def rcdi(self):
        out = {"/jcl": digest(self.jcard_bytes)}
        if self.nam is not None:
            out["/nam"] = digest(jcs_string(self.nam))
        for pointer, _, _, data in self.links:
            out[pointer] = digest(data)
        return out


def _entry(aor, e, base):
    what = "identities[%s]" % aor
    if not AOR_RE.match(aor):
        raise Invalid("%s: the key must be an AoR sip:USER@DOMAIN (lower-case domain)" % what)
    if not isinstance(e, dict):
        raise Invalid("%s must be an object" % what)
    unknown = set(e) - {"nam", "jcl", "jcard", "comment"}
    if unknown:
        raise Invalid("%s: unknown members %s" % (what, ", ".join(sorted(unknown))))
    nam = _text(e["nam"], what + ".nam") if "nam" in e else None
    jcl = e.get("jcl")
    segment(jcl, what + ".jcl")
    jcard = e.get("jcard")
    if (not isinstance(jcard, list) or len(jcard) != 2 or jcard[0] != "vcard"
            or not isinstance(jcard[1], list)):
        raise Invalid("%s.jcard must be a jCard: [\"vcard\", [properties]] (RFC 7095)" % what)
    props = jcard[1]
    if len(props) > MAX_PROPERTIES:
        raise Invalid("%s.jcard has more than %d properties" % (what, MAX_PROPERTIES))
    links = []
    for i, p in enumerate(props):
        if (not isinstance(p, list) or len(p) < 4 or not isinstance(p[0], str)
                or not isinstance(p[1], dict) or not isinstance(p[2], str)):
            raise Invalid("%s.jcard property %d is not [name, {params}, type, value...]" % (what, i))
        if p[0] in ("photo", "logo"):
            if not isinstance(p[3], str) or p[2] != "uri":
                raise Invalid("%s.jcard %s must have a uri value" % (what, p[0]))
            name = segment(p[3], "%s.jcard %s" % (what, p[0]))
            path = os.path.join(base, name)
            try:
                with open(path, "rb") as f:
                    data = f.read(MAX_FETCH + 1)
            except OSError as ex:
                raise Invalid("%s.jcard %s %s: the linked file %s is not readable (%s)"
                              % (what, p[0], p[3], path, ex.strerror)) from ex
            if len(data) > MAX_FETCH:
                raise Invalid("%s: %s is larger than %d bytes" % (what, path, MAX_FETCH))
            links.append(("/jcl/1/%d/3" % i, p[3], name, data))
    names = [p[0] for p in props]
    if names.count("version") != 1 or names.count("fn") < 1:
        raise Invalid("%s.jcard needs one version and an fn property (RFC 6350)" % what)
    fn = next(p for p in props if p[0] == "fn")
    _text(fn[3], what + ".jcard fn")
    org = next((p for p in props if p[0] == "org"), None)
    if org is not None:
        v = org[3]
        _text(v[0] if isinstance(v, list) and v else v, what + ".jcard org")
    entry = Entry(aor, nam, jcl, jcard, links)
    if len(entry.jcard_bytes) > MAX_FETCH:
        raise Invalid("%s.jcard is larger than %d bytes" % (what, MAX_FETCH))
    return entry


def load(path):
    """FILE -> {AoR: Entry}; raises Invalid (with a message) or OSError."""
    with open(path, "rb") as f:
        raw = f.read(1 << 20)
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as ex:
        raise Invalid("%s is not JSON: %s" % (path, ex)) from ex
    if not isinstance(doc, dict) or not isinstance(doc.get("identities"), dict):
        raise Invalid('%s must be {"identities": {AoR: {nam, jcl, jcard}}}' % path)
    base = os.path.dirname(os.path.abspath(path))
    ids = {aor: _entry(aor, e, base) for aor, e in doc["identities"].items()}
    published = {}
    for e in ids.values():
        files = [(segment(e.jcl, "jcl"), e.jcard_bytes)] + [(n, d) for _, _, n, d in e.links]
        for name, data in files:
            if published.setdefault(name, data) != data:
                raise Invalid("two different resources are published as %s" % name)
    return ids


_CACHE = {}


def load_cached(path):
    """load() once per process (Kamailio workers): the data is installed at start."""
    ids = _CACHE.get(path)
    if ids is None:
        ids = _CACHE[path] = load(path)
    return ids


def passport(entry, key_pem, x5u, orig_tn, dest_tn, iat):
    """The compact JWS of the rcd PASSporT for entry (orig/dest: digits, RFC 8224 8.3)."""
    claims = {"dest": {"tn": [dest_tn]}, "iat": int(iat), "orig": {"tn": orig_tn},
              "rcd": entry.rcd(), "rcdi": entry.rcdi()}
    headers = {"ppt": "rcd", "typ": "passport", "x5u": x5u}
    token = jwt.encode(claims, key_pem, algorithm="ES256", headers=headers)
    return token if isinstance(token, str) else token.decode("ascii")


def identity_header(entry, key_pem, x5u, orig_tn, dest_tn, iat):
    """The Identity header field value (RFC 8224) carrying the rcd PASSporT."""
    return "%s;info=<%s>;alg=ES256;ppt=rcd" % (
        passport(entry, key_pem, x5u, orig_tn, dest_tn, iat), x5u)


def install(path, d):
    """Copies FILE and its linked files to D/thirdparty, publishes into D/sti/certs."""
    ids = load(path)
    tp = os.path.join(d, "thirdparty")
    certs = os.path.join(d, "sti", "certs")
    if not os.path.isdir(certs):
        raise Invalid("%s does not exist (the STI PKI is made before the third-party data)" % certs)
    if os.path.isdir(tp):
        shutil.rmtree(tp)
    os.makedirs(tp)
    shutil.copyfile(path, os.path.join(tp, "ids.json"))
    for aor, e in sorted(ids.items()):
        name = segment(e.jcl, "jcl")
        with open(os.path.join(certs, name), "wb") as f:
            f.write(e.jcard_bytes)
        for _, _, link, data in e.links:
            for target in (os.path.join(tp, link), os.path.join(certs, link)):
                with open(target, "wb") as f:
                    f.write(data)
        print("%s: nam %s, jCard %s (fn %s, org %s, %d linked file%s) -> %s" % (
            aor, json.dumps(e.nam, ensure_ascii=False), e.jcl, json.dumps(e.fn, ensure_ascii=False),
            json.dumps(e.org, ensure_ascii=False), len(e.links), "" if len(e.links) == 1 else "s",
            os.path.join(certs, name)))
    return 0


def main(argv):
    if len(argv) == 3 and argv[0] == "install":
        fn, args = install, argv[1:]
    elif len(argv) == 2 and argv[0] == "check":
        fn, args = load, argv[1:]
    else:
        sys.stderr.write("usage: rcd.py install FILE DIR | rcd.py check FILE\n")
        return 2
    try:
        fn(*args)
    except Invalid as ex:
        sys.stderr.write("rcd.py: %s\n" % ex)
        return 2
    except OSError as ex:
        sys.stderr.write("rcd.py: %s: %s\n" % (ex.filename or args[0], ex.strerror))
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
