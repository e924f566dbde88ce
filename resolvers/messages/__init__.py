"""Messages: threads, recipients, sending, replying and marking read."""
