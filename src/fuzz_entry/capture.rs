//! Whole capture files through `doipcheck inspect`'s engine, in memory: the survey pass, then
//! the reader and the passive checks, with small limits so the caps are reached.
//!
//! Oracle: no panic; events come in packet order and name only packets that exist; every DoIP
//! message the codec accepted emits back to its bytes; every finding names existing packets;
//! the connections followed and the bytes held never exceed the limits; the counters agree
//! with the events. The same events imported as a suite ([`crate::import`]): no panic, and
//! the text stays within what the import keeps.

use crate::import::{ImportOptions, Importer, MAX_CASE_BYTES, Masks, Pace};
use crate::judge::IsoTpTimerValues;
use crate::judge::{ConnectionSummary, Finding, Judge, Report, TimerValues};
use crate::pcap::read::stream::read_records;
use crate::pcap::read::{CaptureEvent, CaptureSink, Limits, ReadConfig, Reader, Survey};
use crate::pcap::socketcan::CanByteOrder;
use std::ops::ControlFlow;
use std::time::Duration;

/// Limits small enough that fuzzed files reach them.
const LIMITS: Limits = Limits {
    max_flows: 4,
    max_held_per_direction: 4096,
    max_held_segments: 16,
    max_held_total: 8192,
    max_message_len: 2048,
};

#[derive(Default)]
struct Checker {
    last_packet: u64,
    doip: u64,
    findings: Vec<Finding>,
}

impl Report for Checker {
    fn event(&mut self, event: &CaptureEvent<'_>) {
        let packet = event.at().map_or(self.last_packet, |at| at.packet);
        assert!(packet >= self.last_packet, "event of packet {packet} after {}", self.last_packet);
        self.last_packet = packet;
        match event {
            CaptureEvent::Doip { bytes, message, .. } => {
                self.doip += 1;
                if let Ok(m) = message {
                    assert_eq!(m.to_bytes(), *bytes, "a decoded message emits its bytes");
                }
            }
            CaptureEvent::DoipTooLong { declared, .. } => {
                self.doip += 1;
                assert!(u64::from(*declared) + 8 > u64::from(LIMITS.max_message_len));
            }
            _ => {}
        }
    }

    fn finding(&mut self, finding: &Finding) {
        assert!(!finding.packets.is_empty(), "{finding:?}");
        self.findings.push(finding.clone());
    }

    fn connection(&mut self, _: &ConnectionSummary) {}
}

/// The oracle over one whole capture file (pcap, pcapng, gzip or anything else).
pub fn capture_file(data: &[u8]) {
    for forced in [None, Some(CanByteOrder::Host)] {
        let mut survey = Survey::new(forced);
        let first = read_records(data, |r| {
            if r.linktype == 227 {
                survey.record(r.data, r.time);
            }
            ControlFlow::Continue(())
        });
        let surveyed = survey.finish();
        let config = ReadConfig {
            can_byte_order: surveyed.can_byte_order.unwrap_or(CanByteOrder::Network),
            isotp_pairs: surveyed.pairs.clone(),
            limits: LIMITS,
            ..ReadConfig::default()
        };
        let ms = Duration::from_millis;
        let timers = TimerValues {
            t_tcp_alive_check: ms(500),
            announce_interval: ms(500),
            announce_num: 3,
            tolerance: ms(1),
        };
        let isotp = IsoTpTimerValues {
            n_bs: ms(50),
            n_cr: ms(50),
            wft_max: 1,
            wft_ecu: None,
            tolerance: ms(1),
            node: None,
        };
        let mut inspector = Judge::new(Checker::default(), &config.isotp_pairs).with_timers(
            timers,
            isotp,
            &config.isotp_pairs,
        );
        let mut importer = Importer::new(ImportOptions {
            name: "fuzz".into(),
            source: "fuzz".into(),
            pace: Pace::Recorded,
            masks: Masks::varying(),
            timers: Vec::new(),
            tolerance: ms(1),
            protocol_version: 0x02,
            isotp_pairs: config.isotp_pairs.clone(),
        });
        let mut reader = Reader::new(config);
        let mut largest_case = 0usize;
        let mut both = |e: CaptureEvent<'_>| {
            importer.event(e.clone());
            for case in importer.take_ready() {
                largest_case = largest_case.max(case.len());
            }
            inspector.event(e);
        };
        let second = read_records(data, |r| {
            reader.record(r, &mut both);
            assert!(reader.open_flows() <= LIMITS.max_flows);
            assert!(reader.held_bytes() <= LIMITS.max_held_total);
            ControlFlow::Continue(())
        });
        reader.finish(&mut both);
        if let Ok(rest) = importer.finish() {
            largest_case = rest.cases.iter().map(String::len).fold(largest_case, usize::max);
        }
        // Each case is cut at twice MAX_CASE_BYTES at the latest: hex is 3 characters a byte,
        // each happening a few lines of YAML.
        assert!(largest_case <= 12 * MAX_CASE_BYTES, "{largest_case} bytes in one case");
        assert_eq!(first, second, "both passes read the same records");
        let findings = inspector.findings();
        let checker = inspector.into_report();
        assert_eq!(checker.findings.len() as u64, findings);
        assert_eq!(checker.doip, reader.stats().doip_messages);
        assert_eq!(reader.stats().packets, second.records);
        // Skipped records keep their packet numbers, so numbers run up to both counts.
        let numbered = second.records + second.skipped.len() as u64;
        for f in &checker.findings {
            assert!(f.packets.iter().all(|&p| p >= 1 && p <= numbered), "{f:?}");
        }
    }
}
