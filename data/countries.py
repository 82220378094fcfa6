"""English short names of the ISO 3166-1 alpha-3 codes that occur in CTDC releases."""

COUNTRY_NAMES = {
    "AFG": "Afghanistan", "ALB": "Albania", "ARE": "United Arab Emirates", "ARG": "Argentina",
    "BDI": "Burundi", "BGD": "Bangladesh", "BGR": "Bulgaria", "BIH": "Bosnia and Herzegovina",
    "BLR": "Belarus", "BOL": "Bolivia", "BRA": "Brazil", "CAN": "Canada", "CHE": "Switzerland",
    "CHN": "China", "CIV": "Côte d'Ivoire", "COD": "DR Congo", "COL": "Colombia",
    "CZE": "Czechia", "DEU": "Germany", "DNK": "Denmark", "DOM": "Dominican Republic",
    "EGY": "Egypt", "ERI": "Eritrea", "ESP": "Spain", "ETH": "Ethiopia", "GBR": "United Kingdom",
    "GHA": "Ghana", "GRC": "Greece", "GTM": "Guatemala", "HKG": "Hong Kong", "HND": "Honduras",
    "HTI": "Haiti", "HUN": "Hungary", "IDN": "Indonesia", "IND": "India", "IRQ": "Iraq",
    "ITA": "Italy", "JAM": "Jamaica", "JOR": "Jordan", "JPN": "Japan", "KAZ": "Kazakhstan",
    "KEN": "Kenya", "KGZ": "Kyrgyzstan", "KHM": "Cambodia", "KOR": "South Korea",
    "KWT": "Kuwait", "LAO": "Laos", "LBN": "Lebanon", "LBY": "Libya", "LKA": "Sri Lanka",
    "MAR": "Morocco", "MDA": "Moldova", "MDG": "Madagascar", "MEX": "Mexico",
    "MKD": "North Macedonia", "MLI": "Mali", "MMR": "Myanmar", "MYS": "Malaysia", "NER": "Niger",
    "NGA": "Nigeria", "NLD": "Netherlands", "NPL": "Nepal", "OMN": "Oman", "PHL": "Philippines",
    "POL": "Poland", "PRT": "Portugal", "QAT": "Qatar", "ROU": "Romania", "RUS": "Russia",
    "SAU": "Saudi Arabia", "SDN": "Sudan", "SEN": "Senegal", "SLE": "Sierra Leone",
    "SLV": "El Salvador", "SOM": "Somalia", "SRB": "Serbia", "SWE": "Sweden", "THA": "Thailand",
    "TJK": "Tajikistan", "TKM": "Turkmenistan", "TUN": "Tunisia", "TUR": "Türkiye",
    "UGA": "Uganda", "UKR": "Ukraine", "USA": "United States", "UZB": "Uzbekistan",
    "VEN": "Venezuela", "VNM": "Viet Nam", "ZAF": "South Africa",
}


def country_name(code: str) -> str:
    return COUNTRY_NAMES.get(code, code)
