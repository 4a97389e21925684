//! `doipcheck list [PATHS]`: the planned cases (matrix expanded, filters applied) with id,
//! title, tags, clause and requirements; cases the profile cannot run are marked skipped.

use super::exit;
use super::validate::{default_profile, paths_or_default};
use crate::suite::load;
use crate::suite::select::{self, Filter};
use crate::suite::tags::TagExpr;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Suite files or directories (default: ./suites, else the suites built into doipcheck).
    pub paths: Vec<PathBuf>,
    /// Target profile (requirements are checked against it).
    #[arg(short, long)]
    pub profile: Option<PathBuf>,
    /// Tag expression: `timing`, `nack and not slow`, `(a|b) & !c`.
    #[arg(long)]
    pub tags: Option<String>,
    /// One line per case: id and title only.
    #[arg(long)]
    pub short: bool,
}

pub fn list(args: &ListArgs) -> (u8, String) {
    let paths = paths_or_default(&args.paths);
    let tags = match args.tags.as_deref().map(TagExpr::parse).transpose() {
        Ok(t) => t,
        Err(e) => return (exit::USAGE, format!("error: --tags: {e}\n")),
    };
    let profile = match load::load_profile(Some(
        args.profile.clone().unwrap_or_else(default_profile).as_path(),
    )) {
        Ok(p) => p,
        Err(e) => return (exit::USAGE, e.render()),
    };
    let loaded = match load::load_suites(&paths, &crate::runner::target::known_faults()) {
        Ok(l) => l,
        Err(e) => return (exit::USAGE, e.render()),
    };
    let planned = select::select_cases(&loaded, &profile, &Filter { tags, ..Filter::default() });
    let mut out = String::new();
    for p in &planned {
        let i = &p.info;
        if args.short {
            out.push_str(&format!("{}  {}\n", i.id, i.title));
            continue;
        }
        out.push_str(&format!("{}  {}\n", i.id, i.title));
        out.push_str(&format!(
            "    suite:    {} ({}:{})\n",
            i.suite,
            i.suite_file.display(),
            i.line
        ));
        if let Some(c) = &i.clause {
            out.push_str(&format!("    clause:   {c}\n"));
        }
        if !i.tags.is_empty() {
            out.push_str(&format!("    tags:     {}\n", i.tags.join(", ")));
        }
        if !i.requires.is_empty() {
            out.push_str(&format!("    requires: {}\n", i.requires.join(", ")));
        }
        if !i.detects.is_empty() {
            out.push_str(&format!("    detects:  {}\n", i.detects.join(", ")));
        }
        if let Some(s) = &p.skip {
            out.push_str(&format!("    skipped:  {s}\n"));
        }
    }
    out.push_str(&format!("{} cases\n", planned.len()));
    (exit::SUCCESS, out)
}

pub fn run(args: ListArgs) -> u8 {
    let (code, text) = list(&args);
    if code == exit::SUCCESS {
        return super::stdout::print(&text, code);
    }
    eprint!("{text}");
    code
}
