"""The person's private notes and their links."""
