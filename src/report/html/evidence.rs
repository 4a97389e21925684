//! The evidence bundle on the page (`run --bundle`, `report --verify --html`): the archive's
//! name and its manifest's SHA-256 (docs/reports.md#evidence-bundle).
//!
//! The page is itself a member of the bundle, so the bundle's own copy cannot hold the digest
//! that covers it: the page is written with a placeholder of the digest's length, packed, and
//! then the run's copy gets the digest in place ([`show_bundle_digest`]). A page rendered from a
//! verified bundle shows the digest it was verified with.

use maud::{Markup, html};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::printable;

/// What the page says about the bundle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BundleShown {
    /// The archive as the command line named it.
    pub file: String,
    /// The manifest's SHA-256 (hex); `None` while the bundle is being packed.
    pub manifest_sha256: Option<String>,
    /// The page was rendered from the bundle after `report --verify` found it intact.
    pub verified: bool,
}

/// Where the digest goes before it is known: as long as a SHA-256 in hex, so it is replaced in
/// place; what the bundle's own copy of the page shows.
const PLACEHOLDER: &str = "(given beside the bundle: it covers this page too)..............";
const OPEN: &str = "<code id=\"bundle-digest\">";

/// The row of the run's facts table.
pub fn bundle_row(b: &BundleShown) -> Markup {
    let digest = b.manifest_sha256.as_deref().unwrap_or(PLACEHOLDER);
    html! {
        tr {
            th { "evidence bundle" }
            td #bundle {
                code { (printable(&b.file)) } ", manifest SHA-256 " code #bundle-digest { (printable(digest)) }
                @if b.verified { " (verified: every member as the manifest says)" }
            }
        }
    }
}

/// Writes `digest` (64 hex digits) over the placeholder of the page at `path`. The page is read
/// up to the placeholder only (it sits in the head, before the cases).
pub fn show_bundle_digest(path: &Path, digest: &str) -> std::io::Result<()> {
    if digest.len() != PLACEHOLDER.len() || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(std::io::Error::other(format!("not a SHA-256 in hex: {digest}")));
    }
    let marker = format!("{OPEN}{PLACEHOLDER}");
    let mut file = std::fs::OpenOptions::new().read(true).write(true).open(path)?;
    // The head is written before every case section; a generous bound on how far it reaches.
    let mut head = Vec::new();
    (&mut file).take(HEAD_BOUND).read_to_end(&mut head)?;
    let Some(at) = head.windows(marker.len()).position(|w| w == marker.as_bytes()) else {
        return Err(std::io::Error::other("the page has no place for the bundle's digest"));
    };
    file.seek(SeekFrom::Start((at + OPEN.len()) as u64))?;
    file.write_all(digest.as_bytes())?;
    file.flush()
}

/// How far into the page the placeholder is looked for: the head with a diff, waiver problems
/// and the tables is far smaller.
const HEAD_BOUND: u64 = 8 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_placeholder_is_as_long_as_a_digest_and_is_replaced_in_place() {
        assert_eq!(PLACEHOLDER.len(), 64);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.html");
        let shown = BundleShown { file: "evidence.tar".into(), ..BundleShown::default() };
        let page = format!("<p>before</p>{}<p>cases</p>", bundle_row(&shown).into_string());
        std::fs::write(&path, &page).unwrap();
        let digest = "ab".repeat(32);
        show_bundle_digest(&path, &digest).unwrap();
        let after = std::fs::read_to_string(&path).unwrap();
        assert_eq!(after.len(), page.len());
        assert!(after.contains(&format!("{OPEN}{digest}</code>")), "{after}");
        assert!(!after.contains("given beside"));
        let err = show_bundle_digest(&path, &digest).unwrap_err();
        assert!(err.to_string().contains("no place"), "{err}");
        assert!(show_bundle_digest(&path, "short").is_err());
    }
}
