"""Who asks for which screen: citizens of the generated population, chosen
deterministically, and the persisted-operation requests they send.

Cold requests each come from a citizen this gateway process has not seen; warm requests
cycle over a small fixed set of citizens.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gateway.persisted import OPERATIONS_DIR, document_hash
from gateway.settings import DEVELOPMENT_ID_SECRET
from mocks.oidc import MockIssuer
from mocks.population import Person, Population
from resolvers.core.ids import IdCodec

SCREENS = ("home", "child_overview", "inbox", "results")
WARM_SET = 20
CHILD_MAX_AGE = 11  # the parent basis for 0-11 shows every category the screen asks for


@dataclass(frozen=True)
class Citizen:
    """The viewer, and the person the screen is about (the viewer, or their child)."""

    viewer: Person
    subject: Person


class Workload:
    """Requests for the four screens over one population (same seed as the mocks)."""

    def __init__(self, population: Population, warm_set: int = WARM_SET) -> None:
        self.population = population
        self.warm_size = warm_set
        self._issuer = MockIssuer()
        self._ids = IdCodec(DEVELOPMENT_ID_SECRET.encode())
        self._documents = {
            s: f"sha256:{document_hash((OPERATIONS_DIR / f'{s}.graphql').read_text('utf-8'))}"
            for s in SCREENS
        }
        today = population.today
        generated = [p for p in population if p.persona is None]
        adults = [p for p in generated if p.age_on(today) >= 18]
        random.Random(population.seed).shuffle(adults)  # noqa: S311 - a fixed order, not a secret
        self._adults = [Citizen(p, p) for p in adults]
        families: list[Citizen] = []
        seen: set[str] = set()
        for parent in adults:
            for nin in parent.children:
                child = population.by_nin(nin)
                if child and child.nin not in seen and child.age_on(today) <= CHILD_MAX_AGE:
                    seen.add(child.nin)
                    families.append(Citizen(parent, child))
                    break
        self._families = families  # one per child: no child is asked for twice

    def citizens(self, screen: str) -> list[Citizen]:
        """Every citizen who can ask for `screen`, in a fixed order."""
        return self._families if screen == "child_overview" else self._adults

    def request(self, screen: str, citizen: Citizen) -> tuple[str, dict[str, Any]]:
        """(bearer token, body) of `citizen` opening `screen`."""
        body: dict[str, Any] = {"documentId": self._documents[screen]}
        if screen != "home":
            body["variables"] = {"id": self._ids.person_id(citizen.subject.nin)}
        return self._issuer.token_for(citizen.viewer), body

    def cold(self, screen: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """One request per citizen outside the warm set, each citizen once."""
        return (self.request(screen, c) for c in self.citizens(screen)[self.warm_size :])

    def warm_set(self, screen: str) -> list[tuple[str, dict[str, Any]]]:
        """The requests of the fixed warm set (tokens minted once)."""
        return [self.request(screen, c) for c in self.citizens(screen)[: self.warm_size]]

    @staticmethod
    def warm(requests: list[tuple[str, dict[str, Any]]]) -> Iterator[tuple[str, dict[str, Any]]]:
        """The warm set, round and round."""
        return itertools.cycle(requests)
