# Runs argv[2:] as a child and writes its wait4 rusage to argv[1]: "maxrss_kib user_ms sys_ms wall_ms" (microsecond
# resolution, unlike GNU time's 10 ms); exits with the child's status. Used by the benchmark's RSS/CPU phases.
import os
import sys
import time

out, argv = sys.argv[1], sys.argv[2:]
t0 = time.monotonic_ns()
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = (time.monotonic_ns() - t0) / 1e6
with open(out, "w") as f:
    f.write(f"{ru.ru_maxrss} {ru.ru_utime * 1000:.3f} {ru.ru_stime * 1000:.3f} {wall:.3f}\n")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
