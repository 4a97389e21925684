//! The boundary between CAN frames and N_PDUs for one connection: which received frames are
//! ours (id and address byte), physical or functional, and how our PDUs become frames
//! (address byte, padding, FD).
//!
//! May import `crate::codec` and `crate::proto`.

use crate::codec::can::CanFrame;
use crate::codec::isotp::{IsoTpPdu, PciError, TxDl};

use super::config::{CanAddress, IsoTpConfig};

/// How a received frame concerns this connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Incoming<'a> {
    /// On our physical rx address.
    Physical(IsoTpPdu<'a>),
    /// On our functional rx address.
    Functional(IsoTpPdu<'a>),
    /// On one of our addresses but not a valid N_PDU: ignored (§9.6).
    Malformed(PciError),
    /// Another node's traffic.
    NotOurs,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Link {
    pub(crate) config: IsoTpConfig,
}

impl Link {
    pub(crate) fn address_len(&self) -> usize {
        self.config.address.address_len()
    }

    pub(crate) fn tx_dl(&self) -> TxDl {
        self.config.tx_dl
    }

    fn matches(&self, at: CanAddress, frame: &CanFrame) -> bool {
        frame.id() == at.id
            && match at.address_byte {
                None => true,
                // An empty frame on our id is judged (as malformed) rather than skipped.
                Some(byte) => frame.data().first().is_none_or(|&b| b == byte),
            }
    }

    pub(crate) fn classify<'a>(&self, frame: &'a CanFrame) -> Incoming<'a> {
        let address = &self.config.address;
        let functional = if self.matches(address.rx, frame) {
            false
        } else if address.functional_rx.is_some_and(|f| self.matches(f, frame)) {
            true
        } else {
            return Incoming::NotOurs;
        };
        match IsoTpPdu::parse(frame.data(), address.mode) {
            Ok((_, pdu)) if functional => Incoming::Functional(pdu),
            Ok((_, pdu)) => Incoming::Physical(pdu),
            Err(e) => Incoming::Malformed(e),
        }
    }

    /// The frame carrying `pdu` to `to`. `None` only if the PDU does not fit the frame
    /// format, which the halves rule out by sizing chunks from a validated TX_DL.
    pub(crate) fn frame(&self, pdu: &IsoTpPdu<'_>, to: CanAddress) -> Option<CanFrame> {
        pdu.emit(to.id, to.address_byte, &self.config.format).ok()
    }
}
