"""NPI check digits and NDC spellings."""

from __future__ import annotations

import unittest

from tools.datagen._catalogue import DRUGS
from tools.datagen.identifiers import is_valid_npi, ndc_variants, normalize_ndc, npi_check_digit


class NpiTest(unittest.TestCase):
    def test_cms_example_number_is_valid(self) -> None:
        # CMS's worked example: base 123456789 with prefix 80840 gives check digit 3.
        self.assertEqual(npi_check_digit("123456789"), 3)
        self.assertTrue(is_valid_npi("1234567893"))

    def test_any_other_check_digit_is_invalid(self) -> None:
        for digit in "012456789":
            self.assertFalse(is_valid_npi(f"123456789{digit}"), digit)

    def test_shapes_other_than_ten_digits_are_invalid(self) -> None:
        for value in (None, "", "123456789", "12345678930", "12345678 3", "\uff11" * 9 + "3"):
            self.assertFalse(is_valid_npi(value), value)

    def test_base_must_be_nine_digits(self) -> None:
        with self.assertRaises(ValueError):
            npi_check_digit("12345678")


class NdcTest(unittest.TestCase):
    def test_every_variant_normalises_back_to_the_11_digit_code(self) -> None:
        shapes: set[tuple[int, ...]] = set()
        for drug in DRUGS:
            for variant in ndc_variants(drug.ndc11):
                self.assertEqual(normalize_ndc(variant), drug.ndc11, variant)
                shapes.add(tuple(len(part) for part in variant.split("-")))
        self.assertEqual(shapes, {(5, 4, 2), (11,), (4, 4, 2), (5, 3, 2), (5, 4, 1)})

    def test_unknown_shapes_do_not_normalise(self) -> None:
        for raw in ("", "1234-567-89", "12345678", "abcde-fghi-jk", "123456-7890-1"):
            self.assertIsNone(normalize_ndc(raw), raw)


if __name__ == "__main__":
    unittest.main()
