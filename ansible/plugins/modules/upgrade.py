#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: upgrade
short_description: Move every stale VM of a localmigrated host onto the installed QEMU
description:
  - Runs C(localmigrate upgrade --stale) (or the named domains). Each VM whose QEMU binary or libraries were replaced
    since it started (a QEMU package upgrade) moves live into a fresh QEMU of the installed build, without a guest reboot.
  - Changed only when a VM moved. A VM that cannot move keeps running on its old QEMU and the task fails naming it
    and the reason, after the others moved.
  - The daemon computes staleness when asked, so this task right after a package upgrade sees the new build.
version_added: 1.0.0
author: LocalMigrate developers
options:
  names:
    description: Upgrade only these domains (running ones, stale or not); default every stale running domain.
    type: list
    elements: str
  parallel:
    description: Migrations at once (C(--parallel)); default the daemon's C(maxParallelMigrations).
    type: int
extends_documentation_fragment:
  - localmigrate.fleet.cli
  - localmigrate.fleet.cli.migration
attributes:
  check_mode:
    description: Lists the VMs that are stale now (the daemon's last check, at most a few seconds old); moves nothing.
    support: full
'''

EXAMPLES = r'''
- name: Every VM onto the QEMU just installed
  localmigrate.fleet.upgrade:
    parallel: 4
  register: upgrade

- name: Two VMs only
  localmigrate.fleet.upgrade:
    names: [web1, db1]
'''

RETURN = r'''
moved:
  description: Names of the domains that moved onto the installed QEMU.
  returned: success
  type: list
  elements: str
  sample: [web1, db1]
stale:
  description: Running domains still stale after the task (none on success unless C(names) left some out).
  returned: always
  type: list
  elements: str
  sample: []
jobs:
  description: One migration summary per domain (C(localmigrate upgrade --json)'s C(jobs)), with pids, versions, downtime and error.
  returned: when a VM was to move
  type: list
  elements: dict
  sample: [{"domain": "web1", "state": "completed", "sourceVersion": "7.2.15", "targetVersion": "7.2.19", "downtimeMs": 21}]
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.localmigrate.fleet.plugins.module_utils.localmigrate import (
    CliError, LocalMigrateCli, MIGRATION_ARGUMENT_SPEC, argument_spec, failed_jobs_message, migration_flags, running)


def stale_names(domains):
    return sorted(d['name'] for d in running(domains) if d.get('stale'))


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(dict(
            names=dict(type='list', elements='str'),
            parallel=dict(type='int'),
        ), MIGRATION_ARGUMENT_SPEC),
        supports_check_mode=True,
    )
    cli = LocalMigrateCli(module)
    names = module.params['names']
    parallel = module.params['parallel']
    if parallel is not None and not 1 <= parallel <= 64:
        module.fail_json(msg='parallel: must be 1 to 64, got %d' % parallel)
    if names is not None and not names:
        module.fail_json(msg='names: give at least one domain, or leave names out for every stale one')
    try:
        flags = migration_flags(module.params)
    except ValueError as e:
        module.fail_json(msg=str(e))
    try:
        domains = cli.domains()
        known = set(d['name'] for d in domains)
        for name in names or []:
            if name not in known:
                module.fail_json(msg='names: no domain named %s on this host' % name)
        if module.check_mode:
            would = sorted(names) if names else stale_names(domains)
            module.exit_json(changed=bool(would), moved=would, stale=stale_names(domains))
        args = ['upgrade'] + (list(names) if names else ['--stale']) + flags
        if parallel is not None:
            args += ['--parallel', str(parallel)]
        rc, summary, error = cli.json_or_summary(args)
        jobs = summary.get('jobs') or []
        moved = sorted(j['domain'] for j in jobs if j.get('state') == 'completed')
        left = stale_names(cli.domains())
        result = dict(changed=bool(moved), moved=moved, stale=left, jobs=jobs)
        if error is not None:
            module.fail_json(msg=failed_jobs_message('move onto the installed QEMU (they keep running on their old QEMU)', jobs), rc=rc, **result)
        module.exit_json(**result)
    except CliError as e:
        cli.fail(e)


if __name__ == '__main__':
    main()
