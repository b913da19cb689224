"""The reports of the searches that are not grids: the boundary search's and the range test's."""
