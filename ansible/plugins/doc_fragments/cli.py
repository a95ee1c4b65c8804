# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # How every module reaches the local daemon.
    DOCUMENTATION = r'''
options:
  cli:
    description:
      - The C(localmigrate) command the module runs on the managed host (a name on C(PATH) or an absolute path).
      - Defaults to the environment variable C(LOCALMIGRATE_CLI) when it is set.
    type: path
    default: localmigrate
  bus:
    description:
      - The D-Bus bus of the host's C(localmigrated) (C(system), C(session) or a D-Bus address), passed as C(--bus).
      - Defaults to the environment variable C(LOCALMIGRATE_BUS), which the CLI also reads itself; else the system bus.
    type: str
notes:
  - The module runs C(localmigrate ... --json) on the managed host and reads its JSON; the daemon must run there.
  - Changes need root or a user the daemon's C(allowedUids)/C(allowedGroups) allow (use C(become)).
'''

    # The migration options of the modules that move VMs.
    MIGRATION = r'''
options:
  max_bandwidth_mib:
    description: Bandwidth limit of each migration stream in MiB/s (C(--max-bandwidth-mib)).
    type: int
  max_downtime:
    description: The longest pause of the guest at the switch, in milliseconds (C(--max-downtime)).
    type: int
  parallel_connections:
    description: Parallel streams (multifd) per migration (C(--parallel-connections)).
    type: int
'''
