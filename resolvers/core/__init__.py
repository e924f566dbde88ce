"""The per-request vocabulary every domain uses (the floor of the graph): the request's
context, access and guard, errors, texts, ids, the audit recorder, categories, the shared
GraphQL building blocks and write helpers, the Node interface and municipal routing. Imports
nothing of the domains.
"""
