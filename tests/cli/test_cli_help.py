"""--help texts: one default per option, none for flags, descriptions that end their sentence."""

import re

import pytest

from animsup.cli import main

COMMANDS = ["train", "render", "demo", "inspect", "events", "minima", "import", "measure", "sae"]


@pytest.mark.parametrize("cmd", COMMANDS)
def test_help_has_no_contradictory_or_useless_defaults(cmd, capsys):
    with pytest.raises(SystemExit):
        main([cmd, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert not re.search(r"\(default[^)]*\)\s*\(default", text), text
    assert "(default: True)" not in text and "(default: False)" not in text and "(default: None)" not in text
    desc = re.split(r"positional arguments|options:", text)[0]
    assert desc.rstrip().endswith((".", ")", "]")), desc[-80:]


def _option_helps(text: str) -> dict[str, str]:
    """Option string -> its help text (whitespace joined) from an argparse --help page."""
    out: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"  (-[-\w]+)(.*)", line)
        if m:
            current = m.group(1)
            out[current] = m.group(2)
        elif current and line.startswith(" " * 10):
            out[current] += " " + line.strip()
        else:
            current = None
    return {k: " ".join(v.split()) for k, v in out.items()}


def test_demo_help_names_the_defaults_the_demo_uses(capsys):
    import argparse

    from animsup.cli import main_parser

    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    helps = _option_helps(capsys.readouterr().out)
    demo = next(a for a in main_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices["demo"]
    used = vars(demo.parse_args([]))
    for option, attr, shown in [("--feature-probability", "feature_probability", "0.05"), ("--seeds", "seeds", "4"),
                                ("--n-features", "n_features", "5"), ("--importance", "importance", "0.9")]:
        assert re.findall(r"default:? ([^;)]+)", helps[option]) == [shown], helps[option]
        value = used[attr]
        assert (" ".join(map(str, value)) if isinstance(value, list) else str(value)) == shown


def test_render_summary_names_every_output_format_and_readme_lists_every_command(capsys):
    """The formats come from the output registry; the README's commands table has a row per command."""
    from pathlib import Path

    from animsup.cli import main_parser
    from animsup.rendering.outputs import FORMATS

    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    line = text.split(" render ", 1)[1].split(" demo ", 1)[0]
    for f in FORMATS:
        assert re.search(rf"\b{f.name}\b", line, re.I), (f.ext, line)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Commands", 1)[1].split("\n\n", 2)[1]
    sub = next(a for a in main_parser()._actions if getattr(a, "choices", None) and "train" in a.choices)
    for name in sub.choices:
        assert f"| `animsup {name}" in table, name
