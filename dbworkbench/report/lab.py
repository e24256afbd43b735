"""How ``dbworkbench lab`` starts JupyterLab: no news pop-ups, no update checks.

JupyterLab's announcements plugin asks "Would you like to get notified about official Jupyter
news?" on first start and then fetches news from the internet. The command disables that plugin
through a ``page_config.json`` in a config folder shipped here, added to ``JUPYTER_CONFIG_PATH``
for this JupyterLab only (the user's own settings are left alone).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["CONFIG_DIR", "lab_command"]

CONFIG_DIR = Path(__file__).parent / "jupyter"


def lab_command(folder: str | Path, port: int = 8888, *, token: str | None = None) -> tuple[list[str], dict[str, str]]:
    """The argument list and environment that start JupyterLab on ``folder`` as ``dbworkbench lab`` does.

    >>> args, env = lab_command("notebooks"); args[1:3], env["JUPYTER_CONFIG_PATH"].startswith(str(CONFIG_DIR))
    (['-m', 'jupyterlab'], True)
    """
    args = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={folder}", f"--port={port}", "--ip=127.0.0.1",
            "--no-browser", "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if token is not None:
        args.append(f"--IdentityProvider.token={token}")
    if os.name == "posix" and os.geteuid() == 0:
        args.append("--allow-root")
    env = dict(os.environ)
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(p for p in (str(CONFIG_DIR), env.get("JUPYTER_CONFIG_PATH", "")) if p)
    return args, env
