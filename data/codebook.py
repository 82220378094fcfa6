"""The codebook: what each attribute of a release means and in which order its values go.

The store, the pages and the downloads are driven by a `Codebook`, never by hard-coded column
names. CTDC's 27 columns get rich built-in metadata (labels, groups, value order, value labels);
any other column gets a kind and a value order inferred from its values.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from data.countries import country_name

KINDS = ("categorical", "ordinal", "flag", "year", "country")
NOT_RECORDED = "not recorded"  # label of a missing value wherever it is shown


@dataclass(frozen=True)
class Attribute:
    name: str
    label: str
    description: str
    group: str
    kind: str
    values: tuple[str, ...]
    value_labels: tuple[str, ...]

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r} for {self.name}")
        if len(self.values) != len(self.value_labels):
            raise ValueError(f"{self.name}: values and labels differ in length")
        if len(set(self.values)) != len(self.values):
            raise ValueError(f"{self.name}: duplicate values")

    def label_of(self, value: str | None) -> str:
        if value is None:
            return NOT_RECORDED
        return self.value_labels[self.values.index(value)]


@dataclass(frozen=True)
class Codebook:
    attributes: tuple[Attribute, ...]
    _by_name: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_by_name", {a.name: a for a in self.attributes})
        if len(self._by_name) != len(self.attributes):
            raise ValueError("duplicate attribute names in codebook")

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.attributes]

    def __getitem__(self, name: str) -> Attribute:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"unknown attribute {name!r}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def __iter__(self):
        return iter(self.attributes)

    def __len__(self):
        return len(self.attributes)

    def groups(self) -> dict[str, list[Attribute]]:
        out: dict[str, list[Attribute]] = {}
        for a in self.attributes:
            out.setdefault(a.group, []).append(a)
        return out


# --- CTDC built-in metadata -------------------------------------------------------------------

AGE_VALUES = ("0--8", "09--17", "18--20", "21--23", "24--26", "27--29", "30--38", "39--47", "48+")
AGE_LABELS = ("0–8", "9–17", "18–20", "21–23", "24–26", "27–29", "30–38", "39–47", "48 and over")
MONTHS_VALUES = ("0--12 (0-1 yr)", "13--24 (1-2 yrs)", "25+ (2+ yrs)")
MONTHS_LABELS = ("Up to 12 months", "13 to 24 months", "More than 24 months")
GENDER_VALUES = ("Man", "Woman", "Trans/Transgender/NonConforming")
GENDER_LABELS = ("Man", "Woman", "Trans, transgender or non-conforming")

# Groups whose attributes are flags that can co-occur; percentages within such a group are taken
# over the records with at least one flag of the group set (the codebook's denominator rule).
FLAG_GROUPS = (
    "means of control",
    "exploitation type",
    "labour sector",
    "type of sexual exploitation",
    "recruiter relation",
)

# name: (label, group, kind, description)
_CTDC: dict[str, tuple[str, str, str, str]] = {
    "yearOfRegistration": ("Year of registration", "time", "year",
                           "Year the person was identified, assisted, referred or reported to a contributing "
                           "organisation."),
    "gender": ("Gender", "demographics", "categorical",
               "Gender the person identifies with (a social designation, not sex at birth)."),
    "ageBroad": ("Age group", "demographics", "ordinal",
                 "Age band when the person was identified or assisted."),
    "citizenship": ("Citizenship", "geography", "country",
                    "Country of citizenship (ISO alpha-3). Some countries are suppressed on purpose."),
    "CountryOfExploitation": ("Country of exploitation", "geography", "country",
                              "Country where the person was first identified or assisted, used as a stand-in "
                              "for where the exploitation happened. Some countries are suppressed on purpose."),
    "traffickMonths": ("Duration of trafficking", "duration", "ordinal",
                       "How long the trafficking situation lasted, in bands of months."),
    "meansDebtBondageEarnings": ("Debt bondage or withheld wages", "means of control", "flag",
                                 "Made to work off a debt, or earnings taken by the exploiter."),
    "meansThreats": ("Threats", "means of control", "flag",
                     "Threats of harm to the person or their family, including threats to involve the authorities."),
    "meansAbusePsyPhySex": ("Psychological, physical or sexual abuse", "means of control", "flag",
                            "Abuse used to control the person."),
    "meansFalsePromises": ("False promises", "means of control", "flag",
                           "Deceived into the situation with false pretences."),
    "meansDrugsAlcohol": ("Psychoactive substances", "means of control", "flag",
                          "Drugs or alcohol used to make the person compliant."),
    "meansDenyBasicNeeds": ("Restricted movement, money, care or necessities", "means of control", "flag",
                            "Access to money, movement, medical care or basic necessities restricted."),
    "meansExcessiveWorkHours": ("Excessive working hours", "means of control", "flag",
                                "Made to work far more hours than agreed."),
    "meansWithholdDocs": ("Documents withheld", "means of control", "flag",
                          "Passport, permits or other documents kept from the person."),
    "isForcedLabour": ("Forced labour", "exploitation type", "flag",
                       "Trafficked for work or services other than sexual services."),
    "isSexualExploit": ("Sexual exploitation", "exploitation type", "flag",
                        "Trafficked for sexual services."),
    "isOtherExploit": ("Other exploitation", "exploitation type", "flag",
                       "Other purposes, such as forced marriage, forced military service or organ removal."),
    "typeOfLabourAgriculture": ("Agriculture", "labour sector", "flag",
                                "Forced labour in crop and animal production."),
    "typeOfLabourConstruction": ("Construction", "labour sector", "flag", "Forced labour in construction."),
    "typeOfLabourDomesticWork": ("Domestic work", "labour sector", "flag",
                                 "Forced labour in private households."),
    "typeOfLabourHospitality": ("Hospitality", "labour sector", "flag",
                                "Forced labour in accommodation and food services."),
    "typeOfSexProstitution": ("Prostitution", "type of sexual exploitation", "flag",
                              "Sexual acts for payment."),
    "typeOfSexPornography": ("Pornography", "type of sexual exploitation", "flag",
                             "Production of sexual images or video."),
    "recruiterRelationIntimatePartner": ("Intimate partner", "recruiter relation", "flag",
                                         "Recruited by a current or former romantic partner."),
    "recruiterRelationFriend": ("Friend", "recruiter relation", "flag",
                                "Recruited by a friend or acquaintance."),
    "recruiterRelationFamily": ("Family", "recruiter relation", "flag",
                                "Recruited by a relative, parent, carer or guardian."),
    "recruiterRelationOther": ("Other relation", "recruiter relation", "flag",
                               "Recruited by someone else, such as a broker, employer or smuggler."),
}
CTDC_COLUMNS = tuple(_CTDC)

# Later releases and the codebook's headings spell some columns differently.
CTDC_ALIASES = {
    "meansWithholdDocuments": "meansWithholdDocs",
    "sectorOfLabourAgriculture": "typeOfLabourAgriculture",
    "sectorOfLabourConstruction": "typeOfLabourConstruction",
    "sectorOfLabourDomesticWork": "typeOfLabourDomesticWork",
    "sectorOfLabourHospitality": "typeOfLabourHospitality",
    "sectorOfSexProstitution": "typeOfSexProstitution",
    "sectorOfSexPornography": "typeOfSexPornography",
}

_FIXED_DOMAINS = {
    "gender": (GENDER_VALUES, GENDER_LABELS),
    "ageBroad": (AGE_VALUES, AGE_LABELS),
    "traffickMonths": (MONTHS_VALUES, MONTHS_LABELS),
}

# Spellings of fixed values seen in the codebook's text and older files.
VALUE_ALIASES = {
    "ageBroad": {"9--17": "09--17", "0—8": "0--8", "9—17": "09--17", "18—20": "18--20",
                 "21—23": "21--23", "24—26": "24--26", "27—29": "27--29", "30—38": "30--38",
                 "39—47": "39--47"},
    "traffickMonths": {"0—12 (0-1 yr)": "0--12 (0-1 yr)", "13—24 (1-2 yrs)": "13--24 (1-2 yrs)"},
}

MAX_DISTINCT_VALUES = 1000


def builtin_name(column: str) -> str | None:
    """The CTDC column a file column stands for, if any."""
    if column in _CTDC:
        return column
    return CTDC_ALIASES.get(column)


def fixed_domain(column: str) -> tuple[str, ...] | None:
    name = builtin_name(column)
    if name in _FIXED_DOMAINS:
        return _FIXED_DOMAINS[name][0]
    if name is not None and _CTDC[name][2] == "flag":
        return ("1",)
    return None


_YEAR = re.compile(r"^(1[89]|20|21)\d\d$")
_COUNTRY = re.compile(r"^[A-Z]{3}$")
_LEADING_NUMBER = re.compile(r"^(\d+)")


def _natural_key(value: str):
    m = _LEADING_NUMBER.match(value)
    return (0, int(m.group(1)), value) if m else (1, 0, value)


def infer_attribute(column: str, seen: list[str]) -> Attribute:
    """Metadata for one column: CTDC's built-ins where it is a CTDC column, inferred otherwise.

    `seen` is the column's distinct non-missing values. Fixed CTDC domains keep their full value
    list (so stores of different releases share one order); open domains (years, countries,
    unknown columns) take the values seen, in a natural order.
    """
    name = builtin_name(column)
    if name is not None:
        label, group, kind, description = _CTDC[name]
        if name in _FIXED_DOMAINS:
            values, labels = _FIXED_DOMAINS[name]
        elif kind == "flag":
            values, labels = ("1",), ("Yes",)
        elif kind == "year":
            values = tuple(sorted(seen, key=_natural_key))
            labels = values
        else:  # country
            values = tuple(sorted(seen))
            labels = tuple(country_name(v) for v in values)
        return Attribute(column, label, description, group, kind, values, labels)

    values = sorted(seen, key=_natural_key)
    if seen and all(_YEAR.match(v) for v in seen):
        kind = "year"
    elif len(seen) == 1:
        kind = "flag"
    elif seen and all(_COUNTRY.match(v) for v in seen) and any(country_name(v) != v for v in seen):
        kind = "country"
        values = sorted(seen)
    elif seen and all(_LEADING_NUMBER.match(v) for v in seen):
        kind = "ordinal"
    else:
        kind = "categorical"
    labels = [country_name(v) for v in values] if kind == "country" else values
    label = _humanize(column)
    return Attribute(column, label, "", "other", kind, tuple(values), tuple(labels))


def _humanize(column: str) -> str:
    words = re.sub(r"(?<=[a-z])(?=[A-Z])|[_\-]+", " ", column).strip()
    return words[:1].upper() + words[1:] if words else column
