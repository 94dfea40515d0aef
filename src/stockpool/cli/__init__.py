"""The `stockpool` command line (Typer + Rich)."""
