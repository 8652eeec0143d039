# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What AWX does with a custom credential type, reduced to what the tests need.

AWX validates the type (field ids, that injectors only use defined fields, no reserved environment
variable names) and, when a job starts, renders each ``injectors.env`` template with a sandboxed
Jinja2 environment over the credential's inputs. An input that was never filled in is undefined
and renders as an empty string, so the variable is still set, but empty.
"""

from __future__ import absolute_import, division, print_function

from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

# Names AWX refuses as injected environment variables (besides every ANSIBLE_* name): they belong to
# the job runtime.
RESERVED_ENV = frozenset((
    'VIRTUAL_ENV', 'PATH', 'PYTHONPATH', 'JOB_ID', 'INVENTORY_ID', 'INVENTORY_SOURCE_ID',
    'INVENTORY_UPDATE_ID', 'AD_HOC_COMMAND_ID', 'REST_API_URL', 'REST_API_TOKEN', 'MAX_EVENT_RES',
    'CALLBACK_QUEUE', 'CALLBACK_CONNECTION', 'CACHE', 'JOB_CALLBACK_DEBUG', 'INVENTORY_HOSTVARS',
    'AWX_HOST', 'PROJECT_REVISION', 'SUPERVISOR_CONFIG_PATH', 'HOME',
))
FIELD_TYPES = ('string', 'boolean')


def fields(credential_type):
    return credential_type['inputs']['fields']


def field_ids(credential_type):
    return [field['id'] for field in fields(credential_type)]


def template_variables(template):
    env = ImmutableSandboxedEnvironment()
    return meta.find_undeclared_variables(env.parse(template))


def validate(credential_type):
    """Problems AWX would reject the credential type for (list of strings, empty when fine)."""
    problems = []
    if credential_type.get('kind') not in ('cloud', 'net'):
        problems.append('kind must be cloud or net for a custom credential type')
    ids = field_ids(credential_type)
    if len(ids) != len(set(ids)):
        problems.append('duplicate field ids: %s' % ids)
    for field in fields(credential_type):
        if not field.get('label'):
            problems.append('field %s has no label' % field.get('id'))
        if field.get('type', 'string') not in FIELD_TYPES:
            problems.append('field %s has type %s' % (field['id'], field.get('type')))
        if field.get('secret') and field.get('type', 'string') != 'string':
            problems.append('secret field %s must be a string' % field['id'])
        if 'choices' in field and field.get('default') not in (None,) + tuple(field['choices']):
            problems.append('default of field %s is not one of its choices' % field['id'])
    for name in credential_type['inputs'].get('required', []):
        if name not in ids:
            problems.append('required input %s is not a field' % name)
    injectors = credential_type.get('injectors', {})
    unknown_kinds = set(injectors) - {'env', 'extra_vars', 'file'}
    if unknown_kinds:
        problems.append('unknown injector kinds: %s' % sorted(unknown_kinds))
    for var, template in injectors.get('env', {}).items():
        if var.startswith('ANSIBLE_') or var in RESERVED_ENV:
            problems.append('environment variable %s is reserved by AWX' % var)
        unknown = template_variables(template) - set(ids)
        if unknown:
            problems.append('injector %s uses undefined inputs %s' % (var, sorted(unknown)))
    return problems


def render_env(credential_type, inputs):
    """The environment variables AWX injects for a credential with these inputs."""
    unknown = set(inputs) - set(field_ids(credential_type))
    if unknown:
        raise ValueError('not inputs of the credential type: %s' % sorted(unknown))
    namespace = {}
    for field in fields(credential_type):
        if field['id'] in inputs:
            namespace[field['id']] = inputs[field['id']]
        elif 'default' in field:
            namespace[field['id']] = field['default']
        elif field.get('type') == 'boolean':
            namespace[field['id']] = False
    env = ImmutableSandboxedEnvironment()
    return dict((var, env.from_string(template).render(**namespace))
                for var, template in credential_type['injectors'].get('env', {}).items())
