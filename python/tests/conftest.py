"""Shared paths for the Python suite. Run by ctest ("python") with PYTHONPATH=build/python,
HEADSCAN_CLI (the command built alongside) and HEADSCAN_HOME (the source folder)."""
import os
import shutil

import pytest

ROOT = os.environ.get("HEADSCAN_HOME") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GOLDEN = os.path.join(ROOT, "tests", "golden")
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
TOY_MODEL = os.path.join(ROOT, "models", "toy")
TOY_DATA = os.path.join(ROOT, "data", "toy", "toy.jsonl")


@pytest.fixture(scope="session")
def cli():
    exe = os.environ.get("HEADSCAN_CLI") or os.path.join(ROOT, "build", "headscan")
    if not os.access(exe, os.X_OK):
        pytest.fail(f"the headscan command is not built ({exe}); set HEADSCAN_CLI")
    return exe


@pytest.fixture(scope="session")
def toy():
    import headscan
    return headscan.Model.from_pretrained(TOY_MODEL)


def fixture_dir(name):
    return os.path.join(FIXTURES, name)


def golden_dir(name):
    return os.path.join(GOLDEN, name)
