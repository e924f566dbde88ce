"""Questionnaires: the forms, their items and answers."""
