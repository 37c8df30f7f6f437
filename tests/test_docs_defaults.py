"""Every default a document states is the code's: each `--flag=value` a doc gives as a flag's
default is that flag's default in every script of experiments/ that defines it, and each value
it gives to the CPU recipe is the recipe's (deblur/training.py CPU_RECIPE).

A doc states a default in one of these forms (the ones the docs use; write new ones so):
    `--flag=value` (the default)   `--flag=value` by default   default `--flag=value`
    `--flag` (default value)       `--flag`=value               (`--flag`, value)
    `--flag` [word] (number)       `--flag` [word] (number: ...)
    `--flag`, on by default        `--flag`, off by default
and a recipe value as `--flag=value`, then, before any other code span, "the CPU recipe" (or
"reference", its old name).
docs/results.md is the record of past runs and is not read. The flags come from importing
every script, in a separate process: scripts that define one flag each would clash in one.
"""
import importlib
import json
import os
import re
import subprocess
import sys
from collections import defaultdict


from deblur3d import paths

ROOT = paths.REPO_ROOT
DOCS = [ROOT / "README.md", ROOT / "checkpoints" / "README.md",
        *sorted(p for p in (ROOT / "docs").glob("*.md") if p.name != "results.md")]
FLAG, VALUE = r"`--(\w+)", r"([^`\s]+)"
DEFAULT_FORMS = [
    re.compile(FLAG + "=" + VALUE + r"`(?:,| \(| is)? ?(?:the |by |its )?default\b(?! before| was)"),
    re.compile(r"\bdefaults?(?: to| is| preset)?:? " + FLAG + "=" + VALUE + "`"),
    re.compile(FLAG + r"`(?: \w+)? \(default:? `?([^`),;:\s]+)"),
    re.compile(FLAG + r"`(?: \w+)? \((\d[\d.:]*)[:)]"),
    re.compile(FLAG + r"`=([\w.\-/]+)"),
    re.compile(r"\(" + FLAG + r"`, ([\d.]+)\)"),
]
SWITCH = re.compile(FLAG + r"`[^`.;\n]{0,12}?\b(on|off) by default")
RECIPE = re.compile(FLAG + "=" + VALUE + r"`[^`]{0,160}?\bCPU (?:recipe|reference)\b")


def claims(text):
    """(kind, flag, value) of every default `text` states: kind 'default' or 'recipe'."""
    text = re.sub(r"\s*\n\s*", " ", text.replace("\n\n", "\0")).replace("\0", "\n\n")   # lines joined
    found = [("default", m.group(1), m.group(2)) for form in DEFAULT_FORMS for m in form.finditer(text)]
    found += [("default", m.group(1), "true" if m.group(2) == "on" else "false") for m in SWITCH.finditer(text)]
    found += [("recipe", m.group(1), m.group(2)) for m in RECIPE.finditer(text)]
    return found


def script_flags():
    """{flag: [(script, default, its parse of each doc value)]}: every experiments/ script imported
    once, in this process; each script's new flags are read, then removed so the next may
    define its own."""
    from absl import flags
    sys.path.insert(0, str(ROOT / "experiments"))
    found = defaultdict(list)
    for path in sorted((ROOT / "experiments").glob("*.py")):
        before = set(flags.FLAGS)
        importlib.import_module(path.stem)
        for name in sorted(set(flags.FLAGS) - before):
            found[name].append((flags.FLAGS.find_module_defining_flag(name), flags.FLAGS[name]))
            delattr(flags.FLAGS, name)
    return found


def parses(flag, value):
    try:
        return flag.parser.parse(value), True
    except ValueError:
        return None, False


def as_written(value):
    """A default path inside the repository, as the docs write it (relative)."""
    return value[len(f"{ROOT}/"):] if isinstance(value, str) and value.startswith(f"{ROOT}/") else value


def mismatches():
    """One line per stated default that is not the code's (run in its own process).

    A flag name may stand for different flags in different scripts (blur_stats' --gate is a
    switch, the tool's a threshold): a stated default must be the default of a definition
    that takes the value, and of every other definition of the same type. The bench_*
    scripts are left out: timing harnesses, their defaults are timing's (an untrained ReconNet)."""
    from deblur3d.deblur.training import CPU_RECIPE
    defined, out = script_flags(), []
    for doc in DOCS:
        for kind, name, value in claims(doc.read_text()):
            where = f"{doc.relative_to(ROOT)}: --{name}={value}"
            if kind == "recipe":
                if name in CPU_RECIPE and parses(defined[name][0][1], value)[0] != CPU_RECIPE[name]:
                    out.append(f"{where}: the CPU recipe's is {CPU_RECIPE[name]!r}")
                continue
            takers = [(script, flag) for script, flag in defined.get(name, [])
                      if not script.startswith("bench_") and parses(flag, value)[1]]
            right = [flag for _, flag in takers if parses(flag, value)[0] == as_written(flag.default)]
            if not right:
                out.append(f"{where}: no script has it as its default "
                           f"({', '.join(f'{s}: {as_written(f.default)!r}' for s, f in takers) or 'none takes it'})")
            out += [f"{where}: {script}'s default is {as_written(flag.default)!r}" for script, flag in takers
                    if right and flag.flag_type() == right[0].flag_type()
                    and parses(flag, value)[0] != as_written(flag.default)]
    return sorted(set(out))


def test_the_forms_of_a_stated_default_are_read():
    text = ("Faces of `--min_face` px (default 80), `--max_gap` frames (2), `--max_side` (4096: more), `--detect_side`=640, `--blur=realistic` (the default), "
            "(`--gate`, 0.5), `--cnn_fallback`, on by default; the default preset `--blur=realistic`.\n\n"
            "`--stabilise=0`, the default before May. `--content=l1`, `--content=psnr`: minus the PSNR;\n"
            "the CPU reference uses it. The CPU recipe sets `--blocks=2`.")
    assert sorted(claims(text)) == sorted([
        ("default", "min_face", "80"), ("default", "max_gap", "2"), ("default", "max_side", "4096"), ("default", "detect_side", "640"), ("default", "blur", "realistic"),
        ("default", "gate", "0.5"), ("default", "cnn_fallback", "true"), ("default", "blur", "realistic"),
        ("recipe", "content", "psnr")])


def test_every_default_a_doc_states_is_the_codes():
    run = subprocess.run([sys.executable, __file__], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout.splitlines()[-1]) == []


if __name__ == "__main__":
    print(json.dumps(mismatches()))
