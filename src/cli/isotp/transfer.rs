//! `doipcheck isotp send` and `recv`: our conformant ISO-TP stack on a CAN transport, like
//! can-utils' isotpsend / isotprecv.
//!
//! - `send` takes the message in hex from its argument, or from stdin (one message per
//!   non-empty line), sends them one after another and exits 0 when all went out; an N_Result
//!   (e.g. `N_BUFFER_OVFLW` after an FC OVFLW) is printed to stderr and exits 1.
//! - `recv` prints each received message as hex (`62 F1 90 ...`), one per line, until
//!   `--count` messages or `--timeout`; a failed reception prints its N_Result to stderr and
//!   makes the exit status 1.

use super::args::{Addressing, parse_can_id, parse_hex_byte};
use crate::cli::exit;
use crate::cli::stdout::{self, Stdout};
use crate::codec::can::CanId;
use crate::codec::isotp::{FrameFormat, Padding, StMin, TxDl};
use crate::notation;
use crate::proto::isotp::{
    Endpoint, IsoTpAddress, IsoTpConfig, ReceiverProfile, Timers, TransferEvent, TxConfirmation,
};
use crate::transport::can::CanSpec;
use crate::transport::can::driver::IsoTpDriver;
use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

/// Addressing, frame format, timers and receiver parameters shared by send and recv.
#[derive(Debug, Clone, clap::Args)]
pub struct LinkArgs {
    /// CAN transport: memory:NAME, cannelloni:LOCAL_PORT@HOST:PORT or socketcan:IFACE
    /// (add ?echo for real transmit confirmations, N_As/N_Ar).
    #[arg(long, value_name = "SPEC")]
    pub can: CanSpec,
    /// Addressing format (ISO 15765-2:2016 §10.3).
    #[arg(long, value_enum, default_value_t = Addressing::Normal)]
    pub addressing: Addressing,
    /// CAN id of our frames (hex; 8 digits or > 7FF = 29-bit). Not with normal-fixed.
    #[arg(long, value_name = "ID", value_parser = parse_can_id)]
    pub tx_id: Option<CanId>,
    /// CAN id of the peer's frames to us.
    #[arg(long, value_name = "ID", value_parser = parse_can_id)]
    pub rx_id: Option<CanId>,
    /// Our address (N_SA): normal-fixed and 29-bit mixed ids; extended: first byte of frames
    /// to us.
    #[arg(long, value_name = "BYTE", value_parser = parse_hex_byte)]
    pub source_address: Option<u8>,
    /// The peer's address (N_TA): normal-fixed and 29-bit mixed ids; extended: first byte of
    /// our frames.
    #[arg(long, value_name = "BYTE", value_parser = parse_hex_byte)]
    pub target_address: Option<u8>,
    /// Address extension N_AE (mixed addressing).
    #[arg(long, value_name = "BYTE", value_parser = parse_hex_byte)]
    pub address_extension: Option<u8>,
    /// Send CAN FD frames.
    #[arg(long)]
    pub fd: bool,
    /// Bit rate switch on FD frames.
    #[arg(long, requires = "fd")]
    pub brs: bool,
    /// TX_DL: 8, 12, 16, 20, 24, 32, 48 or 64 (default 8, or 64 with --fd).
    #[arg(long, value_name = "N")]
    pub tx_dl: Option<usize>,
    /// Padding byte (hex).
    #[arg(long, value_name = "BYTE", value_parser = parse_hex_byte, default_value = "CC")]
    pub padding: u8,
    /// Do not pad classic frames to 8 bytes (CAN_DL optimisation).
    #[arg(long)]
    pub length_optimised: bool,
    /// Block size we grant as receiver (0 = no further FC).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub bs: u8,
    /// STmin byte we grant as receiver: 00-7F ms, F1-F9 = 100-900 us (hex).
    #[arg(long, value_name = "BYTE", value_parser = parse_hex_byte, default_value = "0")]
    pub stmin: u8,
    /// Largest message we accept; a larger FF is answered with FC OVFLW.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    pub max_size: u32,
    /// N_Bs: how long the sender waits for an FC.
    #[arg(long, value_name = "DURATION", value_parser = notation::parse_duration, default_value = "1000ms")]
    pub n_bs: Duration,
    /// N_Cr: how long the receiver waits for the next CF.
    #[arg(long, value_name = "DURATION", value_parser = notation::parse_duration, default_value = "1000ms")]
    pub n_cr: Duration,
    /// N_As / N_Ar: transmit confirmation timeout (only with ?echo in the spec).
    #[arg(long, value_name = "DURATION", value_parser = notation::parse_duration, default_value = "1000ms")]
    pub n_a: Duration,
    /// Print ignored frames and their reason to stderr.
    #[arg(short, long)]
    pub verbose: bool,
}

impl LinkArgs {
    /// The stack configuration these arguments describe, or what is missing or wrong.
    pub fn config(&self) -> Result<IsoTpConfig, String> {
        let need_ids = || match (self.tx_id, self.rx_id) {
            (Some(tx), Some(rx)) => Ok((tx, rx)),
            _ => Err(format!("--addressing {:?} needs --tx-id and --rx-id", self.addressing)
                .to_lowercase()),
        };
        let need = |v: Option<u8>, flag: &str| {
            v.ok_or_else(|| {
                format!("--addressing {:?} needs {flag}", self.addressing).to_lowercase()
            })
        };
        let address = match self.addressing {
            Addressing::Normal => {
                let (tx, rx) = need_ids()?;
                IsoTpAddress::normal(tx, rx)
            }
            Addressing::NormalFixed => IsoTpAddress::normal_fixed(
                need(self.source_address, "--source-address")?,
                need(self.target_address, "--target-address")?,
            ),
            Addressing::Extended => {
                let (tx, rx) = need_ids()?;
                IsoTpAddress::extended(
                    tx,
                    rx,
                    need(self.source_address, "--source-address")?,
                    need(self.target_address, "--target-address")?,
                )
            }
            Addressing::Mixed => {
                let ae = need(self.address_extension, "--address-extension")?;
                match (self.tx_id, self.rx_id) {
                    (Some(tx), Some(rx)) => IsoTpAddress::mixed_11bit(tx, rx, ae),
                    _ => IsoTpAddress::mixed_29bit(
                        need(self.source_address, "--source-address (or --tx-id/--rx-id)")?,
                        need(self.target_address, "--target-address (or --tx-id/--rx-id)")?,
                        ae,
                    ),
                }
            }
        };
        let tx_dl_len = self.tx_dl.unwrap_or(if self.fd { 64 } else { 8 });
        let tx_dl = TxDl::new(tx_dl_len).ok_or_else(|| {
            format!("--tx-dl {tx_dl_len}: TX_DL is one of 8, 12, 16, 20, 24, 32, 48, 64")
        })?;
        let padding = if self.length_optimised {
            Padding::length_optimised(self.padding)
        } else {
            Padding::padded(self.padding)
        };
        let mut config = IsoTpConfig::new(address);
        config.tx_dl = tx_dl;
        config.format = FrameFormat { fd: self.fd, brs: self.brs, padding };
        config.timers = Timers {
            n_as: self.n_a,
            n_ar: self.n_a,
            n_bs: self.n_bs,
            n_cr: self.n_cr,
            ..Timers::default()
        };
        config.receiver = ReceiverProfile {
            block_size: self.bs,
            st_min: StMin::from_raw(self.stmin),
            max_receive_size: self.max_size,
            ..ReceiverProfile::default()
        };
        config.tx_confirmation =
            if self.can.options().echo { TxConfirmation::Explicit } else { TxConfirmation::OnPoll };
        config.validate().map_err(|e| e.to_string())?;
        Ok(config)
    }

    pub(crate) async fn open(&self) -> Result<IsoTpDriver, u8> {
        let config = self.config().map_err(|e| {
            eprintln!("error: {e}");
            exit::USAGE
        })?;
        let endpoint = Endpoint::new(config).map_err(|e| {
            eprintln!("error: {e}");
            exit::USAGE
        })?;
        let transport = super::open(&self.can).await?;
        Ok(IsoTpDriver::new(transport, endpoint))
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub link: LinkArgs,
    /// Give up after this long in total.
    #[arg(long, value_name = "DURATION", value_parser = notation::parse_duration, default_value = "10s")]
    pub timeout: Duration,
    /// The message in hex (`22F190` or "22 F1 90"); without it, stdin: one message a line.
    pub hex: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct RecvArgs {
    #[command(flatten)]
    pub link: LinkArgs,
    /// Exit after this many messages.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Exit after this long (status 1 if --count messages did not arrive by then); without
    /// it and --count, recv runs until Ctrl-C.
    #[arg(long, value_name = "DURATION", value_parser = notation::parse_duration)]
    pub timeout: Option<Duration>,
}

/// The message as hex (the grammar of `crate::notation`); an ISO-TP message is never empty.
pub fn parse_payload(text: &str) -> Result<Vec<u8>, String> {
    let bytes = notation::parse_hex(text)?;
    if bytes.is_empty() {
        return Err("the message is empty (ISO-TP messages have at least 1 byte)".into());
    }
    Ok(bytes)
}

/// Upper-case hex with spaces, as isotprecv prints.
pub fn format_payload(payload: &[u8]) -> String {
    notation::hex_spaced(payload).to_ascii_uppercase()
}

pub async fn run_send(args: SendArgs) -> u8 {
    let messages = match &args.hex {
        Some(h) => vec![h.clone()],
        None => std::io::stdin()
            .lock()
            .lines()
            .map_while(Result::ok)
            .filter(|l| !l.trim().is_empty())
            .collect(),
    };
    let mut payloads = Vec::with_capacity(messages.len());
    for m in &messages {
        match parse_payload(m) {
            Ok(p) => payloads.push(p),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        }
    }
    if payloads.is_empty() {
        eprintln!("error: no message: give hex as an argument or on stdin");
        return exit::USAGE;
    }
    let mut driver = match args.link.open().await {
        Ok(d) => d,
        Err(code) => return code,
    };
    send(&mut driver, &payloads, Instant::now() + args.timeout, args.link.verbose).await
}

/// Sends each payload in turn; returns the exit code.
pub async fn send(
    driver: &mut IsoTpDriver,
    payloads: &[Vec<u8>],
    deadline: Instant,
    verbose: bool,
) -> u8 {
    for payload in payloads {
        if let Err(e) = driver.send(payload) {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
        loop {
            match driver.next_event(Some(deadline)).await {
                Err(e) => return super::report_transport_error(&e),
                Ok(None) => {
                    eprintln!(
                        "error: timed out before the {}-byte message was sent",
                        payload.len()
                    );
                    return exit::FAILURE;
                }
                Ok(Some(TransferEvent::MessageSent)) => break,
                Ok(Some(TransferEvent::SendFailed { result })) => {
                    eprintln!("error: {result}: sending the {}-byte message failed", payload.len());
                    return exit::FAILURE;
                }
                Ok(Some(other)) => note(&other, verbose),
            }
        }
    }
    // A batching transport may still hold the last frames.
    match driver.flush().await {
        Ok(()) => exit::SUCCESS,
        Err(e) => super::report_transport_error(&e),
    }
}

pub async fn run_recv(args: RecvArgs) -> u8 {
    let mut driver = match args.link.open().await {
        Ok(d) => d,
        Err(code) => return code,
    };
    recv(&mut driver, &args, &mut Stdout::new()).await
}

/// Prints received messages until `--count` or `--timeout` (or Ctrl-C); returns the exit code.
pub async fn recv(driver: &mut IsoTpDriver, args: &RecvArgs, out: &mut impl Write) -> u8 {
    let deadline = args.timeout.map(|t| Instant::now() + t);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut received = 0u64;
    let mut failed = false;
    while args.count.is_none_or(|n| received < n) {
        let event = tokio::select! {
            e = driver.next_event(deadline) => e,
            _ = &mut ctrl_c => break,
        };
        match event {
            Err(e) => return super::report_transport_error(&e),
            Ok(None) => {
                if let Some(n) = args.count {
                    eprintln!("error: timed out with {received} of {n} messages received");
                    failed = true;
                }
                break;
            }
            Ok(Some(TransferEvent::MessageReceived { payload, .. })) => {
                received += 1;
                if let Err(e) =
                    writeln!(out, "{}", format_payload(&payload)).and_then(|()| out.flush())
                {
                    return stdout::write_failed(&e);
                }
            }
            Ok(Some(TransferEvent::ReceiveFailed { result })) => {
                eprintln!("error: {result}: the reception in progress failed");
                failed = true;
            }
            Ok(Some(TransferEvent::OverflowRefused { ff_dl })) => {
                eprintln!(
                    "error: FF_DL {ff_dl} is above --max-size {}: answered FC OVFLW",
                    args.link.max_size
                );
                failed = true;
            }
            Ok(Some(other)) => note(&other, args.link.verbose),
        }
    }
    if failed { exit::FAILURE } else { exit::SUCCESS }
}

/// Events that end nothing: shown with --verbose.
pub(crate) fn note(event: &TransferEvent, verbose: bool) {
    if !verbose {
        return;
    }
    match event {
        TransferEvent::FrameIgnored { reason } => eprintln!("note: frame ignored: {reason}"),
        TransferEvent::FirstFrameReceived { ff_dl } => {
            eprintln!("note: FF received, FF_DL {ff_dl}")
        }
        other => eprintln!("note: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_parse_with_or_without_spaces_and_errors_say_why() {
        assert_eq!(parse_payload("22F190").unwrap(), vec![0x22, 0xF1, 0x90]);
        assert_eq!(parse_payload(" 22 f1 90 \n").unwrap(), vec![0x22, 0xF1, 0x90]);
        assert!(parse_payload("  ").unwrap_err().contains("empty"));
        assert_eq!(parse_payload("0x22:f1:90").unwrap(), vec![0x22, 0xF1, 0x90]);
        assert!(parse_payload("2").unwrap_err().contains("odd number of digits"));
        assert_eq!(
            parse_payload("22 zz").unwrap_err(),
            "hex `22 zz`: `z` at column 4 is not a hex digit"
        );
        assert_eq!(format_payload(&[0x62, 0xF1, 0x90]), "62 F1 90");
    }
}

#[cfg(test)]
mod config_tests {
    use super::*;
    use crate::codec::isotp::AddressingMode;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(flatten)]
        link: LinkArgs,
    }

    fn config(args: &str) -> Result<IsoTpConfig, String> {
        let argv = std::iter::once("x").chain(args.split_whitespace());
        Wrapper::try_parse_from(argv).map_err(|e| e.to_string())?.link.config()
    }

    #[test]
    fn normal_addressing_with_receiver_grants_and_fd() {
        let c = config("--can memory:x --tx-id 7E0 --rx-id 18DAF110 --bs 3 --stmin F5 --fd --brs")
            .unwrap();
        assert_eq!(c.address.tx.id.to_string(), "7E0");
        assert_eq!(c.address.rx.id.to_string(), "18DAF110");
        assert_eq!((c.receiver.block_size, c.receiver.st_min), (3, StMin::Micros(500)));
        assert_eq!((c.tx_dl.get(), c.format.fd, c.format.brs), (64, true, true));
        assert_eq!(c.tx_confirmation, TxConfirmation::OnPoll);
    }

    #[test]
    fn echo_in_the_spec_makes_confirmations_explicit() {
        let c = config("--can memory:x?echo --tx-id 7E0 --rx-id 7E8").unwrap();
        assert_eq!(c.tx_confirmation, TxConfirmation::Explicit);
    }

    #[test]
    fn fixed_extended_and_mixed_addressing_build_their_ids_and_bytes() {
        let c = config(
            "--can memory:x --addressing normal-fixed --source-address F1 --target-address 10",
        )
        .unwrap();
        assert_eq!(c.address.tx.id.to_string(), "18DA10F1");
        let c = config(
            "--can memory:x --addressing extended --tx-id 7E0 --rx-id 7E8 --source-address F1 --target-address 10",
        )
        .unwrap();
        assert_eq!(
            (c.address.mode, c.address.tx.address_byte),
            (AddressingMode::Extended, Some(0x10))
        );
        let c = config(
            "--can memory:x --addressing mixed --tx-id 7E0 --rx-id 7E8 --address-extension 55",
        )
        .unwrap();
        assert_eq!(c.address.rx.address_byte, Some(0x55));
    }

    #[test]
    fn missing_or_wrong_settings_say_what_to_give() {
        assert!(config("--can memory:x").unwrap_err().contains("needs --tx-id and --rx-id"));
        assert!(
            config("--can memory:x --addressing normal-fixed --target-address 10")
                .unwrap_err()
                .contains("needs --source-address")
        );
        assert!(
            config("--can memory:x --tx-id 7E0 --rx-id 7E8 --tx-dl 9")
                .unwrap_err()
                .contains("TX_DL is one of")
        );
        assert!(
            config("--can memory:x --tx-id 7E0 --rx-id 7E8 --tx-dl 64")
                .unwrap_err()
                .contains("needs CAN FD")
        );
        assert!(
            config("--can memory:x --tx-id 7E0 --rx-id 7E0").unwrap_err().contains("tx and rx")
        );
        assert!(
            config("--can nowhere --tx-id 7E0 --rx-id 7E8")
                .unwrap_err()
                .contains("no transport kind")
        );
    }
}
