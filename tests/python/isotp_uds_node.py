#!/usr/bin/env python3
"""A CAN-only UDS node built on a third-party ISO-TP stack, for doipcheck's CAN-only runs.

python can-isotp's ``isotp.TransportLayer`` (requirements.txt) on the cannelloni tunnel of
isotp_peer.py, with a small UDS server on top (ISO 14229-1), answering until --timeout:
    22 DID...  ReadDataByIdentifier: F18A (15 bytes), F187 (14 bytes); unknown DIDs are
               left out, none known -> 7F 22 31; a length that is not 1 + 2n -> 7F 22 13
    3E 00      TesterPresent -> 7E 00 (3E 80: no answer; other lengths -> 7F 3E 13)
    10 xx      DiagnosticSessionControl -> 50 xx 00 32 01 F4
    11 01      ECUReset -> 7F 11 78 (response pending), 100 ms later 51 01
    other      -> 7F <SID> 11 (service not supported)
Functionally addressed single frames on --functional-id are answered like physical ones.

    isotp_uds_node.py --local 20001 --remote 20000 --tx-id 7E8 --rx-id 7E0 --functional-id 7DF

Prints READY once bound, then one line per request (REQ <hex> / RSP <hex>) and every stack
error (ERROR <Class>: <text>).
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import isotp  # noqa: E402
from isotp_peer import Tunnel, say  # noqa: E402

# Not the simulator's DID 0xF190 and VIN on purpose: the ISO-TP suites must take the DID they
# read and its answer from the profile (uds.did, uds.did_value), not from the simulator.
DIDS = {0xF18A: b"PYTHON-ISOTP-01", 0xF187: b"ENGINE-SW-0042"}


def answer(request):
    """The UDS responses to one request, in order, with the delay before each."""
    if not request:
        return []
    sid = request[0]
    if sid == 0x22:
        if len(request) < 3 or (len(request) - 1) % 2 != 0:
            return [(0, bytes([0x7F, 0x22, 0x13]))]
        out = bytearray([0x62])
        for at in range(1, len(request), 2):
            did = (request[at] << 8) | request[at + 1]
            if did in DIDS:
                out += request[at:at + 2] + DIDS[did]
        return [(0, bytes(out))] if len(out) > 1 else [(0, bytes([0x7F, 0x22, 0x31]))]
    if sid == 0x3E:
        if len(request) != 2:
            return [(0, bytes([0x7F, 0x3E, 0x13]))]
        return [] if request[1] & 0x80 else [(0, bytes([0x7E, request[1]]))]
    if sid == 0x10 and len(request) == 2:
        return [(0, bytes([0x50, request[1], 0x00, 0x32, 0x01, 0xF4]))]
    if sid == 0x11 and len(request) == 2:
        return [(0, bytes([0x7F, 0x11, 0x78])), (0.1, bytes([0x51, request[1]]))]
    return [(0, bytes([0x7F, sid, 0x11]))]


class FunctionalTap:
    """Single frames on the functional id go to the server; everything else to the stack."""

    def __init__(self, tunnel, functional_id, requests):
        self.tunnel = tunnel
        self.functional_id = functional_id
        self.requests = requests

    def rxfn(self, timeout):
        msg = self.tunnel.rxfn(timeout)
        if msg is not None and msg.arbitration_id == self.functional_id:
            data = bytes(msg.data)
            if data and data[0] >> 4 == 0 and 0 < (data[0] & 0x0F) <= len(data) - 1:
                self.requests.append(data[1:1 + (data[0] & 0x0F)])
            return None
        return msg


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--local", type=int, required=True)
    p.add_argument("--remote", type=int, required=True)
    p.add_argument("--tx-id", type=lambda s: int(s, 16), required=True)
    p.add_argument("--rx-id", type=lambda s: int(s, 16), required=True)
    p.add_argument("--functional-id", type=lambda s: int(s, 16), default=0x7DF)
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to serve")
    p.add_argument("--tx-log", help="a line per frame sent, with the times around its send")
    args = p.parse_args()

    tunnel = Tunnel(args.local, args.remote, args.tx_log)
    functional = []
    tap = FunctionalTap(tunnel, args.functional_id, functional)
    address = isotp.Address(isotp.AddressingMode.Normal_11bits, txid=args.tx_id, rxid=args.rx_id)

    def on_error(e):
        say("ERROR %s: %s" % (type(e).__name__, e))

    params = {
        "stmin": 0,
        "blocksize": 0,
        "tx_padding": 0xCC,
        "tx_data_length": 8,
        "rx_flowcontrol_timeout": 1000,
        "rx_consecutive_frame_timeout": 1000,
        "max_frame_size": 4095,
        # As a sender can-isotp accepts this many FC WAITs in a row (0 would refuse every
        # WAIT and not restart N_Bs on it).
        "wftmax": 10,
    }
    stack = isotp.TransportLayer(rxfn=tap.rxfn, txfn=tunnel.txfn, address=address,
                                 error_handler=on_error, params=params, read_timeout=0.01)
    stack.start()
    say("READY")
    deadline = time.monotonic() + args.timeout
    pending = []  # (due time, response)
    try:
        while time.monotonic() < deadline:
            requests = []
            while stack.available():
                requests.append(bytes(stack.recv()))
            while functional:
                requests.append(bytes(functional.pop(0)))
            now = time.monotonic()
            for request in requests:
                say("REQ %s" % request.hex())
                for delay, response in answer(request):
                    pending.append((now + delay, response))
            due = [r for r in pending if r[0] <= now]
            pending = [r for r in pending if r[0] > now]
            for _, response in due:
                say("RSP %s" % response.hex())
                stack.send(response)
            time.sleep(0.001)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
