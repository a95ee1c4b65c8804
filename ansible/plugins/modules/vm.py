#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: vm
short_description: Start, stop or live-migrate one VM of a localmigrated host
description:
  - Brings a domain defined on this host's C(localmigrated) to a power state (C(state)), or moves it to another host
    (C(migrated_to)), live when it runs, only its definition when it is shut off.
  - Idempotent. A domain that is no longer defined here counts as migrated away (the source forgets a domain that
    migrated, unless the migration kept it).
version_added: 1.0.0
author: LocalMigrate developers
options:
  name:
    description: The domain's name.
    type: str
    required: true
  state:
    description:
      - C(running) starts the domain when it is not running; C(stopped) powers it off (ACPI, or at once with C(force)).
      - Mutually exclusive with I(migrated_to).
    type: str
    choices: [running, stopped]
  force:
    description: With C(state=stopped), quit QEMU at once instead of an ACPI power-off.
    type: bool
    default: false
  migrated_to:
    description:
      - A destination host URI (C(ssh://root@hostb), C(tls://hostb), C(tcp://hostb), or C(qemu+ssh://hostb/system)).
      - When the domain is defined here it is migrated there (live if it runs, C(--offline) if it is shut off); when
        it is not defined here, nothing is done.
    type: str
extends_documentation_fragment:
  - localmigrate.fleet.cli
  - localmigrate.fleet.cli.migration
attributes:
  check_mode:
    description: Reports what would change, changes nothing.
    support: full
'''

EXAMPLES = r'''
- name: Make sure web1 runs
  localmigrate.fleet.vm:
    name: web1
    state: running

- name: Move web1 live to hostb
  localmigrate.fleet.vm:
    name: web1
    migrated_to: ssh://root@hostb
    max_bandwidth_mib: 1000
'''

RETURN = r'''
domain:
  description: The domain as C(localmigrate status NAME --json) shows it after the task; null when it is not defined here (migrated away).
  returned: success
  type: dict
  sample: {"name": "web1", "state": "running", "pid": 4242, "qemuVersion": "7.2.19", "stale": false}
job:
  description: The migration's summary (C(localmigrate migrate --json)) when the task migrated the domain.
  returned: when migrated
  type: dict
  sample: {"state": "completed", "downtimeMs": 35, "totalMs": 9120, "destination": "ssh://root@hostb"}
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.localmigrate.fleet.plugins.module_utils.localmigrate import (
    CliError, LocalMigrateCli, MIGRATION_ARGUMENT_SPEC, argument_spec, migration_flags)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(dict(
            name=dict(type='str', required=True),
            state=dict(type='str', choices=['running', 'stopped']),
            force=dict(type='bool', default=False),
            migrated_to=dict(type='str'),
        ), MIGRATION_ARGUMENT_SPEC),
        mutually_exclusive=[('state', 'migrated_to')],
        required_one_of=[('state', 'migrated_to')],
        supports_check_mode=True,
    )
    cli = LocalMigrateCli(module)
    name = module.params['name']
    if not name.strip():
        module.fail_json(msg='name: must not be empty')
    try:
        flags = migration_flags(module.params)
    except ValueError as e:
        module.fail_json(msg=str(e))
    result = dict(changed=False)
    try:
        domain = cli.domain(name)
        destination = module.params['migrated_to']
        if destination is not None:
            if not destination.strip():
                module.fail_json(msg='migrated_to: must be a host URI such as ssh://root@hostb')
            if domain is None:
                module.exit_json(changed=False, domain=None, msg='%s is not defined on this host: already migrated away' % name)
            result['changed'] = True
            if not module.check_mode:
                args = ['migrate', name, '--to', destination] + flags
                if domain.get('state') != 'running':
                    args.append('--offline')
                rc, job, error = cli.json_or_summary(args)
                result['job'] = job
                if error is not None:
                    cli.fail(error, job=job, domain=cli.domain(name))
                domain = cli.domain(name)
            result['domain'] = domain
            module.exit_json(**result)

        if domain is None:
            module.fail_json(msg='name: no domain named %s on this host' % name)
        state = module.params['state']
        current = domain.get('state')
        if state == 'running' and current != 'running':
            result['changed'] = True
            if not module.check_mode:
                cli.call(['start', name])
        elif state == 'stopped' and current != 'shutoff':
            result['changed'] = True
            if not module.check_mode:
                cli.call(['stop', name] + (['--force'] if module.params['force'] else []))
        result['domain'] = cli.domain(name) if result['changed'] and not module.check_mode else domain
    except CliError as e:
        cli.fail(e, **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
