"""The analysis (issue 14 part B) on hand-built span sets, with hand-computed expectations.

The label config here is built in the original study's shape (aliases 1a.., "3. ...", alias
"other" opening a text box) but with two candidates and two labels per kind, so nothing may
depend on the shipped config's four candidates.
"""
from __future__ import annotations

import csv
import io

import pytest

from ansible.module_utils.study_analysis_agreement import mean_f1, pair_f1
from ansible.module_utils.study_analysis_alpha import alpha, masi, nominal
from ansible.module_utils.study_analysis_config import read_scheme
from ansible.module_utils.study_analysis_files import csv_bytes, safe_cell
from ansible.module_utils.study_analysis_groups import (
    ACCEPT, EXTEND, REVIEW, SINGLE, group_type, make_groups, typed_groups)
from ansible.module_utils.study_analysis_html import render
from ansible.module_utils.study_analysis_records import first_integer, read_exports
from ansible.module_utils.study_analysis_tables import COLUMNS, analyze, default_batches
from ansible.module_utils.study_analysis_votes import group_votes, unit_counts

LOCATION = "3. Incorrect location/position of finding"
SEVERITY = "4. Incorrect severity of finding"


def label_config(candidates=2):
    parts = ["<View>"]
    for i in range(candidates):
        parts.append(f"""
  <Header value="Candidate {i + 1}"/>
  <Text name="reference{i}" value="$impression"/>
  <Labels name="candidate{i}-labels-omissions" toName="reference{i}">
    <Label value="1a. Finding/interpretation" alias="1a"/>
    <Label value="1b. Comparison" alias="1b"/>
  </Labels>
  <Text name="candidate{i}" value="$candidate{i}"/>
  <Labels name="candidate{i}-labels-additions" toName="candidate{i}">
    <Label value="2a. Finding/interpretation" alias="2a"/>
    <Label value="2b. Comparison" alias="2b"/>
  </Labels>
  <Choices name="candidate{i}-errors" toName="candidate{i}" choice="multiple">
    <Choice value="{LOCATION}"/>
    <Choice value="{SEVERITY}"/>
    <Choice value="5. Other difference (please describe)" alias="other"/>
  </Choices>
  <View visibleWhen="choice-selected" whenTagName="candidate{i}-errors" whenChoiceValue="5. Other difference (please describe)">
    <TextArea name="errors-candidate{i}-other" toName="candidate{i}" maxSubmissions="1"/>
  </View>""")
    parts.append('<TextArea name="duration-minutes" toName="reference0"/></View>')
    return "".join(parts)


SCHEME = read_scheme(label_config())


def test_the_scheme_is_read_from_the_label_config():
    assert SCHEME.candidates == [0, 1]
    assert SCHEME.labels == {"omissions": ["1a", "1b"], "additions": ["2a", "2b"]}
    assert SCHEME.errors == [LOCATION, SEVERITY]
    assert SCHEME.other_texts == {0: ["errors-candidate0-other"], 1: ["errors-candidate1-other"]}
    assert read_scheme(label_config(5)).candidates == [0, 1, 2, 3, 4]


def test_the_shipped_config_is_understood_too():
    from pathlib import Path
    text = (Path(__file__).resolve().parents[2] / "files/study/label-config.xml").read_text()
    scheme = read_scheme(text)
    assert scheme.candidates == [0, 1, 2, 3]
    assert len(scheme.labels["omissions"]) == 4 and len(scheme.labels["additions"]) == 5
    assert len(scheme.errors) == 2  # the third choice opens the other-text


# --- groups -------------------------------------------------------------------------------

def test_every_group_type():
    spans = [
        (0, 5, "1a", "ann"),                                   # alone: SINGLE
        (10, 20, "1a", "ann"), (10, 20, "1b", "bob"),          # same offsets: ACCEPT
        (30, 40, "1a", "ann"), (32, 45, "1a", "bob"),          # overlapping, one each: EXTEND
        (50, 60, "1a", "ann"), (52, 55, "1a", "bob"), (56, 58, "1a", "bob"),  # bob twice: REVIEW
        (60, 62, "1a", "bob"),                                  # starts at the running end: new group
    ]
    groups = typed_groups(spans)
    assert [kind for kind, _m, _w in groups] == [SINGLE, ACCEPT, EXTEND, REVIEW, SINGLE]
    extend = groups[2]
    assert extend[2] == [(30, 45, "1a", "ann"), (30, 45, "1a", "bob")]
    assert groups[3][2] == groups[3][1]  # only EXTEND is widened


def test_a_group_grows_with_its_running_end():
    # The third span starts before the end of the first (not of the second): same group.
    groups = make_groups([(0, 100, "1a", "a"), (10, 20, "1a", "b"), (50, 60, "1a", "c")])
    assert len(groups) == 1
    assert group_type(groups[0]) == EXTEND


def test_one_annotator_with_two_overlapping_spans_is_single():
    assert group_type([(0, 10, "1a", "a"), (5, 12, "1b", "a")]) == SINGLE


# --- agreement ----------------------------------------------------------------------------

def test_pair_f1_and_undefined_when_the_first_is_empty():
    a = {(0, 1, "x"), (2, 3, "x")}
    assert pair_f1(a, {(0, 1, "x")}) == pytest.approx(2 * 1.0 * 0.5 / 1.5)
    assert pair_f1(set(), a) is None
    assert pair_f1(a, set()) == 0.0
    assert pair_f1(a, {(9, 9, "x")}) == 0.0


def test_mean_over_pairs_skips_undefined_pairs():
    # Three positions; position 1 marked nothing: pairs (1,2) and (1,3) are undefined.
    pools = {1: set(), 2: {(0, 1, "1a")}, 3: {(0, 1, "1a"), (4, 5, "1b")}}
    assert mean_f1(pools) == (1, pytest.approx(2 / 3))
    assert mean_f1(pools, "1a") == (1, 1.0)
    assert mean_f1(pools, "1b") == (0, None)   # only position 3 marked 1b: A always empty
    assert mean_f1({1: set(), 2: set()}) == (0, None)


# --- votes --------------------------------------------------------------------------------

def test_exact_relaxed_and_majority_votes():
    names = ["a", "b", "c"]
    same = [(0, 5, "1a", n) for n in names]
    assert group_votes(same, same, names) == {
        "exact": {"1a": 1}, "relaxed": {"1a": 1}, "majority": {"1a": 1}}
    marked = [(0, 5, "1a", "a"), (2, 6, "1a", "b"), (1, 5, "1a", "c")]
    wide = [(0, 6, "1a", n) for n in names]
    assert group_votes(marked, wide, names) == {
        "exact": {}, "relaxed": {"1a": 1}, "majority": {"1a": 1}}
    # Two of three annotators: no exact or relaxed vote, but a majority of 1.
    two = [(0, 5, "1a", "a"), (0, 5, "1a", "b")]
    assert group_votes(two, two, names) == {"exact": {}, "relaxed": {}, "majority": {"1a": 1}}
    # a marks 1a twice, b twice, c once: the largest count two annotators reach is 2.
    review = [(0, 5, "1a", "a"), (6, 9, "1a", "a"), (0, 3, "1a", "b"), (4, 9, "1a", "b"),
              (0, 9, "1b", "c")]
    assert group_votes(review, review, names)["majority"] == {"1a": 2}


def test_errors_need_more_than_half_and_other_counts_writers():
    names = ["a", "b", "c", "d"]
    errors = {"a": {LOCATION, SEVERITY}, "b": {LOCATION}, "c": {LOCATION}, "d": {SEVERITY}}
    counts = unit_counts({}, errors, 2, names, [LOCATION, SEVERITY])
    # location 3 of 4 (> half); severity 2 of 4 (not more than half); two wrote an other-text.
    assert counts["exact"] == {LOCATION: 1, "other": 2}
    assert counts["majority"] == counts["relaxed"] == counts["exact"]


# --- alpha --------------------------------------------------------------------------------

def test_alpha_textbook_nominal_example():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 coders, 12 units,
    # missing values; nominal alpha = 0.743.
    n = None
    coders = [[1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n],
              [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
              [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n],
              [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n]]
    assert alpha(list(zip(*coders))) == pytest.approx(0.743, abs=5e-4)


def test_alpha_textbook_binary_example():
    # Same paper, two coders, binary data: alpha = 0.095.
    units = list(zip([0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]))
    assert alpha(units) == pytest.approx(0.095, abs=5e-4)


def test_alpha_hand_computed_and_undefined():
    # Units (x,x), (x,y), (y,y): o_xx=2, o_xy=o_yx=1, o_yy=2, n=6, n_x=n_y=3.
    # alpha = 1 - (n-1) * (o_xy+o_yx) / (n_x*n_y*2) = 1 - 5*2/18 = 4/9.
    assert alpha([["x", "x"], ["x", "y"], ["y", "y"]]) == pytest.approx(4 / 9)
    assert alpha([["x", "x"], ["x", "x"]]) is None       # no expected disagreement
    assert alpha([["x"], ["y", None]]) is None           # nothing pairable


def test_masi_distance():
    assert masi({"3"}, {"3"}) == 0.0
    assert masi({"3"}, {"3", "4"}) == pytest.approx(1 - 0.5 * 2 / 3)
    assert masi({"3", "5"}, {"3", "4"}) == pytest.approx(1 - (1 / 3) * (1 / 3))
    assert masi({"3"}, {"No Error"}) == 1.0
    # With MASI, alpha over units (A,A), (A,AB): o_AA=2, o_A,AB=o_AB,A=1, n=4, n_A=3, n_AB=1;
    # d = 2/3 ; alpha = 1 - 3 * (2 * 2/3) / (2 * 3 * 1 * 2/3) = 1 - 4/4 = 0.
    a, ab = frozenset("A"), frozenset("AB")
    assert alpha([[a, a], [a, ab]], masi) == pytest.approx(0.0)
    assert nominal(1, 1) == 0.0


# --- records and the whole analysis -----------------------------------------------------

def item(report, annotation, batch="b1", order=("m1", "m2"), **controls):
    record = {"study_id": report, "batch": batch, "id": annotation, "order": list(order),
              "impression": "IMPRESSION-TEXT-%d" % report, "annotator": 1, "annotation_id": annotation,
              "updated_at": "2026-11-27T10:00:%02dZ" % (annotation % 60)}
    record.update(controls)
    return record


def region(start, end, *labels):
    return {"start": start, "end": end, "text": "SPAN-TEXT-%d-%d" % (start, end), "labels": list(labels)}


# Report 2 shows its candidates the other way round: candidate0 is m2, candidate1 is m1.
SWAPPED = ("m2", "m1")


def study():
    """Two reports, three annotators (ann, bob, cid); report 2 lacks cid."""
    ann = [
        item(1, 1, **{"candidate0-labels-omissions": [region(0, 10, "1a")],
                      "candidate0-labels-additions": [region(0, 4, "2a")],
                      "candidate1-errors": {"choices": [LOCATION, "other"]},
                      "errors-candidate1-other": "wrong side", "duration-minutes": "about 5 min"}),
        item(2, 2, order=SWAPPED, **{"candidate1-labels-omissions": [region(3, 9, "1b")],
                                     "candidate1-errors": LOCATION, "duration-minutes": "3"}),
    ]
    bob = [
        item(1, 11, **{"candidate0-labels-omissions": [region(0, 10, "1a")],
                       "candidate0-labels-additions": [region(1, 6, "2a")],
                       "candidate1-errors": {"choices": [LOCATION, "other"]},
                       "errors-candidate1-other": "too vague", "duration-minutes": "7"}),
        # Two annotations of report 2: 10 was submitted last (updated_at), though it has the
        # smaller id and comes first in the export, so 10 is used.
        item(2, 10, order=SWAPPED, updated_at="2026-11-27T10:00:59Z",
             **{"candidate1-errors": LOCATION, "duration-minutes": "1"}),
        item(2, 12, order=SWAPPED,
             **{"candidate1-labels-omissions": [region(3, 9, "1b"), region(20, 22, "1a")]}),
    ]
    cid = [
        item(1, 21, **{"candidate0-labels-omissions": [region(0, 10, "1a")],
                       "candidate0-labels-additions": [region(2, 5, "2b")],
                       "candidate1-errors": {"choices": [SEVERITY]}, "duration-minutes": "n/a"}),
        {"study_id": 3, "batch": "b1", "id": 30, "annotator": None, "annotation_id": None},
    ]
    return [("ann", ann), ("bob", bob), ("cid", cid)]


ASSIGNED = {"b1": {1: ["ann", "bob", "cid"], 2: ["ann", "bob", "cid"], 3: ["cid"]},
            "b2": {9: ["ann"]}}


def test_records_keep_the_last_annotation_and_report_checks():
    annotations, problems = read_exports(study(), SCHEME, "study_id")
    assert [(a["report"], a["annotator"], a["annotation"]) for a in annotations] == [
        (1, "ann", 1), (1, "bob", 11), (1, "cid", 21), (2, "ann", 2), (2, "bob", 10)]
    assert [a["minutes"] for a in annotations] == [5, 7, None, 3, 1]
    first = annotations[0]["candidates"]
    assert first[0]["model"] == "m1" and first[1]["model"] == "m2"
    # Each report's own order: in report 2 candidate1 is m1.
    swapped = annotations[3]["candidates"]
    assert swapped[0]["model"] == "m2" and swapped[1]["model"] == "m1"
    assert swapped[1]["errors"] == {LOCATION} and swapped[0]["errors"] == set()
    assert first[1]["errors"] == {LOCATION} and first[1]["other"] is True
    checks = sorted((p["check"], p["where"]) for p in problems)
    assert checks == [("short span", "bob report 2 candidate1-labels-omissions [20, 22)"),
                      ("two annotations by one annotator", "bob report 2")]
    assert "used annotation 10" in [p for p in problems if p["check"].startswith("two")][0]["detail"]


def test_first_integer():
    assert first_integer("about 5-6 min") == 5
    assert first_integer("n/a") is None
    assert first_integer(None) is None


def table(tables, name, **where):
    return [row for row in tables[name] if all(row[k] == v for k, v in where.items())]


def test_the_whole_analysis_by_hand():
    annotations, problems = read_exports(study(), SCHEME, "study_id")
    assert default_batches(ASSIGNED) == ["b1"]
    tables = analyze(annotations, SCHEME, ASSIGNED, ["b1"], problems)
    assert set(tables) == set(COLUMNS)

    # Omissions: report 1 m1: 1a [0,10) by all three (ACCEPT). Report 2 m2: ann 1b [3,9)
    # SINGLE... bob's used annotation (13) has no spans. Positions: report 1 ann=1, bob=2,
    # cid=3; report 2 ann=1, bob=2. Pools: 1={r1 1a, r2 1b}, 2={r1 1a}, 3={r1 1a}.
    # Pairs: (1,2): P=1/1, R=1/2 -> 2/3; (1,3): 2/3; (2,3): 1. Mean = 7/9.
    row = table(tables, "agreement", kind="omissions", label="all")[0]
    assert (row["pairs"], row["f1"]) == (3, round(7 / 9, 4))
    row = table(tables, "agreement", kind="omissions", label="1b")[0]
    assert (row["pairs"], row["f1"]) == (2, 0.0)    # (1,2), (1,3): B empty -> 0; (2,3) undefined
    # Additions, report 1 m1: ann 2a [0,4), bob 2a [1,6), cid 2b [2,5): EXTEND -> all [0,6).
    # Pools 1={[0,6) 2a}, 2={[0,6) 2a}, 3={[0,6) 2b}: (1,2)=1, (1,3)=0, (2,3)=0 -> 1/3.
    row = table(tables, "agreement", kind="additions", label="all")[0]
    assert (row["pairs"], row["f1"]) == (3, round(1 / 3, 4))
    # Per label 2b: A empty for positions 1 and 2: no defined pair.
    row = table(tables, "agreement", kind="additions", label="2b")[0]
    assert (row["pairs"], row["f1"]) == (0, None)

    groups = dict(((r["kind"], r["type"]), (r["groups"], r["reports"])) for r in tables["groups"])
    assert groups[("omissions", ACCEPT)] == (1, 1)
    assert groups[("omissions", SINGLE)] == (1, 1)
    assert groups[("additions", EXTEND)] == (1, 1)
    assert groups[("additions", REVIEW)] == (0, 0)

    # Votes per (report, model); m1 is candidate0 in report 1 and candidate1 in report 2.
    # m1: r1 omissions 1a unanimous -> exact 1a=1; additions EXTEND: relaxed fails (labels
    #     differ), majority 2a: counts ann 1, bob 1, cid 0 -> 1.
    #     r2: 1b by ann only (k=2): no exact, majority 0; location 2 of 2 -> 1.
    # m2: r1 errors: location 2 of 3 -> 1; severity 1 of 3 -> 0; other: 2 writers (ann, bob).
    #     r2: nothing -> No Error.
    exact = dict(((r["category"], r["model"]), (r["count"], r["percent"])) for r in tables["errors-exact"])
    assert exact[("1a", "m1")] == (1, 50.0)
    assert exact[("2a", "m1")] == (0, 0.0)
    assert exact[("No Error", "m1")] == (0, 0.0)
    assert exact[(LOCATION, "m1")] == (1, 50.0)
    assert exact[(LOCATION, "m2")] == (1, 50.0)
    assert exact[(SEVERITY, "m2")] == (0, 0.0)
    assert exact[("other", "m2")] == (2, 50.0)  # two writers, in one of its two reports
    assert exact[("No Error", "m2")] == (1, 50.0)
    assert exact[("Total Omissions", "m1")] == (1, 50.0)
    majority = dict(((r["category"], r["model"]), r["count"]) for r in tables["errors-majority"])
    assert majority[("2a", "m1")] == 1 and majority[("Total Additions", "m1")] == 1
    assert [r["category"] for r in tables["errors-exact"] if r["model"] == "m1"] == [
        "No Error", "1a", "1b", "2a", "2b", LOCATION, SEVERITY, "other", "Total Omissions",
        "Total Additions"]

    # Alpha units: (r1,c0): all {No Error}; (r1,c1): {L}, {L}, {S}; (r2,c0): NE, NE; (r2,c1): {L}, {L}.
    # Binary severity: units (F,F,F) (F,F,T) (F,F) (F,F): values F=9, T=1, n=10;
    # o_FT = o_TF = 2*1/2 = 1 -> alpha = 1 - 9 * 2 / (2 * 9 * 1) = 0.
    alphas = dict((r["errors"], (r["units"], r["alpha"])) for r in tables["alpha"])
    assert alphas[SEVERITY] == (4, 0.0)
    assert list(alphas) == ["all", LOCATION, SEVERITY, "No Error"]

    durations = dict((r["annotator"], r) for r in tables["durations"])
    assert (durations["all"]["reports"], durations["all"]["answered"], durations["all"]["mean"]) == (5, 4, 4.0)
    assert durations["cid"]["answered"] == 0 and durations["cid"].get("mean") is None

    counts = dict(((r["annotator"], r["category"]), r["count"]) for r in tables["annotators"])
    assert counts[("ann", "1a")] == 1 and counts[("ann", "other")] == 1 and counts[("ann", "No Error")] == 1  # r2 candidate0 only
    assert counts[("bob", LOCATION)] == 2 and counts[("bob", "other")] == 1 and counts[("bob", "reports")] == 2

    done = dict((r["annotator"], (r["assigned"], r["completed"])) for r in tables["completeness"])
    assert done == {"ann": (2, 2), "bob": (2, 2), "cid": (3, 1),
                    "reports with all their annotators": (3, 1)}
    checks = [(p["check"], p["where"]) for p in tables["problems"]]
    assert ("fewer annotators than assigned", "report 2") in checks
    assert ("two annotations by one annotator", "bob report 2") in checks


def test_a_report_without_annotations_leaves_no_gap_and_empty_annotators_are_fine():
    tables = analyze([], SCHEME, ASSIGNED, ["b1"])
    assert all(r["f1"] is None and r["pairs"] == 0 for r in tables["agreement"])
    assert tables["errors-exact"] == []
    assert all(r["alpha"] is None for r in tables["alpha"])


def test_csv_cells_that_start_a_formula_are_neutralized():
    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell("-x") == "'-x" and safe_cell("@a") == "'@a" and safe_cell("\tx") == "'\tx"
    assert safe_cell(-1.5) == "-1.5" and safe_cell(3) == "3" and safe_cell(None) == ""
    rows = list(csv.reader(io.StringIO(csv_bytes(["a"], [{"a": "+cmd"}]).decode())))
    assert rows == [["a"], ["'+cmd"]]


def test_the_page_is_self_contained_and_has_no_report_text():
    annotations, problems = read_exports(study(), SCHEME, "study_id")
    tables = analyze(annotations, SCHEME, ASSIGNED, ["b1"], problems)
    page = render("t <x>", [("date", "20261127")], ["b1"], tables, COLUMNS)
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page and "<link" not in page and "url(" not in page
    assert "wrong side" not in page and "t &lt;x&gt;" in page
    # Neither the reports' text nor the annotated spans' text (the fixture's are distinctive).
    assert "IMPRESSION-TEXT" not in page and "SPAN-TEXT" not in page
    assert page.count("<svg") == 2 + 3 + 2
    shown = render("t", [], ["b1"], tables, COLUMNS, [("b1", 1, "secret <b>")])
    assert "secret &lt;b&gt;" in shown


def test_a_broken_export_names_the_file_and_the_item():
    from ansible.module_utils.study_analysis_records import RecordError
    broken = [{"study_id": 1, "id": 7, "annotation_id": 3, "order": "m1"}]
    with pytest.raises(RecordError, match=r"^x\.json: ann item 1 \(task 7, annotation 3\): field \"order\""):
        read_exports([("ann", broken)], SCHEME, "study_id", sources={"ann": "x.json"})
