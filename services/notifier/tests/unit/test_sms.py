from orderpulse_notifier.sms import measure, transliterate


def test_plain_ascii_fits_one_gsm7_segment() -> None:
    text = measure("a" * 160)
    assert (text.encoding, text.segments) == ("GSM-7", 1)


def test_a_161st_character_makes_three_concatenated_gsm7_segments_of_153() -> None:
    assert measure("a" * 161).segments == 2
    assert measure("a" * 307).segments == 3


def test_extension_characters_count_twice() -> None:
    assert measure("€" * 80).segments == 1
    assert measure("€" * 81).segments == 2


def test_czech_diacritics_force_ucs2_with_70_characters_a_segment() -> None:
    assert measure("ř" * 70) == measure("ř" * 70)
    assert (measure("ř" * 70).encoding, measure("ř" * 70).segments) == ("UCS-2", 1)
    assert measure("ř" * 71).segments == 2


def test_transliteration_keeps_the_text_readable_and_in_gsm7() -> None:
    czech = "Přijali jsme vaši objednávku č. 10045 – děkujeme!"
    polish = "Zażółć gęślą jaźń „Łódź”"
    assert transliterate(czech) == "Prijali jsme vasi objednavku c. 10045 - dekujeme!"
    assert transliterate(polish) == 'Zazolc gesla jazn "Lodz"'
    assert measure(transliterate(czech + polish)).encoding == "GSM-7"


def test_transliteration_keeps_letters_gsm7_has() -> None:
    assert transliterate("Café Müller, Ø 30 cm") == "Café Müller, Ø 30 cm"
