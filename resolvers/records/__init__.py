"""The journal: critical information, documents, results, referrals, vaccinations, requests
about the journal and who has read it.
"""
