"""eigyo (営業): troubleshoot a sales organization like a failing program."""

__version__ = "0.1.0"
