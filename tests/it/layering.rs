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
    // The capture reader and the passive checks: bytes and timestamps in, events out.
    ("pcap/read", &["codec", "pcap"]),
    ("inspect", &["codec", "pcap", "inspect"]),
    // Capture events to a suite's text: `import` and `replay` do the I/O in cli.
    ("import", &["codec", "pcap", "notation", "import"]),
    // The fuzz entry points must stay pure too: fuzz targets and corpus replay call them.
    ("fuzzing", &["codec", "proto", "sim", "notation", "fuzzing", "pcap", "inspect", "import"]),
    // The live fuzzer's cases, generator, reply checks, minimizer and repro text: seeded and
    // pure, so the same seed gives the same cases and each part is tested without a target.
    ("fuzz/model", &["codec", "notation", "import", "fuzz"]),
];

const CRATE_MODULES: &[&str] = &[
    "cli",
    "client",
    "codec",
    "fuzz",
    "fuzzing",
    "import",
    "inspect",
    "notation",
    "pcap",
    "proof",
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
    let mut files = Vec::new();
    rust_files(&src.join(module), &mut files);
    let module_file = src.join(format!("{module}.rs"));
    if module_file.exists() {
        files.push(module_file);
    }
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
    let mut files = Vec::new();
    rust_files(&src.join(module), &mut files);
    let single = src.join(format!("{module}.rs"));
    if single.is_file() {
        files.push(single);
    }
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
