"""Municipal health services: the services, applications and home care."""
