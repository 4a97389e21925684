//! TCP_DATA sockets: accepting, the byte-stream deframer with the generic header rules in the order
//! of ISO 13400-2:2019 Table 19 (docs/protocol.md#header-handling), exact skipping of discarded
//! payloads, the inactivity timers, and closing.

use super::{Entity, Liveness, Output, Peer};
use crate::codec::doip::{
    AliveCheckResponse, Deframed, Deframer, Error as CodecError, GenericNack, GenericNackCode,
    HEADER_LEN, HeaderRules, Message, Payload, PayloadType, Transport, payload_type_of,
};
use crate::proto::time::Instant;
use crate::sim::faults::Fault;
use core::time::Duration;

/// The driver's name for one TCP connection (unique for the entity's lifetime).
pub type ConnId = u64;

/// Receive buffer capacity an idle socket may keep between messages.
const RX_BUF_KEEP: usize = 4096;

/// Size limit under the `mds_not_enforced` fault: above MDS, but bounded.
const MDS_NOT_ENFORCED_LIMIT: u32 = 1 << 20;

/// One open TCP_DATA socket.
#[derive(Debug)]
pub(super) struct Conn {
    pub tls: bool,
    /// Last byte received or sent (T_TCP_General_Inactivity runs from here).
    pub last_activity: Instant,
    /// The source address routing is active for on this socket.
    pub source_address: Option<u16>,
    /// Code 0x11 was sent; the next activation with the same SA completes it.
    pub confirmation_requested: bool,
    /// The entity sent an alive check request and waits for the response.
    pub alive_check_awaited: bool,
    /// When the socket is closed if the response does not come.
    pub alive_check_deadline: Option<Instant>,
    /// Close at this instant unless routing gets activated (T_TCP_Initial_Inactivity).
    pub initial_deadline: Option<Instant>,
    /// Idle time after which an activated socket is closed (T_TCP_General_Inactivity).
    pub general_inactivity: Option<Duration>,
    /// Received bytes not yet consumed: at most one partial message, so at most
    /// 8 + max_data_size bytes (the deframer judges the header before waiting for the body).
    rx_buf: Vec<u8>,
    deframer: Deframer,
    /// Bytes still to skip of a message whose pattern this entity rejected without closing
    /// (only under a fault; the codec's deframer skips what it rejects itself).
    skip_rejected: u64,
    /// Payload bytes reserved from the receive budget for the message being received.
    reserved: u64,
    /// A read ended inside a generic header (only tracked under `leak_socket_on_split_header`).
    split_header: bool,
}

impl Conn {
    /// The earliest timer of this socket.
    pub fn next_deadline(&self) -> Option<Instant> {
        let inactivity = match self.source_address {
            None => self.initial_deadline,
            Some(_) => self.general_inactivity.map(|d| self.last_activity + d),
        };
        match (inactivity, self.alive_check_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Bytes held for this socket beyond its fixed size (memory-bound checks).
    pub fn buffered(&self) -> usize {
        self.rx_buf.capacity()
    }
}

impl Entity {
    /// A TCP connection was accepted on the plain (`tls` false) or TLS TCP_DATA port. Returns
    /// false when the entity refuses it (more than `max_connections` open): the driver closes
    /// it at once. Routing activation, not this, enforces MCTS (ISO 13400-2:2019 §9.3).
    pub fn handle_tcp_accept(&mut self, now: Instant, conn: ConnId, tls: bool) -> bool {
        if self.liveness == Liveness::Crashed {
            self.log(now, Peer::Tcp(conn), || "refused: the entity has crashed".into());
            return false;
        }
        if self.tcp_dead {
            self.log(now, Peer::Tcp(conn), || "refused: the TCP service is dead".into());
            return false;
        }
        if self.conns.len() >= usize::from(self.config.max_connections) {
            self.log(now, Peer::Tcp(conn), || "refused: max_connections reached".into());
            return false;
        }
        let initial = self.timer(self.config.timing.t_tcp_initial_inactivity);
        let initial_deadline = if self.has(Fault::InitialInactivityNever) {
            None
        } else if self.has(Fault::InitialInactivityEarly) {
            Some(now + initial / 2)
        } else {
            Some(now + initial)
        };
        let general = self.timer(self.config.timing.t_tcp_general_inactivity);
        let general_inactivity = if self.has(Fault::GeneralInactivityNever) {
            None
        } else if self.has(Fault::GeneralInactivityEarly) {
            Some(general / 2)
        } else {
            Some(general)
        };
        self.conns.insert(
            conn,
            Conn {
                tls,
                last_activity: now,
                source_address: None,
                confirmation_requested: false,
                alive_check_awaited: false,
                alive_check_deadline: None,
                initial_deadline,
                general_inactivity,
                rx_buf: Vec::new(),
                deframer: Deframer::with_rules(self.tcp_rules()),
                skip_rejected: 0,
                reserved: 0,
                split_header: false,
            },
        );
        self.log(now, Peer::Tcp(conn), || {
            format!("accepted {} connection", if tls { "TLS" } else { "TCP" })
        });
        true
    }

    /// The peer closed or reset the connection (or the driver gave up on it).
    pub fn handle_tcp_closed(&mut self, now: Instant, conn: ConnId) {
        if self.remove_conn(now, conn) {
            self.log(now, Peer::Tcp(conn), || "closed by the peer".into());
        }
    }

    /// The header rules of the codec's deframer for this entity (NACK 0x01 for types that do
    /// not belong on TCP, 0x02 above MDS, 0x04 for wrong lengths).
    fn tcp_rules(&self) -> HeaderRules {
        let max_payload_length = if self.has(Fault::MdsNotEnforced) {
            // Still bounded, so the fault cannot exhaust memory.
            MDS_NOT_ENFORCED_LIMIT.max(self.config.max_data_size)
        } else {
            self.config.max_data_size
        };
        HeaderRules { max_payload_length, transport: Some(Transport::Tcp) }
    }

    /// Bytes arrived on a connection: any split, any number of messages.
    pub fn handle_tcp_data(&mut self, now: Instant, conn: ConnId, data: &[u8]) {
        if self.is_down() {
            return;
        }
        let Some(c) = self.conns.get_mut(&conn) else { return };
        c.last_activity = now;
        if self.faults.has(Fault::CannotReassembleSplitHeader)
            && c.deframer.skip_remaining() == 0
            && c.skip_rejected == 0
            && c.rx_buf.len() < HEADER_LEN
        {
            // The faulty entity forgets a partial header when the next segment arrives.
            c.rx_buf.clear();
        }
        let mut buf = core::mem::take(&mut c.rx_buf);
        buf.extend_from_slice(data);
        let Some(consumed) = self.process_stream(now, conn, &mut buf) else { return };
        let leak_split = self.has(Fault::LeakSocketOnSplitHeader);
        let Some(c) = self.conns.get_mut(&conn) else { return };
        buf.drain(..consumed);
        if leak_split
            && (1..HEADER_LEN).contains(&buf.len())
            && c.deframer.skip_remaining() == 0
            && c.skip_rejected == 0
        {
            // This read ended inside a generic header: the faulty entity will not release
            // the socket when it closes.
            c.split_header = true;
        }
        if buf.is_empty() && buf.capacity() > RX_BUF_KEEP {
            // An idle socket keeps at most a small buffer.
            buf = Vec::new();
        }
        c.rx_buf = buf;
    }

    /// Deframes and dispatches what `buf` holds; returns the bytes consumed, or `None` when the
    /// socket was closed on the way.
    fn process_stream(&mut self, now: Instant, conn: ConnId, buf: &mut [u8]) -> Option<usize> {
        let drop_second = self.has(Fault::DropsSecondMessageInSegment);
        let mut pos = 0;
        while pos < buf.len() {
            let c = self.conns.get_mut(&conn)?;
            if c.skip_rejected > 0 {
                let n = usize::try_from(c.skip_rejected).unwrap_or(usize::MAX).min(buf.len() - pos);
                c.skip_rejected -= n as u64;
                pos += n;
                continue;
            }
            let rest = &mut buf[pos..];
            if c.deframer.skip_remaining() == 0 && rest.len() >= HEADER_LEN {
                if self.has(Fault::AcceptsDefaultVersionOnTcp) && rest[0] == 0xFF && rest[1] == 0x00
                {
                    // The faulty entity takes 0xFF for its own version on any message.
                    rest[0] = self.config.protocol_version;
                    rest[1] = !self.config.protocol_version;
                }
                let declared = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]);
                let code = if !self.pattern_ok(&rest[..HEADER_LEN]) {
                    Some(GenericNackCode::IncorrectPatternFormat)
                } else if !self.reserve_receive_buffer(conn, rest) {
                    Some(GenericNackCode::OutOfMemory)
                } else {
                    None
                };
                if let Some(code) = code {
                    if self.header_error(now, conn, code) {
                        return None;
                    }
                    let c = self.conns.get_mut(&conn)?;
                    c.skip_rejected = HEADER_LEN as u64 + u64::from(declared);
                    continue;
                }
            }
            let c = self.conns.get_mut(&conn)?;
            match c.deframer.next(&buf[pos..]) {
                Deframed::NeedMore { .. } => break,
                Deframed::Skipped { len } => pos += len,
                Deframed::Rejected(e) => {
                    let code = nack_code(&e);
                    if code == GenericNackCode::InvalidPayloadLength
                        && payload_type_of(&buf[pos..])
                            == Some(PayloadType::RoutingActivationRequest)
                        && self.has(Fault::TcpDiesOnBadActivationLength)
                    {
                        self.tcp_dies(now, conn);
                        return None;
                    }
                    if self.header_error(now, conn, code) {
                        return None;
                    }
                    self.conns.get_mut(&conn)?.deframer.discard();
                }
                Deframed::Message { message, len } => {
                    pos += len;
                    self.rx_reserved -= core::mem::take(&mut c.reserved);
                    self.dispatch(now, conn, message);
                    if drop_second {
                        // The faulty entity handles one message per segment, drops the rest.
                        return Some(buf.len());
                    }
                }
            }
        }
        Some(pos)
    }

    /// Table 19 row 4 (NACK 0x03, out of memory): a valid message that must wait for more bytes
    /// reserves its payload length from the entity's receive budget, shared by all sockets;
    /// false when the budget cannot hold it now. Messages already complete, and those the
    /// codec rejects for other rules, reserve nothing.
    fn reserve_receive_buffer(&mut self, conn: ConnId, front: &[u8]) -> bool {
        let rules = self.tcp_rules();
        let budget = u64::from(self.config.rx_buffer_budget);
        let Some(c) = self.conns.get_mut(&conn) else { return true };
        if c.reserved > 0 {
            return true;
        }
        let Ok(header) = crate::codec::doip::Header::parse_with(front, &rules) else { return true };
        let length = u64::from(header.payload_length);
        if front.len() as u64 >= HEADER_LEN as u64 + length {
            return true;
        }
        if self.rx_reserved + length > budget {
            return false;
        }
        c.reserved = length;
        self.rx_reserved += length;
        true
    }

    /// `tcp_dies_on_bad_activation_length`: instead of NACK 0x04, every TCP socket closes and
    /// new connections are refused until a power cycle (a new entity); UDP goes on.
    fn tcp_dies(&mut self, now: Instant, conn: ConnId) {
        self.tcp_dead = true;
        self.log(now, Peer::Tcp(conn), || {
            "rx routing activation of a wrong length -> TCP service dead until a power cycle".into()
        });
        let mut conns: Vec<_> = self.conns.keys().copied().collect();
        conns.sort_unstable();
        for c in conns {
            self.close(now, c, "TCP service died");
        }
    }

    /// A header broke a rule: send the generic NACK and close the socket when Table 19 says
    /// so (as the active fault breaks it). Returns true when the socket was closed; otherwise
    /// the caller skips the message exactly.
    fn header_error(&mut self, now: Instant, conn: ConnId, code: GenericNackCode) -> bool {
        use GenericNackCode as C;
        let (send, close) = match code {
            C::IncorrectPatternFormat => {
                (!self.has(Fault::NoNackOnBadPattern), !self.has(Fault::NoCloseOnBadPattern))
            }
            C::UnknownPayloadType => (
                !self.has(Fault::NoNackOnUnknownPayloadType),
                self.has(Fault::CloseOnUnknownPayloadType),
            ),
            C::InvalidPayloadLength => (true, !self.has(Fault::NoCloseOnInvalidLength)),
            C::OutOfMemory => (true, self.has(Fault::CloseOnOutOfMemory)),
            _ => (true, false),
        };
        let sent = match code {
            C::IncorrectPatternFormat if self.has(Fault::WrongNackOnBadPattern) => {
                C::UnknownPayloadType
            }
            C::MessageTooLarge if self.has(Fault::WrongNackOnTooLarge) => C::InvalidPayloadLength,
            C::InvalidPayloadLength if self.has(Fault::WrongNackOnInvalidLength) => {
                C::UnknownPayloadType
            }
            other => other,
        };
        if send {
            let bytes = self.reply(Payload::GenericNack(GenericNack { nack_code: sent }));
            self.release(now, Output::Tcp { conn, bytes });
        }
        self.log(now, Peer::Tcp(conn), || {
            if send {
                format!("rx bad header -> generic NACK 0x{:02X} ({code})", sent.raw())
            } else {
                format!("rx bad header ({code}) -> no NACK")
            }
        });
        if close {
            self.close(now, conn, "generic header rule");
        }
        close
    }

    /// One complete message with a valid header.
    fn dispatch(&mut self, now: Instant, conn: ConnId, message: Message<'_>) {
        match message.payload {
            Payload::RoutingActivationRequest(request) => {
                self.handle_activation_request(now, conn, request)
            }
            Payload::AliveCheckRequest => {
                // The tester asks whether the entity is alive (python-doipclient
                // `request_alive_check`): answer with the entity's logical address.
                if self.has(Fault::NoAliveCheckAnswer) {
                    self.log(now, Peer::Tcp(conn), || "rx alive check request -> ignored".into());
                    return;
                }
                let la = self.config.entity_address();
                let bytes = self
                    .reply(Payload::AliveCheckResponse(AliveCheckResponse { source_address: la }));
                self.release(now, Output::Tcp { conn, bytes });
                self.log(now, Peer::Tcp(conn), || {
                    format!("rx alive check request -> alive check response 0x{la:04X}")
                });
            }
            Payload::AliveCheckResponse(response) => {
                self.handle_alive_check_response(now, conn, response)
            }
            Payload::DiagnosticMessage(message) => {
                self.handle_diagnostic_message(now, conn, &message)
            }
            Payload::GenericNack(_) => {
                // Never answer a NACK with a NACK (no ping-pong between two entities).
                self.log(now, Peer::Tcp(conn), || "rx generic NACK -> ignored".into());
            }
            other => {
                // A TCP type only an entity sends (responses, ACKs): unsupported as input, so
                // NACK 0x01; the message was consumed whole.
                let t = other.payload_type();
                self.log(now, Peer::Tcp(conn), || format!("rx {t} (an entity's message)"));
                self.header_error(now, conn, GenericNackCode::UnknownPayloadType);
            }
        }
    }

    /// Closes a socket: the driver writes what is queued, then closes.
    pub(super) fn close(&mut self, now: Instant, conn: ConnId, why: &'static str) {
        if self.remove_conn(now, conn) {
            self.outputs.push_back(Output::Close { conn });
            self.log(now, Peer::Tcp(conn), || format!("closing: {why}"));
        }
    }

    /// Forgets a socket and everything that refers to it. False when it was not open.
    fn remove_conn(&mut self, now: Instant, conn: ConnId) -> bool {
        let Some(c) = self.conns.remove(&conn) else { return false };
        self.rx_reserved -= c.reserved;
        if c.split_header {
            // `leak_socket_on_split_header`: the socket stays counted against MCTS for good
            // (a conformant entity releases it, ISO 13400-2:2019 §9.3 Figure 10).
            self.leaked_sockets = self.leaked_sockets.saturating_add(1);
        }
        // Delayed answers for this socket can no longer be sent: free their place now, so a
        // closed socket's pending answers never make another socket's request "out of memory".
        self.scheduled.retain(|s| match &s.0.output {
            Output::Tcp { conn: c, .. } | Output::Close { conn: c } => *c != conn,
            Output::Udp { .. } | Output::Can(_) => true,
        });
        if let Some(sa) = c.source_address
            && self.registered.get(&sa) == Some(&conn)
        {
            self.registered.remove(&sa);
        }
        self.activation_conn_gone(now, conn);
        true
    }

    /// Closes the sockets whose inactivity or alive check timer has expired.
    pub(super) fn tcp_timers_due(&mut self, now: Instant) {
        let mut due: Vec<(ConnId, &'static str)> = Vec::new();
        for (id, c) in &self.conns {
            if c.alive_check_deadline.is_some_and(|d| d <= now) {
                due.push((*id, "no alive check response within T_TCP_Alive_Check"));
            } else if c.source_address.is_none() && c.initial_deadline.is_some_and(|d| d <= now) {
                due.push((*id, "T_TCP_Initial_Inactivity expired"));
            } else if c.source_address.is_some()
                && c.general_inactivity.is_some_and(|d| c.last_activity + d <= now)
            {
                due.push((*id, "T_TCP_General_Inactivity expired"));
            }
        }
        due.sort_unstable();
        for (id, why) in due {
            self.close(now, id, why);
        }
    }
}

/// The generic NACK code of a codec error (every header rule maps to one).
fn nack_code(e: &CodecError) -> GenericNackCode {
    // Only an incomplete header has no code, and a complete header is judged here.
    e.nack_code().unwrap_or(GenericNackCode::InvalidPayloadLength)
}
