#!/usr/bin/env python3
"""Measures scry against bpftrace in one run and writes BENCHMARKS.md (called by bench/run.sh).

Figures:
  start-up   hyperfine median wall time of `-e 'BEGIN { exit(); }'`
  peak RSS   median of /usr/bin/time's maximum resident set size for the same program
  attach     wall time of `tracepoint:syscalls:sys_enter_* { @[probe] = count(); }` that exits
             from `interval:ms:100` (attach every probe, run 100 ms, detach, print)
  overhead   a loop of N getppid() calls timed by itself with no tracer, under bpftrace and under
             scry running `tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }`; the extra
             time divided by N is the cost of one event
"""

import argparse
import datetime
import json
import os
import platform
import select
import signal
import statistics
import subprocess
import sys
import threading
import time

READY = "__BPFTRACE_NOTIFY_PROBES_ATTACHED"
BEGIN_EXIT = "BEGIN { exit(); }"
ATTACH_ALL = "tracepoint:syscalls:sys_enter_* { @[probe] = count(); } interval:ms:100 { exit(); }"
PER_EVENT = "tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def hyperfine(cmds, runs, warmup, json_path):
    """Runs hyperfine on {name: command}; returns {name: result dict} (times in seconds)."""
    args = ["hyperfine", "--style", "none", "--export-json", json_path, "--runs", str(runs),
            "--warmup", str(warmup)]
    names = []
    for name, cmd in cmds.items():
        args += ["--command-name", name, cmd]
        names.append(name)
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    with open(json_path) as f:
        results = json.load(f)["results"]
    return dict(zip(names, results))


def peak_rss_kib(argv, runs):
    """Median peak RSS (KiB) of `argv` over `runs` runs, from /usr/bin/time -f %M."""
    values = []
    for _ in range(runs):
        p = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True, check=True)
        values.append(int(p.stderr.strip().splitlines()[-1]))
    return statistics.median(values)


def probes_attached(argv):
    """Runs `argv` once; returns (wall seconds, number of probes it reported attaching)."""
    start = time.monotonic()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=True)
    wall = time.monotonic() - start
    for line in (p.stderr + p.stdout).splitlines():
        words = line.split()
        if len(words) >= 3 and words[0] in ("Attached", "Attaching") and words[1].isdigit():
            return wall, int(words[1])
    return wall, None


def loop_ns(loop, n):
    out = subprocess.run([loop, str(n)], stdout=subprocess.PIPE, text=True, check=True).stdout
    return int(out.strip())


def traced_loop_ns(tracer_argv, loop, n, runs):
    """Loop times (ns) while `tracer_argv` runs, started and stopped around the runs."""
    env = dict(os.environ, **{READY: "1"})
    tracer = subprocess.Popen(tracer_argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        # The readiness line is on stderr (scry) or stdout (bpftrace 0.17).
        deadline = time.monotonic() + 120
        buffers = {tracer.stdout: b"", tracer.stderr: b""}
        ready = False
        while not ready:
            if time.monotonic() > deadline or tracer.poll() is not None:
                raise RuntimeError(f"{tracer_argv[0]} never attached: {buffers}")
            readable, _, _ = select.select(list(buffers), [], [], 1.0)
            for pipe in readable:
                chunk = os.read(pipe.fileno(), 65536)
                buffers[pipe] += chunk
                if READY.encode() in buffers[pipe]:
                    ready = True
        # Keep draining the pipes so the tracer never blocks on a full pipe.
        def drain(pipe):
            while os.read(pipe.fileno(), 65536):
                pass

        for pipe in buffers:
            threading.Thread(target=drain, args=(pipe,), daemon=True).start()
        times = [loop_ns(loop, n) for _ in range(runs)]
    finally:
        tracer.send_signal(signal.SIGINT)
        try:
            tracer.wait(timeout=120)
        except subprocess.TimeoutExpired:
            tracer.kill()
            tracer.wait()
    return times


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    return {
        "kernel": platform.release(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory": f"{mem_kib / 1048576:.1f} GiB",
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def version(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.stdout.strip().splitlines()[0] if p.stdout.strip() else "?"


def linked_libraries(path):
    """Shared libraries of `path` per ldd, without the vDSO and the loader."""
    p = subprocess.run(["ldd", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    names = [line.split()[0] for line in p.stdout.splitlines() if line.strip()]
    return [n for n in names if not n.startswith(("linux-vdso", "/lib64/ld-linux"))]


def commit():
    """The scry commit measured (with "+ local changes" when the work tree differs)."""
    def git(*args):
        p = subprocess.run(["git", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True)
        return p.stdout.strip() if p.returncode == 0 else None

    head = git("rev-parse", "--short", "HEAD")
    if head is None:
        return "unknown commit"
    return head + (" + local changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scry", required=True)
    ap.add_argument("--bpftrace", required=True)
    ap.add_argument("--loop", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--loop-calls", type=int, default=1_000_000)
    ap.add_argument("--loop-runs", type=int, default=7)
    ap.add_argument("--out", default="BENCHMARKS.md")
    a = ap.parse_args()
    tracers = {"scry": a.scry, "bpftrace": a.bpftrace}
    info = machine()

    log("start-up (hyperfine)...")
    startup = hyperfine({name: f"{path} -e '{BEGIN_EXIT}'" for name, path in tracers.items()},
                        a.runs, 3, os.path.join(a.work, "startup.json"))

    log("peak RSS...")
    rss = {name: peak_rss_kib([path, "-e", BEGIN_EXIT], 5) for name, path in tracers.items()}

    log("attach+detach of syscalls:sys_enter_* (bpftrace takes tens of seconds)...")
    attach = {}
    attach["scry"] = hyperfine({"scry": f"{a.scry} -e '{ATTACH_ALL}'"}, 5, 1,
                               os.path.join(a.work, "attach-scry.json"))["scry"]
    _, attach_probes_scry = probes_attached([a.scry, "-e", ATTACH_ALL])
    bt_wall, attach_probes_bt = probes_attached([a.bpftrace, "-e", ATTACH_ALL])
    attach["bpftrace"] = {"median": bt_wall, "runs": 1}
    attach_rss = {"scry": peak_rss_kib([a.scry, "-e", ATTACH_ALL], 3)}

    log("per-event overhead...")
    n = a.loop_calls
    loop_runs = a.loop_runs
    # Untraced runs before and after the traced ones, so drift in machine load shows in both.
    base = [loop_ns(a.loop, n) for _ in range(loop_runs)]
    traced = {name: traced_loop_ns([path, "-e", PER_EVENT], a.loop, n, loop_runs)
              for name, path in tracers.items()}
    base += [loop_ns(a.loop, n) for _ in range(loop_runs)]
    base_med = statistics.median(base)
    per_event = {name: (statistics.median(t) - base_med) / n for name, t in traced.items()}

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmarks",
        "",
        f"Measured {now} by `bench/run.sh` (release build of scry vs the installed bpftrace, same run).",
        "Re-run with `bench/run.sh`; it rewrites this file. Numbers from a shared 2-core VM are noisy:",
        "compare within one run, not across runs.",
        "",
        "Machine:",
        "",
        f"- kernel {info['kernel']}, {info['cpus']} CPUs ({info['cpu']}), {info['memory']} RAM",
        f"- load average at the start: {info['load']}",
        f"- scry: `{version([a.scry, '--version'])}` at {commit()} ({os.path.getsize(a.scry) / 1048576:.1f} MiB, "
        f"links {', '.join(linked_libraries(a.scry))}); "
        f"bpftrace: `{version([a.bpftrace, '--version'])}` (links {len(linked_libraries(a.bpftrace))} libraries)",
        "",
        "| What | scry | bpftrace | Target |",
        "|---|---|---|---|",
        f"| Start-up of `{BEGIN_EXIT}`, median of {a.runs} runs | "
        f"{ms(startup['scry']['median'])} | {ms(startup['bpftrace']['median'])} | ≤ 5 ms |",
        f"| Peak RSS of the same, median of 5 runs | {rss['scry'] / 1024:.1f} MiB | "
        f"{rss['bpftrace'] / 1024:.1f} MiB | ≤ 10 MiB |",
        f"| Attach + detach of `syscalls:sys_enter_*` ({attach_probes_scry} / {attach_probes_bt} probes "
        f"incl. interval), wall time of the whole run | {ms(attach['scry']['median'])} (median of 5) | "
        f"{ms(attach['bpftrace']['median'])} (1 run) | ≤ 1 s |",
        f"| Per-event overhead of `{PER_EVENT}` on {n:,} getppid() calls | "
        f"{per_event['scry']:.0f} ns/event | {per_event['bpftrace']:.0f} ns/event | ≤ bpftrace |",
        "",
        "Details:",
        "",
        f"- start-up mean ± σ: scry {ms(startup['scry']['mean'])} ± {ms(startup['scry']['stddev'])}, "
        f"bpftrace {ms(startup['bpftrace']['mean'])} ± {ms(startup['bpftrace']['stddev'])}; "
        f"min: scry {ms(startup['scry']['min'])}, bpftrace {ms(startup['bpftrace']['min'])}",
        f"- attach run includes 100 ms of tracing before `exit()` (interval:ms:100); "
        f"scry's peak RSS in that run: {attach_rss['scry'] / 1024:.1f} MiB",
        f"- syscall loop, median of {loop_runs} runs ({2 * loop_runs} untraced, half before and half "
        f"after the traced ones): untraced {base_med / 1e6:.1f} ms "
        f"({base_med / n:.0f} ns/call); under bpftrace "
        f"{statistics.median(traced['bpftrace']) / 1e6:.1f} ms; under scry "
        f"{statistics.median(traced['scry']) / 1e6:.1f} ms",
        f"- raw loop times (ms): untraced {[round(t / 1e6, 1) for t in base]}, "
        f"bpftrace {[round(t / 1e6, 1) for t in traced['bpftrace']]}, "
        f"scry {[round(t / 1e6, 1) for t in traced['scry']]}",
        "",
        "Method: start-up with `hyperfine --warmup 3` (stdout to /dev/null); peak RSS from "
        "`/usr/bin/time -f %M`; the per-event loop is `bench/syscall_loop.c`, which times itself "
        "so the tracer's own start-up is excluded; overhead = (traced − untraced median) / calls.",
        "",
    ]
        # Sections below the marker (other benchmarks, e.g. packet filters) are kept.
    marker = "<!-- other benchmarks -->"
    kept = ""
    try:
        with open(a.out) as f:
            old = f.read()
        if marker in old:
            kept = old[old.index(marker):]
    except FileNotFoundError:
        pass
    with open(a.out, "w") as f:
        f.write("\n".join(lines))
        if kept:
            f.write("\n" + kept)
    log("\n".join(lines))


if __name__ == "__main__":
    main()
