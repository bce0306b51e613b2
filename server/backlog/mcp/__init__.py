"""The MCP surface: the stdio server and its typed tools."""
