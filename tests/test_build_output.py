"""Reading ``git push heroku`` output: phases, headlines, and the outcomes git calls success."""

from __future__ import annotations

from homedeploy.heroku.build_output import BuildOutputParser, parse_build_output

SUCCESS = """\
remote: Compressing source files... done.
remote: Building source:
remote:
remote: -----> Building on the Heroku-24 stack
remote: -----> Python app detected
remote: -----> Using Python 3.12 specified in .python-version
remote: -----> Installing Python 3.12.14
remote: -----> Installing dependencies using 'pip install -r requirements.txt'
remote:        Collecting flask==3.1.3
remote: -----> Discovering process types
remote:        Procfile declares types -> web
remote: -----> Launching...
remote:        Released v4
remote:        https://demo-demo-12345.herokuapp.com/ deployed to Heroku
remote:
remote: Verifying deploy... done.""".splitlines()

# Real output quoted in the Python buildpack's specs (pip_invalid_requirement), with the
# platform's trailer and git's human-readable rejection line.
INVALID_REQUIREMENT = """\
remote: -----> Installing dependencies using 'pip install -r requirements.txt'
remote:        ERROR: Invalid requirement: 'an-invalid-requirement!': Expected semicolon (after \
name with no version specifier) or end
remote:            an-invalid-requirement!
remote:                                  ^ (from line 1 of requirements.txt)
remote:
remote:  !     Error: Unable to install dependencies using pip.
remote:  !
remote:  !     See the log output above for more information.
remote:
remote:  !     Push rejected, failed to compile Python app.
remote:
remote:  !     Push failed
remote: Verifying deploy...
remote:
remote: !\tPush rejected to flair-of-reddit-india.
remote:
To https://git.heroku.com/flair-of-reddit-india.git
 ! [remote rejected] master -> master (pre-receive hook declined)
error: failed to push some refs to 'https://git.heroku.com/flair-of-reddit-india.git'""".splitlines()


def test_success_phases_and_release() -> None:
    result = parse_build_output(SUCCESS, ref_flags=["new_head"])
    assert result.ok and result.status == "succeeded"
    assert result.phases[:2] == ["Building on the Heroku-24 stack", "Python app detected"]
    assert result.released_version == 4 and result.headline is None


def test_compile_failure_headline_cause_fix() -> None:
    result = parse_build_output(INVALID_REQUIREMENT, ref_flags=["remote_rejected"], error="exit 1")
    assert result.status == "failed" and not result.ok
    assert result.headline == "Error: Unable to install dependencies using pip."
    assert result.cause and result.cause.startswith(
        "Invalid requirement: 'an-invalid-requirement!'"
    )
    assert "homedeploy check-reqs" in (result.fix or "")


def test_ansi_codes_and_wrapped_headline() -> None:
    lines = [
        "remote: -----> Python app detected",
        "remote: \x1b[1;31m !     Error: Your app is configured to use the Python buildpack,"
        "\x1b[0m",
        "remote: \x1b[1;31m !     but we couldn't find any supported Python project files.\x1b[0m",
    ]
    result = parse_build_output(lines, ref_flags=["remote_rejected"])
    assert result.headline == (
        "Error: Your app is configured to use the Python buildpack, "
        "but we couldn't find any supported Python project files."
    )
    assert "requirements.txt" in (result.fix or "")


def test_first_error_after_last_step_wins() -> None:
    lines = [
        "remote: -----> Using Python 3.8 specified in .python-version",
        "remote:  !     Error: The requested Python version has reached end-of-life.",
        "remote:  !     Error: Something later.",
    ]
    result = parse_build_output(lines, ref_flags=["remote_rejected"])
    assert result.headline == "Error: The requested Python version has reached end-of-life."
    assert ".python-version" in (result.fix or "")


def test_warnings_are_kept_but_not_failures() -> None:
    lines = [*SUCCESS[:5], "remote:  !     Warning: No Python version was specified."]
    result = parse_build_output(lines, ref_flags=["new_head"])
    assert result.ok and result.warnings == ["Warning: No Python version was specified."]


def test_skipping_build_fails_even_when_git_succeeds() -> None:
    lines = [
        "remote: Pushed to branch other than [main, master], skipping build.",
        "To https://git.heroku.com/app.git",
        " * [new branch]      HEAD -> feature",
    ]
    result = parse_build_output(lines, ref_flags=["new_head"], error=None)
    assert result.status == "skipped" and not result.ok
    assert "main" in (result.explanation or "") and "HEAD:main" in (result.fix or "")
    old = parse_build_output(["remote: Pushed to non-master branch, skipping build."])
    assert old.status == "skipped"


def test_remote_rejected_without_headline() -> None:
    lines = [" ! [remote rejected] main -> main (pre-receive hook declined)"]
    result = parse_build_output(lines, ref_flags=[], error="failed to push some refs")
    assert result.status == "rejected" and "[remote rejected]" in (result.headline or "")
    flags_only = parse_build_output(
        [], ref_flags=["remote_rejected"], ref_summary="[remote rejected] (x)"
    )
    assert flags_only.status == "rejected"


def test_auth_failure() -> None:
    lines = [
        "remote: Invalid credentials provided.",
        "fatal: Authentication failed for 'https://git.heroku.com/app.git/'",
    ]
    result = parse_build_output(lines, error="fatal: Authentication failed")
    assert result.status == "auth_failed" and "dashboard.heroku.com" in (result.fix or "")
    prompt = parse_build_output(
        ["fatal: could not read Username for 'https://git.heroku.com': terminal prompts disabled"],
        error="exit 128",
    )
    assert prompt.status == "auth_failed"


def test_non_fast_forward_suggests_force() -> None:
    result = parse_build_output(
        [], ref_flags=["rejected"], ref_summary="[rejected] (fetch first)", error="exit 1"
    )
    assert result.status == "rejected" and "--force" in (result.fix or "")


def test_up_to_date_is_ok() -> None:
    result = parse_build_output(["Everything up-to-date"], ref_flags=["up_to_date"])
    assert result.status == "up_to_date" and result.ok


def test_unreachable_git_host() -> None:
    result = parse_build_output(
        ["fatal: unable to access 'https://git.heroku.com/a.git/': Could not resolve host"],
        error="exit 128",
    )
    assert result.status == "error" and "internet" in (result.fix or "")


def test_live_events() -> None:
    parser = BuildOutputParser()
    events = [parser.feed(line) for line in INVALID_REQUIREMENT]
    kinds = [(e.kind, e.text) for e in events if e is not None]
    assert kinds[0] == ("phase", "Installing dependencies using 'pip install -r requirements.txt'")
    assert ("error", "Error: Unable to install dependencies using pip.") in kinds
    assert ("error", "Push rejected, failed to compile Python app.") in kinds
