"""The catalogue: content/ loaded, validated and frozen (see loader.py and model.py)."""

from bot.catalogue.catalogue import Catalogue
from bot.catalogue.loader import CatalogueError, Problem, check_catalogue, load_catalogue

__all__ = ["Catalogue", "CatalogueError", "Problem", "check_catalogue", "load_catalogue"]
