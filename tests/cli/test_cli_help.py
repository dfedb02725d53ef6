"""--help texts: one default per option, none for flags, descriptions that end their sentence."""

import re

import pytest

from animsup.cli import main

COMMANDS = ["train", "render", "demo", "inspect", "events", "minima", "import"]


@pytest.mark.parametrize("cmd", COMMANDS)
def test_help_has_no_contradictory_or_useless_defaults(cmd, capsys):
    with pytest.raises(SystemExit):
        main([cmd, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert not re.search(r"\(default[^)]*\)\s*\(default", text), text
    assert "(default: True)" not in text and "(default: False)" not in text and "(default: None)" not in text
    desc = re.split(r"positional arguments|options:", text)[0]
    assert desc.rstrip().endswith((".", ")", "]")), desc[-80:]
