//! Parameters of one ISO-TP connection: addressing (CAN ids and address bytes), frame format
//! (TX_DL, FD, padding), the timers of ISO 15765-2:2016 §9.7 and the behaviour profile of the
//! sender and receiver halves.
//!
//! The defaults are strict ISO: timeouts 1000 ms, BS/STmin latched from the first CTS (both static
//! and dynamic are legal, docs/protocol.md#flow-control), no sender WAIT limit, a receiver that
//! grants BS 0 / STmin 0 and never sends WAIT.
//!
//! May import `crate::codec` and `crate::proto`.

use core::time::Duration;

use crate::codec::can::CanId;
use crate::codec::isotp::{
    AddressingMode, FrameFormat, StMin, TargetAddressType, TxDl, mixed_29bit_id, normal_fixed_id,
};

/// One direction of addressing on the bus: a CAN id and, for extended/mixed addressing, the
/// address byte (N_TA or N_AE) that starts each frame's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CanAddress {
    pub id: CanId,
    pub address_byte: Option<u8>,
}

impl CanAddress {
    pub const fn new(id: CanId, address_byte: Option<u8>) -> Self {
        CanAddress { id, address_byte }
    }
}

/// The addressing of one connection (ISO 15765-2:2016 §10.3): where our frames go (`tx`),
/// which frames are ours (`rx`), and optional functional (group) addresses. Functional
/// addressing carries single frames only (§10.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IsoTpAddress {
    pub mode: AddressingMode,
    /// Our SF/FF/CF and the FCs of our receiver go here.
    pub tx: CanAddress,
    /// Frames with this id (and address byte) are the peer's, to us.
    pub rx: CanAddress,
    /// Where [`Endpoint::send_functional`](super::Endpoint::send_functional) sends.
    pub functional_tx: Option<CanAddress>,
    /// Single frames received here are delivered as functional requests.
    pub functional_rx: Option<CanAddress>,
}

impl IsoTpAddress {
    /// Normal addressing, 11- or 29-bit: one CAN id per direction.
    pub fn normal(tx_id: CanId, rx_id: CanId) -> Self {
        Self::with(
            AddressingMode::Normal,
            CanAddress::new(tx_id, None),
            CanAddress::new(rx_id, None),
        )
    }

    /// Normal fixed addressing from our address `source` to the peer's `target`:
    /// tx `0x18DA<target><source>`, rx `0x18DA<source><target>`.
    pub fn normal_fixed(source: u8, target: u8) -> Self {
        let tx = normal_fixed_id(target, source, TargetAddressType::Physical).into();
        let rx = normal_fixed_id(source, target, TargetAddressType::Physical).into();
        Self::with(
            AddressingMode::NormalFixed,
            CanAddress::new(tx, None),
            CanAddress::new(rx, None),
        )
    }

    /// Extended addressing: our frames start with the peer's address `target` (N_TA); frames
    /// for us start with our address `source`.
    pub fn extended(tx_id: CanId, rx_id: CanId, source: u8, target: u8) -> Self {
        Self::with(
            AddressingMode::Extended,
            CanAddress::new(tx_id, Some(target)),
            CanAddress::new(rx_id, Some(source)),
        )
    }

    /// Mixed addressing with 11-bit ids: every frame starts with the address extension N_AE.
    pub fn mixed_11bit(tx_id: CanId, rx_id: CanId, address_extension: u8) -> Self {
        Self::with(
            AddressingMode::Mixed,
            CanAddress::new(tx_id, Some(address_extension)),
            CanAddress::new(rx_id, Some(address_extension)),
        )
    }

    /// Mixed addressing with 29-bit ids: tx `0x18CE<target><source>`, rx
    /// `0x18CE<source><target>`, every frame starting with N_AE.
    pub fn mixed_29bit(source: u8, target: u8, address_extension: u8) -> Self {
        let tx = mixed_29bit_id(target, source, TargetAddressType::Physical).into();
        let rx = mixed_29bit_id(source, target, TargetAddressType::Physical).into();
        Self::with(
            AddressingMode::Mixed,
            CanAddress::new(tx, Some(address_extension)),
            CanAddress::new(rx, Some(address_extension)),
        )
    }

    fn with(mode: AddressingMode, tx: CanAddress, rx: CanAddress) -> Self {
        IsoTpAddress { mode, tx, rx, functional_tx: None, functional_rx: None }
    }

    /// The same connection seen from the peer: tx and rx swapped.
    pub fn reversed(self) -> Self {
        IsoTpAddress {
            tx: self.rx,
            rx: self.tx,
            functional_tx: self.functional_rx,
            functional_rx: self.functional_tx,
            ..self
        }
    }

    /// 1 when frames carry an address byte, else 0.
    pub fn address_len(&self) -> usize {
        self.mode.address_len()
    }
}

/// The timers of ISO 15765-2:2016 §9.7 Table 22. N_As, N_Ar, N_Bs and N_Cr are timeouts;
/// N_Br and N_Cs are the delays *this* node takes before an FC / a CF (performance values:
/// the standard bounds them by N_Br + N_Ar < 0.9 N_Bs and N_Cs + N_As < 0.9 N_Cr of the peer),
/// so a test can make our node slow on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timers {
    /// Sender: transmission confirmation of each frame -> N_TIMEOUT_A.
    pub n_as: Duration,
    /// Receiver: transmission confirmation of each FC -> N_TIMEOUT_A.
    pub n_ar: Duration,
    /// Sender: wait for an FC (after FF, each block, each WAIT) -> N_TIMEOUT_Bs.
    pub n_bs: Duration,
    /// Receiver: delay before each FC it sends (so also the spacing of a WAIT train).
    pub n_br: Duration,
    /// Sender: delay before each CF in addition to STmin (the gap is max(STmin, N_Cs)).
    pub n_cs: Duration,
    /// Receiver: wait for the next CF -> N_TIMEOUT_Cr.
    pub n_cr: Duration,
}

impl Default for Timers {
    /// 1000 ms timeouts (ISO 15765-2:2016 Table 22), no deliberate delays.
    fn default() -> Self {
        let second = Duration::from_millis(1000);
        Timers {
            n_as: second,
            n_ar: second,
            n_bs: second,
            n_br: Duration::ZERO,
            n_cs: Duration::ZERO,
            n_cr: second,
        }
    }
}

/// Where the sender takes BS and STmin from (docs/protocol.md#flow-control: both are legal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FcParameters {
    /// From the first CTS of a message; later CTS only open the next block.
    #[default]
    Static,
    /// From every CTS.
    Dynamic,
}

/// How the sender half behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SenderProfile {
    pub fc_parameters: FcParameters,
    /// `None`: every WAIT restarts N_Bs, without limit (ISO). `Some(n)`: the (n+1)-th WAIT
    /// in a row aborts the transmission with N_WFT_OVRN (an implementation choice).
    pub max_wait_frames: Option<u32>,
}

/// How the receiver half behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReceiverProfile {
    /// BS granted in each CTS.
    pub block_size: u8,
    /// STmin granted in each CTS.
    pub st_min: StMin,
    /// FC WAITs sent before each CTS (after the FF and after each block), to act busy.
    pub wait_frames: u32,
    /// N_WFTmax: WAITs in a row the receiver may send; needing more ends the reception
    /// with N_WFT_OVRN (ISO 15765-2:2016 §9.6.5.1).
    pub n_wft_max: u32,
    /// Largest message accepted; an FF above it is answered with FC OVFLW and nothing is
    /// allocated for it.
    pub max_receive_size: u32,
}

impl Default for ReceiverProfile {
    fn default() -> Self {
        ReceiverProfile {
            block_size: 0,
            st_min: StMin::ZERO,
            wait_frames: 0,
            n_wft_max: 0,
            max_receive_size: 1 << 20,
        }
    }
}

/// How the driver confirms that a frame left (ISO 15765-2:2016 §9.7: L_Data.confirm, which
/// stops N_As / N_Ar).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TxConfirmation {
    /// A frame counts as transmitted when `poll_transmit` hands it out, at the latest `now`
    /// the node was given. N_As / N_Ar then never expire. For drivers without echo.
    #[default]
    OnPoll,
    /// The driver calls `handle_tx_confirmation(now)` once per frame, in the order the frames
    /// were polled (e.g. on the bus echo of its own frame). Until then no further frame of
    /// that half is produced, and N_As / N_Ar run.
    Explicit,
}

/// Everything one connection needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IsoTpConfig {
    pub address: IsoTpAddress,
    /// Largest CAN_DL we send (8 for classic CAN).
    pub tx_dl: TxDl,
    /// Classic or FD frames, bit rate switch, padding.
    pub format: FrameFormat,
    pub timers: Timers,
    pub sender: SenderProfile,
    pub receiver: ReceiverProfile,
    pub tx_confirmation: TxConfirmation,
}

impl IsoTpConfig {
    /// Classic CAN, padded with 0xCC, strict ISO behaviour.
    pub fn new(address: IsoTpAddress) -> Self {
        IsoTpConfig {
            address,
            tx_dl: TxDl::CLASSIC,
            format: FrameFormat::default(),
            timers: Timers::default(),
            sender: SenderProfile::default(),
            receiver: ReceiverProfile::default(),
            tx_confirmation: TxConfirmation::default(),
        }
    }

    /// Checks the combination of settings; each error names the setting and the rule.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.tx_dl.is_fd() && !self.format.fd {
            return Err(ConfigError::TxDlNeedsFd { tx_dl: self.tx_dl.get() });
        }
        let a = &self.address;
        let wants_byte = a.mode.has_address_byte();
        let all = [Some(a.tx), Some(a.rx), a.functional_tx, a.functional_rx];
        for addr in all.into_iter().flatten() {
            if addr.address_byte.is_some() != wants_byte {
                return Err(ConfigError::AddressByte { mode: a.mode, id: addr.id });
            }
            if matches!(a.mode, AddressingMode::NormalFixed) && !addr.id.is_extended() {
                return Err(ConfigError::FixedNeeds29Bit { id: addr.id });
            }
        }
        if a.tx == a.rx {
            return Err(ConfigError::SameTxAndRx { id: a.tx.id });
        }
        Ok(())
    }
}

/// A setting that cannot work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("tx_dl: {tx_dl} needs CAN FD frames (TX_DL > 8), but the format is classic CAN")]
    TxDlNeedsFd { tx_dl: usize },
    #[error(
        "address byte of id {id}: {mode} addressing needs one exactly when it is extended or mixed"
    )]
    AddressByte { mode: AddressingMode, id: CanId },
    #[error("id {id}: normal fixed addressing uses 29-bit identifiers (0x18DA/0x18DB)")]
    FixedNeeds29Bit { id: CanId },
    #[error("tx and rx: both are {id} with the same address byte, frames could not be told apart")]
    SameTxAndRx { id: CanId },
}
