"""Every dependency, direct or transitive, is pinned with hashes and installed with --require-hashes."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _requirements(text: str) -> dict[str, str]:
    """{name: the whole requirement, continuation lines joined}, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    entries = [line.split("#")[0].strip() for line in joined.splitlines()]
    return {re.split(r"[=<>\[ ;]", entry, maxsplit=1)[0].lower(): entry for entry in entries if entry}


def test_every_locked_requirement_is_pinned_exactly_and_hashed():
    locked = _requirements((ROOT / "requirements.txt").read_text())
    assert len(locked) > 20  # the transitive ones are there, not only the direct ones
    for name, entry in locked.items():
        assert re.search(rf"^{re.escape(name)}==[\w.]+ ", entry, re.I), entry
        assert "--hash=sha256:" in entry, f"{name} has no hash"


def test_every_direct_dependency_is_pinned_and_locked_at_the_same_version():
    direct = _requirements((ROOT / "requirements.in").read_text())
    locked = _requirements((ROOT / "requirements.txt").read_text())
    for name, entry in direct.items():
        assert "==" in entry, f"{name} is not pinned in requirements.in"
        version = entry.split("==")[1].split()[0]
        assert f"=={version}" in locked[name], f"{name} differs between requirements.in and .txt"


def test_the_makefile_installs_with_require_hashes():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet --require-hashes -r requirements.txt" in makefile
