//! Where `import` and `replay` write an imported suite, case by case as the import gives them
//! ([`crate::import::Importer::take_ready`]): nothing is held but the case being written.
//!
//! A file holds at most [`MAX_FILE_BYTES`], the most the suite loader reads: past it the
//! cases go on in `NAME-2.yaml`, `NAME-3.yaml`, ... beside the first, each a suite of its own
//! (`suite: NAME-2`), so every file an import writes loads, validates and runs. Standard
//! output gets one suite, however long.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::stdout::Stdout;
use crate::import::{ImportOptions, suite_head};
use crate::suite::yaml::MAX_FILE_BYTES;

/// Room kept in each file for the suite's tail (its closing comment lines).
const TAIL_ROOM: usize = 512;

/// The suite files (or standard output) of one import.
pub struct SuiteFiles {
    first: Option<PathBuf>,
    head: Option<ImportOptions>,
    out: Option<Box<dyn Write>>,
    written: Vec<PathBuf>,
    bytes: usize,
    cases_here: usize,
}

impl SuiteFiles {
    /// Files from `first` on; `None`: standard output.
    pub fn new(first: Option<&Path>) -> Self {
        SuiteFiles {
            first: first.map(Path::to_path_buf),
            head: None,
            out: None,
            written: Vec::new(),
            bytes: 0,
            cases_here: 0,
        }
    }

    /// The import's options: each file's head names the suite and the capture.
    pub fn begin(&mut self, options: &ImportOptions) {
        self.head = Some(options.clone());
    }

    /// Writes one case (a `cases` item), in a next file when this one would pass
    /// [`MAX_FILE_BYTES`].
    pub fn case(&mut self, text: &str) -> io::Result<()> {
        let full = self.first.is_some()
            && self.cases_here > 0
            && self.bytes + text.len() + TAIL_ROOM > MAX_FILE_BYTES;
        if self.out.is_none() || full {
            self.open_next()?;
        }
        self.write(text)?;
        self.cases_here += 1;
        Ok(())
    }

    /// Writes `tail` after the last case and flushes; returns the files written (none for
    /// standard output, or when no case came).
    pub fn finish(mut self, tail: &str) -> io::Result<Vec<PathBuf>> {
        if self.out.is_some() {
            self.write(tail)?;
        }
        if let Some(out) = &mut self.out {
            out.flush()?;
        }
        Ok(self.written)
    }

    fn write(&mut self, text: &str) -> io::Result<()> {
        if let Some(out) = &mut self.out {
            out.write_all(text.as_bytes())?;
            self.bytes += text.len();
        }
        Ok(())
    }

    fn open_next(&mut self) -> io::Result<()> {
        if let Some(out) = &mut self.out {
            out.flush()?;
        }
        let options = self.head.as_ref().ok_or_else(|| io::Error::other("import not begun"))?;
        let n = self.written.len() + 1;
        let name = if n == 1 { options.name.clone() } else { format!("{}-{n}", options.name) };
        let head = suite_head(options, &name);
        self.out = Some(match &self.first {
            Some(first) => {
                let path = numbered(first, n);
                let file = File::create(&path)
                    .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
                self.written.push(path);
                Box::new(BufWriter::with_capacity(64 * 1024, file))
            }
            None => {
                self.written.clear();
                Box::new(Stdout::new())
            }
        });
        self.bytes = 0;
        self.cases_here = 0;
        self.write(&head)
    }
}

/// `dir/name.yaml`, then `dir/name-2.yaml`, ...
fn numbered(first: &Path, n: usize) -> PathBuf {
    if n == 1 {
        return first.to_path_buf();
    }
    let stem = first.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = match first.extension() {
        Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    first.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_files_are_numbered_beside_the_first() {
        assert_eq!(numbered(Path::new("out/s.yaml"), 1), PathBuf::from("out/s.yaml"));
        assert_eq!(numbered(Path::new("out/s.yaml"), 2), PathBuf::from("out/s-2.yaml"));
        assert_eq!(numbered(Path::new("s"), 3), PathBuf::from("s-3"));
    }
}
