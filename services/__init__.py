"""The platform's services; each is independent and never imports another."""
