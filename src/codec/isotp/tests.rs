//! Byte vectors (deconstruct / construct / parse / emit) and one test per rule of the N_PCI
//! codec.

use super::*;
use crate::codec::can::StandardId;

const NORMAL: AddressingMode = AddressingMode::Normal;
const EXTENDED: AddressingMode = AddressingMode::Extended;

fn id() -> CanId {
    StandardId::new(0x7E0).unwrap().into()
}

fn parse(data: &[u8]) -> Result<IsoTpPdu<'_>, PciError> {
    IsoTpPdu::parse(data, NORMAL).map(|(_, p)| p)
}

fn classic_padded() -> FrameFormat {
    FrameFormat { fd: false, brs: false, padding: Padding::padded(0xCC) }
}

fn fd_optimised() -> FrameFormat {
    FrameFormat { fd: true, brs: true, padding: Padding::length_optimised(0xAA) }
}

// --- byte vectors --------------------------------------------------------------------------

static SF_BYTES: [u8; 8] = [0x03, 0x22, 0xF1, 0x90, 0xCC, 0xCC, 0xCC, 0xCC];
static FF_BYTES: [u8; 8] = [0x10, 0x14, 0x62, 0xF1, 0x90, 0x57, 0x30, 0x4C];
static FF_ESCAPED_BYTES: [u8; 8] = [0x10, 0x00, 0x00, 0x00, 0x10, 0x00, 0xAB, 0xCD];
static CF_BYTES: [u8; 8] = [0x21, 1, 2, 3, 4, 5, 6, 7];
static FC_BYTES: [u8; 3] = [0x30, 0x08, 0xF3];

#[test]
fn sf_deconstruct() {
    let v = PciView::new(&SF_BYTES, NORMAL);
    assert_eq!(v.frame_type(), Some(FrameType::SingleFrame));
    assert_eq!(v.sf_dl(), Some(3));
    assert_eq!(v.address_byte(), None);
}

#[test]
fn sf_parse_and_emit_round_trip() {
    let pdu = parse(&SF_BYTES).unwrap();
    assert_eq!(pdu, IsoTpPdu::SingleFrame { escaped: false, data: &[0x22, 0xF1, 0x90] });
    let frame = pdu.emit(id(), None, &classic_padded()).unwrap();
    assert_eq!(frame.data(), &SF_BYTES);
}

#[test]
fn sf_construct_length_optimised_is_not_padded() {
    let fmt = FrameFormat { padding: Padding::length_optimised(0xCC), ..classic_padded() };
    let frame = IsoTpPdu::single(&[0x3E, 0x00], 0).emit(id(), None, &fmt).unwrap();
    assert_eq!(frame.data(), &[0x02, 0x3E, 0x00]);
}

#[test]
fn ff_deconstruct_parse_emit() {
    let v = PciView::new(&FF_BYTES, NORMAL);
    assert_eq!(v.frame_type(), Some(FrameType::FirstFrame));
    assert_eq!(v.ff_dl(), Some(20));
    let pdu = parse(&FF_BYTES).unwrap();
    assert_eq!(pdu, IsoTpPdu::FirstFrame { escaped: false, ff_dl: 20, data: &FF_BYTES[2..] });
    assert_eq!(pdu.emit(id(), None, &classic_padded()).unwrap().data(), &FF_BYTES);
}

#[test]
fn ff_escape_carries_a_32_bit_ff_dl() {
    assert_eq!(PciView::new(&FF_ESCAPED_BYTES, NORMAL).ff_dl(), Some(4096));
    let pdu = parse(&FF_ESCAPED_BYTES).unwrap();
    assert_eq!(pdu, IsoTpPdu::FirstFrame { escaped: true, ff_dl: 4096, data: &[0xAB, 0xCD] });
    assert_eq!(IsoTpPdu::first(4096, &[0xAB, 0xCD]), pdu);
    assert_eq!(pdu.emit(id(), None, &classic_padded()).unwrap().data(), &FF_ESCAPED_BYTES);
}

#[test]
fn cf_deconstruct_parse_emit() {
    assert_eq!(PciView::new(&CF_BYTES, NORMAL).sn(), Some(1));
    let pdu = parse(&CF_BYTES).unwrap();
    assert_eq!(pdu, IsoTpPdu::ConsecutiveFrame { sn: 1, data: &CF_BYTES[1..] });
    assert_eq!(pdu.emit(id(), None, &classic_padded()).unwrap().data(), &CF_BYTES);
}

#[test]
fn fc_deconstruct_parse_emit() {
    let v = PciView::new(&FC_BYTES, NORMAL);
    assert_eq!(v.flow_status(), Some(FlowStatus::ContinueToSend));
    assert_eq!(v.block_size(), Some(8));
    assert_eq!(v.st_min(), Some(StMin::Micros(300)));
    let pdu = parse(&FC_BYTES).unwrap();
    assert_eq!(pdu, IsoTpPdu::FlowControl(FlowControl::cts(8, StMin::Micros(300))));
    let fmt = FrameFormat { padding: Padding::length_optimised(0), ..classic_padded() };
    assert_eq!(pdu.emit(id(), None, &fmt).unwrap().data(), &FC_BYTES);
}

#[test]
fn extended_addressing_puts_n_ta_before_the_pci() {
    let data = [0xF1, 0x02, 0x10, 0x03, 0xCC, 0xCC, 0xCC, 0xCC];
    let (addr, pdu) = IsoTpPdu::parse(&data, EXTENDED).unwrap();
    assert_eq!(addr, Some(0xF1));
    assert_eq!(pdu, IsoTpPdu::SingleFrame { escaped: false, data: &[0x10, 0x03] });
    assert_eq!(pdu.emit(id(), Some(0xF1), &classic_padded()).unwrap().data(), &data);
    assert_eq!(PciView::new(&data, EXTENDED).address_byte(), Some(0xF1));
}

#[test]
fn mixed_addressing_puts_n_ae_before_the_pci() {
    let data = [0x55, 0x30, 0x00, 0x00];
    let (addr, pdu) = IsoTpPdu::parse(&data, AddressingMode::Mixed).unwrap();
    assert_eq!(addr, Some(0x55));
    assert_eq!(pdu, IsoTpPdu::FlowControl(FlowControl::cts(0, StMin::ZERO)));
}

#[test]
fn fd_sf_uses_the_escape_and_pads_to_a_valid_can_dl() {
    let payload = [0x11u8; 9];
    let pdu = IsoTpPdu::single(&payload, 0);
    assert_eq!(pdu, IsoTpPdu::SingleFrame { escaped: true, data: &payload });
    let frame = pdu.emit(id(), None, &fd_optimised()).unwrap();
    assert!(frame.is_fd() && frame.brs());
    assert_eq!(frame.len(), 12, "11 content bytes pad to CAN_DL 12");
    assert_eq!(&frame.data()[..2], &[0x00, 9]);
    assert_eq!(&frame.data()[11..], &[0xAA]);
    assert_eq!(parse(frame.data()).unwrap(), pdu);
}

#[test]
fn fd_sf_of_62_bytes_fills_can_dl_64() {
    let payload = [0x5Au8; 62];
    let frame = IsoTpPdu::single(&payload, 0).emit(id(), None, &fd_optimised()).unwrap();
    assert_eq!(frame.len(), 64);
    assert_eq!(
        parse(frame.data()).unwrap(),
        IsoTpPdu::SingleFrame { escaped: true, data: &payload }
    );
    assert_eq!(max_sf_dl(64, 0), 62);
    assert_eq!(max_sf_dl(64, 1), 61);
}

#[test]
fn small_fd_frame_uses_the_classic_sf_encoding() {
    let frame = IsoTpPdu::single(&[1, 2, 3], 0).emit(id(), None, &fd_optimised()).unwrap();
    assert!(frame.is_fd());
    assert_eq!(frame.data(), &[0x03, 1, 2, 3]);
}

#[test]
fn padded_fd_frame_of_few_bytes_is_padded_to_8() {
    let fmt = FrameFormat { padding: Padding::padded(0x55), ..fd_optimised() };
    let frame = IsoTpPdu::single(&[1], 0).emit(id(), None, &fmt).unwrap();
    assert_eq!(frame.data(), &[0x01, 1, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55]);
}

#[test]
fn classic_frame_cannot_carry_more_than_8_bytes() {
    let err = IsoTpPdu::single(&[0u8; 9], 0).emit(id(), None, &classic_padded()).unwrap_err();
    assert_eq!(err, EmitError::TooLong { max: 8 });
}

#[test]
fn emit_refuses_more_than_64_bytes() {
    let err = IsoTpPdu::single(&[0u8; 63], 0).emit(id(), None, &fd_optimised()).unwrap_err();
    assert_eq!(err, EmitError::TooLong { max: 64 });
}

// --- one test per parse rule ---------------------------------------------------------------

#[test]
fn empty_frame_has_no_pci() {
    assert_eq!(parse(&[]), Err(PciError::MissingPci { address_len: 0 }));
    assert_eq!(IsoTpPdu::parse(&[], EXTENDED), Err(PciError::MissingAddressByte));
    assert_eq!(IsoTpPdu::parse(&[0xF1], EXTENDED), Err(PciError::MissingPci { address_len: 1 }));
}

#[test]
fn reserved_pci_types_are_rejected_and_round_trip_as_unknown() {
    for nibble in 4..=0xFu8 {
        assert_eq!(parse(&[nibble << 4, 0, 0]), Err(PciError::UnknownFrameType { nibble }));
        assert_eq!(u8::from(FrameType::from(nibble)), nibble);
    }
}

#[test]
fn sf_dl_zero_escape_in_classic_frame_is_rejected() {
    assert_eq!(parse(&[0x00, 0x03, 1, 2, 3]), Err(PciError::SfEscapeInClassicFrame { can_dl: 5 }));
}

#[test]
fn sf_dl_larger_than_the_frame_is_rejected() {
    assert_eq!(
        parse(&[0x04, 1, 2, 3]),
        Err(PciError::SfDlTooLarge { sf_dl: 4, max: 3, can_dl: 4 })
    );
    // 7 is the classic maximum with normal addressing, 6 with an address byte.
    assert!(parse(&[0x07, 1, 2, 3, 4, 5, 6, 7]).is_ok());
    assert_eq!(
        IsoTpPdu::parse(&[0xF1, 0x07, 1, 2, 3, 4, 5, 6], EXTENDED),
        Err(PciError::SfDlTooLarge { sf_dl: 7, max: 6, can_dl: 8 })
    );
    // a nibble of 8..F can never fit a classic frame
    assert_eq!(
        parse(&[0x08, 1, 2, 3, 4, 5, 6, 7]),
        Err(PciError::SfDlTooLarge { sf_dl: 8, max: 7, can_dl: 8 })
    );
}

#[test]
fn unescaped_sf_in_fd_frame_above_8_bytes_is_rejected() {
    let mut data = [0u8; 12];
    data[0] = 0x05;
    assert_eq!(parse(&data), Err(PciError::SfNotEscapedInFdFrame { can_dl: 12, sf_dl: 5 }));
}

#[test]
fn escaped_sf_with_zero_or_too_large_sf_dl_is_rejected() {
    let mut data = [0u8; 12];
    assert_eq!(parse(&data), Err(PciError::SfDlZero { max: 10 }));
    data[1] = 11;
    assert_eq!(parse(&data), Err(PciError::SfDlTooLarge { sf_dl: 11, max: 10, can_dl: 12 }));
    data[1] = 10;
    assert!(parse(&data).is_ok());
}

#[test]
fn short_ff_is_rejected() {
    assert_eq!(parse(&[0x10, 0x08, 1, 2, 3, 4, 5]), Err(PciError::FfTooShort { can_dl: 7 }));
}

#[test]
fn ff_dl_below_the_minimum_is_rejected_at_7_and_accepted_at_8() {
    assert_eq!(
        parse(&[0x10, 0x07, 1, 2, 3, 4, 5, 6]),
        Err(PciError::FfDlTooSmall { ff_dl: 7, min: 8, rx_dl: 8 })
    );
    assert!(parse(&[0x10, 0x08, 1, 2, 3, 4, 5, 6]).is_ok());
    // with an address byte the minimum is 7
    assert!(IsoTpPdu::parse(&[0xF1, 0x10, 0x07, 1, 2, 3, 4, 5], EXTENDED).is_ok());
    assert_eq!(
        IsoTpPdu::parse(&[0xF1, 0x10, 0x06, 1, 2, 3, 4, 5], EXTENDED),
        Err(PciError::FfDlTooSmall { ff_dl: 6, min: 7, rx_dl: 8 })
    );
}

#[test]
fn ff_dl_minimum_grows_with_rx_dl() {
    let mut data = [0u8; 64];
    data[0] = 0x10;
    data[1] = 62;
    assert_eq!(parse(&data), Err(PciError::FfDlTooSmall { ff_dl: 62, min: 63, rx_dl: 64 }));
    data[1] = 63;
    assert!(parse(&data).is_ok());
}

#[test]
fn escaped_ff_with_ff_dl_up_to_4095_is_rejected() {
    assert_eq!(
        parse(&[0x10, 0x00, 0x00, 0x00, 0x0F, 0xFF, 1, 2]),
        Err(PciError::FfEscapeNotNeeded { ff_dl: 4095 })
    );
    assert_eq!(parse(&[0x10, 0, 0, 0, 0, 0, 1, 2]), Err(PciError::FfEscapeNotNeeded { ff_dl: 0 }));
}

#[test]
fn ff_dl_4095_uses_12_bits_and_4096_the_escape() {
    assert_eq!(
        IsoTpPdu::first(4095, &[]),
        IsoTpPdu::FirstFrame { escaped: false, ff_dl: 4095, data: &[] }
    );
    assert_eq!(
        IsoTpPdu::first(4096, &[]),
        IsoTpPdu::FirstFrame { escaped: true, ff_dl: 4096, data: &[] }
    );
    assert_eq!(ff_capacity(8, 0, 4095), 6);
    assert_eq!(ff_capacity(8, 0, 4096), 2);
}

#[test]
fn short_fc_is_rejected() {
    assert_eq!(parse(&[0x30, 0x00]), Err(PciError::FcTooShort { len: 2 }));
}

#[test]
fn reserved_flow_status_parses_as_unknown() {
    let pdu = parse(&[0x35, 0, 0]).unwrap();
    assert_eq!(
        pdu,
        IsoTpPdu::FlowControl(FlowControl {
            flow_status: FlowStatus::Unknown(5),
            block_size: 0,
            st_min: StMin::ZERO
        })
    );
    for n in 0..16u8 {
        assert_eq!(u8::from(FlowStatus::from(n)), n);
    }
}

#[test]
fn st_min_maps_every_raw_value_and_reserved_means_127_ms() {
    for raw in 0..=255u8 {
        let st = StMin::from_raw(raw);
        assert_eq!(st.raw(), raw, "round trip of 0x{raw:02X}");
        let expected = match raw {
            0x00..=0x7F => Duration::from_millis(raw as u64),
            0xF1..=0xF9 => Duration::from_micros((raw as u64 - 0xF0) * 100),
            _ => Duration::from_millis(127),
        };
        assert_eq!(st.duration(), expected, "0x{raw:02X}");
        assert_eq!(st.is_reserved(), matches!(raw, 0x80..=0xF0 | 0xFA..=0xFF));
    }
}

#[test]
fn out_of_range_st_min_values_built_by_hand_are_clamped() {
    assert_eq!(StMin::Millis(200).raw(), 0x7F);
    assert_eq!(StMin::Micros(50).raw(), 0xF1);
    assert_eq!(StMin::Micros(5000).raw(), 0xF9);
}

#[test]
fn tx_dl_accepts_only_valid_can_fd_lengths() {
    let valid: Vec<usize> = (0..=70).filter(|&n| TxDl::new(n).is_some()).collect();
    assert_eq!(valid, vec![8, 12, 16, 20, 24, 32, 48, 64]);
}

#[test]
fn fixed_ids_build_and_decode() {
    let phys = normal_fixed_id(0x10, 0xF1, TargetAddressType::Physical);
    assert_eq!(phys.as_raw(), 0x18DA_10F1);
    assert_eq!(normal_fixed_id(0x33, 0xF1, TargetAddressType::Functional).as_raw(), 0x18DB_33F1);
    assert_eq!(mixed_29bit_id(0x10, 0xF1, TargetAddressType::Physical).as_raw(), 0x18CE_10F1);
    let func = mixed_29bit_id(0x10, 0xF1, TargetAddressType::Functional);
    assert_eq!(func.as_raw(), 0x18CD_10F1);
    assert_eq!(
        parse_fixed_id(func.into()),
        Some(FixedIdParts {
            mode: AddressingMode::Mixed,
            target_address_type: TargetAddressType::Functional,
            target: 0x10,
            source: 0xF1
        })
    );
    assert_eq!(parse_fixed_id(id()), None);
    assert_eq!(parse_fixed_id(ExtendedId::new(0x18EA_10F1).unwrap().into()), None);
}

#[test]
fn emit_writes_forbidden_encodings_on_request() {
    // an escaped SF in a classic frame, for negative tests
    let pdu = IsoTpPdu::SingleFrame { escaped: true, data: &[1, 2] };
    let frame = pdu.emit(id(), None, &classic_padded()).unwrap();
    assert_eq!(&frame.data()[..4], &[0x00, 0x02, 1, 2]);
    assert_eq!(parse(frame.data()), Err(PciError::SfEscapeInClassicFrame { can_dl: 8 }));
    // an escaped FF with FF_DL 100
    let pdu = IsoTpPdu::FirstFrame { escaped: true, ff_dl: 100, data: &[9, 9] };
    let frame = pdu.emit(id(), None, &classic_padded()).unwrap();
    assert_eq!(parse(frame.data()), Err(PciError::FfEscapeNotNeeded { ff_dl: 100 }));
}

#[test]
fn display_is_one_human_line() {
    assert_eq!(parse(&SF_BYTES).unwrap().to_string(), "SF SF_DL 3 [22 F1 90]");
    assert_eq!(parse(&FC_BYTES).unwrap().to_string(), "FC CTS BS 8 STmin 300 us");
    assert_eq!(
        parse(&[0x31, 0x00, 0x80]).unwrap().to_string(),
        "FC WAIT BS 0 STmin 0x80 (reserved, 127 ms)"
    );
    assert_eq!(parse(&FF_ESCAPED_BYTES).unwrap().to_string(), "FF (escaped) FF_DL 4096 [AB CD]");
    assert_eq!(
        PciError::FfDlTooSmall { ff_dl: 7, min: 8, rx_dl: 8 }.to_string(),
        "FF_DL: 7 is below the minimum 8 for RX_DL 8 (it fits a single frame)"
    );
}
