"""Notification settings and their texts."""
