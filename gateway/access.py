"""Resolves whom the viewer may act for: fetches registry facts, asks `authz`, memoises."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from authz.relations import Basis, Relation, relations
from gateway.errors import Forbidden
from gateway.ids import PERSON, IdCodec, decode
from sources.models import PersonFacts
from sources.national import NationalClient


@dataclass(frozen=True, slots=True)
class Subject:
    """A person the viewer acts for in this request, and on what basis."""

    nin: str
    relation: Relation

    @property
    def basis(self) -> Basis:
        """The access basis."""
        return self.relation.basis

    def __repr__(self) -> str:
        return f"Subject(basis={self.relation.basis})"


class Access:
    """The viewer's relations for one request, computed at most once."""

    def __init__(
        self, national: NationalClient, ids: IdCodec, viewer_nin: str, today: dt.date
    ) -> None:
        self._national = national
        self._ids = ids
        self._today = today
        self.me = Subject(viewer_nin, Relation(Basis.SELF, viewer_nin, None))
        self._relations: asyncio.Task[list[Relation]] | None = None

    async def relations(self) -> list[Relation]:
        """Everyone the viewer may act for today (without the viewer)."""
        if self._relations is None:
            self._relations = asyncio.ensure_future(self._compute())
        return await self._relations

    async def _compute(self) -> list[Relation]:
        viewer_nin = self.me.nin
        viewer, powers = await asyncio.gather(
            self._national.persons.load(viewer_nin),
            self._national.powers_held_by(viewer_nin),
        )
        if viewer is None:
            return []
        first = [*viewer.children, *(p.grantor for p in powers)]
        facts: dict[str, PersonFacts] = {
            f.nin: f for f in await self._national.persons.load_many(first) if f is not None
        }
        # Other custodians matter only when the viewer does not live with the child.
        others = {
            parent
            for child in viewer.children
            if child in facts and facts[child].address != viewer.address
            for parent in facts[child].parents
            if parent != viewer_nin and parent not in facts
        }
        if others:
            more = await self._national.persons.load_many(sorted(others))
            facts.update({f.nin: f for f in more if f is not None})
        return relations(viewer, facts, powers, self._today)

    async def subject(self, global_id: str) -> Subject:
        """The person behind `global_id` if the viewer may act for them; Forbidden otherwise.

        An id of no one and an id of someone out of reach fail the same way.
        """
        type_name, _, key = decode(global_id)
        if type_name != PERSON:
            raise Forbidden()
        if key == self._ids.person_key(self.me.nin):
            return self.me
        for relation in await self.relations():
            if key == self._ids.person_key(relation.subject):
                return Subject(relation.subject, relation)
        raise Forbidden()
