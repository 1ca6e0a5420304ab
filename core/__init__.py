"""Image science for Quayside: pure numpy / scipy / rasterio / shapely.

Nothing in this package imports qgis or Qt, so it runs (and is tested) with
plain Python. Every function reads rasters in windows, so memory stays bounded
whatever the raster size.
"""
