"""The command-line surface for people and scripts."""
