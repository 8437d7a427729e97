"""What admins type is documented: every option of every command and every environment variable
the code reads appears in the README; `make eval` works in a clone without ../shared."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from assistant.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_cli_option_is_in_the_readme():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    missing = []
    for name, sp in sub.choices.items():
        for action in sp._actions:
            flags = [f for f in action.option_strings if f not in ("-h", "--help", "--index", "-v", "--verbose")]
            if flags and not any(re.search(rf"{re.escape(name)}\b[^\n]*{re.escape(f)}\b", README) or
                                 f"`{name} {f}`" in README for f in flags):
                missing.append(f"{name} {flags[0]}")
    assert not missing, missing
    assert "qunzhong -v ingest" in README and "ask --json" in README and "`also`" in README


def test_every_environment_variable_is_in_the_readme():
    code = "\n".join(p.read_text(encoding="utf-8") for d in ("assistant", "index", "ingest", "ui")
                     for p in (ROOT / d).rglob("*.py"))
    names = set(re.findall(r"\b(QUNZHONG_[A-Z_]+)\b", code))
    assert {"QUNZHONG_FEEDBACK", "QUNZHONG_CORPUS", "QUNZHONG_AUTH_FILE"} <= names
    assert not [n for n in sorted(names) if n not in README]


def test_make_eval_without_shared_uses_the_copies_in_tests(tmp_path):
    if shutil.which("make") is None:
        import pytest

        pytest.skip("make is not installed")
    clone = tmp_path / "clone"  # no ../shared beside it
    clone.mkdir()
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, clone / name)
    out = subprocess.run(["make", "-n", "eval"], cwd=clone, capture_output=True, text=True).stdout
    assert "benchmarks/eval_all.py --shared tests/resources/eval" in out
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from eval_all import suites

    sets = {name: path for _, files in suites(ROOT / "tests/resources/eval").values() for name, path, _ in files}
    assert sets["dev_questions"] == ROOT / "tests/resources/eval/dev_questions.jsonl" and sets["dev_questions"].exists()
    assert all(p.exists() for p in sets.values())


def test_a_setting_is_compared_on_the_tuning_sets_only(corpus_index, tmp_path, capsys):
    """`eval_all.py --setting` reads a variant on the sets retrieval is tuned on and on no other:
    the held-out sets over the same index are not run."""
    import json
    import sys

    import pytest

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from eval_all import TUNED, main, suites

    shared = ROOT / "tests/resources/eval"
    dev_sets = {name for name, _, _ in suites(shared)["dev"][1]}
    assert dev_sets - TUNED >= {"heldout_corpus", "heldout_corpus_multiturn"}
    assert not {n for _, files in suites(shared).values() for n, _, _ in files if n.startswith("heldout")} & TUNED
    shutil.copytree(corpus_index, tmp_path / "data" / "dev")
    out = tmp_path / "report.json"
    assert main(["--shared", str(shared), "--data", str(tmp_path / "data"), "--only", "dev",
                 "--setting", "translation_weight", "1.5", "--json", str(out)]) == 0
    ran = {r["set"] for r in json.loads(out.read_text(encoding="utf-8"))}
    assert ran == dev_sets & TUNED and "dev_questions_en" in ran
    with pytest.raises(SystemExit):
        main(["--shared", str(shared), "--data", str(tmp_path / "data"), "--setting", "no_such_setting", "1"])
    assert "no_such_setting is not a setting" in capsys.readouterr().err
