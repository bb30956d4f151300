#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_snapfile (tests/fuzz/corpus/fuzz_snapfile/).

    python3 tests/fuzz/make-snapfile-corpus.py

It is also a second, independent encoder of docs/snapshot-format.md: the
fuzz target re-encodes every seed that decodes and requires the very same
bytes, so a seed made here that the C encoder writes differently fails.
Each seed is one mode byte (see fuzz_snapfile.c) followed by the bytes.
"""
import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "fuzz_snapfile")


def key(*fields):
    h = hashlib.sha256(b"gpucloudfs snapshot key v1\0")
    for f in fields:
        if f is None:
            h.update(b"\0" + struct.pack("<Q", 0))
        else:
            b = f.encode()
            h.update(b"\1" + struct.pack("<Q", len(b)) + b)
    return h.digest()


STORED, SOURCE, WHOLE, PRETTY, SCALAR = range(5)


def fnv(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
    return h


def encode(entries, kind=b"tasks", extra=b"", k=None, wall=1700000000, json_bytes=1234,
           wm=(1714552200, 2, 4), version=2):
    """entries: [(name, id, mtime, json or None, files)], all bytes; a file is
    (fname, data, hash) (kept bytes) or (fname, how, member, size, hash)."""
    k = k or key("tencent", "https://tione.tencentcloudapi.com", "ap-shanghai", "AKIDtest",
                 "tasks", None)
    names = sorted({f[0] for e in entries for f in e[4]})
    body = struct.pack("<I", len(names))
    strings = 0
    for n in names:
        body += struct.pack("<I", len(n)) + n + b"\0"
        strings += len(n) + 1
    nfiles = 0
    for name, oid, mtime, js, files in entries:
        body += struct.pack("<IIqII", len(name), len(oid), mtime, len(files), len(js or b""))
        body += name + b"\0" + oid + b"\0"
        strings += len(name) + len(oid) + 2
        if js:
            body += js + b"\0"
            strings += len(js) + 1
        for f in files:
            if len(f) == 3:
                fname, data, fh = f
                body += struct.pack("<IIIQ", names.index(fname), STORED << 28, len(data), fh)
                body += data + b"\0"
                strings += len(data) + 1
            else:
                fname, how, member, size, fh = f
                body += struct.pack("<IIIQ", names.index(fname), how << 28 | member, size, fh)
            nfiles += 1
    total = 128 + len(kind) + len(extra) + len(body) + 32
    hdr = b"GCFSNAP\0" + struct.pack("<IIQ", version, 128, total) + k
    hdr += struct.pack("<qQqQqQQQII", wall, json_bytes, wm[0], wm[1], wm[2], len(entries),
                       nfiles, strings, len(kind), len(extra))
    assert len(hdr) == 128
    data = hdr + kind + extra + body
    return data + hashlib.sha256(data).digest()


def put(name, mode, data):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(bytes([mode]) + data)


A_JSON = b'{\n\t"Id":\t"train-a",\n\t"Status":\t"STOPPED",\n\t"Q":\t[1, 2]\n}\n'
TASKS = [  # sorted: '%' < '-'
    (b"train%2Fc", b"train/c", 1714000001, None,
     [(b"info.json", b"{}\n", 13), (b"name", b"llama\n", 14), (b"z", b"", 0)]),
    (b"train-a", b"train-a", 1714000000, A_JSON,
     [(b"id", SCALAR, 0, 8, fnv(b"train-a\n")),
      (b"info.json", SOURCE, 0, len(A_JSON), fnv(A_JSON)),
      (b"q.json", PRETTY, 2, 7, fnv(b"[1, 2]\n")),
      (b"status", SCALAR, 1, 8, fnv(b"STOPPED\n")),
      (b"whole", WHOLE, 0, len(A_JSON), fnv(A_JSON)),
      (b"wrong", SCALAR, 1, 8, 12345)]),
    (b"train-b", b"", -5, None, []),
]

# decodable, with key check and meta (the canonical re-encode runs)
put("valid", 6, encode(TASKS))
put("valid-extra", 7, encode(TASKS, extra=b"\x00\xffwatermark"))
put("valid-empty", 6, encode([]))
put("valid-nometa", 2, encode(TASKS))
put("valid-binary-data", 6, encode([(b"x", b"1", 0, None, [(b"f", b"\0\1\2\0", 9)])]))
# refused before the records
put("truncated", 4, encode(TASKS)[:-7])
put("bad-magic", 4, b"GCFSNAQ" + encode(TASKS)[7:])
put("version-1", 4, encode(TASKS, version=1))
put("short", 4, b"GCFSNAP\0\1\0\0\0")
# lying records behind a good checksum (mode bit 0 reseals anyway)
put("unsorted", 5, encode(list(reversed(TASKS))))
put("slash", 5, encode([(b"a/b", b"", 0, None, [])]))
put("dup-files", 5, encode([(b"a", b"", 0, None, [(b"f", b"1", 0), (b"f", b"2", 0)])]))
put("empty-name", 5, encode([(b"", b"", 0, None, [])]))
print("wrote", len(os.listdir(OUT)), "seeds to", OUT)
