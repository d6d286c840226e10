"""Models the command tests share: trained once per session, read (never written) by the tests."""

import pytest

from tests.helpers import fitted


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory):
    return fitted(tmp_path_factory, "digits", 3)


@pytest.fixture(scope="session")
def regression_run(tmp_path_factory):
    return fitted(tmp_path_factory, "regression", 30)
