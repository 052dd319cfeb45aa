"""The video fuzzer lives in tests/_helpers/fuzz.py; this name stays for benchmarks/fuzz_video.py, which imports
``_fuzz`` from tests/ (drop it once the benchmark imports ``_helpers.fuzz``)."""

from _helpers.fuzz import OUTCOMES, run_fuzz, write_seeds

__all__ = ["OUTCOMES", "run_fuzz", "write_seeds"]
