"""Fuzzing the campaign file loader: any file is either a `CampaignDefinition` or an `InputError`
whose every problem names the file (issue 11)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import assume, given
from hypothesis import strategies as st

from campaigns.definition import definition_to_dict, parse_campaign, read_campaign_file
from minsheng.errors import InputError
from questionnaire.schema import form_to_dict
from tests.mutations import EXAMPLE_CAMPAIGN, EXAMPLE_FILE, PLAIN, mutated

TEXT = EXAMPLE_FILE.read_text(encoding="utf-8")


def _yaml(value) -> str:
    try:
        return yaml.safe_dump(value, sort_keys=False)
    except yaml.YAMLError:
        assume(False)
        raise


@st.composite
def _spliced(draw) -> bytes:
    """The example file with bytes cut out or pasted in (broken UTF-8, YAML syntax, tabs)."""
    data = TEXT.encode()
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        cut = draw(st.integers(0, 40))
        pasted = draw(
            st.one_of(
                st.binary(max_size=12),
                st.sampled_from([b"\xff", b"\xed\xa0\x80", b"\t", b": ", b"- ", b"&a", b"*a"]),
                st.sampled_from([b"!!python/object:os.system", b"{", b"]", b"\x00", b"\n  "]),
            )
        )
        data = data[:at] + pasted + data[at + cut :]
    return data


FILES = st.one_of(
    mutated(EXAMPLE_CAMPAIGN).map(_yaml).map(str.encode),
    PLAIN.map(_yaml).map(str.encode),
    _spliced(),
    st.binary(max_size=200),
)


@given(content=FILES)
def test_any_campaign_file_is_a_definition_or_an_input_error_naming_the_file(content):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "campaign.yaml"
        path.write_bytes(content)
        try:
            definition = read_campaign_file(path)
        except InputError as exc:
            assert exc.problems
            for problem in exc.problems:
                assert "campaign.yaml" in problem.location, problem
                assert problem.message, problem
            return
    again = parse_campaign(definition_to_dict(definition, form_to_dict(definition.form)))
    assert again.form == definition.form
    assert again.slug == definition.slug
