//! `doipcheck isotp request HEX`: one request through our ISO-TP stack and the answer on the
//! same CAN node, like a tester does it: the request is sent (its N_Result named if the
//! transfer fails: N_TIMEOUT_Bs without flow control, N_BUFFER_OVFLW, ...), then the answer
//! must start within P2 (ISO 14229-2), or within P2* after each "response pending" (NRC 0x78);
//! a segmented answer that stops names its N_Result (N_TIMEOUT_Cr). The answer is printed as
//! hex with its UDS reading. Exit 0 positive answer, 1 negative answer or failed transfer or no
//! answer, 2 usage, 3 transport.

use super::super::exit;
use super::transfer::{LinkArgs, format_payload, note, parse_payload};
use crate::cli::stdout::{self, Stdout};
use crate::codec::uds::Response;
use crate::notation;
use crate::proto::isotp::TransferEvent;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug, Clone, clap::Args)]
pub struct IsoTpRequestArgs {
    #[command(flatten)]
    pub link: LinkArgs,
    /// P2: how long the answer may take to start after the request was sent (ISO 14229-2
    /// P2server_max is 50 ms; a tunnel adds its own latency).
    #[arg(long, value_name = "DURATION", value_parser = notation::parse_duration, default_value = "1s")]
    pub p2: Duration,
    /// P2*: the wait after each response pending (NRC 0x78).
    #[arg(long, value_name = "DURATION", value_parser = notation::parse_duration, default_value = "5s")]
    pub p2_star: Duration,
    /// The request in hex (`22F190` or "22 F1 90").
    pub hex: String,
}

/// How many response-pending answers are waited through before giving up: an ECU that
/// answers 0x78 for ever would otherwise hold the terminal for ever.
const MAX_PENDING: u32 = 64;

pub async fn run(args: IsoTpRequestArgs) -> u8 {
    let request = match parse_payload(&args.hex) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let mut driver = match args.link.open().await {
        Ok(d) => d,
        Err(code) => return code,
    };
    if let Err(e) = driver.send(&request) {
        eprintln!("error: {e}");
        return exit::USAGE;
    }
    let verbose = args.link.verbose;
    // The transfer of the request: bounded by the stack's own N_As / N_Bs / N_Cs timers, and
    // here by P2* as a last resort.
    let sent_by = Instant::now() + args.p2_star;
    loop {
        match driver.next_event(Some(sent_by.into_std())).await {
            Err(e) => return super::report_transport_error(&e),
            Ok(None) => {
                eprintln!("error: the {}-byte request was not sent in time", request.len());
                return exit::FAILURE;
            }
            Ok(Some(TransferEvent::MessageSent)) => break,
            Ok(Some(TransferEvent::SendFailed { result })) => {
                eprintln!("error: {result}: sending the {}-byte request failed", request.len());
                return exit::FAILURE;
            }
            Ok(Some(other)) => note(&other, verbose),
        }
    }
    let mut wait = args.p2;
    let mut pending = 0u32;
    let mut out = Stdout::new();
    loop {
        let deadline = Instant::now() + wait;
        let answer = loop {
            match driver.next_event(Some(deadline.into_std())).await {
                Err(e) => return super::report_transport_error(&e),
                Ok(None) => {
                    eprintln!(
                        "error: no answer within {} ({} after the request; ISO 14229-2)",
                        notation::format_duration(wait),
                        if pending == 0 { "P2" } else { "P2* after response pending" }
                    );
                    return exit::FAILURE;
                }
                Ok(Some(TransferEvent::MessageReceived { payload, .. })) => break payload,
                Ok(Some(TransferEvent::ReceiveFailed { result })) => {
                    eprintln!("error: {result}: the answer in progress failed");
                    return exit::FAILURE;
                }
                Ok(Some(other)) => note(&other, verbose),
            }
        };
        let reading = Response::parse(&answer);
        let line = format!(
            "{}  {}",
            format_payload(&answer),
            match &reading {
                Ok(r) => r.to_string(),
                Err(e) => format!("not a UDS response: {e}"),
            }
        );
        if let Err(e) = out.line(&line) {
            return stdout::write_failed(&e);
        }
        match reading {
            Ok(r) if r.is_response_pending() && pending < MAX_PENDING => {
                pending += 1;
                wait = args.p2_star;
            }
            Ok(r) if r.is_response_pending() => {
                eprintln!("error: {MAX_PENDING} response-pending answers in a row; giving up");
                return exit::FAILURE;
            }
            Ok(r) if r.nrc().is_some() => return exit::FAILURE,
            Ok(_) => return exit::SUCCESS,
            Err(_) => return exit::FAILURE,
        }
    }
}
