"""Headless Chromium (Debian's `chromium`, installed by `make setup`) as a person's eyes on the HTML report.

`look` loads the page in the real browser and returns what it rendered: the DOM after layout, with every
image's decoded size, every table cell's box and colour and where each table starts, plus a screenshot
kept under results/ for CI's artifacts.
"""
import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

# Runs in the page after it loaded: what the browser decoded and laid out, written into the DOM for --dump-dom.
PROBE = """<script>window.addEventListener("load", () => {
  const box = e => { const r = e.getBoundingClientRect(); return [Math.round(r.width), Math.round(r.height)]; };
  const facts = {
    images: [...document.images].map(i => ({alt: i.alt, cls: i.className, natural: [i.naturalWidth, i.naturalHeight],
                                            box: box(i)})),
    cells: [...document.querySelectorAll("#verdicts td.cell")].map(td => ({case: td.dataset.case,
             haproxy: td.dataset.haproxy, verdict: td.dataset.verdict, text: td.innerText, box: box(td),
             background: getComputedStyle(td).backgroundColor})),
    answers: [...document.querySelectorAll("td.answer")].map(td => ({table: td.closest("table").id,
             case: td.dataset.case, haproxy: td.dataset.haproxy, tone: td.dataset.tone, text: td.innerText,
             box: box(td), background: getComputedStyle(td).backgroundColor})),
    tops: Object.fromEntries(["known-bugs", "self-check", "verdicts"].map(id => document.getElementById(id))
             .filter(Boolean).map(t => [t.id, Math.round(t.getBoundingClientRect().top)])),
  };
  const out = document.createElement("pre"); out.id = "hrt-probe"; out.textContent = JSON.stringify(facts);
  document.body.appendChild(out);
});</script>"""


def chromium() -> str:
    """Debian's chromium; on a GitHub runner (Ubuntu, where `chromium` is a snap stub) the image's Chrome."""
    exe = next(filter(None, map(shutil.which, ("chromium", "google-chrome"))), None)
    assert exe, "Debian's chromium is not installed: `make setup` (ci/setup-host.sh) installs it"
    return exe


def _run(*args: str) -> str:
    sandbox = ["--no-sandbox"] if os.geteuid() == 0 else []   # Chromium refuses root without it
    p = subprocess.run([chromium(), "--headless", "--disable-gpu", "--hide-scrollbars", *sandbox, *args],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout


class _Probe(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inside, self.text = False, ""

    def handle_starttag(self, tag, attrs):
        self.inside = self.inside or ("id", "hrt-probe") in attrs

    def handle_data(self, data):
        if self.inside:
            self.text += data

    def handle_endtag(self, tag):
        if self.inside and tag == "pre":
            self.inside = False


def look(page: Path, screenshot: Path) -> dict:
    """Render page in headless Chromium; return the probe's facts and write a full-width screenshot."""
    page = page.resolve()
    probe_page = page.with_name(page.stem + ".probe.html")
    probe_page.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    try:
        dom = _run("--virtual-time-budget=10000", "--window-size=1400,2000", "--dump-dom", probe_page.as_uri())
    finally:
        probe_page.unlink()
    parser = _Probe()
    parser.feed(dom)
    assert parser.text, "the probe did not run: the page did not finish loading\n" + dom[:2000]
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    _run("--window-size=1400,2400", f"--screenshot={screenshot}", page.as_uri())
    assert screenshot.stat().st_size > 10000, "an empty screenshot"
    return json.loads(parser.text)
