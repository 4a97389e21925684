//! Selecting the cases of a run from loaded suites: matrix expansion (one case per
//! combination, its id naming the values), `--tags`, `--case`, `--shard`, and `requires`
//! against the profile (a case whose requirement the profile lacks is selected as skipped,
//! with the reason). What each selected case then does is planned by `runner::plan`.

use super::case_info::CaseInfo;
use super::load::Loaded;
use super::model::{Case, Step, Suite};
use super::profile::Profile;
use super::tags::TagExpr;
use super::value::{Expr, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Selection of cases for a run.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub tags: Option<TagExpr>,
    /// Case ids or glob patterns (`*` any run of characters, `?` one; `HDR-*`,
    /// `ISOTP-TX-WAIT-00?`), with or without a matrix suffix; an id without one selects every
    /// expansion.
    pub cases: Vec<String>,
    /// `(k, n)`: keep the k-th of every n selected cases (1-based k).
    pub shard: Option<(u32, u32)>,
}

/// One case as it will run: a suite case with one matrix combination.
#[derive(Debug, Clone)]
pub struct SelectedCase {
    pub suite: Arc<Suite>,
    /// Index into `suite.cases`.
    pub case_index: usize,
    /// Matrix parameters of this expansion.
    pub params: Vec<(String, Expr)>,
    pub info: CaseInfo,
    /// Why it will be skipped (a requirement the profile lacks).
    pub skip: Option<String>,
}

impl SelectedCase {
    pub fn case(&self) -> &Case {
        &self.suite.cases[self.case_index]
    }

    /// The names a case's expressions resolve against, built in one place: every
    /// `${profile.*}`, then the suite's `vars:` (in order, each may use the ones before), then
    /// this expansion's matrix parameters. `capture:` adds to it while the case runs.
    pub fn scope(&self, profile: &Profile) -> Result<BTreeMap<String, Value>, String> {
        let mut scope: BTreeMap<String, Value> = profile.scope_entries().collect();
        for (name, e) in &self.suite.vars {
            let v = e.resolve(&scope).map_err(|m| format!("suite var `{name}`: {m}"))?;
            scope.insert(name.clone(), v);
        }
        for (name, e) in &self.params {
            let v = e.resolve(&scope).map_err(|m| format!("matrix `{name}`: {m}"))?;
            scope.insert(name.clone(), v);
        }
        Ok(scope)
    }

    /// Whether a step of the case (its suite's setup and finally included) talks to a DoIP
    /// entity: such a case cannot run against a CAN node alone.
    pub fn needs_doip(&self) -> bool {
        self.steps().any(|s| s.kind.medium().is_doip())
    }

    /// Every step in execution order with its phase.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        let c = self.case();
        self.suite
            .setup
            .iter()
            .chain(&c.setup)
            .chain(&c.steps)
            .chain(&c.finally)
            .chain(&self.suite.finally)
    }
}

/// A case title with its `${profile.<key>}` references written out, so that every report says
/// which value ran (e.g. the T_TCP_General_Inactivity of the profile); unknown keys and other
/// text stay as written.
pub fn title_with_profile(title: &str, profile: &Profile) -> String {
    const OPEN: &str = "${profile.";
    let mut out = String::with_capacity(title.len());
    let mut rest = title;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let reference = &rest[start..];
        let Some(end) = reference.find('}') else {
            rest = reference;
            break;
        };
        match profile.resolve(&reference[OPEN.len()..end]) {
            Some(value) => out.push_str(&value.to_string()),
            None => out.push_str(&reference[..=end]),
        }
        rest = &reference[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Expands, filters and shards the loaded suites against a profile: the cases of a run. The
/// steps of selection in the order a reader checks them (matrix id, tags, `--case`,
/// requirements, then the shard), kept in one place on purpose.
pub fn select_cases(loaded: &Loaded, profile: &Profile, filter: &Filter) -> Vec<SelectedCase> {
    let mut out = Vec::new();
    let scope: BTreeMap<String, Value> = profile.scope_entries().collect();
    for suite in &loaded.suites {
        for (index, case) in suite.cases.iter().enumerate() {
            for params in expand(&case.matrix) {
                let matrix: Vec<(String, String)> = params
                    .iter()
                    .map(|(n, e)| {
                        (
                            n.clone(),
                            e.resolve(&scope)
                                .map(|v| matrix_text(&v))
                                .unwrap_or_else(|_| e.source()),
                        )
                    })
                    .collect();
                let id = if matrix.is_empty() {
                    case.id.clone()
                } else {
                    let p: Vec<String> = matrix.iter().map(|(n, v)| format!("{n}={v}")).collect();
                    format!("{}[{}]", case.id, p.join(","))
                };
                let mut tags = suite.tags.clone();
                tags.extend(case.tags.iter().cloned());
                let mut requires = suite.requires.clone();
                requires.extend(case.requires.iter().cloned());
                if let Some(t) = &filter.tags
                    && !t.matches(&tags)
                {
                    continue;
                }
                if !filter.cases.is_empty()
                    && !filter.cases.iter().any(|c| case_pattern_matches(c, &id, &case.id))
                {
                    continue;
                }
                let missing: Vec<&String> =
                    requires.iter().filter(|r| !profile.has_capability(r)).collect();
                let skip = (!missing.is_empty()).then(|| {
                    let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
                    format!("the profile lacks {}", names.join(", "))
                });
                let info = CaseInfo {
                    suite_file: suite.file.clone(),
                    suite: suite.name.clone(),
                    suite_title: suite.title.clone(),
                    id,
                    title: title_with_profile(&case.title, profile),
                    clause: case.clause.clone(),
                    tags,
                    requires,
                    detects: case.detects.clone(),
                    matrix,
                    line: case.pos.line,
                };
                out.push(SelectedCase {
                    suite: suite.clone(),
                    case_index: index,
                    params,
                    info,
                    skip,
                });
            }
        }
    }
    if let Some((k, n)) = filter.shard {
        out = out
            .into_iter()
            .enumerate()
            .filter(|(i, _)| (*i as u32) % n == k - 1)
            .map(|(_, c)| c)
            .collect();
    }
    out
}

/// Whether a `--case` value selects a case expansion: the expanded id (`A[x=1]`) or the id as
/// written (`A`), exactly or as a glob.
pub fn case_pattern_matches(pattern: &str, expanded_id: &str, id: &str) -> bool {
    glob_matches(pattern, expanded_id) || glob_matches(pattern, id)
}

/// `*` matches any run of characters, `?` one character, everything else itself (so `[` in a
/// matrix id is literal). Iterative, linear in practice: no backtracking blow-up on hostile
/// patterns.
fn glob_matches(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// How many cases the suites hold with every matrix expanded (what `list` and `run` count).
pub fn expanded_case_count(loaded: &Loaded) -> usize {
    loaded
        .suites
        .iter()
        .flat_map(|s| &s.cases)
        .map(|c| c.matrix.iter().map(|(_, values)| values.len()).product::<usize>())
        .sum()
}

/// Warnings for filters that name nothing the suites have: a `--case` that matches no case
/// id, a `--tags` word no suite or case carries; each with the closest name when there is one
/// (a typo in a CI job should say so, not run nothing silently).
pub fn filter_warnings(loaded: &Loaded, filter: &Filter) -> Vec<String> {
    let ids: Vec<&str> =
        loaded.suites.iter().flat_map(|s| &s.cases).map(|c| c.id.as_str()).collect();
    let mut out = Vec::new();
    for pattern in &filter.cases {
        let base = pattern.split('[').next().unwrap_or(pattern);
        if !ids.iter().any(|id| glob_matches(pattern, id) || glob_matches(base, id)) {
            out.push(format!(
                "--case `{pattern}` matches no case{}",
                hint(super::diag::did_you_mean(base, ids.iter().copied()))
            ));
        }
    }
    if let Some(expr) = &filter.tags {
        let mut known: Vec<&str> = loaded
            .suites
            .iter()
            .flat_map(|s| s.tags.iter().chain(s.cases.iter().flat_map(|c| &c.tags)))
            .map(String::as_str)
            .collect();
        known.sort_unstable();
        known.dedup();
        for name in expr.names() {
            if !known.contains(&name) {
                out.push(format!(
                    "--tags: no suite or case has the tag `{name}`{}",
                    hint(super::diag::did_you_mean(name, known.iter().copied()))
                ));
            }
        }
    }
    out
}

fn hint(suggestion: Option<&str>) -> String {
    suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
}

/// A matrix value in a case id: integers in hex, as suites write codes.
fn matrix_text(v: &Value) -> String {
    match v {
        Value::Int(i) if *i <= 0xFF => format!("0x{i:02X}"),
        Value::Int(i) if *i <= 0xFFFF => format!("0x{i:04X}"),
        Value::Int(i) => format!("0x{i:X}"),
        other => other.to_string(),
    }
}

/// The cartesian product of matrix parameters, in declaration order (first parameter slowest).
fn expand(matrix: &[(String, Vec<Expr>)]) -> Vec<Vec<(String, Expr)>> {
    let mut combos: Vec<Vec<(String, Expr)>> = vec![Vec::new()];
    for (name, values) in matrix {
        let mut next = Vec::with_capacity(combos.len() * values.len());
        for c in &combos {
            for v in values {
                let mut c = c.clone();
                c.push((name.clone(), v.clone()));
                next.push(c);
            }
        }
        combos = next;
    }
    combos
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::load::load_suites;

    fn loaded(text: &str) -> Loaded {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("s.yaml");
        std::fs::write(&file, text).expect("write");
        load_suites(&[file], &[]).unwrap_or_else(|e| panic!("{}", e.render()))
    }

    const SUITE: &str = "suite: s\ntitle: t\ncases:\n  - id: A\n    title: a\n    tags: [fast]\n    matrix: { x: [1, 0x1000], y: [a, b] }\n    steps: [ { wait: 1ms } ]\n  - id: B\n    title: b\n    tags: [slow]\n    requires: [doip.tls]\n    steps: [ { wait: 1ms } ]\n";

    fn ids(plan: &[SelectedCase]) -> Vec<String> {
        plan.iter().map(|p| p.info.id.clone()).collect()
    }

    #[test]
    fn matrices_expand_in_declaration_order_with_ids_naming_the_values() {
        let plan = select_cases(&loaded(SUITE), &Profile::defaults(), &Filter::default());
        assert_eq!(
            ids(&plan),
            ["A[x=0x01,y=a]", "A[x=0x01,y=b]", "A[x=0x1000,y=a]", "A[x=0x1000,y=b]", "B"]
        );
    }

    #[test]
    fn titles_name_the_profile_values_that_run() {
        let profile = Profile::defaults();
        assert_eq!(
            title_with_profile(
                "idle for ${profile.timing.t_tcp_general_inactivity}, then closed",
                &profile
            ),
            "idle for 300s, then closed"
        );
        assert_eq!(
            title_with_profile("${profile.nope} ${profile.x", &profile),
            "${profile.nope} ${profile.x"
        );
        assert_eq!(title_with_profile("plain", &profile), "plain");
    }

    #[test]
    fn a_missing_capability_plans_a_skip_with_the_reason() {
        let plan = select_cases(&loaded(SUITE), &Profile::defaults(), &Filter::default());
        assert_eq!(plan[4].skip.as_deref(), Some("the profile lacks doip.tls"));
        assert!(plan[0].skip.is_none());
    }

    #[test]
    fn case_globs_select_and_unknown_names_get_a_hint() {
        let l = loaded(SUITE);
        let p = Profile::defaults();
        let glob = Filter { cases: vec!["A[x=0x01*".into()], ..Filter::default() };
        assert_eq!(ids(&select_cases(&l, &p, &glob)), ["A[x=0x01,y=a]", "A[x=0x01,y=b]"]);
        assert!(filter_warnings(&l, &glob).is_empty());
        let one_char = Filter { cases: vec!["?".into()], ..Filter::default() };
        assert_eq!(select_cases(&l, &p, &one_char).len(), 5);
        let typo = Filter {
            cases: vec!["AA".into(), "C*".into()],
            tags: Some(TagExpr::parse("fats or slow").unwrap()),
            ..Filter::default()
        };
        assert_eq!(
            filter_warnings(&l, &typo),
            [
                "--case `AA` matches no case (did you mean `A`?)",
                "--case `C*` matches no case",
                "--tags: no suite or case has the tag `fats` (did you mean `fast`?)",
            ]
        );
        assert_eq!(expanded_case_count(&l), 5);
    }

    #[test]
    fn globs_match_without_backtracking_blowup() {
        assert!(glob_matches("HDR-*", "HDR-PAT-001"));
        assert!(glob_matches("*-00?", "HDR-PAT-001"));
        assert!(!glob_matches("HDR-*-002", "HDR-PAT-001"));
        assert!(glob_matches("*", ""));
        let hostile = "*a".repeat(40) + "b";
        assert!(!glob_matches(&hostile, &"a".repeat(200)));
    }

    #[test]
    fn tags_cases_and_shards_select() {
        let l = loaded(SUITE);
        let p = Profile::defaults();
        let by_tag =
            Filter { tags: Some(TagExpr::parse("not fast").unwrap()), ..Filter::default() };
        assert_eq!(ids(&select_cases(&l, &p, &by_tag)), ["B"]);
        let by_id = Filter { cases: vec!["A[x=0x01,y=b]".into(), "B".into()], ..Filter::default() };
        assert_eq!(ids(&select_cases(&l, &p, &by_id)), ["A[x=0x01,y=b]", "B"]);
        let first = select_cases(&l, &p, &Filter { shard: Some((1, 2)), ..Filter::default() });
        let second = select_cases(&l, &p, &Filter { shard: Some((2, 2)), ..Filter::default() });
        assert_eq!(ids(&first), ["A[x=0x01,y=a]", "A[x=0x1000,y=a]", "B"]);
        assert_eq!(ids(&second), ["A[x=0x01,y=b]", "A[x=0x1000,y=b]"]);
    }
}
