"""csvnlp: Creating Shared Value levels and cluster/programme names for project descriptions."""

__version__ = "0.1.0"
