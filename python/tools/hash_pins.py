"""Add (or refresh) the --hash=sha256:... lines of the pinned freezes, so the bootstrap can install
them with `pip install --require-hashes`.

    python3.11 python/tools/hash_pins.py                     # both freezes
    python3.11 python/tools/hash_pins.py python/requirements.txt

The versions are not changed: each file's own `name==version` lines are the input, and the script
fails if pip-compile resolves to any other set. pip-tools runs in a throw-away venv (never a runtime
dependency) and records the hashes of every distribution file the package index has for each pinned
version (all wheels and the sdist), so the file also installs where pip picks a different wheel.
Index and find-links settings come from pip's own configuration and are not written into the file.
The leading comment block of each file is kept. Afterwards rebuild once (`npx driftgate setup`), which
installs with --require-hashes and runs pip check.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FILES = [ROOT / "python" / "requirements.txt", ROOT / "python" / "airflow" / "requirements.txt"]
PIP_TOOLS = "pip-tools==7.6.2"
UNSAFE = {"pip", "setuptools"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s\\;]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(text: str) -> tuple[list[str], dict[str, str]]:
    """The leading comment block and {canonical name: 'name==version'} of a (hashed or plain) freeze."""
    lines = text.splitlines()
    header: list[str] = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line)
    pins: dict[str, str] = {}
    for line in lines:
        match = PIN.match(line)
        if match:
            pins[canonical(match.group(1))] = f"{match.group(1)}=={match.group(3)}"
    return header, pins


def drop_unsafe(compiled: str) -> str:
    """Drop pip's own tools from pip-compile's output: the venv's bundled pip and setuptools serve the
    packages that merely require setuptools (unpinned, as in the freeze), so the pins stay as frozen."""
    blocks: list[list[str]] = []
    for line in compiled.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line[0].isspace() and blocks:
            blocks[-1].append(line)
        else:
            blocks.append([line])
    kept = [b for b in blocks if not ((m := PIN.match(b[0])) and canonical(m.group(1)) in UNSAFE)]
    return "".join(f"{line}\n" for block in kept for line in block)


def with_extras_pins(compiled: str) -> str:
    """A pin that some dependency requires with extras (pip-compile writes it so, e.g. uvicorn[standard]==0.54.0,
    because fastapi-cli requires uvicorn[standard]) is written twice, plain and with the extras, with the same
    hashes. pip's hash-checking mode resolves a name with extras as a requirement of its own: pinned only
    plain, pip takes the newest release for it and then refuses it as unpinned (this broke every fresh
    Airflow build the day uvicorn 0.55.0 came out); pinned only with extras, the plain requirement of
    another package is the unpinned one."""
    out: list[str] = []
    block: list[str] = []

    def flush() -> None:
        match = PIN.match(block[0]) if block else None
        if match and match.group(2):
            out.append(block[0].replace(match.group(2), "", 1))
            out.extend(block[1:])
        out.extend(block)
        block.clear()

    for line in compiled.splitlines():
        if not (line[:1].isspace() and block):
            flush()
        block.append(line)
    flush()
    return "".join(f"{line}\n" for line in out)


def compile_hashes(pip_compile: Path, pins: dict[str, str], work: Path) -> str:
    src = work / "pins.in"
    out = work / "pins.txt"
    src.write_text("".join(f"{pin}\n" for pin in pins.values()))
    out.unlink(missing_ok=True)
    subprocess.run(
        [
            str(pip_compile), "--quiet", "--generate-hashes", "--allow-unsafe",
            "--no-annotate", "--no-header", "--no-emit-index-url", "--no-emit-find-links",
            "--no-emit-trusted-host", "--no-emit-options", "--output-file", str(out), str(src),
        ],
        check=True,
        cwd=work,
    )
    return with_extras_pins(drop_unsafe(out.read_text()))


def main(argv: list[str]) -> int:
    files = [Path(a).resolve() for a in argv] or DEFAULT_FILES
    with tempfile.TemporaryDirectory(prefix="driftgate-hash-pins-") as tmp:
        work = Path(tmp)
        tools = work / "venv"
        venv.create(tools, with_pip=True)
        subprocess.run([str(tools / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", PIP_TOOLS], check=True)
        for file in files:
            header, pins = read_pins(file.read_text())
            compiled = compile_hashes(tools / "bin" / "pip-compile", pins, work)
            _, resolved = read_pins(compiled)
            versions = {k: v.split("==")[1] for k, v in resolved.items()}
            frozen = {k: v.split("==")[1] for k, v in pins.items()}
            if versions != frozen:
                added = sorted(f"{k}=={v}" for k, v in versions.items() if frozen.get(k) != v)
                removed = sorted(f"{k}=={v}" for k, v in frozen.items() if versions.get(k) != v)
                print(f"{file}: pip-compile resolved a different set (added {added}, removed {removed}); re-freeze first", file=sys.stderr)
                return 1
            file.write_text("\n".join(header) + ("\n" if header else "") + compiled)
            print(f"{file.relative_to(ROOT)}: {len(pins)} pins hashed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
