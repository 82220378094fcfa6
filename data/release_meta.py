"""What a release says about itself: title, publisher, source address, licence, citation, release
date and version. It comes from the codebook file's descriptor or from command-line flags, is kept
in the store's `release` table and the data card, and gives the pages their header, footer and the
downloads their file names (`release_texts`). Nothing here names a publisher the release does not.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields, replace

from data.errors import InputError
from i18n import gettext

FIELDS = ("title", "publisher", "source_url", "licence", "citation", "release_date", "version")
PUBLISHER_ROLE = "publisher"
_LICENCE_NAME = re.compile(r"^[A-Za-z0-9.+-]+$")  # an identifier such as CC-BY-4.0


@dataclass(frozen=True)
class ReleaseMetadata:
    title: str | None = None
    publisher: str | None = None
    source_url: str | None = None  # where the release is published (http or https)
    licence: str | None = None
    citation: str | None = None
    release_date: str | None = None  # ISO date, YYYY-MM-DD
    version: str | None = None

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise InputError(f"release {f.name.replace('_', ' ')} must be non-empty text")
            if isinstance(value, str):
                object.__setattr__(self, f.name, value.strip())
        if self.source_url and not re.match(r"^https?://[^\s/]+", self.source_url):
            raise InputError(f"release source address {self.source_url[:80]!r} is not an http(s) address")
        if self.release_date:
            try:
                dt.date.fromisoformat(self.release_date)
            except ValueError:
                raise InputError(f"release date {self.release_date[:40]!r} is not a date (YYYY-MM-DD)") from None

    def overridden_by(self, other: ReleaseMetadata) -> ReleaseMetadata:
        """These values, with every value `other` gives put in their place."""
        return replace(self, **{k: v for k, v in other.as_dict().items() if v is not None})

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in FIELDS}


def from_descriptor(descriptor: dict) -> ReleaseMetadata:
    """The metadata a Data Package descriptor carries, in the places the standard gives them."""
    publisher = next(
        (
            c.get("title")
            for c in descriptor.get("contributors") or []
            if isinstance(c, dict) and PUBLISHER_ROLE in (c.get("roles") or [c.get("role")])
        ),
        None,
    )
    licence = next(
        (lic.get("title") or lic.get("name") for lic in descriptor.get("licenses") or [] if isinstance(lic, dict)), None
    )
    return ReleaseMetadata(
        title=descriptor.get("title"),
        publisher=publisher,
        source_url=descriptor.get("homepage"),
        licence=licence,
        citation=descriptor.get("gsd:citation"),
        release_date=descriptor.get("gsd:releaseDate"),
        version=descriptor.get("version"),
    )


def to_descriptor(release: dict) -> dict:
    """The package-level properties of a descriptor for a store's release row."""
    out: dict = {}
    if release.get("title"):
        out["title"] = release["title"]
    if release.get("version"):
        out["version"] = release["version"]
    if release.get("source_url"):
        out["homepage"] = release["source_url"]
    if release.get("licence"):
        licence = release["licence"]
        out["licenses"] = [
            {"name": licence}
            if _LICENCE_NAME.match(licence)
            else {"name": re.sub(r"[^A-Za-z0-9.+-]+", "-", licence).strip("-") or "licence", "title": licence}
        ]
    if release.get("publisher"):
        out["contributors"] = [{"title": release["publisher"], "roles": [PUBLISHER_ROLE]}]
    if release.get("citation"):
        out["gsd:citation"] = release["citation"]
    if release.get("release_date"):
        out["gsd:releaseDate"] = str(release["release_date"])[:10]
    return out


def release_texts(release: dict) -> dict:
    """What the header, the footer and the file names say about a store's release (its `release`
    row as `Store.release` gives it). Only what the release itself states is named.

    heading: the release's title, else its name; subtitle: publisher, version and date, when
    known; credit: the footer's line ("Source: …"), None when the release names no publisher and
    no citation; source_url and licence as given; file_stem: the start of every download's name.
    """
    title = release.get("title") or release.get("name") or gettext("Release")
    date = str(release["release_date"])[:10] if release.get("release_date") else None
    version = gettext("version %(version)s", version=release["version"]) if release.get("version") else None
    subtitle = " · ".join(part for part in (release.get("publisher"), version, date) if part) or None
    if release.get("citation"):
        credit = gettext("Cite as: %(citation)s", citation=release["citation"])
    elif release.get("publisher"):
        credit = gettext("Source: %(publisher)s, %(title)s", publisher=release["publisher"], title=title) + (
            f" ({date[:4]})" if date else ""
        )
    else:
        credit = None
    # The files' names stay the release's in every language (no translated text in them).
    stem = re.sub(r"[^a-z0-9]+", "-", str(release.get("name") or release.get("title") or "release").lower())
    stem = stem.strip("-")[:60] or "release"
    if release.get("is_demonstration") and "demonstration" not in stem:
        stem += "-demonstration"
    return {
        "heading": title,
        "subtitle": subtitle,
        "credit": credit,
        "source_url": release.get("source_url"),
        "licence": release.get("licence"),
        "is_demonstration": bool(release.get("is_demonstration")),
        "file_stem": stem,
    }
