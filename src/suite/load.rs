//! Loading: find suite files, read and validate every one of them, and report *all* errors of
//! all files at once (any error means nothing runs: a bad file is never silently skipped).
//! Selecting the cases of a run is `super::select`.

use super::builtin;
use super::diag::{Diagnostic, Diagnostics};
use super::model::{StepKind, Suite};
use super::profile::{self, Profile};
use super::read;
use super::value::Expr;
use super::yaml;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Suite files found under a directory: `*.yaml` / `*.yml`, except the files that live beside
/// suites: profiles (`profile.yaml`, `*.profile.yaml`) and simulator configurations a profile
/// names (`sim.yaml`, `*.sim.yaml`).
pub fn is_side_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let stem = name.strip_suffix(".yaml").or_else(|| name.strip_suffix(".yml")).unwrap_or("");
    ["profile", "sim"].iter().any(|kind| stem == *kind || stem.ends_with(&format!(".{kind}")))
}

/// Every error of a load, with the sources needed to render them.
#[derive(Debug, Default)]
pub struct LoadErrors {
    pub diagnostics: Vec<Diagnostic>,
    sources: HashMap<PathBuf, String>,
}

impl LoadErrors {
    /// Errors found after loading (the plan's), with their files read again for the carets.
    pub fn from_diagnostics(diagnostics: Vec<Diagnostic>) -> LoadErrors {
        let mut sources = HashMap::new();
        for d in &diagnostics {
            if !sources.contains_key(&d.file) {
                let text = read_text(&d.file).unwrap_or_default();
                sources.insert(d.file.clone(), text);
            }
        }
        LoadErrors { diagnostics, sources }
    }

    /// All diagnostics, rustc-style, followed by a count line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for d in &self.diagnostics {
            let src = self.sources.get(&d.file).map(String::as_str).unwrap_or("");
            out.push_str(&d.render(src));
            out.push('\n');
        }
        let files: BTreeSet<&PathBuf> = self.diagnostics.iter().map(|d| &d.file).collect();
        let n = self.diagnostics.len();
        out.push_str(&format!(
            "error: {n} error{} in {} file{}; nothing was run\n",
            if n == 1 { "" } else { "s" },
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        ));
        out
    }
}

/// Suites that loaded without any error.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub suites: Vec<Arc<Suite>>,
}

/// Reads a suite, profile or simulator configuration: a built-in file (`<built-in>/suites/...`)
/// or one on disk, refusing huge ones before reading them whole. The error says why, without
/// the path (the caller names the file).
pub fn read_text(path: &Path) -> Result<String, String> {
    if let Some(text) = builtin::source(path) {
        return Ok(text.to_owned());
    }
    match std::fs::metadata(path) {
        Ok(m) if m.len() > yaml::MAX_FILE_BYTES as u64 => {
            return Err(format!(
                "file is {} bytes, larger than the limit of {} bytes",
                m.len(),
                yaml::MAX_FILE_BYTES
            ));
        }
        Ok(_) => {}
        Err(e) => return Err(format!("cannot read: {e}")),
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        format!("not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to())
    })
}

fn read_source(path: &Path, errors: &mut LoadErrors) -> Option<String> {
    read_text(path)
        .map_err(|message| {
            errors.diagnostics.push(Diagnostic {
                file: path.to_owned(),
                pos: None,
                message,
                label: String::new(),
                help: None,
            })
        })
        .ok()
}

/// The suite files named by `paths` (directories are searched recursively, sorted).
pub fn find_suite_files(paths: &[PathBuf], errors: &mut LoadErrors) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if builtin::is_dir(p) {
            out.extend(builtin::files_under(p).into_iter().filter(|f| !is_side_file(f)));
        } else if builtin::source(p).is_some() {
            out.push(p.clone());
        } else if p.is_dir() {
            let before = out.len();
            walk_dir(p, &mut out, errors, 0);
            if out.len() == before {
                errors.diagnostics.push(Diagnostic {
                    file: p.clone(),
                    pos: None,
                    message: "no suite files (*.yaml) in this directory".into(),
                    label: String::new(),
                    help: None,
                });
            }
        } else if p.exists() {
            out.push(p.clone());
        } else {
            errors.diagnostics.push(Diagnostic {
                file: p.clone(),
                pos: None,
                message: "no such file or directory".into(),
                label: String::new(),
                help: None,
            });
        }
    }
    out
}

fn walk_dir(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut LoadErrors, depth: u32) {
    if depth > 16 {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.diagnostics.push(Diagnostic {
                file: dir.to_owned(),
                pos: None,
                message: format!("cannot read directory: {e}"),
                label: String::new(),
                help: None,
            });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk_dir(&p, out, errors, depth + 1);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
            && !is_side_file(&p)
        {
            out.push(p);
        }
    }
}

/// Loads and validates every suite under `paths`. `known_faults`: simulator fault names a
/// `detects:` may list (empty: not checked).
pub fn load_suites(paths: &[PathBuf], known_faults: &[&str]) -> Result<Loaded, LoadErrors> {
    let mut errors = LoadErrors::default();
    let files = find_suite_files(paths, &mut errors);
    let mut suites = Vec::new();
    for file in files {
        let Some(src) = read_source(&file, &mut errors) else { continue };
        let mut d = Diagnostics::new(&file);
        match yaml::parse(&src) {
            Ok(tree) => {
                if let Some(suite) = read::read_suite(&file, &tree, &mut d) {
                    validate_suite(&suite, known_faults, &mut d);
                    suites.push(suite);
                }
            }
            Err(e) => d.push(e.pos, e.message, "here".into(), None),
        }
        errors.diagnostics.append(&mut d.list);
        errors.sources.insert(file, src);
    }
    check_unique(&suites, &mut errors);
    if errors.diagnostics.is_empty() {
        Ok(Loaded { suites: suites.into_iter().map(Arc::new).collect() })
    } else {
        Err(errors)
    }
}

/// Reads a simulator configuration (`doipcheck sim --config`, a profile's `simulator`) with
/// every mistake reported at once, as suites are: file:line:col, a caret, did-you-mean.
pub fn load_sim_config(path: &Path) -> Result<crate::sim::config::SimConfig, LoadErrors> {
    let mut errors = LoadErrors::default();
    let Some(src) = read_source(path, &mut errors) else { return Err(errors) };
    match crate::sim::config::SimConfig::from_yaml_str_all(&src) {
        Ok(config) => Ok(config),
        Err(found) => {
            errors.diagnostics = found
                .into_iter()
                .map(|e| Diagnostic {
                    file: path.to_owned(),
                    pos: (e.line > 0).then(|| yaml::Pos {
                        line: u32::try_from(e.line).unwrap_or(u32::MAX),
                        column: u32::try_from(e.column.max(1)).unwrap_or(u32::MAX),
                    }),
                    message: e.message,
                    label: "here".to_owned(),
                    help: e.help,
                })
                .collect();
            errors.sources.insert(path.to_owned(), src);
            Err(errors)
        }
    }
}

/// Loads a profile file (or the defaults when `path` is `None`).
pub fn load_profile(path: Option<&Path>) -> Result<Profile, LoadErrors> {
    read_profile(path, false)
}

/// Loads a profile for a `--target`: also refuses what cannot hold for a real entity
/// ([`profile::check_for_target`]).
pub fn load_profile_for_target(path: Option<&Path>) -> Result<Profile, LoadErrors> {
    read_profile(path, true)
}

fn read_profile(path: Option<&Path>, for_target: bool) -> Result<Profile, LoadErrors> {
    let Some(path) = path else { return Ok(Profile::defaults()) };
    let mut errors = LoadErrors::default();
    let Some(src) = read_source(path, &mut errors) else { return Err(errors) };
    let mut d = Diagnostics::new(path);
    let profile = match yaml::parse(&src) {
        Ok(tree) => {
            if for_target {
                profile::check_for_target(&tree, &mut d);
            }
            Profile::read(&tree, &mut d)
        }
        Err(e) => {
            d.push(e.pos, e.message, "here".into(), None);
            Profile::defaults()
        }
    };
    errors.diagnostics.append(&mut d.list);
    errors.sources.insert(path.to_owned(), src);
    if errors.diagnostics.is_empty() { Ok(profile) } else { Err(errors) }
}

fn check_unique(suites: &[Suite], errors: &mut LoadErrors) {
    let mut names: HashMap<&str, &Path> = HashMap::new();
    let mut ids: HashMap<&str, (&Path, u32)> = HashMap::new();
    for s in suites {
        if let Some(first) = names.insert(&s.name, &s.file)
            && !s.name.is_empty()
        {
            errors.diagnostics.push(Diagnostic {
                file: s.file.clone(),
                pos: Some(yaml::Pos { line: 1, column: 1 }),
                message: format!("suite name `{}` is also used by {}", s.name, first.display()),
                label: "duplicate suite name".into(),
                help: None,
            });
        }
        for c in &s.cases {
            if let Some((file, line)) = ids.insert(&c.id, (&s.file, c.pos.line))
                && !c.id.is_empty()
            {
                errors.diagnostics.push(Diagnostic {
                    file: s.file.clone(),
                    pos: Some(c.pos),
                    message: format!(
                        "case id `{}` is already used at {}:{line}",
                        c.id,
                        file.display()
                    ),
                    label: "duplicate id".into(),
                    help: Some(
                        "case ids are unique across the run: `--case ID` and reports rely on it"
                            .into(),
                    ),
                });
            }
        }
    }
}

/// Checks what needs the whole suite: names used in `${...}` are defined before use, profile
/// paths exist, simulator faults are known.
fn validate_suite(suite: &Suite, known_faults: &[&str], d: &mut Diagnostics) {
    let suite_vars: Vec<String> = suite.vars.iter().map(|(n, _)| n.clone()).collect();
    for (_, e) in &suite.vars {
        check_refs(e, &BTreeSet::new(), d);
    }
    for case in &suite.cases {
        if !known_faults.is_empty() {
            for f in &case.detects {
                if !known_faults.contains(&f.as_str()) {
                    read::unknown(
                        d,
                        case.pos,
                        "simulator fault in `detects`",
                        f,
                        known_faults.iter().copied(),
                    );
                }
            }
        }
        for rule in &case.provokes {
            if crate::judge::rules::by_id(rule).is_none() {
                read::unknown(
                    d,
                    case.pos,
                    "rule in `provokes`",
                    rule,
                    crate::judge::rules::RULES.iter().map(|r| r.id),
                );
            }
        }
        let mut defined: BTreeSet<String> = suite_vars.iter().cloned().collect();
        defined.extend(case.matrix.iter().map(|(n, _)| n.clone()));
        for (_, values) in &case.matrix {
            for v in values {
                check_refs(v, &BTreeSet::new(), d);
            }
        }
        for step in suite
            .setup
            .iter()
            .chain(&case.setup)
            .chain(&case.steps)
            .chain(&case.finally)
            .chain(&suite.finally)
        {
            for e in step.kind.exprs() {
                check_refs(e, &defined, d);
            }
            if let StepKind::Capture(pairs) = &step.kind {
                defined.extend(pairs.0.iter().map(|(n, _)| n.clone()));
            }
        }
    }
}

fn check_refs(e: &Expr, defined: &BTreeSet<String>, d: &mut Diagnostics) {
    for v in e.vars() {
        if let Some(path) = v.profile_path() {
            if !profile::is_known_path(path) {
                let keys = profile::KEYS.iter().map(|k| k.path);
                read::unknown(d, e.pos, "profile key", path, keys);
            }
        } else if !defined.contains(&v.name) {
            let help = super::diag::did_you_mean(&v.name, defined.iter().map(String::as_str))
                .map(|s| format!("did you mean `{s}`?"))
                .unwrap_or_else(|| "define it in `vars:`, `matrix:` or an earlier `capture:`; profile values are `${profile.name}`".into());
            d.error_help(
                e.pos,
                format!("`${{{}}}` is not defined here", v.name),
                "undefined",
                help,
            );
        }
    }
}
