"""The submissions in this folder are data for tests/test_grading_sandbox.py: never collect them."""
collect_ignore_glob = ["*.py", "*.ipynb"]
