"""A one-node Slurm cluster in a folder: munged, slurmctld and slurmd, started and stopped by PID.

Debian's `slurm-wlm` and `munge` packages (Slurm 22.05 on bookworm), run as root:
every path (state, spool, logs, munge's key and socket) lives under one folder,
the daemons listen on ports of their own, and nothing under /etc is touched, so
it can run beside a real installation. `proctrack/linuxproc` and `task/none`
need no cgroups; `DefMemPerCPU` lets several jobs share the node (without it a
job takes the node's whole memory and jobs run one at a time). There is no
accounting database: `sacct` answers that accounting is disabled, as on many
small clusters.

The tests use `SlurmCluster` through a fixture; to try hpobench on Slurm by hand:

    python tests/slurm_cluster.py start /tmp/hpobench-slurm   # prints the export to run
    export SLURM_CONF=/tmp/hpobench-slurm/slurm.conf
    hpobench launch-remote --engine slurm --benchmark gbt_breast_cancer ...
    python tests/slurm_cluster.py stop /tmp/hpobench-slurm
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

DAEMONS = ("munged", "slurmctld", "slurmd")
PIDS_FILE = "pids.json"
# What the node offers: more CPUs than this machine has (config_overrides), so that
# several cells run at once as on a real node; each job's memory comes from DefMemPerCPU.
NODE_CPUS = 8
NODE_MEMORY_MB = 8000
DEF_MEM_PER_CPU_MB = 500
PARTITION = "debug"


def missing_programs() -> list[str]:
    """The daemons and client commands this machine lacks."""
    needed = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scancel")
    return [name for name in needed if shutil.which(name) is None]


def skip_reason() -> Optional[str]:
    """Why a real cluster cannot start here, in one line; None when it can."""
    missing = missing_programs()
    if missing:
        return f"Slurm is not installed ({', '.join(missing)} missing): apt-get install slurm-wlm munge"
    if os.geteuid() != 0:
        return "the test cluster's daemons run as root; run the Slurm tests as root"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SlurmCluster:
    """munged + slurmctld + slurmd under `folder`; `env` points the Slurm commands at it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        self.conf = self.folder / "slurm.conf"
        self.node = socket.gethostname().split(".")[0]
        self.processes: dict[str, subprocess.Popen] = {}

    @property
    def env(self) -> dict[str, str]:
        return {"SLURM_CONF": str(self.conf)}

    def start(self, timeout: float = 30.0) -> None:
        """Start the three daemons and wait until the node takes jobs."""
        for sub in ("state", "spool", "log", "munge"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        munge = self.folder / "munge"
        munge.chmod(0o700)
        key = munge / "munge.key"
        if not key.exists():
            key.write_bytes(os.urandom(1024))
            key.chmod(0o400)
        self._write_conf()
        self._spawn(
            "munged",
            [
                "munged",
                "-F",
                "-f",
                f"--socket={munge / 'socket'}",
                f"--key-file={key}",
                f"--log-file={munge / 'munged.log'}",
                f"--pid-file={munge / 'munged.pid'}",
                f"--seed-file={munge / 'seed'}",
            ],
        )
        self._wait_for(lambda: (munge / "socket").exists(), timeout, "munged's socket")
        # -i: ignore state left by an earlier cluster in this folder.
        self._spawn("slurmctld", ["slurmctld", "-D", "-i", "-f", str(self.conf)])
        self._spawn("slurmd", ["slurmd", "-D", "-f", str(self.conf), "-N", self.node])
        self._save_pids()
        self._wait_for(self._node_idle, timeout, "the node to be idle (see log/slurmctld.log)")

    def stop(self) -> None:
        """Stop the daemons by PID (slurmd first, munged last) and cancel what still runs."""
        for name in reversed(DAEMONS):
            process = self.processes.pop(name, None)
            if process is not None:
                _terminate(process.pid, process)
        (self.folder / PIDS_FILE).unlink(missing_ok=True)

    def logs(self) -> str:
        """The daemons' logs, for a failing test's output."""
        parts = []
        for path in sorted((self.folder / "log").glob("*.log")):
            parts.append(f"==> {path} <==\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(parts)

    def _write_conf(self) -> None:
        folder, log = self.folder, self.folder / "log"
        self.conf.write_text(
            "\n".join(
                [
                    "ClusterName=hpobench-test",
                    f"SlurmctldHost={self.node}(127.0.0.1)",
                    f"SlurmctldPort={free_port()}",
                    f"SlurmdPort={free_port()}",
                    "SlurmUser=root",
                    "SlurmdUser=root",
                    "AuthType=auth/munge",
                    "CredType=cred/munge",
                    f"AuthInfo=socket={folder / 'munge' / 'socket'}",
                    f"StateSaveLocation={folder / 'state'}",
                    f"SlurmdSpoolDir={folder / 'spool'}",
                    f"SlurmctldPidFile={folder / 'slurmctld.pid'}",
                    f"SlurmdPidFile={folder / 'slurmd.pid'}",
                    f"SlurmctldLogFile={log / 'slurmctld.log'}",
                    f"SlurmdLogFile={log / 'slurmd.log'}",
                    "ProctrackType=proctrack/linuxproc",
                    "TaskPlugin=task/none",
                    "SelectType=select/cons_tres",
                    "SelectTypeParameters=CR_Core_Memory",
                    "SchedulerType=sched/backfill",
                    "SlurmdParameters=config_overrides",
                    "MpiDefault=none",
                    "ReturnToService=2",
                    f"DefMemPerCPU={DEF_MEM_PER_CPU_MB}",
                    "JobAcctGatherType=jobacct_gather/none",
                    "AccountingStorageType=accounting_storage/none",
                    "JobCompType=jobcomp/none",
                    # Time limits are checked every few seconds (default 30), and a job
                    # over its limit gets SIGTERM, then SIGKILL after KillWait.
                    "KillWait=5",
                    "OverTimeLimit=0",
                    "SchedulerParameters=bf_interval=2",
                    "MessageTimeout=20",
                    f"NodeName={self.node} NodeAddr=127.0.0.1 CPUs={NODE_CPUS} "
                    f"RealMemory={NODE_MEMORY_MB} State=UNKNOWN",
                    f"PartitionName={PARTITION} Nodes={self.node} Default=YES MaxTime=INFINITE State=UP",
                    "",
                ]
            )
        )

    def _spawn(self, name: str, command: list[str]) -> None:
        log = open(self.folder / "log" / f"{name}.out", "ab")
        self.processes[name] = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, **self.env},
        )
        log.close()

    def _save_pids(self) -> None:
        pids = {name: process.pid for name, process in self.processes.items()}
        (self.folder / PIDS_FILE).write_text(json.dumps(pids))

    def _node_idle(self) -> bool:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited ({process.returncode}):\n{self.logs()}")
        shown = subprocess.run(
            ["sinfo", "--noheader", "--format=%t"],
            capture_output=True,
            text=True,
            env={**os.environ, **self.env},
            timeout=20,
        )
        return shown.returncode == 0 and shown.stdout.strip() == "idle"

    def _wait_for(self, ready, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Timed out waiting for {what}:\n{self.logs()}")
            time.sleep(0.3)


def _terminate(pid: int, process: Optional[subprocess.Popen] = None) -> None:
    """SIGTERM, then SIGKILL after 10 s; the daemon's whole session (slurmd's job steps too)."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process is not None:
            if process.poll() is not None:
                break
        else:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
        time.sleep(0.1)
    else:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if process is not None:
        process.wait(timeout=10)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: python tests/slurm_cluster.py start|stop FOLDER", file=sys.stderr)
        return 2
    folder = Path(argv[1])
    if argv[0] == "start":
        reason = skip_reason()
        if reason:
            print(f"Error: {reason}", file=sys.stderr)
            return 1
        folder.mkdir(parents=True, exist_ok=True)
        cluster = SlurmCluster(folder)
        cluster.start()
        # The daemons run on in their own sessions after this process exits.
        cluster.processes.clear()
        print(f"export SLURM_CONF={cluster.conf}")
        return 0
    pids_file = folder / PIDS_FILE
    if not pids_file.exists():
        print(f"Error: no cluster started in {folder} ({pids_file} missing)", file=sys.stderr)
        return 1
    for name in reversed(DAEMONS):
        pid = json.loads(pids_file.read_text()).get(name)
        if isinstance(pid, int):
            _terminate(pid)
    pids_file.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
