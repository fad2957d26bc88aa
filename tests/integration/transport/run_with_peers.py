#!/usr/bin/python3
"""Runs a test program against the loopback peers of peers.py.

  run_with_peers.py --make-ca PATH --workdir DIR -- PROGRAM [ARGS...]

Makes the test PKI in DIR with tests/labnet/ca/make-ca.sh (openssl directly when that
script is missing), starts peers.py, waits for its ports, runs PROGRAM with the
IMSDC_TP_* environment variables below, stops the peers and exits with PROGRAM's status.

  IMSDC_TP_CA           trusted root (PEM)         IMSDC_TP_OTHER_CA  the other root
  IMSDC_TP_CLIENT_CERT  client certificate (mTLS)  IMSDC_TP_CLIENT_KEY its key
  IMSDC_TP_PIN          SHA-256 of the trusted server's SPKI, hex (computed by openssl)
  IMSDC_TP_ORIGIN       the Origin the wss peer accepts
  IMSDC_TP_PORT_<NAME>  each peer's port (WSS, WSS_NOECHO, WSS_OTHER, BLACKHOLE, HTTPS,
                        HTTPS_MTLS) and CLOSED, a port nothing listens on
"""
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time

ORIGIN = "https://wwsf.imsdc.test"


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def make_pki_with_script(script, d):
    run(script, "init", d)
    run(script, "server", d, "localhost", os.path.join(d, "server"))
    run(script, "server", d, "localhost", os.path.join(d, "other-server"), "--ca", "other")
    run(script, "device", d, "sip:alice@ims.imsdc.test", os.path.join(d, "client"))
    return {
        "ca": os.path.join(d, "root.pem"), "other_ca": os.path.join(d, "other-root.pem"),
        "cert": os.path.join(d, "server.pem"), "key": os.path.join(d, "server-key.pem"),
        "other_cert": os.path.join(d, "other-server.pem"),
        "other_key": os.path.join(d, "other-server-key.pem"),
        "client_cert": os.path.join(d, "client.pem"), "client_key": os.path.join(d, "client-key.pem"),
    }


def make_pki_with_openssl(d):
    def key(path):
        run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-out", path)

    def root(name, cn):
        key(f"{d}/{name}-key.pem")
        run("openssl", "req", "-x509", "-new", "-key", f"{d}/{name}-key.pem", "-subj", f"/CN={cn}",
            "-days", "3650", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", f"{d}/{name}.pem")

    def leaf(name, ca, cn, san):
        key(f"{d}/{name}-key.pem")
        run("openssl", "req", "-new", "-key", f"{d}/{name}-key.pem", "-subj", f"/CN={cn}",
            "-out", f"{d}/{name}.csr")
        ext = f"{d}/{name}.ext"
        with open(ext, "w") as f:
            f.write(f"basicConstraints=CA:FALSE\nsubjectAltName={san}\n"
                    "extendedKeyUsage=serverAuth,clientAuth\n")
        run("openssl", "x509", "-req", "-in", f"{d}/{name}.csr", "-CA", f"{d}/{ca}.pem",
            "-CAkey", f"{d}/{ca}-key.pem", "-CAcreateserial", "-days", "30", "-extfile", ext,
            "-out", f"{d}/{name}.pem")

    root("root", "imsdc transport test root")
    root("other-root", "imsdc transport other root")
    leaf("server", "root", "localhost", "DNS:localhost")
    leaf("other-server", "other-root", "localhost", "DNS:localhost")
    leaf("client", "root", "alice", "URI:sip:alice@ims.imsdc.test")
    return make_pki_paths(d)


def make_pki_paths(d):
    return {
        "ca": f"{d}/root.pem", "other_ca": f"{d}/other-root.pem",
        "cert": f"{d}/server.pem", "key": f"{d}/server-key.pem",
        "other_cert": f"{d}/other-server.pem", "other_key": f"{d}/other-server-key.pem",
        "client_cert": f"{d}/client.pem", "client_key": f"{d}/client-key.pem",
    }


def spki_sha256(cert):
    pub = run("openssl", "x509", "-in", cert, "-pubkey", "-noout").stdout
    der = run("openssl", "pkey", "-pubin", "-outform", "DER", input=pub).stdout
    return hashlib.sha256(der).hexdigest()


def closed_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    argv = sys.argv[1:]
    if "--" not in argv:
        print(__doc__, file=sys.stderr)
        return 2
    sep = argv.index("--")
    opts, program = argv[:sep], argv[sep + 1:]
    make_ca = opts[opts.index("--make-ca") + 1] if "--make-ca" in opts else ""
    workdir = os.path.abspath(opts[opts.index("--workdir") + 1])
    os.makedirs(workdir, exist_ok=True)
    pki_dir = os.path.join(workdir, "pki")
    os.makedirs(pki_dir, exist_ok=True)

    try:
        if make_ca and os.access(make_ca, os.X_OK):
            pki = make_pki_with_script(make_ca, pki_dir)
        else:
            print("run_with_peers: make-ca.sh missing, using openssl directly", file=sys.stderr)
            pki = make_pki_with_openssl(pki_dir)
    except subprocess.CalledProcessError as e:
        print(f"run_with_peers: PKI setup failed: {e.cmd}\n{e.stderr.decode()}", file=sys.stderr)
        return 1

    ports_file = os.path.join(workdir, "ports.json")
    if os.path.exists(ports_file):
        os.unlink(ports_file)
    here = os.path.dirname(os.path.abspath(__file__))
    peers = subprocess.Popen(
        ["/usr/bin/python3", os.path.join(here, "peers.py"), "--cert", pki["cert"], "--key",
         pki["key"], "--other-cert", pki["other_cert"], "--other-key", pki["other_key"], "--ca",
         pki["ca"], "--origin", ORIGIN, "--ports-file", ports_file, "--lifetime", "900"])
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(ports_file):
            if peers.poll() is not None or time.monotonic() > deadline:
                print("run_with_peers: peers.py did not start", file=sys.stderr)
                return 1
            time.sleep(0.05)
        with open(ports_file) as f:
            ports = json.load(f)
        env = dict(os.environ)
        env.update({
            "IMSDC_TP_CA": pki["ca"], "IMSDC_TP_OTHER_CA": pki["other_ca"],
            "IMSDC_TP_CLIENT_CERT": pki["client_cert"], "IMSDC_TP_CLIENT_KEY": pki["client_key"],
            "IMSDC_TP_PIN": spki_sha256(pki["cert"]), "IMSDC_TP_ORIGIN": ORIGIN,
            "IMSDC_TP_PORT_CLOSED": str(closed_port()),
        })
        for name, port in ports.items():
            env["IMSDC_TP_PORT_" + name.upper()] = str(port)
        return subprocess.call(program, env=env)
    finally:
        peers.send_signal(signal.SIGTERM)
        try:
            peers.wait(timeout=5)
        except subprocess.TimeoutExpired:
            peers.kill()
            peers.wait()


if __name__ == "__main__":
    sys.exit(main())
