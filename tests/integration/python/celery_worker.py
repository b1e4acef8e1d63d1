"""Celery with a Redis broker and result backend against the server on the
port given: a worker thread runs tasks sent with delay(), a retrying task,
a group and a chord (whose counter the Redis backend keeps with its
own commands), and a task that fails.

Prints OK and exits 0 when every check holds."""

import sys

from celery import Celery, chord, group
from celery.contrib.testing.worker import start_worker

port = int(sys.argv[1])
url = f"redis://127.0.0.1:{port}/0"
app = Celery("integration", broker=url, backend=url)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)

attempts = {"flaky": 0}


@app.task
def add(x, y):
    return x + y


@app.task
def total(values):
    return sum(values)


@app.task(bind=True, max_retries=3, default_retry_delay=0.1)
def flaky(self):
    attempts["flaky"] += 1
    if attempts["flaky"] < 3:
        raise self.retry()
    return "third time"


@app.task
def broken():
    raise ValueError("broken on purpose")


with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
    assert add.delay(2, 3).get(timeout=20) == 5
    results = [add.delay(i, i) for i in range(20)]
    assert [result.get(timeout=20) for result in results] == [2 * i for i in range(20)]
    assert flaky.delay().get(timeout=20) == "third time"
    assert group(add.s(i, 1) for i in range(5))().get(timeout=20) == [1, 2, 3, 4, 5]
    assert chord(add.s(i, i) for i in range(5))(total.s()).get(timeout=20) == 20
    failed = broken.delay()
    try:
        failed.get(timeout=20)
        raise AssertionError("the broken task succeeded")
    except ValueError as error:
        assert "broken on purpose" in str(error)
    assert failed.state == "FAILURE"
print("OK")
