//! The receiving half against a scripted peer: what it accepts and ignores, the flow control
//! it sends, timers at their exact deadlines, every receiver N_Result.

use super::*;
use crate::codec::isotp::{PciError, TargetAddressType};
use crate::proto::isotp::{CanAddress, IgnoreReason, TxConfirmation};

fn received(payload: Vec<u8>) -> TransferEvent {
    TransferEvent::MessageReceived { payload, target: TargetAddressType::Physical }
}

fn ignored(reason: IgnoreReason) -> TransferEvent {
    TransferEvent::FrameIgnored { reason }
}

fn malformed(e: PciError) -> TransferEvent {
    ignored(IgnoreReason::Malformed(e))
}

/// An endpoint that received the FF of `len` bytes (classic) at 0 ms and answered CTS.
fn receiving(config: IsoTpConfig, len: usize) -> (Endpoint, Vec<u8>) {
    let mut ep = endpoint(config);
    let data = payload(len);
    ep.handle_frame(ms(0), &Peer::new().ff(len as u32, &data[..6]));
    assert_eq!(
        drain_events(&mut ep),
        vec![TransferEvent::FirstFrameReceived { ff_dl: len as u32 }]
    );
    let fc = drain_frames(&mut ep);
    assert_eq!(fc.len(), 1);
    assert_eq!(fc[0].data()[0], 0x30, "CTS");
    (ep, data)
}

#[test]
fn single_frame_is_delivered() {
    let mut ep = endpoint(config());
    ep.handle_frame(ms(0), &Peer::new().sf(&[0x22, 0xF1, 0x90]));
    assert_eq!(drain_events(&mut ep), vec![received(vec![0x22, 0xF1, 0x90])]);
    assert!(drain_frames(&mut ep).is_empty());
}

#[test]
fn sf_dl_zero_is_ignored() {
    let mut ep = endpoint(config());
    ep.handle_frame(ms(0), &Peer::new().raw(&[0x00, 1, 2, 3, 4, 5, 6, 7]));
    assert_eq!(
        drain_events(&mut ep),
        vec![malformed(PciError::SfEscapeInClassicFrame { can_dl: 8 })]
    );
}

#[test]
fn sf_dl_larger_than_the_frame_is_ignored() {
    let mut ep = endpoint(config());
    ep.handle_frame(ms(0), &Peer::new().raw(&[0x05, 1, 2, 3]));
    assert_eq!(
        drain_events(&mut ep),
        vec![malformed(PciError::SfDlTooLarge { sf_dl: 5, max: 3, can_dl: 4 })]
    );
}

#[test]
fn escaped_sf_in_a_classic_frame_is_ignored() {
    let mut ep = endpoint(config());
    ep.handle_frame(ms(0), &Peer::new().raw(&[0x00, 0x03, 1, 2, 3, 0xCC, 0xCC, 0xCC]));
    assert_eq!(
        drain_events(&mut ep),
        vec![malformed(PciError::SfEscapeInClassicFrame { can_dl: 8 })]
    );
}

#[test]
fn ff_is_answered_with_the_granted_bs_and_st_min() {
    let mut c = config();
    c.receiver.block_size = 4;
    c.receiver.st_min = crate::codec::isotp::StMin::from_raw(0xF5);
    let mut ep = endpoint(c);
    ep.handle_frame(ms(0), &Peer::new().ff(100, &payload(6)));
    let fc = drain_frames(&mut ep);
    assert_eq!(fc[0].id(), sid(TESTER_TX));
    assert_eq!(fc[0].data(), &[0x30, 4, 0xF5, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC]);
}

#[test]
fn segmented_message_is_reassembled() {
    let (mut ep, data) = receiving(config(), 20);
    let peer = Peer::new();
    ep.handle_frame(ms(1), &peer.cf(1, &data[6..13]));
    ep.handle_frame(ms(2), &peer.cf(2, &data[13..20]));
    assert_eq!(drain_events(&mut ep), vec![received(data)]);
    assert!(!ep.is_receiving());
}

#[test]
fn ff_dl_7_is_ignored_and_8_accepted() {
    let mut ep = endpoint(config());
    ep.handle_frame(ms(0), &Peer::new().raw(&[0x10, 0x07, 1, 2, 3, 4, 5, 6]));
    assert_eq!(
        drain_events(&mut ep),
        vec![malformed(PciError::FfDlTooSmall { ff_dl: 7, min: 8, rx_dl: 8 })]
    );
    assert!(drain_frames(&mut ep).is_empty(), "no FC for an ignored FF");
    ep.handle_frame(ms(1), &Peer::new().raw(&[0x10, 0x08, 1, 2, 3, 4, 5, 6]));
    assert_eq!(drain_events(&mut ep), vec![TransferEvent::FirstFrameReceived { ff_dl: 8 }]);
}

#[test]
fn ff_dl_6_is_ignored_and_7_accepted_with_extended_addressing() {
    let mut c = config();
    c.address = IsoTpAddress::extended(sid(TESTER_TX), sid(TESTER_RX), 0xF1, 0x10);
    let mut ep = endpoint(c);
    ep.handle_frame(ms(0), &Peer::new().raw(&[0xF1, 0x10, 0x06, 1, 2, 3, 4, 5]));
    assert_eq!(
        drain_events(&mut ep),
        vec![malformed(PciError::FfDlTooSmall { ff_dl: 6, min: 7, rx_dl: 8 })]
    );
    ep.handle_frame(ms(0), &Peer::new().raw(&[0xF1, 0x10, 0x07, 1, 2, 3, 4, 5]));
    assert_eq!(drain_events(&mut ep), vec![TransferEvent::FirstFrameReceived { ff_dl: 7 }]);
    let fc = drain_frames(&mut ep);
    assert_eq!(&fc[0].data()[..2], &[0x10, 0x30], "FC carries the peer's N_TA");
}

#[test]
fn ff_dl_4095_and_escaped_4096_are_accepted_and_escaped_4095_ignored() {
    let mut c = config();
    c.receiver.max_receive_size = 8192;
    let mut ep = endpoint(c);
    let peer = Peer::new();
    ep.handle_frame(ms(0), &peer.raw(&[0x1F, 0xFF, 1, 2, 3, 4, 5, 6]));
    assert_eq!(drain_events(&mut ep), vec![TransferEvent::FirstFrameReceived { ff_dl: 4095 }]);
    let mut ep = endpoint(c);
    ep.handle_frame(ms(0), &peer.raw(&[0x10, 0x00, 0x00, 0x00, 0x0F, 0xFF, 1, 2]));
    assert_eq!(drain_events(&mut ep), vec![malformed(PciError::FfEscapeNotNeeded { ff_dl: 4095 })]);
    ep.handle_frame(ms(0), &peer.raw(&[0x10, 0x00, 0x00, 0x00, 0x10, 0x00, 1, 2]));
    assert_eq!(drain_events(&mut ep), vec![TransferEvent::FirstFrameReceived { ff_dl: 4096 }]);
}

#[test]
fn short_ff_is_ignored() {
    let mut ep = endpoint(config());
    ep.handle_frame(ms(0), &Peer::new().raw(&[0x10, 0x0A, 1, 2, 3, 4, 5]));
    assert_eq!(drain_events(&mut ep), vec![malformed(PciError::FfTooShort { can_dl: 7 })]);
    assert!(drain_frames(&mut ep).is_empty());
}

#[test]
fn fd_62_bytes_are_a_single_frame_and_ff_dl_62_is_ignored_at_rx_dl_64() {
    let mut ep = endpoint(fd_config(64));
    let peer = Peer::fd();
    let data = payload(62);
    ep.handle_frame(ms(0), &peer.sf(&data));
    assert_eq!(drain_events(&mut ep), vec![received(data.clone())]);
    let mut ff = [0xCCu8; 64];
    ff[0] = 0x10;
    ff[1] = 62;
    ep.handle_frame(ms(1), &peer.raw_fd(&ff));
    assert_eq!(
        drain_events(&mut ep),
        vec![malformed(PciError::FfDlTooSmall { ff_dl: 62, min: 63, rx_dl: 64 })]
    );
    ff[1] = 63;
    ep.handle_frame(ms(2), &peer.raw_fd(&ff));
    assert_eq!(drain_events(&mut ep), vec![TransferEvent::FirstFrameReceived { ff_dl: 63 }]);
    assert_eq!(drain_frames(&mut ep).len(), 1, "the CTS");
    // 63 - 62 = 1 byte in the last CF, which may be short
    ep.handle_frame(ms(3), &peer.raw_fd(&[0x21, 0xCC]));
    assert_eq!(drain_events(&mut ep), vec![received(vec![0xCC; 63])]);
}

#[test]
fn ff_above_the_max_receive_size_gets_ovflw_and_allocates_nothing() {
    let mut c = config();
    c.receiver.max_receive_size = 100;
    let mut ep = endpoint(c);
    ep.handle_frame(ms(0), &Peer::new().ff(100, &payload(6)));
    assert_eq!(drain_events(&mut ep), vec![TransferEvent::FirstFrameReceived { ff_dl: 100 }]);
    assert_eq!(drain_frames(&mut ep)[0].data()[0], 0x30);
    ep.handle_frame(ms(1), &Peer::new().ff(101, &payload(6)));
    assert_eq!(
        drain_events(&mut ep),
        vec![receive_failed(NResult::UnexpPdu), TransferEvent::OverflowRefused { ff_dl: 101 }]
    );
    assert_eq!(drain_frames(&mut ep)[0].data(), &[0x32, 0, 0, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC]);
    assert_eq!(ep.receive_buffer_capacity(), 0);
    assert!(!ep.is_receiving());
    // a 4 GiB claim is refused the same way
    ep.handle_frame(ms(2), &Peer::new().raw(&[0x10, 0, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2]));
    assert_eq!(drain_events(&mut ep), vec![TransferEvent::OverflowRefused { ff_dl: u32::MAX }]);
    assert_eq!(ep.receive_buffer_capacity(), 0);
}

#[test]
fn cf_one_ms_before_n_cr_is_accepted() {
    let (mut ep, data) = receiving(config(), 13);
    ep.handle_frame(ms(999), &Peer::new().cf(1, &data[6..]));
    assert_eq!(drain_events(&mut ep), vec![received(data)]);
}

#[test]
fn n_cr_expires_at_its_deadline_not_before() {
    let (mut ep, _) = receiving(config(), 13);
    assert_eq!(ep.poll_timeout(), Some(ms(1000)));
    ep.handle_timeout(ms(999));
    assert!(drain_events(&mut ep).is_empty());
    ep.handle_timeout(ms(1000));
    assert_eq!(drain_events(&mut ep), vec![receive_failed(NResult::TimeoutCr)]);
}

#[test]
fn late_cf_finds_the_reception_failed_and_is_ignored() {
    let (mut ep, data) = receiving(config(), 13);
    ep.handle_frame(ms(1001), &Peer::new().cf(1, &data[6..]));
    assert_eq!(
        drain_events(&mut ep),
        vec![receive_failed(NResult::TimeoutCr), ignored(IgnoreReason::UnexpectedCf)]
    );
}

#[test]
fn n_cr_restarts_with_every_cf() {
    let (mut ep, data) = receiving(config(), 20);
    ep.handle_frame(ms(900), &Peer::new().cf(1, &data[6..13]));
    assert_eq!(ep.poll_timeout(), Some(ms(1900)));
    ep.handle_frame(ms(1899), &Peer::new().cf(2, &data[13..]));
    assert_eq!(drain_events(&mut ep), vec![received(data)]);
}

#[test]
fn wrong_sn_aborts_the_reception_with_wrong_sn() {
    let (mut ep, data) = receiving(config(), 20);
    ep.handle_frame(ms(1), &Peer::new().cf(2, &data[6..13]));
    assert_eq!(drain_events(&mut ep), vec![receive_failed(NResult::WrongSn)]);
    assert!(!ep.is_receiving());
    assert_eq!(ep.poll_timeout(), None);
}

#[test]
fn sn_wrap_from_f_to_0_is_accepted() {
    let len = 6 + 7 * 17;
    let (mut ep, data) = receiving(config(), len);
    let peer = Peer::new();
    for i in 0..17 {
        let sn = ((i + 1) & 0x0F) as u8;
        ep.handle_frame(ms(1 + i as u64), &peer.cf(sn, &data[6 + 7 * i..13 + 7 * i]));
    }
    assert_eq!(drain_events(&mut ep), vec![received(data)]);
}

#[test]
fn sf_during_a_reception_ends_it_with_unexp_pdu_and_is_delivered() {
    let (mut ep, _) = receiving(config(), 20);
    ep.handle_frame(ms(1), &Peer::new().sf(&[0x3E, 0x00]));
    assert_eq!(
        drain_events(&mut ep),
        vec![receive_failed(NResult::UnexpPdu), received(vec![0x3E, 0x00])]
    );
    assert!(!ep.is_receiving());
}

#[test]
fn ff_during_a_reception_ends_it_with_unexp_pdu_and_starts_the_new_one() {
    let (mut ep, data) = receiving(config(), 20);
    let peer = Peer::new();
    ep.handle_frame(ms(1), &peer.cf(1, &data[6..13]));
    let fresh = payload(10);
    ep.handle_frame(ms(2), &peer.ff(10, &fresh[..6]));
    assert_eq!(
        drain_events(&mut ep),
        vec![receive_failed(NResult::UnexpPdu), TransferEvent::FirstFrameReceived { ff_dl: 10 }]
    );
    assert_eq!(drain_frames(&mut ep).len(), 1, "a new FC");
    ep.handle_frame(ms(3), &peer.cf(1, &fresh[6..]));
    assert_eq!(drain_events(&mut ep), vec![received(fresh)]);
}

#[test]
fn unknown_pci_during_a_reception_is_ignored_and_the_reception_goes_on() {
    let (mut ep, data) = receiving(config(), 13);
    for nibble in 4..=0x0Fu8 {
        ep.handle_frame(ms(1), &Peer::new().raw(&[nibble << 4, 1, 2, 3, 4, 5, 6, 7]));
    }
    let events = drain_events(&mut ep);
    assert_eq!(events.len(), 12);
    assert!(events.iter().all(|e| matches!(e, TransferEvent::FrameIgnored { .. })));
    ep.handle_frame(ms(2), &Peer::new().cf(1, &data[6..]));
    assert_eq!(drain_events(&mut ep), vec![received(data)]);
}

#[test]
fn cf_when_not_receiving_is_ignored() {
    let mut ep = endpoint(config());
    ep.handle_frame(ms(0), &Peer::new().cf(1, &[1, 2, 3, 4, 5, 6, 7]));
    assert_eq!(drain_events(&mut ep), vec![ignored(IgnoreReason::UnexpectedCf)]);
    assert!(drain_frames(&mut ep).is_empty());
}

#[test]
fn fc_after_each_granted_block() {
    let mut c = config();
    c.receiver.block_size = 2;
    let mut ep = endpoint(c);
    let data = payload(6 + 7 * 5);
    let peer = Peer::new();
    ep.handle_frame(ms(0), &peer.ff(data.len() as u32, &data[..6]));
    assert_eq!(drain_frames(&mut ep).len(), 1);
    let mut fcs = Vec::new();
    for i in 0..5 {
        ep.handle_frame(ms(1 + i as u64), &peer.cf(i as u8 + 1, &data[6 + 7 * i..13 + 7 * i]));
        fcs.push(drain_frames(&mut ep).len());
    }
    assert_eq!(fcs, vec![0, 1, 0, 1, 0], "an FC after CF 2 and CF 4, none after the last");
    assert!(drain_events(&mut ep).contains(&received(data)));
}

#[test]
fn wait_train_is_spaced_by_n_br_and_followed_by_cts() {
    let mut c = config();
    c.receiver.wait_frames = 3;
    c.receiver.n_wft_max = 3;
    c.timers.n_br = dur_ms(100);
    let mut ep = endpoint(c);
    ep.handle_frame(ms(0), &Peer::new().ff(20, &payload(6)));
    let mut sent = Vec::new();
    let mut now = ms(0);
    while let Some(t) = ep.poll_timeout() {
        if t > ms(500) {
            break;
        }
        now = now.max(t);
        ep.handle_timeout(now);
        for f in drain_frames(&mut ep) {
            sent.push((now, f.data()[0]));
        }
        if sent.last().is_some_and(|s| s.1 == 0x30) {
            break;
        }
    }
    assert_eq!(sent, vec![(ms(100), 0x31), (ms(200), 0x31), (ms(300), 0x31), (ms(400), 0x30)]);
}

#[test]
fn needing_more_waits_than_n_wft_max_ends_with_wft_ovrn_when_the_wait_is_due() {
    let mut c = config();
    c.receiver.wait_frames = 3;
    c.receiver.n_wft_max = 2;
    c.timers.n_br = dur_ms(100);
    let mut ep = endpoint(c);
    ep.handle_frame(ms(0), &Peer::new().ff(20, &payload(6)));
    drain_events(&mut ep);
    for t in [100, 200] {
        ep.handle_timeout(ms(t));
        assert_eq!(drain_frames(&mut ep)[0].data()[0], 0x31);
    }
    ep.handle_timeout(ms(299));
    assert!(drain_events(&mut ep).is_empty());
    ep.handle_timeout(ms(300));
    assert!(drain_frames(&mut ep).is_empty(), "no third WAIT");
    assert_eq!(drain_events(&mut ep), vec![receive_failed(NResult::WftOvrn)]);
}

#[test]
fn n_wft_max_0_with_a_wait_wanted_ends_at_once() {
    let mut c = config();
    c.receiver.wait_frames = 1;
    let mut ep = endpoint(c);
    ep.handle_frame(ms(0), &Peer::new().ff(20, &payload(6)));
    assert!(drain_frames(&mut ep).is_empty());
    assert_eq!(
        drain_events(&mut ep),
        vec![TransferEvent::FirstFrameReceived { ff_dl: 20 }, receive_failed(NResult::WftOvrn)]
    );
}

#[test]
fn n_br_delays_the_fc() {
    let mut c = config();
    c.timers.n_br = dur_ms(30);
    let mut ep = endpoint(c);
    ep.handle_frame(ms(0), &Peer::new().ff(20, &payload(6)));
    assert!(drain_frames(&mut ep).is_empty());
    assert_eq!(ep.poll_timeout(), Some(ms(30)));
    ep.handle_timeout(ms(29));
    assert!(drain_frames(&mut ep).is_empty());
    ep.handle_timeout(ms(30));
    assert_eq!(drain_frames(&mut ep).len(), 1);
    assert_eq!(ep.poll_timeout(), Some(ms(1030)), "N_Cr starts when the FC is sent");
}

#[test]
fn n_ar_expires_when_the_fc_is_not_confirmed() {
    let mut c = config();
    c.tx_confirmation = TxConfirmation::Explicit;
    let mut ep = endpoint(c);
    ep.handle_frame(ms(0), &Peer::new().ff(20, &payload(6)));
    drain_events(&mut ep);
    assert_eq!(drain_frames(&mut ep).len(), 1);
    ep.handle_timeout(ms(999));
    assert!(drain_events(&mut ep).is_empty());
    ep.handle_timeout(ms(1000));
    assert_eq!(drain_events(&mut ep), vec![receive_failed(NResult::TimeoutA)]);
}

#[test]
fn rx_dl_is_learned_from_the_ff_and_cfs_of_another_length_are_ignored() {
    let mut ep = endpoint(fd_config(64));
    let peer = Peer::fd();
    let data = payload(14 + 15 + 5);
    // FF at CAN_DL 16: RX_DL 16, 14 data bytes.
    let mut ff = vec![0x10, data.len() as u8];
    ff.extend_from_slice(&data[..14]);
    ep.handle_frame(ms(0), &peer.raw_fd(&ff));
    assert_eq!(drain_frames(&mut ep).len(), 1);
    drain_events(&mut ep);
    // A CF at CAN_DL 64 (RX_DL change upwards) and one at 12 (not the last) are ignored.
    let mut big = vec![0x21];
    big.extend_from_slice(&data[14..29]);
    big.resize(64, 0xCC);
    ep.handle_frame(ms(1), &peer.raw_fd(&big));
    let mut small = vec![0x21];
    small.extend_from_slice(&data[14..25]);
    ep.handle_frame(ms(2), &peer.raw_fd(&small));
    assert_eq!(
        drain_events(&mut ep),
        vec![
            ignored(IgnoreReason::CfLengthMismatch { can_dl: 64, rx_dl: 16 }),
            ignored(IgnoreReason::CfLengthMismatch { can_dl: 12, rx_dl: 16 })
        ]
    );
    let mut cf = vec![0x21];
    cf.extend_from_slice(&data[14..29]);
    ep.handle_frame(ms(3), &peer.raw_fd(&cf));
    // the last CF may be shorter than RX_DL
    let mut last = vec![0x22];
    last.extend_from_slice(&data[29..]);
    ep.handle_frame(ms(4), &peer.raw(&last));
    assert_eq!(drain_events(&mut ep), vec![received(data)]);
}

#[test]
fn functional_single_frames_are_delivered_and_other_functional_frames_ignored() {
    let mut c = config();
    c.address.functional_rx = Some(CanAddress::new(sid(0x7DF), None));
    let (mut ep, data) = receiving(c, 13);
    let functional = Peer { id: sid(0x7DF), ..Peer::new() };
    ep.handle_frame(ms(1), &functional.sf(&[0x3E, 0x80]));
    ep.handle_frame(ms(2), &functional.ff(20, &payload(6)));
    ep.handle_frame(ms(3), &functional.cf(1, &payload(7)));
    ep.handle_frame(ms(4), &functional.cts(0, 0));
    assert_eq!(
        drain_events(&mut ep),
        vec![
            TransferEvent::MessageReceived {
                payload: vec![0x3E, 0x80],
                target: TargetAddressType::Functional
            },
            ignored(IgnoreReason::FunctionalNotSingleFrame(
                crate::codec::isotp::FrameType::FirstFrame
            )),
            ignored(IgnoreReason::FunctionalNotSingleFrame(
                crate::codec::isotp::FrameType::ConsecutiveFrame
            )),
            ignored(IgnoreReason::FunctionalNotSingleFrame(
                crate::codec::isotp::FrameType::FlowControl
            )),
        ]
    );
    assert!(drain_frames(&mut ep).is_empty(), "no FC on a functional FF");
    // the physical reception was not disturbed
    ep.handle_frame(ms(5), &Peer::new().cf(1, &data[6..]));
    assert_eq!(drain_events(&mut ep), vec![received(data)]);
}

#[test]
fn a_flood_of_junk_queues_a_bounded_number_of_events() {
    let mut ep = endpoint(config());
    for i in 0..10_000u64 {
        ep.handle_frame(ms(i), &Peer::new().raw(&[0x40, 0]));
    }
    assert_eq!(ep.pending_events(), crate::proto::isotp::MAX_QUEUED_IGNORED);
}
