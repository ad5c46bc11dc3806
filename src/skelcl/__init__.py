"""skelcl: self-supervised contrastive skeleton action recognition on shared, fast parts."""

__version__ = "0.1.0"
