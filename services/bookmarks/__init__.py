"""Bookmarks and live TV (spec section 5): "continue watching", and channel viewing turned into progress/seen."""
