//! ISO-TP (ISO 15765-2:2016) network protocol control information (N_PCI): parse and emit of
//! single (SF), first (FF), consecutive (CF) and flow control (FC) frames, the addressing modes
//! and their CAN identifiers, and frame padding.
//!
//! Pure: bytes <-> typed frames, no state, no clock. The stateful sender/receiver live in
//! `proto::isotp`.
//!
//! # Contract
//! - [`IsoTpPdu::parse`] enforces every per-frame rule a receiver applies (§9.6) and says which
//!   field broke which rule ([`PciError`]); a receiver *ignores* a frame that fails to parse
//!   (docs/protocol.md#ignored-frames). [`PciView`] reads the raw fields of any frame, valid or
//!   not, for dumps and diagnostics.
//! - [`IsoTpPdu::emit`] writes exactly the PDU it is given, including encodings the standard
//!   forbids (an escaped SF in a classic frame, an escaped FF with a small FF_DL), because
//!   negative tests need them; [`IsoTpPdu::single`] and [`IsoTpPdu::first`] choose the legal
//!   encoding. Only physical limits (64 bytes, 8 for classic CAN) are refused.
//! - Every wire code is an open enum: unknown frame types, reserved flow status and reserved
//!   STmin values round-trip.
//!
//! May import only `crate::codec`.

use core::fmt;
use core::time::Duration;

use crate::codec::can::{CanFrame, CanId, ExtendedId, FrameError, fd_padded_len};
use crate::codec::open_enum::open_enum;

/// The padding byte most stacks use (ISO 15765-2:2016 recommends 0xCC; AUTOSAR default).
pub const DEFAULT_PADDING_BYTE: u8 = 0xCC;

/// The largest FF_DL the 12-bit field can carry; above it the FF escape (32-bit FF_DL) is
/// used (ISO 15765-2:2016 §9.6.3.1).
pub const FF_DL_12BIT_MAX: u32 = 4095;

/// The classic CAN data length (CAN_DL of a classic frame, and the smallest TX_DL).
pub const CLASSIC_CAN_DL: usize = 8;

open_enum! {
    custom_display;
    /// The N_PCI type nibble (high nibble of the first byte after an optional address byte).
    /// Built from the nibble (`b >> 4`); 4-F are reserved: a receiver ignores such frames
    /// (ISO 15765-2:2016 §9.6.1, Table 8).
    pub enum FrameType: u8 {
        SingleFrame = 0, "single_frame", "SF",
        FirstFrame = 1, "first_frame", "FF",
        ConsecutiveFrame = 2, "consecutive_frame", "CF",
        FlowControl = 3, "flow_control", "FC",
    }
}

impl fmt::Display for FrameType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.description() {
            Some(text) => f.write_str(text),
            None => write!(f, "PCI type 0x{:X} (reserved)", self.raw()),
        }
    }
}

open_enum! {
    custom_display;
    /// FC flow status (ISO 15765-2:2016 §9.6.5.1, Table 18), built from the FS nibble; 3-F are
    /// reserved: the sender aborts with N_INVALID_FS.
    pub enum FlowStatus: u8 {
        /// Continue to send.
        ContinueToSend = 0, "continue_to_send", "CTS",
        /// Wait; the sender restarts N_Bs.
        Wait = 1, "wait", "WAIT",
        /// Overflow; the sender aborts with N_BUFFER_OVFLW.
        Overflow = 2, "overflow", "OVFLW",
    }
}

impl fmt::Display for FlowStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.description() {
            Some(text) => f.write_str(text),
            None => write!(f, "FS 0x{:X} (reserved)", self.raw()),
        }
    }
}

/// Separation time minimum between CFs (ISO 15765-2:2016 §9.6.5.4, Table 20).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StMin {
    /// 0x00-0x7F: 0-127 ms.
    Millis(u8),
    /// 0xF1-0xF9: 100-900 us (the value is in microseconds).
    Micros(u16),
    /// 0x80-0xF0, 0xFA-0xFF: reserved; the sender uses 127 ms for the rest of the message.
    Reserved(u8),
}

impl StMin {
    /// The longest defined STmin, used in place of a reserved value (§9.6.5.4).
    pub const RESERVED_FALLBACK: Duration = Duration::from_millis(127);

    pub const ZERO: StMin = StMin::Millis(0);

    pub const fn from_raw(raw: u8) -> StMin {
        match raw {
            0x00..=0x7F => StMin::Millis(raw),
            0xF1..=0xF9 => StMin::Micros((raw - 0xF0) as u16 * 100),
            _ => StMin::Reserved(raw),
        }
    }

    /// The wire byte. Out-of-range values built by hand are clamped to the nearest defined
    /// one (`Millis(200)` -> 0x7F, `Micros(50)` -> 0xF1), so emit never writes a value the
    /// caller did not ask for by name; send a reserved value with [`StMin::Reserved`].
    pub const fn raw(self) -> u8 {
        match self {
            StMin::Millis(ms) => {
                if ms > 0x7F {
                    0x7F
                } else {
                    ms
                }
            }
            StMin::Micros(us) => {
                let steps = us / 100;
                let steps = if steps < 1 {
                    1
                } else if steps > 9 {
                    9
                } else {
                    steps
                };
                0xF0 + steps as u8
            }
            StMin::Reserved(raw) => raw,
        }
    }

    /// The gap the sender must keep: reserved values count as 127 ms.
    pub fn duration(self) -> Duration {
        match StMin::from_raw(self.raw()) {
            StMin::Millis(ms) => Duration::from_millis(ms as u64),
            StMin::Micros(us) => Duration::from_micros(us as u64),
            StMin::Reserved(_) => Self::RESERVED_FALLBACK,
        }
    }

    pub fn is_reserved(self) -> bool {
        matches!(StMin::from_raw(self.raw()), StMin::Reserved(_))
    }
}

impl fmt::Display for StMin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match StMin::from_raw(self.raw()) {
            StMin::Millis(ms) => write!(f, "{ms} ms"),
            StMin::Micros(us) => write!(f, "{us} us"),
            StMin::Reserved(raw) => write!(f, "0x{raw:02X} (reserved, 127 ms)"),
        }
    }
}

/// A valid TX_DL / RX_DL: 8, 12, 16, 20, 24, 32, 48 or 64 (ISO 15765-2:2016 §9.5.2, Table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxDl(u8);

impl TxDl {
    pub const CLASSIC: TxDl = TxDl(8);
    pub const FD_MAX: TxDl = TxDl(64);
    pub const ALL: [TxDl; 8] =
        [TxDl(8), TxDl(12), TxDl(16), TxDl(20), TxDl(24), TxDl(32), TxDl(48), TxDl(64)];

    /// `None` unless `len` is one of 8, 12, 16, 20, 24, 32, 48, 64.
    pub fn new(len: usize) -> Option<TxDl> {
        TxDl::ALL.into_iter().find(|d| d.0 as usize == len)
    }

    pub const fn get(self) -> usize {
        self.0 as usize
    }

    /// TX_DL above 8 needs CAN FD frames.
    pub const fn is_fd(self) -> bool {
        self.0 > 8
    }
}

impl fmt::Display for TxDl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The addressing format (ISO 15765-2:2016 §10.3): decides whether the first data byte is an
/// address byte (N_TA for extended, N_AE for mixed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressingMode {
    /// One CAN identifier per direction, 11- or 29-bit; no address byte.
    Normal,
    /// 29-bit `0x18DA<TA><SA>` physical / `0x18DB<TA><SA>` functional; no address byte.
    NormalFixed,
    /// First data byte = N_TA (target address).
    Extended,
    /// First data byte = N_AE (address extension); 11-bit ids, or 29-bit
    /// `0x18CE<TA><SA>` physical / `0x18CD<TA><SA>` functional.
    Mixed,
}

impl AddressingMode {
    pub const fn has_address_byte(self) -> bool {
        matches!(self, AddressingMode::Extended | AddressingMode::Mixed)
    }

    /// 1 when frames carry an address byte, else 0.
    pub const fn address_len(self) -> usize {
        if self.has_address_byte() { 1 } else { 0 }
    }
}

impl fmt::Display for AddressingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressingMode::Normal => "normal",
            AddressingMode::NormalFixed => "normal fixed",
            AddressingMode::Extended => "extended",
            AddressingMode::Mixed => "mixed",
        })
    }
}

/// Physical (one node) or functional (a group; single frames only) target (§10.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetAddressType {
    Physical,
    Functional,
}

/// The 29-bit identifier of normal fixed addressing: `0x18DA<TA><SA>` physical,
/// `0x18DB<TA><SA>` functional (ISO 15765-2:2016 §10.3.3, priority 6).
pub fn normal_fixed_id(target: u8, source: u8, tat: TargetAddressType) -> ExtendedId {
    let pf = match tat {
        TargetAddressType::Physical => 0xDA,
        TargetAddressType::Functional => 0xDB,
    };
    fixed_id(pf, target, source)
}

/// The 29-bit identifier of mixed addressing: `0x18CE<TA><SA>` physical, `0x18CD<TA><SA>`
/// functional (ISO 15765-2:2016 §10.3.5).
pub fn mixed_29bit_id(target: u8, source: u8, tat: TargetAddressType) -> ExtendedId {
    let pf = match tat {
        TargetAddressType::Physical => 0xCE,
        TargetAddressType::Functional => 0xCD,
    };
    fixed_id(pf, target, source)
}

fn fixed_id(pf: u8, target: u8, source: u8) -> ExtendedId {
    let raw = 0x1800_0000 | (pf as u32) << 16 | (target as u32) << 8 | source as u32;
    // Cannot fail: the highest value is 0x18FF_FFFF < 2^29.
    ExtendedId::new(raw).unwrap_or(ExtendedId::MAX)
}

/// What a fixed 29-bit identifier (normal fixed or mixed) says, for dumps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FixedIdParts {
    pub mode: AddressingMode,
    pub target_address_type: TargetAddressType,
    pub target: u8,
    pub source: u8,
}

/// Decodes `0x18DA/0x18DB/0x18CE/0x18CD <TA><SA>` identifiers; `None` for any other id.
pub fn parse_fixed_id(id: CanId) -> Option<FixedIdParts> {
    let CanId::Extended(id) = id else { return None };
    let raw = id.as_raw();
    if raw >> 24 != 0x18 {
        return None;
    }
    let (mode, tat) = match (raw >> 16) as u8 {
        0xDA => (AddressingMode::NormalFixed, TargetAddressType::Physical),
        0xDB => (AddressingMode::NormalFixed, TargetAddressType::Functional),
        0xCE => (AddressingMode::Mixed, TargetAddressType::Physical),
        0xCD => (AddressingMode::Mixed, TargetAddressType::Functional),
        _ => return None,
    };
    Some(FixedIdParts {
        mode,
        target_address_type: tat,
        target: (raw >> 8) as u8,
        source: raw as u8,
    })
}

/// How frames are padded (ISO 15765-2:2016 §10.4.2.1). FD frames with more than 8 bytes are
/// always padded to the next valid CAN_DL with `byte`, whatever `length_optimised` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Padding {
    /// The fill byte.
    pub byte: u8,
    /// `true`: frames are as short as their content (CAN_DL optimisation); `false`: frames
    /// are padded to at least 8 bytes.
    pub length_optimised: bool,
}

impl Padding {
    /// Pad every frame to at least 8 bytes with `byte`.
    pub const fn padded(byte: u8) -> Padding {
        Padding { byte, length_optimised: false }
    }

    /// Frames as short as their content; FD frames above 8 bytes filled with `byte`.
    pub const fn length_optimised(byte: u8) -> Padding {
        Padding { byte, length_optimised: true }
    }

    /// The CAN_DL of a frame whose content is `content_len` bytes.
    pub fn frame_len(self, content_len: usize, fd: bool) -> Option<usize> {
        let len = if self.length_optimised { content_len } else { content_len.max(CLASSIC_CAN_DL) };
        if fd {
            fd_padded_len(len)
        } else if len <= CLASSIC_CAN_DL {
            Some(len)
        } else {
            None
        }
    }
}

impl Default for Padding {
    fn default() -> Self {
        Padding::padded(DEFAULT_PADDING_BYTE)
    }
}

/// The frame format of one sending node: classic or FD, bit rate switch, padding. The
/// default is classic CAN padded with 0xCC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FrameFormat {
    /// Send CAN FD frames (needed for TX_DL > 8; FD frames may also be short).
    pub fd: bool,
    /// Bit rate switch on FD frames.
    pub brs: bool,
    pub padding: Padding,
}

/// The SF_DL a frame of `can_dl` bytes can carry: 7 (6 with an address byte) up to CAN_DL 8,
/// CAN_DL - 2 (- 1) above, with the SF escape (ISO 15765-2:2016 §9.6.2.1, Table 10).
pub const fn max_sf_dl(can_dl: usize, address_len: usize) -> usize {
    if can_dl <= CLASSIC_CAN_DL {
        CLASSIC_CAN_DL - 1 - address_len
    } else {
        can_dl - 2 - address_len
    }
}

/// The smallest FF_DL a receiver accepts for an FF of `rx_dl` bytes: one more than the
/// largest SF it could have been (8, or 7 with an address byte, for classic CAN; 63 at
/// RX_DL 64 with normal addressing) (ISO 15765-2:2016 §9.6.3.2, Table 14).
pub const fn min_ff_dl(rx_dl: usize, address_len: usize) -> u32 {
    max_sf_dl(rx_dl, address_len) as u32 + 1
}

/// Payload bytes in one CF of `dl` bytes.
pub const fn cf_capacity(dl: usize, address_len: usize) -> usize {
    dl - 1 - address_len
}

/// Payload bytes in an FF of `dl` bytes for a message of `ff_dl` bytes (12-bit or escaped).
pub const fn ff_capacity(dl: usize, address_len: usize, ff_dl: u32) -> usize {
    let pci = if ff_dl > FF_DL_12BIT_MAX { 6 } else { 2 };
    dl - pci - address_len
}

/// A typed N_PDU (the frame after the optional address byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsoTpPdu<'a> {
    /// SF: `0L data` or escaped `00 LL data` (CAN FD, CAN_DL > 8). SF_DL = `data.len()`.
    SingleFrame { escaped: bool, data: &'a [u8] },
    /// FF: `1H LL data` or escaped `10 00 L L L L data` (32-bit FF_DL).
    FirstFrame { escaped: bool, ff_dl: u32, data: &'a [u8] },
    /// CF: `2N data`, `sn` 0-15.
    ConsecutiveFrame { sn: u8, data: &'a [u8] },
    /// FC: `3S BS STmin`.
    FlowControl(FlowControl),
}

/// The three fields of an FC (ISO 15765-2:2016 §9.6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowControl {
    pub flow_status: FlowStatus,
    /// 0: no further FC; n: n CFs per block.
    pub block_size: u8,
    pub st_min: StMin,
}

impl FlowControl {
    pub const fn cts(block_size: u8, st_min: StMin) -> FlowControl {
        FlowControl { flow_status: FlowStatus::ContinueToSend, block_size, st_min }
    }

    /// WAIT and OVFLW carry no meaningful BS/STmin: they are sent as zero.
    pub const fn wait() -> FlowControl {
        FlowControl { flow_status: FlowStatus::Wait, block_size: 0, st_min: StMin::ZERO }
    }

    pub const fn overflow() -> FlowControl {
        FlowControl { flow_status: FlowStatus::Overflow, block_size: 0, st_min: StMin::ZERO }
    }
}

/// Why a frame is not a valid N_PDU. A receiver ignores such a frame (ISO 15765-2:2016 §9.6;
/// docs/protocol.md#ignored-frames). Each variant names the field and the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PciError {
    /// The frame has no byte for the address (N_TA / N_AE).
    #[error("address byte: the frame is empty, extended/mixed addressing needs an N_TA/N_AE byte")]
    MissingAddressByte,
    /// The frame has no N_PCI byte.
    #[error("N_PCI: the frame has no N_PCI byte after {address_len} address byte(s)")]
    MissingPci { address_len: usize },
    /// N_PCI type 4-F is reserved (§9.6.1 Table 8).
    #[error("N_PCI type: 0x{nibble:X} is reserved (valid: 0 SF, 1 FF, 2 CF, 3 FC)")]
    UnknownFrameType { nibble: u8 },
    /// SF_DL 0 in a frame of CAN_DL <= 8: the escape exists only for CAN_DL > 8 (§9.6.2.1).
    #[error("SF_DL: 0 (escape) is only valid when CAN_DL > 8, this frame has CAN_DL {can_dl}")]
    SfEscapeInClassicFrame { can_dl: usize },
    /// An SF in a frame of CAN_DL > 8 must use the escape (§9.6.2.1 Table 10).
    #[error("SF_DL: CAN_DL {can_dl} > 8 requires the SF escape (low nibble 0), found {sf_dl}")]
    SfNotEscapedInFdFrame { can_dl: usize, sf_dl: u8 },
    /// An escaped SF needs the SF_DL byte.
    #[error("SF_DL: the escaped SF has no SF_DL byte")]
    SfEscapeTruncated,
    /// SF_DL 0 after the escape.
    #[error("SF_DL: 0 is not a valid length (1..={max})")]
    SfDlZero { max: usize },
    /// SF_DL larger than the frame can carry.
    #[error("SF_DL: {sf_dl} exceeds the {max} bytes a frame of CAN_DL {can_dl} carries")]
    SfDlTooLarge { sf_dl: usize, max: usize, can_dl: usize },
    /// An FF must fill a frame of at least 8 bytes (§9.6.3.1; RX_DL is learned from it).
    #[error("FF: CAN_DL {can_dl} is too short, an FF has CAN_DL >= 8")]
    FfTooShort { can_dl: usize },
    /// FF_DL smaller than the minimum for the FF's CAN_DL (§9.6.3.2 Table 14).
    #[error("FF_DL: {ff_dl} is below the minimum {min} for RX_DL {rx_dl} (it fits a single frame)")]
    FfDlTooSmall { ff_dl: u32, min: u32, rx_dl: usize },
    /// The 32-bit escape is only for FF_DL > 4095 (§9.6.3.1).
    #[error("FF_DL: the escape (32-bit FF_DL) carries {ff_dl}, only values > 4095 may be escaped")]
    FfEscapeNotNeeded { ff_dl: u32 },
    /// An FC needs FS, BS and STmin.
    #[error("FC: {len} N_PCI byte(s), an FC has 3 (FS, BS, STmin)")]
    FcTooShort { len: usize },
}

/// A view over the bytes of any frame that reads raw N_PCI fields without judging them; each
/// accessor returns `None` when the frame is too short for that field. For dumps and for
/// explaining why a frame was ignored.
#[derive(Debug, Clone, Copy)]
pub struct PciView<'a> {
    data: &'a [u8],
    address_len: usize,
}

impl<'a> PciView<'a> {
    pub fn new(data: &'a [u8], mode: AddressingMode) -> Self {
        PciView { data, address_len: mode.address_len() }
    }

    /// N_TA or N_AE.
    pub fn address_byte(&self) -> Option<u8> {
        if self.address_len == 1 { self.data.first().copied() } else { None }
    }

    fn byte(&self, i: usize) -> Option<u8> {
        self.data.get(self.address_len + i).copied()
    }

    pub fn frame_type(&self) -> Option<FrameType> {
        self.byte(0).map(|b| FrameType::from(b >> 4))
    }

    /// The low nibble of the first N_PCI byte (SF_DL, FF_DL high bits, SN or FS).
    pub fn low_nibble(&self) -> Option<u8> {
        self.byte(0).map(|b| b & 0x0F)
    }

    /// SF_DL as written: the nibble, or the escape byte when the nibble is 0.
    pub fn sf_dl(&self) -> Option<usize> {
        match self.low_nibble()? {
            0 => self.byte(1).map(usize::from),
            n => Some(n as usize),
        }
    }

    /// FF_DL as written: the 12-bit value, or the 32-bit escaped value when it is 0.
    pub fn ff_dl(&self) -> Option<u32> {
        let short = (self.low_nibble()? as u32) << 8 | self.byte(1)? as u32;
        if short != 0 {
            return Some(short);
        }
        let b = [self.byte(2)?, self.byte(3)?, self.byte(4)?, self.byte(5)?];
        Some(u32::from_be_bytes(b))
    }

    pub fn sn(&self) -> Option<u8> {
        self.low_nibble()
    }

    pub fn flow_status(&self) -> Option<FlowStatus> {
        self.low_nibble().map(FlowStatus::from)
    }

    pub fn block_size(&self) -> Option<u8> {
        self.byte(1)
    }

    pub fn st_min(&self) -> Option<StMin> {
        self.byte(2).map(StMin::from_raw)
    }
}

impl<'a> IsoTpPdu<'a> {
    /// An SF for `data` in the legal encoding: the escape only when the frame needs more than
    /// 8 bytes (which then must be an FD frame).
    pub fn single(data: &'a [u8], address_len: usize) -> IsoTpPdu<'a> {
        IsoTpPdu::SingleFrame { escaped: data.len() > max_sf_dl(CLASSIC_CAN_DL, address_len), data }
    }

    /// An FF in the legal encoding: the 32-bit escape only when `ff_dl` > 4095.
    pub fn first(ff_dl: u32, data: &'a [u8]) -> IsoTpPdu<'a> {
        IsoTpPdu::FirstFrame { escaped: ff_dl > FF_DL_12BIT_MAX, ff_dl, data }
    }

    pub fn frame_type(&self) -> FrameType {
        match self {
            IsoTpPdu::SingleFrame { .. } => FrameType::SingleFrame,
            IsoTpPdu::FirstFrame { .. } => FrameType::FirstFrame,
            IsoTpPdu::ConsecutiveFrame { .. } => FrameType::ConsecutiveFrame,
            IsoTpPdu::FlowControl(_) => FrameType::FlowControl,
        }
    }

    /// Parses the data of a frame received with addressing `mode`: returns the address byte
    /// (for extended/mixed) and the PDU, or the rule the frame breaks. The frame's CAN_DL is
    /// `data.len()`. Trailing bytes beyond SF_DL / FC are padding and are not checked.
    pub fn parse(data: &'a [u8], mode: AddressingMode) -> Result<(Option<u8>, Self), PciError> {
        let address_len = mode.address_len();
        let address = if address_len == 1 {
            Some(*data.first().ok_or(PciError::MissingAddressByte)?)
        } else {
            None
        };
        let can_dl = data.len();
        let pdu = &data[address_len..];
        let first = *pdu.first().ok_or(PciError::MissingPci { address_len })?;
        let nibble = first & 0x0F;
        let parsed = match FrameType::from(first >> 4) {
            FrameType::SingleFrame => Self::parse_sf(pdu, nibble, can_dl, address_len)?,
            FrameType::FirstFrame => Self::parse_ff(pdu, nibble, can_dl, address_len)?,
            FrameType::ConsecutiveFrame => {
                IsoTpPdu::ConsecutiveFrame { sn: nibble, data: &pdu[1..] }
            }
            FrameType::FlowControl => {
                if pdu.len() < 3 {
                    return Err(PciError::FcTooShort { len: pdu.len() });
                }
                IsoTpPdu::FlowControl(FlowControl {
                    flow_status: FlowStatus::from(nibble),
                    block_size: pdu[1],
                    st_min: StMin::from_raw(pdu[2]),
                })
            }
            FrameType::Unknown(nibble) => return Err(PciError::UnknownFrameType { nibble }),
        };
        Ok((address, parsed))
    }

    /// ISO 15765-2:2016 §9.6.2: "If CAN_DL <= 8 ... SF_DL in the low nibble (1..7); if
    /// CAN_DL > 8 the low nibble is 0 and SF_DL is the next byte." Linux can-isotp applies
    /// the same split (isotp_rcv: escape only for cf->len > CAN_MAX_DLEN).
    fn parse_sf(
        pdu: &'a [u8],
        nibble: u8,
        can_dl: usize,
        address_len: usize,
    ) -> Result<Self, PciError> {
        let (escaped, sf_dl, pci_len) = if can_dl <= CLASSIC_CAN_DL {
            if nibble == 0 {
                return Err(PciError::SfEscapeInClassicFrame { can_dl });
            }
            (false, nibble as usize, 1)
        } else {
            if nibble != 0 {
                return Err(PciError::SfNotEscapedInFdFrame { can_dl, sf_dl: nibble });
            }
            let sf_dl = *pdu.get(1).ok_or(PciError::SfEscapeTruncated)? as usize;
            (true, sf_dl, 2)
        };
        let max = can_dl - address_len - pci_len;
        if sf_dl == 0 {
            return Err(PciError::SfDlZero { max });
        }
        if sf_dl > max {
            return Err(PciError::SfDlTooLarge { sf_dl, max, can_dl });
        }
        Ok(IsoTpPdu::SingleFrame { escaped, data: &pdu[pci_len..pci_len + sf_dl] })
    }

    /// ISO 15765-2:2016 §9.6.3: an FF fills a frame of CAN_DL >= 8 (that CAN_DL becomes
    /// RX_DL), FF_DL is at least one more than the largest SF of that RX_DL, and the 32-bit
    /// escape is used only for FF_DL > 4095.
    fn parse_ff(
        pdu: &'a [u8],
        nibble: u8,
        can_dl: usize,
        address_len: usize,
    ) -> Result<Self, PciError> {
        if can_dl < CLASSIC_CAN_DL {
            return Err(PciError::FfTooShort { can_dl });
        }
        // can_dl >= 8 and address_len <= 1, so pdu has at least 7 bytes: indexes 0..6 exist.
        let short = (nibble as u32) << 8 | pdu[1] as u32;
        let (escaped, ff_dl, pci_len) = if short == 0 {
            let ff_dl = u32::from_be_bytes([pdu[2], pdu[3], pdu[4], pdu[5]]);
            if ff_dl <= FF_DL_12BIT_MAX {
                return Err(PciError::FfEscapeNotNeeded { ff_dl });
            }
            (true, ff_dl, 6)
        } else {
            (false, short, 2)
        };
        let min = min_ff_dl(can_dl, address_len);
        if ff_dl < min {
            return Err(PciError::FfDlTooSmall { ff_dl, min, rx_dl: can_dl });
        }
        Ok(IsoTpPdu::FirstFrame { escaped, ff_dl, data: &pdu[pci_len..] })
    }

    /// Writes the N_PCI and data (after `address`, if any) into `out`; returns the content
    /// length (before padding) or `None` when it exceeds 64 bytes.
    pub fn write(&self, address: Option<u8>, out: &mut [u8; 64]) -> Option<usize> {
        let mut w = Writer { out, len: 0 };
        if let Some(a) = address {
            w.put(&[a])?;
        }
        match *self {
            IsoTpPdu::SingleFrame { escaped: false, data } => {
                w.put(&[(data.len() as u8).min(0x0F)])?;
                w.put(data)?;
            }
            IsoTpPdu::SingleFrame { escaped: true, data } => {
                w.put(&[0x00, data.len().min(0xFF) as u8])?;
                w.put(data)?;
            }
            IsoTpPdu::FirstFrame { escaped: false, ff_dl, data } => {
                let ff_dl = ff_dl.min(FF_DL_12BIT_MAX);
                w.put(&[0x10 | (ff_dl >> 8) as u8, ff_dl as u8])?;
                w.put(data)?;
            }
            IsoTpPdu::FirstFrame { escaped: true, ff_dl, data } => {
                w.put(&[0x10, 0x00])?;
                w.put(&ff_dl.to_be_bytes())?;
                w.put(data)?;
            }
            IsoTpPdu::ConsecutiveFrame { sn, data } => {
                w.put(&[0x20 | (sn & 0x0F)])?;
                w.put(data)?;
            }
            IsoTpPdu::FlowControl(fc) => {
                // A reserved FS beyond a nibble must not spill into the frame type.
                w.put(&[0x30 | (fc.flow_status.raw() & 0x0F), fc.block_size, fc.st_min.raw()])?;
            }
        }
        Some(w.len)
    }

    /// The CAN frame carrying this PDU: address byte, N_PCI, data, then padding as `format`
    /// says (FD frames above 8 bytes always padded to a valid CAN_DL).
    pub fn emit(
        &self,
        id: CanId,
        address: Option<u8>,
        format: &FrameFormat,
    ) -> Result<CanFrame, EmitError> {
        let mut buf = [0u8; 64];
        let content = self.write(address, &mut buf).ok_or(EmitError::TooLong { max: 64 })?;
        let len = format
            .padding
            .frame_len(content, format.fd)
            .ok_or(EmitError::TooLong { max: if format.fd { 64 } else { CLASSIC_CAN_DL } })?;
        buf[content..len].fill(format.padding.byte);
        let frame = if format.fd {
            CanFrame::new_fd(id, &buf[..len], format.brs)
        } else {
            CanFrame::new(id, &buf[..len])
        };
        frame.map_err(EmitError::Frame)
    }
}

/// Why a PDU could not be put in a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    /// Address byte + N_PCI + data exceed what the frame kind carries.
    #[error("frame data: address byte + N_PCI + data exceed {max} bytes")]
    TooLong { max: usize },
    #[error(transparent)]
    Frame(FrameError),
}

struct Writer<'o> {
    out: &'o mut [u8; 64],
    len: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) -> Option<()> {
        let end = self.len.checked_add(bytes.len())?;
        self.out.get_mut(self.len..end)?.copy_from_slice(bytes);
        self.len = end;
        Some(())
    }
}

impl fmt::Display for IsoTpPdu<'_> {
    /// isotpdump style: `SF len 3 [22 F1 90]`, `FC CTS BS 8 STmin 20 ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn hex(f: &mut fmt::Formatter<'_>, data: &[u8]) -> fmt::Result {
            f.write_str("[")?;
            for (i, b) in data.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{b:02X}")?;
            }
            f.write_str("]")
        }
        match self {
            IsoTpPdu::SingleFrame { escaped, data } => {
                write!(f, "SF{} SF_DL {} ", if *escaped { " (escaped)" } else { "" }, data.len())?;
                hex(f, data)
            }
            IsoTpPdu::FirstFrame { escaped, ff_dl, data } => {
                write!(f, "FF{} FF_DL {ff_dl} ", if *escaped { " (escaped)" } else { "" })?;
                hex(f, data)
            }
            IsoTpPdu::ConsecutiveFrame { sn, data } => {
                write!(f, "CF SN {sn:X} ")?;
                hex(f, data)
            }
            IsoTpPdu::FlowControl(fc) => {
                write!(f, "FC {} BS {} STmin {}", fc.flow_status, fc.block_size, fc.st_min)
            }
        }
    }
}

/// One CAN frame as an isotpdump-style line: id, CAN_DL (`FD`, `BRS`), the address byte of
/// extended or mixed addressing, then the N_PDU or why it is invalid (ISO 15765-2 §9.6).
pub fn describe_frame(frame: &CanFrame, mode: AddressingMode) -> String {
    use core::fmt::Write as _;
    let mut line = String::with_capacity(96);
    let dl = match (frame.is_fd(), frame.brs()) {
        (false, _) => format!("[{}]", frame.len()),
        (true, false) => format!("[{} FD]", frame.len()),
        (true, true) => format!("[{} FD BRS]", frame.len()),
    };
    let _ = write!(line, "{:>8}  {dl:<11} ", frame.id().to_string());
    match IsoTpPdu::parse(frame.data(), mode) {
        Ok((address, pdu)) => {
            if let Some(a) = address {
                let label = if mode == AddressingMode::Mixed { "AE" } else { "TA" };
                let _ = write!(line, "{label} {a:02X}  ");
            }
            let _ = write!(line, "{pdu}");
        }
        Err(e) => {
            let _ = write!(line, "invalid: {e} [");
            for (i, b) in frame.data().iter().enumerate() {
                let _ = write!(line, "{}{b:02X}", if i > 0 { " " } else { "" });
            }
            line.push(']');
        }
    }
    line
}

#[cfg(test)]
mod tests;
