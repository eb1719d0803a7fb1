"""Carriers and their parcel lockers by the names customers know them, from the contract's codes.

A code not listed here is shown as the integration sent it: better an unfamiliar name than a
wrong one.
"""

_NAMES = {
    "ppl": "PPL",
    "dpd": "DPD",
    "gls": "GLS",
    "dhl": "DHL",
    "ups": "UPS",
    "fedex": "FedEx",
    "zasilkovna": "Zásilkovna",
    "packeta": "Zásilkovna",
    "ceska_posta": "Česká pošta",
    "balikovna": "Balíkovna",
    "slovenska_posta": "Slovenská pošta",
    "poczta_polska": "Poczta Polska",
    "inpost": "InPost",
    "sps": "SPS",
}
# Packeta is Zásilkovna only to Czech customers: Slovak, Polish and other customers know the
# brand it has used there since 2020.
_ABROAD = {"Zásilkovna": "Packeta"}
# Parcel lockers that carry a brand of their own, as their carriers' apps and signs name them.
_LOCKERS = {
    "zasilkovna": "Z-BOX",
    "packeta": "Z-BOX",
    "inpost": "Paczkomat",
    "ceska_posta": "BalíkoBOX",
    "balikovna": "BalíkoBOX",
}


def carrier_name(code: str, locale: str) -> str:
    """`zasilkovna` → `Zásilkovna` in Czech, `Packeta` in the other languages."""
    name = _NAMES.get(code.strip().lower(), code)
    return name if locale == "cs" else _ABROAD.get(name, name)


def locker_name(code: str) -> str:
    """The brand of the carrier's parcel lockers (`Z-BOX`, `Paczkomat`), or `` if none."""
    return _LOCKERS.get(code.strip().lower(), "")
