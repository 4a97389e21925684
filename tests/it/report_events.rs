//! A fixed synthetic run (fixed times, addresses and bytes) that the reporter tests render:
//! every verdict, every transport, a retry, a hostile target's bytes and texts.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use doipcheck::runner::event::*;

/// Text a hostile target could make the harness repeat: terminal escapes, NUL, CR, a CDATA
/// terminator, XML-invalid U+FFFF/U+FFFE, markup, the replacement character of invalid UTF-8.
pub const HOSTILE_TEXT: &str =
    "VIN \u{1b}[31mEVIL\u{0}\r]]><x a=\"&amp;\u{ffff}\u{fffe}\u{fffd}\u{7f}\u{85}";

/// Bytes a hostile target sent: not UTF-8, a CDATA terminator, controls.
pub const HOSTILE_BYTES: &[u8] = b"\xff\xfe]]>\x00\x1b[2J\x02\xfd";

fn us(n: u64) -> RunTime {
    RunTime(Duration::from_micros(n))
}

fn sock(s: &str) -> Address {
    Address::Socket(s.parse::<SocketAddr>().unwrap())
}

fn hex(s: &str) -> Vec<u8> {
    doipcheck::notation::parse_hex(s).unwrap()
}

fn info(file: &str, suite: &str, id: &str, title: &str, line: u32) -> CaseInfo {
    CaseInfo {
        suite_file: PathBuf::from(file),
        suite: suite.into(),
        suite_title: format!("{suite} title"),
        id: id.into(),
        title: title.into(),
        clause: Some("ISO 13400-2:2019 Table 19".into()),
        tags: vec!["header".into()],
        requires: vec!["doip.tcp".into()],
        detects: vec![],
        matrix: vec![],
        line,
    }
}

fn step(file: &str, phase: Phase, index: u32, kind: &str, line: u32) -> StepRef {
    StepRef {
        phase,
        index,
        kind: kind.into(),
        location: SourceLocation { file: PathBuf::from(file), line, column: 9 },
    }
}

/// Builds the events of one case at increasing times.
struct CaseWriter<'a> {
    events: &'a mut Vec<Event>,
    case: CaseKey,
    t: u64,
}

impl CaseWriter<'_> {
    fn at(&mut self, advance_us: u64) -> RunTime {
        self.t += advance_us;
        us(self.t)
    }

    fn step(&mut self, step: &StepRef, summary: &str, status: StepStatus, advance: u64) {
        let at = self.at(advance);
        self.events.push(Event::Step(StepEvent {
            case: self.case,
            at,
            step: step.clone(),
            summary: summary.into(),
            status,
        }));
    }

    fn conn(
        &mut self,
        t: FrameTransport,
        local: &Address,
        peer: &Address,
        change: ConnectionChange,
    ) {
        let at = self.at(100);
        self.events.push(Event::Connection(ConnectionEvent {
            case: self.case,
            at,
            transport: t,
            local: local.clone(),
            peer: peer.clone(),
            change,
        }));
    }

    #[allow(clippy::too_many_arguments)]
    fn frame(
        &mut self,
        dir: Direction,
        t: FrameTransport,
        local: &Address,
        peer: &Address,
        can: Option<CanFrameMeta>,
        bytes: Vec<u8>,
        decoded: Decoded,
        advance: u64,
    ) {
        let at = self.at(advance);
        self.events.push(Event::Frame(FrameEvent {
            case: self.case,
            at,
            direction: dir,
            transport: t,
            local: local.clone(),
            peer: peer.clone(),
            can,
            bytes,
            decoded,
        }));
    }

    fn metric(&mut self, name: &str, value_us: u64, max: Option<Duration>) {
        let at = self.at(5);
        self.events.push(Event::Metric(MetricEvent {
            case: self.case,
            at,
            name: name.into(),
            value: Duration::from_micros(value_us),
            min: None,
            max,
            tolerance: Duration::from_millis(1),
        }));
    }

    fn note(&mut self, text: &str) {
        let at = self.at(10);
        self.events.push(Event::Note(NoteEvent { case: self.case, at, text: text.into() }));
    }

    fn finish(
        &mut self,
        start: u64,
        verdict: Verdict,
        reason: Option<Reason>,
        capture: Option<PathBuf>,
        attempts: u32,
    ) {
        let at = self.at(50);
        self.events.push(Event::CaseFinished(CaseFinished {
            case: self.case,
            at,
            verdict,
            reason,
            duration: Duration::from_micros(self.t - start),
            attempts,
            flaky: attempts > 1 && verdict == Verdict::Pass,
            capture,
            waiver: None,
        }));
    }
}

fn msg(name: &str, summary: &str) -> Decoded {
    Decoded::Message { name: name.into(), summary: summary.into() }
}

/// The sample run. Captures of failing cases are named under `report_dir` with
/// `doipcheck::report::capture_path`; `capture_all` names one for every case (`--pcap all`).
pub fn sample_run(report_dir: &Path, capture_all: bool) -> Vec<Event> {
    let mut events = vec![Event::RunStarted(RunStarted {
        wall_clock_unix_us: 1_763_780_000_000_000,
        target: "built-in simulator".into(),
        profile: None,
        case_count: 6,
        jobs: 1,
        shard: None,
        declared_wait: Duration::from_millis(500),
    })];
    let tester = sock("127.0.0.1:50100");
    let entity = sock("127.0.0.1:40123");
    let header = "suites/doip/header.yaml";
    let activation_req = hex("02fd0005 00000007 0e00 00 00000000");
    let activation_res = hex("02fd0006 00000009 0e00 1000 10 00000000");
    let mut start = 0u64;
    let mut case = |key: u32,
                    info: CaseInfo,
                    events: &mut Vec<Event>,
                    body: &dyn Fn(&mut CaseWriter, u64, Option<PathBuf>)| {
        let case = CaseKey(key);
        start += 1_000;
        let capture = doipcheck::report::capture_path(report_dir, case, &info);
        events.push(Event::CaseStarted(CaseStarted { case, at: us(start), info }));
        let mut w = CaseWriter { events, case, t: start };
        body(&mut w, start, Some(capture));
        start = w.t;
    };
    let keep = move |c: Option<PathBuf>| if capture_all { c } else { None };

    // 0: pass, TCP.
    case(
        0,
        info(header, "doip-header-handling", "HDR-ACT-001", "routing activation is accepted", 10),
        &mut events,
        &|w, s, cap| {
            let send = step(header, Phase::Steps, 0, "send", 14);
            let expect = step(header, Phase::Steps, 1, "expect", 16);
            w.conn(FrameTransport::Tcp, &tester, &entity, ConnectionChange::Opened);
            w.step(
                &send,
                "send routing_activation_request source_address=0x0e00",
                StepStatus::Started,
                10,
            );
            w.frame(
                Direction::Sent,
                FrameTransport::Tcp,
                &tester,
                &entity,
                None,
                activation_req.clone(),
                msg(
                    "routing_activation_request",
                    "routing_activation_request source_address=0x0e00 activation_type=default",
                ),
                20,
            );
            w.step(&send, "", StepStatus::Passed { elapsed: Duration::from_micros(20) }, 1);
            w.step(&expect, "expect routing_activation_response within 2s", StepStatus::Started, 1);
            w.frame(
                Direction::Received,
                FrameTransport::Tcp,
                &tester,
                &entity,
                None,
                activation_res.clone(),
                msg(
                    "routing_activation_response",
                    "routing_activation_response tester=0x0e00 entity=0x1000 code=success",
                ),
                1_200,
            );
            w.step(&expect, "", StepStatus::Passed { elapsed: Duration::from_micros(1_200) }, 1);
            w.metric("activation_time", 1_200, Some(Duration::from_millis(2)));
            w.conn(FrameTransport::Tcp, &tester, &entity, ConnectionChange::ClosedByUs);
            w.finish(s, Verdict::Pass, None, keep(cap), 1);
        },
    );

    // 1: fail, a matrix case: the NACK code is wrong and the entity closes the socket.
    let mut unk = info(
        header,
        "doip-header-handling",
        "HDR-UNK-001[payload_type=0x0009]",
        "unknown payload types are NACKed with 0x01",
        30,
    );
    unk.matrix = vec![("payload_type".into(), "0x0009".into())];
    case(1, unk, &mut events, &|w, s, cap| {
        let raw = step(header, Phase::Steps, 0, "send_raw", 34);
        let expect = step(header, Phase::Steps, 1, "expect", 35);
        let open = step(header, Phase::Steps, 2, "expect_open", 36);
        w.conn(FrameTransport::Tcp, &tester, &entity, ConnectionChange::Opened);
        w.step(&raw, "send_raw 02 fd 00 09 00 00 00 00", StepStatus::Started, 10);
        w.frame(
            Direction::Sent,
            FrameTransport::Tcp,
            &tester,
            &entity,
            None,
            hex("02fd0009 00000000"),
            Decoded::Raw,
            20,
        );
        w.step(&raw, "", StepStatus::Passed { elapsed: Duration::from_micros(20) }, 1);
        w.step(
            &expect,
            "expect generic_nack code=unknown_payload_type within 2s",
            StepStatus::Started,
            1,
        );
        let nack = hex("02fd0000 00000001 00");
        w.frame(
            Direction::Received,
            FrameTransport::Tcp,
            &tester,
            &entity,
            None,
            nack.clone(),
            msg("generic_nack", "generic_nack code=incorrect_pattern_format (0x00)"),
            2_500,
        );
        w.step(&expect, "", StepStatus::Failed { elapsed: Duration::from_micros(2_500) }, 1);
        w.step(&open, "expect_open for 500ms", StepStatus::NotRun, 1);
        w.conn(FrameTransport::Tcp, &tester, &entity, ConnectionChange::ClosedByPeer);
        w.conn(FrameTransport::Tcp, &tester, &entity, ConnectionChange::ClosedByUs);
        let reason = Reason {
            message: "expected generic_nack code=unknown_payload_type within 2s, got generic_nack code=incorrect_pattern_format".into(),
            step: Some(expect.clone()),
            fields: vec![FieldMismatch {
                field: "generic_nack.code".into(),
                expected: "unknown_payload_type (0x01)".into(),
                actual: "incorrect_pattern_format (0x00)".into(),
            }],
            expected_hex: Some("02 fd 00 00 00 00 00 01 01".into()),
            actual_bytes: Some(nack),
            actual_decoded: Some(msg("generic_nack", "generic_nack code=incorrect_pattern_format (0x00)")),
        };
        w.finish(s, Verdict::Fail, Some(reason), cap, 1);
    });

    // 2: error, a hostile target: garbage, hostile text in every string, then a reset.
    let hostile_file = "suites/doip/hostile.yaml";
    case(
        2,
        info(hostile_file, "doip-hostile", "HOS-001", "garbage is survived", 5),
        &mut events,
        &|w, s, cap| {
            let expect = step(hostile_file, Phase::Steps, 0, "expect", 8);
            w.conn(FrameTransport::Tcp, &tester, &entity, ConnectionChange::Opened);
            w.step(&expect, "expect alive_check_request within 1s", StepStatus::Started, 10);
            w.frame(
                Direction::Received,
                FrameTransport::Tcp,
                &tester,
                &entity,
                None,
                HOSTILE_BYTES.to_vec(),
                Decoded::Error {
                    error: format!(
                        "protocol_version 0xff: inverse 0xfe does not match; {HOSTILE_TEXT}"
                    ),
                },
                300,
            );
            w.note(HOSTILE_TEXT);
            w.frame(
                Direction::Received,
                FrameTransport::Tcp,
                &tester,
                &entity,
                None,
                (0..=255u8).collect(),
                Decoded::Raw,
                300,
            );
            w.conn(FrameTransport::Tcp, &tester, &entity, ConnectionChange::Reset);
            w.step(&expect, "", StepStatus::Failed { elapsed: Duration::from_micros(900) }, 1);
            let reason = Reason {
                message: format!("connection reset while waiting; last text: {HOSTILE_TEXT}"),
                step: Some(expect.clone()),
                fields: vec![FieldMismatch {
                    field: "vin".into(),
                    expected: "any".into(),
                    actual: HOSTILE_TEXT.into(),
                }],
                expected_hex: None,
                actual_bytes: Some(HOSTILE_BYTES.to_vec()),
                actual_decoded: Some(Decoded::Error { error: HOSTILE_TEXT.into() }),
            };
            w.finish(s, Verdict::Error, Some(reason), cap, 1);
        },
    );

    // 3: pass on the second attempt: UDP discovery and ISO-TP on CAN (classic and FD).
    let disc = "suites/doip/discovery.yaml";
    case(
        3,
        info(disc, "doip-discovery", "DIS-001", "vehicle identification is answered", 7),
        &mut events,
        &|w, s, cap| {
            let udp_local = sock("127.0.0.1:50200");
            let udp_peer = sock("127.0.0.1:40125");
            let tester_node = Address::Can { bus: "mem0".into(), id: 0x7E0, extended: false };
            let ecu_node = Address::Can { bus: "mem0".into(), id: 0x7E8, extended: false };
            let fd_tester = Address::Can { bus: "mem1".into(), id: 0x18DA_10F1, extended: true };
            let fd_node = Address::Can { bus: "mem1".into(), id: 0x18DA_F110, extended: true };
            w.note("attempt 2 of 2 (retry: the first attempt failed)");
            w.conn(FrameTransport::Udp, &udp_local, &udp_peer, ConnectionChange::Opened);
            w.frame(
                Direction::Sent,
                FrameTransport::Udp,
                &udp_local,
                &udp_peer,
                None,
                hex("02fd0001 00000000"),
                msg("vehicle_identification_request", "vehicle_identification_request"),
                10,
            );
            let mut announcement = hex("02fd0004 00000021");
            announcement.extend_from_slice(b"WVWZZZ1JZXW000001");
            announcement.extend(hex("1000 001122334455 001122334455 00 00"));
            w.frame(
                Direction::Received,
                FrameTransport::Udp,
                &udp_local,
                &udp_peer,
                None,
                announcement,
                msg(
                    "vehicle_identification_response",
                    "vehicle_identification_response vin=WVWZZZ1JZXW000001 logical_address=0x1000",
                ),
                800,
            );
            w.conn(FrameTransport::Udp, &udp_local, &udp_peer, ConnectionChange::ClosedByUs);
            let meta = CanFrameMeta { id: 0x7E0, extended: false, fd: false, brs: false };
            w.frame(
                Direction::Sent,
                FrameTransport::Can,
                &tester_node,
                &ecu_node,
                Some(meta),
                hex("02 10 03 cc cc cc cc cc"),
                msg("single_frame", "SF sf_dl=2 10 03"),
                100,
            );
            let meta = CanFrameMeta { id: 0x7E8, ..meta };
            w.frame(
                Direction::Received,
                FrameTransport::Can,
                &tester_node,
                &ecu_node,
                Some(meta),
                hex("06 50 03 00 32 01 f4 cc"),
                msg("single_frame", "SF sf_dl=6 50 03 00 32 01 f4"),
                900,
            );
            let meta = CanFrameMeta { id: 0x18DA_F110, extended: true, fd: true, brs: true };
            w.frame(
                Direction::Received,
                FrameTransport::Can,
                &fd_tester,
                &fd_node,
                Some(meta),
                vec![0x55; 12],
                Decoded::Raw,
                100,
            );
            w.finish(s, Verdict::Pass, None, keep(cap), 2);
        },
    );

    // 4: skipped: the profile lacks TLS.
    let mut tls = info("suites/doip/tls.yaml", "doip-tls", "TLS-001", "TLS activation", 4);
    tls.requires = vec!["doip.tls".into()];
    tls.clause = None;
    case(4, tls, &mut events, &|w, s, _| {
        let reason = Reason { message: "the profile lacks `doip.tls`".into(), ..Reason::default() };
        w.finish(s, Verdict::Skipped, Some(reason), None, 1);
    });

    // 5: inconclusive: the suite setup could not activate routing.
    case(
        5,
        info(header, "doip-header-handling", "HDR-ALV-001", "alive check is answered", 50),
        &mut events,
        &|w, s, cap| {
            let activate = step(header, Phase::SuiteSetup, 0, "activate", 6);
            w.step(&activate, "activate source_address=0x0e00", StepStatus::Started, 10);
            w.conn(FrameTransport::Tcp, &tester, &entity, ConnectionChange::Opened);
            w.frame(
                Direction::Sent,
                FrameTransport::Tcp,
                &tester,
                &entity,
                None,
                activation_req.clone(),
                msg(
                    "routing_activation_request",
                    "routing_activation_request source_address=0x0e00 activation_type=default",
                ),
                20,
            );
            w.step(
                &activate,
                "",
                StepStatus::Failed { elapsed: Duration::from_millis(2_000) },
                2_000_000,
            );
            w.conn(FrameTransport::Tcp, &tester, &entity, ConnectionChange::Abandoned);
            let reason = Reason {
                message: "setup: no routing_activation_response within 2s".into(),
                step: Some(activate.clone()),
                ..Reason::default()
            };
            w.finish(s, Verdict::Inconclusive, Some(reason), cap, 1);
        },
    );

    let mut counts = Counts::default();
    for e in &events {
        if let Event::CaseFinished(f) = e {
            counts.add(f.verdict, f.flaky);
        }
    }
    let end = events
        .iter()
        .filter_map(|e| match e {
            Event::CaseFinished(f) => Some(f.at),
            _ => None,
        })
        .max()
        .unwrap_or_default();
    events.push(Event::RunFinished(RunFinished {
        at: RunTime(end.0 + Duration::from_micros(100)),
        counts,
        interrupted: false,
        stop_reason: None,
    }));
    events
}
