//! The only event loop: runs cases over transports, owns the clock, emits events.

pub mod event;
pub mod target;
