//! The DoIP stream of one direction: any chunking, resync after a gap or a header that is no DoIP
//! header, skipping by length, messages longer than held.

use super::*;

const DIAG: [u8; 15] =
    [0x02, 0xFD, 0x80, 0x01, 0, 0, 0, 7, 0x0E, 0x00, 0x10, 0x00, 0x22, 0xF1, 0x90];
const ALIVE: [u8; 8] = [0x02, 0xFD, 0x00, 0x07, 0, 0, 0, 0];

/// Feeds `chunks` and lists what came out.
fn run(stream: &mut DoipStream, chunks: &[&[u8]]) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in chunks {
        stream.feed(chunk, &mut |e| {
            out.push(match e {
                DoipEvent::Message { bytes, message } => {
                    format!("message {:04X} {}", message.payload.payload_type().raw(), bytes.len())
                }
                DoipEvent::Rejected { bytes, error } => {
                    format!("rejected {} {}", error.rule.id(), bytes.len())
                }
                DoipEvent::TooLong { declared, .. } => format!("too long {declared}"),
                DoipEvent::Resynced { skipped } => format!("resynced {skipped}"),
            })
        });
    }
    out
}

#[test]
fn messages_in_any_chunking_come_out_whole() {
    let both = [DIAG, DIAG].concat();
    for split in 0..both.len() {
        let mut s = DoipStream::new(4096);
        let out = run(&mut s, &[&both[..split], &both[split..]]);
        assert_eq!(out, ["message 8001 15", "message 8001 15"], "split at {split}");
        assert_eq!(s.held(), 0);
    }
}

#[test]
fn after_a_gap_the_next_plausible_header_is_found_and_the_skip_reported() {
    let mut s = DoipStream::new(4096);
    run(&mut s, &[&DIAG[..10]]);
    s.gap();
    // The rest of a message the capture lost the start of, then a whole one.
    let mut tail = vec![0x22, 0xF1, 0x90, 0x02];
    tail.extend_from_slice(&ALIVE);
    assert_eq!(run(&mut s, &[&tail]), ["resynced 14", "message 0007 8"]);
}

#[test]
fn a_header_that_is_no_doip_header_is_rejected_then_passed_over() {
    let mut s = DoipStream::new(4096);
    let mut bad = DIAG;
    bad[1] = 0x00;
    let input = [&bad[..], &ALIVE[..]].concat();
    assert_eq!(
        run(&mut s, &[&input]),
        ["rejected inverse_version_mismatch 15", "resynced 15", "message 0007 8"]
    );
}

#[test]
fn a_wrong_length_for_the_type_is_rejected_and_skipped_by_its_length() {
    let mut s = DoipStream::new(4096);
    let bad_alive = [0x02, 0xFD, 0x00, 0x07, 0, 0, 0, 2, 0xAA, 0xBB];
    let input = [&bad_alive[..], &ALIVE[..]].concat();
    assert_eq!(run(&mut s, &[&input]), ["rejected invalid_payload_length 10", "message 0007 8"]);
}

#[test]
fn a_message_longer_than_held_is_counted_past_not_buffered() {
    let mut s = DoipStream::new(64);
    let mut long = vec![0x02, 0xFD, 0x80, 0x01, 0, 0, 0x10, 0x00];
    long.extend(std::iter::repeat_n(0x55, 0x1000));
    let out = run(&mut s, &[&long[..100], &long[100..], &ALIVE]);
    assert_eq!(out, ["too long 4096", "message 0007 8"]);
    assert!(s.held() < 64);
    // A 4 GiB alive check is judged by the length rule, not by the reader's limit.
    let mut s = DoipStream::new(64);
    let out = run(&mut s, &[&[0x02, 0xFD, 0x00, 0x07, 0xFF, 0xFF, 0xFF, 0xFF]]);
    assert_eq!(out, ["rejected invalid_payload_length 8"]);
}

/// Toward an entity that declares MDS 64, a message declaring 65 bytes of payload breaks the
/// header rule (NACK 0x02) and is skipped by its length; 64 bytes is a message like any other,
/// and without a declared MDS the same 65 bytes are one too.
#[test]
fn a_payload_above_the_entitys_declared_mds_is_rejected_as_too_large() {
    let diag = |len: usize| {
        let mut m = vec![0x02, 0xFD, 0x80, 0x01];
        m.extend((len as u32).to_be_bytes());
        m.extend([0x0E, 0x00, 0x10, 0x00]);
        m.resize(8 + len, 0x55);
        m
    };
    let input = [diag(65), diag(64), ALIVE.to_vec()].concat();
    let mut s = DoipStream::new(4096).toward_entity_with_mds(Some(64));
    let out = run(&mut s, &[&input[..10], &input[10..]]);
    assert_eq!(out, ["rejected message_too_large 8", "message 8001 72", "message 0007 8"]);
    let mut s = DoipStream::new(4096).toward_entity_with_mds(None);
    let out = run(&mut s, &[&input]);
    assert_eq!(out, ["message 8001 73", "message 8001 72", "message 0007 8"]);
}

#[test]
fn a_search_keeps_the_bytes_a_header_may_start_in() {
    let mut s = DoipStream::new(4096);
    s.gap();
    let out = run(&mut s, &[&[0xEE; 5], &ALIVE[..3], &ALIVE[3..]]);
    assert_eq!(out, ["resynced 5", "message 0007 8"]);
}
