//! The evidence bundle (`run --bundle FILE`, `report --verify FILE`): a run's reports, its
//! captures, the exact suites and profile it used and the doipcheck version, in one ustar
//! archive (POSIX.1-1988, what `tar -xf` reads) that ends with `manifest.json`: the SHA-256 of
//! every other member. `--verify` reads the archive back (bounded: it may come from anyone),
//! recomputes every hash and names each member that was changed, added or removed.
//!
//! The manifest is not signed: it shows tampering by someone who did not also rewrite the
//! manifest. Its own digest, printed when the bundle is written, is what a recipient compares
//! with the one the sender gave them.

use std::path::Path;

use ring::digest::{SHA256, digest};
use serde::{Deserialize, Serialize};

/// The largest archive `--verify` reads: reports are bounded to 32 MiB, suites and profile add
/// little.
pub const MAX_BUNDLE_BYTES: u64 = 256 * 1024 * 1024;
/// Members read at most.
const MAX_MEMBERS: usize = 100_000;
const BLOCK: usize = 512;
const MANIFEST: &str = "manifest.json";
const FORMAT: &str = "doipcheck-bundle/1";

/// One member of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub path: String,
    pub bytes: u64,
    /// Lowercase hex.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Manifest {
    format: String,
    doipcheck: String,
    files: Vec<ManifestEntry>,
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest(&SHA256, data).as_ref())
}

/// Writes `members` (archive path, content) and their manifest to `out` as a ustar archive;
/// returns the manifest's SHA-256 (hex). Member names are at most 255 bytes (ustar's limit).
pub fn write_bundle(out: &Path, members: &[(String, Vec<u8>)]) -> std::io::Result<String> {
    let manifest = Manifest {
        format: FORMAT.into(),
        doipcheck: env!("CARGO_PKG_VERSION").into(),
        files: members
            .iter()
            .map(|(path, data)| ManifestEntry {
                path: path.clone(),
                bytes: data.len() as u64,
                sha256: sha256_hex(data),
            })
            .collect(),
    };
    let manifest = serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?;
    let manifest_digest = sha256_hex(&manifest);
    super::write_atomically(out, |w| {
        use std::io::Write;
        for (path, data) in members
            .iter()
            .map(|(p, d)| (p.as_str(), d.as_slice()))
            .chain([(MANIFEST, &manifest[..])])
        {
            w.write_all(&header(path, data.len() as u64)?)?;
            w.write_all(data)?;
            w.write_all(&[0u8; BLOCK][..(BLOCK - data.len() % BLOCK) % BLOCK])?;
        }
        // Two zero blocks end a tar archive.
        w.write_all(&[0u8; 2 * BLOCK])
    })?;
    Ok(manifest_digest)
}

/// A ustar header for a regular file.
fn header(path: &str, size: u64) -> std::io::Result<[u8; BLOCK]> {
    let mut h = [0u8; BLOCK];
    let (prefix, name) = if path.len() <= 100 {
        ("", path)
    } else {
        // ustar: the name is prefix + '/' + name, prefix at most 155 bytes, name at most 100.
        path.char_indices()
            .filter(|&(i, c)| c == '/' && i <= 155 && path.len() - i - 1 <= 100)
            .map(|(i, _)| (&path[..i], &path[i + 1..]))
            .next()
            .ok_or_else(|| {
                std::io::Error::other(format!("{path}: name too long for the archive"))
            })?
    };
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
    let sum = checksum(&h);
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    Ok(h)
}

/// The header checksum: the sum of its bytes with the checksum field read as spaces.
fn checksum(h: &[u8]) -> u32 {
    h.iter()
        .enumerate()
        .map(|(i, &b)| if (148..156).contains(&i) { 32 } else { u32::from(b) })
        .sum()
}

fn octal(field: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(field).ok()?;
    let text = text.trim_matches(|c: char| c == '\0' || c == ' ');
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

fn text(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// The members of a ustar archive, in order. Errors say which member and why.
pub fn read_members(data: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + BLOCK <= data.len() {
        let h = &data[at..at + BLOCK];
        if h.iter().all(|&b| b == 0) {
            return Ok(out);
        }
        if out.len() == MAX_MEMBERS {
            return Err(format!("more than {MAX_MEMBERS} members"));
        }
        let name = match text(&h[345..500]) {
            p if p.is_empty() => text(&h[..100]),
            p => format!("{p}/{}", text(&h[..100])),
        };
        if octal(&h[148..156]) != Some(u64::from(checksum(h))) {
            return Err(format!(
                "the header of `{name}` (at byte {at}) was changed: its checksum does not match"
            ));
        }
        let size =
            octal(&h[124..136]).ok_or_else(|| format!("`{name}`: its size is not a number"))?;
        let start = at + BLOCK;
        let end = usize::try_from(size)
            .ok()
            .and_then(|s| start.checked_add(s))
            .filter(|&e| e <= data.len());
        let Some(end) = end else {
            return Err(format!("`{name}` declares {size} bytes, the archive ends before"));
        };
        out.push((name, data[start..end].to_vec()));
        at = end.div_ceil(BLOCK) * BLOCK;
    }
    Err("the archive ends without its end blocks (cut short?)".into())
}

/// What `--verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verified {
    /// The manifest's SHA-256 (hex).
    pub manifest_sha256: String,
    /// The doipcheck version that wrote it.
    pub version: String,
    /// Members whose content differs from the manifest, one line each.
    pub tampered: Vec<String>,
    /// Members checked and found as the manifest says.
    pub intact: usize,
    /// The bundled `report.json`, when it is intact.
    pub report_json: Option<Vec<u8>>,
}

/// Reads and checks the bundle at `path`.
pub fn verify_bundle(path: &Path) -> Result<Verified, String> {
    let name = path.display();
    let data = super::load::read_bounded(path, MAX_BUNDLE_BYTES)?;
    let members = read_members(&data).map_err(|e| format!("{name}: {e}"))?;
    let Some((_, manifest)) = members.iter().find(|(p, _)| p == MANIFEST) else {
        return Err(format!("{name}: no {MANIFEST}: not a doipcheck bundle"));
    };
    let parsed: Manifest =
        serde_json::from_slice(manifest).map_err(|e| format!("{name}: {MANIFEST}: {e}"))?;
    let mut v = Verified {
        manifest_sha256: sha256_hex(manifest),
        version: parsed.doipcheck.clone(),
        ..Verified::default()
    };
    for entry in &parsed.files {
        match members.iter().find(|(p, _)| *p == entry.path) {
            None => v.tampered.push(format!("{}: missing from the archive", entry.path)),
            Some((_, data)) if sha256_hex(data) != entry.sha256 => v.tampered.push(format!(
                "{}: changed (SHA-256 {}, the manifest says {}; {} bytes, the manifest says {})",
                entry.path,
                sha256_hex(data),
                entry.sha256,
                data.len(),
                entry.bytes
            )),
            Some((p, data)) => {
                v.intact += 1;
                if p == "report.json" {
                    v.report_json = Some(data.clone());
                }
            }
        }
    }
    for (p, _) in &members {
        if p != MANIFEST && !parsed.files.iter().any(|e| e.path == *p) {
            v.tampered.push(format!("{p}: added (not in the manifest)"));
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_verifies_and_a_changed_byte_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.tar");
        // Over ustar's 100 bytes: written as prefix and name.
        let long = format!("captures/{}/{}.pcapng", "d".repeat(100), "x".repeat(80));
        let members =
            vec![("report.json".to_owned(), b"{}".to_vec()), (long.clone(), vec![7u8; 1000])];
        let digest = write_bundle(&path, &members).unwrap();
        let v = verify_bundle(&path).unwrap();
        assert_eq!(
            (v.intact, v.tampered.len(), v.manifest_sha256.as_str()),
            (2, 0, digest.as_str())
        );
        assert_eq!(v.report_json.as_deref(), Some(&b"{}"[..]));
        // One byte of the capture changed.
        let mut data = std::fs::read(&path).unwrap();
        let at = data.windows(4).position(|w| w == [7, 7, 7, 7]).unwrap() + 10;
        data[at] = 8;
        std::fs::write(&path, &data).unwrap();
        let v = verify_bundle(&path).unwrap();
        assert_eq!(v.tampered.len(), 1, "{:?}", v.tampered);
        assert!(
            v.tampered[0].starts_with(&format!("{long}: changed (SHA-256 ")),
            "{:?}",
            v.tampered
        );
        // A header changed is caught by its checksum; a cut archive is named as such.
        data[0] = b'X';
        std::fs::write(&path, &data).unwrap();
        assert!(verify_bundle(&path).unwrap_err().contains("was changed"));
        std::fs::write(&path, &data[..700]).unwrap();
        assert!(verify_bundle(&path).is_err());
    }
}
