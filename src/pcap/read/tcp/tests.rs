//! Passive TCP reassembly: in order, out of order, retransmitted, overlapping, gaps (acknowledged,
//! capped, at the end), FIN/RST, wrap-around and the flow limit.

use super::*;

/// Records every event as text, and each direction's delivered stream.
#[derive(Default)]
struct Log {
    events: Vec<String>,
    streams: [Vec<u8>; 2],
}

impl TcpSink<()> for Log {
    fn tcp_event(&mut self, flow: &FlowMeta, _: &mut (), dir: Dir, event: TcpEvent<'_>) {
        let d = match dir {
            Dir::ToServer => ">",
            Dir::ToClient => "<",
        };
        let text = match event {
            TcpEvent::Opened => format!("{} open", flow.id),
            TcpEvent::Data(b) => {
                self.streams[dir.index()].extend_from_slice(b);
                format!("{d} data {}", b.len())
            }
            TcpEvent::Gap { missing } => format!("{d} gap {missing}"),
            TcpEvent::Fin => format!("{d} fin"),
            TcpEvent::Reset => format!("{d} rst"),
            TcpEvent::Ended { evicted, open_at_end } => {
                format!("{} ended evicted={evicted} open={open_at_end}", flow.id)
            }
        };
        self.events.push(text);
    }

    fn is_server_port(&self, port: u16) -> bool {
        port == 13400
    }

    fn new_flow(&mut self, _: &FlowMeta) {}
}

const C: &str = "127.0.0.1:50000";
const S: &str = "127.0.0.1:13400";

fn seg(seq: u32, ack: Option<u32>, flags: &str, payload: &[u8]) -> TcpSegment<'static> {
    TcpSegment {
        src_port: 0,
        dst_port: 0,
        seq,
        ack,
        syn: flags.contains('S'),
        fin: flags.contains('F'),
        rst: flags.contains('R'),
        payload: Box::leak(payload.to_vec().into_boxed_slice()),
    }
}

struct Run {
    r: Reassembler<()>,
    log: Log,
    packet: u64,
}

impl Run {
    fn new(limits: Limits) -> Self {
        Run { r: Reassembler::new(limits), log: Log::default(), packet: 0 }
    }

    fn client(&mut self, s: TcpSegment<'static>) -> &mut Self {
        self.send(C, S, s)
    }

    fn server(&mut self, s: TcpSegment<'static>) -> &mut Self {
        self.send(S, C, s)
    }

    fn send(&mut self, from: &str, to: &str, s: TcpSegment<'static>) -> &mut Self {
        self.packet += 1;
        let (from, to) = (from.parse().unwrap(), to.parse().unwrap());
        self.r.segment(self.packet, (from, to), &s, &mut self.log);
        self
    }

    fn handshake(&mut self) -> &mut Self {
        self.client(seg(99, None, "S", b""));
        self.server(seg(499, Some(100), "S", b""));
        self.client(seg(100, Some(500), "", b""))
    }
}

#[test]
fn in_order_data_and_both_fins_end_the_connection() {
    let mut run = Run::new(Limits::default());
    run.handshake();
    run.client(seg(100, Some(500), "", b"abc")).server(seg(500, Some(103), "", b"xy"));
    run.client(seg(103, Some(502), "F", b"")).server(seg(502, Some(104), "F", b""));
    assert_eq!(
        run.log.events,
        ["1 open", "> data 3", "< data 2", "> fin", "< fin", "1 ended evicted=false open=false"]
    );
    assert_eq!(run.r.open_flows(), 0);
}

#[test]
fn out_of_order_segments_are_held_and_delivered_in_order() {
    let mut run = Run::new(Limits::default());
    run.handshake();
    run.client(seg(106, Some(500), "", b"ghi")).client(seg(103, Some(500), "", b"def"));
    run.client(seg(100, Some(500), "", b"abc"));
    assert_eq!(run.log.streams[0], b"abcdefghi");
    assert_eq!(run.r.stats().out_of_order, 2);
    assert_eq!(run.r.held_bytes(), 0);
}

#[test]
fn retransmitted_and_overlapping_segments_deliver_each_byte_once() {
    let mut run = Run::new(Limits::default());
    run.handshake();
    run.client(seg(100, Some(500), "", b"abcd"));
    run.client(seg(100, Some(500), "", b"abcd"));
    run.client(seg(102, Some(500), "", b"cdefg"));
    // Held segments that overlap each other.
    run.client(seg(110, Some(500), "", b"klm"));
    run.client(seg(107, Some(500), "", b"hijkl"));
    assert_eq!(run.log.streams[0], b"abcdefghijklm");
    assert_eq!(run.r.stats().retransmissions, 1);
}

#[test]
fn bytes_acknowledged_but_never_captured_are_a_gap() {
    let mut run = Run::new(Limits::default());
    run.handshake();
    run.client(seg(100, Some(500), "", b"abc"));
    // Bytes 103..106 are lost from the capture; the server acknowledged them.
    run.client(seg(106, Some(500), "", b"ghi"));
    assert_eq!(run.log.streams[0], b"abc", "held until the ACK shows the loss");
    run.server(seg(500, Some(109), "", b""));
    assert_eq!(run.log.streams[0], b"abcghi");
    assert!(run.log.events.contains(&"> gap 3".to_string()), "{:?}", run.log.events);
}

#[test]
fn a_segment_after_an_acknowledged_loss_is_a_gap_at_once() {
    let mut run = Run::new(Limits::default());
    run.handshake();
    run.server(seg(500, Some(110), "", b""));
    run.client(seg(105, Some(500), "", b"fghij"));
    assert_eq!(run.log.events[1..], ["> gap 5", "> data 5"]);
}

#[test]
fn held_data_past_its_cap_becomes_a_gap_instead_of_memory() {
    let limits = Limits { max_held_per_direction: 8, ..Limits::default() };
    let mut run = Run::new(limits);
    run.handshake();
    run.client(seg(110, Some(500), "", b"12345"));
    run.client(seg(120, Some(500), "", b"67890"));
    assert_eq!(run.log.events[1..], ["> gap 10", "> data 5"]);
    assert!(run.r.held_bytes() <= 8);
}

#[test]
fn the_end_of_the_file_flushes_held_data_behind_a_gap() {
    let mut run = Run::new(Limits::default());
    run.handshake();
    run.client(seg(104, Some(500), "", b"efg"));
    run.r.finish(&mut run.log);
    assert_eq!(run.log.events[1..], ["> gap 4", "> data 3", "1 ended evicted=false open=true"]);
}

#[test]
fn a_reset_ends_the_connection_and_a_new_syn_opens_another() {
    let mut run = Run::new(Limits::default());
    run.handshake();
    run.server(seg(500, Some(100), "R", b""));
    run.client(seg(7000, None, "S", b""));
    assert_eq!(run.log.events, ["1 open", "< rst", "1 ended evicted=false open=false", "2 open"]);
}

#[test]
fn sequence_numbers_wrap() {
    let mut run = Run::new(Limits::default());
    run.client(seg(u32::MAX - 1, None, "S", b""));
    run.client(seg(u32::MAX, None, "", b"ab"));
    run.client(seg(2, None, "", b"de"));
    run.client(seg(1, None, "", b"c"));
    assert_eq!(run.log.streams[0], b"abcde");
}

#[test]
fn a_capture_starting_mid_connection_takes_the_server_from_the_port() {
    let mut run = Run::new(Limits::default());
    run.server(seg(9, Some(1), "", b"hi"));
    assert_eq!(run.log.streams[1], b"hi");
    let meta = run.r.flows.values().next().unwrap().meta;
    assert_eq!(meta.server.port(), 13400);
    assert!(!meta.handshake);
}

#[test]
fn past_the_flow_limit_the_least_recently_active_connection_is_dropped() {
    let limits = Limits { max_flows: 2, ..Limits::default() };
    let mut run = Run::new(limits);
    run.send("127.0.0.1:1", S, seg(0, None, "", b"a"));
    run.send("127.0.0.1:2", S, seg(0, None, "", b"b"));
    run.send("127.0.0.1:1", S, seg(1, None, "", b"c"));
    run.send("127.0.0.1:3", S, seg(0, None, "", b"d"));
    assert!(run.log.events.contains(&"2 ended evicted=true open=false".to_string()));
    assert_eq!(run.r.open_flows(), 2);
    assert_eq!(run.r.stats().evicted, 1);
}

#[test]
fn a_fin_behind_lost_bytes_comes_once_the_loss_is_acknowledged() {
    let mut run = Run::new(Limits::default());
    run.handshake();
    run.client(seg(104, Some(500), "F", b""));
    assert!(!run.log.events.iter().any(|e| e == "> fin"));
    run.server(seg(500, Some(105), "", b""));
    assert_eq!(run.log.events[1..], ["> gap 4", "> fin"]);
}
