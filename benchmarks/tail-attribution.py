#!/usr/bin/env python3
"""Which slow requests of an open-loop run coincide with the kernel's DAMON sampling (kdamond).

On the 2-core Firecracker VMs these benchmarks run on, the kernel's Data Access MONitor thread
(kdamond.0, /sys/kernel/mm/damon) wakes every ~512 ms (its sample interval, 500 ms, plus its own
work) and runs for 0.5-5 ms of CPU; while it does, every process on the machine can stall for a
few milliseconds. latency-pair.sh's SLOW_MS runs this beside the load:

  tail-attribution.py sample OUT SECONDS
      every 2 ms, appends "EPOCH_MS CPU_MS" to OUT each time kdamond.0 ran since the last look
      (from /proc/PID/schedstat); exits at once, writing nothing, when there is no kdamond.0.
  tail-attribution.py attribute KDAMOND_FILE SLOW_FILE...
      for each file of OpenLoopLoad's --slow-log ("INTENDED_EPOCH_MS LATENCY_US SERVICE_US CONN"),
      how many of its requests overlapped a kdamond run (the run's window: from CPU_MS + 2.5 ms
      before it was seen to when it was seen), and how many did not.
"""
import bisect
import os
import sys
import time


def kdamond_pid():
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/comm") as f:
                    if f.read().strip() == "kdamond.0":
                        return p
            except OSError:
                pass
    return None


def sample(out_path, seconds):
    pid = kdamond_pid()
    if pid is None:
        return
    with open(f"/proc/{pid}/schedstat") as stat, open(out_path, "w", buffering=1) as out:

        def ran_ns():
            stat.seek(0)
            return int(stat.read().split()[0])

        last = ran_ns()
        end = time.time() + seconds
        while time.time() < end:
            time.sleep(0.002)
            now = ran_ns()
            if now != last:
                out.write(f"{time.time() * 1000:.1f} {(now - last) / 1e6:.2f}\n")
                last = now


def attribute(kdamond_file, slow_files):
    runs = []
    with open(kdamond_file) as f:
        for line in f:
            seen, cpu = map(float, line.split())
            runs.append((seen - cpu - 2.5, seen))
    runs.sort()
    starts = [a for a, _ in runs]

    def during_run(t, length):
        i = bisect.bisect_right(starts, t + length)
        return any(runs[j][1] >= t for j in range(max(0, i - 3), i))

    print(f"kdamond seen running in {len(runs)} of the 2-ms looks")
    for path in slow_files:
        slow = during = 0
        with open(path) as f:
            for line in f:
                t, latency_us, _, _ = map(float, line.split())
                slow += 1
                during += during_run(t, latency_us / 1000)
        name = os.path.basename(path)
        print(f"{name}: {slow} slow requests, {during} during a kdamond run, {slow - during} not")


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "sample":
        sample(sys.argv[2], float(sys.argv[3]))
    elif len(sys.argv) >= 4 and sys.argv[1] == "attribute":
        attribute(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)
