"""``hedui console``: serve the web console; give a person their first sign-in.

* ``serve``: HTTPS on ``[console] listen`` with the certificate from the center's CA.
* ``keygen FILE``: the ``[keys] secrets`` file (32 random bytes, mode 0600).
* ``password STAFF_ID --password-env VAR [--keep]``: set a sign-in password (a temporary
  one the person changes at first sign-in, unless ``--keep``). The person must be an
  active member of the gateway's registry; the event goes into the gateway's log.
* ``enrol STAFF_ID``: give the person a new TOTP secret now and print it with its
  otpauth URI, for a person who cannot scan at first sign-in (and for the demo).
* ``totp STAFF_ID``: print the person's current TOTP code — for the demo and tests on
  a sandbox; a real deployment's secrets are on the staff's phones.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from hedui.errors import HeduiError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    group = subparsers.add_parser("console", help="the web console (serve, sign-in setup)",
                                  description="Serve the center's web console.")
    group.set_defaults(func=lambda _args: group.print_help() or 2)
    sub = group.add_subparsers(dest="console_command", metavar="COMMAND")

    p = sub.add_parser("serve", help="serve the console over HTTPS")
    p.add_argument("--config", required=True, type=Path, help="console.toml")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("keygen", help="write the [keys] secrets file")
    p.add_argument("path", type=Path)
    p.set_defaults(func=cmd_keygen)

    p = sub.add_parser("password", help="set a staff member's sign-in password")
    p.add_argument("staff_id")
    p.add_argument("--config", required=True, type=Path, help="console.toml")
    p.add_argument("--password-env", required=True, metavar="VAR",
                   help="environment variable holding the password (never on the command line)")
    p.add_argument("--keep", action="store_true",
                   help="the person keeps this password (no change at first sign-in)")
    p.set_defaults(func=cmd_password)

    p = sub.add_parser("enrol", help="give a staff member a TOTP secret now and print it")
    p.add_argument("staff_id")
    p.add_argument("--config", required=True, type=Path, help="console.toml")
    p.set_defaults(func=cmd_enrol)

    p = sub.add_parser("totp", help="print a staff member's current TOTP code (sandbox, demo)")
    p.add_argument("staff_id")
    p.add_argument("--config", required=True, type=Path, help="console.toml")
    p.set_defaults(func=cmd_totp)


def _store(config_path: Path):
    from hedui.console.accounts import AccountStore
    from hedui.console.config import ConsoleConfig
    from hedui.keys.secrets import load_secret

    config = ConsoleConfig.load(config_path)
    return config, AccountStore(config.database, load_secret(config.secrets_key))


def _member(config, staff_id: str) -> None:
    """The gateway's registry has ``staff_id`` active; HeduiError otherwise."""
    from hedui.console.gateway import ConsoleGateway, Refused
    from hedui.v1 import office_pb2

    gateway = ConsoleGateway(config)
    try:
        gateway.call(gateway.office.WhoAmI, office_pb2.WhoAmIRequest(), staff_id=staff_id)
    except Refused as err:
        raise HeduiError(f"{staff_id} is not an active member of the gateway's staff "
                         f"registry ({err.reason}); add them first (hedui staff add)") from None
    finally:
        gateway.close()


def _record(config, kind: int, staff_id: str, reason: str) -> None:
    from hedui.console.gateway import ConsoleGateway, Refused
    from hedui.v1 import office_pb2

    gateway = ConsoleGateway(config)
    try:
        gateway.call(gateway.office.RecordSignIn, office_pb2.SignInEvent(
            kind=kind, staff_id=staff_id, reason_code="OK", reason=reason), staff_id="")
    except Refused as err:
        raise HeduiError(f"the gateway did not log the change ({err.reason}): {err.detail}"
                         ) from None
    finally:
        gateway.close()


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from hedui.console.app import create_app
    from hedui.console.config import ConsoleConfig
    from hedui.logging import configure

    configure()
    config = ConsoleConfig.load(args.config)
    for path in (config.https_certificate, config.https_key):
        if not path.exists():
            raise HeduiError(f"{args.config}: [https] file {path} does not exist")
    host, port = config.host_port
    app = create_app(config)
    print(f"hedui console: https://{host}:{port}/", flush=True)
    uvicorn.run(app, host=host, port=port, ssl_certfile=str(config.https_certificate),
                ssl_keyfile=str(config.https_key), log_level="warning", access_log=False,
                server_header=False, proxy_headers=False)
    return 0


def cmd_keygen(args: argparse.Namespace) -> int:
    from hedui.console.accounts import new_secrets_key

    if args.path.exists():
        raise HeduiError(f"{args.path} exists; a new key would make every TOTP secret unreadable")
    new_secrets_key(args.path)
    print(f"wrote {args.path}")
    return 0


def cmd_password(args: argparse.Namespace) -> int:
    from hedui.console.signin import hash_password, password_problem
    from hedui.v1 import office_pb2

    password = os.environ.get(args.password_env)
    if not password:
        raise HeduiError(f"environment variable {args.password_env} is not set or empty")
    problem = password_problem(password, args.staff_id)
    if problem and args.keep:
        raise HeduiError(f"password not accepted: {problem}")
    config, store = _store(args.config)
    _member(config, args.staff_id)
    store.set_password(args.staff_id, hash_password(password), must_change=not args.keep)
    _record(config, office_pb2.SignInEvent.KIND_PASSWORD_SET, args.staff_id,
            "password set at the console's terminal")
    print(f"{args.staff_id}: password set" + ("" if args.keep else
                                              " (to be changed at first sign-in)"))
    return 0


def cmd_enrol(args: argparse.Namespace) -> int:
    from hedui.console.signin import new_totp_secret, totp_uri

    config, store = _store(args.config)
    if store.account(args.staff_id) is None:
        raise HeduiError(f"{args.staff_id} has no password yet (hedui console password first)")
    secret = new_totp_secret()
    store.set_totp(args.staff_id, secret)
    print(f"secret: {secret}")
    print(f"uri: {totp_uri(secret, args.staff_id, config.center_name)}")
    return 0


def cmd_totp(args: argparse.Namespace) -> int:
    from hedui.console.signin import current_code

    _config, store = _store(args.config)
    account = store.account(args.staff_id)
    if account is None or not account.totp_secret:
        raise HeduiError(f"{args.staff_id} has no TOTP secret yet (first sign-in or "
                         "hedui console enrol)")
    print(current_code(account.totp_secret))
    return 0
