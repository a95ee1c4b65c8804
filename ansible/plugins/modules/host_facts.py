#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: host_facts
short_description: Facts about a localmigrated host, its VMs and its QEMU
description:
  - Sets C(ansible_facts.localmigrate) from the host's daemon (C(localmigrate list --json), C(localmigrate host --json)),
    the installed QEMU binary (C(--version)) and C(/proc/meminfo). Reads only.
version_added: 1.0.0
author: LocalMigrate developers
options: {}
extends_documentation_fragment:
  - localmigrate.fleet.cli
attributes:
  check_mode:
    description: Reads only; runs the same in check mode.
    support: full
  facts:
    description: Sets C(ansible_facts.localmigrate).
    support: full
'''

EXAMPLES = r'''
- name: Read the host
  localmigrate.fleet.host_facts:

- name: No VM may run an old QEMU
  ansible.builtin.assert:
    that: ansible_facts.localmigrate.stale | length == 0
    fail_msg: "stale: {{ ansible_facts.localmigrate.stale | join(', ') }}"
'''

RETURN = r'''
ansible_facts:
  description: The facts, under C(localmigrate).
  returned: always
  type: complex
  contains:
    localmigrate:
      description: This host's daemon, VMs and QEMU.
      returned: always
      type: complex
      contains:
        domains:
          description: Every domain as C(localmigrate list --json) shows it (name, uuid, state, pid, qemuVersion, qemuBinary, stale, staleReasons, instanceId).
          type: list
          elements: dict
          returned: always
        running:
          description: Names of the running domains.
          type: list
          elements: str
          returned: always
          sample: [web1]
        stale:
          description: Names of the running domains whose QEMU binary or libraries were replaced since they started.
          type: list
          elements: str
          returned: always
          sample: []
        qemu_binary:
          description: The QEMU binary the daemon starts VMs and upgrades onto.
          type: str
          returned: always
          sample: /usr/bin/qemu-system-x86_64
        qemu_version:
          description: That binary's version (first line of its C(--version)); empty when it does not run.
          type: str
          returned: always
          sample: QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)
        daemon_version:
          description: The version of C(localmigrated).
          type: str
          returned: always
        maintenance:
          description: Whether the host is in maintenance (start and incoming migrations refused).
          type: bool
          returned: always
        max_parallel_migrations:
          description: The daemon's default number of migrations at once.
          type: int
          returned: always
        mem_available_bytes:
          description: The host's free RAM (MemAvailable of /proc/meminfo), as peers see it when placing VMs.
          type: int
          returned: always
          sample: 21474836480
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.localmigrate.fleet.plugins.module_utils.localmigrate import (
    CliError, LocalMigrateCli, argument_spec, running)


def mem_available_bytes():
    with open('/proc/meminfo') as meminfo:
        for line in meminfo:
            if line.startswith('MemAvailable:'):
                return int(line.split()[1]) * 1024
    return 0


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    cli = LocalMigrateCli(module)
    try:
        domains = cli.domains()
        host = cli.json(['host'])
    except CliError as e:
        cli.fail(e)
    qemu = host.get('qemuBinary') or ''
    rc, out, err = module.run_command([qemu, '--version'], check_rc=False) if qemu else (1, '', '')
    version = out.strip().splitlines()[0] if rc == 0 and out.strip() else ''
    facts = dict(
        domains=domains,
        running=sorted(d['name'] for d in running(domains)),
        stale=sorted(d['name'] for d in running(domains) if d.get('stale')),
        qemu_binary=qemu,
        qemu_version=version,
        daemon_version=host.get('daemonVersion') or '',
        maintenance=bool(host.get('maintenance')),
        max_parallel_migrations=host.get('maxParallelMigrations') or 0,
        mem_available_bytes=mem_available_bytes(),
    )
    module.exit_json(changed=False, ansible_facts=dict(localmigrate=facts))


if __name__ == '__main__':
    main()
