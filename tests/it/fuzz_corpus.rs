//! Replays every file under `fuzz/corpus/doip_*` through the same oracles the cargo-fuzz
//! targets use (`doipcheck::fuzz_entry::doip`), so CI keeps the corpus' regression value without
//! cargo-fuzz or a nightly toolchain.

use std::path::{Path, PathBuf};

fn corpus_files(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn replay(target: &str, oracle: fn(&[u8])) {
    let files = corpus_files(target);
    assert!(files.len() >= 5, "{target}: corpus has only {} files", files.len());
    for file in files {
        let data = std::fs::read(&file).unwrap();
        let outcome = std::panic::catch_unwind(|| oracle(&data));
        assert!(outcome.is_ok(), "{target}: {} fails its oracle", file.display());
    }
}

#[test]
fn every_doip_message_corpus_file_passes_the_oracle() {
    replay("doip_message", doipcheck::fuzz_entry::doip::doip_message);
}

#[test]
fn every_doip_stream_corpus_file_passes_the_oracle() {
    replay("doip_stream", doipcheck::fuzz_entry::doip::doip_stream);
}

#[test]
fn the_corpus_has_a_seed_for_every_payload_type() {
    let seeds: Vec<Vec<u8>> =
        corpus_files("doip_message").iter().map(|f| std::fs::read(f).unwrap()).collect();
    for payload_type in doipcheck::codec::doip::PayloadType::NAMED {
        let found = seeds.iter().any(|seed| {
            doipcheck::codec::doip::Message::parse(seed)
                .is_ok_and(|m| m.payload.payload_type() == *payload_type)
        });
        assert!(found, "no valid seed of type {payload_type}");
    }
}

#[test]
fn every_cannelloni_datagram_corpus_file_passes_the_oracle() {
    replay("cannelloni_datagram", doipcheck::fuzz_entry::cannelloni::cannelloni_datagram);
}

#[test]
fn every_sim_entity_corpus_file_passes_the_oracle() {
    replay("sim_entity", doipcheck::fuzz_entry::sim::sim_entity);
}

#[test]
fn every_capture_file_corpus_file_passes_the_oracle() {
    replay("capture_file", doipcheck::fuzz_entry::capture::capture_file);
}
