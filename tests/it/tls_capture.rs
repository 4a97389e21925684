//! A TLS case's capture as it was on the wire: `run --pcap all` against the built-in simulator
//! writes the TLS records on the TLS port with the session keys in a Decryption Secrets Block,
//! so tshark shows the handshake and decodes the DoIP inside with no key file given; the
//! `--tls-keylog` file holds the same secrets; `inspect` still reads the capture.

use std::path::Path;

use pcap_file::pcapng::{Block, PcapNgReader};

use crate::report_baseline::{doipcheck, root};
use crate::tshark;

/// The key-log lines of the capture's Decryption Secrets Blocks, and whether every one came
/// before the first packet.
fn secrets_in(capture: &Path) -> (Vec<String>, bool) {
    let file = std::fs::File::open(capture).unwrap();
    let mut reader = PcapNgReader::new(file).unwrap();
    let (mut lines, mut packets, mut ahead) = (Vec::new(), 0, true);
    while let Some(block) = reader.next_block() {
        match block.unwrap().0 {
            Block::EnhancedPacket(_) => packets += 1,
            Block::Unknown(b) if b.type_ == 0x0000_000A => {
                let body = &b.value;
                let big = |at: usize| u32::from_be_bytes(body[at..at + 4].try_into().unwrap());
                let little = |at: usize| u32::from_le_bytes(body[at..at + 4].try_into().unwrap());
                // The section's byte order: the secrets type reads as "TLSK" in one of them.
                let (kind, len) = match big(0) {
                    0x544C_534B => (big(0), big(4)),
                    _ => (little(0), little(4)),
                };
                assert_eq!(kind, 0x544C_534B, "secrets type TLSK");
                let text = std::str::from_utf8(&body[8..8 + len as usize]).unwrap();
                lines.extend(text.lines().map(str::to_owned));
                ahead &= packets == 0;
            }
            _ => {}
        }
    }
    (lines, ahead)
}

#[test]
fn a_tls_capture_shows_the_handshake_and_tshark_decodes_the_doip_inside_without_a_key_file() {
    if !tshark::tshark_or_skip("a_tls_capture_shows_the_handshake") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = root();
    let run = doipcheck(dir.path())
        .arg("run")
        .arg(root.join("suites/doip/tls.yaml"))
        .arg("--profile")
        .arg(root.join("suites/profile.yaml"))
        .args(["--plain", "--case", "TLS-DIAG-001", "--pcap", "all", "-o", "r"])
        .args(["--tls-keylog", "keys.log"])
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{console}");
    let capture = dir.path().join("r/captures/0000-TLS-DIAG-001.pcapng");
    assert!(capture.exists(), "{console}");

    // The handshake on the TLS port, as it went: ClientHello to 3496, ServerHello from it.
    let hellos = tshark::fields(&capture, "tls.handshake.type", &["tcp.srcport", "tcp.dstport"]);
    assert!(hellos.iter().any(|r| r[1] == "3496"), "{hellos:?}");
    let server_hello =
        tshark::fields(&capture, "tls.handshake.type == 2", &["tcp.srcport", "tls.record.version"]);
    assert_eq!(server_hello.len(), 1, "{server_hello:?}");
    assert_eq!(server_hello[0][0], "3496");

    // The DoIP inside, decrypted with the keys in the file itself: activation request and
    // response, the diagnostic message, its ACK and the answer.
    let types: Vec<String> = tshark::fields(&capture, "doip", &["doip.type"])
        .into_iter()
        .flat_map(|row| row[0].split(',').map(str::to_owned).collect::<Vec<_>>())
        .collect();
    assert_eq!(types, ["0x0005", "0x0006", "0x8001", "0x8002", "0x8001"], "{types:?}");
    assert_eq!(tshark::problems(&capture), Vec::<Vec<String>>::new());

    // The secrets: ahead of every packet, TLS 1.3's labels, each line also in --tls-keylog.
    let (secrets, ahead) = secrets_in(&capture);
    assert!(ahead, "the Decryption Secrets Block comes before the packets");
    for label in ["CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET"] {
        assert!(secrets.iter().any(|l| l.starts_with(label)), "{label} in {secrets:?}");
    }
    let key_log = std::fs::read_to_string(dir.path().join("keys.log")).unwrap();
    let logged: Vec<&str> = key_log.lines().collect();
    for line in &secrets {
        assert!(logged.contains(&line.as_str()), "{line} is not in --tls-keylog:\n{key_log}");
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields.len(), 3, "{line}");
        assert_eq!(fields[1].len(), 64, "a 32-byte client random in hex: {line}");
    }

    // The capture reader skips the block and counts the TLS bytes as encrypted.
    let inspect = doipcheck(dir.path()).arg("inspect").arg(&capture).output().unwrap();
    let text = String::from_utf8_lossy(&inspect.stdout);
    assert_eq!(inspect.status.code(), Some(0), "{text}");
    assert!(text.contains("0 records skipped"), "{text}");
    assert!(text.contains(" TLS bytes"), "{text}");

    // The JSON report keeps the DoIP frames, not the records nor the secrets.
    let json = std::fs::read_to_string(dir.path().join("r/report.json")).unwrap();
    assert!(json.contains("\"transport\": \"tls\""), "the DoIP frames inside TLS are reported");
    assert!(!json.contains("tls_wire") && !json.contains("TRAFFIC_SECRET"));
}
