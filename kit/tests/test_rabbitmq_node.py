"""A node left behind by a test session that died is removed by the next;
a live session's node is not."""
import os
import subprocess

from setiakawan_kit import rabbitmq_node


def node_folder(tmp, owner):
    folder = tmp / f"{rabbitmq_node.FOLDER_PREFIX}{owner}"
    (folder / "mnesia").mkdir(parents=True)
    (folder / "owner").write_text(f"{owner}\n")
    return folder


def test_only_the_folders_of_dead_sessions_are_reaped(tmp_path):
    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = node_folder(tmp_path, gone.pid)
    (dead / "pid").write_text(f"{os.getpid()}\n")  # a reused pid: not a node of that folder, left alone
    alive = node_folder(tmp_path, os.getpid())
    other = tmp_path / "something-else"
    other.mkdir()

    assert rabbitmq_node.reap_orphans(tmp_path) == [dead]
    assert not dead.exists() and alive.exists() and other.exists()


def test_the_ports_are_distinct():
    assert len(set(rabbitmq_node.free_ports(3))) == 3
