"""Fuzzing in the test suite: every input a fuzzer ever crashed dlc with is
replayed through `dlc`, and the structured mutator runs a fixed number of
mutated models (scripts/fuzz.sh runs libFuzzer itself, from scripts/test.sh)."""
import pathlib

import pytest

from conftest import DLC, ROOT, run
from dlc_tools import fuzz_models

REGRESSIONS = sorted((ROOT / "test" / "fuzz" / "regressions").iterdir())


@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.name for p in REGRESSIONS])
def test_fuzzer_regressions_end_in_a_diagnostic(path):
    result = run([DLC, path, "--emit=training", "--batch", 2], timeout=60)
    assert result.returncode in (0, 1), result
    if result.returncode:
        assert "error:" in result.stderr, result


def test_structured_mutator_finds_nothing(tmp_path):
    status = fuzz_models.main(["--dlc", str(DLC), "--corpus", str(ROOT / "test" / "fuzz" / "corpus"),
                               "--count", "150", "--seed", "11", "--crash-dir", str(tmp_path)])
    assert status == 0, sorted(p.name for p in tmp_path.iterdir())
