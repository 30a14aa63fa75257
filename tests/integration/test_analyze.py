"""playbooks/analyze.yml end to end (issue 14 part B): annotations submitted through Label
Studio's API, export.yml, analyze.yml, numbers checked against hand-computed values, a re-run
that changes nothing, and the report opened in Chromium with no request leaving the page.

Runs on the session-shared server in three projects of its own ("Analysis: reader_x"), with a
label config in the original study's shape (aliases 1a.., "3. ...", alias "other") but two
candidates: nothing in the analysis may assume four.
"""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from support.playbook import REPO

DATE = "20261128"
PREFIX = "Analysis: "
READERS = ["reader_a", "reader_b", "reader_c"]
LOC = "3. Incorrect location/position of finding"
SEV = "4. Incorrect severity of finding"
OTHER = "5. Other difference between candidate and reference (please describe)"
ARTIFACTS = REPO / "artifacts/analysis"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def label_config() -> str:
    parts = ["<View>"]
    for i in range(2):
        parts.append(f"""
  <Header value="Candidate {i + 1}"/>
  <Text name="reference{i}" value="$impression" granularity="word"/>
  <Labels name="candidate{i}-labels-omissions" toName="reference{i}">
    <Label value="1a. Finding/interpretation" alias="1a"/>
    <Label value="1b. Comparison" alias="1b"/>
  </Labels>
  <Text name="candidate{i}" value="$candidate{i}" granularity="word"/>
  <Labels name="candidate{i}-labels-additions" toName="candidate{i}">
    <Label value="2a. Finding/interpretation" alias="2a"/>
    <Label value="2b. Comparison" alias="2b"/>
  </Labels>
  <Choices name="candidate{i}-errors" toName="candidate{i}" choice="multiple">
    <Choice value="{LOC}"/>
    <Choice value="{SEV}"/>
    <Choice value="{OTHER}" alias="other"/>
  </Choices>
  <View visibleWhen="choice-selected" whenTagName="candidate{i}-errors" whenChoiceValue="{OTHER}">
    <TextArea name="errors-candidate{i}-other" toName="candidate{i}" maxSubmissions="1" editable="true"/>
  </View>""")
    parts.append('\n  <TextArea name="duration-minutes" toName="reference0" maxSubmissions="1" editable="true"/>\n</View>\n')
    return "".join(parts)


REPORTS = [
    {"id": 101, "impression": "Left effusion. Mild edema.", "candidate0": "Right effusion.",
     "candidate1": "No change.", "order": ["mA", "mB"]},
    {"id": 102, "impression": "Clear lungs.", "candidate0": "Clear.", "candidate1": "Severe edema.",
     "order": ["mB", "mA"]},
    {"id": 103, "impression": "Stable nodule.", "candidate0": "Nodule.", "candidate1": "New nodule.",
     "order": ["mA", "mB"]},
    {"id": 104, "impression": "Normal.", "candidate0": "Normal.", "candidate1": "Normal.",
     "order": ["mA", "mB"]},
]
SHEET = [["id", "batch", "a1", "a2"], [101, "b1", "all", None], [102, "b1", "all", None],
         [103, "b1", "reader_a", "reader_b"], [104, "b2", "reader_a", None]]


def span(control, to, start, end, label):
    return {"from_name": control, "to_name": to, "type": "labels",
            "value": {"start": start, "end": end, "text": "x" * (end - start), "labels": [label]}}


def choices(i, *values):
    return {"from_name": f"candidate{i}-errors", "to_name": f"candidate{i}", "type": "choices",
            "value": {"choices": list(values)}}


def text(control, to, value):
    return {"from_name": control, "to_name": to, "type": "textarea", "value": {"text": [value]}}


def minutes(value):
    return text("duration-minutes", "reference0", value)


# Per reader and report: the annotations (in submission order) as result lists.
ANNOTATIONS = {
    "reader_a": {101: [[span("candidate0-labels-omissions", "reference0", 0, 14, "1a"), choices(0, LOC), minutes("5")]],
                 102: [[choices(1, SEV), minutes("2")]],
                 103: [[span("candidate1-labels-additions", "candidate1", 0, 5, "2b"), minutes("1")]],
                 104: [[minutes("9")]]},
    "reader_b": {101: [[span("candidate0-labels-omissions", "reference0", 0, 14, "1a"), choices(0, LOC, "other"),
                        text("errors-candidate0-other", "candidate0", "=wrong side"), minutes("7 min")]],
                 102: [[choices(1, SEV), minutes("4")]]},
    "reader_c": {101: [[span("candidate0-labels-omissions", "reference0", 0, 4, "1a"),
                        span("candidate1-labels-additions", "candidate1", 0, 2, "2a"), minutes("3")]],
                 # Two annotations of one report in one project: the later one (no errors) counts.
                 102: [[choices(1, SEV), minutes("9")], [minutes("6")]]},
}


@pytest.fixture(scope="module")
def analysis(server, tmp_path_factory):
    work = tmp_path_factory.mktemp("analysis")
    (work / "label-config.xml").write_text(label_config())
    (work / "reports.json").write_text(json.dumps(REPORTS))
    book = openpyxl.Workbook()
    for row in SHEET:
        book.active.append(row)
    book.save(work / "assignments.xlsx")
    variables = {"study_annotators": READERS, "study_project_prefix": PREFIX,
                 "study_label_config": str(work / "label-config.xml"),
                 "study_reports": str(work / "reports.json"),
                 "study_assignments": str(work / "assignments.xlsx"),
                 "study_task_files_dir": str(work / "tasks"), "study_export_dir": str(work / "exports"),
                 "study_export_date": DATE, "study_api_wait_seconds": 3}
    for name in READERS:
        server.api("POST", "/api/projects/", {"title": PREFIX + name, "label_config": label_config()})
    server.playbook("playbooks/assign.yml", {**variables, "batch": "all"}).assert_ok()
    projects = {p["title"]: p["id"] for p in server.api("GET", "/api/projects/?page_size=1000")["results"]}
    for name in READERS:
        tasks = server.api("GET", f"/api/tasks/?project={projects[PREFIX + name]}&page_size=100"
                                  "&fields=task_only&include=id,data")["tasks"]
        by_report = {t["data"]["study_id"]: t["id"] for t in tasks}
        for report, results in ANNOTATIONS[name].items():
            for result in results:
                server.api("POST", f"/api/tasks/{by_report[report]}/annotations/", {"result": result})
    server.playbook("export.yml", variables).assert_ok()
    run = server.playbook("playbooks/analyze.yml", variables).assert_ok()
    return {"work": work, "vars": variables, "dir": work / "exports" / f"{DATE}-analysis", "run": run}


def rows(analysis, name):
    with open(analysis["dir"] / f"{name}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_numbers_match_the_hand_computation(analysis):
    out = analysis["dir"]
    assert oct(out.stat().st_mode & 0o777) == "0o700"
    assert {p.name for p in out.iterdir()} == {
        "agreement.csv", "errors-exact.csv", "errors-relaxed.csv", "errors-majority.csv", "alpha.csv",
        "groups.csv", "durations.csv", "annotators.csv", "completeness.csv", "problems.csv",
        "analysis.xlsx", "report.html"}
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in out.iterdir())
    # Only b1 is analysed by default: b2's report has one annotator.
    assert {r["batch"] for r in rows(analysis, "agreement")} == {"b1"}

    agreement = {(r["kind"], r["label"]): (r["pairs"], r["f1"]) for r in rows(analysis, "agreement")}
    # Omissions: report 101's three spans overlap (EXTEND) and widen to [0, 14): all pairs agree.
    assert agreement[("omissions", "all")] == ("3", "1.0")
    assert agreement[("omissions", "1a")] == ("3", "1.0")
    assert agreement[("omissions", "1b")] == ("0", "")
    # Additions: position 1 = {103 2b}, 2 = {}, 3 = {101 2a}: (1,2) 0, (1,3) 0, (2,3) undefined.
    assert agreement[("additions", "all")] == ("2", "0.0")
    assert agreement[("additions", "2a")] == ("0", "")
    assert agreement[("additions", "2b")] == ("2", "0.0")

    groups = {(r["kind"], r["type"]): (r["groups"], r["reports"]) for r in rows(analysis, "groups")}
    assert groups[("omissions", "EXTEND")] == ("1", "1")
    assert groups[("additions", "SINGLE")] == ("2", "2")
    assert groups[("omissions", "ACCEPT")] == groups[("additions", "REVIEW")] == ("0", "0")

    def table(vote):
        return {(r["category"], r["model"]): (r["count"], r["percent"]) for r in rows(analysis, f"errors-{vote}")}

    exact, relaxed, majority = table("exact"), table("relaxed"), table("majority")
    # Units per model: (101, 102, 103); 102 shows mB first. mA: 101 has location (2 of 3) and
    # one other-text; 102 (its candidate1) has severity from two of three (reader_c's later
    # answer has none).
    assert exact[(LOC, "mA")] == ("1", "33.33") and exact[("other", "mA")] == ("1", "33.33")
    assert exact[("No Error", "mA")] == ("1", "33.33") and exact[("1a", "mA")] == ("0", "0.0")
    assert exact[(SEV, "mA")] == ("1", "33.33") and exact[(SEV, "mB")] == ("0", "0.0")
    # 103 has one annotator: her 2b is unanimous.
    assert exact[("2b", "mB")] == ("1", "33.33") and exact[("Total Additions", "mB")] == ("1", "33.33")
    assert relaxed[("1a", "mA")] == ("1", "33.33") and relaxed[("Total Omissions", "mA")] == ("1", "33.33")
    assert majority[("1a", "mA")] == ("1", "33.33")
    assert majority[("2a", "mB")] == ("0", "0.0") and majority[("No Error", "mB")] == ("3", "100.0")

    alpha = {r["errors"]: (r["units"], r["alpha"]) for r in rows(analysis, "alpha")}
    assert list(alpha) == ["all", LOC, SEV, "No Error"]
    assert alpha[LOC] == ("4", "0.45")          # 1 - 11 * 2 / (2 * 2 * 10)
    assert alpha[SEV] == ("4", "0.45")          # 1 - 11 * 2 / (2 * 2 * 10)
    assert alpha["all"] == ("4", "0.3889")      # 1 - 11 * 4 / 72 (MASI = 1 between these sets)
    assert alpha["No Error"] == ("4", "0.3125")  # 1 - 11 * 4 / (2 * 8 * 4)

    durations = {r["annotator"]: r for r in rows(analysis, "durations")}
    assert [durations["all"][k] for k in ("reports", "answered", "mean", "median", "min", "max", "total")] == \
        ["7", "7", "4.0", "4.0", "1", "7", "28"]
    assert durations["reader_a"]["mean"] == "2.67"

    done = {r["annotator"]: (r["assigned"], r["completed"]) for r in rows(analysis, "completeness")}
    assert done == {"reader_a": ("3", "3"), "reader_b": ("3", "2"), "reader_c": ("2", "2"),
                    "reports with all their annotators": ("3", "2")}
    checks = {(r["check"], r["where"]) for r in rows(analysis, "problems")}
    assert checks == {("fewer annotators than assigned", "report 103"),
                      ("two annotations by one annotator", "reader_c report 102"),
                      ("short span", "reader_c report 101 candidate1-labels-additions [0, 2)")}
    counts = {(r["annotator"], r["category"]): r["count"] for r in rows(analysis, "annotators")}
    assert counts[("reader_b", "other")] == "1" and counts[("reader_a", LOC)] == "1"
    assert counts[("reader_a", SEV)] == "1"

    book = openpyxl.load_workbook(out / "analysis.xlsx", read_only=True)
    assert book.sheetnames[:3] == ["agreement", "errors-exact", "errors-relaxed"]
    # No report text and no other-text anywhere (the other-text even looks like a formula).
    for path in out.glob("*.csv"):
        content = path.read_text()
        assert "wrong side" not in content and "effusion" not in content
    page = (out / "report.html").read_text()
    assert "effusion" not in page and "wrong side" not in page


def test_a_rerun_changes_nothing_and_a_wrong_batch_fails_clearly(analysis):
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in analysis["dir"].iterdir()}
    server_vars = analysis["vars"]
    from support.playbook import run_playbook
    run_playbook("playbooks/analyze.yml", server_vars).assert_unchanged()
    run_playbook("playbooks/analyze.yml", server_vars, check=True).assert_unchanged()
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in analysis["dir"].iterdir()} == before
    bad = run_playbook("playbooks/analyze.yml", {**server_vars, "batch": "b9"})
    assert bad.returncode != 0 and "batch b9: not in" in bad.output and "b1, b2" in bad.output
    shown = run_playbook("playbooks/analyze.yml", {**server_vars, "batch": "b2", "analysis_show_text": True})
    shown.assert_ok()
    assert "Normal." in (analysis["dir"] / "report.html").read_text()
    run_playbook("playbooks/analyze.yml", server_vars).assert_ok()  # back to the default page


def test_the_report_opens_offline_in_chromium(analysis):
    # Imported here, not skipped when missing: tests/requirements.txt installs it (as for
    # test_browser.py), so a missing playwright fails this test rather than hide it.
    from playwright import sync_api
    page_path = analysis["dir"] / "report.html"
    requests: list[str] = []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1300, "height": 1000})

            def hook(route):
                requests.append(route.request.url)
                if route.request.url.startswith("file://"):
                    route.continue_()
                else:
                    route.abort()

            context.route("**/*", hook)
            page = context.new_page()
            page.goto(page_path.as_uri())
            page.wait_for_selector("svg")
            assert page.locator("svg").count() == 2 + 3 + 2
            assert "Span agreement" in page.inner_text("body")
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        finally:
            browser.close()
    assert requests and all(url.startswith("file://") for url in requests), requests
    assert (ARTIFACTS / "report.png").stat().st_size > 10000
