//! The examples and exit codes each command's `--help` ends with (clap `after_help`), kept
//! together so that they read alike. tests/it/help.rs checks that every command has them and
//! that the commands they show parse.

pub const RUN: &str = "\
Examples:
  doipcheck run                                       # ./suites (or the built-in ones) against the simulator
  doipcheck run -t 192.0.2.10 -p my-ecu.yaml suites/doip
  doipcheck run --tags 'nack and not slow' --case 'HDR-*' --fail-fast
  doipcheck run --shard 2/4 -o reports/shard-2        # one job of a CI matrix
  doipcheck run --sim-fault no_close_on_bad_pattern   # the suites must catch it
  doipcheck run --markdown summary.md                 # also a Markdown summary
  doipcheck run --baseline last-night/ --fail-on regression   # what changed; fail on regressions only
  doipcheck run --waivers accepted.yaml               # accepted deviations show as waived
  doipcheck run --bundle evidence.tar                 # reports, captures, suites, profile + SHA-256 manifest

Exit codes: 0 every case passed or was skipped (an empty shard too), 1 a case failed, was
inconclusive or errored (with --fail-on regression: a case regressed against --baseline), 2 usage or suite error (nothing ran), 3 target unreachable,
130/143/129 stopped by SIGINT/SIGTERM/SIGHUP (the reports hold every finished case).";

pub const VALIDATE: &str = "\
Examples:
  doipcheck validate suites/
  doipcheck validate my-suite.yaml -p my-ecu.yaml
  doipcheck validate -p my-ecu.yaml -t 192.0.2.10     # also: is the profile fit for a real target?

Exit codes: 0 valid, 2 any error (all of them are printed, with file:line:column).";

pub const LIST: &str = "\
Examples:
  doipcheck list --short
  doipcheck list --tags timing -p my-ecu.yaml         # which cases the profile runs or skips

Exit codes: 0 listed, 2 usage or suite error.";

pub const SIM: &str = "\
Examples:
  doipcheck sim                                       # 127.0.0.1:13400 (TCP and UDP), TLS 3496
  doipcheck sim --port 0                              # free ports, printed at start
  doipcheck sim --bind ::1 --port 13401 --fault no_close_on_bad_pattern
  doipcheck sim -c sim.yaml --can cannelloni:20000@127.0.0.1:20001

Exit codes: 0 stopped by Ctrl-C, 1 could not start (port in use...), 2 usage or
configuration error.";

pub const SELFTEST: &str = "\
Examples:
  doipcheck selftest                                  # every fault of the catalogue
  doipcheck selftest --sim-fault no_close_on_bad_pattern --sample 0

Exit codes: 0 every case passes the conformant simulator and catches the faults it lists
(last line `selftest: ok`), 1 a mismatch or a case no fault can fail (last line
`selftest: FAILED: ...`), 2 usage or suite error.";

pub const COVERAGE: &str = "\
Examples:
  doipcheck coverage                                  # print the Markdown
  doipcheck coverage -o docs/coverage.md              # write it
  doipcheck coverage -o docs/coverage.md --check      # CI: is the file current?

Exit codes: 0 printed or written (or current), 1 --check found the file out of date,
2 usage or suite error.";

pub const MERGE_JUNIT: &str = "\
Examples:
  doipcheck merge-junit -o junit.xml shard-*/junit.xml

Exit codes: 0 merged, 2 an input is missing or not JUnit.";

pub const REPORT: &str = "\
Examples:
  doipcheck report --from reports/report.json --html report.html
  doipcheck report --from shard-1/report.json shard-2/report.json --html all.html --junit all.xml
  doipcheck report --from reports/report.json --markdown summary.md
  doipcheck report --diff last-night/ reports/ --fail-on regression   # what changed since
  doipcheck report --verify evidence.tar --html again.html   # check every hash, render again
  doipcheck report --history nightly/ --html history.html    # pass rate, case strips, timers over runs

Exit codes: 0 written (or compared, or verified intact), 1 an output could not be written,
--fail-on found its failure or --verify found a member changed, 2 an input is missing or not
a report (or bundle).";

pub const DECODE: &str = "\
Examples:
  doipcheck decode 02FD000500000007 0E800000000000
  doipcheck decode --json < messages.hex
  doipcheck decode --stream 02fd8001000000070e00100022f190 02fd8002000000050010 0e8000

Exit codes: 0 every input decoded, 1 an input breaks a rule (printed with the rule), 2 usage.";

pub const ISOTP: &str = "\
Examples:
  doipcheck isotp dump --can cannelloni:20001@127.0.0.1:20000
  doipcheck isotp send --can cannelloni:20001@127.0.0.1:20000 --tx-id 7E0 --rx-id 7E8 22F190
  doipcheck isotp request --can cannelloni:20001@127.0.0.1:20000 --tx-id 7E0 --rx-id 7E8 22F190

Exit codes: 0 done (request: a positive answer), 1 the transfer failed (N_Result named), a
negative answer or none within P2 / P2*, 2 usage (a memory: bus, which no other program can
hear), 3 transport error.";

pub const INSPECT: &str = "\
Examples:
  doipcheck inspect trace.pcapng
  doipcheck inspect --profile my-ecu.yaml --json trace.pcap.gz > transcript.jsonl
  doipcheck inspect --report-dir inspected trace.pcapng        # report.html, junit.xml, report.json

Exit codes: 0 no finding, 1 findings, 2 unreadable input.";

pub const IMPORT: &str = "\
Examples:
  doipcheck import trace.pcapng -o trace.yaml        # one case per recorded conversation
  doipcheck import --doip-port 23400 --pace fast --mask vin trace.pcap -o trace.yaml
  doipcheck run trace.yaml -t 192.0.2.10 -p my-ecu.yaml

Exit codes: 0 written, 2 unreadable capture, nothing to import, or a usage error.";

pub const REPLAY: &str = "\
Examples:
  doipcheck replay reports/captures/0003-RA-001.pcapng     # against the built-in simulator
  doipcheck replay trace.pcapng -t 192.0.2.10 -p my-ecu.yaml --pace fast
  doipcheck replay trace.pcapng --sim-fault no_close_on_bad_pattern

The imported suite is kept as REPORT_DIR/replay/NAME.yaml; the reports are `run`'s.
Exit codes: as `run`: 0 pass, 1 a case failed, 2 usage or import error, 3 target unreachable.";

pub const DISCOVER: &str = "\
Examples:
  doipcheck discover --target 127.0.0.1               # one entity, by unicast
  doipcheck discover --interface eth0 --listen        # broadcast and ff02::1, plus announcements
  doipcheck discover --broadcast 192.168.0.255 --vin WDOIPCHECK0000001 --json

Exit codes: 0 an entity identified itself, 1 none did (the output says what was sent where)
or an answer broke a rule (docs/rules.md), 2 usage error.";

pub const REQUEST: &str = "\
Examples:
  doipcheck request -t 127.0.0.1 22F190 3E00          # read the VIN, tester present
  doipcheck request -t 192.0.2.10 -p my-ecu.yaml --target-address 0x0011 '22 F1 87'
  doipcheck request -t 127.0.0.1 --tls 22F190
  doipcheck request -t 127.0.0.1 < requests.txt       # one request per line, one connection

Exit codes: 0 every answer positive, 1 a negative answer, a NACK, no answer, a denied
routing activation or a rule the entity broke (docs/rules.md), 2 usage error, 3 the entity
could not be reached.";

pub const FUZZ: &str = "\
Examples:
  doipcheck fuzz --duration 1m                        # the built-in simulator, seed 0
  doipcheck fuzz --sim-fault hang_after_oversized_diag --duration 60s --findings out
  doipcheck fuzz -t 192.0.2.10 -p my-ecu.yaml --duration 1h --monitor './check-ecu-log.sh'
  doipcheck fuzz --cases 100000 --seed 7 --json       # a summary object on stdout
  doipcheck fuzz --tls-share 100 --duration 10m       # every TCP case over TLS
  doipcheck fuzz --can sim --sim-fault isotp_hang_on_large_ff_dl --duration 60s
  doipcheck fuzz --can cannelloni:20001@127.0.0.1:20000 -p node.yaml --duration 10m

Each finding is a directory: repro.yaml (doipcheck run replays it), repro.pcapng,
finding.json (seed, case index, state, oracle, timing). With --can the cases are raw ISO-TP
frames to the node of the profile's isotp.* ids (`sim`: the built-in simulator's CAN ECU).

TLS: when the profile has doip.tls, --tls-share percent of the TCP cases (10 by default, in
blocks of 64) go over TLS to ports.tls. The TLS handshake is not fuzzed (it is done as `run`
does it, the certificate not judged); the DoIP messages inside the TLS stream are, with the
same cases and reply checks as over TCP. The TLS service is probed as a service of its own
(liveness.tls_activation), the cases per transport are printed, and a finding's repro
connects over TLS where its cases did.

Exit codes: 0 no finding, 1 a finding, 2 usage, 3 the target was not healthy (unreachable,
activation refused) before the first case; SIGINT/SIGTERM/SIGHUP end the fuzzing and the
findings so far are written.";
