"""`python -m nql_flink.deploy.prometheus check [--promtool PATH]` (make check-rules): the rules file's
layout and PromQL (`promtool check rules`) and when each rule fires (`promtool test rules`
with nql-flink-rules.test.yml). promtool is found by --promtool, $PROMTOOL or PATH (`make test`
and `make promtool` install it from the OS packages); without it, only the layout check runs
(exit 0, said on stderr)."""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from nql_flink.deploy.prometheus import rules as pr

def find_promtool(given: str | None = None) -> str | None:
    for candidate in (given, os.environ.get("PROMTOOL")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("promtool")


def promtool_checks(promtool: str) -> list[subprocess.CompletedProcess]:
    """`check rules` on the file as shipped, `test rules` on a copy without annotations."""
    out = [subprocess.run([promtool, "check", "rules", str(pr.RULES_FILE)], capture_output=True, text=True)]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / pr.RULES_FILE.name).write_text(yaml.safe_dump(pr.without_annotations(pr.load())))
        shutil.copy(pr.UNIT_TESTS, tmp)
        out.append(subprocess.run([promtool, "test", "rules", pr.UNIT_TESTS.name], capture_output=True,
                                  text=True, cwd=tmp))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m nql_flink.deploy.prometheus", description=__doc__.split("\n\n")[0])
    p.add_argument("command", choices=["check"])
    p.add_argument("--promtool", help="path of promtool (default: $PROMTOOL, PATH)")
    a = p.parse_args(argv)
    problems = pr.problems(pr.load())
    for line in problems:
        print(f"{pr.RULES_FILE.name}: {line}", file=sys.stderr)
    promtool = find_promtool(a.promtool)
    if promtool is None:
        print("promtool not found (make promtool): PromQL and the unit tests not checked", file=sys.stderr)
        return 1 if problems else 0
    results = promtool_checks(promtool)
    for r in results:
        sys.stdout.write(r.stdout)
        sys.stderr.write(r.stderr)
    return 1 if problems or any(r.returncode for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
