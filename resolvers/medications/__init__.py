"""Medications: the list, its entries and renewals."""
