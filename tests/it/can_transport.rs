//! CAN transports end to end: the memory bus through the common interface, and cannelloni over
//! UDP on 127.0.0.1 between two nodes and against a raw socket sending hostile datagrams.

use doipcheck::codec::can::{CanFrame, CanId, ExtendedId, StandardId};
use doipcheck::codec::cannelloni as wire;
use doipcheck::transport::can::cannelloni::{
    CannelloniConfig, CannelloniNode, DEFAULT_MAX_DATAGRAM,
};
use doipcheck::transport::can::{CanSpec, CanTransport, Origin};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(5);

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn classic(id: u16, data: &[u8]) -> CanFrame {
    CanFrame::new(StandardId::new(id).unwrap(), data).unwrap()
}

fn sample_frames() -> Vec<CanFrame> {
    let fd_data: Vec<u8> = (0..64).collect();
    vec![
        classic(0x7E0, &[0x02, 0x10, 0x03]),
        classic(0x7E8, &[]),
        CanFrame::new(ExtendedId::new(0x18DA_F110).unwrap(), &[0x30, 0, 0]).unwrap(),
        CanFrame::new_fd(StandardId::new(0x123).unwrap(), &fd_data, true).unwrap(),
        CanFrame::new_fd(ExtendedId::new(0x1FFF_FFFF).unwrap(), &fd_data[..12], false).unwrap(),
    ]
}

/// Free UDP ports on 127.0.0.1, held together while chosen so they differ. Another process may
/// take one before the caller binds it; on this machine's loopback that has not been seen.
pub fn free_udp_ports<const N: usize>() -> [u16; N] {
    let sockets: Vec<_> =
        (0..N).map(|_| std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).collect();
    std::array::from_fn(|i| sockets[i].local_addr().unwrap().port())
}

fn config(local: SocketAddr, remote: SocketAddr) -> CannelloniConfig {
    CannelloniConfig {
        local,
        remote,
        batch: None,
        echo: false,
        queue: 4096,
        max_datagram: DEFAULT_MAX_DATAGRAM,
    }
}

/// A raw socket standing in for a hostile remote, and a node whose remote it is.
async fn node_and_raw_peer() -> (CannelloniNode, UdpSocket, SocketAddr) {
    let raw = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let node =
        CannelloniNode::bind(config("127.0.0.1:0".parse().unwrap(), raw.local_addr().unwrap()))
            .await
            .unwrap();
    let node_addr = node.local_addr().unwrap();
    (node, raw, node_addr)
}

#[test]
fn memory_spec_opens_nodes_that_see_each_other_through_the_common_interface() {
    rt().block_on(async {
        let spec: CanSpec = "memory:it-can-transport?echo".parse().unwrap();
        let mut a = CanTransport::open(&spec).await.unwrap();
        let mut b = CanTransport::open(&"memory:it-can-transport".parse().unwrap()).await.unwrap();
        for f in sample_frames() {
            a.send(&f).await.unwrap();
        }
        for f in sample_frames() {
            let echo = timeout(WAIT, a.recv()).await.unwrap().unwrap();
            assert_eq!((echo.frame, echo.origin), (f, Origin::Echo));
            let got = timeout(WAIT, b.recv()).await.unwrap().unwrap();
            assert_eq!((got.frame, got.origin, got.at), (f, Origin::Peer, echo.at));
        }
        assert_eq!(a.stats().sent, 5);
        assert_eq!(b.stats().received, 5);
    });
}

#[test]
fn cannelloni_round_trip_over_loopback_both_ways_in_order() {
    rt().block_on(async {
        let [pa, pb] = free_udp_ports::<2>();
        let spec_a: CanSpec = format!("cannelloni:{pa}@127.0.0.1:{pb}?echo").parse().unwrap();
        let spec_b: CanSpec = format!("cannelloni:{pb}@127.0.0.1:{pa}").parse().unwrap();
        let mut a = CanTransport::open(&spec_a).await.unwrap();
        let mut b = CanTransport::open(&spec_b).await.unwrap();
        for f in sample_frames() {
            a.send(&f).await.unwrap();
        }
        for f in sample_frames() {
            let got = timeout(WAIT, b.recv()).await.expect("frame lost on loopback").unwrap();
            assert_eq!((got.frame, got.origin), (f, Origin::Peer));
            let echo = timeout(WAIT, a.recv()).await.unwrap().unwrap();
            assert_eq!((echo.frame, echo.origin), (f, Origin::Echo));
        }
        b.send(&classic(0x7E8, &[0x02, 0x50, 0x03])).await.unwrap();
        let back = timeout(WAIT, a.recv()).await.unwrap().unwrap();
        assert_eq!((back.frame, back.origin), (classic(0x7E8, &[0x02, 0x50, 0x03]), Origin::Peer));
        let (sa, sb) = (a.stats(), b.stats());
        assert_eq!((sa.sent, sb.received, sb.malformed, sb.lost_datagrams), (5, 5, 0, 0));
    });
}

#[test]
fn batching_puts_frames_of_one_window_into_one_datagram_and_flushes_on_its_own() {
    rt().block_on(async {
        let raw = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut cfg = config("127.0.0.1:0".parse().unwrap(), raw.local_addr().unwrap());
        cfg.batch = Some(Duration::from_millis(20));
        let mut node = CannelloniNode::bind(cfg).await.unwrap();
        for f in sample_frames() {
            node.send(&f).await.unwrap();
        }
        // Nothing is sent before the window ends; awaiting recv lets the node flush.
        let mut buf = vec![0u8; 65536];
        assert!(timeout(Duration::from_millis(5), raw.recv_from(&mut buf)).await.is_err());
        let recv = timeout(Duration::from_millis(200), node.recv());
        let (n, _) = tokio::select! {
            r = raw.recv_from(&mut buf) => r.unwrap(),
            _ = recv => panic!("nothing was sent to the node"),
        };
        let datagram = wire::decode(&buf[..n]).unwrap();
        assert_eq!(datagram.count(), 5);
        let frames: Vec<_> = datagram.frames().collect();
        let want: Vec<_> = sample_frames().into_iter().map(wire::TunnelFrame::Data).collect();
        assert_eq!(frames, want);
        assert_eq!(node.stats().sent, 5);
    });
}

#[test]
fn batching_starts_a_new_datagram_when_one_is_full() {
    rt().block_on(async {
        let raw = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut cfg = config("127.0.0.1:0".parse().unwrap(), raw.local_addr().unwrap());
        cfg.batch = Some(Duration::from_secs(1));
        cfg.max_datagram = 200; // two 64-byte FD frames (70 bytes each) per datagram
        let mut node = CannelloniNode::bind(cfg).await.unwrap();
        let big = CanFrame::new_fd(StandardId::new(1).unwrap(), &[0xAA; 64], false).unwrap();
        for _ in 0..5 {
            node.send(&big).await.unwrap();
        }
        node.flush().await.unwrap();
        let mut buf = vec![0u8; 65536];
        let mut counts = Vec::new();
        for _ in 0..3 {
            let (n, _) = timeout(WAIT, raw.recv_from(&mut buf)).await.unwrap().unwrap();
            assert!(n <= 200);
            let d = wire::decode(&buf[..n]).unwrap();
            counts.push((d.seq(), d.count()));
        }
        assert_eq!(counts, vec![(0, 2), (1, 2), (2, 1)]);
    });
}

#[test]
fn hostile_datagrams_are_dropped_and_counted_and_the_next_good_one_gets_through() {
    rt().block_on(async {
        let (mut node, raw, node_addr) = node_and_raw_peer().await;
        let good = wire::encode(0, &[classic(0x7E8, &[1, 2, 3])]).unwrap();
        let mut claims_more_frames = good.clone();
        claims_more_frames[4] = 200;
        let mut claims_more_bytes = good.clone();
        claims_more_bytes[9] = 8; // len 8, 3 data bytes present
        let hostile: Vec<Vec<u8>> = vec![
            vec![],
            vec![2, 0],
            vec![3, 0, 0, 0, 0],
            vec![2, 2, 0, 0, 0],
            vec![2, 0, 0, 0xFF, 0xFF],
            claims_more_frames,
            claims_more_bytes,
            [good.as_slice(), &[0]].concat(),
            vec![2, 0, 0, 0, 1, 0, 0, 0x08, 0x00, 0],
            vec![0xFF; 65_507],
        ];
        for d in &hostile {
            raw.send_to(d, node_addr).await.unwrap();
        }
        let good_seq_1 = wire::encode(1, &[classic(0x7E8, &[9])]).unwrap();
        raw.send_to(&good_seq_1, node_addr).await.unwrap();
        let got = timeout(WAIT, node.recv()).await.expect("the good datagram was lost").unwrap();
        assert_eq!(got.frame, classic(0x7E8, &[9]));
        let s = node.stats();
        assert_eq!((s.malformed, s.received, s.dropped), (hostile.len() as u64, 1, 0));
    });
}

#[test]
fn datagrams_from_a_stranger_are_dropped() {
    rt().block_on(async {
        let (mut node, raw, node_addr) = node_and_raw_peer().await;
        let stranger = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        stranger.send_to(&wire::encode(0, &[classic(1, &[])]).unwrap(), node_addr).await.unwrap();
        raw.send_to(&wire::encode(0, &[classic(2, &[])]).unwrap(), node_addr).await.unwrap();
        let got = timeout(WAIT, node.recv()).await.unwrap().unwrap();
        assert_eq!(got.frame.id(), CanId::Standard(StandardId::new(2).unwrap()));
        assert_eq!(node.stats().malformed, 1);
    });
}

#[test]
fn remote_and_error_frames_are_counted_not_delivered_and_sequence_gaps_are_counted() {
    rt().block_on(async {
        let (mut node, raw, node_addr) = node_and_raw_peer().await;
        // seq 0: an RTR frame and an error frame; seq 3: a data frame (1 and 2 lost).
        let mut d0 = vec![2, 0, 0, 0, 2, 0x40, 0, 0x01, 0x23, 8, 0x20, 0, 0, 0x04, 8];
        d0.extend_from_slice(&[0; 8]);
        raw.send_to(&d0, node_addr).await.unwrap();
        raw.send_to(&wire::encode(3, &[classic(5, &[5])]).unwrap(), node_addr).await.unwrap();
        let got = timeout(WAIT, node.recv()).await.unwrap().unwrap();
        assert_eq!(got.frame, classic(5, &[5]));
        let s = node.stats();
        assert_eq!((s.ignored, s.lost_datagrams, s.received), (2, 2, 1));
    });
}

#[test]
fn a_burst_beyond_the_queue_bound_is_dropped_and_counted() {
    rt().block_on(async {
        let raw = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut cfg = config("127.0.0.1:0".parse().unwrap(), raw.local_addr().unwrap());
        cfg.queue = 10;
        let mut node = CannelloniNode::bind(cfg).await.unwrap();
        let frames: Vec<_> = (0..100).map(|i| classic(i, &[])).collect();
        raw.send_to(&wire::encode(0, &frames).unwrap(), node.local_addr().unwrap()).await.unwrap();
        let first = timeout(WAIT, node.recv()).await.unwrap().unwrap();
        assert_eq!(first.frame, classic(0, &[]));
        let s = node.stats();
        assert_eq!((s.received, s.dropped), (10, 90));
    });
}

#[test]
fn binding_a_port_in_use_names_the_address() {
    rt().block_on(async {
        let taken = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let port = taken.local_addr().unwrap().port();
        let spec: CanSpec = format!("cannelloni:{port}@127.0.0.1:9").parse().unwrap();
        let err = CanTransport::open(&spec).await.unwrap_err().to_string();
        assert!(err.contains(&format!("bind 127.0.0.1:{port}")), "{err}");
    });
}

#[cfg(not(feature = "socketcan"))]
#[test]
fn socketcan_without_the_feature_says_how_to_get_it() {
    rt().block_on(async {
        let err = CanTransport::open(&"socketcan:can0".parse().unwrap()).await.unwrap_err();
        assert!(err.to_string().contains("--features socketcan"), "{err}");
    });
}

/// The STmin symptom on a busy machine: two frames 20 ms apart, both read in one burst 60 ms
/// later (our task was busy). Stamped with the kernel's receive time they keep their gap;
/// stamped at the read they would be microseconds apart. And a frame that arrived before a
/// deadline is still taken when the task wakes after it.
#[test]
fn frames_read_in_one_burst_keep_the_gap_they_arrived_with() {
    rt().block_on(async {
        let (mut node, raw, node_addr) = node_and_raw_peer().await;
        // The kernel turns receive stamping on a moment after the first socket asks.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let gap = Duration::from_millis(20);
        raw.send_to(&wire::encode(0, &[classic(0x7E8, &[0x21])]).unwrap(), node_addr)
            .await
            .unwrap();
        std::thread::sleep(gap);
        raw.send_to(&wire::encode(1, &[classic(0x7E8, &[0x22])]).unwrap(), node_addr)
            .await
            .unwrap();
        let cf2_sent = std::time::Instant::now();
        // Busy: the runtime thread does not read the socket for 60 ms.
        std::thread::sleep(Duration::from_millis(60));
        let first = timeout(WAIT, node.recv()).await.unwrap().unwrap();
        let second = node.recv_arrived_by(cf2_sent).expect("the second frame had arrived");
        assert_eq!((first.frame.data(), second.frame.data()), (&[0x21][..], &[0x22][..]));
        let measured = second.at.duration_since(first.at);
        // The sender slept at least `gap` between the two sends; read at once they would be
        // microseconds apart.
        assert!(measured >= gap, "the gap as the kernel saw it: {measured:?}");
        // Nothing else arrived: a late wake-up finds nothing to take.
        assert!(node.recv_arrived_by(std::time::Instant::now()).is_none());
    });
}
