#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_fleet (tests/fuzz/corpus/fuzz_fleet/).

    python3 tests/fuzz/make-fleet-corpus.py

A second, independent encoder of the fleet metadata record (fs/fleet.h,
docs/fleet.md): 72 bytes, little endian: "GCFM", u16 version 1, u16 flags 0,
u64 length, u32 chunk size, u32 chunks, u64 published ms, 8-byte
publication id, SHA-256 of the blob. Each seed is one mode byte (see
fuzz_fleet.c) followed by the metadata and the blob.
"""
import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "fuzz_fleet")


def meta(blob, cs=1024, chunks=None, version=1, flags=0, magic=b"GCFM"):
    n = len(blob)
    if chunks is None:
        chunks = (n + cs - 1) // cs
    return (magic + struct.pack("<HHQIIQ", version, flags, n, cs, chunks, 1700000000123)
            + bytes.fromhex("0123456789abcdef") + hashlib.sha256(blob).digest())


def main():
    os.makedirs(OUT, exist_ok=True)
    blob = bytes(range(256)) * 9  # 2304 bytes: 3 chunks of 1024
    seeds = {
        "valid": b"\0" + meta(blob) + blob,
        "valid-empty": b"\0" + meta(b""),
        "meta-only": b"\4" + meta(blob),
        "reseal": b"\1" + b"\3" * 72 + blob,
        "reseal-corrupt": b"\3" + b"\5" * 72 + blob,
        "short-blob": b"\0" + meta(blob) + blob[:-1],
        "bad-sum": b"\0" + meta(blob[::-1]) + blob,
        "bad-chunks": b"\4" + meta(blob, chunks=4),
        "bad-version": b"\4" + meta(blob, version=2),
        "bad-flags": b"\4" + meta(blob, flags=1),
        "bad-magic": b"\4" + meta(blob, magic=b"GCFX"),
        "tiny-chunk": b"\4" + meta(blob, cs=512),
        "truncated": b"\4" + meta(blob)[:40],
    }
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
