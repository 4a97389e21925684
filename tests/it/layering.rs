//! Keeps the layering of src/lib.rs true: codec, proto, sim and notation are pure, and codec
//! and notation import no other module of the crate.

use std::path::{Path, PathBuf};

/// Words that mean I/O, an async runtime or the OS clock. A match inside a comment still
/// counts unless the line is a comment: write around it rather than mention it in code.
const IMPURE: &[&str] = &[
    "tokio",
    "std::net",
    "std::fs",
    "std::thread::sleep",
    "Instant::now",
    "SystemTime::now",
    "std::time::Instant",
    "std::time::SystemTime",
    "std::process",
];

/// Crate modules each pure module may import.
const ALLOWED_IMPORTS: &[(&str, &[&str])] = &[
    ("codec", &["codec"]),
    ("proto", &["codec", "proto"]),
    ("sim", &["codec", "proto", "sim", "notation"]),
    // The one hex and duration grammar: a leaf every layer above codec and proto may use.
    ("notation", &["notation"]),
    // The typed target profile: plain data every layer may take a part of.
    ("profile", &["profile"]),
    // The capture reader: bytes and timestamps in, events out.
    ("pcap/read", &["codec", "pcap", "proto"]),
    // The judge: the protocol's rules over events from a capture or a live run, typed
    // findings out; it takes the profile's declared values and the one timing window (proto).
    ("judge", &["codec", "pcap", "judge", "profile", "proto"]),
    // Capture events to a suite's text: `import` and `replay` do the I/O in cli.
    ("import", &["codec", "pcap", "notation", "import", "profile"]),
    // The fuzz entry points must stay pure too: fuzz targets and corpus replay call them.
    ("fuzz_entry", &["codec", "proto", "sim", "notation", "fuzz_entry", "pcap", "judge", "import"]),
    // The live fuzzer's cases, generator, ISO-TP frame checks, minimizer and repro text:
    // seeded and pure, so the same seed gives the same cases and each part is tested without a
    // target. The judge (pure too) lends its windows to the repro.
    ("fuzz/model", &["codec", "notation", "import", "fuzz", "judge"]),
];

const CRATE_MODULES: &[&str] = &[
    "cli",
    "client",
    "codec",
    "fuzz",
    "fuzz_entry",
    "import",
    "judge",
    "notation",
    "pcap",
    "proof",
    "profile",
    "proto",
    "report",
    "runner",
    "sim",
    "suite",
    "transport",
];

pub fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

pub fn code_lines(path: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim_start();
            !(t.starts_with("//") || t.starts_with("*"))
        })
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect()
}

/// Every violation in `src/<module>`: impure words, and imports of crate modules outside the
/// allowed list.
fn violations(src: &Path, module: &str, allowed: &[&str]) -> Vec<String> {
    let files = module_files(src, module);
    let mut found = Vec::new();
    for file in files {
        for (n, line) in code_lines(&file) {
            for word in IMPURE {
                if line.contains(word) {
                    found.push(format!("{}:{n}: `{word}` in pure module {module}", file.display()));
                }
            }
            for other in CRATE_MODULES.iter().filter(|m| !allowed.contains(m)) {
                for pattern in [format!("crate::{other}"), format!("doipcheck::{other}")] {
                    if line.contains(&pattern) {
                        found.push(format!(
                            "{}:{n}: `{pattern}` imported by {module}, which may import only {allowed:?}",
                            file.display()
                        ));
                    }
                }
            }
        }
        // `use crate::{codec, runner::Event};` names modules inside braces, possibly over
        // several lines: look at the first path segment of every item of such a group.
        let lines = code_lines(&file);
        let text: String = lines.iter().map(|(_, l)| format!("{l}\n")).collect();
        for root in ["crate::{", "doipcheck::{"] {
            let mut from = 0;
            while let Some(at) = text[from..].find(root) {
                let start = from + at + root.len();
                let end = text[start..].find('}').map_or(text.len(), |e| start + e);
                let line_no = lines[text[..start].matches('\n').count()].0;
                for item in text[start..end].split(',') {
                    let head = item.trim().split("::").next().unwrap_or("").trim_start_matches('{');
                    if CRATE_MODULES.contains(&head) && !allowed.contains(&head) {
                        found.push(format!(
                            "{}:{line_no}: `{head}` imported in a group by {module}, which may import only {allowed:?}",
                            file.display()
                        ));
                    }
                }
                from = end.max(start);
            }
        }
    }
    found
}

#[test]
fn pure_modules_do_no_io_and_import_only_what_they_may() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    for (module, allowed) in ALLOWED_IMPORTS {
        all.extend(violations(&src, module, allowed));
    }
    assert!(all.is_empty(), "layering violations:\n{}", all.join("\n"));
}

/// Lines of `module` (a folder or a single file under `src`) that import one of `others`.
fn forbidden_imports(src: &Path, module: &str, others: &[&str]) -> Vec<String> {
    let files = module_files(src, module);
    let mut found = Vec::new();
    for file in files {
        for (n, line) in code_lines(&file) {
            for other in others {
                if line.contains(&format!("crate::{other}")) {
                    found.push(format!("{}:{n}: {module} imports {other}", file.display()));
                }
            }
        }
    }
    found
}

#[test]
fn transport_never_imports_suite_runner_or_report() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = forbidden_imports(&src, "transport", &["suite", "runner", "report"]);
    assert!(found.is_empty(), "layering violations:\n{}", found.join("\n"));
}

/// The runner emits events; what becomes of them (captures, their paths, files) is the
/// report's decision.
#[test]
fn runner_never_imports_report() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = forbidden_imports(&src, "runner", &["report"]);
    assert!(found.is_empty(), "layering violations:\n{}", found.join("\n"));
}

#[test]
fn the_import_checker_finds_a_forbidden_import() {
    let dir =
        std::env::temp_dir().join(format!("doipcheck-layering-imports-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("runner")).unwrap();
    std::fs::write(
        dir.join("runner/run.rs"),
        "// crate::report in a comment is fine\nuse crate::report::CapturePolicy;\n",
    )
    .unwrap();
    let found = forbidden_imports(&dir, "runner", &["report"]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].ends_with("run.rs:2: runner imports report"), "{found:?}");
}

#[test]
fn the_checker_catches_an_impure_line() {
    // Guard against a checker that can never fail: feed it a module that breaks both rules.
    let dir = std::env::temp_dir().join(format!("doipcheck-layering-{}", std::process::id()));
    let module = dir.join("codec");
    std::fs::create_dir_all(&module).unwrap();
    std::fs::write(
        module.join("bad.rs"),
        "use tokio::net::TcpStream;\nuse crate::runner::Event;\n// tokio in a comment is fine\n\
         use crate::{\n    codec::doip,\n    report::Report,\n};\n",
    )
    .unwrap();
    let found = violations(&dir, "codec", &["codec"]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found[2].contains("`report` imported in a group"), "{found:?}");
}

#[test]
fn the_checker_reads_a_single_file_module() {
    // notation is `src/notation.rs`, not a directory: the checker must still read it.
    let dir = std::env::temp_dir().join(format!("doipcheck-layering-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notation.rs"), "use crate::codec::can;\nuse std::fs::File;\n")
        .unwrap();
    let found = violations(&dir, "notation", &["notation"]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].contains("notation.rs:1: `crate::codec` imported by notation"), "{found:?}");
    assert!(found[1].contains("notation.rs:2: `std::fs` in pure module notation"), "{found:?}");
}

/// The code of `file` without its inline `#[cfg(test)] mod tests` (whose `super::` is the file
/// itself), as lines with their numbers.
fn code_without_tests(file: &Path) -> Vec<(usize, String)> {
    let mut lines = code_lines(file);
    if let Some(at) = lines.windows(2).position(|w| {
        w[0].1.trim() == "#[cfg(test)]" && w[1].1.trim_start().starts_with("mod tests")
    }) {
        lines.truncate(at);
    }
    lines
}

/// Every path below `root` (`crate::`, `super::`, `self::`) that `file` uses, with its line:
/// `crate::runner::event::CaseInfo` gives `runner::event::CaseInfo`; a group
/// `crate::runner::{conn, record::Clock}` gives `runner::conn` and `runner::record::Clock`.
/// `super::super::x` gives `super::x` for `root` `super::`.
fn paths_below(file: &Path, root: &str) -> Vec<(usize, String)> {
    let lines = code_without_tests(file);
    let text: String = lines.iter().map(|(_, l)| format!("{l}\n")).collect();
    let line_of = |at: usize| lines[text[..at].matches('\n').count()].0;
    let path_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find(root) {
        let at = from + found;
        let start = at + root.len();
        from = start;
        if text[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let path: String = text[start..].chars().take_while(|&c| path_char(c)).collect();
        let after = start + path.len();
        if (path.is_empty() || path.ends_with("::")) && text[after..].starts_with('{') {
            let end = text[after..].find('}').map_or(text.len(), |e| after + e);
            for item in text[after + 1..end].split(',') {
                let item: String = item.trim().chars().take_while(|&c| path_char(c)).collect();
                if !item.is_empty() {
                    out.push((line_of(start), format!("{path}{item}")));
                }
            }
            from = end;
        } else if !path.is_empty() {
            out.push((line_of(start), path.trim_end_matches(':').to_string()));
            from = after;
        }
    }
    out
}

/// The Rust files of `src/<module>` (a folder, or the single file `src/<module>.rs`).
fn module_files(src: &Path, module: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(&src.join(module), &mut files);
    let single = src.join(format!("{module}.rs"));
    if single.is_file() {
        files.push(single);
    }
    files.sort();
    files
}

/// Whether `path` (`runner::event::CaseInfo`) is `prefix` (`runner::event`) or below it.
fn is_below(path: &str, prefix: &str) -> bool {
    path == prefix || path.starts_with(&format!("{prefix}::"))
}

/// The crate paths `module` uses that none of `allowed` covers.
fn uses_outside(src: &Path, module: &str, allowed: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for file in module_files(src, module) {
        for (n, path) in paths_below(&file, "crate::") {
            if !allowed.iter().any(|a| is_below(&path, a)) {
                found.push(format!("{}:{n}: {module} uses crate::{path}", file.display()));
            }
        }
    }
    found
}

/// What report, client and suite may use, by path prefix.
const MAY_USE: &[(&str, &[&str])] = &[
    // Reporters read runner events and their own inputs (captures they write, text helpers,
    // the typed waivers `suite::waivers` reads, the suites' byte patterns to mark what
    // differs): anything a report shows is in an event (docs/architecture.md "Layers").
    (
        "report",
        &[
            "report",
            "runner::event",
            "suite::case_info",
            "suite::waivers",
            "suite::value::BytePattern",
            "codec",
            "pcap",
            "proto",
            "notation",
        ],
    ),
    // A tester for a person at a terminal: sockets from transport, messages from codec, its
    // traffic judged by the judge (which speaks the capture reader's events and sides).
    ("client", &["client", "codec", "transport", "proto", "notation", "profile", "judge", "pcap"]),
];

/// What each layer never uses, by path prefix.
const NEVER_USES: &[(&str, &[&str])] = &[
    // What a suite says is known before anything runs: selection and plans do not depend on
    // how cases are run or reported.
    ("suite", &["runner", "report", "cli", "client", "fuzz", "proof"]),
    // The live fuzzer drives its own loop: it shares the runner's connection and ISO-TP
    // pieces, never the case machinery, the reports or the command line.
    ("fuzz", &["cli", "report", "client", "proof", "runner::run", "runner::case", "runner::plan"]),
];

/// Uses that break [`MAY_USE`] today: discovery still reads UDP through the runner's socket and
/// recorder (the tester connection covers TCP and TLS only). Each entry must still be needed
/// (a test says when it is not).
const PENDING: &[(&str, &str)] =
    &[("client", "runner::arrived"), ("client", "runner::record"), ("client", "runner::udp")];

fn pending(module: &str, path: &str) -> bool {
    PENDING.iter().any(|(m, p)| *m == module && is_below(path, p))
}

#[test]
fn report_client_suite_and_the_live_fuzzer_keep_to_their_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for (module, allowed) in MAY_USE {
        let extra: Vec<&str> =
            PENDING.iter().filter(|(m, _)| m == module).map(|(_, p)| *p).collect();
        let allowed: Vec<&str> = allowed.iter().copied().chain(extra).collect();
        found.extend(uses_outside(&src, module, &allowed));
    }
    for (module, never) in NEVER_USES {
        for file in module_files(&src, module) {
            for (n, path) in paths_below(&file, "crate::") {
                if never.iter().any(|p| is_below(&path, p)) {
                    found.push(format!("{}:{n}: {module} uses crate::{path}", file.display()));
                }
            }
        }
    }
    assert!(found.is_empty(), "layering violations:\n{}", found.join("\n"));
}

#[test]
fn every_pending_exception_is_still_needed() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for (module, prefix) in PENDING {
        let used = module_files(&src, module)
            .iter()
            .flat_map(|f| paths_below(f, "crate::"))
            .any(|(_, path)| pending(module, &path) && is_below(&path, prefix));
        assert!(used, "{module} no longer uses crate::{prefix}: remove it from PENDING");
    }
}

/// The top-level modules of `src` (folders and single files, not lib.rs or main.rs).
fn top_modules(src: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(src)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let module = name.strip_suffix(".rs").map_or(name.clone(), str::to_owned);
            (e.path().is_dir() || name.ends_with(".rs")).then_some(module)
        })
        .filter(|m| m != "lib" && m != "main")
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Every cycle a depth-first search meets in `edges` (node -> the nodes it uses), each as the
/// path that closes it: `a -> b -> a`.
fn cycles(
    edges: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
) -> Vec<Vec<String>> {
    fn visit(
        node: &str,
        edges: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        state: &mut std::collections::BTreeMap<String, bool>,
        stack: &mut Vec<String>,
        found: &mut Vec<Vec<String>>,
    ) {
        state.insert(node.to_owned(), false);
        stack.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            match state.get(next) {
                Some(false) => {
                    let from = stack.iter().position(|n| n == next).unwrap();
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(next.clone());
                    found.push(cycle);
                }
                Some(true) => {}
                None => visit(next, edges, state, stack, found),
            }
        }
        stack.pop();
        state.insert(node.to_owned(), true);
    }
    let mut state = std::collections::BTreeMap::new();
    let mut found = Vec::new();
    for node in edges.keys() {
        if !state.contains_key(node) {
            visit(node, edges, &mut state, &mut Vec::new(), &mut found);
        }
    }
    found
}

/// Which top-level module uses which.
fn module_graph(
    src: &Path,
) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let modules = top_modules(src);
    let mut edges = std::collections::BTreeMap::new();
    for module in &modules {
        let used: std::collections::BTreeSet<String> = module_files(src, module)
            .iter()
            .flat_map(|f| paths_below(f, "crate::"))
            .filter_map(|(_, path)| path.split("::").next().map(str::to_owned))
            .filter(|other| other != module && modules.contains(other))
            .collect();
        edges.insert(module.clone(), used);
    }
    edges
}

/// Which file of `src/<module>/` uses which (`crate::<module>::..`, `super::..`, `self::..`).
/// A node is a file's module path: `conn` for conn.rs, `steps` for steps/mod.rs, `steps/udp`,
/// and `mod` for the module's own mod.rs.
fn file_graph(
    src: &Path,
    module: &str,
) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let dir = src.join(module);
    let node_of = |file: &Path| -> Vec<String> {
        let rel = file.strip_prefix(&dir).unwrap().with_extension("");
        let mut segs: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
        if segs.last().is_some_and(|s| s == "mod") {
            segs.pop();
        }
        segs
    };
    let name = |segs: &[String]| if segs.is_empty() { "mod".to_owned() } else { segs.join("/") };
    let files = module_files(src, module);
    let nodes: std::collections::BTreeSet<String> =
        files.iter().map(|f| name(&node_of(f))).collect();
    let resolve = |segs: Vec<String>| -> String {
        (0..=segs.len()).rev().map(|k| name(&segs[..k])).find(|n| nodes.contains(n)).unwrap()
    };
    let mut edges = std::collections::BTreeMap::new();
    for file in &files {
        let here = node_of(file);
        let mut targets = std::collections::BTreeSet::new();
        let mut add = |base: Vec<String>, rest: &str| {
            let mut segs = base;
            segs.extend(
                rest.split("::").filter(|s| !s.is_empty() && *s != "self").map(str::to_owned),
            );
            targets.insert(resolve(segs));
        };
        for (_, path) in paths_below(file, &format!("crate::{module}::")) {
            add(Vec::new(), &path);
        }
        for (_, path) in paths_below(file, "super::") {
            let ups = 1 + path.matches("super::").count() + usize::from(path == "super");
            let rest = path.trim_start_matches("super::").trim_start_matches("super");
            add(here[..here.len().saturating_sub(ups)].to_vec(), rest);
        }
        for (_, path) in paths_below(file, "self::") {
            add(here.clone(), &path);
        }
        targets.remove(&name(&here));
        edges.insert(name(&here), targets);
    }
    edges
}

#[test]
fn no_import_circle_between_modules_or_between_the_files_of_one() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found: Vec<String> = cycles(&module_graph(&src))
        .iter()
        .map(|c| format!("modules: {}", c.join(" -> ")))
        .collect();
    for module in top_modules(&src).iter().filter(|m| src.join(m).is_dir()) {
        for cycle in cycles(&file_graph(&src, module)) {
            found.push(format!("src/{module}: {}", cycle.join(" -> ")));
        }
    }
    assert!(found.is_empty(), "import circles:\n{}", found.join("\n"));
}

#[test]
fn the_circle_checker_finds_circles_and_reads_groups_and_super() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("a/inner")).unwrap();
    std::fs::create_dir_all(dir.join("b")).unwrap();
    std::fs::write(dir.join("a/mod.rs"), "pub mod inner;\npub mod x;\n").unwrap();
    std::fs::write(dir.join("a/x.rs"), "use super::inner::{y::Thing, self};\n").unwrap();
    std::fs::write(
        dir.join("a/inner/y.rs"),
        "// crate::b in a comment is fine\nuse crate::a::{x, inner};\nuse super::super::x::X;\n",
    )
    .unwrap();
    std::fs::write(dir.join("b/mod.rs"), "use crate::{a::x, c};\n").unwrap();
    std::fs::write(
        dir.join("c.rs"),
        "fn f() { crate::b::g() }\n#[cfg(test)]\nmod tests {\n    use crate::a::x;\n}\n",
    )
    .unwrap();
    let modules = module_graph(dir);
    let files = file_graph(dir, "a");
    assert_eq!(cycles(&modules), vec![vec!["b", "c", "b"]], "{modules:?}");
    assert_eq!(cycles(&files), vec![vec!["inner/y", "x", "inner/y"]], "{files:?}");
    // `super::inner::{y::Thing, self}`: the group gives inner/y, and `inner` (no mod.rs here)
    // is the module's own mod.rs.
    let x: Vec<&String> = files["x"].iter().collect();
    assert_eq!(x, ["inner/y", "mod"], "{files:?}");
}

/// Lines outside `src/transport` that open or hold a TCP or TLS stream: the tester's side of
/// DoIP over TCP and TLS exists once, in `transport::doip::tester`.
fn tcp_streams_outside_transport(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let transport = src.join("transport");
    let mut found = Vec::new();
    for file in files.iter().filter(|f| !f.starts_with(&transport)) {
        for (n, line) in code_lines(file) {
            if line.contains("TcpStream") || line.contains("tokio_rustls") {
                found
                    .push(format!("{}:{n}: a TCP or TLS stream outside transport", file.display()));
            }
        }
    }
    found
}

#[test]
fn only_transport_holds_tcp_and_tls_streams() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = tcp_streams_outside_transport(&src);
    assert!(found.is_empty(), "use transport::doip::tester:\n{}", found.join("\n"));
    let dir = std::env::temp_dir().join(format!("doipcheck-layering-tcp-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("cli")).unwrap();
    std::fs::write(dir.join("cli/run.rs"), "let s = tokio::net::TcpStream::connect(a);\n").unwrap();
    let found = tcp_streams_outside_transport(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(found.len(), 1, "the checker finds a stream: {found:?}");
}
