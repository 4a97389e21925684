//! The shipped suites, their profile and the simulator configuration it names, built into the
//! binary: an installed `doipcheck` runs them from any directory, and `doipcheck suites export`
//! writes them out for editing. They appear under the path [`ROOT`] (`<built-in>/suites/...`),
//! which loading, diagnostics and the simulator configuration read through [`source`].

use std::path::{Path, PathBuf};

/// The folder the built-in files appear in; no real path starts with it.
pub const ROOT: &str = "<built-in>/suites";

/// Every file of `suites/` (path relative to it, text). A test checks that the list and the
/// folder agree.
pub const FILES: &[(&str, &str)] = &[
    ("doip/alive.yaml", include_str!("../../suites/doip/alive.yaml")),
    ("doip/announce.yaml", include_str!("../../suites/doip/announce.yaml")),
    ("doip/diagnostic.yaml", include_str!("../../suites/doip/diagnostic.yaml")),
    ("doip/discovery.yaml", include_str!("../../suites/doip/discovery.yaml")),
    ("doip/framing.yaml", include_str!("../../suites/doip/framing.yaml")),
    ("doip/gateway.yaml", include_str!("../../suites/doip/gateway.yaml")),
    ("doip/header.yaml", include_str!("../../suites/doip/header.yaml")),
    ("doip/robustness.yaml", include_str!("../../suites/doip/robustness.yaml")),
    ("doip/routing.yaml", include_str!("../../suites/doip/routing.yaml")),
    ("doip/timers.yaml", include_str!("../../suites/doip/timers.yaml")),
    ("doip/tls.yaml", include_str!("../../suites/doip/tls.yaml")),
    ("doip/version.yaml", include_str!("../../suites/doip/version.yaml")),
    ("isotp/addressing.yaml", include_str!("../../suites/isotp/addressing.yaml")),
    ("isotp/can_fd.yaml", include_str!("../../suites/isotp/can_fd.yaml")),
    ("isotp/confirmation.yaml", include_str!("../../suites/isotp/confirmation.yaml")),
    ("isotp/receiver.yaml", include_str!("../../suites/isotp/receiver.yaml")),
    ("isotp/sender.yaml", include_str!("../../suites/isotp/sender.yaml")),
    ("isotp/uds.yaml", include_str!("../../suites/isotp/uds.yaml")),
    ("profile.yaml", include_str!("../../suites/profile.yaml")),
    ("sim.yaml", include_str!("../../suites/sim.yaml")),
];

/// The built-in folder, as a path.
pub fn root() -> PathBuf {
    PathBuf::from(ROOT)
}

/// The built-in simulator's profile.
pub fn profile() -> PathBuf {
    root().join("profile.yaml")
}

/// The part of `path` below [`ROOT`], when it is a built-in path.
fn relative(path: &Path) -> Option<String> {
    let rest = path.strip_prefix(ROOT).ok()?;
    Some(rest.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"))
}

/// The text of a built-in file; `None` for any other path.
pub fn source(path: &Path) -> Option<&'static str> {
    let rel = relative(path)?;
    FILES.iter().find(|(name, _)| *name == rel).map(|(_, text)| *text)
}

/// Whether `path` is the built-in folder or one of its subfolders.
pub fn is_dir(path: &Path) -> bool {
    match relative(path) {
        Some(rel) if rel.is_empty() => true,
        Some(rel) => FILES.iter().any(|(name, _)| name.starts_with(&format!("{rel}/"))),
        None => false,
    }
}

/// The built-in files below the built-in folder `dir`, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Some(rel) = relative(dir) else { return Vec::new() };
    let prefix = if rel.is_empty() { String::new() } else { format!("{rel}/") };
    FILES
        .iter()
        .filter(|(name, _)| name.starts_with(&prefix))
        .map(|(name, _)| root().join(name))
        .collect()
}

/// Writes every built-in file below `dir` (created if missing). Refuses, before writing
/// anything, when a file would be overwritten and `overwrite` is false.
pub fn export(dir: &Path, overwrite: bool) -> Result<Vec<PathBuf>, String> {
    let targets: Vec<(PathBuf, &str)> =
        FILES.iter().map(|(name, text)| (dir.join(name), *text)).collect();
    if !overwrite {
        let existing: Vec<String> = targets
            .iter()
            .filter(|(p, _)| p.exists())
            .map(|(p, _)| p.display().to_string())
            .collect();
        if !existing.is_empty() {
            return Err(format!(
                "{} would be overwritten ({}); pass --force to replace them",
                if existing.len() == 1 {
                    "1 file".to_string()
                } else {
                    format!("{} files", existing.len())
                },
                existing.join(", ")
            ));
        }
    }
    for (path, text) in &targets {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(targets.into_iter().map(|(p, _)| p).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adding a file to suites/ without listing it here (or the reverse) fails.
    #[test]
    fn the_list_matches_the_suites_folder() {
        fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).expect("suites/ is readable") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    walk(&path, base, out);
                } else {
                    let rel = path.strip_prefix(base).expect("below base");
                    out.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
        let mut on_disk = Vec::new();
        walk(&base, &base, &mut on_disk);
        on_disk.sort();
        let listed: Vec<String> = FILES.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(listed, on_disk);
    }

    #[test]
    fn paths_below_the_root_resolve() {
        assert!(source(&profile()).is_some_and(|t| t.contains("entity_address:")));
        assert!(source(Path::new("suites/profile.yaml")).is_none());
        assert!(is_dir(&root()) && is_dir(&root().join("doip")) && !is_dir(&root().join("nope")));
        let doip = files_under(&root().join("doip"));
        assert!(!doip.is_empty() && doip.iter().all(|p| source(p).is_some()));
        assert_eq!(files_under(&root()).len(), FILES.len());
    }

    #[test]
    fn export_writes_every_file_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().expect("temp dir");
        let written = export(dir.path(), false).expect("export");
        assert_eq!(written.len(), FILES.len());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("profile.yaml")).ok().as_deref(),
            source(&profile())
        );
        let again = export(dir.path(), false).expect_err("second export refuses");
        assert!(again.contains("--force"), "{again}");
        assert!(export(dir.path(), true).is_ok());
    }
}
