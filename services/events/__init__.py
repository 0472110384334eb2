"""User events on content, channels and sections, published to Kafka (spec section 3)."""
