"""One module per subcommand: each orchestrates domain modules and returns dataclasses."""
