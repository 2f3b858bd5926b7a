#!/usr/bin/python3
"""tests/lab/badsmtp.py: a misbehaving SMTP server for the lab.

    badsmtp.py [--lifetime S] [--ready FILE] [--cert FILE --key FILE] ADDR PORT MODE

Listens on ADDR:PORT (loopback only) and serves every connection in MODE:

  close                  accepts and closes at once
  silent                 accepts, never sends a byte
  trickle                "220 ..." one byte every 0.5 s, never a line end
  endless-banner         "220-" lines as fast as the client reads, forever
  slow-banner            one "220-" line every 0.2 s, forever
  long-line              "220 " and then "x" without a line end, forever
  binary-banner          a greeting of binary bytes (NUL, 0xff, ...)
  banner-5xx             "554" greeting
  ehlo-5xx               220, then 550 to EHLO
  ehlo-mixed             a multi-line EHLO reply whose code changes midway
  no-starttls            EHLO reply without STARTTLS
  starttls-4xx           STARTTLS offered, 454 to STARTTLS
  close-after-starttls   220 to STARTTLS, then closes
  garbage-after-starttls 220 to STARTTLS, reads the ClientHello, answers
                         with bytes that are not TLS, closes
  stall-after-starttls   220 to STARTTLS, reads the ClientHello, then nothing
  inject                 "220 Ready" to STARTTLS with "250 injected" right
                         behind it in the same write (RFC 3207 injection)
  inject-late            as inject, but the extra line 50 ms later, after
                         the client has started its handshake
  starttls-5xx           STARTTLS offered, 554 to STARTTLS
  tls                    220 to STARTTLS, then a real TLS handshake serving
                         --cert (PEM: leaf first, then whatever else it
                         holds: a 100-certificate chain, a huge
                         certificate...) with --key; then answers QUIT
  drop-mid-handshake     220 to STARTTLS, reads the ClientHello, sends the
                         first half of the server's real first flight
                         (from --cert/--key) and closes
  nul-in-reply           an EHLO reply with a NUL byte in a line

Stops by itself after --lifetime seconds (default 30), and at once on
SIGTERM, SIGINT or SIGHUP.  --ready FILE: written (with the PID) once the
socket listens, so that a test can wait for it without a probe connection.
"""

import argparse
import ipaddress
import os
import signal
import socket
import sys
import threading
import time

MODES = (
    "close", "silent", "trickle", "endless-banner", "slow-banner", "long-line",
    "binary-banner", "banner-5xx", "ehlo-5xx", "ehlo-mixed", "no-starttls",
    "starttls-4xx", "close-after-starttls", "garbage-after-starttls",
    "stall-after-starttls", "inject", "inject-late",
    "starttls-5xx", "tls", "drop-mid-handshake", "nul-in-reply",
)
TLS_MODES = ("tls", "drop-mid-handshake")
TLS_CTX = None          # the server context of the TLS modes

BANNER = b"220 badsmtp.example.test ESMTP lab\r\n"
EHLO_TLS = (b"250-badsmtp.example.test\r\n250-PIPELINING\r\n"
            b"250-STARTTLS\r\n250 8BITMIME\r\n")
EHLO_NOTLS = b"250-badsmtp.example.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n"


def stop(*_):
    os._exit(0)


class Conn:
    def __init__(self, sock, mode):
        self.s = sock
        self.mode = mode
        self.buf = b""

    def line(self):
        """One command line from the client, or None at EOF."""
        while b"\n" not in self.buf:
            if len(self.buf) > 4096:
                return None
            d = self.s.recv(4096)
            if not d:
                return None
            self.buf += d
        ln, self.buf = self.buf.split(b"\n", 1)
        return ln.rstrip(b"\r")

    def hold(self):
        """Keep the connection open, sending nothing, until the peer goes."""
        while self.s.recv(4096):
            pass

    def dialogue(self, ehlo_reply, on_starttls):
        """Greet, answer EHLO with ehlo_reply; on_starttls() at STARTTLS."""
        self.s.sendall(BANNER)
        while True:
            ln = self.line()
            if ln is None:
                return
            verb = ln.split(b" ", 1)[0].upper()
            if verb in (b"EHLO", b"HELO"):
                self.s.sendall(ehlo_reply)
            elif verb == b"STARTTLS" and on_starttls is not None:
                on_starttls()
                return
            elif verb == b"QUIT":
                self.s.sendall(b"221 2.0.0 bye\r\n")
                return
            else:
                self.s.sendall(b"502 5.5.2 not here\r\n")

    def run(self):
        m = self.mode
        s = self.s
        if m == "close":
            pass
        elif m == "silent":
            self.hold()
        elif m == "trickle":
            for c in BANNER[:-2]:
                s.sendall(bytes([c]))
                time.sleep(0.5)
            self.hold()
        elif m == "endless-banner":
            n = 0
            while True:
                n += 1
                s.sendall(b"220-badsmtp.example.test endless banner line %d\r\n" % n)
        elif m == "slow-banner":
            n = 0
            while True:
                n += 1
                s.sendall(b"220-badsmtp.example.test slow banner line %d\r\n" % n)
                time.sleep(0.2)
        elif m == "long-line":
            s.sendall(b"220 ")
            while True:
                s.sendall(b"x" * 1024)
                time.sleep(0.01)
        elif m == "binary-banner":
            s.sendall(b"\x16\x03\x01\x00\xff\x00\xfe\xfd\x80binary\x00\x01\r\n")
            self.hold()
        elif m == "banner-5xx":
            s.sendall(b"554 5.3.2 badsmtp.example.test no service here\r\n")
            self.hold()
        elif m == "ehlo-5xx":
            self.dialogue(b"550 5.7.1 EHLO rejected by policy\r\n", None)
        elif m == "ehlo-mixed":
            self.dialogue(b"250-badsmtp.example.test\r\n251-STARTTLS\r\n"
                          b"250 8BITMIME\r\n", None)
        elif m == "no-starttls":
            self.dialogue(EHLO_NOTLS, None)
        elif m == "starttls-4xx":
            def refuse():
                s.sendall(b"454 4.7.0 TLS not available due to local problem\r\n")
                self.hold()
            self.dialogue(EHLO_TLS, refuse)
        elif m == "close-after-starttls":
            self.dialogue(EHLO_TLS, lambda: s.sendall(b"220 2.0.0 Ready to start TLS\r\n"))
        elif m == "garbage-after-starttls":
            def garbage():
                s.sendall(b"220 2.0.0 Ready to start TLS\r\n")
                s.recv(16384)           # the ClientHello
                s.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n\x00\xff\xfe garbage\r\n")
            self.dialogue(EHLO_TLS, garbage)
        elif m == "stall-after-starttls":
            def stall():
                s.sendall(b"220 2.0.0 Ready to start TLS\r\n")
                self.hold()
            self.dialogue(EHLO_TLS, stall)
        elif m == "inject":
            def inject():
                s.sendall(b"220 2.0.0 Ready to start TLS\r\n250 2.0.0 injected\r\n")
                self.hold()
            self.dialogue(EHLO_TLS, inject)
        elif m == "inject-late":
            def inject_late():
                s.sendall(b"220 2.0.0 Ready to start TLS\r\n")
                time.sleep(0.05)
                s.sendall(b"250 2.0.0 injected\r\n")
                self.hold()
            self.dialogue(EHLO_TLS, inject_late)
        elif m == "starttls-5xx":
            def refuse5():
                s.sendall(b"554 5.7.3 TLS refused by policy\r\n")
                self.hold()
            self.dialogue(EHLO_TLS, refuse5)
        elif m == "tls":
            self.dialogue(EHLO_TLS, self.tls)
        elif m == "drop-mid-handshake":
            self.dialogue(EHLO_TLS, self.drop_mid_handshake)
        elif m == "nul-in-reply":
            self.dialogue(b"250-badsmtp.example.test\r\n250-PIPE\x00LINING\r\n"
                          b"250 STARTTLS\r\n", None)

    def tls(self):
        """The real handshake, then a minimal SMTP session until QUIT."""
        self.s.sendall(b"220 2.0.0 Ready to start TLS\r\n")
        self.s.settimeout(30)
        t = TLS_CTX.wrap_socket(self.s, server_side=True)
        buf = b""
        while True:
            d = t.recv(4096)
            if not d:
                return
            buf += d
            while b"\n" in buf:
                ln, buf = buf.split(b"\n", 1)
                if ln.strip().upper().startswith(b"QUIT"):
                    t.sendall(b"221 2.0.0 bye\r\n")
                    return
                t.sendall(b"250 2.0.0 ok\r\n")
            if len(buf) > 4096:
                return

    def drop_mid_handshake(self):
        """Half of the server's first flight, then the connection goes."""
        import ssl
        self.s.sendall(b"220 2.0.0 Ready to start TLS\r\n")
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = TLS_CTX.wrap_bio(inc, out, server_side=True)
        while out.pending == 0:
            d = self.s.recv(16384)
            if not d:
                return
            inc.write(d)
            try:
                obj.do_handshake()
            except ssl.SSLWantReadError:
                pass
        flight = out.read()
        self.s.sendall(flight[:max(1, len(flight) // 2)])
        time.sleep(0.2)


def serve(sock, mode):
    try:
        Conn(sock, mode).run()
    except OSError:
        pass                    # the client went away: that is its right
    finally:
        try:
            sock.close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser(description="a misbehaving SMTP server")
    ap.add_argument("--lifetime", type=float, default=30.0,
                    help="exit after this many seconds (default 30)")
    ap.add_argument("--ready", help="write the PID here once listening")
    ap.add_argument("--cert", help="TLS modes: the chain to serve (PEM)")
    ap.add_argument("--key", help="TLS modes: its private key (PEM)")
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("mode", choices=MODES)
    a = ap.parse_args()
    try:
        ip = ipaddress.ip_address(a.addr)
    except ValueError:
        ap.error("%s: not an IP address" % a.addr)
    if not ip.is_loopback:
        ap.error("%s: not a loopback address" % a.addr)
    if not 0 < a.lifetime <= 600:
        ap.error("--lifetime: want 0 < S <= 600")
    if a.mode in TLS_MODES:
        import ssl
        global TLS_CTX
        if not a.cert or not a.key:
            ap.error("mode %s needs --cert and --key" % a.mode)
        TLS_CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            TLS_CTX.load_cert_chain(a.cert, a.key)
        except (OSError, ssl.SSLError) as e:
            ap.error("--cert/--key: %s" % e)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    # The bound on our own life, whatever happens to the test that started
    # us: a timer thread, so that it fires even while accept() blocks.
    t = threading.Timer(a.lifetime, stop)
    t.daemon = True
    t.start()

    ls = socket.socket(socket.AF_INET6 if ip.version == 6 else socket.AF_INET)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        ls.bind((a.addr, a.port))
        ls.listen(16)
    except OSError as e:
        print("badsmtp.py: %s port %d: %s" % (a.addr, a.port, e.strerror or e),
              file=sys.stderr)
        sys.exit(1)
    if a.ready:
        tmp = a.ready + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(tmp, a.ready)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c, a.mode), daemon=True).start()


if __name__ == "__main__":
    main()
