//! The ISO-TP fuzzer's judge: every CAN frame of the campaign both ways (the fuzzer's as it
//! sends them, the node's with the transport's receive stamps, the liveness probes' through
//! the harness's stack) goes to a [`LiveFeed`] built as `run` builds its own: the profile's
//! id pair, `can.gap_tolerance` on STmin gaps. Its findings are the fuzzer's reply checks
//! ([`super::reply_rules`]).

use super::model::repro::ReplyViolation;
use super::reply_rules::violation_in;
use crate::codec::can::CanFrame;
use crate::judge::live::LiveFeed;
use crate::pcap::read::IsoTpPair;
use crate::transport::can::driver::Traffic;
use crate::transport::can::{Origin, Received};
use std::time::{Duration, Instant};

/// The judge of the frames on the fuzzed node's bus.
pub struct BusJudge {
    pairs: Vec<IsoTpPair>,
    gap_tolerance: Duration,
    feed: LiveFeed,
    /// Frame times are taken from here.
    epoch: Instant,
}

impl BusJudge {
    /// A judge of the node on `pairs` (`judge::profile_pairs`), STmin gaps with
    /// `gap_tolerance` (the profile's `can.gap_tolerance`).
    pub fn new(pairs: Vec<IsoTpPair>, gap_tolerance: Duration) -> BusJudge {
        let feed = LiveFeed::with_can(&pairs, gap_tolerance);
        BusJudge { pairs, gap_tolerance, feed, epoch: Instant::now() }
    }

    /// A frame we handed to the transport at `at`.
    pub fn sent(&mut self, frame: &CanFrame, at: Instant) {
        self.feed.can(frame, at.saturating_duration_since(self.epoch));
    }

    /// A frame the transport took in (our own echoes are passed over: [`BusJudge::sent`]
    /// had them).
    pub fn received(&mut self, rx: &Received) {
        if rx.origin == Origin::Peer {
            self.feed.can(&rx.frame, rx.at.saturating_duration_since(self.epoch));
        }
    }

    /// A frame the harness's ISO-TP stack moved.
    pub fn traffic(&mut self, traffic: Traffic<'_>) {
        match traffic {
            Traffic::Sent { at, frame } => self.sent(frame, at),
            Traffic::Received(rx) => self.received(rx),
        }
    }

    /// The violation among what the judge found since the last call, if any; the rest is
    /// dropped.
    pub fn violation(&mut self) -> Option<ReplyViolation> {
        violation_in(&self.feed.take_findings())
    }

    /// The node was restored (power cycled): nothing of its is in progress any more.
    pub fn restart(&mut self) {
        self.feed = LiveFeed::with_can(&self.pairs, self.gap_tolerance);
    }
}
