"""The fixed personas: who they are, where they live and how they are related.

Plain data read by `mocks.population`. Ages are relative to the population's reference
date, so a persona aged 14 is 14 whatever day the tests run.

    kari (45)     parent with responsibility for emil (8), ida (14) and jonas (17); holds
                  a full power of attorney from her father ola (82)
    frode (46)    registered father of emil, ida and jonas WITHOUT parental responsibility;
                  lives apart, in Levanger
    ida (14)      has a recorded parental youth-access consent
    mona (38)     parent with responsibility for lea (10); both at a strictly confidential
                  address (code 6)
    nils (50)     parent with responsibility for thea (13, no youth consent, same address);
                  holds powers of attorney from berit (75, standard), arne (68, read-only),
                  solveig (90, communicate-only) and gunnar (80, full, expired 10 days ago)
    per (51)      represents no one and is represented by no one
    anna (35)     an ordinary adult without relations (used as an analyst user)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PersonaSpec:
    """One fixed persona."""

    key: str
    given: str
    family: str
    age: int
    days_past_birthday: int
    female: bool
    home: str  # key into HOMES
    confidential: str | None = None
    abroad: bool = False
    youth_consent: bool = False


@dataclass(frozen=True, slots=True)
class PowerSpec:
    """A power of attorney between personas; `ends_in_days` is relative to the reference day."""

    grantor: str
    holder: str
    kind: str
    areas: tuple[int, ...]
    ends_in_days: int = 700


# The first six keep their original order: it decides their identity numbers.
PERSONAS: tuple[PersonaSpec, ...] = (
    PersonaSpec("kari", "Kari", "Nordmann", 45, 120, True, "nordmann"),
    PersonaSpec("emil", "Emil", "Nordmann", 8, 40, False, "nordmann"),
    PersonaSpec("ida", "Ida", "Nordmann", 14, 200, True, "nordmann", youth_consent=True),
    PersonaSpec("jonas", "Jonas", "Nordmann", 17, 90, False, "nordmann"),
    PersonaSpec("ola", "Ola", "Nordmann", 82, 300, False, "ola"),
    PersonaSpec("per", "Per", "Hansen", 51, 60, False, "per"),
    PersonaSpec("frode", "Frode", "Nordmann", 46, 150, False, "frode"),
    PersonaSpec("mona", "Mona", "Berg", 38, 75, True, "mona", confidential="6"),
    PersonaSpec("lea", "Lea", "Berg", 10, 130, True, "mona", confidential="6"),
    PersonaSpec("nils", "Nils", "Dahl", 50, 20, False, "nils"),
    PersonaSpec("thea", "Thea", "Dahl", 13, 100, True, "nils"),
    PersonaSpec("berit", "Berit", "Dahl", 75, 210, True, "berit"),
    PersonaSpec("arne", "Arne", "Haugen", 68, 45, False, "arne"),
    PersonaSpec("solveig", "Solveig", "Larsen", 90, 310, True, "solveig"),
    PersonaSpec("gunnar", "Gunnar", "Olsen", 80, 5, False, "gunnar"),
    PersonaSpec("anna", "Anna", "Johansen", 35, 180, True, "anna"),
)

# street, postal code, city, municipality code
HOMES: dict[str, tuple[str, str, str, str]] = {
    "nordmann": ("Kirkegata 12", "7013", "Trondheim", "5001"),
    "ola": ("Fjordveien 3", "7600", "Levanger", "5037"),
    "per": ("Parkveien 40", "0350", "Oslo", "0301"),
    "frode": ("Bakkeveien 7", "7600", "Levanger", "5037"),
    "mona": ("Skolegata 5", "0562", "Oslo", "0301"),
    "nils": ("Storgata 88", "7014", "Trondheim", "5001"),
    "berit": ("Parkveien 2", "7030", "Trondheim", "5001"),
    "arne": ("Fjordveien 19", "7601", "Levanger", "5037"),
    "solveig": ("Kirkegata 70", "0153", "Oslo", "0301"),
    "gunnar": ("Skolegata 31", "7015", "Trondheim", "5001"),
    "anna": ("Bakkeveien 64", "0458", "Oslo", "0301"),
}

# parent -> children under their parental responsibility
CHILDREN: dict[str, tuple[str, ...]] = {
    "kari": ("emil", "ida", "jonas"),
    "mona": ("lea",),
    "nils": ("thea",),
}
# parent -> children registered to them WITHOUT parental responsibility
NON_CUSTODIAL_CHILDREN: dict[str, tuple[str, ...]] = {"frode": ("emil", "ida", "jonas")}

POWERS: tuple[PowerSpec, ...] = (
    PowerSpec("ola", "kari", "full", (1, 3)),
    PowerSpec("berit", "nils", "standard", (1, 3)),
    PowerSpec("arne", "nils", "read-only", (1,)),
    PowerSpec("solveig", "nils", "communicate-only", (3,)),
    PowerSpec("gunnar", "nils", "full", (1, 3), ends_in_days=-10),
)
