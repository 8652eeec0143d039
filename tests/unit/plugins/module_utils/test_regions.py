# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The region table, cloud inference from the region, and wrapping algorithms per cloud."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dew.kms.plugins.module_utils import _regions, _wrap
from ansible_collections.dew.kms.plugins.module_utils._auth import (
    derive_iam_endpoint,
    derive_kms_endpoint,
    resolve_config,
)
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsConfigError, KmsInputError

PROJECT_ID = '0123456789abcdef0123456789abcdef'

# KmsRegion of huaweicloudsdkkms 3.1.219: every Huawei Cloud region with KMS
HUAWEI_KMS_REGIONS = [
    'eu-west-101', 'cn-north-4', 'cn-north-1', 'cn-north-2', 'cn-east-2', 'cn-east-3', 'cn-south-1',
    'cn-south-2', 'af-south-1', 'cn-southwest-2', 'ap-southeast-2', 'ap-southeast-1', 'ap-southeast-3',
    'la-south-2', 'sa-brazil-1', 'na-mexico-1', 'la-north-2', 'cn-north-9', 'ap-southeast-4',
    'tr-west-1', 'ae-ad-1', 'my-kualalumpur-1', 'ru-moscow-1', 'cn-east-5', 'cn-east-4', 'me-east-1',
    'ap-southeast-5', 'cn-south-4', 'cn-north-12', 'cn-north-11', 'af-north-1', 'cn-southwest-3',
]
# regions of KmsRegion that the SDK's IAM table lacks: the SDK uses the global IAM for them
HUAWEI_GLOBAL_IAM_REGIONS = ['ap-southeast-5', 'cn-south-4', 'cn-north-11', 'af-north-1', 'cn-southwest-3']


def token_config(**params):
    params.setdefault('auth_token', 'token')
    return resolve_config(params, env={})


# --------------------------------------------------------------------------- the table

def test_huawei_regions_are_those_of_the_sdk():
    assert _regions.known_regions('huaweicloud') == sorted(HUAWEI_KMS_REGIONS)
    assert _regions.known_regions('otc') == ['eu-ch2', 'eu-de', 'eu-nl']
    assert _regions.known_regions() == sorted(HUAWEI_KMS_REGIONS + ['eu-ch2', 'eu-de', 'eu-nl'])


@pytest.mark.parametrize('region', HUAWEI_KMS_REGIONS)
def test_every_huawei_region_derives_the_sdk_hosts(region):
    domain = 'myhuaweicloud.eu' if region == 'eu-west-101' else 'myhuaweicloud.com'
    assert derive_kms_endpoint(region) == 'https://kms.%s.%s' % (region, domain)
    if region in HUAWEI_GLOBAL_IAM_REGIONS:
        assert derive_iam_endpoint(region) == 'https://iam.myhuaweicloud.com/v3'
    else:
        assert derive_iam_endpoint(region) == 'https://iam.%s.%s/v3' % (region, domain)


@pytest.mark.parametrize('region,kms,iam', [
    ('eu-de', 'https://kms.eu-de.otc.t-systems.com', 'https://iam.eu-de.otc.t-systems.com/v3'),
    ('eu-nl', 'https://kms.eu-nl.otc.t-systems.com', 'https://iam.eu-nl.otc.t-systems.com/v3'),
    ('eu-ch2', 'https://kms.eu-ch2.sc.otc.t-systems.com', 'https://iam-pub.eu-ch2.sc.otc.t-systems.com/v3'),
])
def test_otc_regions(region, kms, iam):
    config = token_config(region=region)
    assert (config.cloud_provider, config.kms_endpoint, config.iam_endpoint) == ('otc', kms, iam)


def test_eu_west_101_uses_the_european_domain_for_both_services():
    config = token_config(region='eu-west-101')
    assert config.cloud_provider == 'huaweicloud'
    assert config.kms_endpoint == 'https://kms.eu-west-101.myhuaweicloud.eu'
    assert config.iam_endpoint == 'https://iam.eu-west-101.myhuaweicloud.eu/v3'


# --------------------------------------------------------------------------- inference

def test_cloud_provider_follows_from_the_region():
    assert token_config(region='cn-north-4').cloud_provider == 'huaweicloud'
    assert token_config(region='cn-north-4').kms_endpoint == 'https://kms.cn-north-4.myhuaweicloud.com'
    assert token_config(region='eu-nl').cloud_provider == 'otc'
    assert resolve_config({'auth_token': 't'}, env={'OS_REGION_NAME': 'ap-southeast-3'}).cloud_provider \
        == 'huaweicloud'


def test_a_given_cloud_provider_wins_over_the_region():
    config = token_config(region='eu-de', cloud_provider='huaweicloud')
    assert config.cloud_provider == 'huaweicloud'
    assert config.kms_endpoint == 'https://kms.eu-de.myhuaweicloud.com'
    assert token_config(region='cn-north-4', cloud_provider='OTC').kms_endpoint \
        == 'https://kms.cn-north-4.otc.t-systems.com'


def test_unknown_region_fails_listing_the_known_ones():
    with pytest.raises(KmsConfigError) as caught:
        token_config(region='eu-fr')
    msg = caught.value.msg
    assert 'region eu-fr is not a known' in msg
    assert 'Open Telekom Cloud eu-ch2, eu-de, eu-nl' in msg
    assert all(region in msg for region in HUAWEI_KMS_REGIONS)
    assert 'cloud_provider' in msg and 'kms_endpoint' in msg
    with pytest.raises(KmsConfigError, match='region eu-fr is not a known'):
        derive_kms_endpoint('eu-fr')


def test_unknown_region_works_with_a_cloud_provider():
    otc = token_config(region='eu-fr', cloud_provider='otc')
    assert (otc.kms_endpoint, otc.iam_endpoint) == ('https://kms.eu-fr.otc.t-systems.com',
                                                    'https://iam.eu-fr.otc.t-systems.com/v3')
    huawei = token_config(region='xx-new-7', cloud_provider='huaweicloud')
    # like the SDK, a region missing from the IAM table goes to the global IAM
    assert (huawei.kms_endpoint, huawei.iam_endpoint) == ('https://kms.xx-new-7.myhuaweicloud.com',
                                                          'https://iam.myhuaweicloud.com/v3')


def test_unknown_region_works_with_the_endpoints_it_needs():
    both = token_config(region='eu-fr', kms_endpoint='https://kms.example', iam_endpoint='https://iam.example')
    assert both.cloud_provider is None and both.iam_endpoint == 'https://iam.example/v3'
    # with a project id a token needs no IAM: the KMS endpoint is enough
    kms_only = token_config(region='eu-fr', kms_endpoint='https://kms.example', project_id=PROJECT_ID)
    assert (kms_only.cloud_provider, kms_only.iam_endpoint) == (None, None)
    # without one the project id is looked up in IAM, whose host the region cannot give
    with pytest.raises(KmsConfigError, match='region eu-fr is not a known'):
        token_config(region='eu-fr', kms_endpoint='https://kms.example')
    with pytest.raises(KmsConfigError, match='region eu-fr is not a known'):
        resolve_config({'username': 'u', 'password': 'p', 'domain_name': 'd', 'region': 'eu-fr',
                        'project_id': PROJECT_ID, 'kms_endpoint': 'https://kms.example'}, env={})


def test_known_region_with_endpoints_keeps_its_cloud():
    config = token_config(region='cn-north-4', kms_endpoint='http://127.0.0.1:1', iam_endpoint='http://127.0.0.1:1')
    assert config.cloud_provider == 'huaweicloud' and config.kms_endpoint == 'http://127.0.0.1:1'


def test_invalid_cloud_provider():
    with pytest.raises(KmsConfigError, match='cloud_provider .* must be one of otc, huaweicloud'):
        token_config(region='eu-de', cloud_provider='aws')


# --------------------------------------------------------------------------- wrapping algorithms

def test_wrapping_algorithms_per_cloud():
    assert set(_regions.wrapping_algorithms('otc')) == set(_wrap.WRAPPING_ALGORITHMS)
    assert _regions.wrapping_algorithms('huaweicloud') == ('RSAES_OAEP_SHA_256',)
    # an unknown cloud (endpoints given) is not restricted beyond what the collection supports
    assert _regions.wrapping_algorithms(None) == tuple(_wrap.WRAPPING_ALGORITHMS)
    assert _regions.check_wrapping_algorithm('otc', 'RSAES_PKCS1_V1_5') == 'RSAES_PKCS1_V1_5'
    assert _regions.check_wrapping_algorithm(None, 'RSAES_OAEP_SHA_1') == 'RSAES_OAEP_SHA_1'


@pytest.mark.parametrize('algorithm', ['RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5', 'SM2_ENCRYPT'])
def test_algorithm_the_cloud_does_not_offer_fails(algorithm):
    with pytest.raises(KmsInputError) as caught:
        _regions.check_wrapping_algorithm('huaweicloud', algorithm)
    assert caught.value.msg == ('wrapping_algorithm %s is not offered by Huawei Cloud KMS; use '
                                'RSAES_OAEP_SHA_256.' % algorithm)
    assert caught.value.status is None
