"""``homedeploy push``: deploy the committed HEAD to Heroku and prove the release answers.

Steps: resolve the app (``--create`` makes it), run doctor, make sure the buildpack is
heroku/python, point the ``heroku`` remote at the app, push ``HEAD:refs/heads/main`` with the key
passed only through the git child's environment, follow the build, then verify: a new release
that succeeded, at least one web dyno, and the app's ``web_url`` answering below 500. "done" is
only reported after all of that. Progress is reported through ``on_event`` so the CLI can show it
live; everything ends in a :class:`PushReport` (also what ``--json`` prints).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homedeploy import settings
from homedeploy.errors import HomedeployError, ProjectError, UsageError
from homedeploy.heroku.api import (
    App,
    HerokuClient,
    InvalidParams,
    NotFound,
    Release,
    VerificationRequired,
)
from homedeploy.heroku.app_choice import AppChoice, connect, resolve_app, validate_app_name
from homedeploy.heroku.build_output import BuildOutputParser, BuildResult

if TYPE_CHECKING:
    from git import Repo


@dataclass
class PushEvent:
    """One progress message: ``step`` (a step starts), ``done``, ``note``, ``warning``,
    ``phase`` (a build phase), ``remote`` (a raw line from Heroku), ``error``."""

    kind: str
    text: str


@dataclass
class DoctorSummary:
    verdict: str  # pass, fail, skipped, not available
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class PushReport:
    """Everything a push did and found. ``ok`` only when the release answered over HTTP."""

    ok: bool = False
    app: str | None = None
    app_source: str | None = None
    created: bool = False
    account: str | None = None
    web_url: str | None = None
    git_remote: str | None = None
    commit: str | None = None
    doctor: DoctorSummary | None = None
    buildpack: str | None = None
    build: BuildResult | None = None
    release_version: int | None = None
    release_status: str | None = None
    web_dynos: int | None = None
    http_status: int | None = None
    rolled_back_to: int | None = None
    log_tail: list[str] = field(default_factory=list)
    failed_step: str | None = None
    failure: str | None = None
    explanation: str | None = None
    fix: str | None = None
    notes: list[str] = field(default_factory=list)
    not_deployed: list[str] = field(default_factory=list)  # working-tree changes not in the commit
    addons_created: list[str] = field(default_factory=list)
    addons_missing: list[str] = field(default_factory=list)  # declared in app.json, not created


class _Stop(Exception):
    """Ends the push early with the report already filled in."""


@dataclass
class PushOptions:
    app: str | None = None
    create: bool = False
    region: str | None = None
    no_verify: bool = False
    rollback_on_fail: bool = False
    force: bool = False
    verify_timeout: float | None = None
    create_addons: bool = False
    """Create the add-ons app.json declares and the app lacks, without asking."""
    ask: Callable[[str], bool] | None = None
    """Asks the user a yes/no question (None: cannot ask, e.g. --json or no terminal)."""


def _declared_addons(export: Path) -> dict[str, str]:
    """Add-ons app.json declares in the commit (service -> plan); {} when none or unreadable."""
    from homedeploy.project.config_vars import read_app_json

    try:
        app_json = read_app_json(export)
    except HomedeployError:
        return {}
    return dict(app_json.addons) if app_json is not None else {}


def _verify_timeout(options: PushOptions, env: Mapping[str, str]) -> float:
    if options.verify_timeout is not None:
        return options.verify_timeout
    return settings.verify_timeout(env)


class _Push:
    """One run of the push; methods are the steps, sharing the report and the event sink."""

    def __init__(self, path: Path, options: PushOptions, emit: Callable[[PushEvent], None]) -> None:
        self.path = path
        self.options = options
        self.emit = emit
        self.report = PushReport()
        self.env = os.environ
        self.app_json_addons: dict[str, str] = {}

    def fail(
        self, step: str, failure: str, explanation: str | None = None, fix: str | None = None
    ) -> _Stop:
        self.report.failed_step = step
        self.report.failure = failure
        self.report.explanation = explanation
        self.report.fix = fix
        return _Stop()  # the failure itself is shown with the report

    def note(self, text: str) -> None:
        self.report.notes.append(text)
        self.emit(PushEvent("note", text))

    # ---- step 1 (local part): the repository and the app's name

    def local_checks(self) -> Repo:
        from homedeploy.heroku.git import open_repo

        if not self.path.is_dir():
            raise UsageError(f"{self.path} is not a folder", fix="pass the project folder.")
        repo = open_repo(self.path)
        if os.path.realpath(repo.working_tree_dir or "") != os.path.realpath(self.path):
            raise ProjectError(
                f"{self.path} is inside the git repository {repo.working_tree_dir}, not its root; "
                "Heroku builds the repository root",
                path=self.path,
                fix=f"run homedeploy push {repo.working_tree_dir}, or make {self.path} its own "
                "repository.",
            )
        self.report.commit = repo.head.commit.hexsha
        self.not_deployed(repo)
        return repo

    def not_deployed(self, repo: Repo) -> None:
        """List what is in the folder but not in the commit being pushed."""
        changed = sorted(
            {str(item.a_path) for item in repo.index.diff(None)}
            | {str(item.a_path) for item in repo.index.diff("HEAD")}
        )
        untracked = sorted(repo.untracked_files)
        self.report.not_deployed = [f"{path} (changed)" for path in changed] + [
            f"{path} (untracked)" for path in untracked
        ]
        if self.report.not_deployed:
            shown = ", ".join(self.report.not_deployed[:10])
            more = len(self.report.not_deployed) - 10
            self.note(
                f"not deployed (Heroku builds commit {repo.head.commit.hexsha[:7]}, not your "
                f"working files): {shown}" + (f" and {more} more" if more > 0 else "")
            )

    def choose_app(self) -> AppChoice | None:
        choice = resolve_app(self.path, self.options.app)
        if choice is None and not self.options.create:
            raise UsageError(
                "no Heroku app given",
                fix="pass --app NAME (add --create to create it), set HEROKU_APP, or add "
                '`app = "NAME"` under [tool.homedeploy] in pyproject.toml.',
            )
        if choice is not None:
            self.report.app, self.report.app_source = choice.name, choice.source
            if self.options.create:
                validate_app_name(choice.name, choice.source)
        return choice

    # ---- step 2: doctor

    def doctor(self) -> None:
        """doctor on the tree of the commit being pushed, not on the working files."""
        import shutil
        import tempfile

        from homedeploy.doctor.engine import run_doctor_on_commit
        from homedeploy.runtime.rehearsal import export_tree

        commit = (self.report.commit or "HEAD")[:7]
        self.emit(PushEvent("step", f"Checking commit {commit}, what Heroku will build (doctor)"))
        folder = Path(tempfile.mkdtemp(prefix="homedeploy-push-"))
        try:
            export = folder / "commit"
            export_tree(self.path, self.report.commit or "HEAD", export)
            result: Any = run_doctor_on_commit(export, self.path)
            self.app_json_addons = _declared_addons(export)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        summary = DoctorSummary(str(getattr(result, "verdict", "pass")))
        for finding in getattr(result, "findings", []):
            where = ""
            if getattr(finding, "path", None):
                where = f"{finding.path}"
                if getattr(finding, "line", None):
                    where += f":{finding.line}"
                where += ": "
            text = f"{where}{finding.message}"
            if getattr(finding, "fix", None):
                text += f" (fix: {finding.fix})"
            (summary.errors if finding.severity == "error" else summary.warnings).append(text)
        self.report.doctor = summary
        for text in summary.warnings:
            self.emit(PushEvent("warning", text))
        if summary.errors:
            for text in summary.errors:
                self.emit(PushEvent("error", text))
            if not self.options.no_verify:
                raise self.fail(
                    "doctor",
                    f"doctor found {len(summary.errors)} error(s) that would break the build or "
                    "the boot on Heroku",
                    "pushing now would fail on Heroku or deploy an app that does not start.",
                    f"fix them (`homedeploy doctor {self.path}` shows each with its fix), or pass "
                    "--no-verify to push anyway.",
                )
            self.emit(PushEvent("warning", "doctor: fail; pushing anyway (--no-verify)"))
            self.report.notes.append("--no-verify: pushed despite doctor errors")
            return
        self.emit(PushEvent("done", f"doctor: {summary.verdict}"))

    # ---- step 1 (API part): get or create the app

    def app(self, client: HerokuClient, choice: AppChoice | None) -> App:
        name = choice.name if choice else None
        if self.options.create:
            self.emit(PushEvent("step", f"Creating app {name or '(name chosen by Heroku)'}"))
            try:
                app = client.create_app(name, self.options.region)
                self.report.created = True
                self.emit(PushEvent("done", f"created {app.name} ({app.web_url})"))
                return app
            except VerificationRequired as error:
                error.fix = (
                    "Heroku needs payment information before this account can create apps: add "
                    "it at https://heroku.com/verify, then run the same command again."
                )
                raise
            except InvalidParams as error:
                if name and "taken" in error.message.lower():
                    try:
                        app = client.app(name)
                    except HomedeployError:
                        raise UsageError(
                            f"the app name {name!r} is already taken by another Heroku account "
                            "(app names are global across Heroku)",
                            fix="choose another name: homedeploy push --create --app <other-name>, "
                            "or omit --app to let Heroku pick one.",
                            exit_code=2,
                        ) from None
                    self.note(f"{name} already exists in your account; deploying to it")
                    return app
                raise
        assert name is not None
        self.emit(PushEvent("step", f"Looking up app {name}"))
        try:
            return client.app(name)
        except NotFound:
            raise UsageError(
                f"Heroku has no app named {name!r} that this account can use "
                f"(from {choice.source if choice else '?'})",
                fix=f"create it with `homedeploy push --create --app {name}`, or check the name "
                "with `homedeploy apps`.",
            ) from None

    # ---- step 3: buildpack

    def buildpack(self, client: HerokuClient, app: App) -> None:
        installed = client.buildpacks(app.name)
        if any(b.is_python() for b in installed):
            self.report.buildpack = "already heroku/python"
            return
        keep = [b.url or b.name for b in installed if (b.url or b.name)]
        client.set_buildpacks(app.name, [*[k for k in keep if k], "heroku/python"])
        self.report.buildpack = "set to heroku/python"
        self.emit(PushEvent("done", "buildpack set to heroku/python"))

    # ---- step 4: the add-ons app.json declares

    def addons(self, client: HerokuClient, app: App) -> None:
        if not self.app_json_addons:
            return
        from homedeploy.heroku.addons import missing_addons, wait_provisioned

        missing = missing_addons(self.app_json_addons, client.addons(app.name))
        for plan in missing.values():
            question = f"app.json declares {plan}, which {app.name} does not have: create it?"
            if self.options.create_addons:
                create = True
            elif self.options.ask is not None:
                create = self.options.ask(question)
            else:
                create = False
            if not create:
                self.report.addons_missing.append(plan)
                self.emit(
                    PushEvent(
                        "warning",
                        f"app.json declares {plan}, which {app.name} does not have; the app may "
                        "crash without it (push again with --create-addons to create it)",
                    )
                )
                continue
            self.emit(PushEvent("step", f"Creating add-on {plan}"))
            addon = client.create_addon(app.name, plan)
            addon = wait_provisioned(
                client,
                app.name,
                addon,
                _verify_timeout(self.options, self.env),
                on_wait=lambda a: self.emit(PushEvent("note", f"{a.name} is {a.state}...")),
            )
            if addon.state != "provisioned":
                raise self.fail(
                    "addons",
                    f"the add-on {addon.name} ({plan}) is still {addon.state}",
                    "the app reads its config vars at boot; deploying before it is ready would "
                    "crash.",
                    "wait a few minutes (`heroku addons` shows its state), then push again.",
                )
            self.report.addons_created.append(addon.plan or plan)
            names = ", ".join(addon.config_vars) or "its config vars"
            self.emit(PushEvent("done", f"{addon.name} provisioned ({names} set)"))

    # ---- steps 5 and 6: push and follow the build

    def push(self, repo: Repo, key: str) -> BuildResult:
        from homedeploy.heroku.git import push_head

        parser = BuildOutputParser()

        def on_line(line: str) -> None:
            # A line that starts a phase or carries a headline is shown as that event; every
            # other line (tool output, the rest of an error block) is passed on as it is.
            event = parser.feed(line)
            if event is None:
                self.emit(PushEvent("remote", line))
            else:
                kind = "build-error" if event.kind == "error" else event.kind
                self.emit(PushEvent(kind, event.text))

        branch = "detached HEAD" if repo.head.is_detached else repo.active_branch.name
        commit = (self.report.commit or "")[:7]
        self.emit(PushEvent("step", f"Pushing {branch} ({commit}) to Heroku's main branch"))
        outcome = push_head(repo, key, force=self.options.force, on_line=on_line)
        result = parser.result(
            ref_flags=outcome.ref_flags, ref_summary=outcome.ref_summary, error=outcome.error
        )
        self.report.build = result
        return result

    # ---- step 7: verify

    def wait_for_release(self, client: HerokuClient, app: App, before: int, new: bool) -> Release:
        deadline = time.monotonic() + _verify_timeout(self.options, self.env)
        while True:
            releases = client.releases(app.name, limit=5)
            newest = releases[0] if releases else None
            if newest is not None and (newest.version > before or not new):
                if newest.status != "pending" or time.monotonic() > deadline:
                    return newest
            elif time.monotonic() > deadline:
                raise self.fail(
                    "verify",
                    "the push finished but Heroku shows no new release",
                    "the build produced nothing to run (this happens when Heroku skips the build).",
                    "run `homedeploy releases` to see what is deployed, then push again.",
                )
            time.sleep(1.0)

    def verify(self, client: HerokuClient, app: App, before: int, build: BuildResult) -> None:
        self.emit(PushEvent("step", "Verifying the release"))
        release = self.wait_for_release(client, app, before, new=build.status != "up_to_date")
        self.report.release_version = release.version
        self.report.release_status = release.status
        if release.status != "succeeded":
            raise self.fail(
                "verify",
                f"release v{release.version} {release.status}",
                "the build succeeded but the release did not (its release phase command failed).",
                f"see the output with `homedeploy logs --app {app.name}`, fix the `release:` "
                "line of the Procfile, commit, and push again.",
            )
        formation = {f.type: f for f in client.formation(app.name)}
        web = formation.get("web")
        if web is None:
            raise self.fail(
                "verify",
                "the release has no web process type",
                "Heroku starts web dynos from the `web:` line of the Procfile, and there is none.",
                "add `web: gunicorn <module>:<variable>` to Procfile (`homedeploy doctor` checks "
                "it), commit, and push again.",
            )
        if web.quantity < 1:
            client.scale(app.name, [("web", 1, None)])
            self.note("web was scaled to 0; scaled it to 1 dyno")
            self.report.web_dynos = 1
        else:
            self.report.web_dynos = web.quantity
        self.check_http(client, app)

    def check_http(self, client: HerokuClient, app: App) -> None:
        import requests

        url = app.web_url
        if not url:
            raise self.fail("verify", "Heroku reports no web URL for this app")
        self.emit(PushEvent("step", f"Waiting for {url} to answer"))
        timeout = _verify_timeout(self.options, self.env)
        deadline = time.monotonic() + timeout
        status: int | None = None
        problem = "no answer"
        crashed_checks = 0
        while True:
            try:
                response = requests.get(url, timeout=(5, 20), allow_redirects=True)
                status = response.status_code
                if status < 500:
                    self.report.http_status = status
                    self.emit(PushEvent("done", f"{url} answered {status}"))
                    return
                problem = f"HTTP {status}"
            except requests.RequestException as error:
                problem = type(error).__name__
            # A web dyno that stays crashed will not start answering: stop waiting early.
            crashed_checks = crashed_checks + 1 if self._web_crashed(client, app) else 0
            if crashed_checks >= 2 or time.monotonic() > deadline:
                break
            time.sleep(min(2.0, max(0.2, timeout / 20)))
        self.report.http_status = status
        if crashed_checks >= 2:
            failure = f"the web dyno crashed; {url} answers {problem}"
        else:
            failure = f"{url} did not answer below 500 ({problem}) within the time-out"
        self.report.log_tail = self._log_tail(client, app)
        if self.options.rollback_on_fail:
            self.rollback(client, app)
        raise self.fail(
            "verify",
            failure,
            "the release was built but the app does not serve requests: it crashed at boot, "
            "does not bind $PORT, or answers with errors (H10/H14/R10 in the logs).",
            f"look at `homedeploy logs --app {app.name}`; reproduce with `homedeploy serve "
            f"--check`; then push again"
            + (
                "."
                if self.report.rolled_back_to
                else f", or `homedeploy rollback --app {app.name}` to restore the previous one."
            ),
        )

    def _web_crashed(self, client: HerokuClient, app: App) -> bool:
        from homedeploy.heroku.api import HerokuApiError

        try:
            web = [d for d in client.dynos(app.name) if d.type == "web"]
        except HerokuApiError:
            return False
        return bool(web) and all(d.state == "crashed" for d in web)

    def _log_tail(self, client: HerokuClient, app: App, lines: int = 25) -> list[str]:
        """The app's last log lines, to show why it does not answer (best effort)."""
        import itertools

        import requests

        from homedeploy.heroku.api import HerokuApiError

        try:
            session = client.create_log_session(app.name, lines=lines)
            return list(
                itertools.islice(
                    client.stream_lines(session.logplex_url, read_timeout=10, total=20), lines
                )
            )
        except (HerokuApiError, requests.RequestException):
            return []

    def rollback(self, client: HerokuClient, app: App) -> None:
        current = self.report.release_version or 0
        candidates = [
            r
            for r in client.releases(app.name, limit=10)
            if r.version < current
            and r.status == "succeeded"
            and r.eligible_for_rollback
            and r.slug_id
        ]
        if not candidates:
            self.note("--rollback-on-fail: no earlier deployed release to roll back to")
            return
        target = candidates[0]
        new = client.rollback(app.name, target.id)
        self.report.rolled_back_to = target.version
        self.note(f"rolled back to v{target.version} (new release v{new.version})")

    # ---- the whole flow

    def run(self) -> PushReport:
        try:
            repo = self.local_checks()
            choice = self.choose_app()
            self.doctor()
            from homedeploy.heroku.credentials import find_credential

            credential = find_credential()
            client, account = connect(
                credential, on_retry=lambda text: self.emit(PushEvent("warning", text))
            )
            self.report.account = account.email
            self.emit(
                PushEvent("done", f"Heroku account {account.email} (key from {credential.source})")
            )
            app = self.app(client, choice)
            self.report.app = app.name
            self.report.web_url = app.web_url
            self.buildpack(client, app)
            self.addons(client, app)

            from homedeploy.heroku.git import ensure_remote, remote_url_for

            url = remote_url_for(app.name, app.git_url)
            change = ensure_remote(repo, url)
            self.report.git_remote = url
            if change != "kept":
                self.emit(PushEvent("done", f"git remote heroku {change}: {url}"))
            before = max((r.version for r in client.releases(app.name, limit=1)), default=0)
            build = self.push(repo, credential.key)
            if not build.ok:
                raise self.fail(
                    "build", build.headline or "push failed", build.explanation, build.fix
                )
            if build.status == "up_to_date":
                self.note(
                    "Heroku already has this commit, so nothing was built; commit a change to "
                    "deploy something new"
                )
            else:
                self.emit(PushEvent("done", "build succeeded"))
            self.verify(client, app, before, build)
            for warning in client.warnings:
                self.note(f"Heroku: {warning}")
            self.report.ok = True
        except _Stop:
            self.report.ok = False
        return self.report


def run_push(
    path: Path,
    options: PushOptions | None = None,
    on_event: Callable[[PushEvent], None] | None = None,
) -> PushReport:
    """Deploy ``path`` (a git repository root) to Heroku and verify it; see the module doc.

    User mistakes (no key, unknown app, taken name, not a repository) raise
    :class:`~homedeploy.errors.HomedeployError`; a failing build or a release that does not
    answer returns a report with ``ok=False`` and the failure, explanation and fix.
    """
    return _Push(path, options or PushOptions(), on_event or (lambda _event: None)).run()
