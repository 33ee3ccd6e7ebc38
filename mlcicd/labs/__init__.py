"""Tooling for the lab notebooks: record metrics, check answers, build and run the labs.

A lab notebook imports two things from here: :func:`record`, which stores a number the
papermill matrix reports (``record("accuracy_drop", 0.12)``), and :mod:`mlcicd.labs.checks`,
whose small functions tell the learner at once whether an answer is right.

Each lab's first cell after its parameters calls
:func:`mlcicd.labs.ranges.check_lab_parameters`, which stops the lab with one sentence
when a parameter is outside the range ``labs/params.yaml`` declares. Lab 2 also uses
:func:`mlcicd.labs.testrun.run_tests`, which writes the tests a learner wrote (with the
helpers, imports and constants they use) into a file and runs it with a real
``python -m pytest`` in a fresh process.

The rest is for the people who maintain the labs:

- :mod:`mlcicd.labs.student` turns a solution notebook into the learner's version;
- :mod:`mlcicd.labs.build` executes the lab sources into the committed notebooks;
- :mod:`mlcicd.labs.params` reads the parameter matrix and checks it against the notebooks;
- :mod:`mlcicd.labs.ranges` draws random legal parameter sets (the property run);
- :mod:`mlcicd.labs.runner` runs the matrix with papermill, in parallel;
- :mod:`mlcicd.labs.frontend` starts JupyterLab on the learner notebooks (``make lab``).

Nothing here is imported by ``import mlcicd``, the release machinery or the server: the
notebook machinery (papermill, nbclient, JupyterLab) loads only when a lab tool runs.
"""

from mlcicd.labs.recorder import METRICS_ENV, record, recorded

__all__ = ["METRICS_ENV", "record", "recorded"]
