#!/usr/bin/python3
"""Test WWSF: mints ES256 bearer tokens for the labnet eP-CSCF (TR 33.871 trusted-node auth).

TEST NETWORK ONLY: the key pair it makes is a test key for the local reference network.

  wwsf-token.py --gen-key DIR
      Creates DIR/wwsf-key.pem (P-256 private key, mode 0600) and DIR/wwsf-pub.pem, unless both
      exist already. A different key (for "bad signature" tests) is simply another DIR.
  wwsf-token.py --key DIR/wwsf-key.pem --sub IMPI --impu AOR [--scope S] [--aud A]
                [--exp-in SECONDS] [--iss ISS] [--kid KID]
      Prints one compact JWS (header alg ES256, typ JWT). Claims: iss, sub (the IMPI from the
      WWSF's pool), impu, aud (the eP-CSCF id), scope, iat, exp = now + SECONDS (negative for an
      already expired token), jti.

Defaults: --scope webrtc-ims-client-access-to-ims, --aud pcscf.ims.example,
--iss https://wwsf.ims.example, --exp-in 3600. Exit 0 on success, 1 on failure, 2 on misuse.
"""
import argparse
import os
import sys
import time
import uuid

try:
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
except ImportError as e:  # pragma: no cover - environment check
    sys.stderr.write("wwsf-token.py: %s (install python3-jwt python3-cryptography; run with "
                     "/usr/bin/python3)\n" % e)
    sys.exit(1)

DEFAULT_SCOPE = "webrtc-ims-client-access-to-ims"
DEFAULT_AUD = "pcscf.ims.example"
DEFAULT_ISS = "https://wwsf.ims.example"


def gen_key(directory):
    os.makedirs(directory, exist_ok=True)
    priv_path = os.path.join(directory, "wwsf-key.pem")
    pub_path = os.path.join(directory, "wwsf-pub.pem")
    if os.path.exists(priv_path) and os.path.exists(pub_path):
        return
    key = ec.generate_private_key(ec.SECP256R1())
    priv = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    pub = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    fd = os.open(priv_path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(priv)
    with open(pub_path + ".tmp", "wb") as f:
        f.write(pub)
    os.replace(priv_path + ".tmp", priv_path)
    os.replace(pub_path + ".tmp", pub_path)


def mint(args):
    with open(args.key, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("%s is not a P-256 private key" % args.key)
    now = int(time.time())
    claims = {
        "iss": args.iss,
        "sub": args.sub,
        "impu": args.impu,
        "aud": args.aud,
        "scope": args.scope,
        "iat": now,
        "exp": now + args.exp_in,
        "jti": str(uuid.uuid4()),
    }
    headers = {"typ": "JWT"}
    if args.kid:
        headers["kid"] = args.kid
    return jwt.encode(claims, key, algorithm="ES256", headers=headers)


def main():
    p = argparse.ArgumentParser(description="Mint ES256 test tokens of the labnet WWSF.")
    p.add_argument("--gen-key", metavar="DIR", help="create DIR/wwsf-key.pem and DIR/wwsf-pub.pem")
    p.add_argument("--key", help="WWSF private key (PEM)")
    p.add_argument("--sub", help="IMPI (from the WWSF pool, e.g. user1@wwsf.ims.example)")
    p.add_argument("--impu", help="IMPU / AoR the token authorises, e.g. sip:user1@wwsf.ims.example")
    p.add_argument("--scope", default=DEFAULT_SCOPE)
    p.add_argument("--aud", default=DEFAULT_AUD)
    p.add_argument("--iss", default=DEFAULT_ISS)
    p.add_argument("--exp-in", type=int, default=3600, metavar="SECONDS",
                   help="lifetime from now; negative for an expired token")
    p.add_argument("--kid", default=None)
    args = p.parse_args()
    try:
        if args.gen_key:
            if args.key or args.sub or args.impu:
                p.error("--gen-key does not mint a token; give it alone")
            gen_key(args.gen_key)
            return 0
        missing = [n for n in ("key", "sub", "impu") if not getattr(args, n)]
        if missing:
            p.error("missing " + ", ".join("--" + n for n in missing))
        print(mint(args))
        return 0
    except (OSError, ValueError) as e:
        sys.stderr.write("wwsf-token.py: %s\n" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
