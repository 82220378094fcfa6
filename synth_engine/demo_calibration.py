"""The figures the demonstration model is calibrated on: column groups and vocabularies, the 2025
release's fill counts and country x year table, and the stand-in tendencies and origin lists.

Every tendency here is a plausible pattern chosen for the demonstration, not a measurement (see
demo_source.py for how the model uses them and where the published figures disagree).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.codebook_file import builtin_codebook_file

COLUMNS = tuple(builtin_codebook_file().names)  # CTDC's column layout and value lists, as shipped
MEANS = COLUMNS[6:14]
EXPLOITATION = COLUMNS[14:17]
SECTORS = COLUMNS[17:21]
SEX_TYPES = COLUMNS[21:23]
RECRUITERS = COLUMNS[23:27]

GENDERS = ("Man", "Trans/Transgender/NonConforming", "Woman")
AGES = builtin_codebook_file().entry_for("ageBroad").values
DURATIONS = builtin_codebook_file().entry_for("traffickMonths").values

# Citizenship codes of the 2024 release (ctdc-2024-country-codes.md); nothing else may appear.
CITIZENSHIP_CODES = tuple(
    """
AFG ALB BDI BGD BGR BLR BOL BRA CHN CIV COD COL DOM ERI ETH GHA GTM HND HTI HUN IDN IND JAM KAZ
KEN KGZ KHM KOR LAO LKA MDA MDG MEX MMR NER NGA NPL PHL ROU RUS SDN SLE SLV SOM SRB THA TJK TKM
UGA UKR USA UZB VEN VNM""".split()
)

# ---------------------------------------------------------------------------------------------
# Calibration tables
# ---------------------------------------------------------------------------------------------

# Rows of the 2025 release; every count below is scaled by rows / REFERENCE_ROWS.
REFERENCE_ROWS = 257_969

# Non-empty cells per column in the 2025 release (ctdc-2025-column-fill.csv).
FILL_2025 = {
    "yearOfRegistration": 222_751,
    "gender": 205_148,
    "ageBroad": 137_139,
    "citizenship": 126_643,
    "CountryOfExploitation": 202_006,
    "traffickMonths": 23_512,
    "meansDebtBondageEarnings": 38_725,
    "meansThreats": 46_655,
    "meansAbusePsyPhySex": 57_647,
    "meansFalsePromises": 27_375,
    "meansDrugsAlcohol": 12_890,
    "meansDenyBasicNeeds": 48_072,
    "meansExcessiveWorkHours": 25_280,
    "meansWithholdDocs": 19_918,
    "isForcedLabour": 62_821,
    "isSexualExploit": 99_618,
    "isOtherExploit": 12_964,
    "typeOfLabourAgriculture": 9_564,
    "typeOfLabourConstruction": 5_445,
    "typeOfLabourDomesticWork": 10_947,
    "typeOfLabourHospitality": 3_703,
    "typeOfSexProstitution": 39_406,
    "typeOfSexPornography": 6_684,
    "recruiterRelationIntimatePartner": 8_831,
    "recruiterRelationFriend": 7_401,
    "recruiterRelationFamily": 10_701,
    "recruiterRelationOther": 40_273,
}

# CountryOfExploitation x yearOfRegistration of the 2025 release
# (ctdc-2025-country-of-exploitation-by-year.csv): one line per country ("---" = no country),
# counts for 2002 ... 2023, then the count without a year.
_TABLE_YEARS = tuple(str(y) for y in range(2002, 2024)) + ("",)
_TABLE_TEXT = """
USA 33 0 27 53 0 39 19 43 21 0 19 52 82 2979 14756 9186 12536 22409 18755 11881 9958 6564 7036
--- 996 545 640 1315 1177 992 818 623 1210 1731 1006 1309 2291 2165 10580 3220 3127 3184 2626 2670 2347 2817 8574
UKR 0 14 65 75 79 283 525 427 566 365 872 483 687 232 553 936 503 831 1175 912 209 66 1230
RUS 0 7 117 297 377 286 123 209 352 329 107 368 419 847 844 490 499 447 316 99 37 32 2282
MDA 16 19 193 221 272 349 272 387 516 659 94 722 542 766 658 504 131 47 37 70 36 29 479
LBY 1 0 2 3 14 0 0 18 8 0 9 0 0 14 15 129 232 412 180 624 776 1039 941
IDN 0 7 12 31 94 17 0 0 0 0 49 97 291 946 371 35 23 91 70 35 53 15 691
CHN 0 0 0 8 27 4 0 0 0 0 32 37 41 149 132 342 271 279 331 168 110 106 629
MYS 0 0 0 74 257 100 0 0 0 20 25 36 124 48 352 367 106 103 126 37 67 38 648
PHL 0 0 0 5 0 0 0 0 0 0 4 3 7 1 1957 20 34 31 32 0 10 93 212
TUR 17 0 64 263 233 148 78 24 83 46 32 36 71 76 66 54 81 90 59 35 23 75 679
POL 9 6 44 109 99 73 51 33 48 48 29 40 33 65 133 25 154 105 143 35 36 39 684
BGD 0 0 0 0 20 4 0 0 9 0 0 4 7 0 0 0 54 152 184 258 155 602 471
LBN 7 0 4 5 0 7 4 0 3 14 0 5 19 87 39 25 0 29 214 267 396 311 442
KAZ 3 0 15 11 0 0 28 16 174 218 13 64 63 87 101 124 125 63 15 0 0 0 731
SAU 0 0 5 9 0 6 13 15 16 0 0 6 105 58 168 107 53 51 84 240 177 173 403
KHM 14 0 22 0 0 15 6 7 0 0 0 0 22 23 13 153 873 57 17 0 84 68 309
MLI 1 0 0 16 0 0 5 0 1 0 10 9 2 0 7 16 78 420 135 94 224 219 305
BLR 9 6 0 24 10 0 18 12 15 34 18 171 79 68 93 0 68 56 34 50 31 61 443
ARE 0 7 23 71 44 72 9 6 35 22 4 4 224 16 55 65 36 20 29 36 28 54 424
THA 0 3 1 0 10 0 0 7 187 26 35 36 0 27 124 176 166 35 30 0 8 45 271
NGA 7 0 0 0 4 0 10 0 7 1 10 10 11 15 0 54 95 154 88 184 81 40 259
GHA 0 10 12 415 32 7 10 0 4 0 11 14 17 15 0 0 0 69 56 65 57 17 172
MEX 0 2 9 5 12 11 10 16 19 15 11 18 22 52 120 81 57 39 80 50 53 0 177
VNM 6 8 0 0 9 0 21 18 19 41 38 40 46 63 34 55 7 37 16 43 10 78 239
ROU 0 6 0 202 87 47 0 11 0 19 19 5 1 5 14 11 7 0 9 69 75 26 163
ITA 4 7 29 150 84 20 39 13 0 20 15 0 0 0 19 33 5 25 0 0 20 11 280
SRB 294 38 33 37 31 2 16 0 14 8 0 0 16 13 30 0 0 14 6 12 0 0 188
EGY 4 8 7 0 3 0 8 3 9 6 2 0 149 41 53 27 7 17 0 17 20 62 265
ARG 0 0 11 2 12 52 45 91 56 25 49 32 13 9 0 17 18 19 0 0 23 6 226
SEN 7 12 0 13 36 118 43 14 165 24 4 0 26 9 29 0 0 0 19 39 20 0 119
DEU 9 0 13 36 34 12 14 0 21 63 17 20 16 48 21 42 13 6 22 2 16 27 217
ZAF 0 6 3 23 33 22 24 10 16 14 6 12 48 32 24 24 23 22 23 0 3 19 245
KWT 0 12 4 2 0 6 0 5 11 0 0 14 1 13 217 13 100 13 21 26 0 11 141
BDI 0 2 0 0 0 0 0 2 4 0 0 9 7 4 0 9 15 13 10 223 74 84 141
OMN 0 4 0 4 0 15 0 2 3 10 5 3 87 5 25 0 30 27 23 75 58 56 156
UZB 12 0 71 92 0 3 0 0 0 0 14 98 9 0 28 0 28 58 15 41 0 0 116
KEN 0 0 0 4 0 10 5 4 0 45 0 9 8 12 29 64 88 33 6 93 0 25 144
UGA 1 0 0 0 2 54 0 6 2 33 10 4 50 9 23 0 8 73 90 2 8 15 188
TUN 12 0 0 6 0 0 1 3 9 0 0 18 11 24 33 44 66 9 35 48 53 69 126
MKD 177 42 16 28 25 11 0 0 11 0 0 10 0 9 0 0 0 0 9 8 12 2 165
HTI 5 4 0 7 12 0 9 3 4 6 219 71 10 4 0 0 17 4 0 0 0 0 146
BGR 4 0 0 113 6 141 0 7 4 10 0 11 4 15 0 1 21 8 0 2 0 17 137
BIH 50 105 33 28 7 17 10 3 9 0 1 7 0 0 0 0 8 0 7 6 0 15 195
IRQ 9 6 0 0 0 10 4 0 4 0 22 11 7 21 11 5 39 54 38 63 26 20 138
JPN 0 8 6 0 0 0 4 6 15 20 8 8 6 6 124 14 16 15 0 21 0 11 177
TJK 0 3 23 60 0 0 7 11 3 68 18 48 14 8 41 17 14 19 0 0 0 17 94
CZE 0 2 21 46 70 52 9 5 12 11 19 6 8 0 0 0 3 9 0 0 14 0 126
JOR 9 6 0 0 3 4 0 0 0 10 61 66 28 0 16 5 0 7 0 3 3 0 192
SWE 5 9 13 0 9 0 0 0 0 12 0 2 0 13 18 28 23 31 15 36 17 33 135
MMR 0 1 4 10 5 2 5 0 0 6 0 10 5 6 0 3 17 8 0 27 25 121 124
GRC 4 5 7 12 9 11 5 10 7 6 13 6 6 9 20 9 10 0 11 0 22 10 178
ESP 0 3 8 0 0 0 5 9 17 17 8 0 0 19 23 30 17 20 0 14 19 13 141
ALB 33 11 54 53 25 8 0 20 0 0 1 3 12 0 0 5 4 0 0 18 0 11 104
MAR 5 4 6 0 10 0 0 0 0 12 8 30 27 9 0 12 47 13 16 15 11 13 117
CIV 8 0 2 5 15 14 0 8 13 5 0 5 8 0 0 0 8 0 33 41 12 34 135
QAT 0 8 4 4 0 0 5 5 6 4 4 2 66 18 62 16 0 15 6 2 1 4 114
IND 0 0 2 2 0 0 0 0 0 7 0 12 9 3 7 20 75 40 0 11 0 18 139
NER 3 0 0 6 0 11 0 3 1 13 0 12 12 0 0 7 27 40 34 46 22 30 67
SDN 4 0 0 0 4 8 23 11 12 15 9 3 0 19 31 31 25 22 6 0 16 0 79
COL 10 0 0 21 12 2 0 7 0 0 0 9 17 10 19 16 8 13 0 14 13 59 72
GBR 0 0 0 0 6 0 0 0 6 0 8 2 2 20 27 23 24 12 5 21 6 16 116
HKG 5 0 0 4 0 9 0 1 1 2 3 0 15 0 0 52 46 23 20 0 0 1 108
AFG 2 0 10 0 0 1 2 11 0 9 2 42 103 0 0 9 3 0 8 0 4 8 70
PRT 9 0 0 0 0 17 10 13 12 16 8 0 10 0 12 10 7 8 23 0 0 14 107
CHE 4 2 0 7 13 0 3 3 6 16 6 16 0 10 22 8 0 16 8 0 9 15 111
CAN 14 4 0 0 7 0 2 8 0 0 0 0 0 0 41 4 14 29 26 19 12 18 70
DNK 6 10 0 4 11 0 6 3 0 2 17 0 0 24 0 12 6 43 0 8 10 6 100
ETH 0 0 0 0 12 14 11 8 0 49 7 12 0 11 12 0 0 12 0 0 0 21 77
SLE 0 2 0 0 10 3 50 5 9 3 3 0 0 0 6 10 17 9 13 10 23 4 69
NLD 1 0 0 3 0 9 1 10 0 0 12 0 19 11 14 0 11 16 0 8 22 15 77
KGZ 0 6 5 5 0 0 0 0 8 15 0 10 0 1 0 0 22 11 14 0 8 9 92
"""

# How strongly the latent level of detail pulls a record towards "recorded": weight exp(k*(d-1/2))
# with d ~ Beta(2, 2); a modelling choice that makes empty columns cluster in sparse rows.
DETAIL_STRENGTH = 3.0

# Gender among records with a gender: women ~74 % (CTDC data story, 2024); a small trans share
# (the codebook: too few to disaggregate), only from 2015 on (IOM records it since 2017).
GENDER_SHARE_OF_KNOWN = {"Woman": 0.740, "Man": 0.254, "Trans/Transgender/NonConforming": 0.006}

# Chance of a known gender being "Man" grows with the country's forced-labour tendency:
# relative weight MAN_BASE_WEIGHT + tendency (stand-in).
MAN_BASE_WEIGHT = 0.3

# Age among records with an age: 18-29 = 43 %, under 18 = 24 % (CTDC data story, 2024); the split
# inside those bands and of the over-30s (33 %) is a plausible stand-in.
AGE_SHARE_OF_KNOWN = {
    "0--8": 0.050,
    "09--17": 0.190,
    "18--20": 0.115,
    "21--23": 0.110,
    "24--26": 0.105,
    "27--29": 0.100,
    "30--38": 0.185,
    "39--47": 0.095,
    "48+": 0.050,
}

# Share of records with a citizenship, by country of exploitation: USA low (hotline records rarely
# name one), no-country high (both countries empty ~6 % of all rows, 2024 missing shares); the
# other countries take the rest of the 2025 citizenship fill count.
CITIZENSHIP_KNOWN_SHARE = {"USA": 0.15, "": 0.72}

# Records carrying two exploitation types, as shares of all rows. With the 2025 fill counts they
# put 64.35 % of rows (~166,000) in "at least one type" (see the module docstring).
EXPLOITATION_PAIR_SHARE = {("FL", "SE"): 0.0252, ("FL", "OT"): 0.0058, ("SE", "OT"): 0.0054}

# Tendency of cases identified in a country to be forced labour rather than sexual exploitation
# (0..1). Stand-in values: labour-migration destinations high, the US hotline and some European
# countries low; unlisted countries and "no country" get the default.
FL_TENDENCY_DEFAULT = 0.5
FL_TENDENCY = {
    "USA": 0.18,
    "MDA": 0.35,
    "PHL": 0.25,
    "MEX": 0.30,
    "NGA": 0.30,
    "ITA": 0.30,
    "DEU": 0.35,
    "ROU": 0.40,
    "SRB": 0.40,
    "MKD": 0.30,
    "BIH": 0.30,
    "ALB": 0.35,
    "BGR": 0.35,
    "GRC": 0.30,
    "ESP": 0.30,
    "NLD": 0.35,
    "COL": 0.35,
    "DNK": 0.35,
    "SWE": 0.35,
    "CHE": 0.35,
    "CAN": 0.35,
    "UKR": 0.65,
    "RUS": 0.85,
    "KAZ": 0.85,
    "UZB": 0.85,
    "TJK": 0.80,
    "KGZ": 0.80,
    "MYS": 0.85,
    "IDN": 0.80,
    "SAU": 0.90,
    "ARE": 0.85,
    "KWT": 0.90,
    "OMN": 0.90,
    "QAT": 0.90,
    "LBN": 0.90,
    "JOR": 0.85,
    "HKG": 0.85,
    "BGD": 0.80,
    "KHM": 0.75,
    "THA": 0.75,
    "LBY": 0.80,
    "POL": 0.70,
    "TUR": 0.60,
    "BLR": 0.60,
    "IND": 0.80,
    "GHA": 0.75,
    "HTI": 0.70,
    "MLI": 0.70,
    "AFG": 0.70,
    "EGY": 0.60,
    "NER": 0.60,
    "CHN": 0.50,
}

# Relative chance that a record identified in a country is a child (stand-in; e.g. the 2016
# spike of the Philippines, child labour on Lake Volta, domestic servitude of children in Haiti).
CHILD_TENDENCY = {
    "PHL": 3.0,
    "GHA": 3.0,
    "HTI": 3.0,
    "SEN": 2.5,
    "MLI": 2.0,
    "NER": 2.0,
    "KHM": 1.5,
    "UGA": 1.5,
    "BDI": 1.5,
    "USA": 1.1,
}

# Children a little more likely where sexual exploitation dominates (tendency < 0.5); stand-in.
CHILD_SE_COUNTRY_WEIGHT = 1.5

# Relative chance of "other" exploitation (forced marriage, begging, ...) by country; stand-in.
OTHER_TENDENCY = {"CHN": 3.0, "SEN": 2.5, "AFG": 2.0, "MLI": 1.5, "NER": 1.5, "IRQ": 1.5}

# How gender and childhood shift the exploitation type (relative weights; a modelling choice:
# men lean to forced labour, women and trans people to sexual exploitation, children to other).
EXPLOIT_GENDER_WEIGHT = {
    "FL": {"Man": 2.4, "Woman": 0.8, "Trans/Transgender/NonConforming": 0.4, "": 1.2},
    "SE": {"Man": 0.30, "Woman": 2.0, "Trans/Transgender/NonConforming": 2.5, "": 1.0},
    "OT": {"Man": 0.8, "Woman": 1.3, "Trans/Transgender/NonConforming": 1.0, "": 1.0},
}
EXPLOIT_CHILD_WEIGHT = {"FL": 0.6, "SE": 1.3, "OT": 2.0}

# Sector records with two sectors and sex-type records with both types: the fill counts leave
# room for almost none when the published within-group shares are to hold (see docstring).
SECTOR_MULTI_SHARE = 0.005
SEX_TYPE_MULTI_SHARE = 0.004

# Which forced-labour records get which sector (relative weights; stand-in): domestic work leans
# to women, children and the Gulf/Levant/Hong Kong; construction and agriculture to men.
DOMESTIC_WORK_COUNTRIES = ("SAU", "ARE", "KWT", "OMN", "QAT", "LBN", "JOR", "HKG", "MYS", "HTI")
SECTOR_GENDER_WEIGHT = {
    "typeOfLabourAgriculture": {"Man": 1.8, "Woman": 0.7},
    "typeOfLabourConstruction": {"Man": 4.0, "Woman": 0.15},
    "typeOfLabourDomesticWork": {"Man": 0.3, "Woman": 3.0},
    "typeOfLabourHospitality": {"Man": 1.0, "Woman": 1.0},
}

DOMESTIC_WORK_PLACE_WEIGHT = 3.0  # domestic work where it is the typical migrant job (stand-in)
DOMESTIC_WORK_CHILD_WEIGHT = 1.5  # child domestic servitude (stand-in)

# Pornography leans to children (online sexual exploitation of children); stand-in weight.
PORNOGRAPHY_CHILD_WEIGHT = 3.0

# Records with at least one means flag: all means empty ~62 % (2024 missing shares).
MEANS_RECORDED_SHARE = 0.38
# Sexual-exploitation records with a means flag, and the flag shares among them: abuse 62 %,
# threats 38 %, denial of basic needs 37 % (CTDC data story); the other five are stand-ins.
MEANS_SE_RECORDED_SHARE = 0.50
MEANS_SE_FLAG_SHARE = {
    "meansDebtBondageEarnings": 0.25,
    "meansThreats": 0.38,
    "meansAbusePsyPhySex": 0.62,
    "meansFalsePromises": 0.22,
    "meansDrugsAlcohol": 0.20,
    "meansDenyBasicNeeds": 0.37,
    "meansExcessiveWorkHours": 0.10,
    "meansWithholdDocs": 0.10,
}
# The rest of the means flags (fill count minus the sexual-exploitation part) go to the other
# records, chosen with these relative weights by exploitation type (stand-in: labour cases
# document control most often, records without a type rarely).
MEANS_REST_RECORDED_WEIGHT = {"FL": 4.0, "OT": 1.5, "none": 0.2}
# Means typical of labour exploitation, favoured on forced-labour records (stand-in weight).
MEANS_LABOUR_FLAGS = ("meansDebtBondageEarnings", "meansExcessiveWorkHours", "meansWithholdDocs", "meansFalsePromises")
MEANS_LABOUR_WEIGHT = 2.5

# Records with a recruiter relation: all recruiter flags empty ~74 % (2024 missing shares).
RECRUITER_RECORDED_SHARE = 0.26
# By exploitation group: (share of the group with a relation, relation shares among them).
# Sexual exploitation: intimate partner + friend + family ~62 % (CTDC data story) -- set a little
# higher for sexual-only records because records with both types lean to "other"; forced
# labour: "other" 81 %, set a little higher for labour-only records for the same reason.
RECRUITER_GROUPS = {
    "SE": (
        0.33,
        {
            "recruiterRelationIntimatePartner": 0.26,
            "recruiterRelationFriend": 0.15,
            "recruiterRelationFamily": 0.225,
            "recruiterRelationOther": 0.365,
        },
    ),
    "FLSE": (
        0.35,
        {
            "recruiterRelationIntimatePartner": 0.10,
            "recruiterRelationFriend": 0.14,
            "recruiterRelationFamily": 0.15,
            "recruiterRelationOther": 0.61,
        },
    ),
    "FL": (
        0.38,
        {
            "recruiterRelationIntimatePartner": 0.01,
            "recruiterRelationFriend": 0.07,
            "recruiterRelationFamily": 0.09,
            "recruiterRelationOther": 0.83,
        },
    ),
}
# The remaining relations go to the other records (other exploitation, no type), weighted:
RECRUITER_REST_RECORDED_WEIGHT = {"OT": 3.0, "none": 1.0}
# Children are recruited by family more often than adults (weight on "family" for minors), and
# about three quarters of minors have no relation recorded (2025 file) -- the recorded-weight
# for minors keeps them near that level despite their age being recorded.
RECRUITER_CHILD_FAMILY_WEIGHT = 5.0
RECRUITER_CHILD_RECORDED_WEIGHT = 0.65

# Duration shares (0-1 yr, 1-2 yrs, 2+ yrs) among records with a duration, by exploitation group:
# more than 2 years = forced labour 33 %, sexual exploitation 26 % (CTDC data story); the rest
# of the split is a stand-in.
DURATION_SHARE = {
    "SE": (0.52, 0.22, 0.26),
    "FLSE": (0.45, 0.25, 0.30),
    "FL": (0.45, 0.21, 0.34),
    "rest": (0.55, 0.20, 0.25),
}
# Which records have a duration at all (relative weights; stand-in: assistance case files more
# often than hotline records, typed cases more often than untyped).
DURATION_RECORDED_WEIGHT = {"FL": 2.0, "SE": 1.0, "OT": 1.5, "none": 0.3}
DURATION_USA_WEIGHT = 0.6

# Citizenship given the country of exploitation: (share with the same citizenship, origin weights
# for the others). Stand-in patterns of where people identified in a country come from; every
# code is one the 2024 release lists for citizenship.
_GULF = "IND:15 PHL:15 IDN:10 NPL:10 BGD:10 LKA:10 KEN:10 UGA:8 ETH:8 MDG:4"
_WESTERN_EUROPE = "ROU:20 NGA:15 BGR:12 UKR:10 ALB:8 HUN:8 MDA:5 VNM:5 CHN:4 BRA:4 ERI:3 AFG:3"
_NORTH_AFRICA = "ERI:25 ETH:20 SDN:20 SOM:10 NGA:10 CIV:5 GHA:5 NER:5"
_WEST_AFRICA = "NGA:25 NER:20 CIV:20 GHA:15 SLE:10 CHN:5 BDI:5"
CITIZENSHIP_ORIGINS = {
    "USA": (0.55, "MEX:30 HND:10 GTM:8 PHL:8 SLV:6 CHN:6 IND:5 DOM:5 JAM:4 VEN:4 COL:4 THA:3 KOR:3 NGA:2 HTI:2"),
    "RUS": (0.10, "UZB:35 TJK:15 KGZ:15 UKR:15 MDA:10 KAZ:5 BLR:5"),
    "KAZ": (0.30, "UZB:50 KGZ:30 TJK:20"),
    "UKR": (0.97, "MDA:1 BLR:1 RUS:1"),
    "MDA": (0.97, "UKR:1"),
    "LBY": (0.0, "NGA:25 NER:20 SDN:15 ERI:10 ETH:8 SOM:6 GHA:6 CIV:4 BGD:4 SLE:2"),
    "IDN": (0.95, "PHL:1 VNM:1 MMR:1"),
    "CHN": (0.15, "MMR:30 VNM:30 LAO:15 KHM:10 IDN:5 PHL:5"),
    "MYS": (0.0, "IDN:35 BGD:15 MMR:12 NPL:10 PHL:8 KHM:6 VNM:6 IND:5 THA:3"),
    "PHL": (0.97, "IDN:1 CHN:1"),
    "TUR": (0.0, "TKM:25 UZB:20 KGZ:15 MDA:10 UKR:10 AFG:10 RUS:5 ETH:5"),
    "POL": (0.0, "UKR:45 BLR:20 ROU:10 BGR:10 VNM:5 MDA:5 PHL:5"),
    "BGD": (0.97, "MMR:1"),
    "LBN": (0.0, "ETH:40 BGD:15 LKA:10 SLE:10 KEN:10 MDG:10 PHL:5"),
    "SAU": (0.0, _GULF),
    "ARE": (0.0, _GULF),
    "KWT": (0.0, _GULF),
    "OMN": (0.0, _GULF),
    "QAT": (0.0, _GULF),
    "JOR": (0.0, "BGD:30 LKA:20 PHL:15 IND:15 ETH:10 UGA:10"),
    "KHM": (0.97, "VNM:1 THA:1"),
    "MLI": (0.0, "NER:25 CIV:20 NGA:20 GHA:10 SLE:10"),
    "THA": (0.40, "MMR:40 KHM:30 LAO:30"),
    "MEX": (0.60, "HND:15 GTM:15 SLV:10 COL:5 VEN:5"),
    "ITA": (0.0, "NGA:40 ROU:20 ALB:10 CIV:10 MDA:5 CHN:5 BRA:5"),
    "SRB": (0.90, "ALB:5 BGR:5 MDA:2"),
    "EGY": (0.0, _NORTH_AFRICA),
    "TUN": (0.0, _NORTH_AFRICA),
    "MAR": (0.0, _NORTH_AFRICA),
    "ARG": (0.0, "BOL:50 DOM:20 COL:15 BRA:10 VEN:5"),
    "SEN": (0.0, _WEST_AFRICA),
    "CIV": (0.80, "NGA:5 GHA:5 NER:5"),
    "ZAF": (0.0, "COD:25 ETH:20 SOM:15 NGA:15 THA:10 CHN:10 MDG:5"),
    "HKG": (0.0, "PHL:50 IDN:35 THA:5 VNM:5 IND:5"),
    "IRQ": (0.0, "BGD:30 ETH:20 NPL:15 KEN:15 UGA:10 IND:10"),
    "JPN": (0.0, "PHL:45 THA:20 VNM:15 CHN:10 IDN:10"),
    "IND": (0.85, "NPL:8 BGD:7"),
    "NPL": (0.97, "IND:1"),
}
for _code in ("DEU", "GRC", "ESP", "NLD", "CHE", "DNK", "SWE", "GBR", "PRT", "CZE", "CAN"):
    CITIZENSHIP_ORIGINS[_code] = (0.0, _WESTERN_EUROPE)
for _code in ("MKD", "BIH"):
    CITIZENSHIP_ORIGINS[_code] = (0.0, "SRB:30 ALB:30 BGR:15 UKR:10 MDA:10 ROU:5")
# Countries of exploitation that are also citizenship codes and not listed: mostly nationals.
CITIZENSHIP_SAME_DEFAULT = 0.90
# Records without a country of exploitation, and unlisted countries not in the citizenship list:
# a broad mix of origins (Europe and Asia largest, as in the published regions of origin).
CITIZENSHIP_GLOBAL = (
    "UKR:12 MDA:7 ROU:6 BLR:3 RUS:3 ALB:2 BGR:2 SRB:1.5 HUN:1.5 "
    "IDN:5 PHL:5 UZB:3 KHM:3 BGD:3 CHN:2 VNM:2 MMR:2 NPL:2 IND:2 KAZ:1 KGZ:1 TJK:1 THA:1 "
    "LAO:1 LKA:1 AFG:1 TKM:1 KOR:0.5 "
    "NGA:5 GHA:3 ETH:3 UGA:2 KEN:2 ERI:1 SDN:1 SLE:1 CIV:1 NER:1 COD:1 MDG:1 BDI:1 SOM:1 "
    "USA:3 MEX:2 HND:1 HTI:1 BOL:1 COL:1 GTM:0.5 SLV:0.5 DOM:0.5 JAM:0.5 VEN:0.5 BRA:0.5"
)


def parse_weights(text: str) -> tuple[list[str], np.ndarray]:
    """ "CODE:weight CODE:weight ..." as the codes with a positive weight and their probabilities."""
    codes, weights = [], []
    for item in text.split():
        code, weight = item.split(":")
        if float(weight) > 0:
            codes.append(code)
            weights.append(float(weight))
    return codes, np.array(weights) / sum(weights)


def coe_year_table() -> pd.DataFrame:
    """The 2025 CountryOfExploitation x yearOfRegistration counts as a DataFrame.

    Index: country codes with "" for no country; columns: "2002" ... "2023" and "" for no year.
    """
    countries, counts = [], []
    for line in _TABLE_TEXT.strip().splitlines():
        code, *numbers = line.split()
        countries.append("" if code == "---" else code)
        counts.append([int(x) for x in numbers])
    return pd.DataFrame(
        counts,
        index=pd.Index(countries, name="CountryOfExploitation"),
        columns=pd.Index(_TABLE_YEARS, name="yearOfRegistration"),
    )


def _check_tables() -> None:
    """Fail at import if a calibration table names a value the published file cannot hold."""
    for _, text in CITIZENSHIP_ORIGINS.values():
        unknown = set(parse_weights(text)[0]) - set(CITIZENSHIP_CODES)
        if unknown:
            raise ValueError(f"origin codes outside the citizenship list: {sorted(unknown)}")
    if set(parse_weights(CITIZENSHIP_GLOBAL)[0]) - set(CITIZENSHIP_CODES):
        raise ValueError("CITIZENSHIP_GLOBAL names a code outside the citizenship list")
    for shares in (GENDER_SHARE_OF_KNOWN.values(), AGE_SHARE_OF_KNOWN.values(), *DURATION_SHARE.values()):
        if abs(sum(shares) - 1) > 1e-9:
            raise ValueError("a share table must add up to 1")


_check_tables()
