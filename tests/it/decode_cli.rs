//! `doipcheck decode` as users and later tests call it: every payload type and every rule,
//! human and `--json` output pinned by insta snapshots, exit codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn doipcheck() -> Command {
    Command::new(env!("CARGO_BIN_EXE_doipcheck"))
}

fn run_with_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = doipcheck()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// One valid message of each of the 16 payload types (optional fields present and absent) and
/// a reserved type.
const VALID: &str = "\
# generic NACK, invalid payload length
02 fd 0000 00000001 04
# vehicle identification request (default version 0xFF)
ff 00 0001 00000000
# ... with EID
02 fd 0002 00000006 001a2b3c4d5e
# ... with VIN
ff 00 0003 00000011 5741555a5a5a3856304841303030303031
# vehicle announcement with and without sync status
02 fd 0004 00000021 5741555a5a5a3856304841303030303031 1001 001a2b3c4d5e ffffffffffff 10 00
02 fd 0004 00000020 0000000000000000000000000000000000 1001 001a2b3c4d5e 000000000000 00
# routing activation request without and with OEM field
02 fd 0005 00000007 0e00 00 00000000
02 fd 0005 0000000b 0e80 e0 00000000 deadbeef
# routing activation response without and with OEM field
02 fd 0006 00000009 0e00 1001 10 00000000
02 fd 0006 0000000d 0e00 1001 06 00000000 01020304
# alive check request and response
02 fd 0007 00000000
02 fd 0008 00000002 0e00
# entity status request, response without and with MDS
02 fd 4001 00000000
02 fd 4002 00000003 00 10 01
02 fd 4002 00000007 01 04 00 00001000
# power mode request and response
02 fd 4003 00000000
02 fd 4004 00000001 01
# diagnostic message, ACK, NACK with previous message
02 fd 8001 00000007 0e00 1000 22f190
02 fd 8002 00000005 1000 0e00 00
02 fd 8003 00000008 1000 0e00 03 22f190
# reserved payload type
03 fc 1234 00000002 abcd
";

/// One input per rule.
const INVALID: &str = "\
# incomplete header
02 fd 80 01
# inverse version mismatch
02 00 0007 00000000
# unsupported version with a correct inverse
05 fa 0007 00000000
# default version on a type other than 0x0001-0x0003
ff 00 0007 00000000
# invalid payload length for the type
02 fd 0008 00000003 0e0000
# payload shorter than declared
02 fd 8001 00000007 0e00 10
# bytes after the payload
02 fd 0007 00000000 00
# not hex
02 fd zz
";

#[test]
fn decode_prints_every_payload_type_with_its_fields() {
    let out = run_with_stdin(&["decode"], VALID);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    insta::assert_snapshot!("decode_valid_human", String::from_utf8(out.stdout).unwrap());
}

#[test]
fn decode_json_gives_every_field_by_name() {
    let out = run_with_stdin(&["decode", "--json"], VALID);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    for line in stdout.lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(value["valid"], true, "{line}");
    }
    assert_eq!(stdout.lines().count(), 21);
    insta::assert_snapshot!("decode_valid_json", stdout);
}

#[test]
fn decode_explains_every_broken_rule_and_exits_1() {
    let out = run_with_stdin(&["decode"], INVALID);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("decode_invalid_human", String::from_utf8(out.stdout).unwrap());
}

#[test]
fn decode_json_gives_rule_offset_and_nack_code_for_errors() {
    let out = run_with_stdin(&["decode", "--json"], INVALID);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let rules: Vec<String> = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["error"]["rule"].to_string())
        .collect();
    assert_eq!(
        rules,
        [
            "\"incomplete_header\"",
            "\"inverse_version_mismatch\"",
            "\"unsupported_version\"",
            "\"default_version_not_allowed\"",
            "\"invalid_payload_length\"",
            "\"incomplete_payload\"",
            "\"trailing_bytes\"",
            "\"invalid_hex\"",
        ]
    );
    insta::assert_snapshot!("decode_invalid_json", stdout);
}

#[test]
fn decode_joins_arguments_into_one_message() {
    let out = doipcheck().args(["decode", "02", "fd", "0007", "00000000"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Alive check request"));
}

#[test]
fn one_invalid_input_among_valid_ones_exits_1() {
    let out = run_with_stdin(&["decode"], "02fd000700000000\n02fd00070000000100\n");
    assert_eq!(out.status.code(), Some(1));
}
