//! The page's fixed parts: the Content-Security-Policy, the style and the filter script.
//!
//! The policy allows nothing to be fetched (`default-src 'none'`): the report is one file that
//! works from a CI artifact opened offline, and a browser logs any request as a violation (the
//! browser test looks for such lines). Inline style and script are allowed by their hash.

/// The filter script: reads the filters from the URL hash (`#verdict=fail&suite=..&tag=..&q=..`,
/// so a link or a reload keeps them), writes them back on change, opens `#case=case-N`, and
/// fills a case's details from its data block the first time it is opened.
pub const SCRIPT: &str = r#"(function () {
  var cases = Array.prototype.slice.call(document.querySelectorAll('details.case'));
  var names = ['verdict', 'suite', 'tag', 'q'];
  var input = {};
  names.forEach(function (k) { input[k] = document.getElementById('f-' + k); });
  function fill(c) {
    var t = c.querySelector(':scope > script.detail');
    if (t) { c.insertAdjacentHTML('beforeend', t.textContent.split('<\\/').join('</')); t.remove(); }
  }
  function apply() {
    var v = input.verdict.value, s = input.suite.value, t = input.tag.value;
    var q = input.q.value.toLowerCase(), shown = 0;
    cases.forEach(function (c) {
      var d = c.dataset;
      var ok = (!v || d.verdict === v) && (!s || d.suite === s) &&
        (!t || (' ' + d.tags + ' ').indexOf(' ' + t + ' ') >= 0) && (!q || d.text.indexOf(q) >= 0);
      c.hidden = !ok;
      if (ok) { shown++; }
    });
    document.getElementById('shown').textContent = String(shown);
  }
  function write() {
    var p = new URLSearchParams();
    names.forEach(function (k) { if (input[k].value) { p.set(k, input[k].value); } });
    history.replaceState(null, '', '#' + p.toString());
    apply();
  }
  function load() {
    var p = new URLSearchParams(location.hash.slice(1));
    names.forEach(function (k) { input[k].value = p.get(k) || ''; });
    apply();
    var id = p.get('case'), c = id && document.getElementById(id);
    if (c) { c.hidden = false; fill(c); c.open = true; c.scrollIntoView(); }
  }
  document.addEventListener('toggle', function (e) {
    if (e.target.classList && e.target.classList.contains('case') && e.target.open) { fill(e.target); }
  }, true);
  names.forEach(function (k) { input[k].addEventListener('input', write); });
  window.addEventListener('hashchange', load);
  load();
})();"#;

pub const STYLE: &str = r#"
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d2330; background: #fff; }
h1 { font-size: 1.4em; margin: 0 0 .4em; } h2 { font-size: 1.1em; margin: 1.2em 0 .4em; } .inline { display: inline; }
code, pre, .hex { font-family: ui-monospace, monospace; font-size: 12px; }
table { border-collapse: collapse; } th, td { text-align: left; padding: 2px 10px 2px 0; vertical-align: top; }
.run th { color: #566; font-weight: normal; }
.tables { display: flex; flex-wrap: wrap; gap: 0 3em; align-items: flex-start; }
table.tally td:not(:first-child), table.tally th:not(:first-child) { text-align: right; min-width: 3.5em; }
.tables > table { flex: 0 0 auto; }
.counts a { display: inline-block; margin: 0 .4em .4em 0; padding: .35em .8em; border-radius: 4px; text-decoration: none; color: #fff; font-weight: 600; }
.v { display: inline-block; min-width: 6.5em; text-align: center; border-radius: 3px; color: #fff; font-size: 12px; font-weight: 600; }
.pass { background: #2f8f46; } .fail { background: #c62828; } .error { background: #8e24aa; }
.inconclusive { background: #ef6c00; } .waived { background: #6d4c41; } .skipped { background: #78909c; } .unfinished { background: #455a64; }
.muted { color: #667; } .dur { color: #667; float: right; } .why { color: #a11; margin: .2em 0 0 7.2em; }
.filters { position: sticky; top: 0; background: #f4f6f9; padding: .5em; border: 1px solid #dde; margin: 1em 0 .5em; }
.filters label { margin-right: 1em; }
details.case { border-bottom: 1px solid #e4e7ec; padding: .3em 0; }
details.case > summary { cursor: pointer; }
.detail { margin: .5em 0 .5em 1.5em; }
.detail dl { display: grid; grid-template-columns: max-content auto; gap: 0 1em; margin: 0 0 .6em; }
.detail dt { color: #566; } .detail dd { margin: 0; }
.failure { border-left: 3px solid #c62828; padding: .2em .8em; background: #fff6f6; margin: .5em 0; }
.diff, tr.diff td { background: #ffd6d6; } span.diff { font-weight: 700; color: #a00; }
svg.chart { display: block; margin: .6em 0; background: #fbfcfe; border: 1px solid #e4e7ec; }
svg text { font: 11px system-ui, sans-serif; fill: #1d2330; }
svg .lane { font-weight: 600; } svg .life { stroke: #9aa5b5; stroke-dasharray: 2 3; }
svg .arrow line { stroke: #1d4ed8; stroke-width: 1.4; } svg .arrow polygon { fill: #1d4ed8; }
svg .arrow.udp line { stroke-dasharray: 6 3; } svg .arrow.tls line { stroke-width: 3; }
svg .arrow.can line, svg .arrow.can polygon { stroke: #00796b; fill: #00796b; }
svg .arrow.missing line { stroke: #c62828; stroke-dasharray: 4 4; } svg .arrow.missing polygon { fill: #c62828; }
svg .arrow.missing text { fill: #c62828; } svg .arrow .t, svg .step text { fill: #667; }
svg .mark circle { fill: #667; } svg .mark.bad circle { fill: #c62828; } svg .mark.bad text { fill: #c62828; }
svg .failure .deadline { stroke: #c62828; stroke-dasharray: 3 3; } svg .failure text { fill: #c62828; font-weight: 600; }
svg .gap { stroke: #c0c6d0; stroke-dasharray: 1 4; fill: #667; } svg .more { fill: #a11; }
.plot { margin: .4em 0; } .plot svg .axis { stroke: #667; } .plot svg .window { fill: #c8e6c9; }
.plot svg .tolerance { fill: #fff3c4; } .plot svg .value { stroke: #1d4ed8; stroke-width: 3; }
.plot svg .value.outside { stroke: #c62828; }
section.baseline { border: 1px solid #dde; border-left: 4px solid #2f8f46; padding: .2em 1em .6em; margin: 0 0 1em; }
section.baseline.regressed { border-left-color: #c62828; } section.baseline ul { margin: .2em 0; }
table.timers tr.over td { color: #a11; font-weight: 600; }
pre { background: #f6f8fa; padding: .5em; overflow-x: auto; max-height: 30em; }
"#;
