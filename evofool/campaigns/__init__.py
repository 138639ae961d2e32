"""Campaigns: many searches with checkpoints, resumption and parallel execution."""

from .campaign import CampaignConfig, load_campaign, run_campaign, start_campaign
from .checkpoint import CorruptFileError, StopRequested

__all__ = ["CampaignConfig", "CorruptFileError", "StopRequested", "load_campaign", "run_campaign", "start_campaign"]
