#!/usr/bin/env python3
"""The README's first ```c block as a meson test (issue 9 item 6).

    readme_block.py extract README.md OUT.c   # the block, verbatim
    readme_block.py run EXE EXPECTED          # runs EXE, its stdout must be EXPECTED

tests/readme/meson.build compiles the extracted block with the project's
warnings (and -Werror where the build has it); scripts/readme-check.sh does
the same outside meson, with gcc and clang against the installed-style
archive.
"""
import subprocess
import sys


def extract(readme, out):
    block, inside = [], False
    with open(readme) as f:
        for line in f:
            if not inside and line.rstrip("\n") == "```c":
                inside = True
            elif inside and line.rstrip("\n") == "```":
                break
            elif inside:
                block.append(line)
    if not block:
        sys.exit(f"{readme}: no ```c block")
    with open(out, "w") as f:
        f.writelines(block)


def run(exe, expected):
    p = subprocess.run([exe], capture_output=True, text=True, timeout=60)
    sys.stderr.write(p.stderr)
    if p.returncode != 0:
        sys.exit(f"the README's C block exited with status {p.returncode}")
    if p.stdout.strip() != expected:
        sys.exit(f"the README's C block printed {p.stdout.strip()!r}, expected {expected!r}")
    print(f"the README's C block printed {expected}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "extract":
        extract(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
