//! report.html in a real browser: Debian's `chromium`, headless (installed by .ci/run; a
//! missing chromium fails under CI=true and is a printed skip elsewhere). `--dump-dom` gives
//! the DOM after the page's script ran, so the filters are driven through the URL hash the
//! page reads on load, and by events a script appended to a copy of the page dispatches
//! (choosing, typing, clicking); a failing case's chart is measured in the DOM (labels inside
//! the chart, one failure mark) and its `--screenshot`, decoded by `png.rs`, shows the mark's
//! colour and the labels' ink where the DOM puts them; `--enable-logging=stderr` shows console
//! errors and Content-Security-Policy violations (any request would be one).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::report_html::sample_reports;

/// Longest one chromium run may take before it is killed and the test fails.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(60);

/// True when chromium runs. Panics when it does not and CI=true; otherwise says why the
/// calling test is skipped.
pub fn chromium_or_skip(test: &str) -> bool {
    let found = Command::new("chromium")
        .arg("--version")
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: chromium is not installed (.ci/run installs it)");
    }
    eprintln!("SKIP {test}: chromium is not installed (apt-get install chromium)");
    false
}

/// Runs headless chromium on `url` with `args` (`--dump-dom`, `--screenshot=..`), in a fresh
/// profile, killed after [`CHROMIUM_TIMEOUT`]. Returns stdout and stderr.
pub fn chromium(args: &[String], url: &str) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let pipe = |r: Option<Box<dyn Read + Send>>| {
        let mut r = r.unwrap();
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = r.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let out = pipe(child.stdout.take().map(|s| Box::new(s) as _));
    let err = pipe(child.stderr.take().map(|s| Box::new(s) as _));
    let deadline = Instant::now() + CHROMIUM_TIMEOUT;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {CHROMIUM_TIMEOUT:?} on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (out.join().unwrap(), err.join().unwrap())
}

/// The console lines that mean the page is broken or tried to fetch something.
fn page_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| {
            l.contains("Uncaught")
                || l.contains("Content Security Policy")
                || l.contains("violates")
                || (l.contains(":CONSOLE") && l.contains("rror"))
        })
        .collect()
}

/// The opening tags of the case sections in a dumped DOM, in order.
fn case_tags(dom: &str) -> Vec<&str> {
    dom.match_indices("<details class=\"case\"")
        .map(|(at, _)| &dom[at..at + dom[at..].find('>').unwrap()])
        .collect()
}

/// The sample run's reports in a fresh folder and its report.json, or `None` (the test is
/// skipped) when chromium is missing.
fn sample(
    test: &str,
) -> Option<(tempfile::TempDir, doipcheck::report::Written, serde_json::Value)> {
    if !chromium_or_skip(test) {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let written = sample_reports(dir.path());
    let json = serde_json::from_slice(&std::fs::read(&written.json).unwrap()).unwrap();
    Some((dir, written, json))
}

/// The dumped DOM of `page` with `hash`, checked for console errors.
fn dom(page: &Path, hash: &str) -> String {
    let url = format!("file://{}#{hash}", page.display());
    let (dom, stderr) = chromium(&["--dump-dom".into()], &url);
    assert!(page_errors(&stderr).is_empty(), "{url}: {:?}", page_errors(&stderr));
    assert!(dom.contains("</html>"), "{url}: no DOM dumped; stderr: {stderr}");
    dom
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(&tag[start..start + tag[start..].find('"')?])
}

#[test]
fn the_page_loads_offline_counts_filters_and_draws_one_arrow_per_frame() {
    let Some((dir, written, json)) =
        sample("the_page_loads_offline_counts_filters_and_draws_one_arrow_per_frame")
    else {
        return;
    };
    let cases = json["cases"].as_array().unwrap();

    // Loaded as it is: every case, the counts of report.json, nothing hidden.
    let all = dom(&written.html, "");
    let tags = case_tags(&all);
    assert_eq!(tags.len(), cases.len());
    assert!(tags.iter().all(|t| !t.contains(" hidden")), "{tags:?}");
    for verdict in ["pass", "fail", "error", "inconclusive", "skipped"] {
        let shown = all
            .split(&format!("id=\"count-{verdict}\""))
            .nth(1)
            .and_then(|rest| attr(&rest[..rest.find('>').unwrap()], "data-count"))
            .unwrap_or_else(|| panic!("no count for {verdict}"));
        assert_eq!(shown, json["counts"][verdict].to_string(), "{verdict}");
    }
    assert!(all.contains(&format!("<b id=\"shown\">{}</b>", cases.len())));

    // A filter in the hash hides every case it does not match.
    let fails = json["counts"]["fail"].as_u64().unwrap() as usize;
    let filtered = dom(&written.html, "verdict=fail");
    let tags = case_tags(&filtered);
    let visible: Vec<_> = tags.iter().filter(|t| !t.contains(" hidden")).collect();
    assert_eq!(visible.len(), fails, "{tags:#?}");
    assert!(visible.iter().all(|t| attr(t, "data-verdict") == Some("fail")));
    assert!(filtered.contains(&format!("<b id=\"shown\">{fails}</b>")));
    let header = dom(&written.html, "suite=doip-header-handling&q=nacked");
    let visible = case_tags(&header).into_iter().filter(|t| !t.contains(" hidden")).count();
    assert_eq!(visible, 1, "one header case has `nacked` in its title");

    // The failing case opened from the hash: its details filled in, one arrow per frame.
    let (index, failing) = cases.iter().enumerate().find(|(_, c)| c["verdict"] == "fail").unwrap();
    let frames = failing["events"].as_array().unwrap().iter().filter(|e| e["event"] == "frame");
    let frames = frames.count();
    assert!(frames >= 2);
    let opened = dom(&written.html, &format!("case=case-{index}"));
    let start = opened.find(&format!("id=\"case-{index}\"")).unwrap();
    let end = opened[start..].find("<details class=\"case\"").map_or(opened.len(), |e| start + e);
    let section = &opened[start..end];
    assert!(section.contains(" open=\"\""), "the case is open");
    assert!(!section.contains("x-doipcheck-case"), "its details were filled in");
    assert_eq!(section.matches("class=\"arrow frame").count(), frames, "{section}");
    assert!(section.contains("class=\"failure\""));

    // A screenshot with more than a blank page in it.
    let shot = dir.path().join("shot.png");
    let url = format!("file://{}#verdict=fail", written.html.display());
    let (_, stderr) = chromium(
        &[format!("--screenshot={}", shot.display()), "--window-size=1200,900".into()],
        &url,
    );
    assert!(page_errors(&stderr).is_empty(), "{:?}", page_errors(&stderr));
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot: {e}; {stderr}"));
    let distinct = distinct_colours(&png);
    assert!(distinct > 32, "the screenshot looks blank: {distinct} distinct colours");
}

/// How many distinct colours the screenshot `png` holds (a blank page: one).
fn distinct_colours(png: &[u8]) -> usize {
    let image = crate::png::decode(png);
    let mut seen = std::collections::HashSet::new();
    image.count_in((0.0, 0.0, image.width as f64, image.height as f64), |p| {
        seen.insert(p);
        false
    });
    seen.len()
}

/// The URL of a copy of `page` with `script` appended to its body, opened at `hash`.
fn with_script(page: &Path, script: &str, name: &str, hash: &str) -> String {
    let text = std::fs::read_to_string(page).unwrap();
    let copy = page.with_file_name(name);
    std::fs::write(&copy, text.replace("</body>", &format!("{script}</body>"))).unwrap();
    format!("file://{}{hash}", copy.display())
}

/// What a script wrote into `<pre id="probe">`, from a dumped DOM without console errors.
fn probe_text(dom: &str, stderr: &str) -> String {
    assert!(page_errors(stderr).is_empty(), "{:?}", page_errors(stderr));
    let probe =
        dom.split("<pre id=\"probe\">").nth(1).unwrap_or_else(|| panic!("no probe: {stderr}"));
    probe[..probe.find("</pre>").unwrap()].to_owned()
}

/// Drives the page as a person would, from a script appended to a copy of it (the page's
/// policy allows inline script): chooses a verdict in the select, types into the text box a
/// key at a time, clicks a count and a case's line, and writes what the page showed after
/// each into `<pre id="probe">` for `--dump-dom` (`--virtual-time-budget` lets the hash
/// changes and the toggle events run first).
const DRIVER: &str = r#"<script>
(function () {
  var out = [];
  function shown() { return document.getElementById('shown').textContent; }
  function visible() { return document.querySelectorAll('details.case:not([hidden])').length; }
  var verdict = document.getElementById('f-verdict');
  verdict.value = 'fail';
  verdict.dispatchEvent(new Event('input', { bubbles: true }));
  out.push('select fail: shown=' + shown() + ' visible=' + visible() + ' hash=' + location.hash);
  verdict.value = '';
  verdict.dispatchEvent(new Event('input', { bubbles: true }));
  var q = document.getElementById('f-q');
  q.focus();
  'nacked'.split('').forEach(function (ch) {
    q.dispatchEvent(new KeyboardEvent('keydown', { key: ch, bubbles: true }));
    q.value += ch;
    q.dispatchEvent(new InputEvent('input', { data: ch, inputType: 'insertText', bubbles: true }));
    q.dispatchEvent(new KeyboardEvent('keyup', { key: ch, bubbles: true }));
  });
  out.push('typed nacked: shown=' + shown() + ' visible=' + visible() + ' hash=' + location.hash);
  q.value = '';
  q.dispatchEvent(new Event('input', { bubbles: true }));
  document.getElementById('count-pass').click();
  setTimeout(function () {
    out.push('clicked pass count: select=' + verdict.value + ' shown=' + shown() + ' visible=' + visible());
    verdict.value = '';
    verdict.dispatchEvent(new Event('input', { bubbles: true }));
    var failing = document.querySelector('details.case[data-verdict="fail"]');
    failing.querySelector('summary').click();
    setTimeout(function () {
      out.push('clicked failing case: open=' + failing.open + ' filled=' + !failing.querySelector('script.detail') +
        ' arrows=' + failing.querySelectorAll('g.arrow').length + ' marks=' + failing.querySelectorAll('g.failure, g.arrow.missing').length);
      // The tag in two pieces, so the script's own text in the dump is not taken for it.
      document.body.insertAdjacentHTML('beforeend', '<pre id="' + 'probe">' + out.join('\n') + '</pre>');
    }, 200);
  }, 200);
})();
</script>"#;

#[test]
fn the_filters_answer_clicks_and_typing_and_a_clicked_case_opens_with_its_chart() {
    // The folder lives as long as the test: the page is in it.
    let Some((_dir, written, json)) =
        sample("the_filters_answer_clicks_and_typing_and_a_clicked_case_opens_with_its_chart")
    else {
        return;
    };
    let (fails, passes) =
        (json["counts"]["fail"].as_u64().unwrap(), json["counts"]["pass"].as_u64().unwrap());
    let url = with_script(&written.html, DRIVER, "driven.html", "");
    let (dom, stderr) = chromium(&["--virtual-time-budget=5000".into(), "--dump-dom".into()], &url);
    let probe = probe_text(&dom, &stderr);
    let lines: Vec<&str> = probe.lines().collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0], format!("select fail: shown={fails} visible={fails} hash=#verdict=fail"));
    assert_eq!(lines[1], "typed nacked: shown=1 visible=1 hash=#q=nacked");
    assert_eq!(
        lines[2],
        format!("clicked pass count: select=pass shown={passes} visible={passes}")
    );
    let opened = lines[3];
    assert!(opened.starts_with("clicked failing case: open=true filled=true arrows="), "{opened}");
    assert!(!opened.contains("arrows=0 ") && opened.ends_with("marks=1"), "{opened}");
}

/// Measures the open case's chart after the page opened it from the hash and filled it in:
/// moves the chart to the top of the page (a headless screenshot of a scrolled page comes out
/// partly unpainted; the chart's style does not depend on where it sits), then writes into
/// `<pre id="probe">` the device pixel ratio, the chart's box, the failure mark's box with its
/// colour and text, and each arrow label with its box (viewport pixels: what a screenshot of
/// the same window shows).
const CHART_PROBE: &str = r#"<script>
setTimeout(function () {
  var out = [];
  var box = function (e) { var b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom].map(Math.round).join(' '); };
  var svg = document.querySelector('details.case[open] svg.chart');
  if (svg) {
    document.body.insertBefore(svg, document.body.firstChild);
    window.scrollTo(0, 0);
    out.push('dpr\t' + window.devicePixelRatio);
    out.push('chart\t' + box(svg));
    svg.querySelectorAll('g.failure, g.arrow.missing').forEach(function (m) {
      var t = m.querySelector('text');
      out.push('mark\t' + box(m) + '\t' + getComputedStyle(t).fill + '\t' + t.textContent);
    });
    svg.querySelectorAll('g.arrow.frame text:not(.t)').forEach(function (t) {
      out.push('label\t' + box(t) + '\t' + t.textContent);
    });
  }
  document.body.insertAdjacentHTML('beforeend', '<pre id="' + 'probe">' + out.join('\n') + '</pre>');
}, 300);
</script>"#;

/// A box `left top right bottom` from the probe, scaled to screenshot pixels.
fn probe_box(text: &str, dpr: f64) -> (f64, f64, f64, f64) {
    let v: Vec<f64> = text.split(' ').map(|n| n.parse::<f64>().unwrap() * dpr).collect();
    (v[0], v[1], v[2], v[3])
}

#[test]
fn a_screenshot_of_a_failing_cases_chart_shows_its_labels_and_its_failure_mark() {
    let Some((dir, written, json)) =
        sample("a_screenshot_of_a_failing_cases_chart_shows_its_labels_and_its_failure_mark")
    else {
        return;
    };
    let cases = json["cases"].as_array().unwrap();
    let (index, _) = cases.iter().enumerate().find(|(_, c)| c["verdict"] == "fail").unwrap();
    let url =
        with_script(&written.html, CHART_PROBE, "probed.html", &format!("#case=case-{index}"));
    let window = ["--window-size=1200,1000".to_owned(), "--virtual-time-budget=3000".to_owned()];

    // The DOM: the labels are the decoded summaries, each inside the chart; one failure mark.
    let (dom, stderr) =
        chromium(&[window[0].clone(), window[1].clone(), "--dump-dom".into()], &url);
    let probe = probe_text(&dom, &stderr);
    let rows: Vec<Vec<&str>> = probe.lines().map(|l| l.split('\t').collect()).collect();
    let row = |kind: &'static str| rows.iter().filter(move |r| r[0] == kind);
    let dpr: f64 = row("dpr").next().unwrap_or_else(|| panic!("{probe}"))[1].parse().unwrap();
    let chart = probe_box(row("chart").next().unwrap()[1], dpr);
    let labels: Vec<_> = row("label").collect();
    assert!(labels.len() >= 2, "{probe}");
    for label in &labels {
        let (left, _, right, _) = probe_box(label[1], dpr);
        assert!(!label[2].trim().is_empty(), "{probe}");
        assert!(
            left >= chart.0 && right <= chart.2,
            "a label outside the chart: {label:?} {chart:?}"
        );
    }
    // Decoded one-line summaries (the NACK's name and code), not bare message types.
    assert!(labels.iter().any(|l| l[2].contains("Generic header NACK")), "decoded: {probe}");
    let marks: Vec<_> = row("mark").collect();
    assert_eq!(marks.len(), 1, "{probe}");
    let mark = probe_box(marks[0][1], dpr);
    assert_eq!(marks[0][2], "rgb(198, 40, 40)", "the mark's colour");
    assert!(
        mark.0 >= chart.0 && mark.2 <= chart.2 && mark.1 >= chart.1 && mark.3 <= chart.3,
        "the mark is inside the chart: {probe}"
    );

    // The screenshot of the same window: the mark's colour where the mark is, and dark text
    // where the labels are. Tolerances absorb anti-aliasing; nothing is compared pixel-exact.
    let shot = dir.path().join("chart.png");
    let (_, stderr) = chromium(
        &[window[0].clone(), window[1].clone(), format!("--screenshot={}", shot.display())],
        &url,
    );
    assert!(page_errors(&stderr).is_empty(), "{:?}", page_errors(&stderr));
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot: {e}; {stderr}"));
    let image = crate::png::decode(&png);
    assert!(chart.3 <= image.height as f64, "the chart is in the window: {chart:?}");
    let red = |p: [u8; 3]| crate::png::near(p, [198, 40, 40], 40);
    let in_mark = image.count_in(mark, red);
    assert!(in_mark >= 20, "{in_mark} pixels of the failure mark's colour where it is drawn");
    let dark = |p: [u8; 3]| p.iter().map(|&c| c as u32).sum::<u32>() < 3 * 120;
    for label in &labels {
        let inked = image.count_in(probe_box(label[1], dpr), dark);
        assert!(inked >= 5, "label {:?} is not drawn: {inked} dark pixels", label[2]);
    }
    // Above the mark the chart has no red: the colour found is the mark's.
    let above = (chart.0, chart.1, chart.2, mark.1 - 2.0);
    assert_eq!(image.count_in(above, red), 0, "red above the failure mark");
}
