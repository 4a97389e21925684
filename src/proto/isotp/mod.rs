//! A conformant ISO-TP (ISO 15765-2:2016) stack, pure and sans-I/O in the manner of
//! quinn-proto: it contains no networking code and never reads the OS clock.
//!
//! ```text
//!   driver (transport + clock)                     proto::isotp
//!   ───────────────────────────                    ─────────────────────────────────
//!   CAN frame from the bus    ── handle_frame(now, &f) ──►  Endpoint ─┬─ Receiver (SF/FF/CF in, FC out)
//!   echo of our own frame     ── handle_tx_confirmation(now) ──►      └─ Sender   (SF/FF/CF out, FC in)
//!   timer fired               ── handle_timeout(now) ──►
//!   bus.send(f)               ◄── poll_transmit() ── Option<CanFrame>
//!   sleep until               ◄── poll_timeout()  ── Option<Instant>
//!   user reports              ◄── poll_event()    ── Option<TransferEvent>
//! ```
//!
//! [`Endpoint`] is the main entry point: one connection (tx id, rx id, addressing) that sends
//! one message at a time and receives concurrently. [`Sender`] and [`Receiver`] are its
//! halves, usable alone. [`IsoTpConfig`] holds addressing, TX_DL, padding, the timers and the
//! behaviour profile (strict ISO by default). [`TransferEvent`] carries every N_Result at the moment
//! the standard raises it, plus message received / sent.
//!
//! Transmit confirmation ([`TxConfirmation`]): by default a frame counts as sent when it is
//! polled (`OnPoll`), so N_As/N_Ar never expire; a driver with bus echo chooses `Explicit`
//! and calls `handle_tx_confirmation(now)` per frame, which makes N_As/N_Ar real and
//! measures STmin from the end of transmission.
//!
//! Timers expire *at* their deadline: a frame handled at `deadline` finds the transfer failed
//! (every `handle_*` processes expired timers before the frame).
//!
//! May import `crate::codec` and `crate::proto`.

mod config;
mod endpoint;
mod link;
mod receiver;
mod sender;
mod transfer_event;

pub use config::{
    CanAddress, ConfigError, FcParameters, IsoTpAddress, IsoTpConfig, ReceiverProfile,
    SenderProfile, Timers, TxConfirmation,
};
pub use endpoint::Endpoint;
pub use receiver::Receiver;
pub use sender::{SendError, Sender};
pub use transfer_event::{IgnoreReason, MAX_QUEUED_IGNORED, NResult, TransferEvent};

#[cfg(test)]
mod tests;
