//! `doipcheck isotp send|recv|dump|request`: ISO-TP from a terminal, like can-utils'
//! isotpsend, isotprecv and isotpdump, over a CAN transport that another process can share
//! (`cannelloni:LOCAL_PORT@HOST:PORT`, `socketcan:can0`; `memory:` buses live inside one
//! process, so these commands refuse them).
//!
//! Every command is bounded: `--timeout` (and `--count` where it applies) end it, so scripts
//! and tests never hang. Transport failures exit with [`exit::UNREACHABLE`], usage errors with
//! [`exit::USAGE`].

pub mod args;
pub mod dump;
pub mod request;
pub mod transfer;

use super::exit;
use crate::transport::can::{CanTransport, CanTransportError};
use clap::{Args, Subcommand};

/// ISO-TP (ISO 15765-2) over CAN: send, receive or decode.
#[derive(Debug, Args)]
pub struct IsotpArgs {
    #[command(subcommand)]
    pub command: IsotpCommand,
}

#[derive(Debug, Subcommand)]
pub enum IsotpCommand {
    /// Send messages (hex argument, or one per stdin line) through our ISO-TP stack.
    Send(transfer::SendArgs),
    /// Print each received message as hex; N_Result errors go to stderr (exit status 1).
    Recv(transfer::RecvArgs),
    /// Decode every frame on the bus into a line: id, length, frame type, SF_DL/FF_DL, SN,
    /// FS/BS/STmin, data.
    Dump(dump::DumpArgs),
    /// Send one request and print the answer on the same transport (UDS decoded; NRC 0x78
    /// waits P2*): a request/response from the terminal.
    Request(request::IsoTpRequestArgs),
}

/// Runs the subcommand on a fresh single-threaded runtime; returns the exit code.
pub fn run(args: IsotpArgs) -> u8 {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::FAILURE;
        }
    };
    runtime.block_on(async {
        match args.command {
            IsotpCommand::Send(a) => transfer::run_send(a).await,
            IsotpCommand::Recv(a) => transfer::run_recv(a).await,
            IsotpCommand::Dump(a) => dump::run(a).await,
            IsotpCommand::Request(a) => request::run(a).await,
        }
    })
}

/// Opens the transport or says why not (exit code for the caller). A `memory:` bus exists
/// only inside one process: from a standalone command nothing could hear it.
pub(crate) async fn open(spec: &crate::transport::can::CanSpec) -> Result<CanTransport, u8> {
    if let crate::transport::can::CanSpec::Memory { name, .. } = spec {
        eprintln!(
            "error: --can memory:{name} is an in-process bus: no other program can hear it. Use cannelloni:LOCAL_PORT@HOST:PORT (a peer on loopback or a cannelloni gateway) or socketcan:IFACE"
        );
        return Err(exit::USAGE);
    }
    CanTransport::open(spec).await.map_err(|e| report_transport_error(&e))
}

pub(crate) fn report_transport_error(e: &CanTransportError) -> u8 {
    eprintln!("error: {e}");
    match e {
        CanTransportError::Spec(_) => exit::USAGE,
        _ => exit::UNREACHABLE,
    }
}
