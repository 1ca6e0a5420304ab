"""Desktop user interface: the Quayside dock and its map tools."""
