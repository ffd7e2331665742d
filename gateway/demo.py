"""`hedui demo`: the whole system on loopback, on synthetic data, start to finish.

Plays every role in turn: the administrator (CA, keys, signed trust bundle, the staff
registry with a person in every role, each with a personal certificate), each
department's IT staff (eight agents on their own synthetic databases), the township
intake clerk who takes the first application (受理), the verifier (核对: three
households — eligible, ineligible on assets, incomplete because an agent is down, then
retried), the reviewer who approves each assessment before its report is issued
(审核 → 出具报告) and checks a report offline, an offline
department answering through sealed bundle files (the "encrypted USB drive") and the
privacy officer (verifies the audit log, prints one applicant's access report); then
the web console starts in front of the gateway, every staff member with a password and
an authenticator secret, and the demo prints how to sign in.
Everything it creates stays under one folder; every process is stopped at the end, the
console too — unless ``HEDUI_DEMO_CONSOLE_MINUTES`` asks to keep it up that long (``make
demo-console``), until Enter or Ctrl-C, for a person to try it in a browser.
"""

from __future__ import annotations

import json
import os
import select
import ssl
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hedui import china_time
from hedui.errors import HeduiError
from hedui.gateway import household as household_mod
from hedui.gateway import sandbox as sb_mod
from hedui.gateway import verifying
from hedui.gateway.client import ClientConfig, GatewayClient
from hedui.v1 import case_pb2

#: the department stopped to show an incomplete case and its retry
STOPPED = "tax"
#: the department that goes offline for the sealed-bundle round trip
OFFLINE = "provident-fund"
#: minutes the console stays up at the end (``make demo-console``; default 0: it stops)
CONSOLE_MINUTES = "HEDUI_DEMO_CONSOLE_MINUTES"
#: the variable the demo hands the staff's console password in (never on a command line)
PASSWORD_ENV = "HEDUI_DEMO_CONSOLE_PASSWORD"


def say(text: str = "") -> None:
    print(text, flush=True)


def write_client_config(sb: sb_mod.Sandbox, who: sb_mod.Identity, operator: str,
                        name: str) -> Path:
    path = sb.root / name
    path.write_text(
        f'gateway = "{sb.gateway_endpoint}"\n'
        f'gateway_id = "{sb.gateway.id}"\n'
        f'operator = "{operator}"\n\n'
        "[tls]\n"
        f'certificate = "{who.tls_certificate}"\n'
        f'key = "{who.tls_key}"\n'
        f'ca = "{sb.ca_certificate}"\n',
        encoding="utf-8",
    )
    return path


def pick_households(sb: sb_mod.Sandbox) -> dict[str, dict]:
    """One household per label the demo needs, from the seeded population."""
    data = json.loads((sb.data_dir / "households.json").read_text(encoding="utf-8"))
    samples = data["samples"]
    if isinstance(samples, dict):
        samples = [h for group in samples.values() for h in group]
    by_label: dict[str, dict] = {}
    for h in samples:
        by_label.setdefault(h["expected"], h)
    needed = ["eligible", "ineligible-assets"]
    missing = [label for label in needed if label not in by_label]
    if missing:
        raise HeduiError(f"the synthetic population has no {', '.join(missing)} household; "
                         "seed more persons")
    return by_label


def household_file(sb: sb_mod.Sandbox, h: dict, number: str) -> Path:
    return household_mod.write(
        sb.root / "households" / f"{number}.toml", programme="dibao", region="310000",
        members=h["members"], authorization_number=number, today=china_time.today(),
    )


def run_demo(directory: Path | None, *, persons: int = 400) -> int:
    keep = directory is not None
    root = directory or Path(tempfile.mkdtemp(prefix="hedui-demo-"))
    if keep and any(root.glob("*")):
        raise HeduiError(f"{root} is not empty; give an empty or new folder to --dir")
    root.mkdir(parents=True, exist_ok=True)
    say(f"hedui demo — all state under {root}")
    say("1. the center's administrator creates the CA, keys and the signed trust bundle;")
    say(f"   the departments get agents on {persons} synthetic persons")
    sb = sb_mod.provision(root, persons=persons, people=True)
    (root / "households").mkdir(exist_ok=True)
    files = {sid: write_client_config(sb, ident, sid, f"{sid}.toml")
             for sid, ident in sb.staff.items()}
    desk = files[sb_mod.VERIFIER]
    say("   the administrator registers the staff, one personal certificate each "
        "(hedui staff add … --by admin-01):")
    _run_cli(["staff", "list", "--config", str(sb.gateway_config)])
    material = sb_mod.gateway_material(sb)
    processes: dict[str, subprocess.Popen] = {}
    try:
        say("2. starting the gateway and eight department agents on loopback (mutual TLS)")
        processes["gateway"] = sb_mod.start_gateway(sb)
        for d in sb.agents:
            processes[d] = sb_mod.start_agent(sb, d)
        sb_mod.wait_healthy(sb.gateway_endpoint, sb.gateway.id, material,
                            process=processes["gateway"], log_file=sb.logs / "gateway.log")
        for d, ident in sb.agents.items():
            sb_mod.wait_healthy(sb.endpoints[d], ident.id, material, process=processes[d],
                                log_file=sb.logs / f"agent-{d}.log")
        say("   all nine servers report SERVING on the gRPC health service")

        households = pick_households(sb)
        out = root / "reports"
        reports: list[Path] = []
        with GatewayClient(ClientConfig.load(desk)) as client:
            h = households["eligible"]
            say(f"3. township clerk {sb_mod.CLERK} takes an application (受理, township "
                f"{sb_mod.TOWNSHIP}); verifier {sb_mod.VERIFIER} verifies it (核对); reviewer "
                f"{sb_mod.REVIEWER} approves it (审核) and only then is the report issued")
            hh = household_mod.load(household_file(sb, h, "SQ-DEMO-0003"))
            with GatewayClient(ClientConfig.load(files[sb_mod.CLERK])) as clerk:
                verifying.register_authorization(clerk, hh.authorization)
                case = clerk.call(clerk.cases.OpenCase, case_pb2.OpenCaseRequest(
                    programme=hh.programme, region=hh.region, members=hh.members,
                    authorization_number=hh.authorization.number))
            say(f"   opened {case.case_id} for township {case.township} by {case.operator}")
            reports.append(_verify_review_report(sb, client, files, case.case_id, out))
            _show_answers(reports[-1])
            h = households["ineligible-assets"]
            say(f"4. verifier {sb_mod.VERIFIER} verifies a household the data shows as "
                f"ineligible-assets ({len(h['members'])} members) at the county center")
            hh = household_mod.load(household_file(sb, h, "SQ-DEMO-0004"))
            case = verifying.decide(client, hh)
            say(_indent(verifying.summary(case, steps=True)))
            _approve(sb, files, case.case_id)
            reports.append(verifying.write_report(client, case.case_id, out))
            _show_answers(reports[-1])

            say(f"5. the {STOPPED} agent is stopped; the next case cannot complete")
            sb_mod.stop_process(processes.pop(STOPPED))
            h = next(v for k, v in households.items() if k not in ("eligible",))
            hh = household_mod.load(household_file(sb, h, "SQ-DEMO-0005"))
            case = verifying.decide(client, hh)
            say(_indent(verifying.summary(case)))
            if case.state != case_pb2.CASE_STATE_INCOMPLETE:
                raise HeduiError(f"expected an incomplete case, got {case.state}")
            say(f"   the {STOPPED} agent comes back; `hedui case retry` completes the case")
            processes[STOPPED] = sb_mod.start_agent(sb, STOPPED)
            sb_mod.wait_healthy(sb.endpoints[STOPPED], sb.agents[STOPPED].id, material,
                                process=processes[STOPPED])
            case = _retry_until_decided(client, case.case_id)
            say(_indent(verifying.summary(case)))
            _approve(sb, files, case.case_id)
            reports.append(verifying.write_report(client, case.case_id, out))

        say("6. a reviewer checks a report offline, with only the trust bundle")
        _run_cli(["report", "verify", str(reports[0]), "--bundle", str(sb.bundle),
                  "--root-pub", str(sb.root_public_key),
                  "--standards", str(sb_mod.STANDARDS_DIR)])
        say(f"   printable report: {reports[0].with_suffix('.html')}")

        _offline_round_trip(sb, processes, material, files, households["eligible"], out)

        say("8. the privacy officer verifies the gateway's audit log and one agent's log")
        audit_db = f"sqlite:///{sb.gateway_config.parent / 'state' / 'audit.sqlite'}"
        _run_cli(["audit", "verify", "--db", audit_db])
        agent_db = f"sqlite:///{sb.agent_config('banks').parent / 'state' / 'audit.sqlite'}"
        _run_cli(["audit", "verify", "--db", agent_db])
        applicant = households["eligible"]["members"][0]
        say("9. the applicant of the first household asks who read their data:")
        _run_cli(["audit", "subject-report", "--db", audit_db, "--id", applicant["id_number"],
                  "--pseudonym-key", str(sb.pseudonym_key), "--officer", sb_mod.OFFICER,
                  "--signing-key", str(sb.pki / "audit" / "signing.key")])
        _console(sb, processes)
    finally:
        say("11. stopping every server")
        for process in processes.values():  # all told at once, then each waited for
            if process.poll() is None:
                process.terminate()
        for name, process in processes.items():
            code = sb_mod.stop_process(process)
            if code not in (0, -15):
                say(f"   {name} exited with {code}; see {sb.logs}")
    say(f"demo finished; state kept in {root}" if keep else "demo finished")
    return 0


def _console(sb: sb_mod.Sandbox, processes: dict[str, subprocess.Popen]) -> None:
    """Step 10: the web console in front of the gateway, every staff member able to sign
    in, checked reachable; the instructions; kept up only when asked (``make
    demo-console``), so that ``make demo`` always finishes by itself."""
    key = sb.pki / "console" / "secrets.key"
    say("10. the administrator starts the web console (HTTPS, certificate from the center's "
        "CA) and gives each person a password and an authenticator secret")
    if not key.exists():
        _run_cli(["console", "keygen", str(key)], show=False)
    config = sb_mod.write_console_config(sb)
    url = "https://{}/".format(tomllib.loads(config.read_text("utf-8"))["console"]["listen"])
    processes["console"] = sb_mod.start_process(
        ["console", "serve", "--config", str(config)], sb.logs / "console.log")
    env = dict(os.environ, **{PASSWORD_ENV: sb_mod.CONSOLE_PASSWORD})

    def sign_in_for(staff_id: str) -> None:
        _run_cli(["console", "password", staff_id, "--config", str(config),
                  "--password-env", PASSWORD_ENV, "--keep"], env=env, show=False)
        _run_cli(["console", "enrol", staff_id, "--config", str(config)], show=False)

    with ThreadPoolExecutor(max_workers=len(sb_mod.STAFF)) as pool:  # a process each
        list(pool.map(sign_in_for, [person.staff_id for person in sb_mod.STAFF]))
    _check_console(url, sb.ca_certificate, processes["console"], sb.logs / "console.log")
    hedui = Path(sys.executable).with_name("hedui")
    hedui_cmd = str(hedui) if hedui.exists() else "hedui"
    say(f"   console: {url}  (its certificate is from the demo's own CA, "
        f"{sb.ca_certificate}: the browser warns until you trust it)")
    say(f"   password of every demo staff member: {sb_mod.CONSOLE_PASSWORD}")
    for person in sb_mod.STAFF:
        where = f", township {person.township}" if person.township else ""
        say(f"     {person.staff_id:<11} {person.name}  {person.roles}{where}")
    say("   the 6-digit code of their authenticator (a new one every 30 s), e.g. the "
        "verifier's:")
    say(f"     {hedui_cmd} console totp {sb_mod.VERIFIER} --config {config}")
    _keep_console_up(processes["console"])


def _check_console(url: str, ca: Path, process: subprocess.Popen, log: Path) -> None:
    """Wait for the console to listen, then one HTTPS GET of the sign-in page, the
    certificate checked against the demo's CA."""
    context = ssl.create_default_context(cafile=str(ca))
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise HeduiError(f"the console exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url + "signin", context=context, timeout=5) as r:
                if r.status != 200:
                    raise HeduiError(f"the console's sign-in page answered {r.status}; "
                                     f"see {log}")
                say(f"   GET {url}signin: {r.status}, certificate verified with the demo CA")
                return
        except urllib.error.HTTPError as err:
            raise HeduiError(f"the console's sign-in page answered {err.code}; see {log}"
                             ) from None
        except OSError:
            if time.monotonic() > deadline:
                raise HeduiError(f"the console did not answer within 30 s; see {log}") from None
            time.sleep(0.2)


def _keep_console_up(process: subprocess.Popen) -> None:
    """Only when asked (``CONSOLE_MINUTES`` > 0, which ``make demo-console`` sets): keep
    the console up until Enter, Ctrl-C or the minutes are over; otherwise go straight
    on and let the demo stop it."""
    raw = os.environ.get(CONSOLE_MINUTES, "").strip()
    try:
        minutes = float(raw) if raw else 0.0
    except ValueError:
        raise HeduiError(f"{CONSOLE_MINUTES} is a number of minutes, not {raw!r}") from None
    if minutes <= 0:
        say("   the console stops with the demo; to keep it up and try it in a browser: "
            "make demo-console")
        return
    interactive = sys.stdin.isatty()
    unit = "minute" if minutes == 1 else "minutes"
    say(f"   the console stays up (at most {minutes:g} {unit}): "
        + ("press Enter or Ctrl-C to stop it and end the demo" if interactive
           else "Ctrl-C stops it and ends the demo"))
    deadline = time.monotonic() + minutes * 60
    try:
        while process.poll() is None and (left := deadline - time.monotonic()) > 0:
            if interactive:
                ready, _, _ = select.select([sys.stdin], [], [], min(left, 1.0))
                if ready:
                    sys.stdin.readline()
                    return
            else:
                time.sleep(min(left, 1.0))
    except KeyboardInterrupt:
        say()
    if process.poll() is not None:
        say(f"   the console exited with {process.returncode}")


def _offline_round_trip(sb: sb_mod.Sandbox, processes: dict[str, subprocess.Popen],
                        material, files: dict[str, Path], h: dict, out: Path) -> None:
    """Step 7: a department not linked online answers through sealed bundle files."""
    serial = sb_mod.mark_offline(sb, [OFFLINE])
    say(f"7. {OFFLINE} is not linked online: the administrator marks it offline (trust bundle "
        f"serial {serial}, with its box key); the gateway restarts to apply it at once")
    sb_mod.stop_process(processes.pop(OFFLINE))
    sb_mod.stop_process(processes.pop("gateway"))
    processes["gateway"] = sb_mod.start_gateway(sb, log_name="gateway-2")
    sb_mod.wait_healthy(sb.gateway_endpoint, sb.gateway.id, material,
                        process=processes["gateway"], log_file=sb.logs / "gateway-2.log")
    with GatewayClient(ClientConfig.load(files[sb_mod.VERIFIER])) as client:
        hh = household_mod.load(household_file(sb, h, "SQ-DEMO-0007"))
        case = verifying.decide(client, hh)
        say(_indent(verifying.summary(case)))
        if case.state != case_pb2.CASE_STATE_AWAITING_OFFLINE_ANSWER:
            raise HeduiError(f"expected a case awaiting the offline answer, got {case.state}")
        drive = sb.root / "usb-drive"
        drive.mkdir(exist_ok=True)
        gateway_toml = str(sb.gateway_config)
        say("   center: the pending query goes into a sealed, signed bundle file")
        _run_cli(["bundle", "export", "--config", gateway_toml, "--department", OFFLINE,
                  "--out", str(drive / "queries.bundle")])
        say(f"   {OFFLINE} (no network): the same checks and mapping answer it, sealed back")
        _run_cli(["agent", "answer-bundle", "--config", str(sb.agent_config(OFFLINE)),
                  "--in", str(drive / "queries.bundle"), "--out", str(drive / "answers.bundle")])
        say("   center: the whole file is verified, then every answer, then the case moves on")
        _run_cli(["bundle", "import", "--config", gateway_toml, str(drive / "answers.bundle")])
        case = client.call(client.cases.GetCase, case_pb2.GetCaseRequest(
            case_id=case.case_id, operator=client.config.operator))
        say(_indent(verifying.summary(case).splitlines()[0]))
        if case.state != case_pb2.CASE_STATE_AWAITING_REVIEW:
            raise HeduiError(f"the offline case did not complete: {case.state}")
        _approve(sb, files, case.case_id)
        report = verifying.write_report(client, case.case_id, out)
    _run_cli(["report", "verify", str(report), "--bundle", str(sb.bundle),
              "--root-pub", str(sb.root_public_key)])


def _verify_review_report(sb: sb_mod.Sandbox, client: GatewayClient,
                          files: dict[str, Path], case_id: str, out: Path) -> Path:
    """核对 by the verifier's client, 审核 by the reviewer, then the report, naming all."""
    case = client.call(client.cases.VerifyCase, case_pb2.VerifyCaseRequest(
        case_id=case_id), timeout=120)
    say(_indent(verifying.summary(case, steps=True)))
    _approve(sb, files, case_id)
    path, report = verifying.fetch_report(client, case_id, out)
    say("   the report names: " + " → ".join(f"{s.step} {s.name} ({s.staff_id})"
                                             for s in report.steps))
    return path


def _approve(sb: sb_mod.Sandbox, files: dict[str, Path], case_id: str) -> None:
    """The reviewer approves with their own certificate (``hedui review``)."""
    say(f"   reviewer {sb_mod.REVIEWER}: hedui review {case_id} --approve")
    _run_cli(["review", case_id, "--approve", "--client", str(files[sb_mod.REVIEWER])])


def _retry_until_decided(client: GatewayClient, case_id: str) -> case_pb2.Case:
    """The breaker may still be open for a few seconds after the agent returns; the
    case is done with the verifier once assessed (awaiting review)."""
    import time

    deadline = time.monotonic() + 30
    while True:
        case = client.call(client.cases.RetryCase, case_pb2.RetryCaseRequest(
            case_id=case_id, operator=client.config.operator), timeout=60)
        if case.state in (case_pb2.CASE_STATE_DECIDED, case_pb2.CASE_STATE_AWAITING_REVIEW) \
                or time.monotonic() > deadline:
            return case
        time.sleep(1.0)


def _show_answers(report_path: Path) -> None:
    report = case_pb2.DeterminationReport()
    from hedui.v1 import envelope_pb2

    env = envelope_pb2.Envelope()
    env.ParseFromString(report_path.read_bytes())
    report.ParseFromString(env.payload)
    say(f"   signed answers verified from {len(report.answers)} departments; outcome "
        f"{verifying.OUTCOME_WORDS.get(report.outcome, '?')}")
    for reason in report.reasons_en[:3]:
        say(f"     - {reason}")


def _indent(text: str) -> str:
    return "\n".join("   " + line for line in text.splitlines())


def _run_cli(args: list[str], *, env: dict[str, str] | None = None, show: bool = True
             ) -> None:
    """A hedui command as its own process; its output indented (``show=False``: only
    when it fails)."""
    result = subprocess.run([*sb_mod.hedui_command(), *args], capture_output=True, text=True,
                            env=env)
    if show or result.returncode != 0:
        for line in (result.stdout + result.stderr).strip().splitlines():
            say("   " + line)
    if result.returncode != 0:
        raise HeduiError(f"`hedui {' '.join(args[:2])}` failed with exit code {result.returncode}")


if __name__ == "__main__":
    sys.exit(run_demo(None))
