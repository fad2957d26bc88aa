#!/usr/bin/env bash
# Records what headless Chromium puts on the wire for a data channel, for imsdc's test data:
# its SDP offer and answer and the UDP datagrams that carry its first DTLS ClientHello.
#
# usage: tests/interop/chromium/capture.sh OUT_DIR      (root; needs chromium, tcpdump, node)
#
# Chromium runs in a network namespace of this script's own (a veth pair to a second one, each
# with a default route via the other: Chromium gathers no loopback candidates and only gathers
# on an interface that has a route). Both peer connections live in one page, so the DTLS
# traffic stays on that namespace's own addresses; tcpdump records it there. Writes
# OUT_DIR/offer.sdp, answer.sdp, clienthello-N.bin (one file per datagram, in order),
# capture.pcap and user-agent.txt. Nothing outside the two namespaces is touched.
set -euo pipefail
out=${1:?usage: capture.sh OUT_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
ns=imsdc-cap-$$
cleanup() {
  [[ -n ${tcpdump_pid:-} ]] && kill "$tcpdump_pid" 2>/dev/null && wait "$tcpdump_pid" 2>/dev/null
  ip netns del "$ns-a" 2>/dev/null || true
  ip netns del "$ns-b" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$ns-a"
ip netns add "$ns-b"
ip link add "cap$$a" netns "$ns-a" type veth peer name "cap$$b" netns "$ns-b"
ip -n "$ns-a" addr add 10.77.0.2/24 dev "cap$$a"
ip -n "$ns-b" addr add 10.77.0.1/24 dev "cap$$b"
for n in a b; do
  ip -n "$ns-$n" link set lo up
  ip -n "$ns-$n" link set "cap$$$n" up
done
ip -n "$ns-a" route add default via 10.77.0.1
ip -n "$ns-b" route add default via 10.77.0.2

ip netns exec "$ns-a" tcpdump -q -n -i any -U -w "$out/capture.pcap" udp 2>"$out/tcpdump.log" &
tcpdump_pid=$!
sleep 1
HOME=$(mktemp -d) ip netns exec "$ns-a" node "$here/loopback-pair.mjs" >"$out/result.json"
sleep 1
kill "$tcpdump_pid"
wait "$tcpdump_pid" 2>/dev/null || true
tcpdump_pid=

python3 - "$out" <<'PY'
import json, struct, sys, pathlib
out = pathlib.Path(sys.argv[1])
r = json.loads((out / "result.json").read_text())
assert r["message"] == "hello from a", "data channel message did not arrive"
(out / "offer.sdp").write_text(r["offer"])
(out / "answer.sdp").write_text(r["answer"])
(out / "user-agent.txt").write_text(r["userAgent"] + "\n")
data = (out / "capture.pcap").read_bytes()
magic, = struct.unpack_from("<I", data, 0)
assert magic == 0xa1b2c3d4, "unexpected pcap format"
linktype, = struct.unpack_from("<I", data, 20)
# Linux cooked capture (-i any): v1 (113, 16-byte header, protocol at 14) or v2 (276,
# 20-byte header, protocol at 0).
assert linktype in (113, 276), f"unexpected link type {linktype}"
hdr, proto_at = (16, 14) if linktype == 113 else (20, 0)
pos, found, src = 24, [], None
while pos + 16 <= len(data):
    _, _, incl, _ = struct.unpack_from("<IIII", data, pos)
    pkt = data[pos + 16: pos + 16 + incl]
    pos += 16 + incl
    proto, = struct.unpack_from(">H", pkt, proto_at)
    ip = pkt[hdr:]
    if proto == 0x0800:
        ihl = (ip[0] & 15) * 4
        udp = ip[ihl:]
    elif proto == 0x86DD:
        udp = ip[40:]
    else:
        continue
    sport, dport = struct.unpack_from(">HH", udp, 0)
    payload = udp[8:]
    # A DTLS handshake record (content type 22) whose message is a ClientHello (type 1).
    if len(payload) > 13 and payload[0] == 22 and payload[1] == 0xFE and payload[13] == 1:
        if src is None:
            src = (sport, dport)
        if (sport, dport) == src:
            found.append(payload)
    elif src is not None and (dport, sport) == src:
        break  # the server answered: the first flight is complete
assert found, "no ClientHello captured"
for i, p in enumerate(found, 1):
    (out / f"clienthello-{i}.bin").write_bytes(p)
print(f"capture: {len(found)} datagram(s) of ClientHello, sizes {[len(p) for p in found]}")
PY
