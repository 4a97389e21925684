//! Passive ISO-TP reassembly and the sender conduct it reports: SN order, FC before CF, BS, STmin,
//! unfinished and unexpected messages, the held-bytes cap.

use super::*;
use crate::codec::can::StandardId;
use crate::codec::isotp::AddressingMode;

fn id(raw: u16) -> CanId {
    CanId::Standard(StandardId::new(raw).unwrap())
}

fn pair() -> IsoTpPair {
    IsoTpPair { tx: id(0x7E0), rx: id(0x7E8), addressing: AddressingMode::Normal }
}

/// Feeds (id, data, ms) frames; lists the events as text.
fn run(frames: &[(u16, &[u8], u64)]) -> Vec<String> {
    let mut r = IsoTpReader::new(&[pair()], Duration::from_micros(500));
    let mut out = Vec::new();
    for (n, (raw, data, t)) in frames.iter().enumerate() {
        let frame = CanFrame::new(id(*raw), data).unwrap();
        let at = FrameAt { packet: n as u64 + 1, time: Duration::from_millis(*t) };
        r.frame(&frame, at, &mut |e| out.push(text(&e)));
    }
    let end = FrameAt { packet: 99, time: Duration::from_secs(9) };
    r.finish(end, &mut |e| out.push(text(&e)));
    out
}

fn text(e: &IsoTpEvent<'_>) -> String {
    match e {
        IsoTpEvent::Message { can_id, first, last, length, data } => {
            format!("{can_id} {}-{} {length} {}", first.packet, last.packet, hex::encode(data))
        }
        IsoTpEvent::InvalidFrame { can_id, at, error } => {
            format!("{can_id} {} invalid {error:?}", at.packet)
        }
        IsoTpEvent::SenderViolation { can_id, at, violation, .. } => {
            format!("{can_id} {} {violation:?}", at.packet)
        }
    }
}

#[test]
fn a_multi_frame_message_with_flow_control_is_reassembled() {
    let out = run(&[
        (0x7E0, &[0x10, 0x0A, 1, 2, 3, 4, 5, 6], 0),
        (0x7E8, &[0x30, 0x00, 0x05], 2),
        (0x7E0, &[0x21, 7, 8, 9, 10], 10),
        (0x7E8, &[0x02, 0x50, 0x03], 20),
    ]);
    assert_eq!(out, ["7E0 1-3 10 0102030405060708090a", "7E8 4-4 2 5003"]);
}

/// A flow control while the sender waits for none (mid-block) is ignored by a conformant
/// sender (ISO 15765-2:2016 §9.8.3), so it neither ends the transmission (OVFLW, a reserved
/// FS) nor changes its BS or STmin (CTS).
#[test]
fn a_flow_control_the_sender_does_not_wait_for_steers_nothing() {
    let ff = [0x10, 0x14, 1, 2, 3, 4, 5, 6];
    for stray in [&[0x32, 0x00, 0x00][..], &[0x35, 0x00, 0x00], &[0x30, 0x01, 0x7F]] {
        let out = run(&[
            (0x7E0, &ff, 0),
            (0x7E8, &[0x30, 0x00, 0x00], 1),
            (0x7E0, &[0x21, 7, 8, 9, 10, 11, 12, 13], 2),
            (0x7E8, stray, 3),
            (0x7E0, &[0x22, 14, 15, 16, 17, 18, 19, 20], 4),
        ]);
        assert_eq!(out, ["7E0 1-5 20 0102030405060708090a0b0c0d0e0f1011121314"], "{stray:02x?}");
    }
}

#[test]
fn a_wrong_sn_loses_the_message() {
    let out = run(&[
        (0x7E0, &[0x10, 0x0A, 1, 2, 3, 4, 5, 6], 0),
        (0x7E8, &[0x30, 0x00, 0x00], 1),
        (0x7E0, &[0x22, 7, 8, 9, 10], 2),
    ]);
    assert_eq!(out, ["7E0 3 WrongSn { expected: 1, found: 2 }"]);
}

#[test]
fn block_size_and_st_min_must_be_honoured() {
    let out = run(&[
        (0x7E0, &[0x10, 0x14, 1, 2, 3, 4, 5, 6], 0),
        (0x7E8, &[0x30, 0x01, 0x0A], 1),
        (0x7E0, &[0x21, 1, 2, 3, 4, 5, 6, 7], 2),
        // A second CF of a block of 1, without waiting for the FC, 3 ms after the first.
        (0x7E0, &[0x22, 1, 2, 3, 4, 5, 6, 7], 5),
    ]);
    assert_eq!(
        out,
        [
            "7E0 4 CfBeforeFc { block_size: 1 }",
            "7E0 4 StMinNotKept { gap: 3ms, st_min: 10ms }",
            "7E0 1-4 20 0102030405060102030405060701020304050607"
        ]
    );
}

#[test]
fn a_cf_before_any_fc_an_orphan_cf_and_an_unfinished_message_are_reported() {
    let out = run(&[
        (0x7E8, &[0x21, 1], 0),
        (0x7E0, &[0x10, 0x14, 1, 2, 3, 4, 5, 6], 1),
        (0x7E0, &[0x21, 1, 2, 3, 4, 5, 6, 7], 2),
        (0x7E0, &[0x02, 0x3E, 0x00], 3),
        (0x7E0, &[0x10, 0x14, 1, 2, 3, 4, 5, 6], 4),
    ]);
    assert_eq!(
        out,
        [
            "7E8 1 UnexpectedCf",
            "7E0 3 CfBeforeFc { block_size: 0 }",
            "7E0 4 UnexpectedPdu { waiting_for_fc: true }",
            "7E0 4-4 2 3e00",
            "7E0 99 Unfinished { received: 6, length: 20 }"
        ]
    );
}

#[test]
fn invalid_frames_on_paired_ids_are_reported_and_others_ignored() {
    let out = run(&[(0x7E0, &[0x00, 0x01], 0), (0x123, &[0x00], 1), (0x7E8, &[0x41], 2)]);
    assert_eq!(
        out,
        [
            "7E0 1 invalid SfEscapeInClassicFrame { can_dl: 2 }",
            "7E8 3 invalid UnknownFrameType { nibble: 4 }"
        ]
    );
}

#[test]
fn a_first_frame_claiming_4_gib_holds_no_more_than_the_cap() {
    let mut r = IsoTpReader::new(&[pair()], Duration::ZERO);
    let mut events = 0;
    let ff = CanFrame::new(id(0x7E0), &[0x10, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2]).unwrap();
    let fc = CanFrame::new(id(0x7E8), &[0x30, 0x00, 0x00]).unwrap();
    let at = FrameAt { packet: 1, time: Duration::ZERO };
    r.frame(&ff, at, &mut |_| events += 1);
    r.frame(&fc, at, &mut |_| events += 1);
    let mut sn = 1u8;
    for _ in 0..200_000 {
        let cf = CanFrame::new(id(0x7E0), &[0x20 | sn, 9, 9, 9, 9, 9, 9, 9]).unwrap();
        r.frame(&cf, at, &mut |_| events += 1);
        sn = (sn + 1) & 0x0F;
    }
    assert_eq!(events, 0, "no message, no violation");
    let (sender, _) = r.senders.get(&id(0x7E0)).unwrap();
    let held = sender.reception.as_ref().unwrap().data.len();
    assert_eq!(held, MAX_MESSAGE_HELD, "1.4 MB arrived, the cap was held");
}
