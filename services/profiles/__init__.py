"""User profiles and sports preferences (spec section 2)."""
