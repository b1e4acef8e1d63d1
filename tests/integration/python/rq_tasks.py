"""Functions rq_worker.py enqueues (rq imports them by module path)."""


def multiply(a, b):
    return a * b


def fail():
    raise RuntimeError("rq job fails on purpose")
