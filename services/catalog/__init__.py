"""The shared catalog (spec section 4): sources, movies, TV, channels, schedule, availability, sports."""
