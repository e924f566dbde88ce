"""Who the viewer is and whom they may act for, per request: fetches registry facts,
asks the pure rules in `authz`, memoises, and puts every refusal to reach a person on
the request's audit record."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from authz import refusals
from authz.audit import NO_BASIS, NO_SUBJECT
from authz.categories import Category
from authz.facts import PersonFacts
from authz.identity import parse_national_id
from authz.policy import Action, Basis, Decision, Policy, View, partner_view
from authz.principal import Principal
from authz.relations import Relation, age_on, relations
from resolvers.core.errors import BadUserInput, Forbidden
from resolvers.core.ids import PERSON, IdCodec, decode, entity_parts, key_subject_of
from resolvers.core.recorder import AccessRecorder
from sources.errors import UpstreamError
from sources.national import NationalClient


class PrincipalKind(StrEnum):
    """What kind of caller holds the token."""

    CITIZEN = "citizen"
    PARTNER = "partner"
    ANALYST = "analyst"


def principal_kind(principal: Principal, policy: Policy) -> PrincipalKind:
    """Partners carry a delegated token (`act`); analysts the analytics scope."""
    if principal.actor_client_id is not None:
        return PrincipalKind.PARTNER
    if policy.analyst_scope in principal.scopes:
        return PrincipalKind.ANALYST
    return PrincipalKind.CITIZEN


@dataclass(frozen=True, slots=True)
class Subject:
    """A person the viewer acts for in this request, and how the viewer sees them."""

    nin: str
    view: View
    valid_until: dt.date | None = None

    @property
    def basis(self) -> Basis:
        """The access basis."""
        return self.view.basis

    def __repr__(self) -> str:
        return f"Subject(basis={self.view.basis})"


class Access:
    """The viewer's own view and relations for one request, each computed at most once."""

    def __init__(
        self,
        *,
        policy: Policy,
        national: NationalClient,
        ids: IdCodec,
        principal: Principal,
        today: dt.date,
        recorder: AccessRecorder,
        registered: frozenset[Category] = frozenset(),
    ) -> None:
        """`registered`: the categories a partner caller is registered for (none else).
        `recorder` is the request's: every refusal to reach a person goes on the record
        there (see `subject_by_key`)."""
        self.policy = policy
        self._recorder = recorder
        self.kind = principal_kind(principal, policy)
        self.principal = principal
        self._national = national
        self._ids = ids
        self._today = today
        self._registered = registered
        self.high_assurance = principal.acr == policy.high_acr
        self._me: asyncio.Task[Subject] | None = None
        self._relations: asyncio.Task[list[Relation]] | None = None
        self._ages: dict[str, int] = {}

    def decide(
        self, subject: Subject, category: Category, action: Action = Action.READ
    ) -> Decision:
        """The policy's answer for this subject, category and action."""
        return self.policy.decide(subject.view, category, action)

    # -- the viewer --------------------------------------------------------------------

    async def me(self, *, action: Action = Action.READ) -> Subject:
        """The viewer as a subject: SELF from 16, YOUTH 13-15 with consent, PARTNER for a
        partner client acting for the citizen (never more than the citizen's own view).
        Forbidden for analysts and for people without a basis of their own, whoever asks.

        From 16 the token alone decides (identity, and age from the identity number): no
        registry read, so a national-portal outage never costs anyone their own view.
        Under 16 the consent is a registry fact: while it cannot be read the upstream's
        error is raised (and the refusal recorded), never a basis guessed."""
        if self._me is None:
            self._me = asyncio.ensure_future(self._compute_me())
        try:
            return await self._me
        except Forbidden:  # on the record, however the viewer asked for themself
            self._refused(self.principal.nin, refusals.NO_ACCESS_BASIS, action)
            raise
        except UpstreamError:  # a youth's consent unread: no basis is assumed
            self._refused(self.principal.nin, refusals.REGISTRY_UNAVAILABLE, action)
            raise

    async def _compute_me(self) -> Subject:
        nin = self.principal.nin
        if self.kind is PrincipalKind.ANALYST:
            raise Forbidden()
        age = age_on(parse_national_id(nin).birth_date, self._today)
        consent = False
        if age < self.policy.self_min_age:
            self._national.rests_on([nin])  # a youth's consent
            facts = await self._national.persons.load(nin)
            consent = facts is not None and facts.youth_consent
        basis = self.policy.own_basis(age, consent)
        if basis is None:
            raise Forbidden()
        own = View(basis, self.high_assurance)
        if self.kind is PrincipalKind.PARTNER:
            scopes = self.principal.scopes
            return Subject(nin, partner_view(own, scopes=scopes, registered=self._registered))
        return Subject(nin, own)

    # -- the people the viewer acts for ------------------------------------------------

    async def relations(self) -> list[Relation]:
        """Everyone the viewer may act for today (without the viewer). Citizens with the
        high login level only: partners, analysts and lower levels act for no one."""
        if self.kind is not PrincipalKind.CITIZEN or not self.high_assurance:
            return []
        if self._relations is None:
            self._relations = asyncio.ensure_future(self._compute_relations())
        return await self._relations

    async def _compute_relations(self) -> list[Relation]:
        viewer_nin = self.principal.nin
        self._national.rests_on([viewer_nin])
        viewer, powers = await asyncio.gather(
            self._national.persons.load(viewer_nin),
            self._national.powers_held_by(viewer_nin),
        )
        if viewer is None:
            return []
        first = [*viewer.children, *(p.grantor for p in powers)]
        self._national.rests_on(first)
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
            self._national.rests_on(others)
            more = await self._national.persons.load_many(sorted(others))
            facts.update({f.nin: f for f in more if f is not None})
        self._ages = {nin: age_on(f.birth_date, self._today) for nin, f in facts.items()}
        return relations(self.policy, viewer, facts, powers, self._today)

    def subject_for(self, relation: Relation) -> Subject:
        """The subject a relation lets the viewer act for."""
        view = View(
            relation.basis,
            self.high_assurance,
            subject_age=self._ages.get(relation.subject),
            proxy_kind=relation.proxy_kind,
            proxy_areas=relation.proxy_areas,
        )
        return Subject(relation.subject, view, relation.valid_until)

    async def represented(self) -> list[Subject]:
        """Subjects for every relation."""
        return [self.subject_for(r) for r in await self.relations()]

    async def subject(self, global_id: str, *, action: Action = Action.READ) -> Subject:
        """The person behind `global_id` if the viewer may act for them; Forbidden otherwise
        (BadUserInput for a malformed id). Every refusal is recorded, for `action`.

        An id of no one and an id of someone out of reach fail the same way.
        """
        try:
            type_name, _, key = decode(global_id)
        except BadUserInput:
            self._refused(NO_SUBJECT, refusals.MALFORMED_ID, action)
            raise
        if type_name != PERSON:
            parts = entity_parts(global_id)  # an item id names its person
            whose = NO_SUBJECT if parts is None else key_subject_of(parts[2])
            self._refused(whose, refusals.WRONG_ID_TYPE, action)
            raise Forbidden()
        return await self.subject_by_key(key, action=action)

    async def subject_by_key(self, key: str, *, action: Action = Action.READ) -> Subject:
        """The person whose id key (`IdCodec.person_key`) is `key`, as in `subject`.

        With `me`, the place a refusal to reach a person goes on the record: a denied
        entry with the reason the registry facts support (`authz.refusals`), about the
        person by national id when the registry names them, else by the key the id carried.
        While the registry cannot be read, the upstream's error is raised for anyone but
        the viewer, and recorded as `REGISTRY_UNAVAILABLE` about the key.
        """
        if key == self._ids.person_key(self.principal.nin):
            return await self.me(action=action)
        try:
            found = await self.relations()
        except UpstreamError:
            # Fail closed: with no fresh registry facts no one else is reached. The
            # upstream's error goes to the caller, the same whoever the id named.
            whose = key_subject_of(key)
            made_up = whose == NO_SUBJECT  # no key the gateway writes
            self._refused(
                whose, refusals.MALFORMED_ID if made_up else refusals.REGISTRY_UNAVAILABLE, action
            )
            raise
        for relation in found:
            if key == self._ids.person_key(relation.subject):
                return self.subject_for(relation)
        reason, nin = await self._why_not(key)
        if nin is None and (whose := key_subject_of(key)) == NO_SUBJECT:
            reason = refusals.MALFORMED_ID  # no key the gateway writes: made up
        self._refused(whose if nin is None else nin, reason, action)
        raise Forbidden()

    def _refused(self, subject: str, reason: str, action: Action) -> None:
        self._recorder.refused(subject, NO_BASIS, reason, action)

    async def _why_not(self, key: str) -> tuple[str, str | None]:
        """The reason to record for a key no relation matches, and the person's national
        id when the registry names them. Reads only what `relations()` read already (the
        request's loaders answer again from memory), so every refusal costs the same."""
        if self.kind is PrincipalKind.ANALYST:
            return refusals.NO_ACCESS_BASIS, None
        if self.kind is PrincipalKind.PARTNER:
            return refusals.NO_RELATION, None
        if not self.high_assurance:
            return refusals.LOGIN_LEVEL_TOO_LOW, None
        viewer_nin = self.principal.nin
        try:
            viewer, powers = await asyncio.gather(
                self._national.persons.load(viewer_nin),
                self._national.powers_held_by(viewer_nin),
            )
        except UpstreamError:
            return refusals.NO_RELATION, None
        return refusals.person_refusal(
            self.policy,
            viewer,
            powers,
            self._today,
            lambda nin: self._ids.person_key(nin) == key,
        )
