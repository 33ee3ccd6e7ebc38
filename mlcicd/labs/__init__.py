"""Tooling for the lab notebooks: record metrics, check answers, build and run the labs.

A lab notebook imports two things from here: :func:`record`, which stores a number the
papermill matrix reports (``record("accuracy_drop", 0.12)``), and :mod:`mlcicd.labs.checks`,
whose small functions tell the learner at once whether an answer is right.

Lab 2 also uses :func:`mlcicd.labs.testrun.run_tests`, which runs test functions written
in the notebook with a real ``python -m pytest`` in a fresh process.

The rest is for the people who maintain the labs:

- :mod:`mlcicd.labs.student` turns a solution notebook into the learner's version;
- :mod:`mlcicd.labs.build` executes the lab sources into the committed notebooks;
- :mod:`mlcicd.labs.params` reads the parameter matrix and checks it against the notebooks;
- :mod:`mlcicd.labs.runner` runs the matrix with papermill, in parallel.
"""

from mlcicd.labs.recorder import METRICS_ENV, record, recorded

__all__ = ["METRICS_ENV", "record", "recorded"]
