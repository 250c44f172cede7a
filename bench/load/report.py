"""Turns a load run's wrk output and gunicorn access log into per-page figures; exits 1 on errors."""

import argparse
import datetime
import re
import subprocess
from pathlib import Path
from statistics import quantiles

PAGES = [  # (page, method, "path?query" pattern), first match wins
    ("healthz", "GET", r"^/healthz"),
    ("member_home", "GET", r"^/\?member=1"),
    ("home", "GET", r"^/\?$"),
    ("category", "GET", r"^/c/"),
    ("product", "GET", r"^/p/"),
    ("search", "GET", r"^/search/"),
    ("cart_add", "POST", r"^/cart/add/"),
]


def _page(method, path):
    for page, page_method, pattern in PAGES:
        if method == page_method and re.search(pattern, path):
            return page
    return "other"


def _percentile(values, pct):
    if len(values) == 1:
        return values[0]
    return quantiles(values, n=100, method="inclusive")[pct - 1]


def _per_page(access_log, duration, keep):
    times, errors = {}, {}
    for line in access_log.read_text().splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue
        method, path, status, micros = parts
        page = _page(method, path)
        if not keep(page):
            continue  # a straggler of the other run, finishing after it ended
        times.setdefault(page, []).append(int(micros) / 1000)
        if int(status) >= 400:
            errors[page] = errors.get(page, 0) + 1
    rows = []
    for page, values in sorted(times.items(), key=lambda item: -len(item[1])):
        rows.append(
            (
                page,
                len(values),
                len(values) / duration,
                _percentile(values, 50),
                _percentile(values, 99),
                errors.get(page, 0),
            )
        )
    return rows


def _wrk_summary(path):
    match = re.search(r"^SUMMARY (.*)$", path.read_text(), re.M)
    return {key: float(value) for key, value in (pair.split("=") for pair in match.group(1).split())}


def _machine():
    def run(*command):
        return subprocess.run(command, capture_output=True, text=True).stdout.strip()

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in run("cat", "/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    memory = run("free", "-g").splitlines()[1].split()[1]
    load = Path("/proc/loadavg").read_text().split()[:3]
    return (
        f"`nproc` = {run('nproc')} ({cpu}), `free -g` total = {memory} GiB, "
        f"load average after the run {' '.join(load)}, "
        f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--duration", type=float, required=True)
    for name in ("connections", "workers", "worker-threads", "size"):
        parser.add_argument(f"--{name}")
    args = parser.parse_args()

    lines = [
        f"Machine: {_machine()}.",
        f"gunicorn {args.workers} workers × {args.worker_threads} threads (gthread), "
        f"wrk {args.connections} connections, {args.duration:g} s per run, demo size {args.size}.",
        "",
    ]
    failed = False
    runs = [
        ("shop", "Mixed shopper traffic"),
        ("guest", "Guests' product and category pages"),
        ("healthz", "Ceiling: bare /healthz view"),
    ]
    runs = [(label, title) for label, title in runs if (args.out / f"wrk-{label}.txt").exists()]
    summaries = {label: _wrk_summary(args.out / f"wrk-{label}.txt") for label, _title in runs}
    for label, title in runs:
        wrk = summaries[label]
        socket_errors = int(
            wrk["connect_errors"] + wrk["read_errors"] + wrk["write_errors"] + wrk["timeouts"]
        )
        failed |= socket_errors > 0 or wrk["bad_status"] > 0
        lines += [
            f"{title}: {wrk['rps']:.0f} requests/s, client-side p50 {wrk['p50_ms']:.1f} ms, "
            f"p99 {wrk['p99_ms']:.1f} ms, {int(wrk['requests'])} requests, "
            f"{socket_errors} socket errors, {int(wrk['bad_status'])} 4xx/5xx.",
            "",
            "| page | requests | req/s | server p50 ms | server p99 ms | 4xx/5xx |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        keep = (lambda page: page == "healthz") if label == "healthz" else (lambda page: page != "healthz")
        if label == "guest":
            keep = lambda page: page in ("product", "category")  # noqa: E731
        for page, count, rate, p50, p99, errors in _per_page(
            args.out / f"access-{label}.log", args.duration, keep
        ):
            failed |= errors > 0
            lines.append(f"| {page} | {count} | {rate:.1f} | {p50:.1f} | {p99:.1f} | {errors} |")
        lines.append("")
    ceiling = summaries.get("healthz", {}).get("rps")
    if ceiling:
        # Issue 13's bars: each a ratio to the ceiling measured in the same run.
        for label, title, bar in (("shop", "mixed traffic", 25), ("guest", "guests' product/category", 40)):
            if label in summaries:
                ratio = 100 * summaries[label]["rps"] / ceiling
                lines.append(f"{title}: {ratio:.1f}% of the ceiling (bar {bar}%)")
        if "shop" in summaries:
            lines.append(f"mixed traffic client p99: {summaries['shop']['p99_ms']:.0f} ms (bar 300 ms)")
        lines.append("")
    if failed:
        lines.append("RESULT: FAILED (errors above)")
    else:
        lines.append("RESULT: zero errors")
    text = "\n".join(lines)
    (args.out / "summary.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
