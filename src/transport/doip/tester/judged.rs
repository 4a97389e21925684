//! A tester connection's recording into the judge ([`crate::judge::live::LiveFeed`]): every
//! frame both ways and every change of the connection, timed from its start. `request`'s
//! session and the fuzzer's connections judge their traffic through it (docs/rules.md).

use super::{Change, Link, Recording};
use crate::codec::doip::Message;
use crate::judge::live::{LiveChange, LiveFeed};
use crate::pcap::Side;
use tokio::time::Instant;

/// A tester connection's traffic through the judge (docs/rules.md), as a run's cases are: a
/// session shows what the entity did wrong beside the answers, the fuzzer makes it a finding.
/// Times count from `start`.
pub struct Judged {
    pub feed: LiveFeed,
    pub start: Instant,
}

impl Judged {
    /// A feed without CAN, its times from now.
    pub fn new() -> Judged {
        Judged { feed: LiveFeed::new(&[]), start: Instant::now() }
    }

    pub fn time(&self, at: Instant) -> std::time::Duration {
        at.saturating_duration_since(self.start)
    }
}

impl Default for Judged {
    fn default() -> Self {
        Judged::new()
    }
}

impl Recording for Judged {
    type Sent = ();

    fn describe(_: &Message<'_>) {}

    fn changed(&mut self, link: &Link, at: Instant, change: Change) {
        let change = match change {
            Change::Opened => LiveChange::Opened,
            Change::ClosedByEntity => LiveChange::ClosedByEntity,
            Change::Reset => LiveChange::Reset,
            Change::ClosedByUs => LiveChange::ClosedByTester,
            Change::Abandoned => LiveChange::Abandoned,
        };
        let time = self.time(at);
        self.feed.connection(link.local, link.peer, change, time);
    }

    fn sent(&mut self, link: &Link, at: Instant, bytes: &[u8], _: ()) -> Result<(), String> {
        let time = self.time(at);
        self.feed.tcp(link.local, link.peer, Side::Tester, bytes, time);
        Ok(())
    }

    fn received(
        &mut self,
        link: &Link,
        at: Instant,
        bytes: &[u8],
        _: &Result<Message<'static>, String>,
    ) -> Result<(), String> {
        let time = self.time(at);
        self.feed.tcp(link.local, link.peer, Side::Entity, bytes, time);
        Ok(())
    }
}
