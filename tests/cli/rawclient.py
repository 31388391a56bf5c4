#!/usr/bin/env python3
"""A misbehaving socket-mode client for tests/cli/t08NN-net-*.sh (loopback only).

  rawclient.py PORT idle                       connect and send nothing
  rawclient.py PORT bytes N                    send N pseudo-random bytes
  rawclient.py PORT header SENDER BODYLEN [--type T --round R]
        send only a SAGG header announcing BODYLEN bytes (by default of an advertise-keys message)
  rawclient.py PORT headers N IDS BODYLEN [--type T --round R] [--hold S]
        open N connections, each sending only such a header, claiming the ids of the comma-separated
        list IDS in turn; print "sent N" once all are out, then hold them until the server closes
        them or S seconds (default 20) pass, and print "closed C retry R refused F aborted A
        stopped P" (the connections the server closed, and the notices they received)
  rawclient.py PORT idleflood N --until FILE [--max-seconds S]
        keep N connections open that send nothing; each one the server closes is opened again
        (at most 200 new connections a second), until FILE exists, the server stops listening or
        S seconds (default 60) pass; print "reconnects K"
  rawclient.py PORT send FILE [--half] [--linger S] [--recv OUT]
        send FILE (or its first half); then wait S seconds and close (--linger), or wait for
        the server's answer and save it to OUT (--recv)
  rawclient.py PORT tlshello N [--close | --reset]
        send the first N bytes of a TLS 1.3 ClientHello (a truncated TLS record); then close
        the connection (--close), reset it (--reset: an RST, SO_LINGER 0), or stall

With --tls CAFILE (any mode but tlshello), the connection is TLS (verifying the server's
certificate against CAFILE, for 127.0.0.1) before the mode's bytes are sent through it.
Except for --linger, --close and --reset, it waits until the server closes the connection
(at most 20 s) and prints the seconds from connecting to that close, with what it received
before it.
"""
import os
import random
import selectors
import socket
import ssl
import struct
import sys
import time


def client_hello():
    """The first flight of a TLS client, made in memory by Python's ssl module."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def opt(args, name, default):
    return type(default)(args[args.index(name) + 1]) if name in args else default


def header(sender, body_len, args):
    mtype, rnd = opt(args, "--type", 2), opt(args, "--round", 0)
    return b"SAGG" + struct.pack("<HBB", 2, mtype, rnd) + bytes(16) + struct.pack("<IIQ", sender, 0, body_len)


KINDS = ["retry", "aborted", "refused", "stopped"]


def notice_kind(data):
    """The kind of the notice frame at the start of data (man/secagg-formats.5, Notice), or None."""
    if len(data) < 46 or data[:4] != b"SAGG" or data[6] != 12:
        return None
    kind = data[41]  # after the header and the body's little-endian marker
    return KINDS[kind] if kind < len(KINDS) else None


def headers(port, args):
    n, ids, body_len = int(args[0]), [int(i) for i in args[1].split(",")], int(args[2])
    socks = []
    for k in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        s.sendall(header(ids[k % len(ids)], body_len, args))
        socks.append(s)
    print(f"sent {n}", flush=True)
    got = {s: b"" for s in socks}
    open_ = set(socks)
    deadline = time.monotonic() + opt(args, "--hold", 20.0)
    sel = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    while open_ and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=max(0.0, deadline - time.monotonic())):
            s = key.fileobj
            try:
                b = s.recv(65536)
            except OSError:
                b = b""
            if b:
                got[s] += b
            else:
                sel.unregister(s)
                open_.discard(s)
    counts = {k: 0 for k in KINDS}
    for s in socks:
        k = notice_kind(got[s])
        if k:
            counts[k] += 1
    print(f"closed {n - len(open_)} " + " ".join(f"{k} {counts[k]}" for k in KINDS), flush=True)


def idleflood(port, args):
    n, stop = int(args[0]), args[args.index("--until") + 1]
    end = time.monotonic() + opt(args, "--max-seconds", 60.0)
    sel = selectors.DefaultSelector()
    reconnects = 0

    def connect():
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)

    for _ in range(n):
        connect()
    while not os.path.exists(stop) and time.monotonic() < end:
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            try:
                b = s.recv(65536)
            except OSError:
                b = b""
            if b:
                continue  # a notice: the close follows
            sel.unregister(s)
            s.close()
            time.sleep(0.005)
            try:
                connect()
            except ConnectionRefusedError:
                break  # the server is gone: the session is over
            reconnects += 1
        else:
            continue
        break
    print(f"reconnects {reconnects}", flush=True)


def main():
    port, mode, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    if mode == "headers":
        return headers(port, args)
    if mode == "idleflood":
        return idleflood(port, args)
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    t0 = time.monotonic()
    if "--tls" in args:
        ctx = ssl.create_default_context(cafile=args[args.index("--tls") + 1])
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        s = ctx.wrap_socket(s, server_hostname="127.0.0.1")
    recv_out = None
    if mode == "idle":
        pass
    elif mode == "bytes":
        g = random.Random(7)
        s.sendall(bytes(g.randrange(256) for _ in range(int(args[0]))))
    elif mode == "header":
        s.sendall(header(int(args[0]), int(args[1]), args))
    elif mode == "send":
        data = open(args[0], "rb").read()
        if "--half" in args:
            data = data[: len(data) // 2]
        s.sendall(data)
        if "--linger" in args:
            time.sleep(float(args[args.index("--linger") + 1]))
            s.close()
            return
        if "--recv" in args:
            recv_out = args[args.index("--recv") + 1]
    elif mode == "tlshello":
        hello = client_hello()
        n = int(args[0])
        assert 0 < n < len(hello), f"the ClientHello has {len(hello)} bytes"
        s.sendall(hello[:n])
        if "--reset" in args or "--close" in args:
            time.sleep(0.2)  # so that the server is in the handshake when the end comes
        if "--reset" in args:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            return
        if "--close" in args:
            s.close()
            return
    got = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except (ConnectionResetError, socket.timeout, ssl.SSLError):
        pass
    elapsed = time.monotonic() - t0
    if recv_out:
        open(recv_out, "wb").write(got)
    kind = notice_kind(got)
    print(f"{elapsed:.2f} {len(got)}" + (f" notice {kind}" if kind else ""))


main()
