"""The `segloc` command line."""
