//! Routing activation (ISO 13400-2:2019 §9.3, Table 25 and the socket handler of Figure 10) and
//! the alive check (§9.4): the entity alive-checks registered sockets before it denies an
//! activation for want of sockets (0x01) or because the SA is active elsewhere (0x03).

use super::{ConnId, Entity, Liveness, Output, Peer};
use crate::codec::doip::{
    AliveCheckResponse, Payload, RoutingActivationRequest, RoutingActivationResponse,
    RoutingActivationResponseCode as Code,
};
use crate::proto::time::Instant;
use crate::sim::config::{ActivationTypeConfig, Confirmation};
use crate::sim::faults::Fault;

/// Why an activation waits for alive check responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Waiting {
    /// All MCTS sockets are registered: one that does not answer frees a slot (else 0x01).
    AllSocketsRegistered,
    /// The SA is active on another socket: if that one does not answer it is replaced
    /// (else 0x03).
    SourceAddressActiveElsewhere,
}

/// An activation request answered only after alive checks.
#[derive(Debug, Clone)]
pub(super) struct PendingActivation {
    requester: ConnId,
    request: RoutingActivationRequest,
    checking: Vec<ConnId>,
    waiting: Waiting,
}

impl Entity {
    pub(super) fn handle_activation_request(
        &mut self,
        now: Instant,
        conn: ConnId,
        request: RoutingActivationRequest,
    ) {
        if request.activation_type.is_reserved() && self.has(Fault::CrashOnReservedActivationType) {
            // A conformant entity denies it with 0x06 and closes this socket only (Table 25).
            let peer = Peer::Tcp(conn);
            return self.go_down(now, peer, Liveness::Crashed, "reserved activation type");
        }
        if self.pending_activations.iter().any(|p| p.requester == conn) {
            // One activation at a time per socket; the first one's answer is still coming.
            self.log(now, Peer::Tcp(conn), || {
                format!("rx {request} -> ignored, an activation is pending on this socket")
            });
            return;
        }
        self.decide_activation(now, conn, request);
    }

    /// Table 25 in the order of Figure 10.
    fn decide_activation(&mut self, now: Instant, conn: ConnId, request: RoutingActivationRequest) {
        let Some(current) = self.conns.get(&conn).map(|c| c.source_address) else { return };
        let sa = request.source_address;
        if !self.config.tester_addresses.contains(&sa)
            && !self.has(Fault::ActivationAcceptsUnknownSa)
        {
            let close = !self.has(Fault::ActivationNoCloseOnUnknownSa);
            return self.activation_answer(now, conn, &request, Code::UnknownSourceAddress, close);
        }
        let type_config = match self.config.activation_type(request.activation_type.raw()) {
            Some(t) => t.clone(),
            None if self.has(Fault::ActivationAcceptsUnsupportedType) => {
                ActivationTypeConfig::plain(request.activation_type.raw())
            }
            None => {
                return self.activation_answer(
                    now,
                    conn,
                    &request,
                    Code::UnsupportedActivationType,
                    true,
                );
            }
        };
        if let Some(current) = current
            && current != sa
            && !self.has(Fault::ActivationAcceptsChangedSa)
        {
            return self.activation_answer(now, conn, &request, Code::DifferentSourceAddress, true);
        }
        if current != Some(sa) {
            if let Some(&other) = self.registered.get(&sa)
                && other != conn
            {
                if self.has(Fault::ActivationNoAliveCheckSameSa) {
                    let code = Code::SourceAddressAlreadyActive;
                    return self.activation_answer(now, conn, &request, code, true);
                }
                return self.wait_for_alive_checks(
                    now,
                    conn,
                    request,
                    vec![other],
                    Waiting::SourceAddressActiveElsewhere,
                );
            }
            let others: Vec<ConnId> =
                self.registered.values().copied().filter(|c| *c != conn).collect();
            // Leaked sockets (a fault) count as taken but cannot be alive-checked.
            let taken = others.len() + self.leaked_sockets;
            if current.is_none() && taken >= usize::from(self.config.max_tcp_sockets) {
                if others.is_empty() || self.has(Fault::ActivationNoAliveCheckWhenFull) {
                    let code = Code::AllSocketsRegistered;
                    return self.activation_answer(now, conn, &request, code, true);
                }
                return self.wait_for_alive_checks(
                    now,
                    conn,
                    request,
                    others,
                    Waiting::AllSocketsRegistered,
                );
            }
        }
        self.finish_activation(now, conn, request, &type_config);
    }

    /// The checks after the socket handler: TLS, authentication, confirmation, then success.
    fn finish_activation(
        &mut self,
        now: Instant,
        conn: ConnId,
        request: RoutingActivationRequest,
        type_config: &ActivationTypeConfig,
    ) {
        let Some(c) = self.conns.get(&conn) else { return };
        let (tls, confirmation_requested) = (c.tls, c.confirmation_requested);
        if type_config.requires_tls && !tls && !self.has(Fault::ActivationIgnoresTlsRequirement) {
            return self.activation_answer(now, conn, &request, Code::TlsRequired, false);
        }
        if let Some(expected) = &type_config.authentication {
            let given = request.oem_specific.map(u32::to_be_bytes);
            if given.as_ref().map(|g| &g[..]) != Some(&expected.0[..]) {
                let close = self.has(Fault::ActivationCloseOnMissingAuth);
                return self.activation_answer(
                    now,
                    conn,
                    &request,
                    Code::MissingAuthentication,
                    close,
                );
            }
        }
        match type_config.confirmation {
            Confirmation::Rejected => {
                let close = !self.has(Fault::ActivationNoCloseOnRejectedConfirmation);
                return self.activation_answer(
                    now,
                    conn,
                    &request,
                    Code::RejectedConfirmation,
                    close,
                );
            }
            Confirmation::Pending
                if !confirmation_requested && !self.has(Fault::ActivationSkipsConfirmation) =>
            {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.confirmation_requested = true;
                }
                return self.activation_answer(
                    now,
                    conn,
                    &request,
                    Code::ConfirmationRequired,
                    false,
                );
            }
            _ => {}
        }
        let sa = request.source_address;
        if let Some(c) = self.conns.get_mut(&conn) {
            if let Some(old) = c.source_address.replace(sa)
                && old != sa
            {
                self.registered.remove(&old);
            }
            c.last_activity = now;
        }
        self.registered.insert(sa, conn);
        self.activation_answer(now, conn, &request, Code::SuccessfullyActivated, false);
    }

    /// Sends the routing activation response and closes the socket when the code says so.
    fn activation_answer(
        &mut self,
        now: Instant,
        conn: ConnId,
        request: &RoutingActivationRequest,
        code: Code,
        close: bool,
    ) {
        let response = RoutingActivationResponse {
            tester_logical_address: request.source_address,
            entity_logical_address: self.config.entity_address(),
            response_code: code,
            reserved_iso: 0,
            oem_specific: None,
        };
        let bytes = self.reply(Payload::RoutingActivationResponse(response));
        self.release(now, Output::Tcp { conn, bytes });
        self.log(now, Peer::Tcp(conn), || {
            format!(
                "rx {request} -> routing activation response 0x{:02X}{}",
                code.raw(),
                if close { ", closing" } else { "" }
            )
        });
        if close {
            self.close(now, conn, "routing activation denied");
        }
    }

    fn wait_for_alive_checks(
        &mut self,
        now: Instant,
        requester: ConnId,
        request: RoutingActivationRequest,
        checking: Vec<ConnId>,
        waiting: Waiting,
    ) {
        for &target in &checking {
            self.send_alive_check(now, target);
        }
        self.log(now, Peer::Tcp(requester), || {
            format!("rx {request} -> alive check of {} socket(s) first", checking.len())
        });
        self.pending_activations.push(PendingActivation { requester, request, checking, waiting });
    }

    /// Sends an alive check request (payload type 0x0007) unless one is outstanding.
    fn send_alive_check(&mut self, now: Instant, target: ConnId) {
        let wait = self.timer(self.config.timing.t_tcp_alive_check);
        let deadline = if self.has(Fault::AliveCheckTimeoutNever) {
            None
        } else if self.has(Fault::AliveCheckTimeoutEarly) {
            Some(now + wait / 2)
        } else {
            Some(now + wait)
        };
        let Some(c) = self.conns.get_mut(&target) else { return };
        if c.alive_check_awaited {
            return;
        }
        c.alive_check_awaited = true;
        c.alive_check_deadline = deadline;
        let bytes = self.reply(Payload::AliveCheckRequest);
        self.release(now, Output::Tcp { conn: target, bytes });
    }

    /// An alive check response: the socket is alive. Unprompted ones only count as activity
    /// (a tester may send them to keep an idle socket open).
    pub(super) fn handle_alive_check_response(
        &mut self,
        now: Instant,
        conn: ConnId,
        response: AliveCheckResponse,
    ) {
        self.log(now, Peer::Tcp(conn), || {
            format!("rx alive check response 0x{:04X}", response.source_address)
        });
        if self.has(Fault::AliveCheckResponseIgnored) {
            return;
        }
        let Some(c) = self.conns.get_mut(&conn) else { return };
        c.alive_check_awaited = false;
        c.alive_check_deadline = None;
        let mut denied = Vec::new();
        self.pending_activations.retain_mut(|p| {
            p.checking.retain(|c| *c != conn);
            if p.checking.is_empty() {
                denied.push((p.requester, p.request, p.waiting));
                false
            } else {
                true
            }
        });
        for (requester, request, waiting) in denied {
            let code = match waiting {
                Waiting::AllSocketsRegistered => Code::AllSocketsRegistered,
                Waiting::SourceAddressActiveElsewhere => Code::SourceAddressAlreadyActive,
            };
            self.activation_answer(now, requester, &request, code, true);
        }
    }

    /// A socket went away: activations waiting on it proceed (a slot or the SA is free now),
    /// and its own pending activation is dropped.
    pub(super) fn activation_conn_gone(&mut self, now: Instant, conn: ConnId) {
        let mut retry = Vec::new();
        self.pending_activations.retain(|p| {
            if p.requester == conn {
                return false;
            }
            if p.checking.contains(&conn) {
                retry.push((p.requester, p.request));
                return false;
            }
            true
        });
        for (requester, request) in retry {
            self.decide_activation(now, requester, request);
        }
    }
}
