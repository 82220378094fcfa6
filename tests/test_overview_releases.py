"""The Overview composed from the codebook of releases nobody here wrote the pages for: every
attribute drawn in a card that suits it, another party's attributes in their own section, and
the header and footer naming only what the release states."""

from __future__ import annotations

import pytest

import foreign_releases
from analysis import overview_plan
from app import create_app
from builders import text
from components import charts, flow_chart, overview, shell
from data.codebook import Attribute, Codebook
from data.release_meta import ReleaseMetadata
from data.service import DataService
from synth_engine.importer import import_release


def imported(folder, schema: str, aggregates: bool, **metadata) -> DataService:
    paths = foreign_releases.write_release(folder, schema, rows=300, seed=5, with_aggregates=aggregates)
    out = str(folder / f"{schema}.duckdb")
    import_release(out=out, metadata=ReleaseMetadata(**metadata), **paths)
    return DataService(out)


@pytest.fixture(scope="module")
def perpetrators(tmp_path_factory):
    return imported(
        tmp_path_factory.mktemp("perp"),
        "perpetrators",
        False,
        title="Survivors and perpetrators, test release",
        publisher="Example Lab",
    )


@pytest.fixture(scope="module")
def regions(tmp_path_factory):
    return imported(tmp_path_factory.mktemp("regions"), "regions", True)


def kinds(p: overview_plan.Plan) -> dict[str, str]:
    return {a.name: c.kind for c in p.cards() for a in c.attributes}


def test_every_attribute_is_drawn(perpetrators, regions):
    for service in (perpetrators, regions):
        codebook = service.store().codebook
        p = overview_plan.plan(codebook)
        assert p.attributes() == set(codebook.names)
        views = overview.compute(service, service.filter({})).views
        assert set(views) == {c.name for c in p.cards()} | set(flow_chart.card_names(codebook))  # flows too
        assert all(v.figure["data"] and v.summary and v.table is not None for v in views.values())


def test_cards_suit_kinds_and_groups(perpetrators, regions):
    p = overview_plan.plan(perpetrators.store().codebook)
    assert p.year.name == "yearBand"  # year bands are the time axis
    card_kinds = kinds(p)
    assert card_kinds["citizenship"] == "map" and card_kinds["gender"] == "bars"
    assert card_kinds["typeOfExploitation_Forced labour"] == "group"  # a multi-value column's flags
    assert card_kinds["isAbduction"] == "flags"
    r = overview_plan.plan(regions.store().codebook)
    assert r.year.name == "year"
    assert {n: k for n, k in kinds(r).items() if "Region" in n} == {
        "originRegion": "bars",
        "destinationRegion": "bars",
    }  # regions are places, not countries


def test_another_party_has_its_own_section(perpetrators):
    p = overview_plan.plan(perpetrators.store().codebook)
    assert [s.party for s in p.sections()] == ["", "perpetrator"]
    theirs = p.others[0].section_cards()
    assert [c.name for c in theirs] == [
        "perpetrator-map-perpetratorNationality",
        "perpetrator-bars-perpetratorRelation",
        "perpetrator-group-perpetratorgender",
    ]
    ours = {a.name for c in p.section_cards() for a in c.attributes}
    assert not ours & {a.name for c in theirs for a in c.attributes}
    create_app(perpetrators.store_path)  # the cards' graphs need the app (asset addresses)
    page = overview.layout(perpetrators, {})
    assert "Perpetrators" in text(page) and "Perpetrator gender" in text(page)


def test_year_bands_read_as_periods(perpetrators):
    store = perpetrators.store()
    data = overview.compute(perpetrators, store.filter({}))
    trace = data.views["years"].figure["data"][0]
    assert trace["x"] == ["2000-2009", "2010-2019", "2020-2024", "not recorded"]
    missing = store.count(store.filter({"yearBand": [None]}))
    assert f"{missing} have no year band recorded" in data.views["years"].summary
    covered = [h for h in data.headlines if "year band covered" in text(h)]
    assert covered and "2000-2009 to 2020-2024" in text(covered[0])


def test_shares_of_flags_and_groups_count_the_records(perpetrators):
    store = perpetrators.store()
    data = overview.compute(perpetrators, store.filter({"gender": ["Female"]}))
    women = store.count(store.filter({"gender": ["Female"]}))
    abducted = store.count(store.filter({"gender": ["Female"], "isAbduction": ["1"]}))
    trace = data.views["flags"].figure["data"][0]
    assert trace["customdata"] == [abducted] and trace["x"] == pytest.approx([100 * abducted / women])
    group = data.views["perpetrator-group-perpetratorgender"].figure["data"][0]
    female = store.count(store.filter({"gender": ["Female"], "perpetratorGender_Female": ["1"]}))
    assert female in group["customdata"]


def test_header_and_footer_say_only_what_the_release_states(perpetrators, regions):
    release = perpetrators.store().release
    frame = text(shell.header([], release)) + text(shell.footer(release))
    assert "Survivors and perpetrators, test release" in frame and "Example Lab" in frame
    bare = regions.store().release
    bare_frame = text(shell.header([], bare)) + text(shell.footer(bare))
    assert "Source:" not in bare_frame and "Example Lab" not in bare_frame
    for shown in (frame, bare_frame):
        assert "CTDC" not in shown and "Counter Trafficking" not in shown and "Global Synthetic Dataset" not in shown
    cited = dict(
        release,
        citation="Example Lab (2026), test release",
        source_url="https://example.org/release",
        licence="CC-BY-4.0",
    )
    footer = shell.footer(cited)
    assert "Cite as: Example Lab (2026), test release" in text(footer) and "Licence: CC-BY-4.0" in text(footer)
    assert "href='https://example.org/release'" in str(footer)


def test_not_recorded_bars_are_grey(perpetrators):
    store = perpetrators.store()
    trace = overview.compute(perpetrators, store.filter({})).views["bars-gender"].figure["data"][0]
    assert trace["y"][-1] == "not recorded"
    assert trace["marker"]["color"][-1] == charts.NOT_RECORDED_COLOUR
    assert charts.NOT_RECORDED_COLOUR not in trace["marker"]["color"][:-1]


def test_a_group_spanning_two_parties_is_drawn_once_and_whole():
    def flag(name: str, party: str, group: str = "relation") -> Attribute:
        return Attribute(name, name, "", group, "flag", ("1",), ("Yes",), party=party)

    codebook = Codebook(
        (
            flag("knewVictim", "victim"),
            flag("knewPerpetrator", "perpetrator"),
            flag("perpetratorArmed", "perpetrator", "other"),
        )
    )
    p = overview_plan.plan(codebook)
    assert [(c.name, [a.name for a in c.attributes]) for c in p.cards()] == [
        ("group-relation", ["knewVictim", "knewPerpetrator"]),
        ("perpetrator-flags", ["perpetratorArmed"]),
    ]
    assert p.group_names() == ["relation"]


def test_a_group_of_one_flag_is_a_share_of_all_records(tmp_path):
    service = imported(tmp_path, "victim_perpetrator", False)
    store = service.store()
    p = overview_plan.plan(store.codebook)
    card = next(c for c in p.cards() if c.name == "group-exploitation-type")
    assert card.kind == "flags" and [a.name for a in card.attributes] == ["isForcedLabour"]
    assert "exploitation type" not in p.group_names()
    view = overview.compute(service, store.filter({})).views[card.name]
    forced = store.count(store.filter({"isForcedLabour": ["1"]}))
    assert view.figure["data"][0]["x"] == pytest.approx([100 * forced / store.count(store.filter({}))])
    assert f"{forced:,} (" in view.summary
