"""The persisted-operation safelist shipped with the gateway: one `*.graphql` per screen.

A package only so the files travel inside the wheel as package data, beside the `gateway`
package, where `gateway.persisted.PersistedOperations.load` reads them (by path, never by
importing this name); each file's SHA-256 is a contract with the clients that send it, so
its text never changes.
"""
