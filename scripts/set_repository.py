"""Copy the repository URL and branch from _config.yml into the install cell of every notebook.

Run after changing ``repository.url`` or ``repository.branch`` in ``_config.yml``:

    python scripts/set_repository.py
"""
from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
PATTERN = re.compile(r'"dlcourse @ git\+[^"@]+@[^"]+"')


def main() -> int:
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    target = f'"dlcourse @ git+{repo["url"]}@{repo["branch"]}"'
    changed = []
    for folder in ("chapters", "exercises"):
        for md in sorted((ROOT / folder).rglob("*.md")):
            text = md.read_text()
            new = PATTERN.sub(target, text)
            if new != text:
                md.write_text(new)
                changed.append(md)
    if changed:
        subprocess.run([sys.executable, "-m", "jupytext", "--sync", *map(str, changed)], check=True)
    print(f"install cell now points at {target}; {len(changed)} notebook(s) updated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
