#!/usr/bin/env bash
# Test material for test_capi (TEST ONLY): made with openssl and Python's standard library,
# independent of the SDK's own mbedTLS code.
#   make_fixtures.sh DIR
#     DIR/ca/             tests/labnet/ca/make-ca.sh CA (root.pem = operator root,
#                         other-root.pem = the STI root here)
#     DIR/alice-key.pem DIR/alice.pem  device key + certificate, SAN URI:sip:alice@ims.example
#     DIR/bob-key.pem   DIR/bob.pem    device key + certificate, SAN URI:sip:bob@ims.example
#     DIR/sti-key.pem   DIR/sti.pem    SHAKEN signing certificate under other-root.pem
#     DIR/invite.sip      an INVITE whose Identity header is a SHAKEN PASSporT (attest A,
#                         orig 15551110001, iat now) signed by sti-key.pem
#     DIR/invite-bad.sip  the same INVITE with one bit of the PASSporT's signature flipped
set -euo pipefail
D=$1
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
MAKE_CA=$HERE/../labnet/ca/make-ca.sh
mkdir -p "$D"
bash "$MAKE_CA" init "$D/ca" >/dev/null
bash "$MAKE_CA" device "$D/ca" sip:alice@ims.example "$D/alice" >/dev/null
bash "$MAKE_CA" device "$D/ca" sip:bob@ims.example "$D/bob" >/dev/null
bash "$MAKE_CA" server "$D/ca" sti "$D/sti" --ca other >/dev/null
python3 - "$D" <<'PY'
import base64, json, subprocess, sys, time
d = sys.argv[1]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
x5u = "https://cert.example/sti.pem"
header = {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": x5u}
claims = {"attest": "A", "dest": {"tn": ["15552220002"]}, "iat": int(time.time()),
          "orig": {"tn": "15551110001"}, "origid": "2f6e4a4e-0f0c-4c8e-9d1e-6f1f0c6b8d11"}
si = b64(json.dumps(header, separators=(",", ":")).encode()) + "." + \
     b64(json.dumps(claims, separators=(",", ":")).encode())
der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", d + "/sti-key.pem"],
                     input=si.encode(), capture_output=True, check=True).stdout
# DER SEQUENCE { INTEGER r, INTEGER s } -> r||s, 32 bytes each
def ints(b):
    assert b[0] == 0x30
    i = 2 if b[1] < 0x80 else 3
    out = []
    for _ in range(2):
        assert b[i] == 0x02
        n = b[i + 1]
        v = b[i + 2:i + 2 + n].lstrip(b"\0")
        out.append(v.rjust(32, b"\0"))
        i += 2 + n
    return out[0] + out[1]
sig = ints(der)
jws = si + "." + b64(sig)
bad_sig = bytes([sig[0] ^ 1]) + sig[1:]
bad = si + "." + b64(bad_sig)
def invite(passport):
    return ("INVITE sip:+15552220002@ims.example;user=phone SIP/2.0\r\n"
            "Via: SIP/2.0/WSS a.invalid;branch=z9hG4bK1\r\n"
            "From: <sip:alice@ims.example>;tag=1\r\n"
            "To: <tel:+15552220002>\r\n"
            "Call-ID: capi-1\r\nCSeq: 1 INVITE\r\n"
            "P-Asserted-Identity: <sip:+15551110001@ims.example;user=phone>\r\n"
            "Identity: " + passport + ";info=<" + x5u + ">;alg=ES256;ppt=shaken\r\n"
            "Content-Length: 0\r\n\r\n")
open(d + "/invite.sip", "w", newline="").write(invite(jws))
open(d + "/invite-bad.sip", "w", newline="").write(invite(bad))
PY
