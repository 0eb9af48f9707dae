"""The messages between the grader and a submission's process: a JSON header, a newline, then a binary payload
(``torch.save`` bytes or nothing); each reply is sealed with a keyed hash of its request's number.

The key reaches the submission's process before any submitted code runs and lives only in the request loop, so the
submission can write to its end of the pipe but cannot forge, replay or reorder a reply.
"""
from __future__ import annotations

import hashlib
import json
import os

__all__ = ["pack", "unpack", "seal", "unseal", "raw_channel", "TAG_SIZE"]

TAG_SIZE = 16


def pack(header: dict, payload: bytes = b"") -> bytes:
    """``header`` as one line of JSON, then ``payload``."""
    return json.dumps(header).encode() + b"\n" + payload


def unpack(message: bytes) -> tuple[dict, bytes]:
    """The ``(header, payload)`` of a :func:`pack` message; ``ValueError`` when it is not one."""
    line, newline, payload = message.partition(b"\n")
    header = json.loads(line) if newline else None
    if not isinstance(header, dict):
        raise ValueError("not a message")
    return header, payload


def _tag(key: bytes, seq: int, body: bytes, blake2b=hashlib.blake2b) -> bytes:
    return blake2b(seq.to_bytes(8, "big") + body, key=key, digest_size=TAG_SIZE).digest()


def seal(key: bytes, seq: int, body: bytes) -> bytes:
    """``body`` preceded by its tag for request number ``seq``."""
    return _tag(key, seq, body) + body


def unseal(key: bytes, seq: int, message: bytes) -> bytes:
    """The body of a :func:`seal` message for request ``seq``; ``ValueError`` when the tag does not match."""
    import hmac

    body = message[TAG_SIZE:]
    if len(message) < TAG_SIZE or not hmac.compare_digest(message[:TAG_SIZE], _tag(key, seq, body)):
        raise ValueError("a reply that the submission's process did not send as a reply")
    return body


def raw_channel(fd: int, read=os.read, write=os.write, blake2b=hashlib.blake2b, len=len, int=int,
                memoryview=memoryview, EOFError=EOFError, tag_size=TAG_SIZE):
    """``(recv, send)`` closures over the pipe ``fd`` in ``multiprocessing.Connection``'s framing (a 4-byte
    big-endian length, then the bytes), for the submission's process.

    Everything they call is bound here, when the function is called (before any submitted code runs): patching
    ``os``, ``hashlib`` or this module later changes nothing. ``send(seq, body, key)`` seals ``body``.
    """

    def read_exactly(n):
        chunks, got = [], 0
        while got < n:
            chunk = read(fd, n - got)
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def recv():
        return read_exactly(int.from_bytes(read_exactly(4), "big", signed=True))

    def send(seq, body, key):
        tag = blake2b(seq.to_bytes(8, "big") + body, key=key, digest_size=tag_size).digest()
        data = memoryview(len(tag + body).to_bytes(4, "big", signed=True) + tag + body)
        while len(data):
            data = data[write(fd, data):]

    return recv, send
