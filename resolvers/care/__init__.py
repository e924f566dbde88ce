"""Who looks after the person: the care team and the regular GP."""
