"""Helpers of the test suite, one module per job (fixtures live in tests/conftest.py):

* `paths`: the repository root;
* `models`: tiny models built to order, non-trivial prompts and adapters;
* `trained_motion`: the shipped trained motion model and the assertions every model of its recipe passes;
* `video_data`: small videos whose frames show their index;
* `servers`: local HTTP servers (plain files, a fake Hugging Face Hub);
* `hub_cache`: a Hugging Face Hub cache laid out offline;
* `fuzz`: the video fuzzer (also run by benchmarks/fuzz_video.py);
* `zoo_driver`: a script a test runs in a fresh process against the zoo.
"""
