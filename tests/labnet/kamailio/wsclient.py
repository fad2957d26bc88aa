#!/usr/bin/python3
"""Minimal SIP-over-WSS client for the labnet eP-CSCF self-test (check.sh). TEST TOOL ONLY.

Independent of the imsdc SDK: Python asyncio + python3-websockets (Debian), TLS verified
against --cafile with host name checking (connect to "localhost").

  wsclient.py register --port P --cafile CA --aor sip:alice@ims.example
              [--user IMPI --password-file F | --token-file F] [--origin URL] [--expires N]
      Sends one REGISTER (RFC 5626 Contact with +sip.instance and reg-id), answers at most one
      401 Digest challenge (RFC 7616: SHA-256 or MD5, qop=auth) or sends the Bearer token, and
      prints the final answer:  STATUS <code> <reason>  then  HDR <name>: <value>  lines for
      WWW-Authenticate, Min-Expires, Retry-After, Flow-Timer, Require, Contact.
      A refused WebSocket upgrade prints  HTTP <status>.
  wsclient.py message --port P --cafile CA --from-aor A --from-user IMPI --from-password-file F
              --to-aor B --to-user IMPI --to-password-file F [--origin URL]
      Registers both users on two connections, sends MESSAGE A -> B through the proxy; B answers
      200. Prints  DELIVERED <yes|no>  and  STATUS <code> <reason>  (the answer A got).
  wsclient.py selftest
      Checks the digest code against the RFC 7616 section 3.9.1 example.

Exit 0 when an answer was obtained (whatever its status), 1 on transport/protocol errors,
2 on misuse. Passwords and tokens are never printed.
"""
import argparse
import asyncio
import hashlib
import re
import secrets
import ssl
import sys
import uuid

try:
    import websockets
except ImportError as e:  # pragma: no cover - environment check
    sys.stderr.write("wsclient.py: %s (apt install python3-websockets; run /usr/bin/python3)\n" % e)
    sys.exit(1)

TIMEOUT = 8.0
CAPTURE = {"dir": None, "n": 0}  # --capture DIR: every received message saved verbatim


def capture(raw):
    if not CAPTURE["dir"]:
        return
    CAPTURE["n"] += 1
    first = raw.split("\r\n", 1)[0]
    kind = first.split(" ")[1] if first.startswith("SIP/2.0 ") else first.split(" ")[0]
    path = "%s/%02d-%s.sip" % (CAPTURE["dir"], CAPTURE["n"], re.sub(r"[^A-Za-z0-9]", "", kind))
    with open(path, "wb") as f:
        f.write(raw.encode("utf-8") if isinstance(raw, str) else raw)
HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
SHOW = ("www-authenticate", "min-expires", "retry-after", "flow-timer", "require", "contact")


def rand(n=10):
    return secrets.token_hex(n // 2)


def digest_response(alg, username, realm, password, method, uri, nonce, nc, cnonce, qop):
    h = lambda s: HASHES[alg](s.encode("utf-8")).hexdigest()
    ha1 = h("%s:%s:%s" % (username, realm, password))
    ha2 = h("%s:%s" % (method, uri))
    return h("%s:%s:%s:%s:%s:%s" % (ha1, nonce, nc, cnonce, qop, ha2))


def parse_challenge(value):
    scheme, _, rest = value.strip().partition(" ")
    params = {}
    for m in re.finditer(r'([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))', rest):
        params[m.group(1).lower()] = m.group(2) if m.group(2) is not None else m.group(3)
    return scheme.lower(), params


def parse_sip(text):
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    start = lines[0]
    headers = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:
            headers[-1] = (headers[-1][0], headers[-1][1] + " " + line.strip())
            continue
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return start, headers, body


def hget(headers, name):
    for n, v in headers:
        if n.lower() == name.lower():
            return v
    return None


class Ua:
    """One SIP user agent on one WebSocket connection."""

    def __init__(self, ws, aor):
        self.ws = ws
        self.aor = aor
        self.user = aor.split(":", 1)[1].split("@", 1)[0]
        self.domain = aor.split("@", 1)[1]
        self.host = rand() + ".invalid"
        self.call_id = rand(20)
        self.tag = rand()
        self.cseq = 0
        self.instance = "urn:uuid:%s" % uuid.uuid4()

    def request(self, method, ruri, to, extra=(), body="", to_tag=None):
        self.cseq += 1
        lines = [
            "%s %s SIP/2.0" % (method, ruri),
            "Via: SIP/2.0/WSS %s;branch=z9hG4bK%s" % (self.host, rand(16)),
            "Max-Forwards: 70",
            "From: <%s>;tag=%s" % (self.aor, self.tag),
            "To: <%s>%s" % (to, ";tag=" + to_tag if to_tag else ""),
            "Call-ID: %s" % self.call_id,
            "CSeq: %d %s" % (self.cseq, method),
        ]
        lines += list(extra)
        lines.append("Content-Length: %d" % len(body.encode("utf-8")))
        return "\r\n".join(lines) + "\r\n\r\n" + body

    def contact(self):
        return ('Contact: <sip:%s@%s;transport=ws>;+sip.instance="<%s>";reg-id=1'
                % (self.user, self.host, self.instance))

    async def recv(self, want_response=True):
        while True:
            msg = await asyncio.wait_for(self.ws.recv(), TIMEOUT)
            capture(msg)
            if isinstance(msg, bytes):
                msg = msg.decode("utf-8", "replace")
            start, headers, body = parse_sip(msg)
            if start.startswith("SIP/2.0 "):
                code = int(start.split()[1])
                if code < 200:
                    continue
                if want_response:
                    return code, start.split(" ", 2)[2] if start.count(" ") >= 2 else "", headers
                continue
            if not want_response:
                return start, headers, body

    async def register(self, user=None, password=None, token=None, expires=600):
        ruri = "sip:%s" % self.domain
        base = [self.contact(), "Expires: %d" % expires, "Supported: outbound, path, gruu",
                "User-Agent: labnet-wsclient"]
        auth = ["Authorization: Bearer %s" % token] if token else []
        await self.ws.send(self.request("REGISTER", ruri, self.aor, base + auth))
        code, reason, headers = await self.recv()
        if code == 401 and password is not None:
            chal = None
            for n, v in headers:
                if n.lower() == "www-authenticate":
                    scheme, params = parse_challenge(v)
                    if scheme == "digest":
                        chal = params
                        break
            if chal is None:
                return code, reason, headers
            alg = chal.get("algorithm", "MD5").upper()
            alg = "SHA-256" if alg == "SHA-256" else "MD5"
            cnonce, nc = rand(16), "00000001"
            resp = digest_response(alg, user, chal["realm"], password, "REGISTER", ruri,
                                   chal["nonce"], nc, cnonce, "auth")
            cred = ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
                    'response="%s", algorithm=%s, qop=auth, nc=%s, cnonce="%s"'
                    % (user, chal["realm"], chal["nonce"], ruri, resp, alg, nc, cnonce))
            if "opaque" in chal:
                cred += ', opaque="%s"' % chal["opaque"]
            await self.ws.send(self.request("REGISTER", ruri, self.aor, base + [cred]))
            code, reason, headers = await self.recv()
        return code, reason, headers


def tls_context(cafile):
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


async def connect(args):
    uri = "wss://%s:%d" % (args.host, args.port)
    return await websockets.connect(uri, ssl=tls_context(args.cafile), subprotocols=["sip"],
                                    origin=args.origin, open_timeout=TIMEOUT, ping_interval=None)


def read_secret(path):
    with open(path, "r", encoding="utf-8") as f:
        return f.read().strip()


def print_answer(code, reason, headers):
    print("STATUS %d %s" % (code, reason))
    for n, v in headers:
        if n.lower() in SHOW:
            print("HDR %s: %s" % (n, v))


async def cmd_register(args):
    try:
        ws = await connect(args)
    except websockets.exceptions.InvalidStatusCode as e:
        print("HTTP %d" % e.status_code)
        return 0
    try:
        if ws.subprotocol != "sip":
            print("ERROR server did not select subprotocol sip")
            return 1
        ua = Ua(ws, args.aor)
        password = read_secret(args.password_file) if args.password_file else None
        token = read_secret(args.token_file) if args.token_file else None
        code, reason, headers = await ua.register(args.user, password, token, args.expires)
        print_answer(code, reason, headers)
    finally:
        await ws.close()
    return 0


async def cmd_message(args):
    wa = await connect(args)
    try:
        wb = await connect(args)
    except BaseException:
        await wa.close()
        raise
    try:
        a, b = Ua(wa, args.from_aor), Ua(wb, args.to_aor)
        for ua, user, pw in ((a, args.from_user, args.from_password_file),
                             (b, args.to_user, args.to_password_file)):
            code, reason, _ = await ua.register(user, read_secret(pw), None, 600)
            if code != 200:
                print("ERROR registering %s: %d %s" % (ua.aor, code, reason))
                return 1
        if args.method == "INVITE":
            with open(args.body_file, encoding="utf-8") as f:
                text = f.read()
            extra = [a.contact(), "Content-Type: application/sdp"]
        else:
            text = "labnet message %s" % rand()
            extra = ["Content-Type: text/plain"]
        await wa.send(a.request(args.method, args.to_aor, args.to_aor, extra, text))
        start, headers, body = await b.recv(want_response=False)
        delivered = start.startswith(args.method + " ") and body == text
        if hget(headers, "Authorization") or hget(headers, "Proxy-Authorization"):
            print("ERROR credentials reached the callee")
            return 1
        # An INVITE is declined (486), so the exchange needs no dialog or ACK from us.
        reply = ["SIP/2.0 486 Busy Here" if args.method == "INVITE" else "SIP/2.0 200 OK"]
        for n, v in headers:
            if n.lower() in ("via", "from", "call-id", "cseq", "record-route"):
                reply.append("%s: %s" % (n, v))
            elif n.lower() == "to":
                reply.append("To: %s;tag=%s" % (v, rand()))
        reply.append("Content-Length: 0")
        await wb.send("\r\n".join(reply) + "\r\n\r\n")
        code, reason, _ = await a.recv()
        print("DELIVERED %s" % ("yes" if delivered else "no"))
        print("STATUS %d %s" % (code, reason))
    finally:
        await wa.close()
        await wb.close()
    return 0


def cmd_selftest():
    # RFC 7616 section 3.9.1 example (the same inputs for both algorithms).
    common = dict(username="Mufasa", realm="http-auth@example.org", password="Circle of Life",
                  method="GET", uri="/dir/index.html",
                  nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc="00000001",
                  cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop="auth")
    want = {"MD5": "8ca523f5e9506fed4657c9700eebdbec",
            "SHA-256": "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"}
    ok = True
    for alg, expected in want.items():
        got = digest_response(alg, **common)
        ok &= got == expected
        print("DIGEST %s %s" % (alg, "ok" if got == expected else "MISMATCH " + got))
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("register", "message"):
        s = sub.add_parser(name)
        s.add_argument("--host", default="localhost")
        s.add_argument("--port", type=int, required=True)
        s.add_argument("--cafile", required=True)
        s.add_argument("--origin", default="https://wwsf.ims.example")
    r = sub.choices["register"]
    r.add_argument("--aor", required=True)
    r.add_argument("--user")
    r.add_argument("--password-file")
    r.add_argument("--token-file")
    r.add_argument("--expires", type=int, default=600)
    m = sub.choices["message"]
    for side in ("from", "to"):
        m.add_argument("--%s-aor" % side, required=True)
        m.add_argument("--%s-user" % side, required=True)
        m.add_argument("--%s-password-file" % side, required=True)
    m.add_argument("--method", choices=("MESSAGE", "INVITE"), default="MESSAGE")
    m.add_argument("--body-file", help="INVITE: the SDP body")
    for s_ in (sub.choices["register"], m):
        s_.add_argument("--capture", metavar="DIR", help="save every received message in DIR")
    sub.add_parser("selftest")
    args = p.parse_args()
    if args.cmd == "selftest":
        return cmd_selftest()
    CAPTURE["dir"] = getattr(args, "capture", None)
    if getattr(args, "method", None) == "INVITE" and not args.body_file:
        p.error("--method INVITE needs --body-file")
    if args.cmd == "register" and args.password_file and not args.user:
        p.error("--password-file needs --user")
    try:
        if args.cmd == "register":
            return asyncio.run(cmd_register(args))
        return asyncio.run(cmd_message(args))
    except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException,
            ssl.SSLError) as e:
        print("ERROR %s: %s" % (type(e).__name__, e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
