"""Reading requirements files in every shape a freeze arrives in (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homedeploy.errors import UsageError
from homedeploy.requirements.file import (
    EDITABLE,
    INCLUDE,
    INVALID,
    LOCAL_PATH,
    OPTION,
    REQUIREMENT,
    URL,
    parse_line,
    read_requirements,
)

TEXT = "# comment\nFlask==1.0.2  # pinned\ngunicorn\nnumpy>=1.26 ; python_version >= '3.10'\n"


@pytest.mark.parametrize(
    ("encoding", "newline", "expected"),
    [
        ("utf-8", "\n", "utf-8"),
        ("utf-8-sig", "\n", "utf-8-sig"),
        ("utf-16", "\r\n", "utf-16"),  # PowerShell's `pip freeze > requirements.txt`
        ("utf-8", "\r\n", "utf-8"),
    ],
)
def test_encodings_and_line_endings(
    tmp_path: Path, encoding: str, newline: str, expected: str
) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(TEXT.replace("\n", newline).encode(encoding))
    parsed = read_requirements(path)
    assert parsed.encoding == expected
    assert [(line.line, line.name, line.specifier) for line in parsed.lines] == [
        (2, "Flask", "==1.0.2"),
        (3, "gunicorn", ""),
        (4, "numpy", ">=1.26"),
    ]
    assert parsed.lines[2].markers == 'python_version >= "3.10"'
    assert parsed.lines[0].pinned_version == "1.0.2"


def test_utf16_without_bom_is_recognised(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes("flask\r\n".encode("utf-16-le"))
    assert [line.name for line in read_requirements(path).lines] == ["flask"]


@pytest.mark.parametrize(
    ("text", "kind", "name"),
    [
        ("Flask[async]==3.1 --hash=sha256:abc", REQUIREMENT, "Flask"),
        ("conda @ file:///croot/conda_1/work", LOCAL_PATH, "conda"),
        ("mkl-fft @ file:///C:/ci/mkl_fft_1/work", LOCAL_PATH, "mkl-fft"),
        ("pkg @ https://example.invalid/pkg-1.0-py3-none-any.whl", URL, "pkg"),
        ("https://example.invalid/pkg-1.0-py3-none-any.whl", URL, "pkg"),
        ("./dist/pkg-1.0.tar.gz", LOCAL_PATH, "pkg"),
        ("-e git+https://example.invalid/x.git#egg=thing", EDITABLE, "thing"),
        ("-e .", EDITABLE, None),
        ("--index-url https://example.invalid/simple", OPTION, None),
        ("--extra-index-url=https://example.invalid/simple", OPTION, None),
        ("-r other.txt", INCLUDE, None),
        ("-cconstraints.txt", INCLUDE, None),
        ("--no-index", OPTION, None),
        ("--frobnicate", INVALID, None),
        ("flask==", INVALID, None),
        ("-i", INVALID, None),
    ],
)
def test_line_kinds(text: str, kind: str, name: str | None) -> None:
    parsed = parse_line(Path("r.txt"), 7, text)
    assert (parsed.kind, parsed.name) == (kind, name)
    assert parsed.line == 7
    assert parsed.text == text


def test_hashes_extras_and_invalid_reason() -> None:
    parsed = parse_line(Path("r.txt"), 1, "Flask[async]==3.1 --hash=sha256:abc --hash sha256:def")
    assert parsed.extras == ("async",)
    assert parsed.hashes == ("sha256:abc", "sha256:def")
    invalid = parse_line(Path("r.txt"), 3, "Flask=1.0")
    assert invalid.reason is not None
    assert invalid.reason.startswith("Invalid requirement: 'Flask=1.0': ")
    assert parse_line(Path("r.txt"), 1, "--frobnicate x").reason == "no such option: --frobnicate"


def test_includes_are_relative_and_cycle_safe(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "requirements.txt").write_text("-r sub/base.txt\n-c sub/pins.txt\nflask\n")
    (tmp_path / "sub" / "base.txt").write_text("gunicorn\n-r ../requirements.txt\n-r gone.txt\n")
    (tmp_path / "sub" / "pins.txt").write_text("six==1.17.0\n")
    parsed = read_requirements(tmp_path / "requirements.txt")
    summary = [(line.path.name, line.line, line.kind, line.name) for line in parsed.lines]
    assert summary == [
        ("requirements.txt", 1, INCLUDE, None),
        ("base.txt", 1, REQUIREMENT, "gunicorn"),
        ("base.txt", 2, INVALID, None),
        ("base.txt", 3, INVALID, None),
        ("requirements.txt", 2, INCLUDE, None),
        ("pins.txt", 1, REQUIREMENT, "six"),
        ("requirements.txt", 3, REQUIREMENT, "flask"),
    ]
    assert "include cycle" in (parsed.lines[2].reason or "")
    assert "Could not open requirements file" in (parsed.lines[3].reason or "")
    assert parsed.lines[5].constraint is True


def test_continuation_lines_join() -> None:
    from homedeploy.requirements.file import logical_lines

    assert logical_lines("flask==3.1 \\\n    --hash=sha256:abc\n# x\n\ngunicorn\n") == [
        (1, "flask==3.1     --hash=sha256:abc"),
        (5, "gunicorn"),
    ]


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as raised:
        read_requirements(tmp_path / "requirements.txt")
    assert raised.value.exit_code == 2
    with pytest.raises(UsageError):
        read_requirements(tmp_path)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=120))
def test_no_line_crashes_the_parser(text: str) -> None:
    parsed = parse_line(Path("r.txt"), 1, text)
    assert parsed.kind in {REQUIREMENT, OPTION, INCLUDE, EDITABLE, URL, LOCAL_PATH, INVALID}
    _ = parsed.pinned_version, parsed.is_local


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_no_file_content_crashes_the_reader(
    tmp_path_factory: pytest.TempPathFactory, raw: bytes
) -> None:
    path = tmp_path_factory.mktemp("req") / "requirements.txt"
    path.write_bytes(raw)
    parsed = read_requirements(path)
    for line in parsed.lines:
        _ = line.pinned_version, line.is_local


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="aZ09_.-=<>!~;@[],#/:\\ '\"*+$%&()\t\x00ü", max_size=80))
def test_no_requirement_like_line_crashes_the_parser(text: str) -> None:
    parsed = parse_line(Path("r.txt"), 1, text)
    if parsed.kind == INVALID:
        assert parsed.reason
    _ = parsed.pinned_version, parsed.is_local
