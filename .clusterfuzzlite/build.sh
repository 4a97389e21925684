#!/bin/bash -eu
# Builds every cargo-fuzz target of fuzz/ with the sanitizer flags the OSS-Fuzz builder sets
# (`cargo fuzz build -O`: optimised, debug assertions kept by cargo-fuzz's defaults) and copies
# each binary to $OUT with its seed corpus as <target>_seed_corpus.zip. The target list must
# name exactly the [[bin]] targets of fuzz/Cargo.toml: tests/it/clusterfuzzlite.rs checks it.
cd "$SRC/doipcheck/fuzz"
cargo fuzz build -O

FUZZ_TARGETS="doip_message doip_stream isotp_receiver cannelloni_datagram sim_entity capture_file"
BUILD_DIR="$SRC/doipcheck/fuzz/target/x86_64-unknown-linux-gnu/release"
for target in $FUZZ_TARGETS; do
  cp "$BUILD_DIR/$target" "$OUT/"
  if [ -d "corpus/$target" ]; then
    (cd "corpus/$target" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
  fi
done
