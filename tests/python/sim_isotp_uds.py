#!/usr/bin/env python3
"""python can-isotp 2.0.7 over cannelloni asks a simulated CAN ECU of `doipcheck sim` one UDS
request and prints its answer.

Reuses the cannelloni tunnel of isotp_peer.py. Output lines: READY, then RX <hex> with the
answer, or TIMEOUT / ERROR <Class>: <text>. Exit 0 when an answer came without stack errors.

    sim_isotp_uds.py --local 20001 --remote 20000 --tx-id 7E0 --rx-id 7E8 --hex 22F190
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import isotp  # noqa: E402
from isotp_peer import Tunnel, say  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--local", type=int, required=True)
    p.add_argument("--remote", type=int, required=True)
    p.add_argument("--tx-id", type=lambda s: int(s, 16), required=True)
    p.add_argument("--rx-id", type=lambda s: int(s, 16), required=True)
    p.add_argument("--hex", required=True, help="the UDS request")
    p.add_argument("--timeout", type=float, default=10.0)
    args = p.parse_args()

    errors = []

    def on_error(e):
        errors.append(e)
        say("ERROR %s: %s" % (type(e).__name__, e))

    address = isotp.Address(isotp.AddressingMode.Normal_11bits, txid=args.tx_id, rxid=args.rx_id)
    params = {"tx_padding": 0xCC, "rx_flowcontrol_timeout": 1000, "rx_consecutive_frame_timeout": 1000}
    tunnel = Tunnel(args.local, args.remote)
    stack = isotp.TransportLayer(rxfn=tunnel.rxfn, txfn=tunnel.txfn, address=address,
                                 error_handler=on_error, params=params, read_timeout=0.01)
    stack.start()
    say("READY")
    deadline = time.monotonic() + args.timeout
    try:
        if not tunnel.wait_for_peer(deadline):
            say("TIMEOUT")
            return 1
        stack.send(bytes.fromhex(args.hex))
        while time.monotonic() < deadline:
            msg = stack.recv(block=True, timeout=0.1)
            if msg is not None:
                say("RX %s" % bytes(msg).hex())
                return 0 if not errors else 1
        say("TIMEOUT")
        return 1
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
