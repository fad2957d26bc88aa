#!/usr/bin/python3
"""Writes a test avatar representation: a glTF 2.0 binary container (model/gltf-binary).

  make-glb.py OUT --name AVATAR_ID --size BYTES

The file is a well-formed GLB (12-byte header, a JSON chunk, a BIN chunk) of exactly BYTES
bytes whose buffer holds deterministic pseudo-random bytes (SHAKE-256 of the avatar ID), so
every run makes the same file and a changed byte anywhere shows. It is test data, not a
model a viewer would draw.
"""
import argparse
import hashlib
import json
import os
import struct
import sys

MAGIC, VERSION = 0x46546C67, 2  # "glTF"
CHUNK_JSON, CHUNK_BIN = 0x4E4F534A, 0x004E4942


def build(name, size):
    def with_json(bin_len):
        doc = {"asset": {"version": "2.0", "generator": "imsdc labnet demo (test avatar)"},
               "buffers": [{"byteLength": bin_len}], "extras": {"avatar_id": name}}
        js = json.dumps(doc, separators=(",", ":")).encode()
        return js + b" " * (-len(js) % 4)

    # The JSON chunk's length depends (a little) on the buffer length: converge.
    bin_len = size - 12 - 8 - 8 - len(with_json(size))
    for _ in range(4):
        js = with_json(bin_len)
        want = size - 12 - 8 - len(js) - 8
        if want == bin_len:
            break
        bin_len = want
    if bin_len < 0 or bin_len % 4:
        raise ValueError("size %d cannot be laid out (use a multiple of 4, >= 256)" % size)
    data = hashlib.shake_256(name.encode()).digest(bin_len)
    out = struct.pack("<III", MAGIC, VERSION, size)
    out += struct.pack("<II", len(js), CHUNK_JSON) + js
    out += struct.pack("<II", bin_len, CHUNK_BIN) + data
    assert len(out) == size
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out")
    p.add_argument("--name", required=True)
    p.add_argument("--size", type=int, required=True)
    a = p.parse_args()
    try:
        blob = build(a.name, a.size)
        tmp = a.out + ".tmp"
        with open(tmp, "wb") as f:
            f.write(blob)
        os.replace(tmp, a.out)
    except (OSError, ValueError) as e:
        sys.stderr.write("make-glb.py: %s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
