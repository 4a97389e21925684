//! The CAN survey: byte order votes, id pairs from FF/FC, from UDS answers and from fixed ids,
//! addressing detection.

use super::*;
use crate::codec::can::{CanFrame, ExtendedId, StandardId};
use crate::pcap::socketcan::encode_with;

fn std_frame(id: u16, data: &[u8]) -> CanFrame {
    CanFrame::new(StandardId::new(id).unwrap(), data).unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn survey(frames: &[(CanFrame, Duration)], order: CanByteOrder) -> SurveyResult {
    let mut s = Survey::new(None);
    for (f, t) in frames {
        s.record(&encode_with(f, order), *t);
    }
    s.finish()
}

#[test]
fn the_byte_order_is_found_either_way_and_pairs_come_from_ff_and_fc() {
    let frames = [
        (std_frame(0x7E0, &[0x10, 0x0A, 0x2E, 0xF1, 0x90, 1, 2, 3]), ms(0)),
        (std_frame(0x7E8, &[0x30, 0, 0]), ms(5)),
        (std_frame(0x7E0, &[0x21, 4, 5, 6, 7]), ms(6)),
    ];
    for order in [CanByteOrder::Network, CanByteOrder::Host] {
        let r = survey(&frames, order);
        assert_eq!(r.can_byte_order, Some(order));
        let pair = IsoTpPair {
            tx: CanId::Standard(StandardId::new(0x7E0).unwrap()),
            rx: CanId::Standard(StandardId::new(0x7E8).unwrap()),
            addressing: AddressingMode::Normal,
        };
        assert_eq!(r.pairs, [pair], "{order:?}");
    }
}

#[test]
fn a_uds_answer_pairs_single_frames_and_a_late_one_does_not() {
    let r = survey(
        &[
            (std_frame(0x701, &[0x02, 0x10, 0x03]), ms(0)),
            (std_frame(0x709, &[0x02, 0x50, 0x03]), ms(30)),
        ],
        CanByteOrder::Network,
    );
    assert_eq!(r.pairs.len(), 1);
    assert_eq!(r.pairs[0].tx.raw(), 0x701);
    let late = survey(
        &[
            (std_frame(0x701, &[0x02, 0x10, 0x03]), ms(0)),
            (std_frame(0x709, &[0x03, 0x7F, 0x10, 0x11]), ms(6000)),
        ],
        CanByteOrder::Network,
    );
    assert!(late.pairs.is_empty());
}

#[test]
fn fixed_ids_pair_by_their_swapped_addresses_and_extended_addressing_is_seen() {
    let fixed = |raw| ExtendedId::new(raw).unwrap();
    let r = survey(
        &[
            (CanFrame::new(fixed(0x18DA_10F1), &[0x02, 0x3E, 0x00]).unwrap(), ms(0)),
            (CanFrame::new(fixed(0x18DA_F110), &[0x02, 0x7E, 0x00]).unwrap(), ms(1)),
        ],
        CanByteOrder::Network,
    );
    assert_eq!(r.pairs.len(), 1);
    assert_eq!(r.pairs[0].addressing, AddressingMode::NormalFixed);
    let ext = survey(
        &[
            (std_frame(0x6F1, &[0x10, 0x02, 0x10, 0x03]), ms(0)),
            (std_frame(0x610, &[0xF1, 0x03, 0x50, 0x03, 0x00]), ms(10)),
        ],
        CanByteOrder::Network,
    );
    assert_eq!(ext.pairs.len(), 1);
    assert_eq!(ext.pairs[0].addressing, AddressingMode::Extended);
}

#[test]
fn a_file_without_can_has_no_byte_order_and_a_forced_one_wins() {
    assert_eq!(Survey::new(None).finish().can_byte_order, None);
    let mut s = Survey::new(Some(CanByteOrder::Host));
    s.record(&encode_with(&std_frame(0x123, &[1]), CanByteOrder::Network), ms(0));
    assert_eq!(s.finish().can_byte_order, Some(CanByteOrder::Host));
}

#[test]
fn a_flood_of_distinct_ids_is_tracked_only_up_to_the_cap() {
    let mut s = Survey::new(None);
    for raw in 0..6000u32 {
        let id = ExtendedId::new(raw).unwrap();
        let frame = CanFrame::new(id, &[0x02, 0x10, 0x01]).unwrap();
        s.record(&encode_with(&frame, CanByteOrder::Network), ms(u64::from(raw)));
    }
    assert_eq!(s.ids.len(), MAX_IDS);
}
