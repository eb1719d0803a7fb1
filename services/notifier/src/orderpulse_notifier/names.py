"""First names in the vocative, the case Czech and Polish greet in, or `None` when unsure.

A wrong ending is worse than none: "Dobrý den, O'briene" or "Dzień dobry, Miriamie" offend, while
"Dobrý den," reads as ordinary. So a name gets a vocative only when it looks like a name of the
language: one word of its own letters, capitalised once, without spellings foreign to it.
"""

import re

from vokativ import vokativ

# One word: a capital, then small letters of the language (Czech with the Slovak letters, which
# Czech customers' names carry too; Polish).
_CZECH_WORD = re.compile(r"[A-ZÁÄČĎÉĚÍĹĽŇÓÔŔŘŠŤÚŮÝŽ][a-záäčďéěíĺľňóôŕřšťúůýž]+")
_POLISH_WORD = re.compile(r"[A-ZĄĆĘŁŃÓŚŹŻ][a-ząćęłńóśźż]+")
# Spellings Czech names do not have (Jean, Jacques, Elizabeth, Ashley, Anh): vokativ's rules would
# decline these as if they were Czech.
_NOT_CZECH = re.compile(r"[qwx]|th|ph|sh|gh|ck|ea|ee|oo|ae|ay|ey|oy|ue|uy|nh$")
_NOT_POLISH = re.compile(r"[qvx]")

# Polish masculine names, the common ones, in the vocative. A consonant ending may be masculine
# (Piotr → Piotrze) or a feminine name that does not decline (Miriam, Carmen), and the ending
# changes irregularly (Paweł → Pawle, Marek → Marku), so only these names get one.
_POLISH_MEN = {
    "Adam": "Adamie",
    "Adrian": "Adrianie",
    "Albert": "Albercie",
    "Aleksander": "Aleksandrze",
    "Andrzej": "Andrzeju",
    "Antoni": "Antoni",
    "Arkadiusz": "Arkadiuszu",
    "Artur": "Arturze",
    "Bartłomiej": "Bartłomieju",
    "Bartosz": "Bartoszu",
    "Błażej": "Błażeju",
    "Bogdan": "Bogdanie",
    "Bogusław": "Bogusławie",
    "Cezary": "Cezary",
    "Czesław": "Czesławie",
    "Damian": "Damianie",
    "Daniel": "Danielu",
    "Dariusz": "Dariuszu",
    "Dawid": "Dawidzie",
    "Dominik": "Dominiku",
    "Edward": "Edwardzie",
    "Emil": "Emilu",
    "Eryk": "Eryku",
    "Filip": "Filipie",
    "Franciszek": "Franciszku",
    "Fryderyk": "Fryderyku",
    "Gabriel": "Gabrielu",
    "Grzegorz": "Grzegorzu",
    "Henryk": "Henryku",
    "Hubert": "Hubercie",
    "Igor": "Igorze",
    "Ireneusz": "Ireneuszu",
    "Jacek": "Jacku",
    "Jakub": "Jakubie",
    "Jan": "Janie",
    "Janusz": "Januszu",
    "Jarosław": "Jarosławie",
    "Jerzy": "Jerzy",
    "Józef": "Józefie",
    "Julian": "Julianie",
    "Kacper": "Kacprze",
    "Kamil": "Kamilu",
    "Karol": "Karolu",
    "Kazimierz": "Kazimierzu",
    "Konrad": "Konradzie",
    "Krystian": "Krystianie",
    "Krzysztof": "Krzysztofie",
    "Leszek": "Leszku",
    "Łukasz": "Łukaszu",
    "Maciej": "Macieju",
    "Maksymilian": "Maksymilianie",
    "Marcin": "Marcinie",
    "Marek": "Marku",
    "Marian": "Marianie",
    "Mariusz": "Mariuszu",
    "Mateusz": "Mateuszu",
    "Michał": "Michale",
    "Mikołaj": "Mikołaju",
    "Mirosław": "Mirosławie",
    "Norbert": "Norbercie",
    "Oliwer": "Oliwerze",
    "Oskar": "Oskarze",
    "Patryk": "Patryku",
    "Paweł": "Pawle",
    "Piotr": "Piotrze",
    "Przemysław": "Przemysławie",
    "Radosław": "Radosławie",
    "Rafał": "Rafale",
    "Robert": "Robercie",
    "Roman": "Romanie",
    "Ryszard": "Ryszardzie",
    "Sebastian": "Sebastianie",
    "Sławomir": "Sławomirze",
    "Stanisław": "Stanisławie",
    "Stefan": "Stefanie",
    "Szymon": "Szymonie",
    "Tadeusz": "Tadeuszu",
    "Tomasz": "Tomaszu",
    "Tymoteusz": "Tymoteuszu",
    "Waldemar": "Waldemarze",
    "Wiesław": "Wiesławie",
    "Wiktor": "Wiktorze",
    "Witold": "Witoldzie",
    "Władysław": "Władysławie",
    "Wojciech": "Wojciechu",
    "Zbigniew": "Zbigniewie",
    "Zdzisław": "Zdzisławie",
    "Zygmunt": "Zygmuncie",
}
# Familiar forms that end in a soft consonant and -a take -u: Kasia → Kasiu, Ola → Olu.
_POLISH_SOFT = re.compile(r"(?:[sczn]i|dzi)a$|^[AEOU]la$")


def czech_vocative(name: str) -> str | None:
    """`Petr` → `Petře`, `Jana` → `Jano`; `None` for `Jean-Luc`, `O'Brien`, `McDonald`, `Jean`."""
    if not _CZECH_WORD.fullmatch(name) or _NOT_CZECH.search(name.lower()):
        return None
    called = str(vokativ(name))
    return called[:1].upper() + called[1:]


def polish_vocative(name: str) -> str | None:
    """`Katarzyna` → `Katarzyno`, `Kasia` → `Kasiu`, `Piotr` → `Piotrze`; `None` for a name
    that does not end in -a and is not one of the common masculine names."""
    if name in _POLISH_MEN:
        return _POLISH_MEN[name]
    if not _POLISH_WORD.fullmatch(name) or _NOT_POLISH.search(name.lower()):
        return None
    if _POLISH_SOFT.search(name):
        return name[:-1] + "u"
    if name.endswith("a"):
        return name[:-1] + "o"
    return None
