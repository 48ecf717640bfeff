"""The workshop: six exercises on a copy of the repository, each proved done by its checker.

`python -m workshop check N` (`make exercise N`) runs exercise N's checker against
its copy, a git worktree under `.state/workshop/`; `reset N` starts it over.
docs/workshop/README.md is the learner's guide.
"""
