"""The Claude Code hook surface: one function per event."""
