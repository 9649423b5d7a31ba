#!/usr/bin/env python3
"""A minimal gdb remote-protocol client for tests/system/gdb.sh: raw packets,
bad checksums and garbage that gdb itself would never send."""
import socket
import sys
import time


def frame(payload: bytes) -> bytes:
    return b"$" + payload + b"#" + b"%02x" % (sum(payload) & 0xff)


class Client:
    def __init__(self, port, host="127.0.0.1"):
        for _ in range(100):
            try:
                self.s = socket.create_connection((host, port), timeout=10)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("cannot connect to port %d" % port)
        self.buf = b""

    def send(self, raw: bytes):
        self.s.sendall(raw)

    def recv_byte(self):
        if not self.buf:
            self.buf = self.s.recv(65536)
            if not self.buf:
                raise EOFError
        c, self.buf = self.buf[:1], self.buf[1:]
        return c

    def read_packet(self):
        """Next packet's payload, skipping acks; None on a bad frame."""
        while True:
            c = self.recv_byte()
            if c == b"$":
                break
        data = b""
        while True:
            c = self.recv_byte()
            if c == b"#":
                break
            data += c
        cs = self.recv_byte() + self.recv_byte()
        if int(cs, 16) != sum(data) & 0xff:
            return None
        return data

    def read_ack(self):
        return self.recv_byte()

    def cmd(self, payload: bytes, ack=True):
        self.send(frame(payload))
        if ack:
            a = self.read_ack()
            if a != b"+":
                raise SystemExit("no ack for %r: %r" % (payload, a))
        return self.read_packet()


if __name__ == "__main__":
    c = Client(int(sys.argv[1]))
    for p in sys.argv[2:]:
        print(c.cmd(p.encode()).decode(errors="replace"))
