#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: maintenance
short_description: Turn a localmigrated host's maintenance mode on or off
description:
  - While maintenance is on, the host's daemon refuses C(start) and incoming migrations, so a host being emptied does
    not fill up again. The flag survives daemon restarts and reboots.
  - C(localmigrate.fleet.evacuate) turns it on by itself; this module ends it when the host's maintenance is done.
version_added: 1.0.0
author: LocalMigrate developers
options:
  state:
    description: C(on) refuses start and incoming migrations; C(off) accepts them again.
    type: str
    required: true
    choices: ['on', 'off']
extends_documentation_fragment:
  - localmigrate.fleet.cli
attributes:
  check_mode:
    description: Reports whether the flag would change, changes nothing.
    support: full
'''

EXAMPLES = r'''
- name: Nothing new starts or arrives here
  localmigrate.fleet.maintenance:
    state: 'on'

- name: The host takes VMs again
  localmigrate.fleet.maintenance:
    state: 'off'
'''

RETURN = r'''
maintenance:
  description: The host's maintenance flag after the task.
  returned: success
  type: bool
  sample: false
previous:
  description: The flag before the task.
  returned: success
  type: bool
  sample: true
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.localmigrate.fleet.plugins.module_utils.localmigrate import (
    CliError, LocalMigrateCli, argument_spec)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(dict(state=dict(type='str', required=True, choices=['on', 'off']))),
        supports_check_mode=True,
    )
    cli = LocalMigrateCli(module)
    wanted = module.params['state'] == 'on'
    try:
        before = cli.maintenance()
        if before != wanted and not module.check_mode:
            cli.call(['maintenance', module.params['state']])
            after = cli.maintenance()
        else:
            after = wanted if module.check_mode else before
    except CliError as e:
        cli.fail(e)
    module.exit_json(changed=before != wanted, maintenance=after, previous=before)


if __name__ == '__main__':
    main()
