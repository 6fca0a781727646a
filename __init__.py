"""GridWatch: streaming grid monitoring and anomaly detection for distribution utilities."""

__version__ = "0.1.0"
