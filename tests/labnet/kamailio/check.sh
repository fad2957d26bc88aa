#!/usr/bin/env bash
# Self-test of the labnet eP-CSCF against the real Kamailio, without the SDK (ctest label
# "labnet"). Starts an instance on loopback, drives it with wsclient.py (Python websockets, an
# implementation independent of imsdc), prints one line per case and exits non-zero on any
# deviation. Everything it starts is stopped; the work directory is removed on success and kept
# (path printed) on failure. A second instance, started with --mf, checks the media function
# routing (wsclient.py's Ua as the MF and the UEs, driven by the Python scenario below), and,
# started with --third-party-ids, the Rich Call Data PASSporT (RFC 9795) it signs for a
# third-party identity the third-party ID server knows (checked here with PyJWT and hashlib:
# signature, claims, rcdi digests of nam and of the published jCard).
#
#   check.sh [--keep]     --keep: keep the work directory even on success
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd -- "$HERE/../../.." && pwd)
LAB=$HERE/labnet-kamailio.sh
PY=/usr/bin/python3
CLIENT=("$PY" "$HERE/wsclient.py")
TOKEN=("$PY" "$HERE/wwsf-token.py")
MAKE_CA=$REPO/tests/labnet/ca/make-ca.sh
KEEP=0
[[ ${1:-} == --keep ]] && KEEP=1

WORK=$(mktemp -d /tmp/labnet-kamailio-check.XXXXXX)
D=$WORK/epcscf
DM=$WORK/epcscf-mf
MF_AOR=sip:mf@ims.example
FAILS=0
STARTED=0
STARTED_MF=0

cleanup() {
  local rc=$?
  if ((STARTED)); then "$LAB" stop "$D" >/dev/null 2>&1 || true; fi
  if ((STARTED_MF)); then "$LAB" stop "$DM" >/dev/null 2>&1 || true; fi
  if ((rc == 0 && FAILS == 0 && KEEP == 0)); then
    rm -rf "$WORK"
  else
    echo "work directory kept: $WORK (Kamailio log: $D/kamailio.log)"
  fi
}
trap cleanup EXIT

pass() { printf 'ok    %s\n' "$1"; }
fail() { printf 'FAIL  %s: %s\n' "$1" "$2"; FAILS=$((FAILS + 1)); }

# expect NAME OUTPUT REGEX...: every REGEX (extended, per line) must match some line of OUTPUT.
expect() {
  local name=$1 out=$2 re
  shift 2
  for re in "$@"; do
    if ! grep -Eq -- "$re" <<<"$out"; then
      fail "$name" "expected /$re/, got: $(tr '\n' '|' <<<"$out")"
      return 0
    fi
  done
  pass "$name"
}

reg() { # wsclient register args...; output on stdout, never fails the script
  "${CLIENT[@]}" register --port "$PORT" --cafile "$D/tls/ca.pem" "$@" 2>&1 || true
}

mint() { # wwsf-token.py args... > file
  local out=$1
  shift
  "${TOKEN[@]}" "$@" >"$out"
}

# --- digest code against the RFC 7616 example (client side of these tests)
out=$("${CLIENT[@]}" selftest 2>&1 || true)
expect "digest vectors RFC 7616 (MD5, SHA-256)" "$out" '^DIGEST MD5 ok$' '^DIGEST SHA-256 ok$'

# --- start: server certificate from the test operator CA when make-ca.sh is there
CA_ARGS=()
if [[ -x $MAKE_CA ]]; then
  CA_ARGS=(--ca "$WORK/ca")
  ca_note="test operator CA (make-ca.sh)"
else
  ca_note="self-signed (make-ca.sh not found)"
fi
if ! out=$("$LAB" start "$D" "${CA_ARGS[@]}" --min-expires 120 2>&1); then
  fail "start" "$out"
  exit 1
fi
STARTED=1
PORT=$(sed -n 's/^KAMAILIO_PORT=\([0-9]*\)$/\1/p' <<<"$out")
[[ -n $PORT ]] || { fail "start" "no KAMAILIO_PORT line: $out"; exit 1; }
PGID=$(cat "$D/kamailio.pgid")
pass "start on 127.0.0.1:$PORT and [::1]:$PORT, certificate: $ca_note"

port_sockets() { ss -Hltn | awk -v p=":$PORT" 'substr($4, length($4) - length(p) + 1) == p {print $4}' | sort; }
listening=$(port_sockets | tr '\n' ' ')
if [[ $listening == "127.0.0.1:$PORT [::1]:$PORT " ]]; then
  pass "listens on loopback only ($listening)"
else
  fail "listens on loopback only" "sockets: $listening"
fi
# Network sockets (TCP, UDP, raw) of this instance's processes; internal unix sockets do not count.
pids_re=$(pgrep -g "$PGID" | sed 's/.*/pid=&,/' | paste -sd'|')
others=$(ss -Hlnp -tuw | grep -E -- "$pids_re" | awk '{print $5}' | sort | tr '\n' ' ')
if [[ $others == "127.0.0.1:$PORT [::1]:$PORT " ]]; then
  pass "no other network sockets of this instance"
else
  fail "no other network sockets of this instance" "$others"
fi

ALICE=(--aor sip:alice@ims.example --user alice@ims.example)
BOB=(--aor sip:bob@ims.example --user bob@ims.example)

out=$(reg "${ALICE[@]}" --password-file "$D/passwords/alice")
expect "digest alice SHA-256 -> 200 (outbound, reg-id)" "$out" '^STATUS 200 ' '^HDR Require: outbound' \
  '^HDR Contact: .*reg-id=1' '^HDR Flow-Timer: 25$'

out=$(reg "${BOB[@]}" --password-file "$D/passwords/bob")
expect "digest bob MD5 -> 200" "$out" '^STATUS 200 '

out=$(reg "${ALICE[@]}" --password-file /dev/null)
expect "digest alice challenge is SHA-256 only" "$out" 'algorithm=SHA-256'
echo "not-the-password" >"$WORK/wrong-password"
out=$(reg "${ALICE[@]}" --password-file "$WORK/wrong-password")
expect "digest alice wrong password -> 401 again" "$out" '^STATUS 401 ' '^HDR WWW-Authenticate: Digest '

out=$(reg "${ALICE[@]}" --password-file "$D/passwords/alice" --origin https://evil.example)
expect "wrong Origin -> WebSocket upgrade refused (HTTP 403)" "$out" '^HTTP 403$'

# --- bearer tokens (TR 33.871)
KEY=$D/wwsf/wwsf-key.pem
U1=(--aor sip:user1@wwsf.ims.example)
out=$(reg "${U1[@]}")
expect "no credentials, non-digest AoR -> 401 Bearer challenge" "$out" '^STATUS 401 ' \
  '^HDR WWW-Authenticate: Bearer realm="ims.example"$'

mint "$WORK/tok-ok" --key "$KEY" --sub user1@wwsf.ims.example --impu sip:user1@wwsf.ims.example
out=$(reg "${U1[@]}" --token-file "$WORK/tok-ok")
expect "bearer token OK -> 200" "$out" '^STATUS 200 '

mint "$WORK/tok-exp" --key "$KEY" --sub user1@wwsf.ims.example --impu sip:user1@wwsf.ims.example --exp-in -60
out=$(reg "${U1[@]}" --token-file "$WORK/tok-exp")
expect "expired token -> 401 invalid_token" "$out" '^STATUS 401 ' 'error="invalid_token"'

mint "$WORK/tok-scope" --key "$KEY" --sub user1@wwsf.ims.example --impu sip:user1@wwsf.ims.example --scope openid
out=$(reg "${U1[@]}" --token-file "$WORK/tok-scope")
expect "wrong scope -> 403 insufficient_scope" "$out" '^STATUS 403 ' 'error="insufficient_scope"'

mint "$WORK/tok-pool" --key "$KEY" --sub user1@other-wwsf.example --impu sip:user1@wwsf.ims.example
out=$(reg "${U1[@]}" --token-file "$WORK/tok-pool")
expect "IMPI outside the WWSF pool -> 403" "$out" '^STATUS 403 '

"${TOKEN[@]}" --gen-key "$WORK/rogue-wwsf"
mint "$WORK/tok-sig" --key "$WORK/rogue-wwsf/wwsf-key.pem" --sub user1@wwsf.ims.example --impu sip:user1@wwsf.ims.example
out=$(reg "${U1[@]}" --token-file "$WORK/tok-sig")
expect "bad signature -> 401 invalid_token" "$out" '^STATUS 401 ' 'error="invalid_token"'

mint "$WORK/tok-aud" --key "$KEY" --sub user1@wwsf.ims.example --impu sip:user1@wwsf.ims.example --aud pcscf.other.example
out=$(reg "${U1[@]}" --token-file "$WORK/tok-aud")
expect "wrong audience -> 401 invalid_token" "$out" '^STATUS 401 ' 'error="invalid_token"'

out=$(reg --aor sip:user2@wwsf.ims.example --token-file "$WORK/tok-ok")
expect "token for another IMPU -> 403" "$out" '^STATUS 403 '

mint "$WORK/tok-ent" --key "$KEY" --sub enterprise-pool-7@wwsf.ims.example --impu sip:e12345@enterprise.example
out=$(reg --aor sip:e12345@enterprise.example --token-file "$WORK/tok-ent")
expect "enterprise (third-party) ID with enterprise token -> 200" "$out" '^STATUS 200 '

# --- test hooks
out=$(reg "${ALICE[@]}" --password-file "$D/passwords/alice" --expires 30)
expect "expires below --min-expires -> 423 with Min-Expires" "$out" '^STATUS 423 ' '^HDR Min-Expires: 120$'

echo 2 >"$D/fail503"
out=$(reg "${ALICE[@]}" --password-file "$D/passwords/alice")
expect "DIR/fail503 -> 503 with Retry-After" "$out" '^STATUS 503 ' '^HDR Retry-After: 2$'
out=$(reg "${ALICE[@]}" --password-file "$D/passwords/alice")
expect "503 hook fires once" "$out" '^STATUS 200 '

# --- proxying between registered users over their WebSocket connections
out=$("${CLIENT[@]}" message --port "$PORT" --cafile "$D/tls/ca.pem" \
  --from-aor sip:alice@ims.example --from-user alice@ims.example --from-password-file "$D/passwords/alice" \
  --to-aor sip:bob@ims.example --to-user bob@ims.example --to-password-file "$D/passwords/bob" 2>&1 || true)
expect "MESSAGE alice -> bob relayed, 200 back" "$out" '^DELIVERED yes$' '^STATUS 200 '

printf 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n' >"$WORK/offer.sdp"
out=$("${CLIENT[@]}" message --method INVITE --body-file "$WORK/offer.sdp" --port "$PORT" --cafile "$D/tls/ca.pem" \
  --from-aor sip:alice@ims.example --from-user alice@ims.example --from-password-file "$D/passwords/alice" \
  --to-aor sip:bob@ims.example --to-user bob@ims.example --to-password-file "$D/passwords/bob" 2>&1 || true)
expect "without --mf: INVITE alice -> bob straight to bob, 486 back" "$out" '^DELIVERED yes$' '^STATUS 486 '

# --- kill (reconnect tests) and restart on the same port
"$LAB" kill "$D" >/dev/null
if pgrep -g "$PGID" >/dev/null; then fail "kill" "processes left in group $PGID"; else pass "kill: process group gone"; fi
out=$("$LAB" restart "$D" 2>&1) || true
PGID=$(cat "$D/kamailio.pgid" 2>/dev/null || echo 0)
expect "restart on the same port" "$out" "^KAMAILIO_PORT=$PORT\$"
out=$(reg "${BOB[@]}" --password-file "$D/passwords/bob")
expect "register after restart -> 200" "$out" '^STATUS 200 '

# --- stop: nothing left
"$LAB" stop "$D" >/dev/null
STARTED=0
sleep 0.2
left=$(pgrep -g "$PGID" || true)
if [[ -z $left && -z $(port_sockets) ]]; then
  pass "stop: no kamailio process of this instance left, port closed"
else
  fail "stop" "processes: ${left:-none}; sockets: $(port_sockets | tr '\n' '|')"
fi
if "$LAB" stop "$D" >/dev/null; then pass "stop is idempotent"; else fail "stop is idempotent" "second stop failed"; fi

# --- --third-party-ids: the third-party ID server data (name cards, RFC 9795 Rich Call Data)
TPID=$WORK/tpid
mkdir -p "$TPID"
cat >"$TPID/ids.json" <<'EOF'
{"identities": {
  "sip:e12345@enterprise.example": {
    "nam": "Zoë Example",
    "jcl": "https://id.enterprise.example/jcards/e12345.json",
    "jcard": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "Zoë Example"],
                        ["org", {}, "text", ["Example Enterprise", "Labs"]],
                        ["logo", {}, "uri", "https://id.enterprise.example/jcards/example-logo.svg"]]]}}}
EOF
printf '<svg xmlns="http://www.w3.org/2000/svg"/>\n' >"$TPID/example-logo.svg"
printf '{"identities": {"sip:e1@enterprise.example": {"nam": "X", "jcl": "http://id.example/x.json",\n "jcard": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "X"]]]}}}\n' \
  >"$WORK/ids-bad.json"
if out=$("$LAB" start "$WORK/bad-tpid" --third-party-ids "$WORK/ids-bad.json" 2>&1); then
  fail "--third-party-ids with an invalid file is refused" "started: $out"
  "$LAB" stop "$WORK/bad-tpid" >/dev/null 2>&1 || true
else
  rc=$?
  if ((rc == 2)) && [[ ! -e $WORK/bad-tpid ]] && grep -q 'jcl must be an https URL' <<<"$out"; then
    pass "--third-party-ids with an invalid file (jcl not https) is refused (exit 2), DIR untouched"
  else fail "--third-party-ids with an invalid file is refused" "exit $rc: $out"; fi
fi
if out=$("$LAB" start "$WORK/bad-tpid" --no-sti --third-party-ids "$TPID/ids.json" 2>&1); then
  fail "--third-party-ids with --no-sti is refused" "started: $out"
  "$LAB" stop "$WORK/bad-tpid" >/dev/null 2>&1 || true
else
  rc=$?
  if ((rc == 2)) && [[ ! -e $WORK/bad-tpid ]]; then pass "--third-party-ids with --no-sti is refused (exit 2)"
  else fail "--third-party-ids with --no-sti is refused" "exit $rc: $out"; fi
fi

# --- media function routing (--mf): a second instance, with the third-party ID server data
if out=$("$LAB" start "$WORK/bad-mf" --mf sip:MF@elsewhere.example 2>&1); then
  fail "--mf with a foreign AoR is refused" "started: $out"
  "$LAB" stop "$WORK/bad-mf" >/dev/null 2>&1 || true
else
  rc=$?
  if ((rc == 2)) && [[ ! -e $WORK/bad-mf ]]; then pass "--mf with a foreign AoR is refused (exit 2)"
  else fail "--mf with a foreign AoR is refused" "exit $rc: $out"; fi
fi
# The enterprise identity has a number (kept by start: numbers.conf exists).
mkdir -p "$DM"
printf '%s\n' "sip:alice@ims.example  +15551110001" "sip:bob@ims.example    +15552220002" \
  "sip:e12345@enterprise.example  +15553330003" >"$DM/numbers.conf"
if ! out=$("$LAB" start "$DM" --mf "$MF_AOR" --third-party-ids "$TPID/ids.json" 2>&1); then
  fail "start --mf $MF_AOR --third-party-ids" "$out"
  exit 1
fi
STARTED_MF=1
PORT_MF=$(sed -n 's/^KAMAILIO_PORT=\([0-9]*\)$/\1/p' <<<"$out")
[[ -n $PORT_MF ]] || { fail "start --mf" "no KAMAILIO_PORT line: $out"; exit 1; }
pass "start --mf $MF_AOR --third-party-ids on port $PORT_MF"
if cmp -s "$TPID/ids.json" "$DM/thirdparty/ids.json" && cmp -s "$TPID/example-logo.svg" "$DM/thirdparty/example-logo.svg" \
  && cmp -s "$TPID/example-logo.svg" "$DM/sti/certs/example-logo.svg" && [[ -s $DM/sti/certs/e12345.json ]]; then
  pass "--third-party-ids: data copied to DIR/thirdparty, jCard and logo published in DIR/sti/certs"
else
  fail "--third-party-ids: data copied and published" "$(ls -l "$DM/thirdparty" "$DM/sti/certs" 2>&1 | tr '\n' '|')"
fi
out=$("$LAB" users "$DM" 2>&1 || true)
expect "--mf: the MF is a digest user (users DIR)" "$out" "^mf@ims\.example +sip:mf@ims\.example +SHA-256 +$DM/passwords/mf\$"

# The scenario prints "PASS name" or "FAIL name<TAB>detail" per case. wsclient.py's Ua registers
# (digest, outbound); the rest is plain SIP built here: the MF is a B2BUA on its own connection.
mf_out=$(timeout 180 "$PY" - "$HERE" "$PORT_MF" "$DM" "$MF_AOR" "$TPID/ids.json" 2>&1 <<'EOF' || true
import argparse
import asyncio
import base64
import hashlib
import json
import sys
import time

HERE, PORT, D, MF_AOR, IDS = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
sys.path.insert(0, HERE)
import jwt  # noqa: E402  (python3-jwt, as bearer.py)
import wsclient as w  # noqa: E402
from cryptography import x509  # noqa: E402

ALICE, BOB, CAROL = "sip:alice@ims.example", "sip:bob@ims.example", "sip:carol@ims.example"
ALICE_PAI = ["<sip:alice@ims.example>", "<tel:+15551110001>"]
BOB_NUM = "sip:+15552220002@ims.example;user=phone"
SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio 9 RTP/AVP 0\r\n")
QUIET = 0.7  # how long "nothing arrives" is watched


def check(name, cond, detail=""):
    print(("PASS %s" % name) if cond else ("FAIL %s\t%s" % (name, str(detail).replace("\n", "|"))),
          flush=True)
    return cond


def split_values(value):
    """A header value with comma-separated entries -> entries (commas inside <> or "" kept)."""
    out, cur, depth, quote = [], "", 0, False
    for ch in value:
        if ch == '"':
            quote = not quote
        elif not quote and ch == "<":
            depth += 1
        elif not quote and ch == ">":
            depth -= 1
        if ch == "," and depth == 0 and not quote:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


class Msg:
    def __init__(self, raw):
        self.start, self.headers, self.body = w.parse_sip(raw)
        self.is_response = self.start.startswith("SIP/2.0 ")
        parts = self.start.split(" ", 2)
        if self.is_response:
            self.code, self.reason, self.method, self.ruri = int(parts[1]), parts[2], None, None
        else:
            self.code, self.reason, self.method, self.ruri = None, None, parts[0], parts[1]
        self.cseq_num, _, self.cseq_method = (self.get("CSeq") or "").partition(" ")
        self.call_id = self.get("Call-ID")

    def get(self, name):
        return w.hget(self.headers, name)

    def all(self, name):
        out = []
        for n, v in self.headers:
            if n.lower() == name.lower():
                out += split_values(v)
        return out

    def __repr__(self):
        return "%s|%s" % (self.start, "|".join("%s: %s" % h for h in self.headers))


def contact_uri(value):
    return value.split("<", 1)[1].split(">", 1)[0] if "<" in value else value.split(";", 1)[0]


class Conn:
    """One SIP endpoint on its own WebSocket connection; a reader task queues what arrives."""

    def __init__(self, aor):
        self.aor = aor

    async def open(self, user=None, pwfile=None):
        args = argparse.Namespace(host="localhost", port=PORT, cafile=D + "/tls/ca.pem",
                                  origin="https://wwsf.ims.example")
        self.ws = await w.connect(args)
        self.ua = w.Ua(self.ws, self.aor)
        self.host, self.user = self.ua.host, self.ua.user
        code = None
        if user:
            code, _, _ = await self.ua.register(user, w.read_secret(pwfile), None, 600)
        self.q, self.backlog = asyncio.Queue(), []
        self.task = asyncio.ensure_future(self.reader())
        return code

    async def reader(self):
        try:
            async for raw in self.ws:
                if isinstance(raw, bytes):
                    raw = raw.decode("utf-8", "replace")
                self.q.put_nowait(Msg(raw))
        except Exception:  # the connection closed: nothing more arrives
            pass

    async def close(self):
        await self.ws.close()
        self.task.cancel()

    def contact(self):
        return "Contact: <sip:%s@%s;transport=ws>" % (self.user, self.host)

    async def wait(self, pred, timeout=w.TIMEOUT):
        for i, m in enumerate(self.backlog):
            if pred(m):
                return self.backlog.pop(i)
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            left = end - loop.time()
            if left <= 0:
                return None
            try:
                m = await asyncio.wait_for(self.q.get(), left)
            except asyncio.TimeoutError:
                return None
            if pred(m):
                return m
            self.backlog.append(m)

    async def request(self, method, call_id=None, timeout=w.TIMEOUT):
        return await self.wait(lambda m: not m.is_response and m.method == method
                               and (call_id is None or m.call_id == call_id), timeout)

    async def final(self, req):
        return await self.wait(lambda m: m.is_response and m.code >= 200
                               and m.call_id == req.call_id and m.cseq_method == req.method
                               and m.cseq_num == str(req.cseq))

    async def respond(self, req, code, reason, tag, extra=(), body=""):
        lines = ["SIP/2.0 %d %s" % (code, reason)]
        for n, v in req.headers:
            if n.lower() in ("via", "record-route", "from", "call-id", "cseq"):
                lines.append("%s: %s" % (n, v))
            elif n.lower() == "to":
                lines.append("To: %s" % (v if ";tag=" in v else v + ";tag=" + tag))
        lines += list(extra)
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append("Content-Length: %d" % len(body.encode()))
        await self.ws.send("\r\n".join(lines) + "\r\n\r\n" + body)


class Req:
    """A request this side sends (kept for its ACK / dialog)."""

    def __init__(self, conn, method, ruri, frm, to, call_id, cseq, routes=(), extra=(), body="",
                 via=None):
        self.conn, self.method, self.ruri, self.frm, self.to = conn, method, ruri, frm, to
        self.call_id, self.cseq, self.routes, self.extra, self.body = call_id, cseq, routes, extra, body
        self.via = via or "SIP/2.0/WSS %s;branch=z9hG4bK%s" % (conn.host, w.rand(16))

    async def send(self):
        lines = ["%s %s SIP/2.0" % (self.method, self.ruri), "Via: " + self.via, "Max-Forwards: 70"]
        lines += ["Route: %s" % r for r in self.routes]
        lines += ["From: " + self.frm, "To: " + self.to, "Call-ID: " + self.call_id,
                  "CSeq: %d %s" % (self.cseq, self.method)]
        lines += list(self.extra)
        if self.body:
            lines.append("Content-Type: application/sdp")
        lines.append("Content-Length: %d" % len(self.body.encode()))
        await self.conn.ws.send("\r\n".join(lines) + "\r\n\r\n" + self.body)
        return self

    async def ack_non2xx(self, resp):
        await Req(self.conn, "ACK", self.ruri, self.frm, resp.get("To"), self.call_id, self.cseq,
                  self.routes, via=self.via).send()


def new_invite(conn, ruri, frm_aor, extra=(), to=None):
    return Req(conn, "INVITE", ruri, "<%s>;tag=%s" % (frm_aor, w.rand()), "<%s>" % (to or ruri),
               w.rand(20), 1, extra=[conn.contact()] + list(extra), body=SDP)


class Dialog:
    def __init__(self, conn, call_id, local, remote, target, routes, cseq):
        self.conn, self.call_id, self.local, self.remote = conn, call_id, local, remote
        self.target, self.routes, self.cseq = target, routes, cseq

    @staticmethod
    def uac(req, resp):  # RFC 3261 12.1.2: the route set is the reversed Record-Route
        return Dialog(req.conn, req.call_id, req.frm, resp.get("To"),
                      contact_uri(resp.get("Contact")), list(reversed(resp.all("Record-Route"))),
                      req.cseq)

    @staticmethod
    def uas(conn, inv, tag):  # RFC 3261 12.1.1
        return Dialog(conn, inv.call_id, inv.get("To") + ";tag=" + tag, inv.get("From"),
                      contact_uri(inv.get("Contact")), inv.all("Record-Route"), 100)

    def req(self, method, extra=(), body="", cseq=None):
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        return Req(self.conn, method, self.target, self.local, self.remote, self.call_id, cseq,
                   self.routes, extra, body)


def passport(identity):
    """The Identity header's PASSporT, verified with the STI signing certificate."""
    token = identity.split(";", 1)[0].strip()
    with open(D + "/sti/certs/sti.pem", "rb") as f:
        key = x509.load_pem_x509_certificate(f.read()).public_key()
    return jwt.get_unverified_header(token), jwt.decode(token, key=key, algorithms=["ES256"])


def check_signed(name, m, orig, dest, count=1):
    ident = m.get("Identity")
    if not check(name + ": Identity header", ident is not None, m):
        return
    check(name + ": %d Identity header%s" % (count, "" if count == 1 else "s"),
          len(m.all("Identity")) == count, m.all("Identity"))
    try:
        hdr, claims = passport(ident)
    except Exception as e:  # noqa: BLE001 - reported as a failed case
        check(name + ": PASSporT verifies", False, "%s: %s" % (type(e).__name__, e))
        return
    check(name + ": PASSporT verifies, orig %s dest %s attest A" % (orig, dest),
          claims.get("orig") == {"tn": orig} and claims.get("dest") == {"tn": [dest]}
          and claims.get("attest") == "A" and hdr.get("ppt") == "shaken", (hdr, claims))


def sha256(data):
    return "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode()


def check_rcd(name, m, orig, dest, aor, sent_at):
    """The second Identity header: the rcd PASSporT of aor's name card (ids.json), verified
    with the STI certificate; rcdi digests computed here from the published files."""
    ids = m.all("Identity")
    if not check(name + ": an rcd PASSporT next to the SHAKEN one", len(ids) == 2, ids):
        return
    value = ids[1]
    x5u = "https://sti.ims.example/certs/sti.pem"
    check(name + ": Identity parameters info=<x5u>;alg=ES256;ppt=rcd",
          value.split(";", 1)[1] == "info=<%s>;alg=ES256;ppt=rcd" % x5u, value)
    try:
        hdr, claims = passport(value)
    except Exception as e:  # noqa: BLE001 - reported as a failed case
        check(name + ": rcd PASSporT verifies (ES256, STI certificate)", False,
              "%s: %s" % (type(e).__name__, e))
        return
    check(name + ": rcd PASSporT verifies; header alg ES256, ppt rcd, typ passport, x5u",
          hdr == {"alg": "ES256", "ppt": "rcd", "typ": "passport", "x5u": x5u}, hdr)
    card = json.load(open(IDS, encoding="utf-8"))["identities"][aor]
    jcl = card["jcl"]
    published = open(D + "/sti/certs/" + jcl.rsplit("/", 1)[1], "rb").read()
    check(name + ": the published jCard is the ID server's", json.loads(published) == card["jcard"],
          published)
    want_rcdi = {"/nam": sha256(json.dumps(card["nam"], ensure_ascii=False).encode()),
                 "/jcl": sha256(published)}
    for i, p in enumerate(card["jcard"][1]):
        if p[0] in ("photo", "logo"):
            want_rcdi["/jcl/1/%d/3" % i] = sha256(
                open(D + "/sti/certs/" + p[3].rsplit("/", 1)[1], "rb").read())
    check(name + ": claims orig %s, dest %s, rcd {nam, jcl}, rcdi (nam, jCard, logo)" % (orig, dest),
          sorted(claims) == ["dest", "iat", "orig", "rcd", "rcdi"]
          and claims["orig"] == {"tn": orig} and claims["dest"] == {"tn": [dest]}
          and claims["rcd"] == {"nam": card["nam"], "jcl": jcl} and claims["rcdi"] == want_rcdi,
          (claims, want_rcdi))
    check(name + ": iat within the send window",
          sent_at - 1 <= claims.get("iat", 0) <= time.time() + 1, claims.get("iat"))


async def expect_480(alice, name):
    inv = await new_invite(alice, BOB, ALICE).send()
    r = await alice.final(inv)
    check(name + ": 480 Media Function Unavailable", r is not None and r.code == 480
          and r.reason == "Media Function Unavailable", r)
    if r is not None:
        await inv.ack_non2xx(r)
    return inv


async def mf_call(mf, bob, name, extra, frm=ALICE, ruri=BOB_NUM):
    """The MF originates an INVITE to bob, bob declines it (486): bob's INVITE or None."""
    inv = await new_invite(mf, ruri, frm, extra).send()
    m = await bob.request("INVITE", inv.call_id)
    if check(name + ": reaches bob", m is not None):
        await bob.respond(m, 486, "Busy Here", w.rand())
    r = await mf.final(inv)
    if r is not None:
        await inv.ack_non2xx(r)
    return m


async def main():
    alice, bob, mf = Conn(ALICE), Conn(BOB), Conn(MF_AOR)
    check("alice and bob register", await alice.open("alice@ims.example", D + "/passwords/alice")
          == 200 and await bob.open("bob@ims.example", D + "/passwords/bob") == 200)

    # -- the MF is not registered: 480, nothing routed around it
    inv = await expect_480(alice, "MF not registered")
    check("MF not registered: nothing reaches bob (no direct routing)",
          await bob.request("INVITE", inv.call_id, QUIET) is None)

    mf_user = MF_AOR[4:]
    code = await mf.open(mf_user, D + "/passwords/" + mf_user.split("@")[0])
    check("MF registers over WSS (digest user %s)" % mf_user, code == 200, code)

    # -- leg A: alice -> MF
    a_inv = await new_invite(alice, BOB_NUM, ALICE).send()
    m1 = await mf.request("INVITE", a_inv.call_id)
    if not check("alice calls bob's number: the INVITE reaches the MF", m1 is not None):
        return
    check("leg A: Request-URI unchanged (%s)" % BOB_NUM, m1.ruri == BOB_NUM, m1.ruri)
    check("leg A: P-Asserted-Identity alice (sip + tel)", m1.all("P-Asserted-Identity") == ALICE_PAI,
          m1.all("P-Asserted-Identity"))
    check("leg A: no Identity header (not signed towards the MF)", m1.get("Identity") is None, m1)
    check("leg A: Record-Route", bool(m1.all("Record-Route")), m1)
    check("leg A: nothing reaches bob directly", await bob.request("INVITE", None, QUIET) is None)

    # -- leg B: the MF's own INVITE (new Call-ID, From alice, P-Preferred-Identity alice)
    b_inv = await new_invite(mf, BOB_NUM, ALICE, ["P-Preferred-Identity: <sip:alice@ims.example>"]).send()
    m2 = await bob.request("INVITE", b_inv.call_id)
    if not check("MF's INVITE (From alice, P-Preferred-Identity alice) reaches bob", m2 is not None):
        return
    check("leg B: P-Asserted-Identity alice (sip + tel)", m2.all("P-Asserted-Identity") == ALICE_PAI,
          m2.all("P-Asserted-Identity"))
    check("leg B: no P-Preferred-Identity at bob", m2.get("P-Preferred-Identity") is None, m2)
    check_signed("leg B", m2, "15551110001", "15552220002")
    check("leg B: To keeps the dialled number", BOB_NUM in (m2.get("To") or ""), m2.get("To"))

    # -- answers, ACKs and in-dialog requests of both legs, through Record-Route
    btag, mtag = w.rand(), w.rand()
    await bob.respond(m2, 200, "OK", btag, [bob.contact()], SDP)
    r = await mf.final(b_inv)
    if not check("leg B: bob's 200 OK reaches the MF", r is not None and r.code == 200, r):
        return
    mf_b = Dialog.uac(b_inv, r)
    await mf_b.req("ACK", cseq=b_inv.cseq).send()
    check("leg B: the MF's ACK reaches bob", await bob.request("ACK", b_inv.call_id) is not None)
    await mf.respond(m1, 200, "OK", mtag, [mf.contact()], SDP)
    r = await alice.final(a_inv)
    if not check("leg A: the MF's 200 OK reaches alice", r is not None and r.code == 200, r):
        return
    alice_a = Dialog.uac(a_inv, r)
    await alice_a.req("ACK", cseq=a_inv.cseq).send()
    check("leg A: alice's ACK reaches the MF", await mf.request("ACK", a_inv.call_id) is not None)

    bob_b = Dialog.uas(bob, m2, btag)
    u = await bob_b.req("UPDATE", [bob.contact()], SDP).send()
    mu = await mf.request("UPDATE", u.call_id)
    if mu is not None:
        await mf.respond(mu, 200, "OK", mtag, [mf.contact()], SDP)
    r = await bob.final(u)
    check("leg B: UPDATE bob -> MF, 200 back", mu is not None and r is not None and r.code == 200, r)

    mf_a = Dialog.uas(mf, m1, mtag)
    ri = await mf_a.req("INVITE", [mf.contact()], SDP).send()
    ma = await alice.request("INVITE", ri.call_id)
    if ma is not None:
        await alice.respond(ma, 200, "OK", "unused", [alice.contact()], SDP)
    r = await mf.final(ri)
    ok = ma is not None and r is not None and r.code == 200
    if ok:
        await mf_a.req("ACK", cseq=ri.cseq).send()
        ok = await alice.request("ACK", ri.call_id) is not None
    check("leg A: re-INVITE MF -> alice, 200, ACK", ok, r)

    bye = await alice_a.req("BYE").send()
    mb = await mf.request("BYE", bye.call_id)
    if mb is not None:
        await mf.respond(mb, 200, "OK", mtag)
    r = await alice.final(bye)
    check("leg A: BYE alice -> MF, 200 back", r is not None and r.code == 200, r)
    bye = await mf_b.req("BYE").send()
    mb = await bob.request("BYE", bye.call_id)
    if mb is not None:
        await bob.respond(mb, 200, "OK", btag)
    r = await mf.final(bye)
    check("leg B: BYE MF -> bob, 200 back", r is not None and r.code == 200, r)

    # -- a UE cannot act as the MF: a header does not make a request "from the MF"
    inv = await new_invite(alice, BOB_NUM, ALICE, ["P-Preferred-Identity: <sip:bob@ims.example>"]).send()
    r = await alice.final(inv)
    check("UE with P-Preferred-Identity of bob, no token: 407 Bearer", r is not None and r.code == 407
          and (r.get("Proxy-Authenticate") or "").startswith("Bearer "), r)
    if r is not None:
        await inv.ack_non2xx(r)
    check("UE with P-Preferred-Identity of bob: nothing reaches the MF or bob", await mf.request("INVITE", inv.call_id, QUIET) is None
          and await bob.request("INVITE", inv.call_id, 0) is None)
    inv = await new_invite(alice, BOB_NUM, CAROL, ["P-Preferred-Identity: <%s>" % CAROL]).send()
    r = await alice.final(inv)
    check("UE with another (unregistered) From, as the MF may send: 403", r is not None
          and r.code == 403, r)
    if r is not None:
        await inv.ack_non2xx(r)
    # bob is registered, but on his own connection: alice's connection cannot originate as bob
    inv = await new_invite(alice, "sip:alice@ims.example", BOB).send()
    r = await alice.final(inv)
    check("UE with the From of another registered user (bob, on another connection): 403",
          r is not None and r.code == 403, r)
    if r is not None:
        await inv.ack_non2xx(r)
    check("From bob on alice's connection: nothing reaches the MF or alice",
          await mf.request("INVITE", inv.call_id, QUIET) is None
          and await alice.request("INVITE", inv.call_id, 0) is None)
    inv = await new_invite(alice, BOB_NUM, ALICE, ["P-Asserted-Identity: <sip:bob@ims.example>",
                                                   "P-Asserted-Identity: <tel:+15552220002>",
                                                   "Identity: forged.forged.forged;info=<https://x.example/c.pem>"]).send()
    m = await mf.request("INVITE", inv.call_id)
    check("UE's own P-Asserted-Identity/Identity replaced: the MF sees alice, no Identity",
          m is not None and m.all("P-Asserted-Identity") == ALICE_PAI and m.get("Identity") is None, m)
    if m is not None:
        await mf.respond(m, 486, "Busy Here", w.rand())
    r = await alice.final(inv)
    if r is not None:
        await inv.ack_non2xx(r)

    # -- more INVITEs of the MF: identity from P-Asserted-Identity, a tel URI, Privacy: id
    m = await mf_call(mf, bob, "MF INVITE, From carol (unregistered), P-Asserted-Identity alice",
                      ["P-Asserted-Identity: <sip:alice@ims.example>"], frm=CAROL)
    if m is not None:
        check("MF INVITE with P-Asserted-Identity only: bob gets P-Asserted-Identity alice (sip + tel)",
              m.all("P-Asserted-Identity") == ALICE_PAI, m.all("P-Asserted-Identity"))
        check_signed("MF INVITE with P-Asserted-Identity only", m, "15551110001", "15552220002")
    sent_at = int(time.time())
    m = await mf_call(mf, bob, "MF INVITE asserting the third-party identity sip:e12345@enterprise.example",
                      ["P-Preferred-Identity: <sip:e12345@enterprise.example>"])
    if m is not None:
        check("MF INVITE for e12345: P-Asserted-Identity e12345 (sip + tel)",
              m.all("P-Asserted-Identity") == ["<sip:e12345@enterprise.example>", "<tel:+15553330003>"],
              m.all("P-Asserted-Identity"))
        check_signed("MF INVITE for e12345", m, "15553330003", "15552220002", count=2)
        check_rcd("MF INVITE for e12345", m, "15553330003", "15552220002",
                  "sip:e12345@enterprise.example", sent_at)
    m = await mf_call(mf, bob, "MF INVITE, P-Preferred-Identity tel:+15551110001",
                      ["P-Preferred-Identity: <tel:+15551110001>"])
    if m is not None:
        check("MF INVITE with P-Preferred-Identity tel: bob gets P-Asserted-Identity alice (sip + tel)",
              m.all("P-Asserted-Identity") == ALICE_PAI, m.all("P-Asserted-Identity"))
    m = await mf_call(mf, bob, "MF INVITE with Privacy: id",
                      ["P-Preferred-Identity: <sip:alice@ims.example>", "Privacy: id"])
    if m is not None:
        check("MF INVITE with Privacy: id: bob gets no P-Asserted-Identity and no Identity",
              not m.all("P-Asserted-Identity") and m.get("Identity") is None, m)
    m = await mf_call(mf, bob, "MF INVITE to bob's AoR", ["P-Preferred-Identity: <sip:alice@ims.example>"],
                      ruri=BOB)
    if m is not None:
        check("MF INVITE to bob's AoR: P-Asserted-Identity alice, not signed (no called number)",
              m.all("P-Asserted-Identity") == ALICE_PAI and m.get("Identity") is None, m)

    # -- the MF's connection closes: the MF is unavailable again
    await mf.close()
    await asyncio.sleep(1.0)
    await expect_480(alice, "MF connection closed")
    await alice.close()
    await bob.close()


try:
    asyncio.run(asyncio.wait_for(main(), 120))
except Exception as e:  # noqa: BLE001 - one FAIL line instead of a traceback
    print("FAIL MF scenario\t%s: %s" % (type(e).__name__, e), flush=True)
EOF
)
mf_cases=0
while IFS= read -r line; do
  case $line in
    "PASS "*) pass "--mf: ${line#PASS }"; mf_cases=$((mf_cases + 1)) ;;
    "FAIL "*)
      line=${line#FAIL }
      fail "--mf: ${line%%$'\t'*}" "${line#*$'\t'}"
      mf_cases=$((mf_cases + 1)) ;;
  esac
done <<<"$mf_out"
((mf_cases)) || fail "--mf scenario" "no result: $(tr '\n' '|' <<<"$mf_out")"

# One log line per routing decision (tests read the flow off the log).
mf_log=$(grep -a 'labnet: \(MF\|STI\):' "$DM/kamailio.log" || true)
expect "--mf: the log shows each routing decision" "$mf_log" \
  'labnet: MF: sip:mf@ims\.example registered, trusted connection [0-9]+ \(' \
  'labnet: MF: INVITE [^ ]+ from sip:alice@ims\.example .* -> 480, media function sip:mf@ims\.example unavailable' \
  'labnet: MF: INVITE [^ ]+ from sip:alice@ims\.example .* -> media function sip:mf@ims\.example \(connection [0-9]+' \
  'labnet: MF: INVITE [^ ]+ from the media function \(trusted connection [0-9]+, .*asserted sip:alice@ims\.example' \
  'labnet: STI: [^ ]+ not signed \(towards the media function\)' \
  'labnet: STI: signed [^ ]+ orig 15551110001 dest 15552220002 attest A' \
  'labnet: STI: no third-party ID server entry for sip:alice@ims\.example: no rich call data' \
  'labnet: STI: rich call data signed [^ ]+ for sip:e12345@enterprise\.example \(nam: Zoë Example; jcl https://id\.enterprise\.example/jcards/e12345\.json\)'

"$LAB" stop "$DM" >/dev/null
STARTED_MF=0

if ((FAILS)); then
  echo "labnet kamailio check: $FAILS case(s) FAILED"
  exit 1
fi
echo "labnet kamailio check: all cases passed"
