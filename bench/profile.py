#!/usr/bin/env python3
"""Profiling benchmark: scry vs bpftrace on `profile:hz:N { @[kstack, ustack, comm] = count(); }`.

For each tracer: run it for DURATION seconds while a busy loop keeps both CPUs loaded, then
send SIGINT and measure (a) samples recorded per second (the sum of the map's counts over the
tracing time) and (b) the time from SIGINT to exit, which is dominated by symbolizing the
stacks for the final map print. Prints a Markdown table.
"""
import os, re, signal, subprocess, sys, time

HZ = int(os.environ.get("HZ", "999"))
DURATION = float(os.environ.get("DURATION", "5"))
PROGRAM = f"profile:hz:{HZ} {{ @[kstack, ustack, comm] = count(); }}"


def run(tracer):
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    env = dict(os.environ, __BPFTRACE_NOTIFY_PROBES_ATTACHED="1")
    p = subprocess.Popen(tracer + ["-e", PROGRAM], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    # Wait for readiness.
    while True:
        line = p.stderr.readline()
        if not line or "__BPFTRACE_NOTIFY_PROBES_ATTACHED" in line:
            break
    start = time.monotonic()
    time.sleep(DURATION)
    traced = time.monotonic() - start
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=600)
    exit_time = time.monotonic() - t0
    for b in busy:
        b.kill()
    samples = sum(int(m) for m in re.findall(r"\]: (\d+)$", out, re.M))
    return samples / traced, exit_time, len(re.findall(r"\]: \d+$", out, re.M))


def main():
    scry = sys.argv[1] if len(sys.argv) > 1 else "target/release/scry"
    rows = []
    for name, cmd in [("scry", [scry]), ("bpftrace", ["bpftrace"])]:
        rate, exit_time, stacks = run(cmd)
        rows.append((name, rate, exit_time, stacks))
    print(f"| `{PROGRAM}`, {DURATION:.0f} s, 2 busy CPUs | samples/s recorded | SIGINT → exit (symbolization) | distinct stacks |")
    print("|---|---|---|---|")
    for name, rate, exit_time, stacks in rows:
        print(f"| {name} | {rate:.0f} | {exit_time * 1000:.0f} ms | {stacks} |")


if __name__ == "__main__":
    main()
