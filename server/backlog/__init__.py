"""backlog: persistent, cross-session task management for Claude Code."""

__version__ = "0.1.0"
