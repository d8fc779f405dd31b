"""Postcode areas to nations and regions: coverage of the data file and the lookups (no app, no database)."""

import pytest

from app.services.geography import ELSEWHERE, NOT_GIVEN, area_code, areas, place_name, region_of, regions

# Royal Mail's postcode areas: 121 in the UK plus the Crown Dependencies (GY, JE, IM), written out
# here rather than read from the data file, so a dropped or mistyped area fails.
POSTCODE_AREAS = set(
    """
    AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY
    E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY
    L LA LD LE LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR
    RG RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW
    UB W WA WC WD WF WN WR WS WV YO ZE
    """.split()
)
ITL1_REGIONS = {
    "north-east",
    "north-west",
    "yorkshire-and-the-humber",
    "east-midlands",
    "west-midlands",
    "east-of-england",
    "london",
    "south-east",
    "south-west",
    "wales",
    "scotland",
    "northern-ireland",
}


def test_the_official_list_has_every_area_once():
    assert len(POSTCODE_AREAS) == 124


def test_every_postcode_area_has_a_region_or_elsewhere():
    by_code = {area.code: area for area in areas()}
    assert POSTCODE_AREAS <= set(by_code)
    assert set(by_code) - POSTCODE_AREAS == {"BF"}  # British Forces Post Office, the one extra
    assert all(by_code[code].region in ITL1_REGIONS | {ELSEWHERE} for code in POSTCODE_AREAS)


def test_every_region_used_is_one_of_the_twelve_or_elsewhere():
    used = {area.region for area in areas()} | {r for area in areas() for r in area.districts.values()}
    assert used == ITL1_REGIONS | {ELSEWHERE}


def test_the_regions_are_the_twelve_itl1_regions_each_with_a_population():
    assert {region.slug for region in regions()} == ITL1_REGIONS
    for region in regions():
        assert region.name and region.itl1.startswith("TL")
        assert 1_000_000 < region.population < 10_000_000, region.slug


def test_region_names_read_as_the_ons_writes_them():
    assert place_name("yorkshire-and-the-humber") == "Yorkshire and The Humber"
    assert place_name("east-of-england") == "East of England"
    assert place_name("north-east") == "North East"
    assert place_name(NOT_GIVEN)
    assert place_name(ELSEWHERE)


def test_overridden_districts_belong_to_their_area():
    for area in areas():
        for district in area.districts:
            assert area_code(district) == area.code


@pytest.mark.parametrize(
    ("outward", "region"),
    [
        ("CH5", "wales"),
        ("CH8", "wales"),
        ("CH1", "north-west"),
        ("CH41", "north-west"),
        ("NP10", "wales"),
        ("NP16", "wales"),
        ("LD1", "wales"),
        ("LD8", "wales"),
        ("SY23", "wales"),
        ("SY15", "wales"),
        ("SY1", "west-midlands"),
        ("SY14", "north-west"),
        ("HR1", "west-midlands"),
        ("TD1", "scotland"),
        ("TD14", "scotland"),
        ("TD15", "north-east"),
        ("DG1", "scotland"),
        ("DG16", "scotland"),
        ("CA1", "north-west"),
    ],
)
def test_districts_across_a_national_border_go_to_the_right_side(outward, region):
    assert region_of(outward) == region


@pytest.mark.parametrize(
    ("outward", "region"),
    [
        ("SW1A", "london"),
        ("B33", "west-midlands"),
        ("AB10", "scotland"),
        ("BT1", "northern-ireland"),
        ("ZE1", "scotland"),
        ("HP1", "east-of-england"),
        ("HP9", "south-east"),
        ("S1", "yorkshire-and-the-humber"),
        ("S40", "east-midlands"),
        ("PE1", "east-of-england"),
        ("PE21", "east-midlands"),
        ("KT1", "london"),
        ("KT22", "south-east"),
        ("DL1", "north-east"),
        ("DL8", "yorkshire-and-the-humber"),
    ],
)
def test_districts_across_a_regional_border_go_to_the_right_side(outward, region):
    assert region_of(outward) == region


@pytest.mark.parametrize("outward", ["GY1", "JE2", "IM1", "BF1"])
def test_crown_dependencies_and_forces_mail_are_elsewhere(outward):
    assert region_of(outward) == ELSEWHERE


@pytest.mark.parametrize("outward", [None, "", "   ", "BX1", "QQ1", "GIR", "XM4", "12", "SW1AA", "not a postcode"])
def test_blank_malformed_and_unknown_codes_are_not_given(outward):
    assert region_of(outward) == NOT_GIVEN
    assert area_code(outward) is None


@pytest.mark.parametrize(
    ("value", "area", "region"),
    [
        ("sw1a", "SW", "london"),
        (" ch5 ", "CH", "wales"),
        ("Td15", "TD", "north-east"),
        ("CH5 4HS", "CH", "wales"),
        ("sy231aa", "SY", "wales"),
    ],
)
def test_case_spaces_and_whole_postcodes_are_tolerated(value, area, region):
    assert area_code(value) == area
    assert region_of(value) == region


def test_area_code_is_the_leading_letters():
    assert area_code("SW1A") == "SW"
    assert area_code("B33") == "B"
    assert area_code("CH5") == "CH"
    assert area_code("EC1A") == "EC"


def test_a_sub_district_letter_does_not_hide_the_district():
    # "E1W" is district E1; "W1A" is W1: both London, matched on the district number.
    assert region_of("E1W") == region_of("W1A") == "london"
