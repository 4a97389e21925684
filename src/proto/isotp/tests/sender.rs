//! The sending half against a scripted peer: segmentation boundaries, flow control, timers at
//! their exact deadlines, every sender N_Result.

use super::*;
use crate::codec::can::ExtendedId;
use crate::codec::isotp::FlowStatus;
use crate::proto::isotp::{CanAddress, FcParameters, IgnoreReason, SendError, TxConfirmation};

/// Sends `len` bytes at 0 ms and returns the endpoint with the FF already polled.
fn after_ff(config: IsoTpConfig, len: usize) -> (Endpoint, Vec<u8>) {
    let mut ep = endpoint(config);
    let data = payload(len);
    ep.send(ms(0), &data).unwrap();
    let ff = drain_frames(&mut ep);
    assert_eq!(ff.len(), 1);
    assert_eq!(pci(&ff[0]) >> 4, 1, "an FF: {}", ff[0]);
    (ep, data)
}

/// Steps the clock to each wake-up until `until`, collecting (time, frame).
fn run_until(ep: &mut Endpoint, until: Instant) -> Vec<(Instant, CanFrame)> {
    run_between(ep, Instant::ZERO, until)
}

/// Like [`run_until`], with the clock starting at `start`.
fn run_between(ep: &mut Endpoint, start: Instant, until: Instant) -> Vec<(Instant, CanFrame)> {
    let mut out = Vec::new();
    let mut now = start;
    for _ in 0..100_000 {
        while let Some(f) = ep.poll_transmit() {
            out.push((now, f));
        }
        match ep.poll_timeout() {
            Some(t) if t <= until => {
                now = now.max(t);
                ep.handle_timeout(now);
            }
            _ => break,
        }
    }
    out
}

#[test]
fn seven_bytes_go_in_a_single_frame_and_eight_start_a_first_frame() {
    let mut ep = endpoint(config());
    ep.send(ms(0), &payload(7)).unwrap();
    let frames = drain_frames(&mut ep);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].data()[0], 0x07);
    assert_eq!(drain_events(&mut ep), vec![TransferEvent::MessageSent]);

    ep.send(ms(1), &payload(8)).unwrap();
    let frames = drain_frames(&mut ep);
    assert_eq!(&frames[0].data()[..2], &[0x10, 0x08]);
    assert_eq!(&frames[0].data()[2..], &payload(8)[..6]);
}

#[test]
fn ff_dl_4095_uses_12_bits_and_4096_the_escape_on_the_wire() {
    let mut ep2 = endpoint(config());
    ep2.send(ms(0), &payload(4095)).unwrap();
    assert_eq!(&drain_frames(&mut ep2)[0].data()[..2], &[0x1F, 0xFF]);
    let mut ep3 = endpoint(config());
    ep3.send(ms(0), &payload(4096)).unwrap();
    assert_eq!(&drain_frames(&mut ep3)[0].data()[..6], &[0x10, 0x00, 0x00, 0x00, 0x10, 0x00]);
}

#[test]
fn fd_62_bytes_go_in_one_escaped_sf_and_63_start_an_ff_at_tx_dl_64() {
    let mut ep = endpoint(fd_config(64));
    ep.send(ms(0), &payload(62)).unwrap();
    let frames = drain_frames(&mut ep);
    assert_eq!(frames.len(), 1);
    assert!(frames[0].is_fd());
    assert_eq!(frames[0].len(), 64);
    assert_eq!(&frames[0].data()[..2], &[0x00, 62]);

    ep.send(ms(1), &payload(63)).unwrap();
    let frames = drain_frames(&mut ep);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].len(), 64, "an FF fills TX_DL");
    assert_eq!(&frames[0].data()[..2], &[0x10, 63]);
}

#[test]
fn fc_one_ms_before_n_bs_is_accepted() {
    let (mut ep, data) = after_ff(config(), 20);
    ep.handle_frame(ms(999), &Peer::new().cts(0, 0));
    let cfs = drain_frames(&mut ep);
    assert_eq!(cfs.len(), 2);
    assert_eq!(&cfs[0].data()[1..], &data[6..13]);
    assert_eq!(drain_events(&mut ep), vec![TransferEvent::MessageSent]);
}

#[test]
fn n_bs_expires_at_its_deadline_not_before() {
    let (mut ep, _) = after_ff(config(), 20);
    assert_eq!(ep.poll_timeout(), Some(ms(1000)));
    ep.handle_timeout(ms(999));
    assert_eq!(drain_events(&mut ep), vec![]);
    ep.handle_timeout(ms(1000));
    assert_eq!(drain_events(&mut ep), vec![send_failed(NResult::TimeoutBs)]);
    assert!(!ep.is_sending());
}

#[test]
fn fc_one_ms_after_n_bs_finds_the_transfer_already_failed() {
    let (mut ep, _) = after_ff(config(), 20);
    // No handle_timeout in between: the FC itself makes the clock pass the deadline.
    ep.handle_frame(ms(1001), &Peer::new().cts(0, 0));
    assert_eq!(
        drain_events(&mut ep),
        vec![
            send_failed(NResult::TimeoutBs),
            TransferEvent::FrameIgnored { reason: IgnoreReason::UnexpectedFc }
        ]
    );
    assert!(drain_frames(&mut ep).is_empty());
}

#[test]
fn n_bs_runs_again_after_each_block() {
    let (mut ep, _) = after_ff(config(), 50);
    ep.handle_frame(ms(10), &Peer::new().cts(2, 0));
    assert_eq!(drain_frames(&mut ep).len(), 2, "BS 2: two CFs, then wait");
    assert_eq!(ep.poll_timeout(), Some(ms(1010)));
    ep.handle_timeout(ms(1009));
    assert!(drain_events(&mut ep).is_empty());
    ep.handle_timeout(ms(1010));
    assert_eq!(drain_events(&mut ep), vec![send_failed(NResult::TimeoutBs)]);
}

#[test]
fn block_size_limits_the_cfs_sent_before_each_fc() {
    let (mut ep, data) = after_ff(config(), 6 + 7 * 10);
    let peer = Peer::new();
    let mut sent = 0;
    let mut t = 0;
    while sent < 10 {
        t += 10;
        ep.handle_frame(ms(t), &peer.cts(3, 0));
        let cfs = drain_frames(&mut ep);
        assert_eq!(cfs.len(), 3.min(10 - sent), "never more than BS CFs per FC");
        sent += cfs.len();
    }
    assert_eq!(drain_events(&mut ep), vec![TransferEvent::MessageSent]);
    assert_eq!(data.len(), 76);
}

#[test]
fn sn_starts_at_1_and_wraps_from_f_to_0() {
    let (mut ep, _) = after_ff(config(), 6 + 7 * 20);
    ep.handle_frame(ms(1), &Peer::new().cts(0, 0));
    let sns: Vec<u8> = drain_frames(&mut ep).iter().map(|f| f.data()[0]).collect();
    let expected: Vec<u8> = (1..=20u8).map(|i| 0x20 | (i & 0x0F)).collect();
    assert_eq!(sns, expected);
}

#[test]
fn every_wait_restarts_n_bs_and_a_long_wait_train_is_tolerated() {
    let (mut ep, _) = after_ff(config(), 20);
    let peer = Peer::new();
    for i in 1..=20u64 {
        ep.handle_frame(ms(i * 999), &peer.fc(FlowStatus::Wait, 0, 0));
        assert!(drain_events(&mut ep).is_empty(), "WAIT #{i} restarts N_Bs");
        assert_eq!(ep.poll_timeout(), Some(ms(i * 999 + 1000)));
    }
    ep.handle_frame(ms(20 * 999 + 999), &peer.cts(0, 0));
    assert_eq!(drain_frames(&mut ep).len(), 2);
    assert_eq!(drain_events(&mut ep), vec![TransferEvent::MessageSent]);
}

#[test]
fn n_bs_after_a_wait_expires_at_its_deadline() {
    let (mut ep, _) = after_ff(config(), 20);
    ep.handle_frame(ms(500), &Peer::new().fc(FlowStatus::Wait, 0, 0));
    ep.handle_timeout(ms(1499));
    assert!(drain_events(&mut ep).is_empty());
    ep.handle_timeout(ms(1500));
    assert_eq!(drain_events(&mut ep), vec![send_failed(NResult::TimeoutBs)]);
}

#[test]
fn sender_wait_limit_aborts_with_wft_ovrn_on_the_wait_above_it() {
    let mut c = config();
    c.sender.max_wait_frames = Some(2);
    let (mut ep, _) = after_ff(c, 20);
    let wait = Peer::new().fc(FlowStatus::Wait, 0, 0);
    ep.handle_frame(ms(1), &wait);
    ep.handle_frame(ms(2), &wait);
    assert!(drain_events(&mut ep).is_empty());
    ep.handle_frame(ms(3), &wait);
    assert_eq!(drain_events(&mut ep), vec![send_failed(NResult::WftOvrn)]);
}

#[test]
fn bs_and_st_min_of_a_wait_are_not_used() {
    let (mut ep, _) = after_ff(config(), 6 + 7 * 4);
    let peer = Peer::new();
    ep.handle_frame(ms(1), &peer.fc(FlowStatus::Wait, 1, 0x7F));
    ep.handle_frame(ms(2), &peer.cts(0, 0));
    assert_eq!(drain_frames(&mut ep).len(), 4, "BS 0 / STmin 0 from the CTS");
}

#[test]
fn ovflw_after_the_ff_aborts_with_buffer_overflow() {
    let (mut ep, _) = after_ff(config(), 20);
    ep.handle_frame(ms(5), &Peer::new().fc(FlowStatus::Overflow, 0, 0));
    assert_eq!(drain_events(&mut ep), vec![send_failed(NResult::BufferOverflow)]);
    assert!(drain_frames(&mut ep).is_empty());
    assert!(!ep.is_sending());
}

#[test]
fn ovflw_after_a_block_aborts_with_buffer_overflow() {
    let (mut ep, _) = after_ff(config(), 50);
    ep.handle_frame(ms(5), &Peer::new().cts(2, 0));
    assert_eq!(drain_frames(&mut ep).len(), 2);
    ep.handle_frame(ms(6), &Peer::new().fc(FlowStatus::Overflow, 0, 0));
    assert_eq!(drain_events(&mut ep), vec![send_failed(NResult::BufferOverflow)]);
    assert!(drain_frames(&mut ep).is_empty());
}

#[test]
fn reserved_flow_status_aborts_at_once_with_invalid_fs() {
    for fs in 3..=0x0Fu8 {
        let (mut ep, _) = after_ff(config(), 20);
        ep.handle_frame(ms(5), &Peer::new().raw(&[0x30 | fs, 0, 0]));
        assert_eq!(drain_events(&mut ep), vec![send_failed(NResult::InvalidFs)], "FS {fs:X}");
        assert_eq!(ep.poll_timeout(), None, "no N_Bs left running");
    }
}

#[test]
fn unsolicited_fc_is_ignored() {
    let mut ep = endpoint(config());
    ep.handle_frame(ms(0), &Peer::new().cts(0, 0));
    assert_eq!(
        drain_events(&mut ep),
        vec![TransferEvent::FrameIgnored { reason: IgnoreReason::UnexpectedFc }]
    );
    assert!(drain_frames(&mut ep).is_empty());
}

#[test]
fn duplicate_fc_during_a_block_is_ignored() {
    let (mut ep, _) = after_ff(config(), 6 + 7 * 3);
    let peer = Peer::new();
    ep.handle_frame(ms(10), &peer.cts(0, 20));
    assert_eq!(drain_frames(&mut ep).len(), 1);
    // A second CTS with STmin 0 must neither release CFs early nor change STmin.
    ep.handle_frame(ms(15), &peer.cts(0, 0));
    assert_eq!(
        drain_events(&mut ep),
        vec![TransferEvent::FrameIgnored { reason: IgnoreReason::UnexpectedFc }]
    );
    assert!(drain_frames(&mut ep).is_empty());
    let rest = run_until(&mut ep, ms(100));
    let times: Vec<Instant> = rest.iter().map(|(t, _)| *t).collect();
    assert_eq!(times, vec![ms(30), ms(50)]);
}

#[test]
fn st_min_gaps_on_emitted_timestamps_are_exact() {
    for (raw, gap) in [(20u8, Duration::from_millis(20)), (0xF5, Duration::from_micros(500))] {
        let (mut ep, _) = after_ff(config(), 6 + 7 * 5);
        ep.handle_frame(ms(0), &Peer::new().cts(0, raw));
        let frames = run_until(&mut ep, ms(1000));
        assert_eq!(frames.len(), 5);
        assert_eq!(frames[0].0, ms(0), "the first CF follows the FC at once");
        for w in frames.windows(2) {
            assert_eq!(w[1].0 - w[0].0, gap, "STmin 0x{raw:02X}");
        }
    }
}

#[test]
fn reserved_st_min_means_127_ms_for_the_rest_of_the_message() {
    let mut c = config();
    c.sender.fc_parameters = FcParameters::Dynamic;
    let (mut ep, _) = after_ff(c, 6 + 7 * 4);
    ep.handle_frame(ms(0), &Peer::new().cts(2, 0x80));
    let first = run_until(&mut ep, ms(199));
    assert_eq!(first.iter().map(|f| f.0).collect::<Vec<_>>(), vec![ms(0), ms(127)]);
    // A later CTS with a valid STmin of 1 ms does not end the 127 ms fallback.
    ep.handle_frame(ms(200), &Peer::new().cts(0, 1));
    let rest: Vec<Instant> = run_between(&mut ep, ms(200), ms(1000)).iter().map(|f| f.0).collect();
    assert_eq!(rest, vec![ms(200), ms(327)]);
}

#[test]
fn static_profile_keeps_bs_and_st_min_of_the_first_cts() {
    let (mut ep, _) = after_ff(config(), 6 + 7 * 6);
    let peer = Peer::new();
    ep.handle_frame(ms(0), &peer.cts(2, 0));
    assert_eq!(drain_frames(&mut ep).len(), 2);
    // BS 0 / STmin 50 in the second CTS are not adopted: still 2 per block, no gap.
    ep.handle_frame(ms(10), &peer.cts(0, 50));
    assert_eq!(drain_frames(&mut ep).len(), 2);
    assert!(!drain_events(&mut ep).contains(&TransferEvent::MessageSent));
}

#[test]
fn dynamic_profile_takes_bs_and_st_min_from_every_cts() {
    let mut c = config();
    c.sender.fc_parameters = FcParameters::Dynamic;
    let (mut ep, _) = after_ff(c, 6 + 7 * 6);
    let peer = Peer::new();
    ep.handle_frame(ms(0), &peer.cts(2, 0));
    assert_eq!(drain_frames(&mut ep).len(), 2);
    ep.handle_frame(ms(10), &peer.cts(0, 0));
    assert_eq!(drain_frames(&mut ep).len(), 4, "BS 0 from the second CTS");
    assert_eq!(drain_events(&mut ep), vec![TransferEvent::MessageSent]);
}

#[test]
fn n_cs_delays_each_cf_beyond_a_smaller_st_min() {
    let mut c = config();
    c.timers.n_cs = dur_ms(5);
    let (mut ep, _) = after_ff(c, 6 + 7 * 3);
    ep.handle_frame(ms(0), &Peer::new().cts(0, 2));
    let times: Vec<Instant> = run_until(&mut ep, ms(100)).iter().map(|f| f.0).collect();
    assert_eq!(times, vec![ms(5), ms(10), ms(15)]);
}

#[test]
fn n_as_expires_at_its_deadline_without_confirmation() {
    let mut c = config();
    c.tx_confirmation = TxConfirmation::Explicit;
    let mut ep = endpoint(c);
    ep.send(ms(0), &payload(3)).unwrap();
    assert_eq!(drain_frames(&mut ep).len(), 1);
    ep.handle_timeout(ms(999));
    assert!(drain_events(&mut ep).is_empty());
    ep.handle_timeout(ms(1000));
    assert_eq!(drain_events(&mut ep), vec![send_failed(NResult::TimeoutA)]);
    // the late confirmation changes nothing
    ep.handle_tx_confirmation(ms(1001));
    assert!(drain_events(&mut ep).is_empty());
}

#[test]
fn confirmation_one_ms_before_n_as_completes_the_message() {
    let mut c = config();
    c.tx_confirmation = TxConfirmation::Explicit;
    let mut ep = endpoint(c);
    ep.send(ms(0), &payload(3)).unwrap();
    assert_eq!(drain_frames(&mut ep).len(), 1);
    ep.handle_tx_confirmation(ms(999));
    assert_eq!(drain_events(&mut ep), vec![TransferEvent::MessageSent]);
}

#[test]
fn explicit_confirmation_starts_n_bs_and_st_min() {
    let mut c = config();
    c.tx_confirmation = TxConfirmation::Explicit;
    let (mut ep, _) = after_ff(c, 6 + 7 * 2);
    assert_eq!(ep.poll_timeout(), Some(ms(1000)), "N_As runs until the FF is confirmed");
    ep.handle_tx_confirmation(ms(5));
    assert_eq!(ep.poll_timeout(), Some(ms(1005)), "N_Bs starts at the confirmation");
    ep.handle_frame(ms(10), &Peer::new().cts(0, 10));
    assert_eq!(drain_frames(&mut ep).len(), 1);
    assert!(drain_frames(&mut ep).is_empty(), "no CF before the previous one is confirmed");
    ep.handle_tx_confirmation(ms(12));
    assert_eq!(ep.poll_timeout(), Some(ms(22)), "STmin counts from the confirmation");
    ep.handle_timeout(ms(21));
    assert!(drain_frames(&mut ep).is_empty());
    ep.handle_timeout(ms(22));
    assert_eq!(drain_frames(&mut ep).len(), 1);
    ep.handle_tx_confirmation(ms(23));
    assert_eq!(drain_events(&mut ep), vec![TransferEvent::MessageSent]);
}

#[test]
fn functional_addressing_sends_single_frames_only() {
    let mut c = config();
    let functional = CanAddress::new(sid(0x7DF), None);
    c.address.functional_tx = Some(functional);
    let mut ep = endpoint(c);
    ep.send_functional(ms(0), &payload(7)).unwrap();
    let frames = drain_frames(&mut ep);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].id(), sid(0x7DF));
    assert_eq!(
        ep.send_functional(ms(1), &payload(8)),
        Err(SendError::FunctionalTooLong { len: 8, max: 7 })
    );
    assert_eq!(
        endpoint(config()).send_functional(ms(0), &[1]),
        Err(SendError::NoFunctionalAddress)
    );
}

#[test]
fn send_refuses_empty_messages_and_a_second_message_while_busy() {
    let mut ep = endpoint(config());
    assert_eq!(ep.send(ms(0), &[]), Err(SendError::Empty));
    ep.send(ms(0), &payload(20)).unwrap();
    assert_eq!(ep.send(ms(0), &payload(2)), Err(SendError::Busy));
}

#[test]
fn length_optimised_last_cf_is_as_short_as_its_content() {
    let mut c = config();
    c.format.padding = crate::codec::isotp::Padding::length_optimised(0xCC);
    let (mut ep, _) = after_ff(c, 6 + 7 + 2);
    ep.handle_frame(ms(0), &Peer::new().cts(0, 0));
    let cfs = drain_frames(&mut ep);
    assert_eq!(cfs.iter().map(CanFrame::len).collect::<Vec<_>>(), vec![8, 3]);
}

#[test]
fn padded_last_cf_is_filled_to_8_with_the_padding_byte() {
    let (mut ep, data) = after_ff(config(), 6 + 7 + 2);
    ep.handle_frame(ms(0), &Peer::new().cts(0, 0));
    let cfs = drain_frames(&mut ep);
    assert_eq!(cfs[1].data(), &[0x22, data[13], data[14], 0xCC, 0xCC, 0xCC, 0xCC, 0xCC]);
}

#[test]
fn fd_last_cf_is_padded_to_a_valid_can_dl() {
    let mut c = fd_config(64);
    c.format.padding = crate::codec::isotp::Padding::length_optimised(0xAA);
    // FF carries 62, one full CF 63, the last CF 10 bytes: 11 bytes pad to CAN_DL 12.
    let (mut ep, _) = after_ff(c, 62 + 63 + 10);
    ep.handle_frame(ms(0), &Peer::new().cts(0, 0));
    let cfs = drain_frames(&mut ep);
    assert_eq!(cfs.iter().map(CanFrame::len).collect::<Vec<_>>(), vec![64, 12]);
    assert_eq!(cfs[1].data()[11], 0xAA);
}

#[test]
fn normal_fixed_frames_use_0x18da_ids() {
    let mut c = config();
    c.address = IsoTpAddress::normal_fixed(0xF1, 0x10);
    let mut ep = endpoint(c);
    ep.send(ms(0), &[0x3E, 0x00]).unwrap();
    assert_eq!(drain_frames(&mut ep)[0].id(), ExtendedId::new(0x18DA_10F1).unwrap().into());
}
