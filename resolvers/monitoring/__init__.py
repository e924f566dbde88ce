"""Home monitoring: measurements, plans and reporting, and the pregnancy health card that reads
them.
"""
