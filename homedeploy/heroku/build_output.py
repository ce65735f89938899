"""Reading what ``git push heroku`` prints: build phases, the failure headline, and what it means.

The Python buildpack prints steps as ``remote: -----> <step>`` and errors as a block of
``remote:  !     Error: <headline>`` lines; the platform adds ``Push rejected, failed to compile
Python app.`` and git shows ``[remote rejected]``. Some outcomes look like success to git (exit 0)
but deploy nothing: a push to a branch other than main/master prints "skipping build". This
module turns those lines into a :class:`BuildResult` with homedeploy's explanation and fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
STEP_RE = re.compile(r"^remote: -----> (.*?)\s*$")
HEADLINE_RE = re.compile(r"^remote:\s+!\s+(Error|Internal Error|Internal error|Warning): (.*?)\s*$")
CONTINUATION_RE = re.compile(r"^remote:\s+!\s+(\S.*?)\s*$")
RELEASED_RE = re.compile(r"^remote:\s+Released v(\d+)")
PIP_ERROR_RE = re.compile(
    r"^remote:\s+(?:ERROR: )?(No matching distribution found for .*|"
    r"Could not find a version that satisfies the requirement .*|"
    r"Invalid requirement: .*|ResolutionImpossible.*|"
    r"Cannot install .* because these package versions have conflicting dependencies.*|"
    r"Failed to build .*|Failed building wheel for .*)$"
)
SKIPPING_RE = re.compile(r"skipping build", re.IGNORECASE)
PUSH_REJECTED_RE = re.compile(r"^remote:\s+!\s*(Push rejected.*?)\s*$")
REMOTE_REJECTED_RE = re.compile(r"\[remote rejected\]\s*(.*)$")
AUTH_RE = re.compile(
    r"Authentication failed|could not read (?:Username|Password)|terminal prompts disabled|"
    r"returned error: 40[13]|Invalid credentials|HTTP Basic: Access denied",
    re.IGNORECASE,
)
NOT_FOUND_RE = re.compile(
    r"Repository not found|returned error: 404|does not appear to be a git", re.I
)
CONNECT_RE = re.compile(
    r"Could not resolve host|Failed to connect|Connection refused|timed out", re.I
)


@dataclass
class BuildEvent:
    """Something worth showing live: a build ``phase``, an ``error`` or a ``warning`` headline."""

    kind: str
    text: str


@dataclass
class BuildResult:
    """The outcome of one push.

    ``status`` is ``succeeded``, ``failed`` (compile error), ``rejected`` (Heroku or git refused
    the push), ``skipped`` (accepted but nothing built), ``auth_failed``, ``up_to_date`` (Heroku
    already had this commit; nothing built) or ``error`` (git could not push).
    """

    status: str
    phases: list[str] = field(default_factory=list)
    headline: str | None = None
    cause: str | None = None
    explanation: str | None = None
    fix: str | None = None
    warnings: list[str] = field(default_factory=list)
    released_version: int | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("succeeded", "up_to_date")


# (pattern on "headline + cause", explanation, fix); first match wins.
_EXPLANATIONS: list[tuple[re.Pattern[str], str, str]] = [
    (
        re.compile(r"No matching distribution found|Could not find a version that satisfies", re.I),
        "pip on Heroku (Linux, the Python version in .python-version) cannot install a pinned "
        "requirement: the package or that version does not exist for Heroku's platform, or it "
        "only exists on your OS or in conda.",
        "run `homedeploy check-reqs requirements.txt` to find and fix such lines locally, "
        "commit, and push again.",
    ),
    (
        re.compile(r"Invalid requirement", re.I),
        "requirements.txt has a line pip cannot read (often a conda `name=ver=build` line or a "
        "local `@ file:///` path from `pip freeze`).",
        "run `homedeploy check-reqs requirements.txt`, commit, and push again.",
    ),
    (
        re.compile(r"conflicting dependencies|ResolutionImpossible", re.I),
        "two pinned requirements need incompatible versions of a third package.",
        "run `homedeploy check-reqs requirements.txt` to re-resolve the pins, commit, and push.",
    ),
    (
        re.compile(r"Failed (?:to build|building wheel)", re.I),
        "a package had to be compiled from source on Heroku and the build failed.",
        "pin a version that ships a wheel for Linux and your Python version "
        "(`homedeploy check-reqs` checks this).",
    ),
    (
        re.compile(
            r"couldn't find any supported Python|not compatible with buildpack|"
            r"Couldn't find any supported Python package manager",
            re.I,
        ),
        "Heroku found no requirements.txt (or other package manager file) at the root of the "
        "pushed commit.",
        "create requirements.txt at the project root (`homedeploy check-reqs`), "
        "`git add requirements.txt && git commit`, and push again.",
    ),
    (
        re.compile(r"Multiple Python package manager files", re.I),
        "the commit has more than one of requirements.txt, Pipfile.lock, poetry.lock, uv.lock.",
        "keep one package manager file (for homedeploy: requirements.txt), commit, push again.",
    ),
    (
        re.compile(r"Python version|\.python-version|runtime\.txt", re.I),
        "the Python version file cannot be used by Heroku's Python buildpack.",
        "put a supported version such as `3.12` alone in .python-version (`homedeploy doctor` "
        "checks it), commit, and push again.",
    ),
    (
        re.compile(r"Existing '\.?venv/' directory", re.I),
        "a virtual environment folder is committed to git; Heroku builds its own.",
        "git rm -r --cached .venv venv; add them to .gitignore; commit and push again.",
    ),
    (
        re.compile(r"setup\.py file support has been sunset|No 'Pipfile\.lock' found", re.I),
        "the project's packaging files are not ones Heroku's Python buildpack installs from.",
        "add a requirements.txt (`homedeploy check-reqs`), commit, and push again.",
    ),
    (
        re.compile(r"bin/(?:pre|post)_compile", re.I),
        "the project's own bin/pre_compile or bin/post_compile script failed on Heroku.",
        "run that script locally, fix it, commit, and push again.",
    ),
    (
        re.compile(r"Unable to install dependencies", re.I),
        "pip could not install requirements.txt on Heroku (the lines above the headline say why).",
        "run `homedeploy check-reqs requirements.txt` and `homedeploy push --local`, then push.",
    ),
]


class BuildOutputParser:
    """Feed it git's output lines as they arrive; ask for the :class:`BuildResult` at the end."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.phases: list[str] = []
        self.warnings: list[str] = []
        self._errors: list[tuple[int, str]] = []  # (index of phase it follows, headline)
        self._causes: list[str] = []
        self._push_rejected: str | None = None
        self._remote_rejected: str | None = None
        self._skipped: str | None = None
        self._released: int | None = None
        self._open_headline: tuple[int, str] | None = None  # headline wrapped to the next line

    def feed(self, raw: str) -> BuildEvent | None:
        """Record one line; returns an event when the line starts a phase or is a headline."""
        line = ANSI_RE.sub("", raw).rstrip()
        self.lines.append(line)
        step = STEP_RE.match(line)
        if step:
            self.phases.append(step.group(1))
            return BuildEvent("phase", step.group(1))
        if self._open_headline is not None:
            more = CONTINUATION_RE.match(line)
            index, kind = self._open_headline
            self._open_headline = None
            if more and not HEADLINE_RE.match(line):
                target = self._errors if kind == "error" else None
                if target is not None:
                    phase, text = target[index]
                    target[index] = (phase, f"{text} {more.group(1)}")
                else:
                    self.warnings[index] = f"{self.warnings[index]} {more.group(1)}"
                return None
        headline = HEADLINE_RE.match(line)
        if headline:
            text = f"{headline.group(1)}: {headline.group(2)}"
            if headline.group(1) == "Warning":
                self.warnings.append(text)
                if not text.endswith((".", "!", ":")):
                    self._open_headline = (len(self.warnings) - 1, "warning")
                return BuildEvent("warning", text)
            self._errors.append((len(self.phases), text))
            if not text.endswith((".", "!", ":")):
                self._open_headline = (len(self._errors) - 1, "error")
            return BuildEvent("error", text)
        cause = PIP_ERROR_RE.match(line)
        if cause:
            self._causes.append(cause.group(1))
            return None
        released = RELEASED_RE.match(line)
        if released:
            self._released = int(released.group(1))
            return None
        rejected = PUSH_REJECTED_RE.match(line)
        if rejected and self._push_rejected is None:
            self._push_rejected = rejected.group(1)
            return BuildEvent("error", rejected.group(1))
        remote_rejected = REMOTE_REJECTED_RE.search(line)
        if remote_rejected:
            self._remote_rejected = line.strip()
            return None
        if SKIPPING_RE.search(line) and line.startswith("remote:"):
            self._skipped = line.removeprefix("remote:").strip()
            return BuildEvent("error", self._skipped)
        return None

    def _headline(self) -> str | None:
        if not self._errors:
            return None
        last_phase = len(self.phases)
        after_last = [text for phase, text in self._errors if phase >= last_phase]
        candidates = after_last or [self._errors[-1][1]]
        # bin/warnings errors (GDAL, SQLite, metadata) precede the generic install error.
        return candidates[0]

    def result(
        self, *, ref_flags: list[str] | None = None, ref_summary: str = "", error: str | None = None
    ) -> BuildResult:
        """The outcome, from the lines seen plus git's per-ref flags and error text."""
        flags = ref_flags or []
        text = "\n".join([*self.lines, error or "", ref_summary])

        def make(status: str, **details: str | None) -> BuildResult:
            return BuildResult(
                status,
                phases=list(self.phases),
                warnings=list(self.warnings),
                released_version=self._released,
                **details,
            )

        if self._skipped:
            return make(
                "skipped",
                headline=self._skipped,
                explanation="Heroku accepted the push but built nothing: it only builds the "
                "main or master branch. git reported success anyway.",
                fix="push with `homedeploy push` (it always pushes HEAD to main), or "
                "`git push heroku HEAD:main`.",
            )
        headline = self._headline()
        rejected_by_remote = "remote_rejected" in flags or self._remote_rejected is not None
        if headline or self._push_rejected or (rejected_by_remote and not AUTH_RE.search(text)):
            preferred = [c for c in self._causes if c.startswith("No matching distribution")]
            causes = preferred or self._causes
            cause = causes[0] if causes else None
            key = " ".join(filter(None, [headline, cause, self._push_rejected]))
            explanation, fix = _explain(key)
            return make(
                "failed" if (headline or self._push_rejected) else "rejected",
                headline=headline
                or self._push_rejected
                or self._remote_rejected
                or f"[remote rejected] {ref_summary}".strip(),
                cause=cause,
                explanation=explanation,
                fix=fix,
            )
        if AUTH_RE.search(text):
            return make(
                "auth_failed",
                headline="Heroku's git server refused the API key",
                explanation="git sent the key the API accepted, but Heroku's git server rejected "
                "it (an expired key, or a key for another account).",
                fix="create a fresh key on https://dashboard.heroku.com/account and export "
                "HEROKU_API_KEY=<key>.",
            )
        if NOT_FOUND_RE.search(text):
            return make(
                "error",
                headline="the app's git repository was not found",
                explanation="the `heroku` remote points at an app this key cannot push to.",
                fix="check the app name with `homedeploy apps`, then `homedeploy push --app NAME`.",
            )
        if "rejected" in flags:
            return make(
                "rejected",
                headline=f"[rejected] {ref_summary}".strip(),
                explanation="Heroku's main branch has commits that are not in your HEAD (a deploy "
                "from elsewhere); git refuses to overwrite them.",
                fix="pass --force to replace what is deployed with your HEAD.",
            )
        if error and not (
            flags and set(flags) <= {"up_to_date", "new_head", "fast_forward", "forced_update"}
        ):
            last = error.strip().splitlines()[-1] if error.strip() else "git push failed"
            why: str | None = None
            fix = "check the git output above."
            if CONNECT_RE.search(text):
                why = "git could not reach Heroku's git server."
                fix = "check your internet connection (and HOMEDEPLOY_HEROKU_GIT_URL if set)."
            return make("error", headline=last, explanation=why, fix=fix)
        if flags == ["up_to_date"]:
            return make("up_to_date")
        return make("succeeded")


def _explain(text: str) -> tuple[str, str]:
    for pattern, explanation, fix in _EXPLANATIONS:
        if pattern.search(text):
            return explanation, fix
    return (
        "Heroku rejected the build; the remote: lines above show where it stopped.",
        "fix what the headline names, commit, and push again (`homedeploy doctor` and "
        "`homedeploy push --local` find most build problems locally).",
    )


def parse_build_output(
    lines: list[str],
    *,
    ref_flags: list[str] | None = None,
    ref_summary: str = "",
    error: str | None = None,
) -> BuildResult:
    """Parse a finished push's output in one go (tests, saved logs)."""
    parser = BuildOutputParser()
    for line in lines:
        parser.feed(line)
    return parser.result(ref_flags=ref_flags, ref_summary=ref_summary, error=error)
