#!/usr/bin/env python3
"""A misbehaving socket-mode client for tests/cli/t08NN-net-*.sh (loopback only).

  rawclient.py PORT idle                       connect and send nothing
  rawclient.py PORT bytes N                    send N pseudo-random bytes
  rawclient.py PORT header SENDER BODYLEN      send only a SAGG header announcing BODYLEN bytes
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
import random
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


def main():
    port, mode, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
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
        sender, body_len = int(args[0]), int(args[1])
        # Format version 2, type 2 (advertise-keys), round 0.
        s.sendall(b"SAGG" + struct.pack("<HBB", 2, 2, 0) + bytes(16) + struct.pack("<IIQ", sender, 0, body_len))
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
    print(f"{elapsed:.2f} {len(got)}")


main()
