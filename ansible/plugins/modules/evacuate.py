#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: evacuate
short_description: Empty a localmigrated host by moving every VM live to its peers
description:
  - Runs C(localmigrate evacuate --to ...) on the host to empty. Maintenance goes on first (nothing new starts or
    arrives here), then every running VM moves live to one of I(to), placed on the peer with the most free RAM whose
    own pre-flight accepts it; a move that fails before the switch is retried on the next peer.
  - A VM no peer takes keeps running here; the task then fails naming each such VM and every peer's reason, after the
    others moved. Maintenance stays on.
  - Changed when a VM moved or maintenance was turned on; a host already empty and in maintenance is unchanged.
version_added: 1.0.0
author: LocalMigrate developers
options:
  to:
    description: The peers, as host URIs (C(ssh://root@hostb), C(tls://hostb), ...).
    type: list
    elements: str
    required: true
  parallel:
    description: Migrations at once (C(--parallel)); default the daemon's C(maxParallelMigrations).
    type: int
extends_documentation_fragment:
  - localmigrate.fleet.cli
  - localmigrate.fleet.cli.migration
attributes:
  check_mode:
    description: Runs C(evacuate --dry-run) and returns its plan (each peer's real pre-flight answers it); moves nothing, maintenance unchanged.
    support: full
'''

EXAMPLES = r'''
- name: Empty this host onto hostb and hostc
  localmigrate.fleet.evacuate:
    to: [ssh://root@hostb, ssh://root@hostc]
    parallel: 4
  register: evacuation
'''

RETURN = r'''
moved:
  description: One entry per VM that moved, C({domain, destination}).
  returned: success
  type: list
  elements: dict
  sample: [{"domain": "web1", "destination": "ssh://root@hostb"}]
plan:
  description: The placement (C(evacuate --json)'s C(plan)), each C({domain, destination, bytes, refusals}); destination null for a VM no peer took.
  returned: always
  type: list
  elements: dict
jobs:
  description: One migration summary per VM, with C(destination) (where it went or was last tried) and C(earlierAttempts).
  returned: when not in check mode
  type: list
  elements: dict
maintenance:
  description: The host's maintenance flag after the task.
  returned: success
  type: bool
  sample: true
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.localmigrate.fleet.plugins.module_utils.localmigrate import (
    CliError, LocalMigrateCli, MIGRATION_ARGUMENT_SPEC, argument_spec, failed_jobs_message, migration_flags, running)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(dict(
            to=dict(type='list', elements='str', required=True),
            parallel=dict(type='int'),
        ), MIGRATION_ARGUMENT_SPEC),
        supports_check_mode=True,
    )
    cli = LocalMigrateCli(module)
    to = [t.strip() for t in module.params['to'] if t and t.strip()]
    if not to:
        module.fail_json(msg='to: give at least one peer host URI, such as ssh://root@hostb')
    parallel = module.params['parallel']
    if parallel is not None and not 1 <= parallel <= 64:
        module.fail_json(msg='parallel: must be 1 to 64, got %d' % parallel)
    try:
        flags = migration_flags(module.params)
    except ValueError as e:
        module.fail_json(msg=str(e))
    args = ['evacuate', '--to', ','.join(to)] + flags
    if parallel is not None:
        args += ['--parallel', str(parallel)]
    try:
        was_on = cli.maintenance()
        vms = running(cli.domains())
        if module.check_mode:
            plan = cli.json(args + ['--dry-run']).get('plan') or []
            module.exit_json(changed=bool(vms) or not was_on, plan=plan, maintenance=True,
                             moved=[dict(domain=p['domain'], destination=p['destination']) for p in plan if p.get('destination')])
        if not vms and was_on:
            module.exit_json(changed=False, plan=[], jobs=[], moved=[], maintenance=True, msg='nothing runs here and maintenance is on')
        rc, summary, error = cli.json_or_summary(args)
        jobs = summary.get('jobs') or []
        moved = [dict(domain=j['domain'], destination=j.get('destination')) for j in jobs if j.get('state') == 'completed']
        result = dict(changed=bool(moved) or not was_on, moved=moved, plan=summary.get('plan') or [], jobs=jobs,
                      maintenance=cli.maintenance())
        if error is not None:
            module.fail_json(msg=failed_jobs_message('leave this host (they keep running here; maintenance stays on)', jobs), rc=rc, **result)
        module.exit_json(**result)
    except CliError as e:
        cli.fail(e)


if __name__ == '__main__':
    main()
