"""distributed.together: the ranks agree on how a step went before any goes on, so an error
every rank (or some rank) met ends the whole job as one, without MPI_Abort. A fake world of two
ranks whose other rank's outcome is given: no MPI needed."""

from __future__ import annotations

import pytest

from nettrain import distributed
from nettrain.errors import ConfigError, NettrainError


class TwoRanks:
    """Rank ``rank`` of 2; the other rank's outcome (None: it succeeded) is ``other``."""

    size = 2

    def __init__(self, rank: int, other):
        self.rank = rank
        other_said = other

        class comm:
            @staticmethod
            def allgather(mine):
                return [mine, other_said] if rank == 0 else [other_said, mine]

        self.comm = comm


def step_failing():
    raise ConfigError("c.yaml:3: training.epocs: unknown key")


def test_without_mpi_it_is_the_step_itself(monkeypatch):
    monkeypatch.setattr(distributed, "world", lambda: None)
    assert distributed.together(lambda: 42) == 42
    with pytest.raises(ConfigError) as raised:
        distributed.together(step_failing)
    assert not getattr(raised.value, "collective", False)


def test_every_rank_succeeding_goes_on(monkeypatch):
    monkeypatch.setattr(distributed, "world", lambda: TwoRanks(0, None))
    assert distributed.together(lambda: "cfg") == "cfg"


def test_every_rank_failing_raises_its_own_error_marked_collective(monkeypatch):
    monkeypatch.setattr(distributed, "world", lambda: TwoRanks(0, ("c.yaml:3: ...", 2)))
    with pytest.raises(ConfigError) as raised:
        distributed.together(step_failing)
    assert raised.value.collective is True and str(raised.value).startswith("c.yaml:3:")


def test_a_rank_that_succeeded_raises_the_failing_ranks_error_naming_it(monkeypatch):
    monkeypatch.setattr(distributed, "world", lambda: TwoRanks(0, ("c.yaml:3: unknown key", 2)))
    with pytest.raises(NettrainError) as raised:
        distributed.together(lambda: "cfg")
    assert str(raised.value) == "MPI rank 1 of 2: c.yaml:3: unknown key"
    assert raised.value.exit_code == 2 and raised.value.collective is True
    # and the failing rank, rank 1, raises its own
    monkeypatch.setattr(distributed, "world", lambda: TwoRanks(1, None))
    with pytest.raises(ConfigError) as raised:
        distributed.together(step_failing)
    assert raised.value.collective is True


def test_a_rank_failing_after_a_lower_one_while_another_succeeded_raises_the_lowest_ones(monkeypatch):
    """Of three ranks, 0 succeeded and 1 and 2 failed: rank 2 raises rank 1's error (its message
    and exit code), as rank 0 does, so that the ranks end alike; not its own."""

    class ThreeRanks:
        rank, size = 2, 3

        class comm:
            @staticmethod
            def allgather(mine):
                return [None, ("c.yaml:3: unknown key", 2), mine]

    monkeypatch.setattr(distributed, "world", ThreeRanks)

    def step_failing_otherwise():
        error = NettrainError("data.csv:9: expected 5 fields")
        error.exit_code = 1
        raise error

    with pytest.raises(NettrainError) as raised:
        distributed.together(step_failing_otherwise)
    assert str(raised.value) == "MPI rank 1 of 3: c.yaml:3: unknown key"
    assert raised.value.exit_code == 2 and raised.value.collective is True


def test_end_together_finalizes_mpi_only_for_an_error_every_rank_met(monkeypatch):
    """Only a collective error finalizes MPI, so that the exit code ends the job without
    MPI_Abort; a rank that fails alone must abort the job, or the others would wait for it."""
    import sys
    from types import SimpleNamespace

    finalized = []
    MPI = SimpleNamespace(Is_finalized=lambda: bool(finalized), Finalize=lambda: finalized.append(1))
    monkeypatch.setitem(sys.modules, "mpi4py", SimpleNamespace(MPI=MPI))
    monkeypatch.setattr(distributed, "world", lambda: TwoRanks(0, None))
    distributed.end_together(NettrainError("one rank's"))
    assert finalized == []
    agreed = NettrainError("every rank's")
    agreed.collective = True
    distributed.end_together(agreed)
    distributed.end_together(agreed)  # (once finalized, not again)
    assert finalized == [1]
    monkeypatch.setattr(distributed, "world", lambda: None)  # without MPI: nothing to end
    finalized.clear()
    distributed.end_together(agreed)
    assert finalized == []
