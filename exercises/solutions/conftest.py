"""Run the solution notebooks in strict mode under nbval: any check that does not pass raises, failing the cell.

The kernel of a notebook starts during the set-up of its first cell and inherits the environment then, so the
variable is set for the set-up of every solution cell and removed after each, never leaking into other tests.
"""
import os

import pytest

from dlcourse.grading import STRICT_ENV


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    os.environ[STRICT_ENV] = "1"


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    os.environ.pop(STRICT_ENV, None)
