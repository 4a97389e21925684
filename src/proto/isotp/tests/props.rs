//! Properties: any message crosses sender -> receiver intact under any BS, STmin, TX_DL,
//! addressing and padding, the sender never exceeds BS before an FC nor undercuts STmin; and
//! arbitrary frames into a receiver never panic nor allocate beyond its max receive size.
//! Case counts are kept small: CI has 2 cores.

use proptest::prelude::*;

use super::*;
use crate::codec::can::ExtendedId;
use crate::codec::isotp::{StMin, TargetAddressType};

fn address(mode: u8) -> IsoTpAddress {
    match mode % 6 {
        0 => IsoTpAddress::normal(sid(0x7E0), sid(0x7E8)),
        1 => IsoTpAddress::normal(
            ExtendedId::new(0x0123_4567).unwrap().into(),
            ExtendedId::new(0x0123_4568).unwrap().into(),
        ),
        2 => IsoTpAddress::normal_fixed(0xF1, 0x10),
        3 => IsoTpAddress::extended(sid(0x6F1), sid(0x610), 0xF1, 0x10),
        4 => IsoTpAddress::mixed_11bit(sid(0x7E0), sid(0x7E8), 0x55),
        _ => IsoTpAddress::mixed_29bit(0xF1, 0x10, 0x55),
    }
}

#[derive(Debug, Clone)]
struct Setup {
    len: usize,
    seed: u8,
    block_size: u8,
    st_min: u8,
    tx_dl: usize,
    fd_at_8: bool,
    mode: u8,
    optimised: bool,
    pad: u8,
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        prop_oneof![1..=64usize, 1..=5000usize, 1..=65536usize],
        any::<u8>(),
        prop_oneof![Just(0u8), 1..=4u8, any::<u8>()],
        // mostly small STmin (virtual time is free but 64 KiB at 127 ms is many steps)
        prop_oneof![4 => 0..=3u8, 1 => 0xF1..=0xF9u8, 1 => any::<u8>()],
        prop::sample::select(vec![8usize, 12, 16, 20, 24, 32, 48, 64]),
        any::<bool>(),
        0..6u8,
        any::<bool>(),
        any::<u8>(),
    )
        .prop_map(|(len, seed, block_size, st_min, tx_dl, fd_at_8, mode, optimised, pad)| {
            Setup { len, seed, block_size, st_min, tx_dl, fd_at_8, mode, optimised, pad }
        })
}

fn sender_config(s: &Setup) -> IsoTpConfig {
    let mut c = config();
    c.address = address(s.mode);
    c.tx_dl = crate::codec::isotp::TxDl::new(s.tx_dl).unwrap();
    c.format.fd = s.tx_dl > 8 || s.fd_at_8;
    c.format.padding = crate::codec::isotp::Padding { byte: s.pad, length_optimised: s.optimised };
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_message_arrives_intact_within_bs_and_st_min(s in setup()) {
        let a = sender_config(&s);
        let mut b = config();
        b.address = a.address.reversed();
        b.receiver.block_size = s.block_size;
        b.receiver.st_min = StMin::from_raw(s.st_min);
        b.receiver.max_receive_size = 65536;
        let data: Vec<u8> = (0..s.len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(s.seed)).collect();
        let mut pair = Pair::new(a, b);
        pair.a.send(Instant::ZERO, &data).unwrap();
        prop_assert!(pair.run(Instant::from_millis(100_000_000)));
        prop_assert_eq!(&pair.events_a, &vec![TransferEvent::MessageSent]);
        let got = pair.events_b.iter().find_map(|e| match e {
            TransferEvent::MessageReceived { payload, target: TargetAddressType::Physical } => Some(payload),
            _ => None,
        });
        prop_assert_eq!(got, Some(&data));

        let gap = StMin::from_raw(s.st_min).duration();
        let pci_at = a.address.address_len();
        let mut cfs_since_fc = 0u32;
        let mut last_cf: Option<Instant> = None;
        for e in &pair.wire {
            let kind = e.frame.data()[pci_at] >> 4;
            if !e.from_a {
                prop_assert_eq!(kind, 3, "B sends only FCs");
                cfs_since_fc = 0;
                last_cf = None;
                continue;
            }
            if kind == 2 {
                cfs_since_fc += 1;
                if s.block_size != 0 {
                    prop_assert!(cfs_since_fc <= s.block_size as u32, "more than BS CFs before an FC");
                }
                if let Some(prev) = last_cf {
                    prop_assert!(e.at - prev >= gap, "gap {:?} < STmin {:?}", e.at - prev, gap);
                }
                last_cf = Some(e.at);
            }
            let len = e.frame.len();
            prop_assert!(len <= s.tx_dl, "frame of {} bytes above TX_DL {}", len, s.tx_dl);
            if !s.optimised {
                prop_assert!(len >= 8, "padded frames are at least 8 bytes");
            }
        }
    }

    #[test]
    fn arbitrary_frames_never_panic_nor_allocate_beyond_the_max_receive_size(
        steps in prop::collection::vec(
            (0..1500u64, prop_oneof![3 => 0..4u8, 1 => any::<u8>()], any::<u8>(),
             prop::collection::vec(any::<u8>(), 0..64), any::<bool>()),
            1..200),
        max in prop_oneof![0..=64u32, 0..=5000u32],
    ) {
        let mut c = fd_config(64);
        c.receiver.max_receive_size = max;
        c.receiver.block_size = 3;
        let mut ep = endpoint(c);
        let mut now = Instant::ZERO;
        for (delay, kind, low, rest, fd) in steps {
            now += Duration::from_millis(delay);
            let mut data = vec![(kind << 4) | (low & 0x0F)];
            data.extend_from_slice(&rest);
            let frame = if fd {
                let len = crate::codec::can::fd_padded_len(data.len()).unwrap_or(64);
                data.resize(len, 0xCC);
                CanFrame::new_fd(sid(TESTER_RX), &data, false).unwrap()
            } else {
                data.truncate(8);
                CanFrame::new(sid(TESTER_RX), &data).unwrap()
            };
            ep.handle_frame(now, &frame);
            prop_assert!(ep.receive_buffer_capacity() <= max as usize);
            while let Some(f) = ep.poll_transmit() {
                prop_assert_eq!(f.data()[0] >> 4, 3, "a lone receiver sends FCs only");
            }
            while let Some(e) = ep.poll_event() {
                if let TransferEvent::MessageReceived { payload, .. } = e {
                    prop_assert!(payload.len() <= max as usize);
                }
            }
            if let Some(t) = ep.poll_timeout() && t <= now {
                ep.handle_timeout(now);
            }
        }
    }
}
