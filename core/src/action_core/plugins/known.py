"""First-party plugins by name prefix, to tell users which distribution to install.

This table holds names only; it imports nothing and is only used to improve error messages.
"""

from __future__ import annotations

FIRST_PARTY: dict[str, str] = {
    "tsn": "action-tsn",
    "tsm": "action-tsm",
    "resnet3d": "action-resnet3d",
    "i3d": "action-i3d",
    "slowonly": "action-slowonly",
    "slowfast": "action-slowfast",
    "r2plus1d": "action-r2plus1d",
    "x3d": "action-x3d",
    "c3d": "action-c3d",
    "csn": "action-csn",
    "ircsn": "action-csn",
    "ipcsn": "action-csn",
    "tpn": "action-tpn",
    "trn": "action-trn",
    "vit": "action-vit",
    "timesformer": "action-timesformer",
    "videomae": "action-videomae",
    "mvit": "action-mvit",
    "swin": "action-swin",
    "bsn": "action-bsn",
    "bmn": "action-bmn",
    "kinetics": "action-kinetics",
    "ucf101": "action-ucf101",
    "hmdb51": "action-hmdb51",
    "sthv1": "action-something",
    "sthv2": "action-something",
    "something": "action-something",
    "mmit": "action-mit",
    "mit": "action-mit",
    "thumos14": "action-thumos14",
    "activitynet": "action-activitynet",
    "synthetic": "action-synthetic",
    "serve": "action-serve",
}


def install_hint(name: str) -> str | None:
    """``pip install action-x`` for a component or plugin name that a first-party plugin provides, when that
    plugin is not installed (a typo of a name an installed plugin provides gets no install hint)."""
    from importlib import metadata

    lowered = name.lower().rpartition(":")[2]
    for prefix in sorted(FIRST_PARTY, key=len, reverse=True):
        if lowered == prefix or lowered.startswith(prefix + "_") or lowered.startswith(prefix):
            distribution = FIRST_PARTY[prefix]
            try:
                metadata.distribution(distribution)
            except metadata.PackageNotFoundError:
                return f"pip install {distribution}"
            return None
    return None
