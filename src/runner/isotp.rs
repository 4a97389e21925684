//! The ISO-TP side of a case (`isotp_send`, `isotp_expect`): whole messages through our
//! conformant stack ([`crate::proto::isotp`]) on the case's own CAN node, so a suite can say
//! "send this UDS request, expect this response" without scripting frames.
//!
//! The connection is built from the profile: `isotp.tx_id` / `isotp.rx_id` (and
//! `isotp.functional_id`), `isotp.extended_ids`, `isotp.padding`, `can.fd` (TX_DL 64), the
//! timers `isotp.n_bs` / `isotp.n_cr`, the BS / STmin the harness grants in its flow control
//! (`isotp.harness_block_size`, `isotp.harness_st_min`) and the target's `isotp.wft_max`: a
//! target that sends more FC WAITs in a row than it declares ends our transmission with
//! N_WFT_OVRN (ISO 15765-2:2016 §9.6.5.1).
//!
//! One endpoint lives for the whole case: a message that arrives while no `isotp_expect` waits
//! is kept for the next one. Frames are recorded by the caller through [`Traffic`]; `can_send`
//! / `can_expect` use the same node but do not feed the endpoint.

use crate::codec::can::CanId;
use crate::codec::isotp::{FrameFormat, Padding, StMin, TxDl};
use crate::proto::isotp::{
    CanAddress, Endpoint, IsoTpAddress, IsoTpConfig, NResult, ReceiverProfile, SenderProfile,
    Timers, TransferEvent,
};
use crate::suite::profile::TargetProfile;
use crate::transport::can::CanTransport;
use crate::transport::can::driver::{EndpointDriver, Traffic};
use std::collections::VecDeque;
use std::time::Instant;

/// Largest message the harness accepts from the target (an FF above it gets FC OVFLW).
const MAX_RECEIVE: u32 = 1 << 16;

/// Messages (and failed receptions) kept for later `isotp_expect` steps at most: a target
/// that floods cannot grow memory.
const MAX_KEPT: usize = 64;

/// The ISO-TP connection of one case.
#[derive(Debug)]
pub struct IsoTpSession {
    driver: EndpointDriver,
    /// Messages the target sent that no `isotp_expect` took yet, oldest first.
    received: VecDeque<Vec<u8>>,
    /// Receptions that failed since the last `isotp_expect`, oldest first.
    failed: VecDeque<NResult>,
}

/// How a transfer ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Sent (for `send`) or a message received (for `next_message`).
    Done(Vec<u8>),
    /// The stack raised this N_Result.
    Failed(NResult),
    /// The deadline passed first.
    TimedOut,
}

/// The harness's end of the connection, as the profile describes the target.
pub fn config(profile: &TargetProfile) -> Result<IsoTpConfig, String> {
    let p = &profile.isotp;
    let extended = p.extended_ids;
    let id = |key: &str, raw: u32| -> Result<CanId, String> {
        CanId::new(raw, extended).ok_or_else(|| {
            format!(
                "profile isotp.{key} {raw:#x} does not fit a {} CAN id",
                if extended { "29-bit" } else { "11-bit" }
            )
        })
    };
    let mut address = IsoTpAddress::normal(id("tx_id", p.tx_id)?, id("rx_id", p.rx_id)?);
    address.functional_tx = Some(CanAddress::new(id("functional_id", p.functional_id)?, None));
    let mut config = IsoTpConfig::new(address);
    let fd = profile.can.fd;
    config.format = FrameFormat { fd, brs: false, padding: Padding::padded(p.padding) };
    config.tx_dl = if fd { TxDl::FD_MAX } else { TxDl::CLASSIC };
    config.timers = Timers { n_bs: p.n_bs, n_cr: p.n_cr, ..Timers::default() };
    config.sender =
        SenderProfile { max_wait_frames: Some(u32::from(p.wft_max)), ..SenderProfile::default() };
    config.receiver = ReceiverProfile {
        block_size: p.harness_block_size,
        st_min: StMin::from_raw(p.harness_st_min),
        max_receive_size: MAX_RECEIVE,
        ..ReceiverProfile::default()
    };
    config.validate().map_err(|e| format!("profile isotp: {e}"))?;
    Ok(config)
}

impl IsoTpSession {
    pub fn new(profile: &TargetProfile) -> Result<IsoTpSession, String> {
        IsoTpSession::new_with(config(profile)?)
    }

    /// A session with `config` (e.g. [`config`] of a profile, made once and reused).
    pub fn new_with(config: IsoTpConfig) -> Result<IsoTpSession, String> {
        let endpoint = Endpoint::new(config).map_err(|e| format!("profile isotp: {e}"))?;
        Ok(IsoTpSession {
            driver: EndpointDriver::new(endpoint),
            received: VecDeque::new(),
            failed: VecDeque::new(),
        })
    }

    /// Sends `payload` (physically, or as a functional single frame) and runs the stack until
    /// the transmission ends or `deadline` passes; messages received meanwhile are kept.
    pub async fn send(
        &mut self,
        transport: &mut CanTransport,
        payload: &[u8],
        functional: bool,
        deadline: Instant,
        observe: &mut (dyn FnMut(Traffic<'_>) + Send),
    ) -> Result<Outcome, String> {
        let started = if functional {
            self.driver.send_functional(payload)
        } else {
            self.driver.send(payload)
        };
        started.map_err(|e| format!("cannot send {} bytes over ISO-TP: {e}", payload.len()))?;
        loop {
            match self.step(transport, deadline, observe).await? {
                None => return Ok(Outcome::TimedOut),
                Some(TransferEvent::MessageSent) => return Ok(Outcome::Done(payload.to_vec())),
                Some(TransferEvent::SendFailed { result }) => return Ok(Outcome::Failed(result)),
                Some(_) => {}
            }
        }
    }

    /// The next message from the target (a kept one first), a failed reception, or nothing
    /// before `deadline`.
    pub async fn next_message(
        &mut self,
        transport: &mut CanTransport,
        deadline: Instant,
        observe: &mut (dyn FnMut(Traffic<'_>) + Send),
    ) -> Result<Outcome, String> {
        loop {
            if let Some(result) = self.failed.pop_front() {
                return Ok(Outcome::Failed(result));
            }
            if let Some(message) = self.received.pop_front() {
                return Ok(Outcome::Done(message));
            }
            if self.step(transport, deadline, observe).await?.is_none() {
                return Ok(Outcome::TimedOut);
            }
        }
    }

    /// Runs the stack to its next event; receptions are filed, the rest returned.
    async fn step(
        &mut self,
        transport: &mut CanTransport,
        deadline: Instant,
        observe: &mut (dyn FnMut(Traffic<'_>) + Send),
    ) -> Result<Option<TransferEvent>, String> {
        let event = self
            .driver
            .next_event(transport, Some(deadline), observe)
            .await
            .map_err(|e| format!("CAN transport: {e}"))?;
        match &event {
            Some(TransferEvent::MessageReceived { payload, .. }) => {
                if self.received.len() == MAX_KEPT {
                    self.received.pop_front();
                }
                self.received.push_back(payload.clone());
            }
            Some(TransferEvent::ReceiveFailed { result }) if self.failed.len() < MAX_KEPT => {
                self.failed.push_back(*result);
            }
            _ => {}
        }
        Ok(event)
    }
}
