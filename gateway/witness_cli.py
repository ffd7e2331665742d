"""``hedui witness``: the center's look at the departments' logs it witnesses.

    hedui witness alarms --config gateway.toml
    hedui witness clear AGENT-ID --config gateway.toml --by ADMIN-ID [--forget]

The gateway checks every answer's checkpoint of the agent's own log against the largest
it kept (``gateway/agent_witness.py``); an inconsistency — a department log cut back or
replaced — stops the gateway using that agent's answers until an administrator has
investigated and clears the alarm here. A running gateway takes the clearing at the
agent's next answer; ``--forget`` also drops the pinned log key and kept checkpoint, for
a department whose log was knowingly replaced (a reinstalled agent).
"""

from __future__ import annotations

import argparse

from hedui.errors import HeduiError


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("witness", help="the departments' audit logs the gateway witnesses")
    cmds = group.add_subparsers(dest="command", metavar="COMMAND")
    cmds.required = True
    alarms = cmds.add_parser("alarms", help="list the agents whose answers are refused")
    alarms.add_argument("--config", required=True, help="the gateway's gateway.toml")
    alarms.set_defaults(func=_alarms)
    clear = cmds.add_parser("clear", help="use an agent's answers again after investigating")
    clear.add_argument("agent", metavar="AGENT-ID", help="e.g. spiffe://county.example/agent/tax")
    clear.add_argument("--config", required=True)
    clear.add_argument("--by", required=True, help="the administrator's staff id")
    clear.add_argument("--forget", action="store_true",
                       help="also forget the pinned log key (the department's log was "
                            "knowingly replaced)")
    clear.set_defaults(func=_clear)


def _witness(config_path: str):  # type: ignore[no-untyped-def]
    from hedui.gateway import config as config_mod
    from hedui.gateway.agent_witness import AgentWitness

    config = config_mod.load(config_path)
    path = config.state_dir / "agent-witness.sqlite"
    if not path.exists():
        raise HeduiError(f"{path} does not exist: this gateway has witnessed no agent yet")
    return AgentWitness(path, recorder=None)


def _alarms(args: argparse.Namespace) -> int:
    witness = _witness(args.config)
    found = witness.open_alarms()
    if not found:
        print("no alarms: every agent's log is consistent with what this gateway kept")
        return 0
    for agent, reason, raised in found:
        print(f"{raised}  {agent}  {reason}")
    return 1


def _clear(args: argparse.Namespace) -> int:
    witness = _witness(args.config)
    if args.agent not in {a for a, _, _ in witness.open_alarms()}:
        raise HeduiError(f"no alarm is open for {args.agent}")
    witness.clear(args.agent, by=args.by, forget=args.forget)
    print(f"alarm cleared for {args.agent} by {args.by}"
          + ("; its log key will be pinned anew" if args.forget else ""))
    return 0
