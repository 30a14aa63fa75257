"""An annotator's session in a real Chromium (issue 7): log in, annotate, submit, export; signup.

As annotators work: Label Studio deployed by deploy.yml on the SSH rig's node account, the browser
on the controller talking to the local end of the tunnel opened by playbooks/tunnel.yml.
Debian's chromium driven by Playwright (no downloaded browser). Screenshots of every step are
kept under the test's tmp dir and copied to artifacts/browser/ in the repository.
"""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import openpyxl
import pytest
from playwright.sync_api import sync_playwright

from support.instance import Instance
from support.net import free_port
from support.playbook import REPO

pytestmark = [pytest.mark.browser, pytest.mark.ssh, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = REPO / "artifacts/browser"
ANNOTATORS = [{"name": "annotator1", "email": "a1@example.org"}, "annotator2"]
# What annotators see, and what the annotation (and every export) holds: a Label's or Choice's
# alias when it has one, else its value -- the original study's values.
OMISSION = "1a. Finding/interpretation"
OMISSION_VALUE = "1a"
SEVERITY = "4. Incorrect severity of finding"
OTHER = "5. Other difference between candidate and reference (please describe...)"
OTHER_VALUE = "other"
OTHER_TEXT = "the candidate names the wrong lobe"
DURATION = "7"
DATE = "20261127"
TIMEOUT_MS = 60_000  # a busy 2-core machine: the labeling UI can take a while to load


class Shots:
    """Numbered screenshots in the tmp dir, copied to artifacts/browser/<test>/."""

    def __init__(self, page, folder: Path, test: str):
        self.page, self.folder, self.count = page, folder, 0
        self.keep = ARTIFACTS / test
        shutil.rmtree(self.keep, ignore_errors=True)
        self.keep.mkdir(parents=True)

    def __call__(self, step: str) -> None:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        self.page.screenshot(path=path, full_page=True)
        shutil.copy(path, self.keep / path.name)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, study):
    """A fresh context (no cookies, no storage) per test. The node listens on this machine's
    loopback too, so every request the browser made is checked to have gone to the tunnel."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    urls: list[str] = []
    context.on("request", lambda request: urls.append(request.url))
    yield context.new_page()
    context.close()
    tunnel = urlsplit(study.url).netloc
    others = {u for u in urls if urlsplit(u).scheme in ("http", "https", "ws", "wss")
              and urlsplit(u).netloc != tunnel}
    assert urls and not others, f"requests not through the tunnel ({tunnel}): {sorted(others)}"


def batch0_sheet(path: Path) -> Path:
    """The example sheet cut to batch0 (every report to `all`): the whole sheet is validated
    against study_annotators, and the later batches name annotator3..6, who are not in this study."""
    book = openpyxl.load_workbook(REPO / "files/study/assignments.xlsx")
    sheet = book.active
    batch = [c.value for c in sheet[1]].index("batch") + 1
    for row in reversed(range(2, sheet.max_row + 1)):
        if sheet.cell(row, batch).value != "batch0":
            sheet.delete_rows(row)
    assert sheet.max_row == 11  # header + the 10 batch0 reports
    book.save(path)
    return path


def deploy_ahead(make_node_instance, tmp_path_factory):
    """The study's node instance, not deployed yet: conftest.py deploys it (deployed_ahead)."""
    work = tmp_path_factory.mktemp("browser-study")
    inst = make_node_instance("browser", credentials_dir=work / "credentials",
                              study_annotators=ANNOTATORS)
    inst.work = work
    return inst


@pytest.fixture(scope="module")
def study(deployed_ahead, tmp_path_factory):
    """Deployed on the rig's node over SSH with annotator1's account, batch0 assigned, and an SSH
    tunnel from this machine (the annotator's laptop) open to it: `study.url` is the tunnel's local
    end, as an annotator's browser has it, so the pages and the tests' API calls go through ssh."""
    (inst,), (deploy,) = deployed_ahead
    work = inst.work
    local_port = free_port()
    while local_port == inst.port:
        local_port = free_port()
    tunnel = {"label_studio_tunnel_dir": str(tmp_path_factory.mktemp("tun") / "t"),  # short: unix socket
              "label_studio_tunnel_local_port": local_port}
    try:
        deploy.assert_ok()
        inst.playbook("playbooks/assign.yml", {
            "batch": "batch0", "study_task_files_dir": str(work / "tasks"),
            "study_assignments": str(batch0_sheet(work / "assignments.xlsx"))}).assert_ok()
        run_tunnel(inst, tunnel, "present").assert_ok()
        inst.url_port = tunnel["label_studio_tunnel_local_port"]
        assert inst.url_port != inst.port
        assert inst.url == f"http://127.0.0.1:{inst.url_port}"
        assert inst.health(), "no /health through the tunnel"
        yield inst
    finally:
        run_tunnel(inst, tunnel, "absent")
        inst.remove()


def run_tunnel(inst: Instance, tunnel: dict, state: str):
    return inst.playbook("playbooks/tunnel.yml", tunnel, extra_args=["-e", f"tunnel_state={state}"])


def through_tunnel(study, url: str) -> str:
    """`url` with its scheme and host:port replaced by the tunnel's local end (study.url)."""
    parts = urlsplit(url)
    assert parts.netloc == f"127.0.0.1:{study.port}", url  # the node's own address
    return study.url + urlunsplit(("", "", parts.path, parts.query, parts.fragment))


def log_in(page, inst, email: str, password: str) -> None:
    page.goto(inst.url + "/user/login/")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', password)
    page.click('button[type="submit"]')
    page.wait_for_url(lambda url: "/user/login" not in url)


def whoami(page, inst) -> str:
    """The email of the session's user, asked with the page's own cookies."""
    response = page.request.get(inst.url + "/api/current-user/whoami")
    assert response.ok, response.status
    return response.json()["email"]


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_annotator_annotates_a_task_and_export_has_exactly_it(study, page, tmp_path):
    shot = Shots(page, tmp_path, "annotate")
    password = (study.credentials_dir / "annotators" / "annotator1").read_text().strip()

    page.goto(study.url + "/user/login/")
    shot("login-form")
    log_in(page, study, "a1@example.org", password)
    assert whoami(page, study) == "a1@example.org"
    shot("logged-in")

    page.goto(study.url + "/projects/")
    page.get_by_text("RRS: annotator1", exact=True).click()
    page.wait_for_url("**/projects/*/data**")
    shot("project")

    # The first task of the data manager's table, opened in the labeling UI.
    page.locator(".lsf-table__row-wrapper").first.click()
    labels = page.locator(".lsf-label", has_text=OMISSION)
    labels.first.wait_for()
    shot("task-open")

    # Omission label of candidate 0 (the first of four identical label sets), then a word of
    # reference0 (the first Text view) selected by double-click.
    labels.first.click()
    shot("label-chosen")
    reference0 = page.locator(".lsf-htx-richtext").first
    word = first_word_box(reference0)
    page.mouse.dblclick(word["x"], word["y"])
    # The region list shows the new span with its label.
    page.locator(".lsf-outliner-item", has_text=OMISSION).wait_for()
    shot("span-marked")

    # Choices ticked by the text annotators read (candidate 0's are the first of four sets).
    # "5. Other ..." shows its TextArea (visibleWhen names the choice by its alias).
    other = page.locator('[name="errors-candidate0-other"]')
    assert not other.is_visible()  # hidden (possibly present in the page) until "5." is ticked
    page.get_by_text(SEVERITY).first.click()
    page.get_by_text(OTHER).first.click()
    other.wait_for()
    other.fill(OTHER_TEXT)
    other.press("Enter")
    shot("choices-ticked")

    # A one-line TextArea keeps its text once Enter adds it (the value is not read while typed).
    duration = page.locator('input[name="duration-minutes"]')
    duration.fill(DURATION)
    duration.press("Enter")
    shot("duration-filled")

    with page.expect_response(lambda r: r.request.method == "POST" and "/annotations" in r.url) as saved:
        page.get_by_role("button", name="Submit current annotation").click()
    assert saved.value.status == 201, saved.value.text()
    # exact: a screen-reader copy of the toast ("Notification Annotation saved ...") also matches.
    page.get_by_text("Annotation saved successfully", exact=True).wait_for()
    shot("submitted")

    exports = tmp_path / "exports"
    study.playbook("export.yml", {"study_export_dir": str(exports), "study_export_date": DATE}).assert_ok()
    rows = [r for r in read_csv(exports / f"{DATE}-annotations.csv")
            if r["annotator"] == "annotator1" or r["annotator_email"] == "a1@example.org"]
    got = sorted((r["annotator"], r["annotator_email"], r["control"], r["to_name"], r["kind"],
                  r["value"], r["span_text"]) for r in rows)
    assert got == sorted([
        ("annotator1", "a1@example.org", "candidate0-labels-omissions", "reference0", "span",
         OMISSION_VALUE, word["word"]),
        ("annotator1", "a1@example.org", "candidate0-errors", "candidate0", "choice", SEVERITY, ""),
        ("annotator1", "a1@example.org", "candidate0-errors", "candidate0", "choice", OTHER_VALUE, ""),
        ("annotator1", "a1@example.org", "errors-candidate0-other", "candidate0", "text", OTHER_TEXT,
         ""),
        ("annotator1", "a1@example.org", "duration-minutes", "reference0", "text", DURATION, ""),
    ]), rows
    assert len({r["task_id"] for r in rows}) == 1 and len({r["annotation_id"] for r in rows}) == 1
    # Candidate 0's answers name the model that wrote candidate0 of that report (order[0]); the
    # span carries the region id the labeling UI gave it.
    order = {str(report["id"]): report["order"]
             for report in json.loads((REPO / "files/study/reports.json").read_text())}
    assert {r["model"] for r in rows if r["control"] != "duration-minutes"} == {
        order[rows[0]["study_id"]][0]}
    assert [r["model"] for r in rows if r["control"] == "duration-minutes"] == [""]
    assert all(r["region_id"] for r in rows if r["kind"] == "span")
    # The annotator's own JSON_MIN file holds the original study's values.
    (record,) = [r for r in json.loads((exports / f"{DATE}-annotator1.json").read_text())
                 if r.get("annotation_id")]
    assert [span["labels"] for span in record["candidate0-labels-omissions"]] == [[OMISSION_VALUE]]
    assert record["candidate0-errors"] == {"choices": [SEVERITY, OTHER_VALUE]}
    assert record["errors-candidate0-other"] == OTHER_TEXT


def first_word_box(text_view) -> dict:
    """Centre of the first word of a Text view, found with a DOM Range (the word's own box)."""
    text_view.wait_for()
    return text_view.evaluate("""(root) => {
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const match = /\\S+/.exec(node.textContent);
            if (!match) continue;
            const range = document.createRange();
            range.setStart(node, match.index);
            range.setEnd(node, match.index + match[0].length);
            const box = range.getBoundingClientRect();
            return {x: box.x + box.width / 2, y: box.y + box.height / 2, word: match[0]};
        }
        return null;
    }""")


def test_signup_needs_the_invite_link(study, page, tmp_path):
    shot = Shots(page, tmp_path, "signup")
    page.goto(study.url + "/user/signup/")
    page.fill('input[name="email"]', "stranger@example.org")
    page.fill('input[name="password"]', "Str4nger-pw!")
    shot("signup-without-link")
    response = submit(page)
    shot("refused")
    assert response.status == 403
    assert "not permitted" in page.inner_text("body")
    assert whoami_status(page, study) in (401, 403)
    assert "stranger@example.org" not in emails(study)

    # The link names the node's address (label_studio_url, http://127.0.0.1:NODE_PORT): it is
    # what annotators open through their tunnel, whose local port equals the node's port by
    # default (label_studio_tunnel_local_port defaults to label_studio_port). This tunnel uses
    # another local port, so the browser gets the link with the tunnel's local end in it.
    link = (study.credentials_dir / "invite-link").read_text().strip()
    page.goto(through_tunnel(study, link))
    page.fill('input[name="email"]', "invited@example.org")
    page.fill('input[name="password"]', "Inv1ted-pw!")
    shot("signup-with-link")
    submit(page)
    page.wait_for_url(lambda url: "/user/signup" not in url)
    shot("signed-up")
    assert whoami(page, study) == "invited@example.org"
    assert "invited@example.org" in emails(study)


def submit(page):
    with page.expect_navigation() as nav:
        page.click('button[type="submit"]')
    return nav.value


def emails(inst) -> set[str]:
    return {user["email"] for user in inst.api("GET", "/api/users/")}


def whoami_status(page, inst) -> int:
    return page.request.get(inst.url + "/api/current-user/whoami").status
