"""Appointments: the list and the types, the rules of what may be done when, booking and
changing, free slots and video.
"""
