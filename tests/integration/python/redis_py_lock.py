"""redis-py's Lock (Lua scripts for release, extend and reacquire, EVALSHA
with the NOSCRIPT fallback) against the server on the port given: mutual
exclusion between threads, blocking acquire with a timeout, extend,
reacquire, release of a lock that was lost.

Prints OK and exits 0 when every check holds."""

import sys
import threading
import time

import redis
from redis.exceptions import LockError, LockNotOwnedError

port = int(sys.argv[1])
r = redis.Redis(host="127.0.0.1", port=port)
r.flushall()
r.script_flush()  # the first release goes through EVALSHA, NOSCRIPT, then EVAL

lock = r.lock("resource", timeout=5)
assert lock.acquire(blocking=False)
assert lock.owned()
other = r.lock("resource", timeout=5, blocking_timeout=0.2)
assert not other.acquire(), "a second holder got the lock"
assert lock.extend(10)
assert r.pttl("resource") > 5000
assert lock.reacquire()
assert 0 < r.pttl("resource") <= 5000
lock.release()
assert r.exists("resource") == 0
assert other.acquire()
other.release()

# A lock that expired and was taken by someone else cannot be released.
short = r.lock("short", timeout=0.1)
assert short.acquire()
time.sleep(0.3)
thief = r.lock("short", timeout=5)
assert thief.acquire(blocking=False)
try:
    short.release()
    raise AssertionError("released a lock owned by another")
except LockNotOwnedError:
    pass
try:
    short.extend(1)
    raise AssertionError("extended a lock owned by another")
except LockError:
    pass
thief.release()

# Threads incrementing a counter under the lock never lose an update.
r.set("counter", 0)


def work():
    for _ in range(25):
        with r.lock("counter-lock", timeout=5, blocking_timeout=10, sleep=0.001):
            value = int(r.get("counter"))
            r.set("counter", value + 1)


threads = [threading.Thread(target=work) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
assert int(r.get("counter")) == 200, r.get("counter")
print("OK")
