"""Fixed vocabularies the generators draw from: names, places, procedures, diagnoses, drugs.

Kept small and hand-written so files look plausible while the generator stays fast. A few values
carry commas, quotes, apostrophes and accents on purpose, to exercise CSV quoting and UTF-8.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "CITIES",
    "DIAGNOSES",
    "DRUGS",
    "EMAIL_DOMAINS",
    "FEMALE_NAMES",
    "INSTITUTIONAL_PROCEDURES",
    "LAST_NAMES",
    "MALE_NAMES",
    "PROFESSIONAL_PROCEDURES",
    "STREETS",
    "STREET_SUFFIXES",
    "City",
    "Drug",
    "Procedure",
]

FEMALE_NAMES: tuple[str, ...] = (
    "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah",
    "Karen", "Lisa", "Nancy", "Betty", "Sandra", "Margaret", "Ashley", "Kimberly", "Emily",
    "Donna", "Michelle", "Carol", "Amanda", "Melissa", "Deborah", "Stephanie", "Rebecca", "Laura",
    "Sharon", "Cynthia", "Kathleen", "Amy", "Angela", "Anna", "Brenda", "Emma", "Olivia", "Sofía",
    "Zoë", "Renée", "Mary-Kate", "Ngoc Anh", "Aaliyah", "Priya", "Mei", "Fatima", "Chloé",
)  # fmt: skip
MALE_NAMES: tuple[str, ...] = (
    "James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph", "Thomas",
    "Charles", "Christopher", "Daniel", "Matthew", "Anthony", "Mark", "Donald", "Steven", "Paul",
    "Andrew", "Joshua", "Kenneth", "Kevin", "Brian", "George", "Timothy", "Ronald", "Jason",
    "Edward", "Jeffrey", "Ryan", "Jacob", "Gary", "Nicholas", "Eric", "Jonathan", "Liam", "José",
    "Noah", "Mateo", "Jean-Luc", "Wei", "Mohammed", "Arjun", "Kwame", 'Robert "Bob"', "Björn",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera",
    "Campbell", "Mitchell", "Carter", "Roberts", "Patel", "Kim", "Chen", "O'Brien", "D'Angelo",
    "Smith-Jones", "De La Cruz", "Van der Berg", "Muñoz", "Nguyễn", "Østergaard", "McAllister",
    "O'Neil", "St. John", "Okafor", "Kowalski", "Schäfer", "Yamamoto", "Haddad", "Friedman",
)  # fmt: skip


class City(NamedTuple):
    """A city with its state and the first three digits of its ZIP codes."""

    name: str
    state: str
    zip3: str


CITIES: tuple[City, ...] = (
    City("Boston", "MA", "021"),
    City("Worcester", "MA", "016"),
    City("Hartford", "CT", "061"),
    City("Providence", "RI", "029"),
    City("Newark", "NJ", "071"),
    City("Trenton", "NJ", "086"),
    City("New York", "NY", "100"),
    City("Buffalo", "NY", "142"),
    City("Philadelphia", "PA", "191"),
    City("Pittsburgh", "PA", "152"),
    City("Baltimore", "MD", "212"),
    City("Richmond", "VA", "232"),
    City("Charlotte", "NC", "282"),
    City("Atlanta", "GA", "303"),
    City("Miami", "FL", "331"),
    City("Tampa", "FL", "336"),
    City("Nashville", "TN", "372"),
    City("Columbus", "OH", "432"),
    City("Detroit", "MI", "482"),
    City("Chicago", "IL", "606"),
    City("Milwaukee", "WI", "532"),
    City("Minneapolis", "MN", "554"),
    City("St. Louis", "MO", "631"),
    City("Dallas", "TX", "752"),
    City("Houston", "TX", "770"),
    City("San Antonio", "TX", "782"),
    City("Denver", "CO", "802"),
    City("Phoenix", "AZ", "850"),
    City("Las Vegas", "NV", "891"),
    City("Los Angeles", "CA", "900"),
    City("San José", "CA", "951"),
    City("Seattle", "WA", "981"),
)
STREETS: tuple[str, ...] = (
    "Main", "Oak", "Pine", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park",
    "Walnut", "Sunset", "Lincoln", "Jefferson", "Highland", "Church", "Spring", "Mill", "River",
    "Chestnut", "Franklin", "Madison", "Forest", "Willow", "Meadow", "Ridge", "Martin Luther King",
)  # fmt: skip
STREET_SUFFIXES: tuple[str, ...] = ("St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Way", "Pl")
EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.org", "example.net", "mail.example.com")


class Procedure(NamedTuple):
    """A CPT/HCPCS code with a typical billed price per unit (cents) and its maximum units."""

    code: str
    price_cents: int
    max_units: int


PROFESSIONAL_PROCEDURES: tuple[Procedure, ...] = (
    Procedure("99213", 13_500, 1),
    Procedure("99214", 19_500, 1),
    Procedure("99203", 16_000, 1),
    Procedure("99204", 24_000, 1),
    Procedure("99395", 25_000, 1),
    Procedure("99396", 26_000, 1),
    Procedure("36415", 1_500, 1),
    Procedure("80053", 4_500, 1),
    Procedure("85025", 3_000, 1),
    Procedure("83036", 4_000, 1),
    Procedure("71046", 9_000, 1),
    Procedure("93000", 6_000, 1),
    Procedure("97110", 8_000, 4),
    Procedure("90471", 2_500, 1),
    Procedure("90686", 3_500, 1),
    Procedure("20610", 15_000, 1),
    Procedure("G0439", 17_500, 1),
    Procedure("J3420", 2_000, 2),
)
INSTITUTIONAL_PROCEDURES: tuple[Procedure, ...] = (
    Procedure("99284", 65_000, 1),
    Procedure("99285", 120_000, 1),
    Procedure("70450", 150_000, 1),
    Procedure("74177", 250_000, 1),
    Procedure("29881", 600_000, 1),
    Procedure("43239", 300_000, 1),
    Procedure("45378", 280_000, 1),
    Procedure("66984", 450_000, 1),
    Procedure("96413", 90_000, 1),
    Procedure("J1885", 1_500, 4),
    Procedure("J2405", 1_200, 2),
    Procedure("85025", 5_000, 1),
    Procedure("80053", 7_500, 1),
)
DIAGNOSES: tuple[str, ...] = (
    "E11.9", "E11.65", "I10", "E78.5", "J06.9", "J45.909", "M54.50", "Z00.00", "Z00.129",
    "Z23", "F41.1", "F32.9", "K21.9", "N39.0", "R51.9", "R10.9", "M17.11", "I25.10", "N18.30",
    "C50.911", "S93.401A", "Z34.90", "H52.4", "L20.9", "B34.9", "G43.909", "R07.9",
)  # fmt: skip


class Drug(NamedTuple):
    """An NDC in 11-digit 5-4-2 form with its price per dispensed unit (cents) and quantities."""

    ndc11: str
    unit_price_cents: int
    quantities: tuple[int, ...]


DRUGS: tuple[Drug, ...] = (
    Drug("00093-1048-01", 15, (30, 60, 90, 180)),
    Drug("00071-0155-23", 22, (30, 90)),
    Drug("00006-0277-31", 480, (30, 90)),
    Drug("68180-0513-09", 12, (30, 90)),
    Drug("16729-0020-01", 18, (30, 60)),
    Drug("59762-3304-01", 25, (30, 90)),
    Drug("00173-0682-20", 32_000, (1,)),
    Drug("00169-4132-12", 9_500, (1, 3)),
    Drug("50090-2875-00", 40, (28, 30)),
    Drug("65862-0035-01", 10, (30, 60, 90)),
    Drug("00781-1506-10", 14, (30, 90)),
    Drug("43547-0361-10", 11, (30, 90)),
    Drug("31722-0702-90", 19, (30, 90)),
    Drug("00002-8215-01", 56_000, (1, 2)),
)
