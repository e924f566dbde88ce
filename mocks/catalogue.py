"""Shared directories (practitioners, locations) and the vocabularies records draw from."""

from __future__ import annotations

import random

from mocks.record_types import HOME_VISIT, Location, Practitioner
from mocks.registry import MUNICIPALITIES, Municipality

SERVICES_HOSPITAL = (
    "Poliklinikk indremedisin",
    "Ortopedisk kontroll",
    "Hudpoliklinikk",
    "Øyepoliklinikk",
    "Barnepoliklinikk",
    "Røntgen",
)
SERVICES_MUNICIPAL = ("Helsestasjon", HOME_VISIT, "Fysioterapi", "Legevakt oppfølging")
LABS = (  # LOINC code, display, unit, low, high
    ("718-7", "Hemoglobin", "g/dL", 11.7, 15.3),
    ("2345-7", "Glucose", "mmol/L", 4.0, 6.0),
    ("2160-0", "Creatinine", "umol/L", 45.0, 90.0),
    ("3016-3", "TSH", "mIU/L", 0.5, 4.1),
    ("1988-5", "C reactive protein", "mg/L", 0.0, 5.0),
    ("2093-3", "Cholesterol", "mmol/L", 3.3, 6.9),
)
MEDICINES = (  # ATC, name, form, dosage
    ("H03AA01", "Levaxin 50 mikrog", "tablett", "1 tablett om morgenen"),
    ("C10AA01", "Simvastatin 20 mg", "tablett", "1 tablett om kvelden"),
    ("N02BE01", "Paracet 500 mg", "tablett", "1-2 tabletter ved behov, maks 8 per døgn"),
    ("R03AC02", "Ventoline 0,1 mg/dose", "inhalasjonsaerosol", "1-2 doser ved behov"),
    ("A02BC01", "Omeprazol 20 mg", "enterokapsel", "1 kapsel daglig"),
    ("C09AA05", "Ramipril 5 mg", "tablett", "1 tablett daglig"),
    ("B01AC06", "Albyl-E 75 mg", "enterotablett", "1 tablett daglig"),
)
VACCINES_CHILD = (  # ATC, name, age in months
    ("J07CA06", "DTP-IPV-Hib-HepB (Infanrix hexa)", 3),
    ("J07AL02", "Pneumokokk (Prevenar 13)", 5),
    ("J07BD52", "MMR (Priorix)", 15),
    ("J07CA02", "DTP-IPV (Tetravac)", 84),
    ("J07BM02", "HPV (Cervarix)", 144),
)
VACCINES_ADULT = (
    ("J07BB02", "Influensa (Influvac Tetra)"),
    ("J07BN01", "Covid-19 (Comirnaty)"),
    ("J07AL02", "Pneumokokk (Prevenar 13)"),
)
MESSAGE_SUBJECTS = (
    "Spørsmål om time",
    "Prøvesvar",
    "Endring av medisin",
    "Innkalling",
    "Resept fornyet",
    "Oppfølging etter besøk",
)

# Records draw their places from the locations of the person's city, so how many a city
# has shapes every later draw of a record: the first `locations` are spread over the
# first three municipalities as they always were (their residents' records, personas'
# included, stay as they are), and each municipality after them gets `OWN_PLACES` GP
# offices and as many health stations of its own, numbered after those.
SPREAD_OVER = 3
OWN_PLACES = 4


class Catalogue:
    """Shared directories: practitioners and locations every record points into."""

    def __init__(self, seed: int, practitioners: int = 200, locations: int = 40) -> None:
        rng = random.Random(seed * 7 + 1)
        roles = ("Lege", "Sykepleier", "Fysioterapeut", "Helsesykepleier", "Jordmor")
        self.practitioners = [
            Practitioner(
                id=f"pr{n:05d}",
                given=rng.choice(("Anne", "Bjørn", "Cecilie", "Dag", "Eva", "Frode", "Guro")),
                family=rng.choice(("Aas", "Bakke", "Eide", "Foss", "Holm", "Lie", "Moe")),
                female=rng.random() < 0.5,
                role=roles[n % len(roles)],
            )
            for n in range(practitioners)
        ]
        kinds = ("hospital", "gp", "municipal")
        first = MUNICIPALITIES[:SPREAD_OVER]
        self.locations = [
            _location(n, kinds[n % 3], first[(n // 3) % len(first)]) for n in range(locations)
        ]
        for municipality in MUNICIPALITIES[SPREAD_OVER:]:
            for kind in ("gp", "municipal"):
                for _ in range(OWN_PLACES):
                    self.locations.append(_location(len(self.locations), kind, municipality))
        self.practitioner_by_id = {p.id: p for p in self.practitioners}
        self.location_by_id = {loc.id: loc for loc in self.locations}

    def locations_of_kind(self, kind: str) -> list[Location]:
        """Locations of one kind (`hospital`, `gp`, `municipal`)."""
        return [loc for loc in self.locations if loc.kind == kind]


def _location(n: int, kind: str, municipality: Municipality) -> Location:
    """The `n`th location: a hospital clinic (all at St. Olavs in Trondheim), or a GP
    office or health station of `municipality`."""
    if kind == "hospital":
        name = f"St. Olavs hospital, {SERVICES_HOSPITAL[n % len(SERVICES_HOSPITAL)]}"
        city = "Trondheim"
    else:
        suffix = "legekontor" if kind == "gp" else "helsestasjon"
        name, city = f"{municipality.name} {suffix}", municipality.name
    return Location(
        id=f"loc{n:04d}", name=name, street=f"Prinsens gate {n + 1}", city=city, kind=kind
    )
