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
  spoof-first  UDP: first an answer with another ID, one to another
             question, and garbage, then the right answer (NOERROR, AA,
             no records); TCP: the right answer
  wrongid-flood  UDP: ten answers with other IDs for every query
  drip       UDP: TC set; TCP: the right answer, one byte a second
  bigttl     NOERROR, AA, with a TLSA record at the name asked for and
             the SOA (authority section for other types), all with TTL
             2147483647 (2^31-1); TTL 4294967295 when SECONDS is given
             as e.g. 30:top (the top bit set); AD set (for a resolver)
Stops by itself after SECONDS (default 30).  Loopback only.

With BADDNS_TSIG=NAME:BASE64 (an hmac-sha256 key) in the environment,
the answer to a query signed with that key is signed too (RFC 8945), in
every mode; with BADDNS_TSIG_ONLY=1 as well, unsigned queries get
REFUSED (a hidden primary that answers only those who hold the key).
"""
import base64
import hashlib
import hmac
import os
import select
import socket
import struct
import sys
import time


def wire_name(name):
    out = b""
    for label in name.strip(".").lower().split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def skip_name(msg, pos):
    while pos < len(msg):
        n = msg[pos]
        if n == 0:
            return pos + 1
        if n & 0xc0 == 0xc0:
            return pos + 2
        pos += 1 + n
    return pos


def query_mac(query):
    """The MAC of the query's TSIG RR (the last additional record), or None."""
    try:
        qd, an, ns, ar = struct.unpack("!HHHH", query[4:12])
        pos = 12
        for _ in range(qd):
            pos = skip_name(query, pos) + 4
        last = None
        for _ in range(an + ns + ar):
            pos = skip_name(query, pos)
            rtype, _, _, rdlen = struct.unpack("!HHIH", query[pos:pos + 10])
            last = (rtype, query[pos + 10:pos + 10 + rdlen])
            pos += 10 + rdlen
        if last is None or last[0] != 250:
            return None
        rd = last[1]
        p = skip_name(rd, 0) + 8
        size = struct.unpack("!H", rd[p:p + 2])[0]
        return rd[p + 2:p + 2 + size]
    except (struct.error, IndexError):
        return None


def tsig_sign(msg, reqmac, keyname, secret):
    alg = wire_name("hmac-sha256")
    now = int(time.time())
    t6 = struct.pack("!HI", now >> 32, now & 0xffffffff)
    tv = wire_name(keyname) + struct.pack("!HI", 255, 0) + alg + t6 + \
        struct.pack("!HHH", 300, 0, 0)
    mac = hmac.new(secret, struct.pack("!H", len(reqmac)) + reqmac + msg + tv,
                   hashlib.sha256).digest()
    rdata = alg + t6 + struct.pack("!HH", 300, len(mac)) + mac + msg[:2] + \
        struct.pack("!HH", 0, 0)
    rr = wire_name(keyname) + struct.pack("!HHIH", 250, 255, 0, len(rdata)) + rdata
    arcount = struct.unpack("!H", msg[10:12])[0] + 1
    return msg[:10] + struct.pack("!H", arcount) + msg[12:] + rr


TSIG = os.environ.get("BADDNS_TSIG")
TSIG_ONLY = os.environ.get("BADDNS_TSIG_ONLY") == "1"


def finish(query, a):
    """Sign a for a signed query (or refuse an unsigned one)."""
    if TSIG is None or a is None or len(a) < 12 or len(query) < 12:
        return a
    reqmac = query_mac(query)
    if reqmac is None:
        if TSIG_ONLY:
            return struct.pack("!H", struct.unpack("!H", query[:2])[0]) + \
                b"\x84\x05" + a[4:6] + b"\x00\x00\x00\x00\x00\x00" + \
                query[12:name_end(query) + 5]
        return a
    name, b64 = TSIG.split(":", 1)
    return tsig_sign(a, reqmac, name, base64.b64decode(b64))


def name_end(query):
    pos = 12
    while pos < len(query) and query[pos] != 0:
        pos += 1 + query[pos]
    return pos


def bigttl(query, ttl):
    qid = struct.unpack("!H", query[:2])[0]
    pos = name_end(query)
    question = query[12:pos + 5]
    qtype = struct.unpack("!H", query[pos + 1:pos + 3])[0] if pos + 3 <= len(query) else 0
    # SOA rdata: mname, rname (the root), serial, refresh, retry, expire, minimum
    soa = b"\x00\x00" + struct.pack("!IIIII", 1, 3600, 600, 86400, ttl)
    soa_rr = b"\xc0\x0c" + struct.pack("!HHIH", 6, 1, ttl, len(soa)) + soa
    if qtype == 52:
        data = bytes([3, 1, 1]) + bytes(32)
        rr = b"\xc0\x0c" + struct.pack("!HHIH", 52, 1, ttl, len(data)) + data
        return struct.pack("!HHHHHH", qid, 0x8420, 1, 1, 0, 0) + question + rr
    if qtype == 6:
        return struct.pack("!HHHHHH", qid, 0x8420, 1, 1, 0, 0) + question + soa_rr
    return struct.pack("!HHHHHH", qid, 0x8420, 1, 0, 1, 0) + question + soa_rr


def good(query):
    qid = struct.unpack("!H", query[:2])[0]
    question = query[12:name_end(query) + 5]
    return struct.pack("!HHHHHH", qid, 0x8400, 1, 0, 0, 0) + question


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
    if mode in ("spoof-first", "drip"):
        return good(query)
    if mode.startswith("bigttl"):
        return bigttl(query, 4294967295 if mode.endswith(":top") else 2147483647)
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
    arg = sys.argv[4] if len(sys.argv) > 4 else "30"
    if arg.endswith(":top"):
        mode += ":top"
        arg = arg[:-4]
    seconds = float(arg)
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
            if len(q) >= 12 and mode == "spoof-first":
                qid = struct.unpack("!H", q[:2])[0] ^ 0x5a5a
                u.sendto(struct.pack("!H", qid) + good(q)[2:], peer)
                u.sendto(answer(q, "otherquestion", False), peer)
                u.sendto(os.urandom(40), peer)
            if len(q) >= 12 and mode == "wrongid-flood":
                for i in range(10):
                    a = answer(q, "wrongid", False)
                    u.sendto(struct.pack("!H", (struct.unpack("!H", q[:2])[0] + 1 + i) & 0xffff) + a[2:], peer)
                continue
            if len(q) >= 12 and mode == "drip":
                u.sendto(struct.pack("!H", struct.unpack("!H", q[:2])[0]) + b"\x86\x00" + good(q)[4:], peer)
                continue
            a = finish(q, answer(q, mode, False))
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
                    a = finish(q, answer(q, mode, True))
                    if a and mode == "drip":
                        for b in struct.pack("!H", len(a)) + a:
                            if time.monotonic() >= deadline:
                                break
                            c.sendall(bytes([b]))
                            time.sleep(1)
                    elif a:
                        c.sendall(struct.pack("!H", len(a)) + a)
                    elif a is None and mode == "silent":
                        time.sleep(min(5, max(0, deadline - time.monotonic())))
            except OSError:
                pass
            c.close()


if __name__ == "__main__":
    main()
