"""The checkers: one pytest module per exercise, run against the exercise's copy.

`python -m workshop check N` runs `test_exercise_NN.py` in a pytest process whose
imports resolve to the copy (`-c <copy>/pyproject.toml`, importlib import mode),
so the learner's code is what gets checked. The main suite never collects them:
its testpaths is `tests/`.
"""

# Set by the runner: the copy under check, its exercise's number, and where to
# write the summary the runner reads.
COPY_VARIABLE = "WORKSHOP_COPY"
EXERCISE_VARIABLE = "WORKSHOP_EXERCISE"
RESULT_VARIABLE = "WORKSHOP_RESULT"
