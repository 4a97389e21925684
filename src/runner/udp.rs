//! The case's UDP socket for vehicle identification, entity status and power mode steps:
//! datagrams to the target's discovery port (or the profile's broadcast address), each
//! datagram one frame event, every receive bounded by a deadline. A datagram's time is the
//! kernel's receive stamp (`transport::rx_time`), so an answer read late on a busy machine is
//! judged by when it came; one that arrived by the deadline is taken even when our task woke
//! after it.

use super::arrived::{ReceivedFrame, decoded_message};
use super::failure::{Failure, error, fail};
use super::record::Recorder;
use crate::codec::doip::Message;
use crate::runner::event::{
    Address, ConnectionChange, Decoded, Direction, FrameTransport, RunTime,
};
use crate::transport::rx_time;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use tokio::net::UdpSocket;
use tokio::time::timeout_at;

/// Largest datagram read (a DoIP UDP message is far smaller; the rest is truncated).
const MAX_DATAGRAM: usize = 65_536;

pub struct Udp {
    socket: UdpSocket,
    /// The address the target sees us at (the unspecified bind address resolved).
    pub local: SocketAddr,
    /// The last peer we sent to, for the closing event.
    last_peer: SocketAddr,
    /// A datagram taken at a deadline that had arrived after it: the next receive's.
    pending: Option<(Vec<u8>, SocketAddr, RunTime)>,
}

/// What a bounded receive found.
pub enum UdpOutcome {
    Datagram { from: SocketAddr, received: ReceivedFrame },
    Timeout,
}

impl Udp {
    /// Binds an ephemeral port on the family of `target`.
    pub async fn bind(target: SocketAddr, broadcast: bool, rec: &Recorder) -> Result<Udp, String> {
        Self::bind_port(target, 0, broadcast, rec).await
    }

    /// Binds `port` (0: an ephemeral one) on the family of `target`: a fixed port receives
    /// what a real target sends to the discovery port, e.g. its vehicle announcements.
    pub async fn bind_port(
        target: SocketAddr,
        port: u16,
        broadcast: bool,
        rec: &Recorder,
    ) -> Result<Udp, String> {
        let any: IpAddr = if target.is_ipv4() {
            Ipv4Addr::UNSPECIFIED.into()
        } else {
            Ipv6Addr::UNSPECIFIED.into()
        };
        let socket = UdpSocket::bind((any, port))
            .await
            .map_err(|e| format!("cannot bind a UDP socket on port {port}: {e}"))?;
        rx_time::enable(&socket).map_err(|e| format!("cannot enable receive time stamps: {e}"))?;
        if broadcast {
            socket.set_broadcast(true).map_err(|e| format!("cannot enable broadcast: {e}"))?;
        }
        let port = socket.local_addr().map_err(|e| format!("local address: {e}"))?.port();
        let ip = route_ip(target).await.unwrap_or(any);
        let local = SocketAddr::new(ip, port);
        rec.connection(
            rec.now(),
            FrameTransport::Udp,
            Address::Socket(local),
            Address::Socket(target),
            ConnectionChange::Opened,
        );
        Ok(Udp { socket, local, last_peer: target, pending: None })
    }

    pub async fn send(
        &mut self,
        to: SocketAddr,
        bytes: Vec<u8>,
        decoded: Decoded,
        rec: &mut Recorder,
    ) -> Result<(), Failure> {
        if to.ip().is_ipv4() && to.ip() == IpAddr::V4(Ipv4Addr::BROADCAST)
            || is_directed_broadcast(to)
        {
            let _ = self.socket.set_broadcast(true);
        }
        self.socket
            .send_to(&bytes, to)
            .await
            .map_err(|e| error(format!("sending to {to}: {e}")))?;
        let at = rec.now();
        self.last_peer = to;
        rec.frame(
            at,
            Direction::Sent,
            FrameTransport::Udp,
            Address::Socket(self.local),
            Address::Socket(to),
            bytes,
            decoded,
        )
        .map_err(fail)
    }

    pub async fn recv(
        &mut self,
        deadline: tokio::time::Instant,
        rec: &mut Recorder,
    ) -> Result<UdpOutcome, Failure> {
        let (buf, from, at) = match self.pending.take() {
            Some(p) => p,
            None => {
                let mut buf = vec![0u8; MAX_DATAGRAM];
                let read =
                    match timeout_at(deadline, rx_time::recv_from(&self.socket, &mut buf)).await {
                        Ok(r) => r,
                        // Woken at the deadline, perhaps late: a datagram already there may have
                        // arrived in time.
                        Err(_) => match rx_time::recv_now(&self.socket, &mut buf) {
                            Ok(r) => Ok(r),
                            Err(_) => return Ok(UdpOutcome::Timeout),
                        },
                    };
                let (n, from, stamp) = read.map_err(|e| error(format!("receiving UDP: {e}")))?;
                buf.truncate(n);
                let at = rec.clock.at_std(stamp.arrived_at());
                if stamp.arrived_at() > deadline.into_std() {
                    self.pending = Some((buf, from, at));
                    return Ok(UdpOutcome::Timeout);
                }
                (buf, from, at)
            }
        };
        let message = Message::parse(&buf).map(Message::into_owned).map_err(|e| e.to_string());
        let decoded = match &message {
            Ok(m) => decoded_message(m),
            Err(e) => Decoded::Error { error: e.clone() },
        };
        rec.frame(
            at,
            Direction::Received,
            FrameTransport::Udp,
            Address::Socket(self.local),
            Address::Socket(from),
            buf.clone(),
            decoded,
        )
        .map_err(fail)?;
        Ok(UdpOutcome::Datagram { from, received: ReceivedFrame { at, bytes: buf, message } })
    }

    pub fn close(&self, rec: &Recorder) {
        rec.connection(
            rec.now(),
            FrameTransport::Udp,
            Address::Socket(self.local),
            Address::Socket(self.last_peer),
            ConnectionChange::ClosedByUs,
        );
    }
}

fn is_directed_broadcast(to: SocketAddr) -> bool {
    matches!(to.ip(), IpAddr::V4(v4) if v4.octets()[3] == 255)
}

/// The local address the OS would use to reach `target` (a connected UDP socket sends
/// nothing; it only asks the routing table).
async fn route_ip(target: SocketAddr) -> Option<IpAddr> {
    let any: IpAddr =
        if target.is_ipv4() { Ipv4Addr::UNSPECIFIED.into() } else { Ipv6Addr::UNSPECIFIED.into() };
    let probe = UdpSocket::bind((any, 0)).await.ok()?;
    probe.connect(target).await.ok()?;
    probe.local_addr().ok().map(|a| a.ip())
}
