#!/usr/bin/env python3
"""bench/flood.py — a hostile client for bench/server.sh (Python 3 stdlib only).

Holds N connections to the server from one source address for SECONDS, re-opening any the server
closes, in one of three modes:
  idle       connect, send half a request line, then nothing
  slowloris  connect, send a request line, then one header byte per connection every few seconds
             (never idle long enough for an idle timeout, never finished)
  body       send complete headers with a wrong API key and Content-Length 983040 (960 KiB), then
             the body, as fast as the server takes it, never quite finishing it (960 KiB - 1 byte);
             a server that buffers before checking the key holds ~960 KiB per connection

Prints one summary line: connections opened in all, held at the end, closed by the server.
Usage: flood.py HOST PORT N SOURCE_ADDR MODE SECONDS
"""
import errno
import selectors
import socket
import sys
import time


def main():
    host, port, n, src, mode, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], float(sys.argv[6])
    body_len = 983040
    head = {
        "idle": b"GET /hea",
        "slowloris": b"POST /v1/check HTTP/1.1\r\nHost: x\r\n",
        "body": (b"POST /v1/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong-key\r\n"
                 b"Content-Type: application/json\r\nContent-Length: " + str(body_len).encode() + b"\r\n\r\n"),
    }[mode]
    chunk = b"x" * 65536
    sel = selectors.DefaultSelector()
    socks = {}  # socket -> bytes of body sent
    opened = closed = failed = 0

    def open_one():
        nonlocal opened, failed
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        try:
            s.bind((src, 0))
            s.connect((host, port))
            s.setblocking(False)
            s.send(head)
        except OSError:
            failed += 1
            s.close()
            return
        opened += 1
        socks[s] = 0
        sel.register(s, selectors.EVENT_READ | (selectors.EVENT_WRITE if mode == "body" else 0))

    def drop(s):
        nonlocal closed
        closed += 1
        sel.unregister(s)
        s.close()
        del socks[s]

    t_end = time.time() + seconds
    next_trickle = time.time() + 3
    while time.time() < t_end:
        while len(socks) < n and time.time() < t_end:
            before = failed
            open_one()
            if failed > before:
                time.sleep(0.01)  # refused (limit): back off a little, keep trying
                break
        for key, ev in sel.select(timeout=0.05):
            s = key.fileobj
            if ev & selectors.EVENT_READ:
                try:
                    if s.recv(65536) == b"":
                        drop(s)
                        continue
                except OSError:
                    drop(s)
                    continue
            if ev & selectors.EVENT_WRITE and s in socks:
                left = body_len - 1 - socks[s]
                if left <= 0:
                    sel.modify(s, selectors.EVENT_READ)
                    continue
                try:
                    socks[s] += s.send(chunk[:min(left, len(chunk))])
                except OSError as e:
                    if e.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
                        drop(s)
        if mode == "slowloris" and time.time() >= next_trickle:
            next_trickle = time.time() + 3
            for s in list(socks):
                try:
                    s.send(b"X")
                except OSError:
                    drop(s)
    print(f"flood {mode}: {opened} connections opened, {len(socks)} held at the end, "
          f"{closed} closed by the server, {failed} refused", flush=True)


if __name__ == "__main__":
    main()
