#!/usr/bin/env python3
"""A SIP UDP end point on loopback for the secsipid labnet test (test only).

  sip_udp.py ping --proxy PORT [--timeout S]
      Sends OPTIONS to 127.0.0.1:PORT until a final response arrives (the proxy is up).
  sip_udp.py invite --proxy PORT --listen PORT --from-tn TN --to-tn TN --out FILE
                    [--header 'Name: value']... [--timeout S]
      Binds 127.0.0.1:LISTEN (the proxy's next hop), sends an INVITE from an ephemeral
      loopback port to the proxy, and writes the request the proxy forwards, byte for byte,
      to FILE. Fails when the proxy answers with a response instead, or nothing arrives.
Exit 0 on success, 1 on failure, 2 on misuse.
"""
import argparse
import secrets
import socket
import sys
import time

HOST = "127.0.0.1"


def request(method, port, from_tn, to_tn, headers):
    tag = secrets.token_hex(4)
    branch = "z9hG4bK-" + secrets.token_hex(6)
    call_id = secrets.token_hex(8) + "@" + HOST
    lines = [
        f"{method} sip:{to_tn}@ims.example;user=phone SIP/2.0",
        f"Via: SIP/2.0/UDP {HOST}:{port};branch={branch};rport",
        "Max-Forwards: 70",
        f'From: "Alice" <sip:{from_tn}@ims.example;user=phone>;tag={tag}',
        f"To: <sip:{to_tn}@ims.example;user=phone>",
        f"Call-ID: {call_id}",
        f"CSeq: 1 {method}",
        f"Contact: <sip:{from_tn}@{HOST}:{port}>",
    ]
    lines += headers
    lines += ["Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode()


def udp_socket(port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, port))
    return s


def ping(args):
    s = udp_socket()
    deadline = time.monotonic() + args.timeout
    msg = request("OPTIONS", s.getsockname()[1], "+10000000000", "+10000000000", [])
    while time.monotonic() < deadline:
        s.sendto(msg, (HOST, args.proxy))
        s.settimeout(0.2)
        try:
            data, _ = s.recvfrom(65535)
            if data.startswith(b"SIP/2.0 2"):
                return 0
        except (socket.timeout, ConnectionRefusedError):
            pass
    print(f"sip_udp.py: no answer to OPTIONS from {HOST}:{args.proxy}", file=sys.stderr)
    return 1


def invite(args):
    listener = udp_socket(args.listen)
    sender = udp_socket()
    sender.sendto(
        request("INVITE", sender.getsockname()[1], args.from_tn, args.to_tn, args.header),
        (HOST, args.proxy),
    )
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        listener.settimeout(0.1)
        try:
            data, _ = listener.recvfrom(65535)
            with open(args.out, "wb") as f:
                f.write(data)
            return 0
        except socket.timeout:
            pass
        sender.settimeout(0.01)
        try:
            data, _ = sender.recvfrom(65535)
            first = data.split(b"\r\n", 1)[0].decode(errors="replace")
            if not first.startswith("SIP/2.0 1"):
                print(f"sip_udp.py: the proxy answered instead: {first}", file=sys.stderr)
                return 1
        except (socket.timeout, ConnectionRefusedError):
            pass
    print(f"sip_udp.py: nothing forwarded to {HOST}:{args.listen}", file=sys.stderr)
    return 1


def main():
    p = argparse.ArgumentParser(prog="sip_udp.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("ping")
    pp.add_argument("--proxy", type=int, required=True)
    pp.add_argument("--timeout", type=float, default=10)
    pi = sub.add_parser("invite")
    pi.add_argument("--proxy", type=int, required=True)
    pi.add_argument("--listen", type=int, required=True)
    pi.add_argument("--from-tn", required=True)
    pi.add_argument("--to-tn", required=True)
    pi.add_argument("--out", required=True)
    pi.add_argument("--header", action="append", default=[])
    pi.add_argument("--timeout", type=float, default=5)
    args = p.parse_args()
    return ping(args) if args.cmd == "ping" else invite(args)


if __name__ == "__main__":
    sys.exit(main())
