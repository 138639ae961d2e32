"""Checkpoint mechanics: stop signals that reach a campaign between its jobs are not lost."""

import os
import signal

from evofool.campaigns.checkpoint import stop_on_signals


def test_a_signal_caught_between_two_jobs_stops_the_next_one():
    with stop_on_signals() as campaign_stop:
        with stop_on_signals() as first_job:
            assert first_job() == 0
        os.kill(os.getpid(), signal.SIGTERM)  # after one job ended, before the next began
        assert campaign_stop() == signal.SIGTERM
        with stop_on_signals() as next_job:
            assert next_job() == signal.SIGTERM
    with stop_on_signals() as later:  # a new campaign starts with no stop
        assert later() == 0


def test_a_signal_caught_in_a_job_that_then_finishes_stops_the_next_one():
    with stop_on_signals() as campaign_stop:
        with stop_on_signals() as first_job:
            os.kill(os.getpid(), signal.SIGTERM)  # in the job's last generation: it reaches its target anyway
            assert first_job() == signal.SIGTERM
        assert campaign_stop() == signal.SIGTERM
        with stop_on_signals() as next_job:
            assert next_job() == signal.SIGTERM
    with stop_on_signals() as later:
        assert later() == 0
