"""Deploys started before the tests that need them, in one background thread, while other tests
run (the machine has two cores; a test mostly waits on one process at a time).

conftest.py schedules the shared `server` and the next test module's deploy_ahead (a function
(make_instance, tmp_path_factory) -> instances) at each module start. Nothing starts before the
shared Label Studio environment exists: a fresh machine's first deploy builds it, and two builds
must not race. Their crontab edits take turns by the product's own crontab lock (label_studio_crontab)."""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable


class Background:
    def __init__(self):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="deploy-ahead")
        self._jobs: dict[str, Future] = {}

    def started(self, key: str) -> bool:
        return key in self._jobs

    def submit(self, key: str, job: Callable):
        if key not in self._jobs:
            self._jobs[key] = self._pool.submit(job)

    def result(self, key: str, job: Callable):
        """The background job's result (waiting for it), or the job run here and now. A job run
        here counts as started: a fixture set up before conftest's scheduling (a session-scoped
        `server` is set up before the module-scoped autouse fixture that schedules) must not be
        deployed a second time in the background (it was: a whole wasted deploy, waited for at
        the end of the session)."""
        future = self._jobs.get(key)
        if future is not None and not future.cancelled():
            return future.result()
        future = Future()
        self._jobs[key] = future
        try:
            future.set_result(job())
        except BaseException as err:
            future.set_exception(err)
        return future.result()

    def close(self) -> None:
        """End of session: jobs not begun are dropped, the running one is waited for."""
        for future in list(self._jobs.values()):
            future.cancel()
        self._pool.shutdown(wait=True)


def at_once(*calls):
    """Run the calls in threads at once (the machine has two cores; a deploy mostly waits on one
    process); their results in the order given, the first exception raised. Their crontab edits
    take turns by the product's crontab lock."""
    if not calls:
        return []
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]
