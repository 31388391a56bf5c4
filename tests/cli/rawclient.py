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
        stopped P" (the connections the server closed, and the notices they received); with
        --probe, then send a byte on each closed one and add "reset K": those the server had
        closed for good (a reset), not just stopped sending on while it drained them
  rawclient.py PORT idleflood N --until FILE [--max-seconds S]
        keep N connections open that send nothing; each one the server closes is opened again
        (at most 200 new connections a second), until FILE exists, the server stops listening or
        S seconds (default 60) pass; print "reconnects K"
  rawclient.py PORT send FILE [--half] [--linger S] [--recv OUT]
        send FILE (or its first half); then wait S seconds and close (--linger), or wait for
        the server's answer and save it to OUT (--recv)
  rawclient.py PORT claims ID BODYLEN --until FILE [--type T --round R] [--every S] [--count K]
        [--max-seconds M]
        every S seconds (default 0.1), open K connections (default 2), each sending only a header
        claiming sender ID, and keep them open, until FILE exists or M seconds (default 60) pass;
        print "sent N closed C retry R refused F aborted A stopped P"
  rawclient.py PORT hog ROUNDS ID BODYLEN --until FILE [--type T --round R] [--max-seconds M]
        ROUNDS times: send all but the last byte of a frame announcing BODYLEN (and a client
        message's checksum and signature) claiming sender ID, then two header-only frames claiming
        ID too; keep every connection open and silent (never read, never close); print "rounds K"
        once the rounds are done (or M seconds, default 60, passed), then hold them until FILE exists
  rawclient.py PORT proxy PORTFILE [--rate BYTES_PER_S] [--hold-first S] [--max-seconds M]
        a TCP proxy to PORT on 127.0.0.1: listen on a free port (written to PORTFILE), relay each
        connection, the client's bytes at most BYTES_PER_S a second; the first connection's
        bytes from the client are held back S seconds; when one side closes, so does the other;
        prints "connected K" once the K-th connection to PORT is made
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


def read_ready(sel, timeout, got=None):
    """Waits up to timeout for the registered sockets; appends what each ready one sent to got[s]
    (when given) and returns the ones that closed, unregistered."""
    closed = []
    for key, _ in sel.select(timeout=timeout):
        s = key.fileobj
        try:
            b = s.recv(65536)
        except OSError:
            b = b""
        if b:
            if got is not None:
                got[s] += b
        else:
            sel.unregister(s)
            closed.append(s)
    return closed


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
        open_.difference_update(read_ready(sel, max(0.0, deadline - time.monotonic()), got))
    line = f"closed {n - len(open_)} " + count_notices(got[s] for s in socks)
    if "--probe" in args:
        closed = [s for s in socks if s not in open_]
        for s in closed:
            try:
                s.send(b"x")
            except OSError:
                pass
        time.sleep(0.3)
        resets = 0
        for s in closed:
            try:
                s.send(b"x")
                s.recv(1)
            except BlockingIOError:
                pass
            except OSError:
                resets += 1
        line += f" reset {resets}"
    print(line, flush=True)


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
        for s in read_ready(sel, 0.1):  # a notice is skipped: the close follows
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


def count_notices(got):
    counts = {k: 0 for k in KINDS}
    for data in got:
        k = notice_kind(data)
        if k:
            counts[k] += 1
    return " ".join(f"{k} {counts[k]}" for k in KINDS)


def claims(port, args):
    sender, body_len, stop = int(args[0]), int(args[1]), args[args.index("--until") + 1]
    every, count = opt(args, "--every", 0.1), opt(args, "--count", 2)
    end = time.monotonic() + opt(args, "--max-seconds", 60.0)
    sel = selectors.DefaultSelector()
    got, sent, closed = {}, 0, 0
    next_at = time.monotonic()
    while not os.path.exists(stop) and time.monotonic() < end:
        if time.monotonic() >= next_at:
            next_at += every
            for _ in range(count):
                try:
                    s = socket.create_connection(("127.0.0.1", port), timeout=5)
                    s.sendall(header(sender, body_len, args))
                except OSError:
                    continue
                s.setblocking(False)
                sel.register(s, selectors.EVENT_READ)
                got[s] = b""
                sent += 1
        for s in read_ready(sel, max(0.0, min(next_at - time.monotonic(), 0.05)), got):
            s.close()
            closed += 1
    print(f"sent {sent} closed {closed} " + count_notices(got.values()), flush=True)


def hog(port, args):
    rounds, sender, body_len = int(args[0]), int(args[1]), int(args[2])
    end = time.monotonic() + opt(args, "--max-seconds", 60.0)
    frame = header(sender, body_len, args) + random.Random(7).randbytes(body_len + 32 + 64)
    keep = []
    done = 0
    for _ in range(rounds):
        if time.monotonic() >= end:
            break
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.settimeout(max(0.1, end - time.monotonic()))
        try:
            s.sendall(frame[:-1])
        except OSError:
            pass  # waits for memory (the server does not read it): it is turned away in time
        keep.append(s)
        for _ in range(2):
            c = socket.create_connection(("127.0.0.1", port), timeout=5)
            c.sendall(header(sender, body_len, args))
            keep.append(c)
        done += 1
    print(f"rounds {done}", flush=True)
    stop = args[args.index("--until") + 1]
    while not os.path.exists(stop) and time.monotonic() < end + 60:
        time.sleep(0.05)


def proxy(port, args):
    import threading

    rate = opt(args, "--rate", 0.0)
    hold_first = opt(args, "--hold-first", 0.0)
    end = time.monotonic() + opt(args, "--max-seconds", 120.0)
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(16)
    tmp = args[0] + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{lst.getsockname()[1]}\n")
    os.replace(tmp, args[0])

    def pipe(src, dst, hold, limit):
        if hold:
            time.sleep(hold)
        t0, sent = time.monotonic(), 0
        try:
            while True:
                b = src.recv(16384)
                if not b:
                    break
                dst.sendall(b)
                sent += len(b)
                if limit:
                    ahead = t0 + sent / limit - time.monotonic()
                    if ahead > 0:
                        time.sleep(ahead)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    first, accepted = True, 0
    lst.settimeout(0.2)
    while time.monotonic() < end:
        try:
            down, _ = lst.accept()
        except socket.timeout:
            continue
        up = socket.create_connection(("127.0.0.1", port))
        threading.Thread(target=pipe, args=(down, up, hold_first if first else 0, rate), daemon=True).start()
        threading.Thread(target=pipe, args=(up, down, 0, 0), daemon=True).start()
        first = False
        accepted += 1
        print(f"connected {accepted}", flush=True)


def main():
    port, mode, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    if mode == "headers":
        return headers(port, args)
    if mode == "idleflood":
        return idleflood(port, args)
    if mode == "claims":
        return claims(port, args)
    if mode == "hog":
        return hog(port, args)
    if mode == "proxy":
        return proxy(port, args)
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
