"""First names in the vocative, the case Czech and Polish greet in, or `None` when unsure.

A wrong ending is worse than none: "Dobrý den, O'briene" or "Dzień dobry, Miriamie" offend, while
"Dobrý den," reads as ordinary. So a name gets a vocative only when it is one word of the
language's letters, capitalised once, and either ends in -a without a foreign spelling (declined
by rule) or is one of the common names listed here (a consonant ending says neither whether it is
a man's or a woman's name nor, in Polish, how it declines).
"""

import re

from vokativ import vokativ

# One word: a capital, then small letters of the language (Czech with the Slovak letters, which
# Czech customers' names carry too; Polish).
_CZECH_WORD = re.compile(r"[A-ZÁÄČĎÉĚÍĹĽŇÓÔŔŘŠŤÚŮÝŽ][a-záäčďéěíĺľňóôŕřšťúůýž]+")
_POLISH_WORD = re.compile(r"[A-ZĄĆĘŁŃÓŚŹŻ][a-ząćęłńóśźż]+")
# Spellings of foreign names ending in -a (Sasha, Martha, Jessica), which Czech and Polish do not
# decline as their own -a names.
_FOREIGN_SPELLING = "th|ph|sh|gh|ck|oo|ee|ca$"
_NOT_CZECH = re.compile(f"[qwx]|{_FOREIGN_SPELLING}")
_NOT_POLISH = re.compile(f"[qvx]|{_FOREIGN_SPELLING}")
_VOWELS = frozenset("aáäeéěiíoóôuúůyý")
# Czech and Slovak men's names, the common ones: vokativ declines these right (Petr → Petře,
# Marek → Marku). A name ending in a consonant may also be a woman's (Ivet, Edit, Abigail), which
# Czech does not decline and vokativ would, so no other such name gets a vocative.
_CZECH_MEN = frozenset(
    [
        "Adam",
        "Adrian",
        "Albert",
        "Aleš",
        "Alex",
        "Alexandr",
        "Alois",
        "Andrej",
        "Antonín",
        "Arnošt",
        "Artur",
        "Bedřich",
        "Benjamin",
        "Bohumil",
        "Bohuslav",
        "Bořivoj",
        "Branislav",
        "Břetislav",
        "Ctibor",
        "Dalibor",
        "Daniel",
        "David",
        "Denis",
        "Dominik",
        "Dušan",
        "Eduard",
        "Eliáš",
        "Emil",
        "Erik",
        "Ervín",
        "Filip",
        "František",
        "Gabriel",
        "Hubert",
        "Hynek",
        "Igor",
        "Ivan",
        "Jakub",
        "Jan",
        "Ján",
        "Jaromír",
        "Jaroslav",
        "Jindřich",
        "Jonáš",
        "Josef",
        "Jozef",
        "Juraj",
        "Kamil",
        "Karel",
        "Kevin",
        "Kristián",
        "Kryštof",
        "Leon",
        "Leopold",
        "Leoš",
        "Libor",
        "Lubomír",
        "Luboš",
        "Luděk",
        "Ludvík",
        "Lukáš",
        "Ľubomír",
        "Ľuboš",
        "Marcel",
        "Marek",
        "Marián",
        "Martin",
        "Matěj",
        "Matouš",
        "Matúš",
        "Matyáš",
        "Max",
        "Maxmilián",
        "Michael",
        "Michal",
        "Mikuláš",
        "Milan",
        "Miloslav",
        "Miloš",
        "Miroslav",
        "Nikolas",
        "Norbert",
        "Oldřich",
        "Oliver",
        "Ondrej",
        "Ondřej",
        "Oskar",
        "Otakar",
        "Patrik",
        "Pavel",
        "Pavol",
        "Petr",
        "Prokop",
        "Přemysl",
        "Radek",
        "Radim",
        "Radovan",
        "Rastislav",
        "Richard",
        "Robert",
        "Róbert",
        "Roland",
        "Roman",
        "Rostislav",
        "Rudolf",
        "Samuel",
        "Sebastian",
        "Sebastián",
        "Stanislav",
        "Svatopluk",
        "Šimon",
        "Štefan",
        "Štěpán",
        "Tadeáš",
        "Teodor",
        "Tibor",
        "Tobiáš",
        "Tomáš",
        "Václav",
        "Viktor",
        "Viliam",
        "Vilém",
        "Vincent",
        "Vít",
        "Vítězslav",
        "Vladimír",
        "Vlastimil",
        "Vojtěch",
        "Vratislav",
        "Zbyněk",
        "Zdeněk",
    ]
)
# Women's names ending in a consonant, which Czech leaves as they are: "Dobrý den, Dagmar".
_CZECH_WOMEN = frozenset(
    [
        "Agnes",
        "Anet",
        "Carmen",
        "Dagmar",
        "Doris",
        "Edit",
        "Elen",
        "Ester",
        "Ingrid",
        "Ines",
        "Iris",
        "Isabel",
        "Ivet",
        "Jasmin",
        "Judit",
        "Karin",
        "Karmen",
        "Lilian",
        "Marion",
        "Mercedes",
        "Miriam",
        "Nikol",
        "Rút",
        "Vivien",
    ]
)

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
    """`Petr` → `Petře`, `Jana` → `Jano`, `Lucie` and `Dagmar` as they are; `None` for
    `Jean-Luc`, `O'Brien`, `McDonald`, `Jean`, `Sasha`."""
    if not _CZECH_WORD.fullmatch(name):
        return None
    if name in _CZECH_MEN:
        called = str(vokativ(name, woman=False))
    elif name in _CZECH_WOMEN or (name[-1] in _VOWELS and name[-1] != "a"):
        return name  # Jiří, Ivo, Lucie, Noemi: the vocative is the name
    elif name.endswith("a") and not _NOT_CZECH.search(name.lower()):
        called = str(vokativ(name))
    else:
        return None
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
