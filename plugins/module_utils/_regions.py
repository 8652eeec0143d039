# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The regions, wrapping algorithms and list-keys fields of the two clouds: the one table, and
lookups on it.

Private module: the interface may change between releases. Nothing here makes a network call;
every check runs before the first request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dew.kms.plugins.module_utils._errors import KmsConfigError, KmsInputError

OTC = 'otc'
HUAWEICLOUD = 'huaweicloud'
CLOUD_PROVIDERS = (OTC, HUAWEICLOUD)
CLOUD_NAMES = {OTC: 'Open Telekom Cloud', HUAWEICLOUD: 'Huawei Cloud'}

# Open Telekom Cloud, region -> (KMS base URL, IAM v3 URL).
# eu-de, eu-nl: opentelekomcloud-docs/regions-and-endpoints doc/source/index.rst and the OTC
# service catalogue. eu-ch2 (Swiss OTC): IAM is iam-pub.eu-ch2.sc.otc.t-systems.com (Swiss OTC
# docs); the KMS host follows the <service>.eu-ch2.sc.otc.t-systems.com pattern of its other
# services (not confirmed for KMS).
_OTC_REGIONS = {
    'eu-de': ('https://kms.eu-de.otc.t-systems.com', 'https://iam.eu-de.otc.t-systems.com/v3'),
    'eu-nl': ('https://kms.eu-nl.otc.t-systems.com', 'https://iam.eu-nl.otc.t-systems.com/v3'),
    'eu-ch2': ('https://kms.eu-ch2.sc.otc.t-systems.com',
               'https://iam-pub.eu-ch2.sc.otc.t-systems.com/v3'),
}

# Huawei Cloud regions with KMS: the regions of KmsRegion in the official Python SDK
# (huaweicloud/huaweicloud-sdk-python-v3, huaweicloud-sdk-kms/huaweicloudsdkkms/v2/region/
# kms_region.py, release 3.1.219); the KMS host is kms.<region>.<domain>.
_HUAWEI_REGIONS = (
    'af-north-1', 'af-south-1', 'ae-ad-1', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3',
    'ap-southeast-4', 'ap-southeast-5', 'cn-east-2', 'cn-east-3', 'cn-east-4', 'cn-east-5',
    'cn-north-1', 'cn-north-2', 'cn-north-4', 'cn-north-9', 'cn-north-11', 'cn-north-12',
    'cn-south-1', 'cn-south-2', 'cn-south-4', 'cn-southwest-2', 'cn-southwest-3', 'eu-west-101',
    'la-north-2', 'la-south-2', 'me-east-1', 'my-kualalumpur-1', 'na-mexico-1', 'ru-moscow-1',
    'sa-brazil-1', 'tr-west-1',
)
# Regions whose IAM has a regional host, iam.<region>.<domain>: the SDK's IAM table
# (huaweicloud-sdk-core/huaweicloudsdkcore/auth/endpoint.py) plus eu-west-101 from IamRegion
# (huaweicloud-sdk-iam/huaweicloudsdkiam/v3/region/iam_region.py; the SDK README tells European
# users to use it). The SDK sends every other region, and unknown ones, to the global IAM.
_HUAWEI_REGIONAL_IAM = frozenset((
    'af-south-1', 'ae-ad-1', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4',
    'cn-east-2', 'cn-east-3', 'cn-east-4', 'cn-east-5', 'cn-north-1', 'cn-north-2', 'cn-north-4',
    'cn-north-9', 'cn-north-12', 'cn-south-1', 'cn-south-2', 'cn-southwest-2', 'eu-west-0',
    'eu-west-101', 'la-north-2', 'la-south-2', 'me-east-1', 'my-kualalumpur-1', 'na-mexico-1',
    'ru-moscow-1', 'sa-brazil-1', 'tr-west-1',
))
_HUAWEI_GLOBAL_IAM = 'https://iam.myhuaweicloud.com/v3'
# Huawei Cloud Europe lives under its own domain (KmsRegion: kms.eu-west-101.myhuaweicloud.eu)
_HUAWEI_EU_REGIONS = frozenset(('eu-west-101',))

# Wrapping algorithms each cloud documents for get-parameters-for-import. OTC: api-ref
# (opentelekomcloud-docs/key-management-service, obtaining_cmk_import_parameters.rst).
# Huawei Cloud: the SDK model get_parameters_for_import_request_body.py, where SM2_ENCRYPT is
# offered in some regions only; the collection does not implement SM2.
_OFFERED_WRAPPING_ALGORITHMS = {
    OTC: ('RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5'),
    HUAWEICLOUD: ('RSAES_OAEP_SHA_256', 'SM2_ENCRYPT'),
}
# what the collection can wrap with (mirrors _wrap.WRAPPING_ALGORITHMS without importing it)
_SUPPORTED_WRAPPING_ALGORITHMS = ('RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5')


def known_regions(provider=None):
    """Sorted region names of one cloud, or of both."""
    names = set()
    if provider in (None, OTC):
        names.update(_OTC_REGIONS)
    if provider in (None, HUAWEICLOUD):
        names.update(_HUAWEI_REGIONS)
    return sorted(names)


def provider_of_region(region):
    """'otc' or 'huaweicloud' for a region in the table, otherwise None."""
    if region in _OTC_REGIONS:
        return OTC
    if region in _HUAWEI_REGIONS:
        return HUAWEICLOUD
    return None


def cloud_provider(given, region, must_derive):
    """The cloud to work with: ``given`` (validated), else the cloud the region belongs to.

    When neither tells and an endpoint must be derived from the region, the region is unknown:
    fail before any request, listing the known regions. Otherwise (endpoints given) the cloud
    stays unknown (None) and no cloud-specific check applies.
    """
    if given:
        provider = given.strip().lower()
        if provider not in CLOUD_PROVIDERS:
            raise KmsConfigError('cloud_provider (env HW_CLOUD_PROVIDER) must be one of %s.'
                                 % ', '.join(CLOUD_PROVIDERS))
        return provider
    provider = provider_of_region(region)
    if provider is None and region and must_derive:
        raise KmsConfigError(
            'region %s is not a known Open Telekom Cloud or Huawei Cloud region, so its endpoints '
            'cannot be derived. Known regions: Open Telekom Cloud %s; Huawei Cloud %s. For another '
            'region set cloud_provider (env HW_CLOUD_PROVIDER), or kms_endpoint and iam_endpoint.'
            % (region, ', '.join(known_regions(OTC)), ', '.join(known_regions(HUAWEICLOUD))))
    return provider


def kms_endpoint(region, provider):
    """KMS base URL of ``region`` on ``provider`` (the table, else the cloud's host pattern)."""
    if provider == HUAWEICLOUD:
        return 'https://kms.%s.%s' % (region, _huawei_domain(region))
    if region in _OTC_REGIONS:
        return _OTC_REGIONS[region][0]
    return 'https://kms.%s.otc.t-systems.com' % region


def iam_endpoint(region, provider):
    """IAM v3 URL of ``region`` on ``provider``; Huawei regions without one use the global IAM."""
    if provider == HUAWEICLOUD:
        if region in _HUAWEI_REGIONAL_IAM:
            return 'https://iam.%s.%s/v3' % (region, _huawei_domain(region))
        return _HUAWEI_GLOBAL_IAM
    if region in _OTC_REGIONS:
        return _OTC_REGIONS[region][1]
    return 'https://iam.%s.otc.t-systems.com/v3' % region


def _huawei_domain(region):
    return 'myhuaweicloud.eu' if region in _HUAWEI_EU_REGIONS else 'myhuaweicloud.com'


def wrapping_algorithms(provider):
    """The wrapping algorithms the collection can use on ``provider`` (None: all it supports)."""
    offered = _OFFERED_WRAPPING_ALGORITHMS.get(provider, _SUPPORTED_WRAPPING_ALGORITHMS)
    return tuple(name for name in _SUPPORTED_WRAPPING_ALGORITHMS if name in offered)


def check_wrapping_algorithm(provider, algorithm, field='wrapping_algorithm'):
    """KmsInputError, before any request, when ``provider`` does not offer ``algorithm``."""
    usable = wrapping_algorithms(provider)
    if algorithm not in usable:
        raise KmsInputError('%s %s is not offered by %s KMS; use %s.'
                            % (field, algorithm, CLOUD_NAMES.get(provider, 'this cloud'),
                               ' or '.join(usable)))
    return algorithm


# list-keys' key_spec field. Huawei Cloud defines it and lists only AES_256 keys without it
# (SDK ListKeysRequestBody); OTC defines limit, marker, key_state and sequence only
# (opentelekomcloud-docs/key-management-service, api-ref querying_the_list_of_cmks.rst).
_LISTS_BY_KEY_SPEC = {HUAWEICLOUD: True, OTC: False}


def lists_by_key_spec(provider):
    """True when ``provider``'s list-keys takes key_spec, False when it does not define it,
    None for an unknown cloud (custom endpoints): the caller tries it and falls back."""
    return _LISTS_BY_KEY_SPEC.get(provider)
