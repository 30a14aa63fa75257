"""Concurrent annotators against one Label Studio: errors under load and writes lost afterwards.

Standard library only, so a bench script, a test or a throwaway script can use it as is.

    result = run_writers(url, token, task_ids, from_name="answer", to_name="text")
    print(result.summary())
    check = read_back(url, token, result)      # or lost_writes(url, token, result)

A write counts as *acknowledged* only when the server answered 201 with an annotation id: that is
the moment a real annotator's browser shows "submitted". A timeout or a dropped connection is not
acknowledged (the client cannot know whether the row exists) and is counted on its own; read_back
reports such rows if they turn out to be stored anyway.
"""
from __future__ import annotations

import http.client
import json
import secrets
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

LOCKED = "database is locked"
# The smallest config a writer can annotate: one text to point at, one free-text answer.
LABEL_CONFIG = '<View><Text name="text" value="$text"/><TextArea name="answer" toName="text"/></View>'
FROM_NAME, TO_NAME = "answer", "text"
# Error bodies can be whole HTML debug pages: keep only the start of a few of them.
SAMPLE_LIMIT, SAMPLE_CHARS = 5, 300

__all__ = ["Ack", "LoadResult", "ReadBack", "load_project", "lost_writes", "read_back", "run_writers"]


@dataclass(frozen=True)
class Ack:
    """One acknowledged write: what the server promised to keep."""
    writer: int
    task_id: int
    annotation_id: int
    text: str


@dataclass
class LoadResult:
    writers: int
    seconds: float  # wall time from the start until the last writer returned
    tag: str  # prefix of every text this run wrote (tells its rows from any other's)
    task_ids: list = field(default_factory=list)  # the tasks written to
    acknowledged: list = field(default_factory=list)  # [Ack]
    server_errors: int = 0  # HTTP 5xx
    database_locked: int = 0  # error bodies mentioning "database is locked" (any status)
    client_errors: int = 0  # HTTP 4xx
    connection_errors: int = 0  # refused, reset, closed without an answer
    timeouts: int = 0
    unexpected: int = 0  # any other answer: 2xx/3xx other than 201, or a 201 without an id
    latencies: list = field(default_factory=list)  # seconds, every request whatever its outcome
    samples: list = field(default_factory=list)  # a few error descriptions, for a post-mortem

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def errors(self) -> int:
        """Requests that did not end in an acknowledged write."""
        return self.requests - len(self.acknowledged)

    def summary(self) -> dict:
        ordered = sorted(self.latencies)
        return {
            "writers": self.writers,
            "seconds": round(self.seconds, 1),
            "requests": self.requests,
            "acknowledged": len(self.acknowledged),
            "writes_per_s": round(len(self.acknowledged) / self.seconds, 2) if self.seconds else 0.0,
            "p50_s": round(percentile(ordered, 50), 3),
            "p95_s": round(percentile(ordered, 95), 3),
            "max_s": round(ordered[-1], 3) if ordered else 0.0,
            "errors": self.errors,
            "server_errors_5xx": self.server_errors,
            "database_locked": self.database_locked,
            "client_errors_4xx": self.client_errors,
            "connection_errors": self.connection_errors,
            "timeouts": self.timeouts,
            "unexpected": self.unexpected,
        }

    def merge(self, other: "LoadResult") -> None:
        """Add one writer's record to this one (each writer keeps its own: no lock needed)."""
        self.acknowledged += other.acknowledged
        for name in ("server_errors", "database_locked", "client_errors", "connection_errors",
                     "timeouts", "unexpected"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.latencies += other.latencies
        self.samples += other.samples[:max(0, SAMPLE_LIMIT - len(self.samples))]


@dataclass
class ReadBack:
    lost: list  # [{"ack": Ack, "problem": "missing" | "changed", "stored": <text or None>}]
    unacknowledged_stored: int  # rows of this run the client was never told about (timeouts)
    annotations_read: int
    seconds: float


def percentile(ordered: list, pct: float) -> float:
    """Nearest-rank percentile of an already sorted list (0.0 when empty)."""
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil without floats
    return ordered[int(rank) - 1]


def request(url: str, token: str, method: str = "GET", body=None, timeout: float = 30.0):
    """(status, body text) of one API call; raises only for connection errors and timeouts."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": "Token " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as err:  # 4xx/5xx still carry a body worth reading
        return err.code, err.read().decode(errors="replace")


def is_timeout(err: BaseException) -> bool:
    # urllib wraps a connect timeout in URLError; a read timeout arrives bare.
    return isinstance(err, TimeoutError) or isinstance(getattr(err, "reason", None), TimeoutError)


def textarea_result(from_name: str, to_name: str, text: str) -> list:
    return [{"from_name": from_name, "to_name": to_name, "type": "textarea",
             "value": {"text": [text]}}]


def stored_text(annotation: dict):
    """The text of our one textarea result, or None when the annotation holds something else."""
    try:
        return annotation["result"][0]["value"]["text"][0]
    except (KeyError, IndexError, TypeError):
        return None


def write_loop(url: str, token: str, task_ids: list, writer: int, deadline: float, tag: str,
               from_name: str, to_name: str, timeout: float) -> LoadResult:
    """One annotator: POST annotations back to back until the deadline, recording every outcome."""
    record = LoadResult(writers=1, seconds=0.0, tag=tag)
    n = 0
    while time.monotonic() < deadline:
        # Round robin from the writer's own offset: writers keep to different tasks at any moment,
        # as annotators with their own assignments do, yet all share the same tables.
        task_id = task_ids[(writer + n) % len(task_ids)]
        text = f"{tag}-w{writer}-{n}"
        n += 1
        start = time.monotonic()
        try:
            status, body = request(f"{url}/api/tasks/{task_id}/annotations/", token, "POST",
                                   {"result": textarea_result(from_name, to_name, text)}, timeout)
        except (OSError, http.client.HTTPException) as err:
            record.latencies.append(time.monotonic() - start)
            if is_timeout(err):
                record.timeouts += 1
            else:
                record.connection_errors += 1
            note(record, f"task {task_id}: {type(err).__name__}: {err}")
            continue
        record.latencies.append(time.monotonic() - start)
        classify(record, status, body, writer, task_id, text)
    return record


def classify(record: LoadResult, status: int, body: str, writer: int, task_id: int,
             text: str) -> None:
    if status == 201:
        try:
            record.acknowledged.append(Ack(writer, task_id, int(json.loads(body)["id"]), text))
            return
        except (ValueError, KeyError, TypeError):
            pass  # a 201 without an id acknowledges nothing the client could check
    if LOCKED in body:
        record.database_locked += 1
    if status >= 500:
        record.server_errors += 1
    elif 400 <= status < 500:
        record.client_errors += 1
    else:
        record.unexpected += 1
    note(record, f"task {task_id}: HTTP {status}: {' '.join(body.split())[:SAMPLE_CHARS]}")


def note(record: LoadResult, sample: str) -> None:
    if len(record.samples) < SAMPLE_LIMIT:
        record.samples.append(sample)


def setup_call(url: str, token: str, method: str, path: str, body=None):
    """One setup call (project, import); any answer but 2xx stops the run."""
    status, text = request(url + path, token, method, body, timeout=600)
    if not 200 <= status < 300:
        raise RuntimeError(f"{method} {path}: HTTP {status}: {text[:500]}")
    return json.loads(text) if text else None


def load_project(url: str, token: str, title: str, tasks: int = 200) -> tuple:
    """(project id, task ids) of a new project with LABEL_CONFIG and `tasks` synthetic tasks,
    warmed up by one untimed annotation (the first one pays one-off costs: imports, caches)."""
    url = url.rstrip("/")
    project = setup_call(url, token, "POST", "/api/projects/", {"title": title, "label_config": LABEL_CONFIG})
    task_ids = setup_call(url, token, "POST", f"/api/projects/{project['id']}/import?return_task_ids=true",
                          [{"text": f"synthetic report {i}"} for i in range(tasks)])["task_ids"]
    setup_call(url, token, "POST", f"/api/tasks/{task_ids[0]}/annotations/",
               {"result": textarea_result(FROM_NAME, TO_NAME, "warm-up")})
    return project["id"], task_ids


def run_writers(url: str, token: str, task_ids: list, *, writers: int = 20, seconds: float = 60.0,
                timeout: float = 30.0, from_name: str = FROM_NAME, to_name: str = TO_NAME,
                tag: str | None = None) -> LoadResult:
    """`writers` threads POSTing annotations to `task_ids` for `seconds`; their merged record.

    from_name / to_name name the label config's TextArea and the tag it points at. Requests still
    running at the deadline finish (up to `timeout`) and count.
    """
    if not task_ids:
        raise ValueError("run_writers needs at least one task id")
    url = url.rstrip("/")
    tag = tag or secrets.token_hex(3)
    result = LoadResult(writers=writers, seconds=0.0, tag=tag, task_ids=list(task_ids))
    start = time.monotonic()
    deadline = start + seconds
    with ThreadPoolExecutor(max_workers=writers, thread_name_prefix="writer") as pool:
        futures = [pool.submit(write_loop, url, token, list(task_ids), w, deadline, tag,
                               from_name, to_name, timeout) for w in range(writers)]
        for future in futures:
            result.merge(future.result())
    result.seconds = time.monotonic() - start
    return result


def task_annotations(url: str, token: str, task_id: int, timeout: float) -> list:
    """Every annotation of one task (GET /api/tasks/{id}/annotations/: a plain list, no paging)."""
    status, body = request(f"{url}/api/tasks/{task_id}/annotations/", token, timeout=timeout)
    if status != 200:
        raise RuntimeError(f"listing the annotations of task {task_id}: HTTP {status}: {body[:300]}")
    return json.loads(body)


def confirm(url: str, token: str, ack: Ack, timeout: float) -> dict | None:
    """A second, direct look at one annotation the listing did not show as written: the lost
    entry, or None if it is there after all (a listing quirk must not count as a lost write)."""
    status, body = request(f"{url}/api/annotations/{ack.annotation_id}/", token, timeout=timeout)
    if status == 404:
        return {"ack": ack, "problem": "missing", "stored": None}
    if status != 200:
        raise RuntimeError(f"reading annotation {ack.annotation_id}: HTTP {status}: {body[:300]}")
    annotation = json.loads(body)
    text = stored_text(annotation)
    if text == ack.text and annotation.get("task") == ack.task_id:
        return None
    return {"ack": ack, "problem": "changed", "stored": text}


def read_back(url: str, token: str, result: LoadResult, *, readers: int = 4,
              timeout: float = 60.0) -> ReadBack:
    """Check every acknowledged write against what the server now stores.

    One listing per task (GET /api/tasks/{id}/annotations/), a few in parallel: a few hundred
    calls for thousands of annotations, and it reads the annotation table itself, unlike the
    Data Manager's task list or an export. Only anomalies get a per-annotation GET to confirm.
    Also counts rows of this run (by its tag) the client never saw acknowledged.
    """
    url = url.rstrip("/")
    start = time.monotonic()
    # Every task written to, acknowledged or not: a timed-out write may have landed on any of them.
    by_task = {task_id: [] for task_id in result.task_ids}
    for ack in result.acknowledged:
        by_task.setdefault(ack.task_id, []).append(ack)
    with ThreadPoolExecutor(max_workers=readers) as pool:
        listings = dict(zip(by_task, pool.map(
            lambda task_id: task_annotations(url, token, task_id, timeout), by_task)))
    acknowledged_ids = {ack.annotation_id for ack in result.acknowledged}
    lost, read, unacknowledged = [], 0, 0
    for task_id, acks in by_task.items():
        stored = {a["id"]: stored_text(a) for a in listings[task_id]}
        read += len(stored)
        unacknowledged += sum(1 for aid, text in stored.items()
                              if aid not in acknowledged_ids and str(text).startswith(result.tag + "-"))
        for ack in acks:
            if stored.get(ack.annotation_id) != ack.text:
                entry = confirm(url, token, ack, timeout)
                if entry:
                    lost.append(entry)
    return ReadBack(lost, unacknowledged, read, time.monotonic() - start)


def lost_writes(url: str, token: str, result: LoadResult) -> list:
    """The acknowledged writes now missing or holding another text (see read_back)."""
    return read_back(url, token, result).lost

