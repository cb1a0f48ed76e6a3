"""Lighthouse on the public page, mobile and desktop, with the bench's shelf of three 24 MP
photos (landscape, portrait, landscape; bench/photos.py).

    npm install --no-save --prefix /tmp/lh lighthouse@12.8.2
    python bench/lighthouse.py [--runs 3] [--lighthouse /tmp/lh/node_modules/.bin/lighthouse]

Gunicorn runs config.settings.production on a fresh Postgres database (BENCH_POSTGRES_URL,
as bench/page.py), after collectstatic; Lighthouse drives Debian's Chromium
(/usr/bin/chromium) and sends X-Forwarded-Proto: https on every request, as Heroku's router
would. Each preset runs --runs times: scores vary from run to run (Lighthouse's own advice is
to take the median of several), most of all max-potential-fid, the longest main-thread
task, which on a shared machine varies from 20 to 240 ms for the same static files.
Printed per preset: each category's median score, every audit and insight whose median is
below 0.9 (the passing mark), those below it in some run, and the total byte weight. Goal:
100 everywhere, nothing below 0.9, mobile total byte weight at most 100 KB. A run that fails
(Lighthouse's NO_NAVSTART, now and then) is tried up to three times. Not run by CI: it needs
Lighthouse from npm.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.page import ADMIN_URL, fill_shelf, make_photos  # noqa: E402
from tests.processes import ROOT, gunicorn, manage, postgres_database, production_env  # noqa: E402

CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync"
)
PASSING = 0.9
ATTEMPTS = 3  # Lighthouse's NO_NAVSTART comes now and then, twice in a row at times


def lighthouse(binary: str, url: str, preset: str, output: Path) -> dict:
    command = [binary, url, f"--chrome-flags={CHROME_FLAGS}", "--output=json"]
    command += [f"--output-path={output}", "--quiet"]
    command += ['--extra-headers={"X-Forwarded-Proto": "https"}']
    if preset == "desktop":
        command.append("--preset=desktop")
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    for attempt in range(1, ATTEMPTS + 1):  # the last one raises if it fails too
        if subprocess.run(command, env=env, timeout=300, check=attempt == ATTEMPTS).returncode == 0:
            break
    return json.loads(output.read_text())


def report(preset: str, results: list[dict]) -> None:
    """Medians over the runs; the byte weight (the same in every run) from the first."""
    categories = results[0]["categories"]
    scores = {
        key: round(100 * statistics.median(r["categories"][key]["score"] for r in results))
        for key in categories
    }
    print(
        f"\n{preset}, median of {len(results)}: " + ", ".join(f"{k} {v}" for k, v in scores.items())
    )
    low = False
    for key in results[0]["audits"]:
        runs = [r["audits"][key].get("score") for r in results]
        if any(score is None for score in runs) or min(runs) >= PASSING:
            continue
        low = True
        median = statistics.median(runs)
        shown = ", ".join(str(score) for score in runs)
        verdict = (
            f"below {PASSING}" if median < PASSING else f"passing, below {PASSING} in some run"
        )
        print(f"  {key}: median {median}, {verdict}; runs: {shown}")
    if not low:
        print(f"  no audit or insight below {PASSING} in any run")
    weight = results[0]["audits"]["total-byte-weight"]
    print(f"  total byte weight: {weight['numericValue'] / 1000:.1f} KB")
    for item in weight["details"]["items"]:
        print(f"    {item['totalBytes']:>7} B  {item['url'].split('127.0.0.1', 1)[1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lighthouse", default="/tmp/lh/node_modules/.bin/lighthouse")
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per preset")
    parser.add_argument("--keep", type=Path, help="also write each JSON report here")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="bench-lighthouse-") as tmp,
        postgres_database(ADMIN_URL, prefix="imageshelf_bench_lighthouse") as url,
    ):
        work = Path(tmp)
        # Plain HTTP on this machine: Lighthouse's own fetches (robots.txt) carry no
        # X-Forwarded-Proto, and must not be sent to an HTTPS that is not there.
        env = production_env(
            work, DATABASE_URL=url, PYTHONPATH=str(ROOT), SECURE_SSL_REDIRECT="False"
        )
        manage(env, "migrate", "--noinput", check=True)
        manage(env, "collectstatic", "--noinput", check=True)
        fill_shelf(ROOT, env, make_photos(work))
        with gunicorn(env, "--workers", "2", log=work / "gunicorn.log") as server:
            for preset in ("mobile", "desktop"):
                results = []
                for run in range(1, args.runs + 1):
                    output = work / f"{preset}-{run}.json"
                    results.append(lighthouse(args.lighthouse, server.url + "/", preset, output))
                    if args.keep:
                        args.keep.mkdir(parents=True, exist_ok=True)
                        (args.keep / output.name).write_text(output.read_text())
                report(preset, results)


if __name__ == "__main__":
    main()
