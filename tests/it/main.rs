//! The one integration test binary: cross-module scenarios live here as modules (linking many
//! test binaries is the slow part on 2 cores).

mod bad_suites;
mod can_transport;
mod ci_examples;
mod client_cli;
mod client_netns;
mod closed_pipe;
mod coverage;
mod decode_cli;
mod doip_properties;
mod first_hour;
mod fuzz_corpus;
mod help;
mod inspect_captures;
mod interrupt;
mod isotp_cli;
mod isotp_corpus;
mod isotp_interop;
mod isotp_node;
mod isotp_runner;
mod layering;
mod pcap_capture;
mod power_cycle;
mod replay_captures;
mod report;
mod report_e2e;
mod report_events;
mod run_cli;
mod run_reports_cli;
mod runner_hostile;
mod runner_sim;
mod schema;
mod sim_cli;
mod sim_interop;
mod sim_robustness;
mod tshark;
