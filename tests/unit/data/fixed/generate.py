#!/usr/bin/env python3
"""Generates the fixed test vectors of tests/unit/data/fixed ONCE, with implementations
independent of imsdc and mbedTLS: Python `cryptography` for keys and certificates, jose (npm,
tests/interop/node_modules) for the JWS, JWE and PASSporTs. The outputs are committed; the
host tests (tests/unit) and the on-target tests (tests/target) read the same files, so both
check the SDK against the same bytes. ECDSA and ECDH-ES are randomized: running this again
gives different (equally valid) files, and the tests do not depend on anything but their
validity. Times are fixed (tests/unit/vectors/fixed_vectors.h names them).

usage: python3 tests/unit/data/fixed/generate.py   (from the repository root)
"""
import base64, datetime, json, os, subprocess, sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(ROOT, "../../../.."))
INTEROP = os.path.join(REPO, "tests/interop")
IMPU = "sip:alice@ims.example.org"
AVATAR_NOW = 1767225600  # 2026-01-01, ports/fake's default wall clock
IDENTITY_NOW = 1800000000  # 2027-01-15, the host identity tests' clock
JTI = "q1w2e3r4t5y6u7i8o9p0aQ"


def t(y, m, d):
    return datetime.datetime(y, m, d, tzinfo=datetime.timezone.utc)


def write(name, data):
    with open(os.path.join(ROOT, name), "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)


def key():
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(k):
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption())


def cert(subject_cn, subject_key, issuer_cn, issuer_key, nb, na, ca, uri=None, dns=None):
    b = (x509.CertificateBuilder()
         .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)]))
         .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_cn)]))
         .public_key(subject_key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(nb).not_valid_after(na)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                          False), critical=True)
    sans = ([x509.UniformResourceIdentifier(uri)] if uri else []) + \
        ([x509.DNSName(dns)] if dns else [])
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def pem(c):
    return c.public_bytes(serialization.Encoding.PEM).decode()


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwk(k, private):
    n = k.public_key().public_numbers()
    j = {"kty": "EC", "crv": "P-256", "x": b64u(n.x.to_bytes(32, "big")),
         "y": b64u(n.y.to_bytes(32, "big"))}
    if private:
        j["d"] = b64u(k.private_numbers().private_value.to_bytes(32, "big"))
    return j


def node(script, *args, stdin=None):
    return subprocess.run(["node", os.path.join(INTEROP, script), *args], check=True,
                          capture_output=True, text=True, input=stdin).stdout.strip()


def main():
    # Avatar / crypto PKI: root -> intermediate -> leaf (URI SAN = IMPU) and the avatar signer.
    root_k, inter_k, leaf_k, signer_k, other_k = key(), key(), key(), key(), key()
    root = cert("Test Root", root_k, "Test Root", root_k, t(2025, 1, 1), t(2035, 1, 1), True)
    inter = cert("Test Intermediate", inter_k, "Test Root", root_k, t(2025, 1, 1), t(2030, 1, 1),
                 True)
    leaf = cert("alice", leaf_k, "Test Intermediate", inter_k, t(2025, 6, 1), t(2026, 12, 31),
                False, uri=IMPU, dns="localhost")
    signer = cert("Avatar Signer", signer_k, "Test Intermediate", inter_k, t(2025, 6, 1),
                  t(2026, 12, 31), False, uri="https://avatars.example.org/signer")
    # Same name as the real root, another key: a root that must not be trusted.
    other = cert("Test Root", other_k, "Test Root", other_k, t(2025, 1, 1), t(2035, 1, 1), True)
    write("root.pem", pem(root))
    write("inter.pem", pem(inter))
    write("leaf.pem", pem(leaf))
    write("other_root.pem", pem(other))
    write("signer.pem", pem(signer))
    leaf_key_file = os.path.join(ROOT, ".leaf_key.pem")
    signer_key_file = os.path.join(ROOT, ".signer_key.pem")
    with open(leaf_key_file, "wb") as f:
        f.write(key_pem(leaf_k))
    with open(signer_key_file, "wb") as f:
        f.write(key_pem(signer_k))

    # Ephemeral key of the UE, its attestation, the representation and the BAR's JWE.
    eph = key()
    write("ephemeral_private.jwk", json.dumps(jwk(eph, True)) + "\n")
    rep = bytes(((i * 131) ^ (i >> 8)) & 0xFF for i in range(10000))
    write("rep.glb", rep)
    claims = {"iss": IMPU, "avatar_id": "av-1", "dc_as": "dcas.ims.example.org",
              "aud": "bar.ims.example.org", "rendering": "sending-ue",
              "epk": jwk(eph, False), "iat": AVATAR_NOW, "exp": AVATAR_NOW + 60, "jti": JTI}
    chain_file = os.path.join(ROOT, "inter.pem")
    for name, c in (("attestation.jws", claims),
                    ("attestation_wrong_iss.jws", dict(claims, iss="sip:mallory@ims.example.org"))):
        write(name, node("jws-sign.mjs", "--key", leaf_key_file, "--cert",
                         os.path.join(ROOT, "leaf.pem"), "--chain", chain_file, "--claims", "-",
                         "--typ", "avatar-attestation+jwt", stdin=json.dumps(c)) + "\n")
    rep_file = os.path.join(ROOT, "rep.glb")
    subprocess.run(["node", os.path.join(INTEROP, "jwe-encrypt.mjs"), "--epk-jwk",
                    json.dumps(jwk(eph, False)), "--apv-jti", JTI, "--cty", "model/gltf-binary",
                    "--in", rep_file, "--out", os.path.join(ROOT, "rep.jwe")], check=True)
    import hashlib
    manifest = {"avatar_id": "av-1",
                "digest": "sha256-" + base64.b64encode(hashlib.sha256(rep).digest()).decode(),
                "size": len(rep), "cty": "model/gltf-binary", "iat": AVATAR_NOW,
                "exp": AVATAR_NOW + 3600}
    write("manifest.jws", node("jws-sign.mjs", "--key", signer_key_file, "--cert",
                               os.path.join(ROOT, "signer.pem"), "--chain", chain_file,
                               "--claims", "-", "--typ", "avatar-manifest+jwt",
                               stdin=json.dumps(manifest)) + "\n")

    # STI PKI and PASSporTs (x5u https://cert.example/sti.pem serves sti_leaf.pem).
    sroot_k, sleaf_k = key(), key()
    sroot = cert("STI Test Root", sroot_k, "STI Test Root", sroot_k, t(2025, 1, 1), t(2035, 1, 1),
                 True)
    sleaf = cert("SHAKEN 1234", sleaf_k, "STI Test Root", sroot_k, t(2025, 1, 1), t(2030, 1, 1),
                 False)
    write("sti_root.pem", pem(sroot))
    write("sti_leaf.pem", pem(sleaf))
    sti_key_file = os.path.join(ROOT, ".sti_key.pem")
    with open(sti_key_file, "wb") as f:
        f.write(key_pem(sleaf_k))
    base = {"dest": {"tn": ["15552220002"]}, "iat": IDENTITY_NOW, "orig": {"tn": "15551110001"}}
    claims_file = os.path.join(ROOT, ".claims.json")
    for name, ppt, extra in (
            ("shaken.jws", "shaken", {"attest": "A", "origid": "0f770851-0265-49e5-92c2-bfb04d2b984c"}),
            ("rcd.jws", "rcd", {"rcd": {"nam": "Alice", "jcd": [
                "vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "Alice Ltd"],
                          ["org", {}, "text", "Example Org"]]]}, "crn": "Lunch"})):
        with open(claims_file, "w") as f:
            json.dump(dict(base, **extra), f)
        write(name, node("rcd-sign.mjs", "--key", sti_key_file, "--x5u",
                         "https://cert.example/sti.pem", "--claims", claims_file, "--ppt", ppt)
              + "\n")
    # Private keys of the CAs and signers are not kept: nothing can sign new vectors later.
    for f in (leaf_key_file, signer_key_file, sti_key_file, claims_file):
        os.remove(f)


if __name__ == "__main__":
    sys.exit(main())
