//! Drives a pure ISO-TP [`Endpoint`] over a [`CanTransport`] on the real clock: the small
//! tokio loop of the quinn-proto model (feed frames with their receive stamps, sleep until
//! `poll_timeout`, send what `poll_transmit` yields, hand out `poll_event`).
//!
//! Time: the driver's epoch is its creation; the endpoint sees `proto::time::Instant` = time
//! since then. Frames carry the stamp the transport took when it read them, so STmin and N_Cr
//! are judged on arrival time rather than on when this loop got round to them. The time handed
//! in never goes backwards (a frame read late but stamped early is fed at the latest `now`).
//!
//! tokio's timers tick in milliseconds, so a sub-millisecond STmin (0xF1-0xF9) is kept as
//! about 1 ms here: never shorter than asked, as ISO 15765-2 requires of the sender.
//!
//! [`IsoTpDriver`] owns its transport (the `isotp` command); [`EndpointDriver`] borrows one per
//! call and shows every frame to an observer (the runner, whose cases also send raw frames on
//! the same node and record every frame as an event).
//!
//! With `echo` in the spec the endpoint should use `TxConfirmation::Explicit`: each echo of
//! our own frame becomes `handle_tx_confirmation`, so N_As / N_Ar are real.

use super::{CanTransport, CanTransportError, Origin, Received};
use crate::codec::can::CanFrame;
use crate::proto::isotp::{Endpoint, SendError, TransferEvent, TxConfirmation};
use crate::proto::time::Instant as ProtoInstant;
use std::time::Instant;

/// A frame the driver moved, shown to an observer (the runner records every one as an event).
#[derive(Debug, Clone, Copy)]
pub enum Traffic<'a> {
    /// Handed to the transport at `at`.
    Sent { at: Instant, frame: &'a CanFrame },
    /// Taken from the transport (any id, echoes included), with the transport's stamp.
    Received(&'a Received),
}

/// An [`Endpoint`] and its clock, driven over a transport the caller lends for each call (so
/// the caller can also use the transport between calls, e.g. for raw frames).
#[derive(Debug)]
pub struct EndpointDriver {
    endpoint: Endpoint,
    epoch: Instant,
    last_now: ProtoInstant,
}

impl EndpointDriver {
    pub fn new(endpoint: Endpoint) -> Self {
        EndpointDriver { endpoint, epoch: Instant::now(), last_now: ProtoInstant::ZERO }
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The endpoint's time for the monotonic instant `at`, never earlier than the last one.
    fn proto_time(&mut self, at: Instant) -> ProtoInstant {
        let t = ProtoInstant::from_epoch(at.saturating_duration_since(self.epoch));
        self.last_now = self.last_now.max(t);
        self.last_now
    }

    /// The real instant of the endpoint time `t`.
    fn real_time(&self, t: ProtoInstant) -> Instant {
        self.epoch
            .checked_add(t.since_epoch())
            .unwrap_or_else(|| Instant::now() + std::time::Duration::from_secs(86_400))
    }

    /// Starts sending `payload` (the frames go out while [`EndpointDriver::next_event`] runs).
    pub fn send(&mut self, payload: &[u8]) -> Result<(), SendError> {
        let now = self.proto_time(Instant::now());
        self.endpoint.send(now, payload)
    }

    /// Starts sending `payload` as a functionally addressed single frame.
    pub fn send_functional(&mut self, payload: &[u8]) -> Result<(), SendError> {
        let now = self.proto_time(Instant::now());
        self.endpoint.send_functional(now, payload)
    }

    /// Runs the endpoint over `transport` until it reports an event, or until `deadline`
    /// (then `None`); `observe` sees every frame sent and received meanwhile.
    /// Cancel-safe between frames: a frame is taken from the transport only when it is fed.
    pub async fn next_event(
        &mut self,
        transport: &mut CanTransport,
        deadline: Option<Instant>,
        observe: &mut (dyn FnMut(Traffic<'_>) + Send),
    ) -> Result<Option<TransferEvent>, CanTransportError> {
        loop {
            while let Some(frame) = self.endpoint.poll_transmit() {
                transport.send(&frame).await?;
                observe(Traffic::Sent { at: Instant::now(), frame: &frame });
            }
            if let Some(event) = self.endpoint.poll_event() {
                return Ok(Some(event));
            }
            if let Some(d) = deadline
                && d <= Instant::now()
            {
                // Woken at or after the deadline: what arrived by then still counts.
                match transport.recv_arrived_by(d) {
                    Some(rx) => self.feed(&rx, observe),
                    None => return Ok(None),
                }
                continue;
            }
            let wake = self.endpoint.poll_timeout().map(|t| self.real_time(t));
            let far = Instant::now();
            tokio::select! {
                biased;
                r = transport.recv() => self.feed(&r?, observe),
                _ = tokio::time::sleep_until(wake.unwrap_or(far).into()), if wake.is_some() => {
                    // A busy machine may run us well after the timer was due: a frame that
                    // arrived before it (by its stamp) goes first, and may stop the timer
                    // (N_Bs, N_Cr); the endpoint sees it at its arrival time.
                    let due = wake.unwrap_or(far);
                    match transport.recv_arrived_by(due) {
                        Some(rx) => self.feed(&rx, observe),
                        None => {
                            let now = self.proto_time(Instant::now());
                            self.endpoint.handle_timeout(now);
                        }
                    }
                }
                _ = tokio::time::sleep_until(deadline.unwrap_or(far).into()), if deadline.is_some() => {}
            }
        }
    }

    /// Shows `rx` to the observer and feeds it to the endpoint at its arrival time.
    fn feed(&mut self, rx: &Received, observe: &mut (dyn FnMut(Traffic<'_>) + Send)) {
        observe(Traffic::Received(rx));
        let now = self.proto_time(rx.at);
        match rx.origin {
            Origin::Peer => self.endpoint.handle_frame(now, &rx.frame),
            Origin::Echo => {
                if self.endpoint.config().tx_confirmation == TxConfirmation::Explicit {
                    self.endpoint.handle_tx_confirmation(now);
                }
            }
        }
    }
}

/// An [`Endpoint`] on a [`CanTransport`] it owns.
#[derive(Debug)]
pub struct IsoTpDriver {
    transport: CanTransport,
    driver: EndpointDriver,
}

impl IsoTpDriver {
    pub fn new(transport: CanTransport, endpoint: Endpoint) -> Self {
        IsoTpDriver { transport, driver: EndpointDriver::new(endpoint) }
    }

    pub fn endpoint(&self) -> &Endpoint {
        self.driver.endpoint()
    }

    pub fn transport(&self) -> &CanTransport {
        &self.transport
    }

    /// Starts sending `payload` (the frames go out while [`IsoTpDriver::next_event`] runs).
    pub fn send(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.driver.send(payload)
    }

    /// Runs the endpoint until it reports an event, or until `deadline` (then `None`).
    /// Cancel-safe between frames: a frame is taken from the transport only when it is fed.
    pub async fn next_event(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Option<TransferEvent>, CanTransportError> {
        self.driver.next_event(&mut self.transport, deadline, &mut |_| {}).await
    }

    /// Sends what a batching transport still holds.
    pub async fn flush(&mut self) -> Result<(), CanTransportError> {
        self.transport.flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::can::{CanId, StandardId};
    use crate::codec::isotp::StMin;
    use crate::proto::isotp::{IsoTpAddress, IsoTpConfig, NResult, ReceiverProfile};
    use crate::transport::can::memory::MemoryBus;
    use std::time::Duration;

    fn id(raw: u16) -> CanId {
        CanId::Standard(StandardId::new(raw).unwrap())
    }

    async fn driver(
        bus: &str,
        echo: bool,
        tx: u16,
        rx: u16,
        receiver: ReceiverProfile,
    ) -> IsoTpDriver {
        let spec = format!("memory:{bus}{}", if echo { "?echo" } else { "" });
        let transport = CanTransport::open(&spec.parse().unwrap()).await.unwrap();
        let mut config = IsoTpConfig::new(IsoTpAddress::normal(id(tx), id(rx)));
        config.receiver = receiver;
        if echo {
            config.tx_confirmation = TxConfirmation::Explicit;
        }
        IsoTpDriver::new(transport, Endpoint::new(config).unwrap())
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    async fn until(d: &mut IsoTpDriver, pick: impl Fn(&TransferEvent) -> bool) -> TransferEvent {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let e = d.next_event(Some(deadline)).await.unwrap().expect("no event before 10 s");
            if pick(&e) {
                return e;
            }
        }
    }

    /// Runs `d` until its own message was sent and the peer's arrived; returns the latter.
    async fn exchange(d: &mut IsoTpDriver) -> Vec<u8> {
        let (mut got, mut sent) = (None, false);
        while got.is_none() || !sent {
            let e = until(d, |e| {
                matches!(e, TransferEvent::MessageReceived { .. } | TransferEvent::MessageSent)
            });
            match e.await {
                TransferEvent::MessageReceived { payload, .. } => got = Some(payload),
                _ => sent = true,
            }
        }
        got.unwrap_or_default()
    }

    #[test]
    fn full_duplex_transfers_with_echo_confirmations_keep_stmin_and_bs() {
        rt().block_on(async {
            let grant = ReceiverProfile {
                block_size: 3,
                st_min: StMin::from_raw(0xF5),
                ..ReceiverProfile::default()
            };
            let mut a = driver("driver-duplex", true, 0x7E0, 0x7E8, grant).await;
            let mut b = driver("driver-duplex", true, 0x7E8, 0x7E0, grant).await;
            let to_b: Vec<u8> = (0..300).map(|i| i as u8).collect();
            let to_a: Vec<u8> = (0..200).map(|i| (i * 3) as u8).collect();
            a.send(&to_b).unwrap();
            b.send(&to_a).unwrap();
            let started = Instant::now();
            let (ra, rb) = tokio::join!(exchange(&mut a), exchange(&mut b));
            assert_eq!(ra, to_a);
            assert_eq!(rb, to_b);
            // 300 bytes = FF + 42 CFs: at least 41 gaps of 500 us between CFs.
            assert!(started.elapsed() >= Duration::from_micros(41 * 500));
        });
    }

    #[test]
    fn a_silent_peer_ends_in_n_timeout_bs_after_the_first_frame() {
        rt().block_on(async {
            let mut a =
                driver("driver-silent", false, 0x7E0, 0x7E8, ReceiverProfile::default()).await;
            // A node that only listens, so the FF has somewhere to go.
            let _listener = MemoryBus::named("driver-silent").node(Default::default());
            a.send(&[0u8; 20]).unwrap();
            let started = Instant::now();
            let e = until(&mut a, |e| matches!(e, TransferEvent::SendFailed { .. })).await;
            assert_eq!(e, TransferEvent::SendFailed { result: NResult::TimeoutBs });
            assert!(started.elapsed() >= Duration::from_millis(1000));
        });
    }

    #[test]
    fn next_event_returns_none_at_the_deadline() {
        rt().block_on(async {
            let mut a =
                driver("driver-idle", false, 0x7E0, 0x7E8, ReceiverProfile::default()).await;
            let deadline = Instant::now() + Duration::from_millis(20);
            assert_eq!(a.next_event(Some(deadline)).await.unwrap(), None);
            assert!(Instant::now() >= deadline);
        });
    }
}
