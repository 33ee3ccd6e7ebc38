"""mlcicd: the library behind the book *Building CI/CD pipelines for machine learning*.

Every chapter, lab, CLI command and GitHub workflow of the project calls this package,
so what the book shows is what the pipeline runs.
"""

__version__ = "0.1.0"
