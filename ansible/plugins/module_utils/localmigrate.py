# -*- coding: utf-8 -*-
"""The one way the localmigrate.fleet modules talk to the local daemon: the localmigrate CLI with --json.

Every module builds its arguments with CLI_ARGUMENT_SPEC, runs commands through LocalMigrateCli, and fails through it:
the message names the CLI command and says what the daemon answered (one line on the CLI's stderr), and the exit
status tells a missing domain (5) or a stopped daemon (3) apart from a refused operation (1).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible.module_utils.basic import env_fallback

# The CLI's exit statuses (localmigrate(8)).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_DAEMON = 3
EXIT_ACCESS_DENIED = 4
EXIT_NO_SUCH_DOMAIN = 5

CLI_ARGUMENT_SPEC = dict(
    cli=dict(type='path', default='localmigrate', fallback=(env_fallback, ['LOCALMIGRATE_CLI'])),
    bus=dict(type='str', fallback=(env_fallback, ['LOCALMIGRATE_BUS'])),
)

# The migration options the modules that move VMs pass on (their CLI flags).
MIGRATION_ARGUMENT_SPEC = dict(
    max_bandwidth_mib=dict(type='int'),
    max_downtime=dict(type='int'),
    parallel_connections=dict(type='int'),
)


def argument_spec(*extra):
    """The CLI options every module takes, plus the module's own."""
    spec = dict(CLI_ARGUMENT_SPEC)
    for more in extra:
        spec.update(more)
    return spec


def migration_flags(params):
    """CLI flags for the migration options set in params (a positive number each, checked here so the message names the field)."""
    flags = []
    for field, flag in (('max_bandwidth_mib', '--max-bandwidth-mib'), ('max_downtime', '--max-downtime'),
                        ('parallel_connections', '--parallel-connections')):
        value = params.get(field)
        if value is None:
            continue
        if value < 1:
            raise ValueError('%s: must be a positive number, got %d' % (field, value))
        flags += [flag, str(value)]
    return flags


class CliError(Exception):
    """A CLI command that did not succeed; rc, stdout (the --json document when there is one) and stderr kept."""

    def __init__(self, command, rc, stdout, stderr):
        self.command = command
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        said = (stderr or '').strip().splitlines()
        detail = said[-1] if said else 'no message'
        if detail.startswith('localmigrate: '):
            detail = detail[len('localmigrate: '):]
        if rc == EXIT_NO_DAEMON:
            detail = 'the localmigrated daemon is not running or its bus is not reachable (%s)' % detail
        super(CliError, self).__init__('localmigrate %s: %s' % (' '.join(command), detail))

    def document(self):
        """The --json document the command printed before it failed (evacuate and upgrade print their summary), or None."""
        try:
            return json.loads(self.stdout) if self.stdout and self.stdout.strip() else None
        except ValueError:
            return None


class LocalMigrateCli(object):
    """Runs localmigrate commands for one module invocation."""

    def __init__(self, module):
        self.module = module
        self.cli = module.params['cli']
        self.bus = module.params.get('bus')
        if os.sep in self.cli:
            if not os.access(self.cli, os.X_OK):
                module.fail_json(msg='cli: %s is not an executable file' % self.cli)
            self.executable = self.cli
        else:
            self.executable = module.get_bin_path(self.cli)
            if self.executable is None:
                module.fail_json(msg='cli: %s is not on PATH (install the localmigrate package, or give cli: /path/to/localmigrate)' % self.cli)

    def run(self, args):
        """Runs a command; returns (rc, stdout, stderr) whatever the outcome."""
        command = [self.executable] + list(args)
        if self.bus:
            command += ['--bus', self.bus]
        return self.module.run_command(command, check_rc=False)

    def json(self, args):
        """Runs a --json command that must succeed; returns its document. Raises CliError."""
        rc, out, err = self.run(list(args) + ['--json'])
        if rc != EXIT_OK:
            raise CliError(args, rc, out, err)
        try:
            return json.loads(out)
        except ValueError as e:
            raise CliError(args, rc, out, 'output is not JSON (%s): %s' % (e, out[:200]))

    def json_or_summary(self, args):
        """Runs a --json command that may fail but still prints its summary (upgrade, evacuate): (rc, document, stderr).
        Raises CliError when there is no document (bad usage, no daemon, refused before anything started)."""
        rc, out, err = self.run(list(args) + ['--json'])
        error = CliError(args, rc, out, err)
        document = error.document()
        if document is None:
            raise error
        return rc, document, (error if rc != EXIT_OK else None)

    def call(self, args):
        """Runs a command that prints no data; raises CliError unless it succeeded."""
        rc, out, err = self.run(args)
        if rc != EXIT_OK:
            raise CliError(args, rc, out, err)
        return out

    def domains(self):
        """localmigrate list --json: one dict per domain (name, uuid, state, pid, qemuVersion, qemuBinary, stale, staleReasons, instanceId)."""
        return self.json(['list'])

    def domain(self, name):
        """localmigrate status NAME --json, or None when this host has no such domain."""
        try:
            return self.json(['status', name])
        except CliError as e:
            if e.rc == EXIT_NO_SUCH_DOMAIN:
                return None
            raise

    def maintenance(self):
        return bool(self.json(['maintenance'])['maintenance'])

    def fail(self, error, **result):
        """fail_json with the CLI's message; what the failed command printed as JSON goes with it as 'summary'."""
        if isinstance(error, CliError):
            result.setdefault('rc', error.rc)
            result.setdefault('stderr', error.stderr)
            document = error.document()
            if document is not None:
                result.setdefault('summary', document)
        self.module.fail_json(msg=str(error), **result)


def failed_jobs_message(verb, jobs):
    """'2 VMs did not <verb>: vm1 (reason); vm2 (reason)' for the jobs of a summary that did not complete."""
    failed = [j for j in jobs if j.get('state') != 'completed']
    parts = []
    for job in failed:
        attempts = ['%s: %s' % (a.get('destination'), a.get('error')) for a in job.get('earlierAttempts') or []]
        reason = '; '.join(attempts + [job.get('error') or job.get('state') or 'unknown'])
        parts.append('%s (%s)' % (job.get('domain'), reason))
    return '%d VM%s did not %s: %s' % (len(failed), '' if len(failed) == 1 else 's', verb, '; '.join(parts))


def running(domains):
    return [d for d in domains if d.get('state') == 'running']
