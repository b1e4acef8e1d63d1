"""rq against the server on the port given: jobs enqueued, run by a burst
worker, their results and statuses, a failing job in the failed registry,
a job depending on another, and a scheduled retry.

Prints OK and exits 0 when every check holds."""

import sys

from redis import Redis
from rq import Queue, Retry, SimpleWorker
from rq.job import JobStatus
from rq.registry import FailedJobRegistry

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from rq_tasks import fail, multiply  # noqa: E402

port = int(sys.argv[1])
connection = Redis(host="127.0.0.1", port=port)
connection.flushall()
queue = Queue("default", connection=connection)

jobs = [queue.enqueue(multiply, i, 3) for i in range(20)]
broken = queue.enqueue(fail, retry=Retry(max=1))
first = queue.enqueue(multiply, 6, 7)
dependent = queue.enqueue(multiply, 1, 1, depends_on=first)

worker = SimpleWorker([queue], connection=connection)
worker.work(burst=True)

for i, job in enumerate(jobs):
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED, job.get_status()
    assert job.result == i * 3
first.refresh()
dependent.refresh()
assert first.result == 42
assert dependent.get_status() == JobStatus.FINISHED
broken.refresh()
assert broken.get_status() == JobStatus.FAILED, broken.get_status()
assert broken.id in FailedJobRegistry(queue=queue).get_job_ids()
assert queue.count == 0
print("OK")
