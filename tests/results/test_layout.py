"""The results layout's names."""

from __future__ import annotations

import re

from hpobench.results import layout


def test_tuner_name_keeps_every_part_for_the_longest_tag():
    tag = "a" * 40  # the longest tag settings accept
    name = layout.tuner_name(tag, "lstm_wikitext2", "ASHACQR", 12, now=1795803292.6545)
    assert name == f"{tag}/ASHACQR-12/{tag}-lstm_wikitext2-12-2026-11-27-18-14-52-654"


def test_tuner_name_timestamp_has_syne_tunes_format():
    name = layout.tuner_name("t", "mlp_digits", "RS", 0)
    assert re.fullmatch(r"t/RS-0/t-mlp_digits-0-\d{4}(-\d\d){5}-\d{3}", name)
