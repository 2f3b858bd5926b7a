#!/usr/bin/python3
"""baddns.py ADDR PORT MODE [SECONDS]: a DNS server that misbehaves, for tests.

Modes (UDP and TCP alike, unless said):
  silent     never answers
  garbage    answers random bytes
  wrongid    a well-formed answer with another message ID
  truncated  UDP: an empty answer with TC set; TCP: closes at once
  noaa       NOERROR, no records, AA clear
  short      a header cut in the middle
  refused    REFUSED, AA set
  servfail   SERVFAIL, AA set
  notauth    NOTAUTH, AA set
  qr-clear   a well-formed answer with the QR bit clear
  otherquestion  an answer to another question (example.invalid. A)
  empty      UDP: a zero-length datagram; TCP: closes at once
Stops by itself after SECONDS (default 30).  Loopback only.
"""
import os
import select
import socket
import struct
import sys
import time


def answer(query, mode, tcp):
    if len(query) < 12:
        return None
    qid = struct.unpack("!H", query[:2])[0]
    # Echo the question section as it came.
    pos, end = 12, len(query)
    while pos < end and query[pos] != 0:
        pos += 1 + query[pos]
    question = query[12:pos + 5]
    if mode == "silent":
        return None
    if mode == "garbage":
        return os.urandom(40)
    if mode == "short":
        return query[:7]
    if mode == "empty":
        return b""
    if mode == "otherquestion":
        other = b"\x07example\x07invalid\x00\x00\x01\x00\x01"
        return struct.pack("!HHHHHH", qid, 0x8400, 1, 0, 0, 0) + other
    if mode == "wrongid":
        qid ^= 0x5a5a
        flags = 0x8400
    elif mode == "truncated":
        if tcp:
            return b""
        flags = 0x8600
    elif mode == "noaa":
        flags = 0x8000
    elif mode == "refused":
        flags = 0x8405
    elif mode == "servfail":
        flags = 0x8402
    elif mode == "notauth":
        flags = 0x8409
    elif mode == "qr-clear":
        flags = 0x0400
    else:
        return None
    return struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 0) + question


def main():
    addr, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 30.0
    if not addr.startswith("127.") and addr != "::1":
        sys.exit("baddns: loopback addresses only")
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    u = socket.socket(fam, socket.SOCK_DGRAM)
    t = socket.socket(fam, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    u.bind((addr, port))
    t.bind((addr, port))
    t.listen(16)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        r, _, _ = select.select([u, t], [], [], 0.2)
        if u in r:
            q, peer = u.recvfrom(65535)
            a = answer(q, mode, False)
            if a is not None:
                u.sendto(a, peer)
        if t in r:
            c, _ = t.accept()
            c.settimeout(2)
            try:
                hdr = c.recv(2)
                if len(hdr) == 2:
                    n = struct.unpack("!H", hdr)[0]
                    q = b""
                    while len(q) < n:
                        chunk = c.recv(n - len(q))
                        if not chunk:
                            break
                        q += chunk
                    a = answer(q, mode, True)
                    if a:
                        c.sendall(struct.pack("!H", len(a)) + a)
                    elif a is None and mode == "silent":
                        time.sleep(min(5, max(0, deadline - time.monotonic())))
            except OSError:
                pass
            c.close()


if __name__ == "__main__":
    main()
