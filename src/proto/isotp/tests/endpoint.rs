//! Two endpoints back to back: full duplex, every addressing mode, FD, explicit confirmation,
//! configuration errors.

use super::*;
use crate::codec::can::ExtendedId;
use crate::codec::isotp::{AddressingMode, TargetAddressType};
use crate::proto::isotp::{CanAddress, ConfigError, TxConfirmation};

fn received(payload: Vec<u8>) -> TransferEvent {
    TransferEvent::MessageReceived { payload, target: TargetAddressType::Physical }
}

fn eid(raw: u32) -> CanId {
    ExtendedId::new(raw).unwrap().into()
}

#[test]
fn sends_and_receives_at_the_same_time() {
    let mut c = config();
    c.receiver.block_size = 2;
    c.receiver.st_min = crate::codec::isotp::StMin::Millis(1);
    let mut pair = Pair::with(c);
    let to_b = payload(300);
    let to_a: Vec<u8> = payload(200).into_iter().rev().collect();
    pair.a.send(ms(0), &to_b).unwrap();
    pair.b.send(ms(0), &to_a).unwrap();
    assert!(pair.run(ms(10_000)));
    assert!(pair.events_a.contains(&received(to_a)));
    assert!(pair.events_a.contains(&TransferEvent::MessageSent));
    assert!(pair.events_b.contains(&received(to_b)));
    assert!(pair.events_b.contains(&TransferEvent::MessageSent));
    // The two transfers interleave on the wire: B's FF comes before A's last CF.
    let first_b = pair.wire.iter().position(|e| !e.from_a).unwrap();
    let last_a = pair.wire.iter().rposition(|e| e.from_a).unwrap();
    assert!(first_b < last_a);
}

#[test]
fn every_addressing_mode_carries_a_segmented_message() {
    let modes = [
        (IsoTpAddress::normal(sid(0x7E0), sid(0x7E8)), sid(0x7E0), None),
        (IsoTpAddress::normal(eid(0x1234_5678), eid(0x1234_5679)), eid(0x1234_5678), None),
        (IsoTpAddress::normal_fixed(0xF1, 0x10), eid(0x18DA_10F1), None),
        (IsoTpAddress::extended(sid(0x6F1), sid(0x610), 0xF1, 0x10), sid(0x6F1), Some(0x10)),
        (IsoTpAddress::mixed_11bit(sid(0x7E0), sid(0x7E8), 0x55), sid(0x7E0), Some(0x55)),
        (IsoTpAddress::mixed_29bit(0xF1, 0x10, 0x55), eid(0x18CE_10F1), Some(0x55)),
    ];
    for (address, tx_id, tx_byte) in modes {
        let mut c = config();
        c.address = address;
        let mut pair = Pair::with(c);
        let data = payload(100);
        pair.a.send(ms(0), &data).unwrap();
        assert!(pair.run(ms(10_000)), "{:?}", address.mode);
        assert_eq!(
            pair.events_b,
            vec![TransferEvent::FirstFrameReceived { ff_dl: 100 }, received(data)]
        );
        for e in pair.frames_from_a() {
            assert_eq!(e.frame.id(), tx_id, "{:?}", address.mode);
            assert_eq!(e.frame.data().first().copied().filter(|_| tx_byte.is_some()), tx_byte);
        }
        let fc = pair.wire.iter().find(|e| !e.from_a).unwrap();
        let pci_at = address.address_len();
        assert_eq!(fc.frame.data()[pci_at], 0x30, "{:?}: the FC comes back", address.mode);
    }
}

#[test]
fn frames_for_another_node_are_skipped_silently() {
    let mut c = config();
    c.address = IsoTpAddress::extended(sid(0x6F1), sid(0x610), 0xF1, 0x10);
    let mut ep = endpoint(c);
    // another id, and our id with another node's N_TA
    ep.handle_frame(ms(0), &CanFrame::new(sid(0x7E8), &[0x02, 0x10, 0x03]).unwrap());
    ep.handle_frame(ms(0), &CanFrame::new(sid(0x610), &[0xF2, 0x02, 0x10, 0x03]).unwrap());
    assert_eq!(ep.pending_events(), 0);
    ep.handle_frame(ms(0), &CanFrame::new(sid(0x610), &[0xF1, 0x02, 0x10, 0x03]).unwrap());
    assert_eq!(drain_events(&mut ep), vec![received(vec![0x10, 0x03])]);
}

#[test]
fn fd_transfer_at_tx_dl_64_with_tx_dl_8_on_the_other_side() {
    let a = fd_config(64);
    let mut b = config();
    b.address = a.address.reversed();
    let mut pair = Pair::new(a, b);
    let big = payload(1000);
    let small = payload(100);
    pair.a.send(ms(0), &big).unwrap();
    pair.b.send(ms(0), &small).unwrap();
    assert!(pair.run(ms(10_000)));
    assert!(pair.events_b.contains(&received(big)));
    assert!(pair.events_a.contains(&received(small)));
    assert!(pair.frames_from_a().filter(|e| e.frame.data()[0] >> 4 != 3).all(|e| e.frame.is_fd()));
}

#[test]
fn explicit_confirmation_is_routed_to_the_half_that_sent_the_frame() {
    let mut c = config();
    c.tx_confirmation = TxConfirmation::Explicit;
    let mut ep = endpoint(c);
    let peer = Peer::new();
    // Our sender's FF goes out first, then an incoming FF makes our receiver owe an FC.
    ep.send(ms(0), &payload(20)).unwrap();
    assert_eq!(drain_frames(&mut ep).len(), 1);
    ep.handle_frame(ms(1), &peer.ff(30, &payload(6)));
    let fc = drain_frames(&mut ep);
    assert_eq!(fc[0].data()[0], 0x30);
    // First confirmation: the FF (N_Bs starts at 2), second: the FC (N_Cr starts at 3).
    ep.handle_tx_confirmation(ms(2));
    ep.handle_tx_confirmation(ms(3));
    assert_eq!(ep.poll_timeout(), Some(ms(1002)));
    ep.handle_frame(ms(1001), &peer.cf(1, &payload(7)));
    ep.handle_timeout(ms(1002));
    let events = drain_events(&mut ep);
    assert!(events.contains(&send_failed(NResult::TimeoutBs)), "{events:?}");
    assert!(!events.iter().any(|e| matches!(e, TransferEvent::ReceiveFailed { .. })), "{events:?}");
    assert_eq!(ep.poll_timeout(), Some(ms(2001)), "N_Cr restarted by the CF at 1001");
}

#[test]
fn invalid_configurations_name_the_setting() {
    let mut c = config();
    c.tx_dl = crate::codec::isotp::TxDl::FD_MAX;
    assert_eq!(Endpoint::new(c).unwrap_err(), ConfigError::TxDlNeedsFd { tx_dl: 64 });

    let mut c = config();
    c.address.mode = AddressingMode::Extended;
    assert!(matches!(Endpoint::new(c).unwrap_err(), ConfigError::AddressByte { .. }));

    let mut c = config();
    c.address.mode = AddressingMode::NormalFixed;
    assert!(matches!(Endpoint::new(c).unwrap_err(), ConfigError::FixedNeeds29Bit { .. }));

    let mut c = config();
    c.address.rx = c.address.tx;
    assert!(matches!(Endpoint::new(c).unwrap_err(), ConfigError::SameTxAndRx { .. }));

    let mut c = config();
    c.address.functional_rx = Some(CanAddress::new(sid(0x7DF), Some(1)));
    assert!(matches!(Endpoint::new(c).unwrap_err(), ConfigError::AddressByte { .. }));
}

#[test]
fn overflowing_message_ends_in_buffer_overflow_on_the_sending_side() {
    let a = config();
    let mut b = config();
    b.address = a.address.reversed();
    b.receiver.max_receive_size = 4095;
    let mut pair = Pair::new(a, b);
    pair.a.send(ms(0), &payload(5000)).unwrap();
    assert!(pair.run(ms(10_000)));
    assert_eq!(pair.events_a, vec![send_failed(NResult::BufferOverflow)]);
    assert_eq!(pair.events_b, vec![TransferEvent::OverflowRefused { ff_dl: 5000 }]);
}
