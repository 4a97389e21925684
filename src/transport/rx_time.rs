//! Receive times from the kernel: every UDP datagram (cannelloni, DoIP vehicle identification
//! and status) and SocketCAN frame is stamped by the kernel as it enters the socket (`SO_TIMESTAMPNS`, read back
//! from `recvmsg`'s control message), so a gap or deadline is judged on when the datagram
//! arrived, not on when our task got round to reading it. On a busy machine the two differ by
//! the scheduling delay; two consecutive frames read in one burst would otherwise look as if
//! they came together (an STmin gap that shrank only in our view).
//!
//! The kernel stamps with `CLOCK_REALTIME`; the harness measures on the monotonic clock. Each
//! read takes both clocks back to back right after `recvmsg` ([`stamp_read_now`]) and converts the stamp into an
//! age: how long the datagram waited in the socket before we read it ([`RxStamp::waited`]).
//! The arrival on the monotonic clock is then the read's monotonic time minus that age. The
//! pair is taken at every read rather than once per run because NTP may step or slew the
//! real-time clock during a long run; an offset taken at the start would drift with it,
//! whereas the age spans only the datagram's wait (microseconds to milliseconds). A stamp
//! from the future (the real-time clock stepped back meanwhile) counts as no wait at all.
//! The age is also how late we were ourselves: the runner shows it, and the timing checks
//! use the arrival, never the read.
//!
//! Without a kernel stamp (another OS, or the control message missing), `waited` is zero and
//! the arrival is the read, as before. Linux switches receive stamping on for the whole stack
//! from a work item shortly after the first socket asks (`net_enable_timestamp`); a datagram
//! in that first moment is stamped at the read, which is again the read.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::UdpSocket;

/// When a datagram arrived, seen from the monotonic clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxStamp {
    /// When our task read the datagram.
    pub read_at: Instant,
    /// How long it waited in the socket before that read, by the kernel's stamp.
    pub waited: Duration,
}

impl RxStamp {
    /// A datagram read now with no kernel stamp.
    pub fn unstamped(read_at: Instant) -> RxStamp {
        RxStamp { read_at, waited: Duration::ZERO }
    }

    /// When the datagram entered the socket (the read, less the wait).
    pub fn arrived_at(&self) -> Instant {
        self.read_at.checked_sub(self.waited).unwrap_or(self.read_at)
    }
}

/// The stamp of a read that just returned, from the kernel's `CLOCK_REALTIME` stamp
/// (`kernel`, since the Unix epoch): both clocks are taken back to back now and the stamp
/// becomes the datagram's age (see the module doc). The one conversion of a kernel receive
/// stamp, for UDP and SocketCAN alike.
pub fn stamp_read_now(kernel: Option<Duration>) -> RxStamp {
    let read_at = Instant::now();
    let real_now = SystemTime::now().duration_since(UNIX_EPOCH).ok();
    let waited = match (kernel, real_now) {
        (Some(stamp), Some(now)) => now.checked_sub(stamp).unwrap_or(Duration::ZERO),
        _ => Duration::ZERO,
    };
    RxStamp { read_at, waited }
}

/// Asks the kernel to stamp every datagram `socket` receives. Failing that (not Linux), the
/// reads stay unstamped: the caller carries on with read times.
pub fn enable(socket: &UdpSocket) -> io::Result<()> {
    sys::enable(socket)
}

/// Waits for the next datagram: its length, sender and stamp. Cancel-safe, as
/// `UdpSocket::recv_from`.
pub async fn recv_from(
    socket: &UdpSocket,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr, RxStamp)> {
    sys::recv_from(socket, buf).await
}

/// The next datagram if one is in the socket now, without waiting and without asking tokio
/// whether it has seen the socket become readable: a task that wakes late at a deadline uses
/// this to take what arrived before it (`ErrorKind::WouldBlock` when nothing is there).
pub fn recv_now(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<(usize, SocketAddr, RxStamp)> {
    sys::recv_now(socket, buf)
}

#[cfg(target_os = "linux")]
mod sys {
    use super::RxStamp;
    use std::io;
    use std::mem::{size_of, zeroed};
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
    use std::os::fd::AsRawFd;
    use std::time::Duration;
    use tokio::io::Interest;
    use tokio::net::UdpSocket;

    pub fn enable(socket: &UdpSocket) -> io::Result<()> {
        let on: libc::c_int = 1;
        // SAFETY: the descriptor is open for the socket's lifetime; the option value is a
        // c_int that outlives the call, and its size is passed.
        let r = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                (&on as *const libc::c_int).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if r == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
    }

    pub async fn recv_from(
        socket: &UdpSocket,
        buf: &mut [u8],
    ) -> io::Result<(usize, SocketAddr, RxStamp)> {
        let fd = socket.as_raw_fd();
        socket.async_io(Interest::READABLE, || recvmsg(fd, buf, 0)).await
    }

    pub fn recv_now(
        socket: &UdpSocket,
        buf: &mut [u8],
    ) -> io::Result<(usize, SocketAddr, RxStamp)> {
        recvmsg(socket.as_raw_fd(), buf, libc::MSG_DONTWAIT)
    }

    /// One `recvmsg` with room for the timestamp's control message.
    fn recvmsg(
        fd: libc::c_int,
        buf: &mut [u8],
        flags: libc::c_int,
    ) -> io::Result<(usize, SocketAddr, RxStamp)> {
        // SAFETY: all-zero is a valid sockaddr_storage and msghdr.
        let mut addr: libc::sockaddr_storage = unsafe { zeroed() };
        let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
        // u64 elements keep the control buffer aligned for cmsghdr; 64 bytes hold one
        // SCM_TIMESTAMPNS (CMSG_SPACE of a 16-byte timespec is 32).
        let mut control = [0u64; 8];
        let mut msg: libc::msghdr = unsafe { zeroed() };
        msg.msg_name = (&mut addr as *mut libc::sockaddr_storage).cast();
        msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = size_of::<[u64; 8]>() as _;
        // SAFETY: msg points at live buffers of the sizes it states.
        let n = unsafe { libc::recvmsg(fd, &mut msg, flags) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let stamp = super::stamp_read_now(timestamp(&msg));
        let from = socket_addr(&addr).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, "recvmsg: sender of an unknown family")
        })?;
        Ok((n as usize, from, stamp))
    }

    /// The SCM_TIMESTAMPNS control message's time, as a duration since the epoch.
    fn timestamp(msg: &libc::msghdr) -> Option<Duration> {
        // SAFETY: msg was filled by recvmsg; the CMSG macros stay within msg_controllen.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(msg);
            while !cmsg.is_null() {
                let h = &*cmsg;
                if h.cmsg_level == libc::SOL_SOCKET && h.cmsg_type == libc::SCM_TIMESTAMPNS {
                    let ts: libc::timespec =
                        std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::timespec>());
                    return timespec(ts);
                }
                cmsg = libc::CMSG_NXTHDR(msg, cmsg);
            }
        }
        None
    }

    fn timespec(ts: libc::timespec) -> Option<Duration> {
        let secs = u64::try_from(ts.tv_sec).ok()?;
        let nanos = u32::try_from(ts.tv_nsec).ok().filter(|n| *n < 1_000_000_000)?;
        Some(Duration::new(secs, nanos))
    }

    fn socket_addr(addr: &libc::sockaddr_storage) -> Option<SocketAddr> {
        match libc::c_int::from(addr.ss_family) {
            libc::AF_INET => {
                // SAFETY: the family says the storage holds a sockaddr_in.
                let a = unsafe {
                    &*(addr as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>()
                };
                let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
                Some(SocketAddrV4::new(ip, u16::from_be(a.sin_port)).into())
            }
            libc::AF_INET6 => {
                // SAFETY: the family says the storage holds a sockaddr_in6.
                let a = unsafe {
                    &*(addr as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
                };
                let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
                let port = u16::from_be(a.sin6_port);
                Some(SocketAddrV6::new(ip, port, a.sin6_flowinfo, a.sin6_scope_id).into())
            }
            _ => None,
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use super::RxStamp;
    use std::io;
    use std::net::SocketAddr;
    use std::time::Instant;
    use tokio::net::UdpSocket;

    pub fn enable(_: &UdpSocket) -> io::Result<()> {
        Ok(())
    }

    pub async fn recv_from(
        socket: &UdpSocket,
        buf: &mut [u8],
    ) -> io::Result<(usize, SocketAddr, RxStamp)> {
        let (n, from) = socket.recv_from(buf).await?;
        Ok((n, from, RxStamp::unstamped(Instant::now())))
    }

    pub fn recv_now(
        socket: &UdpSocket,
        buf: &mut [u8],
    ) -> io::Result<(usize, SocketAddr, RxStamp)> {
        let (n, from) = socket.try_recv_from(buf)?;
        Ok((n, from, RxStamp::unstamped(Instant::now())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn pair() -> (UdpSocket, UdpSocket) {
        let rx = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let tx = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        enable(&rx).expect("SO_TIMESTAMPNS");
        // The kernel turns receive stamping on for the whole stack from a work item a moment
        // after the first socket asks (net_enable_timestamp); until then it stamps at the read.
        tokio::time::sleep(Duration::from_millis(20)).await;
        (rx, tx)
    }

    /// A datagram left in the socket while we were busy keeps the time it arrived: its
    /// `waited` covers our delay, and the arrival lies before the send's return plus a little.
    #[tokio::test]
    async fn a_datagram_read_late_keeps_its_arrival_time() {
        let (rx, tx) = pair().await;
        let sent = Instant::now();
        tx.send_to(b"frame", rx.local_addr().expect("addr")).await.expect("send");
        let after_send = Instant::now();
        // We are "busy": the datagram waits in the socket.
        std::thread::sleep(Duration::from_millis(30));
        let mut buf = [0u8; 16];
        let (n, from, stamp) = recv_from(&rx, &mut buf).await.expect("recv");
        assert_eq!((&buf[..n], from), (&b"frame"[..], tx.local_addr().expect("addr")));
        if cfg!(target_os = "linux") {
            assert!(stamp.waited >= Duration::from_millis(29), "{stamp:?}");
            assert!(stamp.arrived_at() >= sent - Duration::from_millis(1), "{stamp:?}");
            assert!(stamp.arrived_at() <= after_send + Duration::from_millis(5), "{stamp:?}");
        }
    }

    #[tokio::test]
    async fn recv_now_takes_what_is_there_and_says_would_block_otherwise() {
        let (rx, tx) = pair().await;
        let mut buf = [0u8; 16];
        let err = recv_now(&rx, &mut buf).expect_err("empty socket");
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        tx.send_to(b"x", rx.local_addr().expect("addr")).await.expect("send");
        // Loopback delivers during send_to; nothing has polled the socket's readiness.
        let (n, _, stamp) = recv_now(&rx, &mut buf).expect("a datagram is there");
        assert_eq!(&buf[..n], b"x");
        assert!(stamp.arrived_at() <= stamp.read_at);
    }

    #[test]
    fn a_kernel_stamp_becomes_the_age_of_the_datagram() {
        let real = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970");
        let s = stamp_read_now(Some(real - Duration::from_millis(40)));
        assert!(s.waited >= Duration::from_millis(40) && s.waited < Duration::from_secs(5));
        // A stamp from the future (the real-time clock stepped back): no wait, not a panic.
        let s = stamp_read_now(Some(real + Duration::from_secs(3600)));
        assert_eq!(s.waited, Duration::ZERO);
        assert_eq!(stamp_read_now(None).waited, Duration::ZERO);
    }

    #[test]
    fn an_arrival_before_the_clock_began_is_the_read_itself() {
        let now = Instant::now();
        let s = RxStamp { read_at: now, waited: Duration::MAX };
        assert_eq!(s.arrived_at(), now);
        assert_eq!(RxStamp::unstamped(now).arrived_at(), now);
    }
}
