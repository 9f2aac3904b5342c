"""The (account, region) pairs a deployment reads, from `AWS_ACCOUNTS` (`role_arn@region,...`).

Each pair has its own RDS budget (the limit is per account and region), so the pair's `label`
names its shared token bucket and its cache keys; both services derive it the same way here.
Empty `AWS_ACCOUNTS` means the service's own credentials in `AWS_REGION`, labelled `default`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from common.settings import AwsSettings, SettingsError

_ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::(?P<account>\d{12}):role/[\w+=,.@/-]+$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


@dataclass(frozen=True)
class AccountTarget:
    role_arn: str | None  # None: the service's own credentials
    region: str

    @property
    def account(self) -> str:
        if self.role_arn is None:
            return "default"
        m = _ROLE_ARN.match(self.role_arn)
        assert m is not None  # checked by parse_accounts
        return m["account"]

    @property
    def label(self) -> str:
        """`account:region`: the bucket's and the cache's namespace."""
        return f"{self.account}:{self.region}"


def parse_accounts(settings: AwsSettings) -> list[AccountTarget]:
    """The targets of `AWS_ACCOUNTS`; `SettingsError` naming the variable on a bad entry."""
    text = settings.aws_accounts.strip()
    if not text:
        return [AccountTarget(None, settings.aws_region)]
    targets: list[AccountTarget] = []
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            continue
        arn, sep, region = entry.rpartition("@")
        if not sep or not _ROLE_ARN.match(arn) or not _REGION.match(region):
            raise SettingsError(
                f"invalid settings: AWS_ACCOUNTS: {entry!r} is not role_arn@region "
                "(arn:aws:iam::123456789012:role/name@eu-west-1)"
            )
        target = AccountTarget(arn, region)
        if target in targets:
            raise SettingsError(f"invalid settings: AWS_ACCOUNTS: {entry!r} is listed twice")
        targets.append(target)
    return targets
