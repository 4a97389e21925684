"""python-doipclient 1.2.2 + udsoncan against the doipcheck simulator on 127.0.0.1.

Run by tests/it/sim_interop.rs with one JSON argument: the simulator's ports and the values its
configuration says. Every check prints one line; the exit code is the number of failures.
Unicast only: get_entity is sent to 127.0.0.1, never broadcast.
"""

import json
import sys

import doipclient.client
import udsoncan
from doipclient import DoIPClient
from doipclient.connectors import DoIPClientUDSConnector
from udsoncan.client import Client

expect = json.loads(sys.argv[1])
host = expect["host"]
failures = 0


def check(name, got, want):
    global failures
    ok = got == want
    failures += 0 if ok else 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}: got {got!r}, want {want!r}", flush=True)


# get_entity has no port parameter and sends to the module constant UDP_DISCOVERY: point it at
# the simulator's ephemeral UDP port (unicast to 127.0.0.1).
doipclient.client.UDP_DISCOVERY = expect["udp_port"]
addr, announcement = DoIPClient.get_entity(ecu_ip_address=host)
check("get_entity: answered from", addr, (host, expect["udp_port"]))
check("get_entity: VIN", announcement.vin, expect["vin"])
check("get_entity: logical address", announcement.logical_address, expect["logical_address"])
check("get_entity: EID", announcement.eid.hex(), expect["eid"])
check("get_entity: GID", announcement.gid.hex(), expect["gid"])

# The constructor connects and requests routing activation type 0x00 (default).
client = DoIPClient(
    host,
    expect["logical_address"],
    tcp_port=expect["tcp_port"],
    udp_port=expect["udp_port"],
    client_logical_address=expect["tester_address"],
)
activation = client.request_activation(0x00)
check("request_activation: response code", int(activation.response_code), 0x10)
check("request_activation: entity address", activation.logical_address, expect["logical_address"])

alive = client.request_alive_check()
check("request_alive_check: source address", alive.source_address, expect["logical_address"])

status = client.request_entity_status()
check("entity status: node type", int(status.node_type), expect["node_type"])
check("entity status: MCTS", status.max_concurrent_sockets, expect["max_tcp_sockets"])
check("entity status: NCTS (this client's socket)", status.currently_open_sockets, 1)
check("entity status: MDS", status.max_data_size, expect["max_data_size"])

power = client.request_diagnostic_power_mode()
check("power mode", int(power.diagnostic_power_mode), expect["power_mode"])

identification = client.request_vehicle_identification(vin=expect["vin"])
check("vehicle identification with VIN", identification.vin, expect["vin"])

config = dict(udsoncan.configs.default_client_config)
config["data_identifiers"] = {
    int(did, 16): udsoncan.AsciiCodec(len(value)) for did, value in expect["ascii_dids"].items()
}
with Client(DoIPClientUDSConnector(client), config=config, request_timeout=2) as uds:
    for did, value in expect["ascii_dids"].items():
        response = uds.read_data_by_identifier(int(did, 16))
        check(f"ReadDataByIdentifier 0x{did}", response.service_data.values[int(did, 16)], value)
    response = uds.change_session(0x03)
    check("DiagnosticSessionControl extended", response.positive, True)
    response = uds.tester_present()
    check("TesterPresent", response.positive, True)

client.close()

# CAN ECUs behind the gateway, over our ISO-TP stack: a client per ECU address (the client
# accepts answers from its ECU address only), as a second tester.
for ecu in expect["ecus"]:
    ecu_client = DoIPClient(
        host,
        ecu["logical_address"],
        tcp_port=expect["tcp_port"],
        udp_port=expect["udp_port"],
        client_logical_address=expect["second_tester_address"],
    )
    for did, value in ecu["ascii_dids"].items():
        ecu_client.send_diagnostic(bytes.fromhex("22" + did))
        answer = bytes(ecu_client.receive_diagnostic(timeout=2))
        check(f"ECU 0x{ecu['logical_address']:04X} ReadDataByIdentifier 0x{did}", answer,
              bytes.fromhex("62" + did) + value.encode("ascii"))
    ecu_client.close()
print(f"{failures} failure(s)", flush=True)
sys.exit(failures)
