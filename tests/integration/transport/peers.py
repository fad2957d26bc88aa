#!/usr/bin/python3
"""Loopback peers for the transport integration tests (Debian's python3-websockets 10.4).

Started by run_with_peers.py. Listens on 127.0.0.1 only, on ports the kernel picks, and
writes them as JSON to --ports-file once every server is up. Runs until killed or until
--lifetime seconds pass, so a crashed runner never leaves it behind for long.

  wss          trusted certificate (DNS:localhost); selects subprotocol "sip"; answers 403
               when Origin is not --origin; echoes messages, and obeys text commands:
               "CMD origin" -> the Origin it saw, "CMD big N" -> N bytes of 'a',
               "CMD close" -> orderly close 1000, "CMD drop" -> TCP close without a frame
  wss_noecho   like wss but negotiates no subprotocol
  wss_other    certificate from a CA the client does not trust
  blackhole    accepts TCP connections and never speaks (connect timeout)
  https        /small, /big (1 MiB, Content-Length), /big-nolength (1 MiB, close-delimited),
               POST /echo
  https_mtls   requires a client certificate issued by --ca; /whoami -> the client's subject
"""
import argparse
import asyncio
import http
import http.server
import json
import os
import socket
import ssl
import threading

import websockets
import websockets.server

BIG = bytes(i % 251 for i in range(1 << 20))


def tls_server_context(cert, key, client_ca=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    if client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(client_ca)
    return ctx


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep test output readable
        pass

    def _send(self, status, body, ctype="application/octet-stream", length=True):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if length:
            self.send_header("Content-Length", str(len(body)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        # Several writes so the client sees the body in pieces.
        for at in range(0, len(body), 16384):
            self.wfile.write(body[at:at + 16384])
            self.wfile.flush()

    def do_GET(self):
        if self.path == "/small":
            self._send(200, b"hello imsdc", "text/plain")
        elif self.path == "/big":
            self._send(200, BIG)
        elif self.path == "/big-nolength":
            self._send(200, BIG, length=False)
        elif self.path == "/whoami":
            cert = self.connection.getpeercert()
            subject = dict(x[0] for x in cert.get("subject", ())) if cert else {}
            self._send(200, json.dumps(subject).encode(), "application/json")
        else:
            self._send(404, b"not found", "text/plain")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        if self.path == "/echo":
            self._send(200, body, self.headers.get("Content-Type", "application/octet-stream"))
        else:
            self._send(404, b"not found", "text/plain")


def start_https(ctx):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd.server_address[1]


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--other-cert", required=True)
    ap.add_argument("--other-key", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--origin", required=True)
    ap.add_argument("--ports-file", required=True)
    ap.add_argument("--lifetime", type=float, default=600)
    args = ap.parse_args()

    good = tls_server_context(args.cert, args.key)
    other = tls_server_context(args.other_cert, args.other_key)

    async def check_origin(path, headers):
        if headers.get("Origin") != args.origin:
            return (http.HTTPStatus.FORBIDDEN, [("Content-Type", "text/plain")], b"origin not allowed\n")
        return None

    async def handler(ws, path=None):
        origin = ws.request_headers.get("Origin", "")
        try:
            async for msg in ws:
                if isinstance(msg, str) and msg.startswith("CMD "):
                    cmd = msg[4:].split()
                    if cmd[0] == "origin":
                        await ws.send(origin)
                    elif cmd[0] == "big":
                        await ws.send("a" * int(cmd[1]))
                    elif cmd[0] == "close":
                        await ws.close(1000, "bye")
                        return
                    elif cmd[0] == "drop":
                        ws.transport.abort()
                        return
                else:
                    await ws.send(msg)
        except websockets.ConnectionClosed:
            pass

    common = dict(max_size=1 << 20, ping_interval=None)
    wss = await websockets.serve(handler, "127.0.0.1", 0, ssl=good, subprotocols=["sip"],
                                 process_request=check_origin, **common)
    wss_noecho = await websockets.serve(handler, "127.0.0.1", 0, ssl=good, **common)
    wss_other = await websockets.serve(handler, "127.0.0.1", 0, ssl=other,
                                       subprotocols=["sip"], **common)

    blackhole = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blackhole.bind(("127.0.0.1", 0))
    blackhole.listen(8)

    ports = {
        "wss": wss.sockets[0].getsockname()[1],
        "wss_noecho": wss_noecho.sockets[0].getsockname()[1],
        "wss_other": wss_other.sockets[0].getsockname()[1],
        "blackhole": blackhole.getsockname()[1],
        "https": start_https(good),
        "https_mtls": start_https(tls_server_context(args.cert, args.key, client_ca=args.ca)),
    }
    tmp = args.ports_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump(ports, f)
    os.replace(tmp, args.ports_file)
    await asyncio.sleep(args.lifetime)


if __name__ == "__main__":
    asyncio.run(main())
