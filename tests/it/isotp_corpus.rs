//! Replays the cargo-fuzz corpus of `isotp_receiver` through the same entry point the fuzz
//! target calls, so CI keeps the regression value of every seed and finding without
//! cargo-fuzz; plus arbitrary bytes through it with proptest.

use std::path::PathBuf;

use doipcheck::fuzz_entry::isotp::{Summary, isotp_receiver};
use proptest::prelude::*;

fn corpus() -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/isotp_receiver");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files.into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect()
}

#[test]
fn isotp_receiver_corpus_replays_clean_and_reaches_every_outcome() {
    let mut total = Summary::default();
    let files = corpus();
    assert!(files.len() >= 10, "the seeds are missing");
    for (path, data) in &files {
        let s = isotp_receiver(data);
        eprintln!("{}: {s:?}", path.display());
        total.frames_sent += s.frames_sent;
        total.messages_received += s.messages_received;
        total.messages_sent += s.messages_sent;
        total.receive_failures += s.receive_failures;
        total.send_failures += s.send_failures;
        total.frames_ignored += s.frames_ignored;
    }
    assert!(total.frames_sent > 0, "{total:?}");
    assert!(total.messages_received > 0, "{total:?}");
    assert!(total.messages_sent > 0, "{total:?}");
    assert!(total.receive_failures > 0, "{total:?}");
    assert!(total.send_failures > 0, "{total:?}");
    assert!(total.frames_ignored > 0, "{total:?}");
}

#[test]
fn seed_with_a_complete_segmented_message_delivers_it() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/isotp_receiver");
    for name in ["normal_ff_two_cfs", "extended_addressing", "fd_ff_and_short_last_cf"] {
        let s = isotp_receiver(&std::fs::read(dir.join(name)).unwrap());
        assert_eq!(s.messages_received, 1, "{name}: {s:?}");
        assert!(s.frames_sent >= 1, "{name}: the FC");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_keep_every_oracle(data in prop::collection::vec(any::<u8>(), 0..512)) {
        isotp_receiver(&data);
    }
}
