#!/usr/bin/env python3
"""Checks rfc5769.data with Python's hmac and zlib (independent of the SDK's code):
MESSAGE-INTEGRITY is HMAC-SHA1 over the message up to the attribute, with the header length
counting up to the end of MESSAGE-INTEGRITY; FINGERPRINT is CRC-32 over everything before
it, XOR 0x5354554e, with the length counting the whole message. Exit 0 when all hold."""
import hmac, hashlib, os, sys, zlib

PASSWORD = b"VOkJxbRl1RmTxUk/WvJxBt"
ok = True
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "rfc5769.data")) as f:
    for line in f:
        if not line.strip() or line.startswith("#"):
            continue
        name, head, tail = line.split()
        msg = bytes.fromhex(head + tail)
        mi_at = len(bytes.fromhex(head))           # start of the HMAC value
        fp_at = len(msg) - 8                       # start of the FINGERPRINT attribute
        covered = bytearray(msg[:mi_at - 4])
        covered[2:4] = mi_at.to_bytes(2, "big")  # length: up to the end of MI
        mac = hmac.new(PASSWORD, bytes(covered), hashlib.sha1).digest()
        crc = (zlib.crc32(msg[:fp_at]) ^ 0x5354554E) & 0xFFFFFFFF
        good = mac == msg[mi_at:mi_at + 20] and crc.to_bytes(4, "big") == msg[-4:]
        good = good and int.from_bytes(msg[2:4], "big") == len(msg) - 20
        print(f"{name}: {'ok' if good else 'MISMATCH'}")
        ok = ok and good
sys.exit(0 if ok else 1)
