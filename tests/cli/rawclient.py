#!/usr/bin/env python3
"""A misbehaving socket-mode client for tests/cli/t08NN-net-*.sh (loopback only).

  rawclient.py PORT idle                       connect and send nothing
  rawclient.py PORT bytes N                    send N pseudo-random bytes
  rawclient.py PORT header SENDER BODYLEN      send only a SAGG header announcing BODYLEN bytes
  rawclient.py PORT send FILE [--half] [--linger S] [--recv OUT]
        send FILE (or its first half); then wait S seconds and close (--linger), or wait for
        the server's answer and save it to OUT (--recv)

Except for --linger, it waits until the server closes the connection (at most 20 s) and
prints the seconds from connecting to that close, with what it received before it.
"""
import random
import socket
import struct
import sys
import time


def main():
    port, mode, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    t0 = time.monotonic()
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
    got = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except (ConnectionResetError, socket.timeout):
        pass
    elapsed = time.monotonic() - t0
    if recv_out:
        open(recv_out, "wb").write(got)
    print(f"{elapsed:.2f} {len(got)}")


main()
