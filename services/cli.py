"""The admin command line: accounts, tokens, the audit export and Redis ACL lines (`python app.py <command>`)."""
from __future__ import annotations

import argparse
import getpass
import re
import secrets
import sys
import time
from datetime import datetime
from typing import Any, Callable, TextIO
from zoneinfo import ZoneInfo

import redis

from services.accounts import AccountError, AccountStore, Passwords, Principal, PrincipalKind, Role, SecurityOptions
from services.accounts.redis_acl import AclError, as_line, supervisor_acl, vigie_acl
from services.audit import AuditLog, Outcome, to_csv
from services.redis_conn import BUS_ERRORS, BusUnavailable, connect

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
COMMANDS = ("user", "token", "audit", "redis-acl")


class CliError(Exception):
    """A command that cannot be carried out; the text is shown as is."""


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of every admin command."""
    parser = argparse.ArgumentParser(prog="python app.py", description="Vigie administration")
    groups = parser.add_subparsers(dest="group", required=True)

    user = groups.add_parser("user", help="accounts of people").add_subparsers(dest="command", required=True)
    create = user.add_parser("create", help="create an account")
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=[str(r) for r in Role])
    create.add_argument("--domains", default="", help="lighting,water,traffic or all (operators, engineers)")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    for name in ("disable", "enable"):
        user.add_parser(name, help=f"{name} an account").add_argument("--name", required=True)
    reset = user.add_parser("reset-password", help="set a new password (ends the account's sessions)")
    reset.add_argument("--name", required=True)
    reset.add_argument("--password-stdin", action="store_true")
    user.add_parser("list", help="list accounts")

    token = groups.add_parser("token", help="API and device tokens").add_subparsers(dest="command", required=True)
    tcreate = token.add_parser("create", help="create a token; it is printed once, as the last line")
    tcreate.add_argument("--name", required=True)
    tcreate.add_argument("--role", required=True, choices=[str(r) for r in Role if r != Role.ADMIN])
    tcreate.add_argument("--domains", default="")
    tcreate.add_argument("--device", action="store_true", help="a read-only wall screen or kiosk token")
    token.add_parser("revoke", help="revoke a token").add_argument("--id", required=True)
    token.add_parser("list", help="list tokens")

    audit = groups.add_parser("audit", help="the audit log").add_subparsers(dest="command", required=True)
    export = audit.add_parser("export", help="write entries as CSV (newest first)")
    export.add_argument("--since", help="24h, 7d, or a date/time (territory time): 2026-06-21 or 2026-06-21T08:00")
    export.add_argument("--until")
    export.add_argument("--user", default="")
    export.add_argument("--action", default="", help="an action or its prefix: signin, command, alarm.acknowledge")
    export.add_argument("--outcome", default="", choices=["", *[str(o) for o in Outcome]])
    export.add_argument("--output", help="file to write (default: standard output)")

    acl = groups.add_parser("redis-acl", help="print least-privilege Redis ACL SETUSER lines").add_subparsers(
        dest="command", required=True)
    vigie = acl.add_parser("vigie", help="Vigie's own Redis user")
    vigie.add_argument("--user", default="vigie")
    vigie.add_argument("--password-stdin", action="store_true")
    sup = acl.add_parser("supervisor", help="one supervisor's Redis user")
    sup.add_argument("--domain", required=True)
    sup.add_argument("--id", required=True)
    sup.add_argument("--password-stdin", action="store_true")
    return parser


def parse_when(raw: str | None, *, now: float, tz: ZoneInfo) -> float | None:
    """Return epoch seconds for `24h` / `7d` (ago) or an ISO date/time; raise CliError when unreadable."""
    if not raw:
        return None
    match = _DURATION.match(raw.strip().lower())
    if match:
        return now - float(match.group(1)) * _UNIT_S[match.group(2)]
    try:
        parsed = datetime.fromisoformat(raw.strip())
    except ValueError as err:
        raise CliError(f"cannot read the time {raw!r}: use 24h, 7d or 2026-06-21T08:00") from err
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).timestamp()


def main(argv: list[str], settings: Any, *, redis_client: redis.Redis | None = None, stdin: TextIO | None = None,
         stdout: TextIO | None = None, stderr: TextIO | None = None, clock: Callable[[], float] = time.time) -> int:
    """Run one admin command; return the process exit code (0 ok, 1 refused, 2 usage, 3 Redis unreachable)."""
    out, err, inp = stdout or sys.stdout, stderr or sys.stderr, stdin or sys.stdin
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    options = SecurityOptions.from_settings(settings)
    try:
        if args.group == "redis-acl":
            return _redis_acl(args, inp, out)
        if redis_client is None:
            url = getattr(settings, "redis_url", None)
            if not url:
                raise CliError("REDIS_URL is not set: the CLI needs the Redis server Vigie runs with")
            redis_client = connect(url)
        runner = _Commands(redis_client, options, inp, out, clock)
        return getattr(runner, f"{args.group}_{args.command.replace('-', '_')}")(args)
    except (AccountError, CliError, AclError) as error:
        print(f"error: {error}", file=err)
        return 1
    except (BusUnavailable, *BUS_ERRORS) as error:
        print(f"error: Redis unreachable ({error})", file=err)
        return 3


def _read_password(inp: TextIO, from_stdin: bool) -> str:
    if from_stdin:
        return inp.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise CliError("the two passwords differ")
    return first


def _redis_acl(args: argparse.Namespace, inp: TextIO, out: TextIO) -> int:
    password = _read_password(inp, True) if args.password_stdin else secrets.token_urlsafe(32)
    line = vigie_acl(args.user, password) if args.command == "vigie" else supervisor_acl(args.domain, args.id, password)
    print(as_line(line), file=out)
    return 0


class _Commands:
    """One method per command; every change is written to the audit log as done from the CLI."""

    def __init__(self, client: redis.Redis, options: SecurityOptions, inp: TextIO, out: TextIO,
                 clock: Callable[[], float]) -> None:
        self.store = AccountStore(client, Passwords(), min_password_length=options.password_min_length)
        self.audit = AuditLog(client, retention_days=options.audit_retention_days)
        self.options, self.inp, self.out, self.clock = options, inp, out, clock
        self.actor = Principal(_os_user(), Role.ADMIN, kind=PrincipalKind.CLI)

    def _record(self, action: str, target: str, detail: str = "") -> None:
        self.audit.record(actor=self.actor.label, actor_kind="cli", role="admin", ip="local", action=action,
                          target=target, outcome=Outcome.OK, detail=detail)

    def user_create(self, args: argparse.Namespace) -> int:
        password = _read_password(self.inp, args.password_stdin)
        account = self.store.create_user(args.name, args.role, args.domains, password, now=self.clock())
        self._record("account.create", account.name, f"{account.role} {','.join(sorted(account.domains))}")
        print(f"created {account.name} ({account.role}{' ' + ','.join(sorted(account.domains)) if account.domains else ''})", file=self.out)
        return 0

    def user_disable(self, args: argparse.Namespace) -> int:
        return self._set_disabled(args.name, True)

    def user_enable(self, args: argparse.Namespace) -> int:
        return self._set_disabled(args.name, False)

    def _set_disabled(self, name: str, disabled: bool) -> int:
        account = self.store.set_disabled(name, disabled, now=self.clock())
        what = "disabled" if disabled else "enabled"
        self._record(f"account.{'disable' if disabled else 'enable'}", account.name)
        print(f"{account.name} {what}", file=self.out)
        return 0

    def user_reset_password(self, args: argparse.Namespace) -> int:
        password = _read_password(self.inp, args.password_stdin)
        account = self.store.reset_password(args.name, password, now=self.clock())
        self._record("account.reset_password", account.name)
        print(f"new password set for {account.name}; its sessions are closed", file=self.out)
        return 0

    def user_list(self, args: argparse.Namespace) -> int:
        for a in self.store.list_users():
            print(f"{a.name}\t{a.role}\t{','.join(sorted(a.domains)) or '-'}\t{'disabled' if a.disabled else 'active'}", file=self.out)
        return 0

    def token_create(self, args: argparse.Namespace) -> int:
        record, raw = self.store.create_token(args.name, args.role, args.domains, device=args.device,
                                              created_by=self.actor.label, now=self.clock())
        self._record("token.create", record.id, f"{record.name} ({record.role}{', device' if record.device else ''})")
        kind = "device token (wall screen: open /auth/device and paste it once)" if record.device else "API token (Authorization: Bearer ...)"
        print(f"created {kind} {record.id} '{record.name}' role={record.role}", file=self.out)
        print("it is shown once; store it now:", file=self.out)
        print(raw, file=self.out)
        return 0

    def token_revoke(self, args: argparse.Namespace) -> int:
        record = self.store.revoke_token(args.id, now=self.clock())
        self._record("token.revoke", record.id, record.name)
        print(f"revoked {record.id} '{record.name}'", file=self.out)
        return 0

    def token_list(self, args: argparse.Namespace) -> int:
        for t in self.store.list_tokens():
            state = "revoked" if t.revoked else "active"
            print(f"{t.id}\t{t.name}\t{t.role}\t{','.join(sorted(t.domains)) or '-'}\t{'device' if t.device else 'api'}\t{state}", file=self.out)
        return 0

    def audit_export(self, args: argparse.Namespace) -> int:
        tz, now = ZoneInfo(self.options.timezone), self.clock()
        entries = self.audit.search(since=parse_when(args.since, now=now, tz=tz), until=parse_when(args.until, now=now, tz=tz),
                                    actor=args.user, action=args.action, outcome=args.outcome, limit=10_000_000)
        self._record("audit.export", args.output or "stdout", f"{len(entries)} entries")
        text = to_csv(entries)
        if args.output:
            try:
                with open(args.output, "w", encoding="utf-8", newline="") as handle:
                    handle.write(text)
            except OSError as error:
                raise CliError(f"cannot write {args.output}: {error}") from error
        else:
            self.out.write(text)
        return 0


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
