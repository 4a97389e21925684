#!/usr/bin/env python3
"""A third-party ISO-TP peer for doipcheck's interoperability tests.

Runs python can-isotp's ``isotp.TransportLayer`` (the reference stack, see requirements.txt)
with rxfn/txfn callbacks bridged to a cannelloni v2 UDP tunnel on 127.0.0.1, so that
``doipcheck isotp send|recv --can cannelloni:...`` and this stack meet on one virtual bus.

Output, one line each, flushed at once so the test can follow along:
    READY                    the socket is bound and the stack started
    RX <hex>                 a message was received
    SENT <n>                 a message of n bytes left completely
    ERROR <Class>: <text>    the stack reported an error (an N_Result, in its words)
    TIMEOUT                  --timeout ended the run before the goal was reached
    FC_RX <fc>x<n> ...       at the end: flow controls received, by their 3 bytes (or -)
    FC_TX <fc>x<n> ...       at the end: flow controls sent
Exit status 0 when the goal (send the message / receive --count messages) was reached without
any stack error, 1 otherwise, 2 on bad arguments.

cannelloni v2 datagram (docs/protocol.md#can-over-ip): version(2) op(0 DATA) seq count(u16 BE), then
per frame can_id(u32 BE, 0x80000000 = 29-bit) len(u8, 0x80 = FD, then a flags byte) data.
"""

import argparse
import collections
import socket
import struct
import sys
import threading
import time

import isotp

FD_LENGTHS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64]
EFF_FLAG = 0x80000000
RTR_FLAG = 0x40000000
ERR_FLAG = 0x20000000


def say(line):
    print(line, flush=True)


def decode_datagram(data):
    """Frames of one datagram as CanMessages; malformed datagrams raise ValueError."""
    if len(data) < 5 or data[0] != 2 or data[1] != 0:
        raise ValueError("not a cannelloni v2 DATA datagram: %s" % data[:5].hex())
    (count,) = struct.unpack_from(">H", data, 3)
    at = 5
    frames = []
    for _ in range(count):
        if at + 5 > len(data):
            raise ValueError("truncated frame header")
        (can_id,) = struct.unpack_from(">I", data, at)
        length = data[at + 4]
        at += 5
        fd = bool(length & 0x80)
        length &= 0x7F
        brs = False
        if fd:
            if at + 1 > len(data):
                raise ValueError("truncated FD flags")
            brs = bool(data[at] & 0x01)
            at += 1
        if can_id & RTR_FLAG:
            continue
        if at + length > len(data):
            raise ValueError("truncated frame data")
        payload = bytes(data[at:at + length])
        at += length
        if can_id & ERR_FLAG:
            continue
        extended = bool(can_id & EFF_FLAG)
        dlc = FD_LENGTHS.index(length) if length in FD_LENGTHS else length
        frames.append(isotp.CanMessage(arbitration_id=can_id & 0x1FFFFFFF, dlc=dlc, data=payload,
                                       extended_id=extended, is_fd=fd, bitrate_switch=brs))
    return frames


def encode_datagram(seq, msg):
    can_id = msg.arbitration_id | (EFF_FLAG if msg.is_extended_id else 0)
    data = bytes(msg.data)
    out = struct.pack(">BBBH", 2, 0, seq & 0xFF, 1) + struct.pack(">I", can_id)
    if msg.is_fd:
        out += bytes([len(data) | 0x80, 0x01 if msg.bitrate_switch else 0x00])
    else:
        out += bytes([len(data)])
    return out + data


class Tunnel:
    """One end of a cannelloni tunnel: a connected UDP socket, so only the peer's datagrams
    arrive and an absent peer shows as ECONNREFUSED."""

    def __init__(self, local_port, remote_port, tx_log=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # With a path: a line per frame sent, "<ns before> <ns after> <id hex> <data hex>" on
        # the monotonic clock around the send, so a test can tell a gap this node really left
        # on the wire (on a loaded machine it may send late, then the next frame on time).
        self.tx_log = open(tx_log, "w", buffering=1) if tx_log else None
        self.sock.bind(("127.0.0.1", local_port))
        self.sock.connect(("127.0.0.1", remote_port))
        self.seq = 0
        self.pending = collections.deque()
        self.lock = threading.Lock()
        # Flow controls by their 3 N_PCI bytes (normal addressing), so the test can check the
        # BS / STmin each side granted and how many blocks the transfer took.
        self.fc_rx = collections.Counter()
        self.fc_tx = collections.Counter()

    @staticmethod
    def count_fc(counter, msg):
        data = bytes(msg.data)
        if len(data) >= 3 and data[0] >> 4 == 3:
            counter[data[:3].hex()] += 1

    def fc_summary(self, counter):
        return " ".join("%sx%d" % (k, v) for k, v in sorted(counter.items())) or "-"

    def txfn(self, msg):
        self.count_fc(self.fc_tx, msg)
        with self.lock:
            datagram = encode_datagram(self.seq, msg)
            self.seq += 1
        before = time.monotonic_ns()
        try:
            self.sock.send(datagram)
        except ConnectionRefusedError:
            pass  # the previous datagram found nobody: frames on an empty bus are lost
        if self.tx_log:
            after = time.monotonic_ns()
            self.tx_log.write("%d %d %X %s\n" % (before, after, msg.arbitration_id,
                                                 bytes(msg.data).hex()))

    def rxfn(self, timeout):
        if self.pending:
            return self.next_pending()
        self.sock.settimeout(max(timeout or 0.0, 0.001))
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, ConnectionRefusedError):
            return None
        try:
            self.pending.extend(decode_datagram(data))
        except ValueError as e:
            say("ERROR MalformedDatagram: %s" % e)
        return self.next_pending()

    def next_pending(self):
        if not self.pending:
            return None
        msg = self.pending.popleft()
        self.count_fc(self.fc_rx, msg)
        return msg

    def wait_for_peer(self, deadline):
        """Sends empty datagrams until no ICMP port-unreachable comes back: the peer is bound."""
        while time.monotonic() < deadline:
            with self.lock:
                probe = struct.pack(">BBBH", 2, 0, self.seq & 0xFF, 0)
                self.seq += 1
            try:
                self.sock.send(probe)
                self.sock.settimeout(0.05)
                data = self.sock.recv(65536)
                self.pending.extend(decode_datagram(data))
                return True
            except socket.timeout:
                return True
            except ConnectionRefusedError:
                time.sleep(0.05)
        return False


def parse_int(text):
    return int(text, 0)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", choices=["send", "recv"])
    p.add_argument("--local", type=int, required=True, help="our UDP port on 127.0.0.1")
    p.add_argument("--remote", type=int, required=True, help="the peer's UDP port on 127.0.0.1")
    p.add_argument("--tx-id", type=lambda s: int(s, 16), required=True)
    p.add_argument("--rx-id", type=lambda s: int(s, 16), required=True)
    p.add_argument("--extended-ids", action="store_true", help="29-bit ids")
    p.add_argument("--bs", type=parse_int, default=0, help="block size we grant as receiver")
    p.add_argument("--stmin", type=parse_int, default=0, help="STmin byte we grant as receiver")
    p.add_argument("--max-size", type=parse_int, default=4095, help="largest message we accept")
    p.add_argument("--fd", action="store_true")
    p.add_argument("--tx-dl", type=int, default=8)
    p.add_argument("--padding", type=parse_int, default=0xCC)
    p.add_argument("--hex", help="send: the payload in hex")
    p.add_argument("--len", type=int, help="send: a payload of this many bytes, i % 256")
    p.add_argument("--count", type=int, default=1, help="recv: messages to wait for")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds for the whole run")
    args = p.parse_args()

    if args.mode == "send" and (args.hex is None) == (args.len is None):
        p.error("send needs exactly one of --hex and --len")

    mode = isotp.AddressingMode.Normal_29bits if args.extended_ids else isotp.AddressingMode.Normal_11bits
    address = isotp.Address(mode, txid=args.tx_id, rxid=args.rx_id)
    errors = []

    def on_error(e):
        errors.append(e)
        say("ERROR %s: %s" % (type(e).__name__, e))

    params = {
        "stmin": args.stmin,
        "blocksize": args.bs,
        "tx_padding": args.padding,
        "tx_data_length": args.tx_dl,
        "can_fd": args.fd,
        "max_frame_size": args.max_size,
        "rx_flowcontrol_timeout": 1000,
        "rx_consecutive_frame_timeout": 1000,
        "wftmax": 0,
    }
    tunnel = Tunnel(args.local, args.remote)
    stack = isotp.TransportLayer(rxfn=tunnel.rxfn, txfn=tunnel.txfn, address=address,
                                 error_handler=on_error, params=params, read_timeout=0.01)
    stack.start()
    say("READY")
    deadline = time.monotonic() + args.timeout
    ok = False
    try:
        if args.mode == "send":
            payload = bytes.fromhex(args.hex) if args.hex is not None else bytes(i % 256 for i in range(args.len))
            if not tunnel.wait_for_peer(deadline):
                say("TIMEOUT")
                return 1
            stack.send(payload)
            while stack.transmitting() and time.monotonic() < deadline and not errors:
                time.sleep(0.005)
            if stack.transmitting() or errors:
                if not errors:
                    say("TIMEOUT")
            else:
                say("SENT %d" % len(payload))
                ok = True
        else:
            received = 0
            while received < args.count and time.monotonic() < deadline:
                msg = stack.recv(block=True, timeout=min(0.1, max(deadline - time.monotonic(), 0.001)))
                if msg is not None:
                    received += 1
                    say("RX %s" % bytes(msg).hex())
            if received < args.count:
                say("TIMEOUT")
            ok = received == args.count and not errors
    finally:
        stack.stop()
        say("FC_RX %s" % tunnel.fc_summary(tunnel.fc_rx))
        say("FC_TX %s" % tunnel.fc_summary(tunnel.fc_tx))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
